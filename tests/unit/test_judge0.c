/*
 * test_judge0.c - the Judge0 client and engine.
 *
 * Group 1 needs nothing: the submission decoder, the choice of
 * authentication headers.  Groups 2 and 3 start tests/fakes/judge0_fake.py
 * (a Judge0 stand-in that really runs the submitted Python on loopback and
 * misbehaves on request: the API key names the misbehaviour) and drive
 * jz_run() and jeng_run() against it over real HTTP.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "conf.h"
#include "jscan.h"
#include "judge0.h"
#include "judge0_engine.h"
#include "unit.h"

extern char **environ;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- group 1: the decoder ---------------------------------------------------------- */

static APP_MUST_CHECK app_err decode(const char *json, bool b64, jz_result *r, char *msg)
{
    msg[0] = '\0';
    return jz_decode_submission(json, strlen(json), b64, r, msg, APP_ERRMSG_LEN);
}

static void names_every_status_as_judge0_does(void **state)
{
    (void)state;
    assert_string_equal(jz_status_description(1), "In Queue");
    assert_string_equal(jz_status_description(3), "Accepted");
    assert_string_equal(jz_status_description(11), "Runtime Error (NZEC)");
    assert_string_equal(jz_status_description(JZ_STATUS_MAX), "Exec Format Error");
    assert_string_equal(jz_status_description(0), "");
    assert_string_equal(jz_status_description(JZ_STATUS_MAX + 1), "");
    assert_string_equal(jz_status_description(-3), "");
}

static void decodes_a_judge0_body_from_the_docs(void **state)
{
    (void)state;
    jz_result r;
    jz_result_init(&r);
    char msg[APP_ERRMSG_LEN];
    const char *doc = "{\"stdout\":\"aGVsbG8sIEp1ZGdlMAo=\\n\",\"time\":\"0.001\",\"memory\":380,"
                      "\"stderr\":null,\"token\":\"eb0dd001-66db-47f4-8a69-b736c9bc23f6\","
                      "\"compile_output\":null,\"message\":null,"
                      "\"status\":{\"id\":3,\"description\":\"Accepted\"}}";
    assert_int_equal(decode(doc, true, &r, msg), APP_OK);
    assert_string_equal(sbuf_str(&r.stdout_text), "hello, Judge0\n");
    assert_int_equal(r.stderr_text.len, 0);
    assert_string_equal(r.token, "eb0dd001-66db-47f4-8a69-b736c9bc23f6");
    assert_int_equal(r.status_id, 3);
    assert_string_equal(r.status_description, "Accepted");
    assert_true(r.has_time);
    assert_true(r.time_s > 0.0009 && r.time_s < 0.0011);
    assert_true(r.has_memory);
    assert_int_equal(r.memory_kb, 380);
    assert_false(r.has_wall_time);
    assert_false(r.has_exit_code);
    assert_false(r.has_exit_signal);
    /* The same body without base64 is plain text. */
    const char *plain = "{\"stdout\":\"hello, Judge0\\n\",\"status\":{\"id\":3,"
                        "\"description\":\"Accepted\"},\"time\":0.282,\"wall_time\":\"5.0\","
                        "\"memory\":\"1024\",\"exit_code\":1,\"exit_signal\":9}";
    assert_int_equal(decode(plain, false, &r, msg), APP_OK);
    assert_string_equal(sbuf_str(&r.stdout_text), "hello, Judge0\n");
    assert_true(r.time_s > 0.2819 && r.time_s < 0.2821);
    assert_true(r.wall_time_s > 4.99 && r.wall_time_s < 5.01);
    assert_int_equal(r.memory_kb, 1024);
    assert_true(r.has_exit_code);
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(r.exit_signal, 9);
    assert_string_equal(r.token, ""); /* not sent this time: the old one is gone */
    jz_result_free(&r);
}

static void decodes_wrapped_base64_and_keeps_any_bytes(void **state)
{
    (void)state;
    jz_result r;
    jz_result_init(&r);
    char msg[APP_ERRMSG_LEN];
    /* 90 bytes of stdout arrive as two MIME lines; stderr holds \xfe\xff\0. */
    char doc[1024];
    /* Built from a 120-character encoding of 90 'x' split at 60. */
    sbuf x;
    sbuf_init(&x, 256);
    char ninety[91];
    memset(ninety, 'x', 90);
    ninety[90] = '\0';
    assert_int_equal(b64_encode(ninety, 90, B64_ONE_LINE, &x), APP_OK);
    assert_int_equal(x.len, 120);
    snprintf(doc, sizeof doc,
             "{\"status\":{\"id\":11,\"description\":\"Runtime Error (NZEC)\"},"
             "\"stdout\":\"%.60s\\n%.60s\\n\",\"stderr\":\"/v8A\\n\",\"message\":"
             "\"RXhpdGVkIHdpdGggZXJyb3Igc3RhdHVzIDE=\\n\",\"exit_code\":1,\"exit_signal\":null}",
             x.data, x.data + 60);
    sbuf_free(&x);
    assert_int_equal(decode(doc, true, &r, msg), APP_OK);
    assert_int_equal(r.stdout_text.len, 90);
    assert_memory_equal(r.stdout_text.data, ninety, 90);
    assert_int_equal(r.stderr_text.len, 3);
    assert_memory_equal(r.stderr_text.data, "\xfe\xff\0", 3);
    assert_string_equal(sbuf_str(&r.message), "Exited with error status 1");
    assert_int_equal(r.status_id, 11);
    assert_false(r.has_exit_signal);
    jz_result_free(&r);
}

