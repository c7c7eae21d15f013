/* test_router.c - engine routing rules, scores, import scanning, requirements. */
#include <stdio.h>
#include <stdlib.h>

#include "pkgs.h"
#include "reqs.h"
#include "router.h"
#include "unit.h"

typedef struct world {
    pk_set *stdlib, *native, *browser;
    rt_engine_info info[RT_NENGINES];
} world;

/* Three engines: browser (stdlib + numpy), native (stdlib + numpy, pandas),
 * judge0 (stdlib only, remote); all up, equal scores. */
static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_int_equal(pk_set_new(&w->stdlib), APP_OK);
    assert_int_equal(pk_set_new(&w->native), APP_OK);
    assert_int_equal(pk_set_new(&w->browser), APP_OK);
    assert_int_equal(pk_add_list(w->stdlib, "json math statistics os sys re"), APP_OK);
    assert_int_equal(pk_add_set(w->native, w->stdlib), APP_OK);
    assert_int_equal(pk_add_list(w->native, "numpy pandas scikit-learn sklearn"), APP_OK);
    assert_int_equal(pk_add_set(w->browser, w->stdlib), APP_OK);
    assert_int_equal(pk_add_list(w->browser, "numpy"), APP_OK);
    w->info[RT_BROWSER] = (rt_engine_info){.available = true, .max_memory_mb = 2048,
                                           .max_data_mb = 10, .packages = w->browser, .score = 90};
    w->info[RT_NATIVE] = (rt_engine_info){.available = true, .max_time_s = 30, .max_memory_mb = 512,
                                          .max_data_mb = 50, .packages = w->native, .score = 90};
    w->info[RT_JUDGE0] = (rt_engine_info){.available = true, .max_time_s = 60, .max_memory_mb = 256,
                                          .max_data_mb = 10, .remote = true,
                                          .packages = w->stdlib, .score = 90};
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    pk_set_free(w->stdlib);
    pk_set_free(w->native);
    pk_set_free(w->browser);
    free(w);
    return 0;
}

static rt_decision route(world *w, const reqs *r, bool page, const char *code)
{
    static char imports[PK_MAX_IMPORTS][PK_NAME_MAX + 1];
    rt_input in = {.r = r, .caller_is_page = page, .imports = imports,
                   .nimports = pk_scan_imports(code, strlen(code), imports, PK_MAX_IMPORTS)};
    rt_decision d;
    rt_route(&in, w->info, &d);
    return d;
}

static void api_callers_get_native_first_then_judge0(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    rt_decision d = route(w, &r, false, "print(1)");
    assert_int_equal(d.n, 2);
    assert_int_equal(d.order[0], RT_NATIVE);
    assert_int_equal(d.order[1], RT_JUDGE0);
    assert_contains(d.because, "native can meet the requirements");
    assert_contains(d.excluded[RT_BROWSER], "runs no browser");
}

static void the_page_runs_in_the_browser_unless_cpu_heavy(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    rt_decision d = route(w, &r, true, "import numpy\nprint(1)");
    assert_int_equal(d.order[0], RT_BROWSER);
    assert_contains(d.because, "in the browser");
    r.cpu_intensive = true;
    d = route(w, &r, true, "import numpy");
    assert_int_equal(d.order[0], RT_NATIVE);
    /* ...even when the browser scores better: it is the last resort. */
    w->info[RT_NATIVE].score = w->info[RT_JUDGE0].score = 5;
    w->info[RT_BROWSER].score = 99;
    d = route(w, &r, true, "print(1)");
    assert_int_equal(d.n, 3);
    assert_int_equal(d.order[0], RT_NATIVE);
    assert_int_equal(d.order[1], RT_JUDGE0);
    assert_int_equal(d.order[2], RT_BROWSER);
    w->info[RT_NATIVE].score = w->info[RT_JUDGE0].score = w->info[RT_BROWSER].score = 90;
    /* pandas is not in the browser: native, and the reason is recorded. */
    r.cpu_intensive = false;
    d = route(w, &r, true, "import pandas as pd\nfrom os import path");
    assert_int_equal(d.order[0], RT_NATIVE);
    assert_contains(d.excluded[RT_BROWSER], "imports 'pandas'");
    assert_contains(d.excluded[RT_JUDGE0], "imports 'pandas'");
}

static void limits_and_packages_exclude_engines(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    r.max_time_s = 45; /* above native's 30 s: only Judge0 */
    rt_decision d = route(w, &r, false, "print(1)");
    assert_int_equal(d.n, 1);
    assert_int_equal(d.order[0], RT_JUDGE0);
    assert_contains(d.excluded[RT_NATIVE], "maxExecutionTime 45 s is above its limit of 30 s");
    reqs_init(&r);
    r.max_memory_mb = 400; /* above Judge0's 256 MB */
    d = route(w, &r, false, "");
    assert_int_equal(d.n, 1);
    assert_int_equal(d.order[0], RT_NATIVE);
    reqs_init(&r);
    snprintf(r.packages[r.npackages++], sizeof r.packages[0], "scikit_learn");
    d = route(w, &r, false, "");
    assert_int_equal(d.n, 1);
    assert_contains(d.excluded[RT_JUDGE0], "package 'scikit_learn'");
}

