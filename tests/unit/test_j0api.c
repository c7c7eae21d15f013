/* test_j0api.c - the Judge0-compatible API's pure helpers: decimals,
 * output comparison, fields, tokens, request validation, result mapping.
 * Reached through the modules' headers (cgi/front/judge0/j0_*.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "hist.h"
#include "j0_request.h"
#include "j0_result.h"
#include "j0_tables.h"
#include "jscan.h"
#include "unit.h"
#include "xproto.h"

static conf test_conf(void)
{
    conf c;
    memset(&c, 0, sizeof c);
    c.max_wall_ms = 30000;
    c.max_memory_mb = 512;
    c.queue_timeout_ms = 10000;
    return c;
}

static void decimals_and_times_look_like_rails(void **state)
{
    (void)state;
    struct {
        double v;
        const char *s;
    } cases[] = {{5, "5.0"},   {0.012, "0.012"}, {2.5, "2.5"},      {0, "0.0"},
                 {15, "15.0"}, {0.0104, "0.01"}, {0.0005, "0.001"}, {123.4567, "123.457"}};
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        j0tab_decimal(cases[i].v, buf, sizeof buf);
        assert_string_equal(buf, cases[i].s);
    }
    char t[64];
    j0tab_iso_time(1712123451.306, t, sizeof t);
    assert_string_equal(t, "2024-04-03T05:50:51.306Z");
    j0tab_iso_time(0, t, sizeof t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
}

static void outputs_compare_like_judge0(void **state)
{
    (void)state;
    struct {
        const char *expected, *actual;
        int equal;
    } cases[] = {
        {"hi", "hi\n", 1},
        {"a \nb\t\n\n", "a\nb", 1},  /* trailing spaces per line and at the end */
        {"a\r\nb\r\n", "a\nb\n", 1}, /* CR is trailing whitespace */
        {"", "\n \n\t", 1},
        {"x\0", "x", 1},       /* Ruby's rstrip drops NUL too */
        {"a\n\nb", "a\nb", 0}, /* inner empty lines count */
        {"  a", "a", 0},       /* leading space counts */
        {"\na", "a", 0},       /* leading empty line counts */
        {"1 2", "1  2", 0},
        {"hi", "Hi", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t elen = strlen(cases[i].expected) + (i == 4 ? 1 : 0);
        int eq =
            j0res_output_matches(cases[i].expected, elen, cases[i].actual, strlen(cases[i].actual));
        if (eq != cases[i].equal)
            fail_msg("case %zu: %d", i, eq);
    }
}

static void fields_parse_like_judge0(void **state)
{
    (void)state;
    j0tab_fields f;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(j0tab_fields_parse(NULL, &f, msg, sizeof msg), APP_OK);
    assert_int_equal(f.n, 8);
    assert_int_equal(f.list[0], J0_F_TOKEN);
    assert_int_equal(f.list[7], J0_F_STATUS);
    assert_int_equal(j0tab_fields_parse("", &f, msg, sizeof msg), APP_OK);
    assert_int_equal(f.n, 8);
    assert_int_equal(j0tab_fields_parse("*", &f, msg, sizeof msg), APP_OK);
    assert_int_equal(f.n, J0_F_COUNT);
    assert_int_equal(j0tab_fields_parse("stdout,token,stdout,", &f, msg, sizeof msg), APP_OK);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.list[0], J0_F_STDOUT);
    assert_int_equal(f.list[1], J0_F_TOKEN);
    assert_int_equal(j0tab_fields_parse("token,nope,status,bad", &f, msg, sizeof msg), APP_EFIELD);
    assert_string_equal(msg, "invalid fields: [nope, bad]");
    /* Names are taken as given: Judge0 does not trim. */
    assert_int_equal(j0tab_fields_parse("token, stdout", &f, msg, sizeof msg), APP_EFIELD);
    assert_string_equal(msg, "invalid fields: [ stdout]");
}