static void decodes_nulls_and_status_id_variants(void **state)
{
    (void)state;
    jz_result r;
    jz_result_init(&r);
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(decode("{\"token\":null,\"status\":null,\"stdout\":null,\"time\":null,"
                            "\"wall_time\":null,\"memory\":null,\"exit_code\":null,"
                            "\"exit_signal\":null,\"created_at\":\"2024-04-03T05:40:51.306Z\"}",
                            true, &r, msg),
                     APP_OK);
    assert_int_equal(r.status_id, 0);
    assert_false(r.has_time || r.has_wall_time || r.has_memory || r.has_exit_code);
    assert_int_equal(decode("{\"status_id\":2}", true, &r, msg), APP_OK);
    assert_int_equal(r.status_id, 2);
    assert_int_equal(decode("{\"status\":{\"id\":\"5\",\"description\":null}}", true, &r, msg),
                     APP_OK);
    assert_int_equal(r.status_id, 5);
    assert_int_equal(decode("{\"status\":{\"id\":14,\"description\":\"Exec Format Error\"},"
                            "\"status_id\":3}",
                            true, &r, msg),
                     APP_OK);
    assert_int_equal(r.status_id, 14);
    jz_result_free(&r);
}

static void refuses_malformed_bodies_with_a_reason(void **state)
{
    (void)state;
    struct {
        const char *doc;
        const char *reason;
    } bad[] = {
        {"", "not valid JSON"},
        {"{\"status\":{\"id\":3}", "not valid JSON"},
        {"[]", "JSON array"},
        {"\"Accepted\"", "JSON string"},
        {"{\"status\":\"Accepted\"}", "\"status\""},
        {"{\"status\":{\"description\":\"Accepted\"}}", "status.id"},
        {"{\"status\":{\"id\":15}}", "status.id"},
        {"{\"status\":{\"id\":0}}", "status.id"},
        {"{\"status\":{\"id\":3.5}}", "status.id"},
        {"{\"status\":{\"id\":\"three\"}}", "status.id"},
        {"{\"status\":{\"id\":3,\"description\":4}}", "status.description"},
        {"{\"time\":\"abc\"}", "\"time\""},
        {"{\"time\":\"inf\"}", "\"time\""},
        {"{\"time\":\" 1\"}", "\"time\""},
        {"{\"time\":\"0x10\"}", "\"time\""},
        {"{\"time\":1e999}", "\"time\""},
        {"{\"time\":-1}", "\"time\""},
        {"{\"time\":[1]}", "\"time\""},
        {"{\"wall_time\":true}", "\"wall_time\""},
        {"{\"memory\":1.5}", "\"memory\""},
        {"{\"memory\":\"12abc\"}", "\"memory\""},
        {"{\"exit_code\":2.5}", "\"exit_code\""},
        {"{\"exit_signal\":-1}", "\"exit_signal\""},
        {"{\"stdout\":12}", "\"stdout\""},
        {"{\"stdout\":\"@@@@\"}", "base64"},
        {"{\"stderr\":\"Zg=\"}", "base64"},
        {"{\"message\":{}}", "\"message\""},
        {"{\"compile_output\":\"Zm9v\\u0000\"}", "base64"},
        {"{\"token\":\"../../etc/passwd\"}", "\"token\""},
        {"{\"token\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
         "\"token\""},
        {"{\"token\":\"a\\u0041\"}", "\"token\""},
        {"{\"token\":7}", "\"token\""},
        {"{\"stdout\":\"\xff\"}", "not valid JSON"},
    };
    jz_result r;
    jz_result_init(&r);
    char msg[APP_ERRMSG_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        app_err e = decode(bad[i].doc, true, &r, msg);
        if (e != APP_EUPSTREAM)
            fail_msg("accepted %s (%d)", bad[i].doc, e);
        if (strstr(msg, bad[i].reason) == NULL)
            fail_msg("%s: message \"%s\" does not mention %s", bad[i].doc, msg, bad[i].reason);
        assert_int_equal(r.status_id, 0); /* nothing half-decoded is left */
        assert_int_equal(r.stdout_text.len, 0);
    }
    /* Without base64, "@@@@" is just text. */
    assert_int_equal(decode("{\"stdout\":\"@@@@\"}", false, &r, msg), APP_OK);
    assert_string_equal(sbuf_str(&r.stdout_text), "@@@@");
    jz_result_free(&r);
}

/* ---- group 1: authentication headers ------------------------------------------------- */

static APP_MUST_CHECK app_err auth(const char *url, const char *key, sbuf *out, char *msg)
{
    jz_config cfg = {.url = url, .key = key, .language_id = 71};
    sbuf_reset(out);
    msg[0] = '\0';
    return jz_auth_headers(&cfg, out, msg, APP_ERRMSG_LEN);
}

