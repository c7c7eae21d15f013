/* test_result.c - composing a native answer (result.c): which verdict wins,
 * how an exit status reads, and what survives of the untrusted child JSON
 * (hview.c); and the summary statistics keep of an answer. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "hview.h"
#include "jscan.h"
#include "result.h"
#include "unit.h"
#include "utf8.h"
#include "zygote.h"

static const char ok_child[] =
    "{\"status\":\"ok\",\"error\":null,\"result\":{\"n\":1},\"charts\":[],\"executionTime\":12.5}";

static res_parts parts(const char *child)
{
    return (res_parts){.child_json = child,
                       .child_len = child ? strlen(child) : 0,
                       .out = "",
                       .err = "",
                       .verdict = RES_EXITED,
                       .exited = true,
                       .wall_limit_ms = 3000,
                       .memory_limit_mb = 128,
                       .nofile = 100,
                       .nproc = 10,
                       .stream_cap = 1 << 20,
                       .wall_ms = 4.25};
}

/* Composes p; the answer must be valid JSON (UTF-8) whatever went in. */
static char *compose(const res_parts *p)
{
    sbuf out;
    sbuf_init(&out, 1 << 20);
    assert_int_equal(res_compose(p, &out), APP_OK);
    js_span root;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(out.data, out.len, &root, msg, sizeof msg) != APP_OK)
        fail_msg("not JSON (%s): %s", msg, out.data);
    char *s = strdup(sbuf_str(&out));
    sbuf_free(&out);
    return s;
}

static void a_clean_run_keeps_the_childs_fields(void **state)
{
    (void)state;
    res_parts p = parts(ok_child);
    p.out = "hi\n";
    p.out_len = 3;
    char *s = compose(&p);
    assert_contains(s, "\"success\":true,\"status\":\"ok\",\"output\":\"hi\\n\"");
    assert_contains(s, "\"result\":{\"n\":1}");
    assert_contains(s, "\"executionTime\":12.5");
    assert_contains(s, "\"engine\":\"native\"");
    assert_contains(s, "\"exit\":{\"code\":0}");
    free(s);
}

static void memory_outranks_a_timeout(void **state)
{
    (void)state;
    /* A memory bomb spread over processes, then the wall clock. */
    res_parts p = parts(NULL);
    p.verdict = RES_TIMEOUT;
    p.exited = false;
    p.exit_signal = SIGKILL;
    p.oom_killed = true;
    char *s = compose(&p);
    assert_contains(s, "\"status\":\"memory_limit\"");
    assert_contains(s, "\"type\":\"MemoryError\"");
    assert_contains(s, "128 MB");
    free(s);
    /* The supervisor's own OOM verdict, even before the counter moved. */
    p = parts(ok_child);
    p.verdict = RES_OOM;
    s = compose(&p);
    assert_contains(s, "\"status\":\"memory_limit\"");
    assert_contains(s, "\"success\":false");
    free(s);
    /* A timeout alone stays a timeout. */
    p = parts(NULL);
    p.verdict = RES_TIMEOUT;
    p.exited = false;
    p.exit_signal = SIGKILL;
    s = compose(&p);
    assert_contains(s, "\"status\":\"timeout\"");
    assert_contains(s, "3.0 s wall-time limit");
    assert_not_contains(s, "cpuTimeMs");
    free(s);
    /* The jail's CPU-time limit: its own message, and the limit in metadata. */
    p.verdict = RES_CPU_TIMEOUT;
    p.cpu_limit_ms = 1500;
    s = compose(&p);
    assert_contains(s, "\"status\":\"timeout\"");
    assert_contains(s, "\"type\":\"TimeoutError\"");
    assert_contains(s, "more than its 1.5 s of CPU time");
    assert_contains(s, "\"limits\":{\"wallTimeMs\":3000,\"cpuTimeMs\":1500,\"memoryMb\":128,");
    free(s);
    /* A process's RLIMIT_CPU (SIGXCPU) names the per-process limit. */
    p.verdict = RES_EXITED;
    p.exit_signal = SIGXCPU;
    s = compose(&p);
    assert_contains(s, "\"status\":\"timeout\"");
    assert_contains(s, "a process of the program used more CPU time than its 2 s limit");
    free(s);
}