static void tokens_are_uuid_v4(void **state)
{
    (void)state;
    char a[J0_TOKEN_LEN + 1], b[J0_TOKEN_LEN + 1];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(j0tab_new_token(a), APP_OK);
        assert_int_equal(strlen(a), 36);
        for (int k = 0; k < 36; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23)
                assert_int_equal(a[k], '-');
            else
                assert_non_null(strchr("0123456789abcdef", a[k]));
        }
        assert_int_equal(a[14], '4');
        assert_non_null(strchr("89ab", a[19]));
    }
    assert_int_equal(j0tab_new_token(b), APP_OK);
    assert_string_not_equal(a, b);
}

/* Decodes body in create mode; returns the errors as JSON ("{}" when none). */
static char *create(const char *body, bool b64, j0req *r)
{
    conf c = test_conf();
    j0tab_limits l;
    j0tab_limits_get(&c, &l);
    j0req_init(r, &l);
    js_span root;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(body, strlen(body), &root, msg, sizeof msg) != APP_OK)
        fail_msg("bad test JSON: %s", msg);
    j0req_errs e = {0};
    assert_int_equal(j0req_decode_create(&l, body, root, b64, r, &e), APP_OK);
    sbuf out;
    sbuf_init(&out, 1 << 16);
    assert_int_equal(j0req_errs_json(&e, &out), APP_OK);
    return sbuf_detach(&out, NULL);
}