static void chooses_the_authentication_headers(void **state)
{
    (void)state;
    sbuf h;
    sbuf_init(&h, 65536);
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(auth("http://127.0.0.1:2358", "s3cret", &h, msg), APP_OK);
    assert_string_equal(sbuf_str(&h), "X-Auth-Token: s3cret\n");
    assert_int_equal(auth("http://127.0.0.1:2358", NULL, &h, msg), APP_OK);
    assert_string_equal(sbuf_str(&h), "");
    assert_int_equal(auth("http://127.0.0.1:2358", "", &h, msg), APP_OK);
    assert_string_equal(sbuf_str(&h), "");
    assert_int_equal(auth("https://judge0-ce.p.rapidapi.com", "rk", &h, msg), APP_OK);
    assert_string_equal(sbuf_str(&h),
                        "X-RapidAPI-Key: rk\nX-RapidAPI-Host: judge0-ce.p.rapidapi.com\n");
    /* The host, case-folded and without port or path. */
    assert_int_equal(auth("https://Judge0-Extra-CE.P.RapidAPI.com:443/api", "rk", &h, msg), APP_OK);
    assert_string_equal(sbuf_str(&h),
                        "X-RapidAPI-Key: rk\nX-RapidAPI-Host: judge0-extra-ce.p.rapidapi.com\n");
    /* Look-alikes are self-hosted servers: they get X-Auth-Token. */
    const char *lookalikes[] = {"https://rapidapi.com.evil.example", "https://evilrapidapi.com",
                                "https://judge0.example/rapidapi.com"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(auth(lookalikes[i], "k", &h, msg), APP_OK);
        assert_string_equal(sbuf_str(&h), "X-Auth-Token: k\n");
    }
    assert_int_equal(auth("http://127.0.0.1", "a\r\nX-Evil: 1", &h, msg), APP_ECONFIG);
    assert_contains(msg, "one line");
    assert_int_equal(auth("ftp://127.0.0.1", "k", &h, msg), APP_ECONFIG);
    assert_int_equal(auth("file:///etc/passwd", "k", &h, msg), APP_ECONFIG);
    assert_int_equal(auth("not a url", "k", &h, msg), APP_ECONFIG);
    sbuf_free(&h);
}

static void client_refuses_bad_settings(void **state)
{
    (void)state;
    char msg[APP_ERRMSG_LEN];
    jz_client *c = (jz_client *)1;
    jz_config bad[] = {{"ftp://127.0.0.1", NULL, 71},
                       {"http://127.0.0.1/?x=1", NULL, 71},
                       {"http://127.0.0.1/#frag", NULL, 71},
                       {"http://127.0.0.1", NULL, 0},
                       {NULL, NULL, 71}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(jz_client_new(&bad[i], &c, msg, sizeof msg), APP_ECONFIG);
        assert_null(c);
        assert_true(msg[0] != '\0');
    }
    jz_config good = {"http://127.0.0.1:1/judge0/", "k", 71};
    assert_int_equal(jz_client_new(&good, &c, msg, sizeof msg), APP_OK);
    jz_client_free(c);
    jz_client_free(NULL);
    jz_result_free(NULL);
}

/* ---- the fake Judge0 ------------------------------------------------------------------ */

static pid_t fake_pid = -1;
static char fake_dir[64], fake_url[64], log_path[128];

static int fake_start(void **state)
{
    (void)state;
    const char *root = getenv("PYSANDBOX_ROOT");
    char script[4096], port_file[128];
    snprintf(script, sizeof script, "%s/tests/fakes/judge0_fake.py", root ? root : ".");
    snprintf(fake_dir, sizeof fake_dir, "/tmp/judge0-test-XXXXXX");
    if (mkdtemp(fake_dir) == NULL)
        return -1;
    snprintf(port_file, sizeof port_file, "%s/port", fake_dir);
    snprintf(log_path, sizeof log_path, "%s/log", fake_dir);
    char py[] = "/usr/bin/python3", port_opt[] = "--port", zero[] = "0", pf_opt[] = "--port-file",
         log_opt[] = "--log-file";
    char *argv[] = {py, script, port_opt, zero, pf_opt, port_file, log_opt, log_path, NULL};
    if (posix_spawn(&fake_pid, argv[0], NULL, NULL, argv, environ) != 0) {
        fprintf(stderr, "cannot start the fake Judge0\n");
        return -1;
    }
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(port_file, "r");
        unsigned port = 0;
        if (f != NULL) {
            int n = fscanf(f, "%u", &port);
            fclose(f);
            if (n == 1 && port > 0) {
                snprintf(fake_url, sizeof fake_url, "http://127.0.0.1:%u", port);
                /* Loopback never goes through a proxy a developer may have set. */
                setenv("no_proxy", "127.0.0.1,localhost", 1);
                unsetenv("http_proxy");
                unsetenv("HTTP_PROXY");
                unsetenv("all_proxy");
                unsetenv("ALL_PROXY");
                return 0;
            }
        }
        usleep(50000);
    }
    fprintf(stderr, "the fake Judge0 did not start\n");
    return -1;
}

static int fake_stop(void **state)
{
    (void)state;
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
        fake_pid = -1;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/port", fake_dir);
    unlink(path);
    unlink(log_path);
    rmdir(fake_dir);
    return 0;
}

static void log_reset(void)
{
    FILE *f = fopen(log_path, "w");
    if (f != NULL)
        fclose(f);
}

