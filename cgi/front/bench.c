/* bench.c - benchmark suites. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"
#include "jsonw.h"
#include "hview.h"
#include "jscan.h"
#include "judge0_engine.h"
#include "native.h"
#include "router.h"
#include "xproto.h"

typedef struct bench_case {
    const char *name;
    const char *code;
    const char *packages; /* space-separated imports the case needs */
    bool data;            /* gets the 1,000-row data set */
} bench_case;

static const bench_case cases[] = {
    {"hello", "print(1)", "", false},
    {"pandas-describe", "import pandas as pd\n__result__ = pd.DataFrame(data).describe().shape",
     "pandas", true},
    {"numpy-matmul",
     "import numpy as np\na = np.random.default_rng(0).random((300, 300))\n"
     "__result__ = float((a @ a).sum())",
     "numpy", false},
    {"matplotlib-chart",
     "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot(range(100))\nplt.show()",
     "matplotlib", false},
    {"cpu-loop", "s = 0\nfor i in range(2_000_000):\n    s += i * i\n__result__ = s", "", false},
};
#define NCASES (sizeof cases / sizeof cases[0])

app_err bench_cases_json(sbuf *out)
{
    app_err err = sbuf_putc(out, '[');
    for (size_t i = 0; i < NCASES && err == APP_OK; i++) {
        err = sbuf_printf(out, "%s{\"name\":\"%s\",\"code\":", i ? "," : "", cases[i].name);
        if (err == APP_OK)
            err = jsonw_string(out, cases[i].code, strlen(cases[i].code));
        if (err == APP_OK)
            err = sbuf_printf(out, ",\"packages\":\"%s\",\"data\":%s}", cases[i].packages,
                              cases[i].data ? "true" : "false");
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

/* The data set of the pandas case: 1,000 deterministic rows. */
app_err bench_data_json(sbuf *out)
{
    app_err err = sbuf_putc(out, '[');
    unsigned x = 12345;
    for (int i = 0; i < 1000 && err == APP_OK; i++) {
        x = x * 1103515245u + 12345u;
        err = sbuf_printf(out, "%s{\"id\":%d,\"price\":%.2f,\"qty\":%u}", i ? "," : "", i,
                          (x % 50000) / 100.0, (x >> 16) % 40 + 1);
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

/* A summary being written: the current case and engine group. */
typedef struct run_summary {
    sbuf *out;
    char cur_case[65], cur_engine[16];
    double wall[BENCH_MAX_BROWSER_RESULTS]; /* successful runs' wall_ms, ascending */
    int nok, runs, skipped;
    bool first;
} run_summary;

/* Appends the group gathered so far, if any, and starts an empty one. */
static APP_MUST_CHECK app_err summary_flush(run_summary *s)
{
    if (s->runs == 0)
        return APP_OK;
    sbuf *out = s->out;
    int nok = s->nok;
    double sum = 0;
    for (int i = 0; i < nok; i++)
        sum += s->wall[i];
    app_err err = sbuf_printf(out, "%s{\"case\":", s->first ? "" : ",");
    if (err == APP_OK)
        err = jsonw_string(out, s->cur_case, strlen(s->cur_case));
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"engine\":\"%s\",\"runs\":%d,\"ok\":%d,\"skipped\":%d,",
                          s->cur_engine, s->runs, nok, s->skipped);
    if (err == APP_OK)
        err = nok > 0 ? sbuf_printf(out,
                                    "\"p50Ms\":%.3f,\"meanMs\":%.3f,\"minMs\":%.3f,"
                                    "\"maxMs\":%.3f}",
                                    s->wall[(nok - 1) / 2], sum / nok, s->wall[0], s->wall[nok - 1])
                      : sbuf_puts(out, "\"p50Ms\":null,\"meanMs\":null}");
    s->first = false;
    s->runs = s->nok = s->skipped = 0;
    return err;
}

/* hist_bench_row_fn: adds one stored result to the summary. */
static APP_MUST_CHECK app_err summary_row(void *ctx, const char *cn, const char *en, const char *status,
                           double wall_ms)
{
    run_summary *s = ctx;
    app_err err = APP_OK;
    if (s->runs > 0 && (strcmp(cn, s->cur_case) != 0 || strcmp(en, s->cur_engine) != 0))
        err = summary_flush(s);
    if (err != APP_OK)
        return err;
    snprintf(s->cur_case, sizeof s->cur_case, "%s", cn);
    snprintf(s->cur_engine, sizeof s->cur_engine, "%s", en);
    s->runs++;
    if (status != NULL && strcmp(status, "ok") == 0 && s->nok < BENCH_MAX_BROWSER_RESULTS)
        s->wall[s->nok++] = wall_ms; /* ordered: sorted already */
    else if (status != NULL && strcmp(status, "skipped") == 0)
        s->skipped++;
    return APP_OK;
}

/* Summarises a run from its stored results: per case and engine, the runs,
 * the successes and p50/mean/min/max wall time of the successful ones.
 * APP_EDB (out untouched) when the results cannot be read. */
static APP_MUST_CHECK app_err summarize(hist *db, const char *run_id, sbuf *out)
{
    run_summary s = {.out = out, .first = true};
    size_t start = out->len;
    char ignored[APP_ERRMSG_LEN];
    app_err err = sbuf_putc(out, '[');
    if (err == APP_OK)
        err = hist_bench_results_each(db, run_id, summary_row, &s, ignored, sizeof ignored);
    if (err == APP_EDB && out->len > start) { /* nothing read: as if never begun */
        out->len = start;
        out->data[start] = '\0';
    }
    if (err == APP_OK)
        err = summary_flush(&s);
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

typedef struct run_plan {
    const conf *c;
    exe_ctx *x;
    char id[33];
    int iterations;
    bool case_on[NCASES];
    bool engine_on[RT_NENGINES];
} run_plan;

/* Marks the cases a suite name selects; false when the name is unknown. */
static bool select_suite(const char *suite, bool on[NCASES])
{
    bool any = false;
    for (size_t i = 0; i < NCASES; i++) {
        on[i] = strcmp(suite, "all") == 0 || strcmp(suite, cases[i].name) == 0;
        any = any || on[i];
    }
    return any;
}

/* Every case x engine x iteration of the plan, recorded as it goes. */
static void run_benchmark(run_plan *p, hist *db)
{
    char msg[APP_ERRMSG_LEN];
    sbuf data, summary;
    sbuf_init(&data, 1u << 20);
    sbuf_init(&summary, 1u << 20);
    bool ok = true;
    char first_failure[APP_ERRMSG_LEN + 128] = ""; /* what the failed report says */
    char store_failure[APP_ERRMSG_LEN] = "";       /* the first result the store refused */
    if (bench_data_json(&data) != APP_OK) {
        ok = false;
        snprintf(first_failure, sizeof first_failure, "the cases' data could not be built");
        p->iterations = 0;
    }
    reqs defaults;
    reqs_init(&defaults);
    for (size_t ci = 0; ci < NCASES; ci++) {
        if (!p->case_on[ci])
            continue;
        for (int e = 0; e < RT_NENGINES; e++) {
            if (!p->engine_on[e])
                continue;
            const bench_case *bc = &cases[ci];
            int nok = 0;
            /* Skip what the engine cannot import (no point measuring an ImportError). */
            char need[128];
            snprintf(need, sizeof need, "%s", bc->packages);
            bool skip = false;
            char *save = NULL;
            for (char *t = strtok_r(need, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
                skip = skip || !pk_has(exe_engine_packages(p->x, (rt_engine)e), t);
            for (int it = 0; it < p->iterations; it++) {
                if (skip) {
                    if (hist_bench_result(db, p->id, bc->name, rt_engine_name((rt_engine)e), it,
                                          "skipped", 0, -1, msg, sizeof msg) != APP_OK &&
                        store_failure[0] == '\0')
                        snprintf(store_failure, sizeof store_failure, "%s", msg);
                    continue;
                }
                /* The engines' default limits, as a request that asks for none gets. */
                native_job job = {.code = bc->code,
                                  .code_len = strlen(bc->code),
                                  .data = bc->data ? data.data : "[]",
                                  .data_len = bc->data ? data.len : 2};
                sbuf out;
                sbuf_init(&out, XP_MAX_RESPONSE);
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                char run_msg[APP_ERRMSG_LEN] = "";
                app_err err = exe_engine_run(p->x, (rt_engine)e, &defaults, &job, -1, &out, run_msg,
                                             sizeof run_msg);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
                char status[24];
                double exec_ms = -1;
                if (err == APP_OK)
                    hv_summary(out.data, out.len, status, sizeof status, &exec_ms, NULL);
                else
                    snprintf(status, sizeof status, "engine_error");
                sbuf_free(&out);
                if (hist_bench_result(db, p->id, bc->name, rt_engine_name((rt_engine)e), it, status,
                                      ms, exec_ms, msg, sizeof msg) != APP_OK &&
                    store_failure[0] == '\0')
                    snprintf(store_failure, sizeof store_failure, "%s", msg);
                hist_execution rec = {.engine = rt_engine_name((rt_engine)e), .status = status,
                                      .success = strcmp(status, "ok") == 0, .wall_ms = ms,
                                      .exec_ms = exec_ms, .code_bytes = job.code_len,
                                      .data_bytes = job.data_len, .source = "benchmark",
                                      .error = err == APP_OK ? NULL : run_msg};
                app_ignore(hist_record(db, &rec, msg, sizeof msg)); /* statistics never fail a run */
                if (strcmp(status, "ok") == 0)
                    nok++;
                else if (first_failure[0] == '\0')
                    snprintf(first_failure, sizeof first_failure, "%s on %s: %s", bc->name,
                             rt_engine_name((rt_engine)e), err != APP_OK ? run_msg : status);
            }
            ok = ok && (skip || nok > 0);
        }
    }
    char why[sizeof first_failure + sizeof store_failure + 64];
    if (store_failure[0] != '\0') {
        ok = false;
        snprintf(why, sizeof why, "the store did not keep every result: %s", store_failure);
    } else if (summarize(db, p->id, &summary) != APP_OK) {
        ok = false;
        sbuf_reset(&summary);
        snprintf(why, sizeof why, "the summary could not be built from the stored results");
    } else {
        snprintf(why, sizeof why, "some cases never succeeded; the first failure: %s",
                 first_failure);
    }
    if (hist_bench_finish(db, p->id, ok, summary.len > 0 ? sbuf_str(&summary) : NULL, ok ? NULL : why, msg,
                          sizeof msg) != APP_OK)
        fprintf(stderr, "pysandbox-fcgi --task benchmark %s: the run could not be closed: %s\n",
                p->id, msg);
    sbuf_free(&data);
    sbuf_free(&summary);
}

app_err bench_task(const conf *c, const char *run_id)
{
    char msg[APP_ERRMSG_LEN];
    hist *db = NULL;
    exe_ctx *x = NULL;
    app_err err = hist_open(c->db_path, &db, msg, sizeof msg);
    if (err != APP_OK)
        goto out;
    run_plan p = {.c = c};
    snprintf(p.id, sizeof p.id, "%s", run_id);
    if ((err = hist_bench_set_pid(db, run_id, (long)getpid(), msg, sizeof msg)) != APP_OK)
        goto out;
    /* The engines list was written by bench_start: ["native","judge0"]. */
    char suite[128], engines[256];
    err = hist_bench_server_run(db, run_id, suite, sizeof suite, &p.iterations, engines,
                                sizeof engines, msg, sizeof msg);
    if (err == APP_OK && (!select_suite(suite, p.case_on) || p.iterations < 1 ||
                          p.iterations > BENCH_MAX_ITERATIONS))
        err = APP_ENOTFOUND;
    if (err == APP_OK) {
        p.engine_on[RT_NATIVE] = strstr(engines, "\"native\"") != NULL;
        p.engine_on[RT_JUDGE0] = strstr(engines, "\"judge0\"") != NULL;
    }
    if (err == APP_OK)
        err = exe_ctx_new(c, &x, msg, sizeof msg);
    if (err == APP_OK) {
        p.x = x;
        run_benchmark(&p, db);
    } else if (db != NULL) {
        snprintf(msg, sizeof msg, "the benchmark task could not start: %s", app_strerror(err));
        char why[APP_ERRMSG_LEN];
        if (hist_bench_finish(db, run_id, false, NULL, msg, why, sizeof why) != APP_OK)
            fprintf(stderr, "pysandbox-fcgi --task benchmark %s: %s\n", run_id, why);
    }
out:
    exe_ctx_free(x);
    hist_close(db);
    return err;
}

static APP_MUST_CHECK app_err int_field(const body *b, const char *name, int lo, int hi, int *out, char *msg,
                         size_t msglen)
{
    const char *text;
    size_t len;
    js_type type;
    app_err err = body_json(b, name, 32, &text, &len, &type, msg, msglen);
    if (err == APP_ENOTFOUND)
        return APP_OK;
    double v = err == APP_OK && type == JS_NUMBER ? js_number(text, (js_span){JS_NUMBER, 0, len}) : -1;
    if (err != APP_OK || type != JS_NUMBER || v != floor(v) || v < lo || v > hi) {
        snprintf(msg, msglen, "field '%s' must be an integer from %d to %d", name, lo, hi);
        return APP_EFIELD;
    }
    *out = (int)v;
    return APP_OK;
}

static int running_runs(hist *db)
{
    hist_bench_reap(db);
    return hist_bench_running_count(db);
}

app_err bench_start(const conf *c, exe_ctx *x, hist *db, const body *b, char id[33], char *msg,
                    size_t msglen)
{
    static const char *const known[] = {"suite", "iterations", "engines"};
    app_err err = body_only(b, known, 3, msg, msglen);
    if (err != APP_OK)
        return err;
    run_plan p = {.c = c, .x = x, .iterations = BENCH_DEFAULT_ITERATIONS};
    if ((err = int_field(b, "iterations", 1, BENCH_MAX_ITERATIONS, &p.iterations, msg, msglen)) !=
        APP_OK)
        return err;
    char *suite = NULL;
    size_t len;
    if ((err = body_string(b, "suite", 64, &suite, &len, msg, msglen)) != APP_OK)
        return err;
    const char *s = suite ? suite : "all";
    if (!select_suite(s, p.case_on)) {
        snprintf(msg, msglen, "unknown suite '%.64s'; use all, hello, pandas-describe, "
                              "numpy-matmul, matplotlib-chart or cpu-loop", s);
        free(suite);
        return APP_EFIELD;
    }
    /* Engines: explicit list, or every available server engine. */
    const char *text;
    js_type type;
    err = body_json(b, "engines", 1024, &text, &len, &type, msg, msglen);
    if (err == APP_ENOTFOUND) {
        p.engine_on[RT_NATIVE] = true;
        p.engine_on[RT_JUDGE0] = jeng_configured(c);
        err = APP_OK;
    } else if (err == APP_OK) {
        js_iter it;
        js_span el;
        if (type != JS_ARRAY)
            err = APP_EFIELD;
        js_iter_init(&it, text, (js_span){type, 0, len});
        while (err == APP_OK && js_iter_next(&it, NULL, &el)) {
            if (el.type == JS_STRING && js_string_equals(text, el, "native"))
                p.engine_on[RT_NATIVE] = true;
            else if (el.type == JS_STRING && js_string_equals(text, el, "judge0") &&
                     jeng_configured(c))
                p.engine_on[RT_JUDGE0] = true;
            else
                err = APP_EFIELD;
        }
        if (err != APP_OK)
            snprintf(msg, msglen, "field 'engines' must list server engines: \"native\", and "
                                  "\"judge0\" when configured");
    }
    if (err != APP_OK) {
        free(suite);
        return err;
    }
    if (running_runs(db) >= BENCH_MAX_RUNNING) {
        snprintf(msg, msglen, "%d benchmark runs are already going; wait for one to finish",
                 BENCH_MAX_RUNNING);
        free(suite);
        return APP_EBUSY;
    }
    int total = 0;
    char engines[128] = "["; /* at most RT_NENGINES short names */
    for (int e = 0; e < RT_NENGINES; e++)
        if (p.engine_on[e])
            snprintf(engines + strlen(engines), sizeof engines - strlen(engines), "%s\"%s\"",
                     engines[1] != '\0' ? "," : "", rt_engine_name((rt_engine)e));
    snprintf(engines + strlen(engines), sizeof engines - strlen(engines), "]");
    for (size_t i = 0; i < NCASES; i++)
        for (int e = 0; e < RT_NENGINES; e++)
            total += p.case_on[i] && p.engine_on[e] ? p.iterations : 0;
    err = hist_bench_create(db, s, p.iterations, engines, "server", total, id, msg, msglen);
    free(suite);
    if (err != APP_OK)
        return err;
    err = bg_run_task("benchmark", id, msg, msglen);
    if (err != APP_OK) {
        /* The run is closed as failed so it does not count as running; the
         * caller's answer is the task's error either way. */
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_bench_finish(db, id, false, NULL, msg, ignored, sizeof ignored));
    }
    return err;
}

app_err bench_store_browser(hist *db, const body *b, char id[33], char *msg, size_t msglen)
{
    static const char *const known[] = {"source", "suite", "results"};
    app_err err = body_only(b, known, 3, msg, msglen);
    char *suite = NULL;
    size_t len;
    if (err == APP_OK)
        err = body_string(b, "suite", 64, &suite, &len, msg, msglen);
    const char *text = NULL;
    js_type type = JS_NULL;
    if (err == APP_OK)
        err = body_json(b, "results", 1u << 20, &text, &len, &type, msg, msglen);
    if (err == APP_ENOTFOUND || (err == APP_OK && type != JS_ARRAY)) {
        snprintf(msg, msglen, "field 'results' must be an array");
        err = APP_EFIELD;
    }
    /* Validate every result before storing any. */
    js_iter it;
    js_span el;
    int n = 0;
    js_iter_init(&it, text, (js_span){type, 0, len});
    while (err == APP_OK && js_iter_next(&it, NULL, &el)) {
        bool has_case = false, has_status = false, has_wall = false;
        js_iter fit;
        js_span k, v;
        js_iter_init(&fit, text, el);
        while (el.type == JS_OBJECT && js_iter_next(&fit, &k, &v)) {
            if (js_string_equals(text, k, "case"))
                has_case = v.type == JS_STRING && v.len <= 66;
            else if (js_string_equals(text, k, "status"))
                has_status = v.type == JS_STRING && v.len <= 26;
            else if (js_string_equals(text, k, "wallMs"))
                has_wall = v.type == JS_NUMBER && js_number(text, v) >= 0 && js_number(text, v) < 1e9;
        }
        if (!has_case || !has_status || !has_wall || ++n > BENCH_MAX_BROWSER_RESULTS) {
            snprintf(msg, msglen, "results[%d] needs case (string), status (string) and wallMs "
                                  "(number); at most %d results",
                     n, BENCH_MAX_BROWSER_RESULTS);
            err = APP_EFIELD;
        }
    }
    if (err == APP_OK && n == 0) {
        snprintf(msg, msglen, "field 'results' is empty");
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        err = hist_bench_create(db, suite ? suite : "all", 1, "[\"browser\"]", "browser", n, id, msg,
                                msglen);
    sbuf sum;
    sbuf_init(&sum, 1u << 20);
    js_iter_init(&it, text, (js_span){type, 0, len});
    int i = 0;
    while (err == APP_OK && js_iter_next(&it, NULL, &el)) {
        char case_name[65] = "", status[25] = "";
        double wall = 0, exec = -1;
        js_iter fit;
        js_span k, v;
        js_iter_init(&fit, text, el);
        while (js_iter_next(&fit, &k, &v)) {
            sbuf tmp;
            sbuf_init(&tmp, 64);
            if (js_string_equals(text, k, "case") && js_string_decode(text, v, &tmp, NULL) == APP_OK)
                snprintf(case_name, sizeof case_name, "%s", sbuf_str(&tmp));
            else if (js_string_equals(text, k, "status") &&
                     js_string_decode(text, v, &tmp, NULL) == APP_OK)
                snprintf(status, sizeof status, "%s", sbuf_str(&tmp));
            else if (js_string_equals(text, k, "wallMs"))
                wall = js_number(text, v);
            else if (js_string_equals(text, k, "execMs") && v.type == JS_NUMBER)
                exec = js_number(text, v);
            sbuf_free(&tmp);
        }
        err = hist_bench_result(db, id, case_name, "browser", i++, status, wall, exec, msg, msglen);
    }
    if (err == APP_OK)
        err = summarize(db, id, &sum);
    if (err == APP_OK)
        err = hist_bench_finish(db, id, true, sbuf_str(&sum), NULL, msg, msglen);
    sbuf_free(&sum);
    free(suite);
    return err;
}