static void requests_validate_like_judge0(void **state)
{
    (void)state;
    struct {
        const char *body;
        const char *errors;
    } cases[] = {
        {"{\"source_code\":\"print(1)\",\"language_id\":71}", "{}"},
        {"{\"source_code\":\"print(1)\",\"language_id\":\"92\",\"ignored\":[1]}", "{}"},
        {"{}", "{\"source_code\":[\"can't be blank\"],\"language_id\":[\"can't be blank\","
               "\"language with id  doesn't exist\"]}"},
        {"{\"source_code\":\"  \\n\",\"language_id\":150000}",
         "{\"source_code\":[\"can't be blank\"],\"language_id\":[\"language with id 150000 "
         "doesn't exist\"]}"},
        {"{\"source_code\":\"x\",\"language_id\":\"abc\"}",
         "{\"language_id\":[\"language with id abc doesn't exist\"]}"},
        {"{\"source_code\":\"x\",\"language_id\":71,\"cpu_time_limit\":31,\"cpu_extra_time\":-1,"
         "\"wall_time_limit\":0.5,\"memory_limit\":2047.5,\"number_of_runs\":0,"
         "\"stack_limit\":\"lots\",\"max_processes_and_or_threads\":121,\"max_file_size\":true}",
         "{\"number_of_runs\":[\"must be greater than 0\"],\"cpu_time_limit\":[\"must be less "
         "than or equal to 30.0\"],\"cpu_extra_time\":[\"must be greater than or equal to 0\"],"
         "\"wall_time_limit\":[\"must be greater than or equal to 1\"],\"memory_limit\":[\"must "
         "be greater than or equal to 2048\"],\"stack_limit\":[\"is not a number\"],"
         "\"max_processes_and_or_threads\":[\"must be less than or equal to 120\"],"
         "\"max_file_size\":[\"is not a number\"]}"},
        {"{\"source_code\":\"x\",\"language_id\":71,\"memory_limit\":524289}",
         "{\"memory_limit\":[\"must be less than or equal to 524288\"]}"},
        {"{\"source_code\":\"x\",\"language_id\":71,\"enable_network\":true,"
         "\"callback_url\":\"http://x/\",\"command_line_arguments\":\"a b\","
         "\"compiler_options\":\"-O2\",\"additional_files\":\"UEsD\"}",
         "{\"compiler_options\":[\"setting compiler options is not allowed\"],"
         "\"command_line_arguments\":[\"setting command line arguments is not "
         "allowed\"],\"callback_url\":[\"setting callback is not allowed\"],"
         "\"additional_files\":[\"setting additional files is not allowed\"],"
         "\"enable_network\":[\"enabling network is not allowed\"]}"},
        /* Blank strings and false values are not "set". */
        {"{\"source_code\":\"x\",\"language_id\":71,\"enable_network\":\"false\","
         "\"callback_url\":\" \",\"enable_per_process_and_thread_time_limit\":0}",
         "{}"},
        {"{\"source_code\":\"x\",\"language_id\":71,\"enable_network\":\"yes\","
         "\"enable_per_process_and_thread_memory_limit\":true}",
         "{\"enable_per_process_and_thread_memory_limit\":[\"this option cannot be enabled\"],"
         "\"enable_network\":[\"enabling network is not allowed\"]}"},
        {"{\"source_code\":\"\\u0000\",\"language_id\":71}",
         "{\"source_code\":[\"must be UTF-8 text without NUL bytes\"]}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        j0req r;
        char *errs = create(cases[i].body, false, &r);
        if (strcmp(errs, cases[i].errors) != 0)
            fail_msg("case %zu:\n got  %s\n want %s", i, errs, cases[i].errors);
        free(errs);
        j0req_free(&r);
    }

    /* Values and defaults. */
    j0req r;
    char *errs = create("{\"source_code\":\"cHJpbnQoMSk=\\n\",\"language_id\":71.9,"
                        "\"stdin\":\"/w==\",\"cpu_time_limit\":\"2.5\",\"memory_limit\":65536.9,"
                        "\"redirect_stderr_to_stdout\":\"t\"}",
                        true, &r);
    assert_string_equal(errs, "{}");
    free(errs);
    assert_string_equal(sbuf_str(&r.source), "print(1)");
    assert_true(r.has_input && r.input.len == 1 && (unsigned char)r.input.data[0] == 0xff);
    assert_false(r.has_expected);
    assert_int_equal(r.language_id, 71);
    assert_true(r.cpu_time_limit == 2.5 && r.cpu_extra_time == 1.0 && r.wall_time_limit == 10.0);
    assert_int_equal(r.memory_limit, 65536);
    assert_int_equal(r.stack_limit, 8192);
    assert_true(r.redirect);
    assert_false(r.network);

    /* The stored form decodes back to the same request. */
    sbuf stored;
    sbuf_init(&stored, 1 << 16);
    assert_int_equal(j0req_store_json(&r, &stored), APP_OK);
    conf c = test_conf();
    j0tab_limits l;
    j0tab_limits_get(&c, &l);
    j0req back;
    j0req_init(&back, &l);
    js_span root;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(js_validate(stored.data, stored.len, &root, msg, sizeof msg), APP_OK);
    assert_int_equal(j0req_decode_stored(stored.data, root, true, &back), APP_OK);
    assert_string_equal(sbuf_str(&back.source), "print(1)");
    assert_int_equal(back.input.len, 1);
    assert_true(back.cpu_time_limit == 2.5 && back.memory_limit == 65536 && back.redirect);
    assert_int_equal(back.language_id, 71);
    /* Without the bytes only the presence of the byte fields is read. */
    j0req lazy;
    j0req_init(&lazy, &l);
    assert_int_equal(j0req_decode_stored(stored.data, root, false, &lazy), APP_OK);
    assert_true(lazy.has_source && lazy.has_input && !lazy.has_expected);
    assert_int_equal(lazy.source.len, 0);
    j0req_free(&lazy);
    j0req_free(&back);
    sbuf_free(&stored);
    j0req_free(&r);

    /* Oversized values are refused with a length error, not truncated. */
    size_t big = J0_MAX_SOURCE + 2;
    char *body = malloc(big + 128);
    assert_non_null(body);
    int off = snprintf(body, big + 128, "{\"language_id\":71,\"source_code\":\"");
    memset(body + off, 'a', big);
    snprintf(body + off + big, 64, "\"}");
    errs = create(body, false, &r);
    assert_string_equal(errs, "{\"source_code\":[\"is too long (maximum is 1048576 bytes)\"]}");
    free(errs);
    free(body);
    j0req_free(&r);
}

static void limits_map_to_wall_and_cpu_time(void **state)
{
    (void)state;
    conf c = test_conf();
    j0tab_limits l;
    j0tab_limits_get(&c, &l);
    j0req r;
    j0req_init(&r, &l);
    unsigned wall, cpu, mem;
    j0req_job_limits(&c, &r, &wall, &cpu, &mem); /* defaults: wall 10, CPU 5 + 1 */
    assert_int_equal(wall, 10000);
    assert_int_equal(cpu, 6000);
    assert_int_equal(mem, 125); /* 128000 KB */
    r.cpu_time_limit = 0;       /* no CPU limit: the wall limit alone */
    j0req_job_limits(&c, &r, &wall, &cpu, &mem);
    assert_int_equal(wall, 10000);
    assert_int_equal(cpu, 0);
    r.cpu_time_limit = 0.01;
    r.cpu_extra_time = 0;
    r.wall_time_limit = 0.02;
    r.memory_limit = 2048; /* below the engine's minimum */
    j0req_job_limits(&c, &r, &wall, &cpu, &mem);
    assert_int_equal(wall, XP_MIN_WALL_MS);
    assert_int_equal(cpu, XP_MIN_WALL_MS);
    assert_int_equal(mem, XP_MIN_MEMORY_MB);
    r.cpu_time_limit = 30;
    r.cpu_extra_time = 5;
    r.wall_time_limit = 30;
    r.memory_limit = 524288;
    j0req_job_limits(&c, &r, &wall, &cpu, &mem); /* kept within the server's maximum */
    assert_int_equal(wall, 30000);
    assert_int_equal(cpu, 30000);
    assert_int_equal(mem, 512);
    j0req_free(&r);
}

/* Maps an engine result for a request with the given tweaks. */
static void map(const char *result, const char *expected, bool redirect, double cpu_limit,
                j0res_outcome *o)
{
    conf c = test_conf();
    j0tab_limits l;
    j0tab_limits_get(&c, &l);
    j0req r;
    j0req_init(&r, &l);
    if (expected != NULL) {
        r.has_expected = true;
        assert_int_equal(sbuf_puts(&r.expected, expected), APP_OK);
    }
    r.redirect = redirect;
    r.cpu_time_limit = cpu_limit;
    j0res_init(o);
    assert_int_equal(j0res_map(result, strlen(result), &r, o), APP_OK);
    j0req_free(&r);
}

/* An engine answer with the given limits object and CPU milliseconds. */
#define RES_TIMED(status, out, err, extra, exit, limits, cpu)                                      \
    "{\"success\":false,\"status\":\"" status "\",\"output\":\"" out "\",\"stderr\":\"" err        \
    "\",\"error\":" extra ",\"result\":null,\"charts\":[],\"executionTime\":1,"                    \
    "\"engine\":\"native\",\"metadata\":{\"limits\":" limits ",\"resources\":{\"wallMs\":12.5,"    \
    "\"queueMs\":0,\"cpuMs\":" cpu ",\"peakMemoryKb\":2048},\"exit\":" exit "}}"
#define RES(status, out, err, extra, exit) RES_TIMED(status, out, err, extra, exit, "{}", "4.2")

static void results_map_to_judge0_statuses(void **state)
{
    (void)state;
    j0res_outcome o;
    map(RES("ok", "42\\n", "", "null", "{\"code\":0}"), NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_ACCEPTED);
    assert_string_equal(sbuf_str(&o.out), "42\n");
    assert_true(o.has_exit_code && o.exit_code == 0 && !o.has_exit_signal);
    assert_true(o.has_times && o.time_s > 0.0041 && o.time_s < 0.0043 && o.wall_s == 0.0125);
    assert_true(o.has_memory && o.memory_kb == 2048);
    assert_string_equal(o.message, "");
    sbuf json;
    sbuf_init(&json, 1 << 16);
    assert_int_equal(j0res_json(&o, &json), APP_OK);
    assert_string_equal(sbuf_str(&json),
                        "{\"stdout\":\"42\\n\",\"stderr\":null,\"message\":null,\"exit_code\":0,"
                        "\"exit_signal\":null,\"time\":\"0.004\",\"wall_time\":\"0.013\","
                        "\"memory\":2048}");
    sbuf_free(&json);
    j0res_free(&o);

    map(RES("ok", "42 \\n", "", "null", "{\"code\":0}"), "42\n\n", false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_ACCEPTED);
    j0res_free(&o);
    map(RES("ok", "41\\n", "", "null", "{\"code\":0}"), "42", false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_WRONG);
    j0res_free(&o);

    map(RES("error", "", "Traceback...\\n",
            "{\"type\":\"SystemExit\",\"message\":\"exit status 3\"}", "{\"code\":3}"),
        "", false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_NZEC);
    assert_int_equal(o.exit_code, 3);
    assert_string_equal(o.message, "Exited with error status 3");
    assert_string_equal(sbuf_str(&o.err), "Traceback...\n");
    j0res_free(&o);

    /* Stopped having used its CPU-time limit: the CPU limit. */
    map(RES_TIMED("timeout", "", "", "{\"type\":\"TimeoutError\",\"message\":\"x\"}",
                  "{\"signal\":\"SIGKILL\"}", "{\"cpuTimeMs\":6000}", "6004.5"),
        NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_TLE);
    assert_true(o.has_exit_signal && o.exit_signal == 9 && o.exit_code == 0);
    assert_string_equal(o.message, "Time limit exceeded");
    j0res_free(&o);
    /* Stopped below it (it slept): the wall clock, whatever the CPU limit. */
    map(RES_TIMED("timeout", "", "", "null", "{\"signal\":\"SIGKILL\"}", "{\"cpuTimeMs\":6000}",
                  "30.1"),
        NULL, false, 5, &o);
    assert_string_equal(o.message, "Time limit exceeded (wall clock)");
    j0res_free(&o);
    map(RES("timeout", "", "", "null", "{\"signal\":\"SIGKILL\"}"), NULL, false, 0, &o);
    assert_string_equal(o.message, "Time limit exceeded (wall clock)");
    j0res_free(&o);

    map(RES("output_limit", "xxx", "",
            "{\"type\":\"OutputLimitExceeded\",\"message\":\"stdout "
            "passed the limit\"}",
            "{\"signal\":\"SIGKILL\"}"),
        NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_SIGXFSZ);
    assert_int_equal(o.exit_signal, 25);
    assert_string_equal(o.message, "Output limit exceeded: stdout passed the limit");
    j0res_free(&o);

    map(RES("memory_limit", "", "", "{\"type\":\"MemoryError\",\"message\":\"x\"}",
            "{\"signal\":\"SIGKILL\"}"),
        NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_NZEC);
    assert_int_equal(o.exit_code, 137);
    assert_false(o.has_exit_signal);
    assert_string_equal(o.message, "Exited with error status 137 (memory limit exceeded)");
    j0res_free(&o);
    map(RES("memory_limit", "", "", "{\"type\":\"MemoryError\",\"message\":\"x\"}", "{\"code\":1}"),
        NULL, false, 5, &o);
    assert_int_equal(o.exit_code, 1);
    j0res_free(&o);

    struct {
        const char *sig;
        int status, num;
    } sigs[] = {{"SIGSEGV", J0_ST_SIGSEGV, 11}, {"SIGFPE", J0_ST_SIGFPE, 8},
                {"SIGABRT", J0_ST_SIGABRT, 6},  {"SIGXFSZ", J0_ST_SIGXFSZ, 25},
                {"SIGSYS", J0_ST_OTHER, 31},    {"signal 40", J0_ST_OTHER, 40}};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char res[1024];
        char exit_obj[64];
        snprintf(exit_obj, sizeof exit_obj, "{\"signal\":\"%s\"}", sigs[i].sig);
        snprintf(res, sizeof res,
                 "{\"status\":\"killed\",\"output\":\"\",\"stderr\":\"\",\"error\":null,"
                 "\"metadata\":{\"exit\":%s}}",
                 exit_obj);
        map(res, NULL, false, 5, &o);
        assert_int_equal(o.status_id, sigs[i].status);
        assert_int_equal(o.exit_signal, sigs[i].num);
        j0res_free(&o);
    }

    map(RES("error", "", "", "{\"type\":\"EngineError\",\"message\":\"broken\"}", "{\"code\":0}"),
        NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_INTERNAL);
    assert_contains(o.message, "broken");
    assert_false(o.has_times);
    j0res_free(&o);
    map("{\"status\":", NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_INTERNAL);
    j0res_free(&o);

    /* redirect_stderr_to_stdout: stdout then stderr, compared as one. */
    map(RES("ok", "a\\n", "b\\n", "null", "{\"code\":0}"), "a\nb", true, 5, &o);
    assert_int_equal(o.status_id, J0_ST_ACCEPTED);
    assert_string_equal(sbuf_str(&o.out), "a\nb\n");
    assert_int_equal(o.err.len, 0);
    j0res_free(&o);

    /* Finishing after the CPU limit is still Time Limit Exceeded (isolate's -t). */
    map(RES("ok", "", "", "null", "{\"code\":0}"), NULL, false, 0.001, &o);
    assert_int_equal(o.status_id, J0_ST_TLE);
    j0res_free(&o);
}