/* The fake's request log: one JSON object a line. Caller frees. */
static char *log_read(void)
{
    FILE *f = fopen(log_path, "r");
    assert_non_null(f);
    sbuf b;
    sbuf_init(&b, 64u * 1024 * 1024);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(sbuf_append(&b, chunk, n), APP_OK);
    fclose(f);
    char *s = sbuf_detach(&b, NULL);
    assert_non_null(s);
    return s;
}

/* The first logged request of a method, parsed. Caller frees with cJSON_Delete. */
static cJSON *log_first(const char *method)
{
    char *all = log_read();
    cJSON *found = NULL;
    for (char *line = all; *line != '\0' && found == NULL;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");
        if (cJSON_IsString(m) && strcmp(m->valuestring, method) == 0)
            found = j;
        else
            cJSON_Delete(j);
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    free(all);
    assert_non_null(found);
    return found;
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", name);
    return v->valuedouble;
}

/* ---- group 2: the client against the fake ---------------------------------------------- */

typedef struct run_out {
    app_err err;
    jz_result r;
    char msg[APP_ERRMSG_LEN];
    long long ms;
} run_out;

static void run_with(const char *url, const char *key, int language, const char *src,
                     const char *in, unsigned call_ms, unsigned deadline_ms, int cancel_fd,
                     run_out *o)
{
    jz_config cfg = {.url = url, .key = key, .language_id = language};
    jz_client *c = NULL;
    jz_result_init(&o->r);
    o->msg[0] = '\0';
    assert_int_equal(jz_client_new(&cfg, &c, o->msg, sizeof o->msg), APP_OK);
    jz_client_set_timeouts(c, 0, call_ms);
    jz_submission s = {.source = src,
                       .source_len = strlen(src),
                       .stdin_text = in,
                       .stdin_len = in ? strlen(in) : 0,
                       .cpu_time_limit_s = 1.5,
                       .wall_time_limit_s = 2,
                       .memory_limit_kb = 65536};
    long long t0 = now_ms();
    o->err = jz_run(c, &s, deadline_ms, cancel_fd, &o->r, o->msg, sizeof o->msg);
    o->ms = now_ms() - t0;
    jz_client_free(c);
}

static void run_fake(const char *key, const char *src, run_out *o)
{
    run_with(fake_url, key, 71, src, NULL, 0, 15000, -1, o);
}

static void runs_python_over_judge0s_protocol(void **state)
{
    (void)state;
    log_reset();
    run_out o;
    run_with(fake_url, "ok", 71, "import sys\nprint(1)\nsys.stdout.write(sys.stdin.read())",
             "h\xc3\xa9llo", 0, 15000, -1, &o);
    assert_int_equal(o.err, APP_OK);
    assert_int_equal(o.r.status_id, 3);
    assert_string_equal(o.r.status_description, "Accepted");
    assert_string_equal(sbuf_str(&o.r.stdout_text), "1\nh\xc3\xa9llo");
    assert_int_equal(strlen(o.r.token), 36);
    assert_true(o.r.has_time && o.r.has_wall_time && o.r.has_exit_code);
    assert_int_equal(o.r.exit_code, 0);
    assert_int_equal(o.r.memory_kb, 9876);
    jz_result_free(&o.r);

    cJSON *post = log_first("POST");
    assert_string_equal(jstr(post, "path"), "/submissions?base64_encoded=true&wait=false");
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(post, "headers");
    assert_string_equal(jstr(hdrs, "x-auth-token"), "ok");
    assert_string_equal(jstr(hdrs, "content-type"), "application/json");
    assert_null(jstr(hdrs, "x-rapidapi-key"));
    cJSON *body = cJSON_Parse(jstr(post, "body"));
    assert_non_null(body);
    assert_int_equal((int)jnum(body, "language_id"), 71);
    assert_true(jnum(body, "cpu_time_limit") == 1.5);
    assert_true(jnum(body, "wall_time_limit") == 2.0);
    assert_int_equal((int)jnum(body, "memory_limit"), 65536);
    assert_string_equal(jstr(body, "stdin"), "aMOpbGxv"); /* base64 of "héllo" */
    cJSON_Delete(body);
    cJSON_Delete(post);
    cJSON *get = log_first("GET");
    char want[160];
    snprintf(want, sizeof want, "/submissions/%.36s?base64_encoded=true&fields=", o.r.token);
    assert_contains(jstr(get, "path"), "?base64_encoded=true&fields=token,status,stdout,stderr,"
                                       "compile_output,message,time,wall_time,memory,exit_code,"
                                       "exit_signal");
    assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(get, "headers"), "x-auth-token"),
                        "ok");
    cJSON_Delete(get);
}

static void sends_no_auth_header_without_a_key(void **state)
{
    (void)state;
    log_reset();
    run_out o;
    run_fake(NULL, "print(2)", &o);
    assert_int_equal(o.err, APP_OK);
    assert_string_equal(sbuf_str(&o.r.stdout_text), "2\n");
    jz_result_free(&o.r);
    char *all = log_read();
    assert_not_contains(all, "x-auth-token");
    assert_not_contains(all, "x-rapidapi");
    free(all);
}