static void network_access_is_refused_everywhere(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    r.network_access = true;
    rt_decision d = route(w, &r, true, "");
    assert_int_equal(d.n, 0);
    assert_contains(d.because, "no engine can run this");
    assert_contains(d.because, "native: it has no network access");
}

static void high_security_keeps_data_local(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    r.security_level = LEVEL_HIGH;
    rt_decision d = route(w, &r, false, "");
    assert_int_equal(d.n, 1);
    assert_int_equal(d.order[0], RT_NATIVE);
    assert_contains(d.excluded[RT_JUDGE0], "securityLevel high");
}

static void preferred_engine_and_fallback(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    r.preferred_engine = ENGINE_JUDGE0;
    rt_decision d = route(w, &r, false, "");
    assert_int_equal(d.order[0], RT_JUDGE0);
    assert_int_equal(d.order[1], RT_NATIVE);
    assert_contains(d.because, "preferredEngine judge0 was requested");

    r.fallback_allowed = false;
    d = route(w, &r, false, "");
    assert_int_equal(d.n, 1);

    w->info[RT_JUDGE0].available = false;
    snprintf(w->info[RT_JUDGE0].reason, sizeof w->info[RT_JUDGE0].reason, "not configured");
    d = route(w, &r, false, "");
    assert_int_equal(d.n, 0);
    assert_contains(d.because, "fallbackAllowed is false");

    r.fallback_allowed = true;
    d = route(w, &r, false, "");
    assert_int_equal(d.order[0], RT_NATIVE);
    assert_contains(d.because, "preferredEngine judge0 was not used: unavailable: not configured");

    /* An API caller may ask for the browser: it then gets a sandbox link. */
    reqs_init(&r);
    r.preferred_engine = ENGINE_BROWSER;
    d = route(w, &r, false, "");
    assert_int_equal(d.order[0], RT_BROWSER);
}

static void scores_order_engines_and_remote_counts_less(void **state)
{
    world *w = *state;
    reqs r;
    reqs_init(&r);
    w->info[RT_NATIVE].score = 40;
    w->info[RT_JUDGE0].score = 90; /* 72 once weighted: still ahead of 40 */
    rt_decision d = route(w, &r, false, "");
    assert_int_equal(d.order[0], RT_JUDGE0);
    w->info[RT_NATIVE].score = 75; /* 75 > 72 */
    d = route(w, &r, false, "");
    assert_int_equal(d.order[0], RT_NATIVE);
}

static void score_formula(void **state)
{
    (void)state;
    assert_true(rt_score(0, 0, 0) == 100);
    assert_true(rt_score(10, 0, 0) == 100);
    assert_true(rt_score(10, 0, 1000) == 50);
    assert_true(rt_score(10, 0.5, 1000) == 25);
    assert_true(rt_score(10, 1, 5) == 0);
}

static void scans_imports(void **state)
{
    (void)state;
    char names[PK_MAX_IMPORTS][PK_NAME_MAX + 1];
    const char *code = "import os, sys as system\n"
                       "  import numpy.linalg as la; import re\n"
                       "from pandas.io import json\n"
                       "from . import sibling\n"
                       "from .x import y\n"
                       "important = 1\n"
                       "fromage = 2\n"
                       "import os\n"
                       "def f():\n    import scipy\n";
    size_t n = pk_scan_imports(code, strlen(code), names, PK_MAX_IMPORTS);
    const char *want[] = {"os", "sys", "numpy", "pandas", "scipy"};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i]);
}

static void package_names_normalise(void **state)
{
    (void)state;
    pk_set *s;
    assert_int_equal(pk_set_new(&s), APP_OK);
    assert_int_equal(pk_add_list(s, "scikit-learn Pillow zope.interface"), APP_OK);
    assert_true(pk_has(s, "scikit_learn"));
    assert_true(pk_has(s, "SCIKIT-LEARN"));
    assert_true(pk_has(s, "pillow"));
    assert_true(pk_has(s, "zope_interface"));
    assert_false(pk_has(s, "numpy"));
    assert_int_equal(pk_count(s), 3);
    pk_set_free(s);
}