static void streams_keep_their_bytes(void **state)
{
    (void)state;
    j0res_outcome o;
    /* The engine's exact bytes (rawOutput) win over its U+FFFD text. */
    const char *answer =
        "{\"success\":true,\"status\":\"ok\",\"output\":\"a\\ufffd\",\"stderr\":\"e\\ufffd\","
        "\"error\":null,\"result\":null,\"charts\":[],\"executionTime\":1,\"engine\":\"native\","
        "\"metadata\":{\"limits\":{},\"resources\":{\"wallMs\":1,\"queueMs\":0,\"cpuMs\":1,"
        "\"peakMemoryKb\":1},\"rawOutput\":{\"stdout\":\"Yf8=\"},\"exit\":{\"code\":0}}}";
    map(answer, NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_ACCEPTED);
    assert_int_equal(o.out.len, 2);
    assert_memory_equal(o.out.data, "a\xff", 2);
    assert_string_equal(sbuf_str(&o.err), "e\xef\xbf\xbd"); /* stderr was UTF-8 after all */
    /* Stored: UTF-8 as text, other bytes as base64 beside a null. */
    sbuf json;
    sbuf_init(&json, 4096);
    assert_int_equal(j0res_json(&o, &json), APP_OK);
    assert_contains(sbuf_str(&json), "\"stdout\":null,\"stdout_base64\":\"Yf8=\",\"stderr\":\"e");
    sbuf_free(&json);
    j0res_free(&o);
    /* Base64 that is not canonical is a broken engine, not output. */
    char bad[1024];
    snprintf(bad, sizeof bad, "%s", answer);
    char *at = strstr(bad, "Yf8=");
    at[3] = '!';
    map(bad, NULL, false, 5, &o);
    assert_int_equal(o.status_id, J0_ST_INTERNAL);
    j0res_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decimals_and_times_look_like_rails),
        cmocka_unit_test(outputs_compare_like_judge0),
        cmocka_unit_test(fields_parse_like_judge0),
        cmocka_unit_test(tokens_are_uuid_v4),
        cmocka_unit_test(requests_validate_like_judge0),
        cmocka_unit_test(limits_map_to_wall_and_cpu_time),
        cmocka_unit_test(results_map_to_judge0_statuses),
        cmocka_unit_test(streams_keep_their_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