static void exit_statuses_read_as_causes(void **state)
{
    (void)state;
    struct {
        bool exited;
        int code_or_signal;
        const char *status, *type, *phrase;
    } cases[] = {
        {false, SIGXCPU, "timeout", "TimeoutError", "more CPU time than its 3 s limit"},
        {false, SIGSEGV, "killed", "Crash", "unbounded recursion"},
        {false, SIGABRT, "killed", "Crash", "killed by SIGABRT"},
        {false, SIGSYS, "killed", "SeccompViolation", "SIGSYS"},
        {false, SIGTERM, "killed", "\"Signal\"", "killed by SIGTERM"},
        {true, ZY_EXIT_NO_CHANNEL, "error", "ResultChannelClosed", "fd 3"},
        {true, 3, "error", "SystemExit", "status 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        res_parts p = parts(NULL);
        p.exited = cases[i].exited;
        p.exit_code = cases[i].exited ? cases[i].code_or_signal : 0;
        p.exit_signal = cases[i].exited ? 0 : cases[i].code_or_signal;
        char *s = compose(&p);
        char want[64];
        snprintf(want, sizeof want, "\"status\":\"%s\"", cases[i].status);
        if (strstr(s, want) == NULL || strstr(s, cases[i].type) == NULL ||
            strstr(s, cases[i].phrase) == NULL)
            fail_msg("case %zu: %s", i, s);
        free(s);
    }
    /* os._exit(0) without a result: finished, nothing to say. */
    res_parts p = parts(NULL);
    char *s = compose(&p);
    assert_contains(s, "\"status\":\"ok\"");
    free(s);
}

static void the_child_cannot_forge_the_supervisors_fields(void **state)
{
    (void)state;
    const char *forged =
        "{\"status\":\"ok\",\"engine\":\"judge0\",\"metadata\":{\"exit\":{\"code\":99}},"
        "\"success\":false,\"charts\":[{\"format\":\"png\",\"data\":\"QQ==\"},"
        "{\"format\":\"svg\",\"data\":\"<script>\"},{\"format\":\"png\",\"data\":1},7],"
        "\"executionTime\":1}";
    res_parts p = parts(forged);
    p.exit_code = 0;
    char *s = compose(&p);
    assert_contains(s, "\"engine\":\"native\"");
    assert_not_contains(s, "judge0");
    assert_contains(s, "\"exit\":{\"code\":0}");
    assert_contains(s, "\"charts\":[{\"format\":\"png\",\"data\":\"QQ==\"}]");
    assert_not_contains(s, "<script>");
    assert_contains(s, "\"success\":true");
    free(s);
    /* Its timing is not believed when the supervisor stopped the job. */
    p.verdict = RES_STDOUT_LIMIT;
    s = compose(&p);
    assert_contains(s, "\"executionTime\":4.250");
    assert_contains(s, "\"stdout\":true");
    free(s);
}

static void only_the_schemas_error_and_chart_members_survive(void **state)
{
    (void)state;
    const char *child =
        "{\"status\":\"error\",\"error\":{\"type\":\"ValueError\",\"message\":\"m\","
        "\"traceback\":\"t\",\"line\":3,\"missingModule\":7,\"html\":\"<b>x</b>\"},"
        "\"charts\":[{\"format\":\"png\",\"data\":\"QQ==\",\"width\":640,\"height\":\"480\","
        "\"onload\":\"alert(1)\"}]}";
    res_parts p = parts(child);
    char *s = compose(&p);
    /* missingModule of the wrong type and unknown members are dropped. */
    assert_contains(s, "\"error\":{\"type\":\"ValueError\",\"message\":\"m\","
                       "\"traceback\":\"t\",\"line\":3}");
    assert_contains(s, "\"charts\":[{\"format\":\"png\",\"data\":\"QQ==\",\"width\":640}]");
    assert_not_contains(s, "<b>");
    assert_not_contains(s, "alert");
    free(s);
    /* A null error stays null. */
    p = parts("{\"status\":\"ok\",\"error\":null}");
    s = compose(&p);
    assert_contains(s, "\"error\":null");
    free(s);
}

static void debug_output_is_filtered_and_steps_need_tracing(void **state)
{
    (void)state;
    const char *child =
        "{\"status\":\"ok\",\"debug_info\":{\"logs\":[{\"level\":\"INFO\",\"message\":\"m\","
        "\"line\":2,\"t\":0.5,\"html\":\"<b>\"},7,{\"level\":1,\"t\":1e999}],"
        "\"variables\":{\"x\":{\"type\":\"int\",\"repr\":\"1\",\"size\":\"9\"},\"x\":"
        "{\"type\":\"str\"},\"y\":\"flat\"},\"logs_truncated\":true,\"evil\":1},"
        "\"steps\":[{\"step\":1,\"line_number\":1,\"line_code\":\"a = 1\",\"event\":\"line\","
        "\"variables\":{\"a\":\"1\",\"b\":2},\"evil\":1},\"junk\"],\"steps_truncated\":false}";
    res_parts p = parts(child);
    char *s = compose(&p);
    /* Wrong types, unknown members, a repeated name and a non-finite
     * number are dropped; the flags are booleans. */
    assert_contains(s, "\"debug_info\":{\"logs\":[{\"level\":\"INFO\",\"message\":\"m\","
                       "\"line\":2,\"t\":0.5},{}],\"variables\":{\"x\":{\"type\":\"int\","
                       "\"repr\":\"1\"}},\"logs_truncated\":true,\"variables_truncated\":false}");
    assert_not_contains(s, "evil");
    assert_not_contains(s, "<b>");
    /* Untraced: the child's steps are not copied. */
    assert_not_contains(s, "\"steps\"");
    free(s);
    p.traced = true;
    s = compose(&p);
    assert_contains(s, "\"steps\":[{\"step\":1,\"line_number\":1,\"line_code\":\"a = 1\","
                       "\"event\":\"line\",\"variables\":{\"a\":\"1\"}}],"
                       "\"steps_truncated\":false");
    free(s);
    /* Traced, but nothing came back (a timeout): empty steps. */
    p = parts(NULL);
    p.verdict = RES_TIMEOUT;
    p.traced = true;
    s = compose(&p);
    assert_contains(s, "\"steps\":[],\"steps_truncated\":false");
    assert_not_contains(s, "debug_info");
    free(s);
}

static void insights_are_filtered_and_need_asking(void **state)
{
    (void)state;
    const char *child =
        "{\"status\":\"ok\",\"insights\":[{\"kind\":\"outlier\",\"columns\":[\"x\"],"
        "\"message\":\"m\",\"score\":0.9,\"evidence\":{\"count\":1,\"values\":[1e6]},"
        "\"html\":\"<b>\"},{\"kind\":\"skew\",\"columns\":[1],\"message\":\"bad columns\"},"
        "{\"message\":\"no kind\"},7,{\"kind\":\"trend\",\"message\":\"t\",\"score\":1e999,"
        "\"evidence\":{\"slope\":1e999}}],"
        "\"charts\":[{\"format\":\"png\",\"data\":\"QQ==\",\"chart\":{\"type\":\"line\","
        "\"elements\":[{\"label\":\"a\",\"points\":[[1,4],[2,1]]}]}},"
        "{\"format\":\"png\",\"data\":\"QQ==\",\"chart\":{\"type\":\"line\",\"y\":-1e999}}]}";
    res_parts p = parts(child);
    char *s = compose(&p);
    /* Not asked: no insights, whatever the child sent. */
    assert_not_contains(s, "\"insights\"");
    /* A chart's data is copied whole; one holding a non-finite number is dropped. */
    assert_contains(s, "\"charts\":[{\"format\":\"png\",\"data\":\"QQ==\",\"chart\":{\"type\":"
                       "\"line\",\"elements\":[{\"label\":\"a\",\"points\":[[1,4],[2,1]]}]}},"
                       "{\"format\":\"png\",\"data\":\"QQ==\"}]");
    free(s);
    p.insights = true;
    s = compose(&p);
    /* Unknown members, findings without kind or message or with columns that
     * are not strings, and non-finite numbers are dropped. */
    assert_contains(s, "\"insights\":[{\"kind\":\"outlier\",\"columns\":[\"x\"],\"message\":"
                       "\"m\",\"score\":0.9,\"evidence\":{\"count\":1,\"values\":[1e6]}},"
                       "{\"kind\":\"trend\",\"message\":\"t\"}]");
    assert_not_contains(s, "<b>");
    assert_not_contains(s, "bad columns");
    free(s);
    /* Asked, but nothing came back: an empty list. */
    p = parts(NULL);
    p.verdict = RES_TIMEOUT;
    p.insights = true;
    s = compose(&p);
    assert_contains(s, "\"insights\":[]");
    free(s);
    /* At most HV_MAX_INSIGHTS findings. */
    sbuf many;
    sbuf_init(&many, 1 << 20);
    assert_int_equal(sbuf_puts(&many, "{\"status\":\"ok\",\"insights\":["), APP_OK);
    for (unsigned i = 0; i < HV_MAX_INSIGHTS + 10; i++)
        assert_int_equal(sbuf_printf(&many, "%s{\"kind\":\"k\",\"message\":\"n%u\"}",
                                     i ? "," : "", i),
                         APP_OK);
    assert_int_equal(sbuf_puts(&many, "]}"), APP_OK);
    p = parts(sbuf_str(&many));
    p.insights = true;
    s = compose(&p);
    char last[32];
    snprintf(last, sizeof last, "\"n%u\"", HV_MAX_INSIGHTS - 1);
    assert_contains(s, last);
    snprintf(last, sizeof last, "\"n%u\"", HV_MAX_INSIGHTS);
    assert_not_contains(s, last);
    free(s);
    sbuf_free(&many);
}

static void summaries_keep_status_time_and_output_size(void **state)
{
    (void)state;
    char status[24];
    double ms;
    size_t out_bytes;
    const char *answer = "{\"status\":\"handoff\",\"output\":\"abc\",\"executionTime\":2.5}";
    hv_summary(answer, strlen(answer), status, sizeof status, &ms, &out_bytes);
    assert_string_equal(status, "handoff");
    assert_true(ms == 2.5);
    assert_int_equal(out_bytes, 3);
    const char *odd = "{\"status\":\"a-status-longer-than-the-buffer\",\"executionTime\":\"1\"}";
    hv_summary(odd, strlen(odd), status, sizeof status, &ms, NULL);
    assert_string_equal(status, "error");
    assert_true(ms == -1);
    hv_summary("[1]", 3, status, sizeof status, &ms, &out_bytes);
    assert_string_equal(status, "error");
    assert_int_equal(out_bytes, 0);
}

static void malformed_child_json_is_an_engine_error(void **state)
{
    (void)state;
    const char *bad[] = {"{\"status\":", "[]", "{\"status\":\"fine\"}", "{\"status\":1}",
                         "{\"status\":\"ok\"\xff}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        res_parts p = parts(bad[i]);
        char *s = compose(&p);
        if (strstr(s, "\"type\":\"EngineError\"") == NULL || strstr(s, "\"status\":\"error\"") == NULL)
            fail_msg("case %zu: %s", i, s);
        free(s);
    }
}

static void any_output_bytes_become_valid_json(void **state)
{
    (void)state;
    const char bytes[] = "a\xff\xfe\x00z\xe2\x82"; /* invalid UTF-8, a NUL, a cut sequence */
    res_parts p = parts(ok_child);
    p.out = bytes;
    p.out_len = sizeof bytes - 1;
    p.err = "\x1b[31m";
    p.err_len = 5;
    char *s = compose(&p);
    assert_true(utf8_valid(s, strlen(s), NULL));
    assert_contains(s, "\\u0000");
    assert_contains(s, "a\\ufffd\\ufffd\\u0000z\\ufffd"); /* each bad byte: U+FFFD */
    assert_contains(s, "\\u001b");
    free(s);
}

static void a_programs_bytes_are_kept_exactly(void **state)
{
    (void)state;
    const char bytes[] = "a\xff\xfe\x00z\xe2\x82";
    res_parts p = parts(ok_child);
    p.out = bytes;
    p.out_len = sizeof bytes - 1;
    p.err = "fine \xe2\x9c\x93";
    p.err_len = 8;
    char *s = compose(&p); /* not a program: text only */
    assert_not_contains(s, "rawOutput");
    free(s);
    p.raw_streams = true;
    s = compose(&p);
    assert_contains(s, "\"rawOutput\":{\"stdout\":\"Yf/+AHrigg==\"},"); /* stderr is UTF-8 */
    free(s);
    p.err = "\x80";
    p.err_len = 1;
    s = compose(&p);
    assert_contains(s, "\"rawOutput\":{\"stdout\":\"Yf/+AHrigg==\",\"stderr\":\"gA==\"},");
    free(s);
    p.out = "ok\n";
    p.out_len = 3;
    s = compose(&p);
    assert_contains(s, "\"rawOutput\":{\"stderr\":\"gA==\"},");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_clean_run_keeps_the_childs_fields),
        cmocka_unit_test(memory_outranks_a_timeout),
        cmocka_unit_test(exit_statuses_read_as_causes),
        cmocka_unit_test(the_child_cannot_forge_the_supervisors_fields),
        cmocka_unit_test(only_the_schemas_error_and_chart_members_survive),
        cmocka_unit_test(insights_are_filtered_and_need_asking),
        cmocka_unit_test(debug_output_is_filtered_and_steps_need_tracing),
        cmocka_unit_test(summaries_keep_status_time_and_output_size),
        cmocka_unit_test(malformed_child_json_is_an_engine_error),
        cmocka_unit_test(any_output_bytes_become_valid_json),
        cmocka_unit_test(a_programs_bytes_are_kept_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