static void long_and_binary_output_survives_mime_base64(void **state)
{
    (void)state;
    run_out o;
    run_fake("ok",
             "import sys\nprint('x' * 5000)\nsys.stdout.flush()\n"
             "sys.stdout.buffer.write(b'\\xfe\\xff\\x00end')",
             &o);
    assert_int_equal(o.err, APP_OK);
    assert_int_equal(o.r.stdout_text.len, 5001 + 6);
    for (size_t i = 0; i < 5000; i++)
        if (o.r.stdout_text.data[i] != 'x')
            fail_msg("byte %zu differs", i);
    assert_memory_equal(o.r.stdout_text.data + 5000, "\n\xfe\xff\0end", 7);
    jz_result_free(&o.r);
}

static void maps_misbehaviours_to_app_errors(void **state)
{
    (void)state;
    struct {
        const char *mode;
        app_err err;
        const char *needle;
    } cases[] = {
        {"e401", APP_ECONFIG, "refused our credentials"},
        {"e403", APP_ECONFIG, "refused our credentials"},
        {"e429", APP_EBUSY, "429"},
        {"e503", APP_EUNAVAIL, "queue is full"},
        {"e500", APP_EUPSTREAM, "HTTP 500"},
        {"badjson", APP_EUPSTREAM, "not valid JSON"},
        {"bigbody", APP_EUPSTREAM, "too large"},
        {"ctype", APP_EUPSTREAM, "text/html"},
        {"ctypepost", APP_EUPSTREAM, "text/html"},
        {"badfields", APP_EUPSTREAM, "malformed \"status\""},
        {"badb64", APP_EUPSTREAM, "invalid base64"},
        {"badtoken", APP_EUPSTREAM, "token"},
        {"redirect", APP_EUPSTREAM, "redirect"},
        {"lost", APP_EUPSTREAM, "HTTP 404"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_out o;
        run_fake(cases[i].mode, "print(1)", &o);
        if (o.err != cases[i].err || strstr(o.msg, cases[i].needle) == NULL)
            fail_msg("%s: got %s \"%s\"", cases[i].mode, app_errcode(o.err), o.msg);
        assert_true(o.ms < 10000);
        jz_result_free(&o.r);
    }
}

static void quotes_judge0s_422_text(void **state)
{
    (void)state;
    run_out o;
    run_with(fake_url, "ok", 9999, "print(1)", NULL, 0, 10000, -1, &o);
    assert_int_equal(o.err, APP_EUPSTREAM);
    assert_contains(o.msg, "HTTP 422");
    assert_contains(o.msg, "language_id: language with id 9999 doesn't exist");
    jz_result_free(&o.r);
}

static void refused_connection_is_unavailable(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    close(s); /* nothing listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(sa.sin_port));
    run_out o;
    run_with(url, "ok", 71, "print(1)", NULL, 0, 10000, -1, &o);
    assert_int_equal(o.err, APP_EUNAVAIL);
    assert_contains(o.msg, "unreachable");
    jz_result_free(&o.r);
}

static void a_submission_that_never_finishes_hits_the_deadline(void **state)
{
    (void)state;
    run_out o;
    run_with(fake_url, "hang", 71, "print(1)", NULL, 0, 1500, -1, &o);
    assert_int_equal(o.err, APP_ETIMEOUT);
    assert_contains(o.msg, "In Queue");
    assert_true(o.ms >= 1400 && o.ms < 1500 + 1500);
    jz_result_free(&o.r);
}

static void a_slow_server_hits_the_per_call_timeout(void **state)
{
    (void)state;
    run_out o;
    run_with(fake_url, "slow", 71, "print(1)", NULL, 700, 20000, -1, &o);
    assert_int_equal(o.err, APP_ETIMEOUT);
    assert_contains(o.msg, "did not answer a request within 700 ms");
    assert_true(o.ms < 700 + 1500);
    jz_result_free(&o.r);
    /* A slow poll cannot hold us past the overall deadline either. */
    run_with(fake_url, "slowpoll", 71, "print(1)", NULL, 0, 1500, -1, &o);
    assert_int_equal(o.err, APP_ETIMEOUT);
    assert_contains(o.msg, "deadline");
    assert_true(o.ms < 1500 + 1500);
    jz_result_free(&o.r);
}

static void rate_limited_polls_are_retried(void **state)
{
    (void)state;
    log_reset();
    run_out o;
    run_fake("poll429", "print(3)", &o);
    assert_int_equal(o.err, APP_OK);
    assert_string_equal(sbuf_str(&o.r.stdout_text), "3\n");
    jz_result_free(&o.r);
}

static void judge0_failures_are_returned_as_statuses(void **state)
{
    (void)state;
    run_out o;
    run_fake("s13", "print(1)", &o);
    assert_int_equal(o.err, APP_OK);
    assert_int_equal(o.r.status_id, 13);
    assert_contains(sbuf_str(&o.r.message), "rb_sysopen");
    jz_result_free(&o.r);
    run_fake("s6", "print(1)", &o);
    assert_int_equal(o.err, APP_OK);
    assert_int_equal(o.r.status_id, 6);
    assert_contains(sbuf_str(&o.r.compile_output), "SyntaxError");
    jz_result_free(&o.r);
}

/* A descriptor that becomes readable after ms, as nginx's connection does
 * when the HTTP client goes away. */
static int cancel_after(long ms)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    assert_true(tfd >= 0);
    struct itimerspec its = {.it_value = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L}};
    assert_int_equal(timerfd_settime(tfd, 0, &its, NULL), 0);
    return tfd;
}