static void reads_real_package_catalogues(void **state)
{
    (void)state;
    pk_set *s, *missing;
    assert_int_equal(pk_set_new(&s), APP_OK);
    assert_int_equal(pk_set_new(&missing), APP_OK);
    assert_int_equal(pk_add_dir(s, "/usr/lib/python3/dist-packages"), APP_OK);
    assert_true(pk_has(s, "numpy"));
    assert_true(pk_has(s, "pandas"));
    assert_true(pk_has(s, "matplotlib"));
    char dist[4096], path[4200], msg[APP_ERRMSG_LEN];
    /* A distribution folder in the real lockfile format (tests/unit/data):
     * only what is served counts; unvendored stdlib modules are reported. */
    snprintf(dist, sizeof dist, "%s/tests/unit/data/pyodide-dist", getenv("PYSANDBOX_ROOT"));
    snprintf(path, sizeof path, "%s/pyodide-lock.json", dist);
    pk_set *browser;
    assert_int_equal(pk_set_new(&browser), APP_OK);
    assert_int_equal(pk_add_pyodide_lockfile(browser, path, dist, missing, msg, sizeof msg), APP_OK);
    assert_true(pk_has(browser, "six"));
    assert_false(pk_has(browser, "numpy"));
    assert_false(pk_has(browser, "escape")); /* its file_name leaves the folder */
    assert_true(pk_has(missing, "sqlite3"));
    assert_true(pk_has(missing, "_sqlite3"));
    assert_false(pk_has(missing, "numpy")); /* not stdlib: simply not there */
    pk_set *all;
    assert_int_equal(pk_set_new(&all), APP_OK);
    assert_int_equal(pk_add_pyodide_lockfile(all, path, NULL, NULL, msg, sizeof msg), APP_OK);
    assert_true(pk_has(all, "numpy"));
    assert_true(pk_has(all, "sklearn"));       /* an import name */
    assert_true(pk_has(all, "scikit-learn"));  /* its package name */
    pk_set_free(s);
    pk_set_free(missing);
    pk_set_free(browser);
    pk_set_free(all);
}

static void decodes_requirements(void **state)
{
    (void)state;
    reqs r;
    char msg[APP_ERRMSG_LEN];
    const char *ok = "{\"maxExecutionTime\":2.5,\"maxMemoryUsage\":128,\"cpuIntensive\":true,"
                     "\"networkAccess\":false,\"fileSystemAccess\":true,\"securityLevel\":\"high\","
                     "\"packages\":[\"numpy\",\"scikit-learn\"],\"dataSize\":0,"
                     "\"outputFormat\":\"html\",\"preferredEngine\":\"judge0\","
                     "\"fallbackAllowed\":false,\"concurrent\":true,\"insights\":true}";
    assert_int_equal(reqs_decode(ok, strlen(ok), &r, msg, sizeof msg), APP_OK);
    assert_true(r.insights && !r.debug);
    assert_true(r.max_time_s == 2.5 && r.max_memory_mb == 128 && r.cpu_intensive);
    assert_int_equal(r.security_level, LEVEL_HIGH);
    assert_int_equal(r.output_format, FORMAT_HTML);
    assert_int_equal(r.preferred_engine, ENGINE_JUDGE0);
    assert_false(r.fallback_allowed);
    assert_int_equal(r.npackages, 2);
    assert_string_equal(r.packages[1], "scikit-learn");
    assert_int_equal(reqs_decode("null", 4, &r, msg, sizeof msg), APP_OK);
    assert_true(r.fallback_allowed && !r.insights);
    struct {
        const char *json, *text;
    } bad[] = {
        {"[]", "must be an object"},
        {"{\"speed\":1}", "unknown field requirements.speed"},
        {"{\"maxExecutionTime\":0}", "positive"},
        {"{\"maxExecutionTime\":\"3\"}", "must be a number, not string"},
        {"{\"securityLevel\":\"extreme\"}", "one of: low, medium, high"},
        {"{\"preferredEngine\":\"gpu\"}", "one of: auto, browser, native, judge0"},
        {"{\"packages\":[\"ok\",\"rm -rf\"]}", "packages[1]"},
        {"{\"packages\":\"numpy\"}", "must be an array"},
        {"{\"cpuIntensive\":1}", "must be a boolean"},
        {"{\"insights\":\"yes\"}", "must be a boolean"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        assert_int_equal(reqs_decode(bad[i].json, strlen(bad[i].json), &r, msg, sizeof msg),
                         APP_EFIELD);
        assert_contains(msg, bad[i].text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(api_callers_get_native_first_then_judge0, setup, teardown),
        cmocka_unit_test_setup_teardown(the_page_runs_in_the_browser_unless_cpu_heavy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(limits_and_packages_exclude_engines, setup, teardown),
        cmocka_unit_test_setup_teardown(network_access_is_refused_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(high_security_keeps_data_local, setup, teardown),
        cmocka_unit_test_setup_teardown(preferred_engine_and_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(scores_order_engines_and_remote_counts_less, setup,
                                        teardown),
        cmocka_unit_test(score_formula),
        cmocka_unit_test(scans_imports),
        cmocka_unit_test(package_names_normalise),
        cmocka_unit_test(reads_real_package_catalogues),
        cmocka_unit_test(decodes_requirements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