static void the_cancel_fd_ends_the_wait(void **state)
{
    (void)state;
    /* Cancelled while sleeping between polls of a submission that never ends. */
    int tfd = cancel_after(300);
    run_out o;
    run_with(fake_url, "hang", 71, "print(1)", NULL, 0, 10000, tfd, &o);
    close(tfd);
    assert_int_equal(o.err, APP_EIO);
    assert_contains(o.msg, "cancelled");
    assert_true(o.ms >= 250 && o.ms < 3000);
    jz_result_free(&o.r);
    /* Cancelled while a call is in flight (the create answers after 5 s). */
    tfd = cancel_after(300);
    run_with(fake_url, "slow", 71, "print(1)", NULL, 0, 10000, tfd, &o);
    close(tfd);
    assert_int_equal(o.err, APP_EIO);
    assert_contains(o.msg, "cancelled");
    assert_true(o.ms >= 250 && o.ms < 3000);
    jz_result_free(&o.r);
}

static void rapidapi_hosts_get_rapidapi_headers(void **state)
{
    (void)state;
    /* The fake doubles as an HTTP proxy, so a made-up RapidAPI host name
     * reaches it without DNS; libcurl takes the proxy from http_proxy. */
    log_reset();
    setenv("http_proxy", fake_url, 1);
    run_out o;
    run_with("http://judge0-ce.p.rapidapi.com", "rk-123", 71, "print(4)", NULL, 0, 15000, -1, &o);
    unsetenv("http_proxy");
    assert_int_equal(o.err, APP_OK);
    assert_string_equal(sbuf_str(&o.r.stdout_text), "4\n");
    jz_result_free(&o.r);
    cJSON *post = log_first("POST");
    assert_string_equal(jstr(post, "host"), "judge0-ce.p.rapidapi.com");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(post, "headers");
    assert_string_equal(jstr(h, "x-rapidapi-key"), "rk-123");
    assert_string_equal(jstr(h, "x-rapidapi-host"), "judge0-ce.p.rapidapi.com");
    assert_null(jstr(h, "x-auth-token"));
    cJSON_Delete(post);
    cJSON *get = log_first("GET");
    h = cJSON_GetObjectItemCaseSensitive(get, "headers");
    assert_string_equal(jstr(h, "x-rapidapi-key"), "rk-123");
    cJSON_Delete(get);
}

/* ---- group 3: the engine against the fake ------------------------------------------------ */

typedef struct eng_env {
    const char *url, *key;
} eng_env;

static const char *eng_lookup(const char *name, void *ctx)
{
    const eng_env *e = ctx;
    if (strcmp(name, "JUDGE0_API_URL") == 0)
        return e->url;
    if (strcmp(name, "JUDGE0_API_KEY") == 0)
        return e->key;
    if (strcmp(name, "JUDGE0_MAX_WALL_TIME") == 0)
        return "5";
    if (strcmp(name, "JUDGE0_MAX_MEMORY_MB") == 0)
        return "512";
    return NULL;
}

typedef struct eng_out {
    app_err err;
    char msg[APP_ERRMSG_LEN];
    sbuf raw;
    cJSON *json; /* the answer, parsed after js_validate accepted it */
    long long ms;
} eng_out;

static void engine_run(const char *url, const char *key, const char *code, const char *data,
                       unsigned wall_ms, unsigned memory_mb, bool program, eng_out *o)
{
    conf c;
    eng_env env = {url, key};
    const char *root = getenv("PYSANDBOX_ROOT");
    assert_int_equal(conf_load(&c, root ? root : ".", eng_lookup, &env, o->msg, sizeof o->msg),
                     APP_OK);
    native_job job = {.code = code,
                      .code_len = strlen(code),
                      .data = data,
                      .data_len = data ? strlen(data) : 0,
                      .wall_ms = wall_ms,
                      .memory_mb = memory_mb,
                      .program = program};
    sbuf_init(&o->raw, 64u * 1024 * 1024);
    o->json = NULL;
    o->msg[0] = '\0';
    long long t0 = now_ms();
    o->err = jeng_run(&c, &job, -1, &o->raw, o->msg, sizeof o->msg);
    o->ms = now_ms() - t0;
    conf_free(&c);
    if (o->err == APP_OK) {
        js_span root_span;
        char why[APP_ERRMSG_LEN];
        if (js_validate(o->raw.data, o->raw.len, &root_span, why, sizeof why) != APP_OK)
            fail_msg("the answer is not valid JSON (%s): %s", why, sbuf_str(&o->raw));
        o->json = cJSON_Parse(sbuf_str(&o->raw));
        assert_non_null(o->json);
    }
}

static void engine_free(eng_out *o)
{
    cJSON_Delete(o->json);
    sbuf_free(&o->raw);
}

static const cJSON *jget(const cJSON *o, const char *path)
{
    /* "a.b.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part != NULL;
         part = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, part);
    if (cur == NULL)
        fail_msg("no %s", path);
    return cur;
}

static const char *jgets(const cJSON *o, const char *path)
{
    const cJSON *v = jget(o, path);
    if (!cJSON_IsString(v))
        fail_msg("%s is not a string", path);
    return v->valuestring;
}

static double jgetn(const cJSON *o, const char *path)
{
    const cJSON *v = jget(o, path);
    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", path);
    return v->valuedouble;
}

static void engine_runs_code_with_data_and_result(void **state)
{
    (void)state;
    log_reset();
    eng_out o;
    engine_run(fake_url, "ok",
               "import sys\nprint('hi', data['name'])\nprint('note', file=sys.stderr)\n"
               "__result__ = {'sum': data['a'] + data['b'], 'list': [1, 'two']}",
               "{\"name\":\"Zo\xc3\xab\",\"a\":1,\"b\":2.5}", 2000, 128, false, &o);
    if (o.err != APP_OK)
        fail_msg("%s: %s", app_errcode(o.err), o.msg);
    assert_true(cJSON_IsTrue(jget(o.json, "success")));
    assert_string_equal(jgets(o.json, "status"), "ok");
    assert_string_equal(jgets(o.json, "output"), "hi Zo\xc3\xab\n");
    assert_string_equal(jgets(o.json, "stderr"), "note\n");
    assert_true(cJSON_IsNull(jget(o.json, "error")));
    assert_true(jgetn(o.json, "result.sum") == 3.5);
    assert_int_equal(cJSON_GetArraySize(jget(o.json, "result.list")), 2);
    assert_int_equal(cJSON_GetArraySize(jget(o.json, "charts")), 0);
    assert_true(jgetn(o.json, "executionTime") >= 0);
    assert_string_equal(jgets(o.json, "engine"), "judge0");
    assert_int_equal((int)jgetn(o.json, "metadata.judge0.statusId"), 3);
    assert_string_equal(jgets(o.json, "metadata.judge0.status"), "Accepted");
    assert_int_equal(strlen(jgets(o.json, "metadata.judge0.token")), 36);
    assert_int_equal((int)jgetn(o.json, "metadata.judge0.memoryKb"), 9876);
    assert_int_equal((int)jgetn(o.json, "metadata.judge0.exitCode"), 0);
    assert_true(cJSON_IsNull(jget(o.json, "metadata.judge0.exitSignal")));
    assert_int_equal((int)jgetn(o.json, "metadata.limits.wallTimeMs"), 2000);
    assert_int_equal((int)jgetn(o.json, "metadata.limits.memoryMb"), 128);
    engine_free(&o);
    /* The limits Judge0 was asked for, and the stdin the driver reads. */
    cJSON *post = log_first("POST");
    cJSON *body = cJSON_Parse(jstr(post, "body"));
    assert_true(jnum(body, "wall_time_limit") == 2.0);
    assert_true(jnum(body, "cpu_time_limit") == 2.0);
    assert_int_equal((int)jnum(body, "memory_limit"), 128 * 1024);
    assert_int_equal((int)jnum(body, "language_id"), 71);
    cJSON_Delete(body);
    cJSON_Delete(post);
}

static void engine_reports_user_errors(void **state)
{
    (void)state;
    eng_out o;
    engine_run(fake_url, "ok", "x = 1\nprint('before')\n1 / 0\n", NULL, 2000, 128, false, &o);
    assert_int_equal(o.err, APP_OK);
    assert_false(cJSON_IsTrue(jget(o.json, "success")));
    assert_string_equal(jgets(o.json, "status"), "error");
    assert_string_equal(jgets(o.json, "output"), "before\n");
    assert_string_equal(jgets(o.json, "error.type"), "ZeroDivisionError");
    assert_contains(jgets(o.json, "error.traceback"), "ZeroDivisionError");
    assert_int_equal((int)jgetn(o.json, "error.line"), 3);
    engine_free(&o);
}

static void engine_maps_judge0_statuses(void **state)
{
    (void)state;
    struct {
        const char *key, *code;
        const char *status, *etype, *needle;
        int status_id;
    } cases[] = {
        {"ok", "while True:\n    pass\n", "timeout", "TimeoutError", "time limit", 5},
        {"ok", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "killed", "Crash",
         "SIGSEGV", 7},
        {"ok", "import os, signal\nos.kill(os.getpid(), signal.SIGABRT)\n", "killed", "Crash",
         "SIGABRT", 10},
        {"ok",
         "import os, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
         "os.kill(os.getpid(), signal.SIGXFSZ)\n",
         "output_limit", "OutputLimitExceeded", "file-size limit", 8},
        {"ok", "import os\nos._exit(137)\n", "memory_limit", "MemoryError", "memory limit", 11},
        {"ok", "import os\nos._exit(3)\n", "error", "SystemExit", "status 3", 11},
        {"s6", "print(1)\n", "error", "CompilationError", "SyntaxError: nope", 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eng_out o;
        engine_run(fake_url, cases[i].key, cases[i].code, NULL, 1000, 128, false, &o);
        if (o.err != APP_OK)
            fail_msg("case %zu: %s: %s", i, app_errcode(o.err), o.msg);
        assert_false(cJSON_IsTrue(jget(o.json, "success")));
        assert_string_equal(jgets(o.json, "status"), cases[i].status);
        assert_string_equal(jgets(o.json, "error.type"), cases[i].etype);
        assert_contains(jgets(o.json, "error.message"), cases[i].needle);
        assert_int_equal((int)jgetn(o.json, "metadata.judge0.statusId"), cases[i].status_id);
        assert_true(o.ms < 1000 + 10000);
        engine_free(&o);
    }
}

static void engine_takes_the_harness_result_after_nzec(void **state)
{
    (void)state;
    /* A non-zero exit after the result was printed (Judge0 says 11): the
     * harness's answer stands. */
    eng_out o;
    engine_run(fake_url, "nzec", "print('fine')\n__result__ = 7\n", NULL, 2000, 128, false, &o);
    assert_int_equal(o.err, APP_OK);
    assert_string_equal(jgets(o.json, "status"), "ok");
    assert_true(cJSON_IsTrue(jget(o.json, "success")));
    assert_string_equal(jgets(o.json, "output"), "fine\n");
    assert_true(jgetn(o.json, "result") == 7);
    assert_int_equal((int)jgetn(o.json, "metadata.judge0.statusId"), 11);
    assert_int_equal((int)jgetn(o.json, "metadata.judge0.exitCode"), 1);
    engine_free(&o);
}

static void engine_output_that_is_not_utf8_is_still_json(void **state)
{
    (void)state;
    eng_out o;
    engine_run(fake_url, "ok", "import os\nos.write(1, b'raw\\xff\\xfe\\n')\nprint('captured')\n",
               NULL, 2000, 128, false, &o);
    assert_int_equal(o.err, APP_OK); /* engine_run checked js_validate */
    assert_string_equal(jgets(o.json, "output"), "raw\xef\xbf\xbd\xef\xbf\xbd\ncaptured\n");
    assert_string_equal(jgets(o.json, "status"), "ok");
    engine_free(&o);
}

static void engine_failures_of_judge0_are_upstream_errors(void **state)
{
    (void)state;
    struct {
        const char *key;
        app_err err;
        const char *needle;
    } cases[] = {
        {"s13", APP_EUPSTREAM, "Internal Error"},
        {"s14", APP_EUPSTREAM, "Exec Format Error"},
        {"e429", APP_EBUSY, "429"},
        {"e503", APP_EUNAVAIL, "queue is full"},
        {"e401", APP_ECONFIG, "credentials"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eng_out o;
        engine_run(fake_url, cases[i].key, "print(1)", NULL, 1000, 128, false, &o);
        if (o.err != cases[i].err || strstr(o.msg, cases[i].needle) == NULL)
            fail_msg("%s: got %s \"%s\"", cases[i].key, app_errcode(o.err), o.msg);
        assert_int_equal(o.raw.len, 0);
        engine_free(&o);
    }
}

static void engine_refuses_what_it_cannot_run(void **state)
{
    (void)state;
    eng_out o;
    engine_run(fake_url, "ok", "print(1)", NULL, 6000, 128, false, &o);
    assert_int_equal(o.err, APP_EREFUSED);
    assert_contains(o.msg, "maxExecutionTime");
    engine_free(&o);
    engine_run(fake_url, "ok", "print(1)", NULL, 1000, 1024, false, &o);
    assert_int_equal(o.err, APP_EREFUSED);
    assert_contains(o.msg, "maxMemoryUsage");
    engine_free(&o);
    engine_run(fake_url, "ok", "print(1)", NULL, 1000, 128, true, &o);
    assert_int_equal(o.err, APP_EREFUSED);
    engine_free(&o);
    engine_run(NULL, NULL, "print(1)", NULL, 1000, 128, false, &o);
    assert_int_equal(o.err, APP_EUNAVAIL);
    assert_contains(o.msg, "not configured");
    engine_free(&o);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(names_every_status_as_judge0_does),
        cmocka_unit_test(decodes_a_judge0_body_from_the_docs),
        cmocka_unit_test(decodes_wrapped_base64_and_keeps_any_bytes),
        cmocka_unit_test(decodes_nulls_and_status_id_variants),
        cmocka_unit_test(refuses_malformed_bodies_with_a_reason),
        cmocka_unit_test(chooses_the_authentication_headers),
        cmocka_unit_test(client_refuses_bad_settings),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(runs_python_over_judge0s_protocol),
        cmocka_unit_test(sends_no_auth_header_without_a_key),
        cmocka_unit_test(long_and_binary_output_survives_mime_base64),
        cmocka_unit_test(maps_misbehaviours_to_app_errors),
        cmocka_unit_test(quotes_judge0s_422_text),
        cmocka_unit_test(refused_connection_is_unavailable),
        cmocka_unit_test(a_submission_that_never_finishes_hits_the_deadline),
        cmocka_unit_test(a_slow_server_hits_the_per_call_timeout),
        cmocka_unit_test(rate_limited_polls_are_retried),
        cmocka_unit_test(judge0_failures_are_returned_as_statuses),
        cmocka_unit_test(the_cancel_fd_ends_the_wait),
        cmocka_unit_test(rapidapi_hosts_get_rapidapi_headers),
        cmocka_unit_test(engine_runs_code_with_data_and_result),
        cmocka_unit_test(engine_reports_user_errors),
        cmocka_unit_test(engine_maps_judge0_statuses),
        cmocka_unit_test(engine_takes_the_harness_result_after_nzec),
        cmocka_unit_test(engine_output_that_is_not_utf8_is_still_json),
        cmocka_unit_test(engine_failures_of_judge0_are_upstream_errors),
        cmocka_unit_test(engine_refuses_what_it_cannot_run),
    };
    int failed = cmocka_run_group_tests_name("judge0 (no server)", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("judge0 (fake server)", live, fake_start, fake_stop);
    return failed;
}
