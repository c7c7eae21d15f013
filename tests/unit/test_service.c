/* test_service.c - the whole HTTP service, driven without FastCGI. */
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "service.h"
#include "unit.h"

typedef struct fixture {
    conf c;
    svc *s;
    http_resp resp;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char msg[APP_ERRMSG_LEN] = "PYSANDBOX_ROOT is not set";
    const char *root = getenv("PYSANDBOX_ROOT");
    char pyodide[4096];
    /* The lockfile of the unit-test data stands for a Pyodide download. */
    snprintf(pyodide, sizeof pyodide, "%s/tests/unit/data/pyodide-dist", root ? root : ".");
    setenv("PYSANDBOX_PYODIDE_DIR", pyodide, 0);
    if (f == NULL || root == NULL ||
        conf_load(&f->c, root, NULL, NULL, msg, sizeof msg) != APP_OK ||
        svc_new(&f->c, &f->s, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "setup: %s\n", msg);
        if (f != NULL)
            conf_free(&f->c);
        free(f);
        return -1;
    }
    http_resp_init(&f->resp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    http_resp_free(&f->resp);
    svc_free(f->s);
    conf_free(&f->c);
    free(f);
    return 0;
}

static http_resp *send(fixture *f, const char *method, const char *path, const char *ctype,
                       const char *body, size_t len)
{
    http_req req = {.method = method,
                    .path = path,
                    .query = "",
                    .content_type = ctype,
                    .host = "localhost",
                    .scheme = "http",
                    .remote_addr = "127.0.0.1",
                    .body = body,
                    .body_len = len,
                    .cancel_fd = -1};
    svc_handle(f->s, &req, &f->resp);
    return &f->resp;
}

static http_resp *post_json(fixture *f, const char *path, const char *body)
{
    return send(f, "POST", path, "application/json", body, strlen(body));
}

static const char *body_of(http_resp *r)
{
    return sbuf_str(&r->body);
}

static void get_renders_the_page_with_security_headers(void **state)
{
    fixture *f = *state;
    http_resp *r = send(f, "GET", "/api/insights/python-sandbox", "", "", 0);
    assert_int_equal(r->status, 200);
    const char *h = sbuf_str(&r->headers);
    assert_contains(h, "Content-Type: text/html; charset=utf-8");
    assert_contains(h, "'wasm-unsafe-eval'");
    assert_contains(h, "frame-ancestors 'self'");
    assert_contains(h, "Cross-Origin-Opener-Policy: same-origin");
    assert_contains(h, "Cross-Origin-Embedder-Policy: require-corp");
    assert_contains(h, "Cache-Control: no-store");
    assert_not_contains(h, "unsafe-inline");
    assert_contains(body_of(r), "id=\"pysb-data\">[]</script>");
    assert_contains(body_of(r), "\"pyodideUrl\":\"/pyodide/" PYODIDE_VERSION "/\"");
}

static void post_embeds_code_and_data_inertly(void **state)
{
    fixture *f = *state;
    const char *req =
        "{\"code\":\"print('</script><script>alert(1)</script>')\","
        "\"data\":[{\"x\":\"</script><!--<script>\",\"n\":1.0,\"u\":\"\\u2028\xe2\x80\xa9\","
        "\"z\":\"\\u0000\"}]}";
    http_resp *r = post_json(f, "/api/insights/python-sandbox", req);
    assert_int_equal(r->status, 200);
    const char *b = body_of(r);
    /* Exactly three </script> closers of our own in the head, and user text never closes one. */
    const char *data = strstr(b, "id=\"pysb-data\">");
    assert_non_null(data);
    assert_contains(data, "[{\"x\":\"\\u003c/script\\u003e\\u003c!--\\u003cscript\\u003e\","
                          "\"n\":1.0,\"u\":\"\\u2028\\u2029\",\"z\":\"\\u0000\"}]</script>");
    assert_not_contains(b, "<script>alert");
    assert_contains(b, "print('\\u003c/script\\u003e\\u003cscript\\u003ealert(1)");
}

static void form_posts_work_like_json(void **state)
{
    fixture *f = *state;
    const char *form = "code=print%28len%28data%29%29&data=%5B%7B%22a%22%3A1%7D%5D";
    http_resp *r = send(f, "POST", "/api/insights/python-sandbox",
                        "application/x-www-form-urlencoded", form, strlen(form));
    assert_int_equal(r->status, 200);
    assert_contains(body_of(r), "\"code\":\"print(len(data))\"");
    assert_contains(body_of(r), "id=\"pysb-data\">[{\"a\":1}]</script>");
}

static void bad_requests_get_clear_json_errors(void **state)
{
    fixture *f = *state;
    struct {
        const char *body;
        int status;
        const char *code, *text;
    } cases[] = {
        {"{\"code\": 1}", 400, "invalid_field", "field 'code' must be a string, not number"},
        {"{\"code\": \"x\", \"data\": {}}", 400, "invalid_field", "must be an array of objects"},
        {"{\"data\": [1, 2]}", 400, "invalid_field", "element 0 is number"},
        {"{\"cod\": \"x\"}", 400, "invalid_field", "unknown field 'cod'"},
        {"{\"code\": \"x\"", 400, "invalid_json", "malformed JSON"},
        {"{\"code\": \"\xff\"}", 400, "invalid_utf8", "UTF-8"},
        {"{\"code\": \"a\\u0000\"}", 400, "invalid_field", "NUL"},
        {"[]", 400, "invalid_field", "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_resp *r = post_json(f, "/api/insights/python-sandbox", cases[i].body);
        if (r->status != cases[i].status || strstr(body_of(r), cases[i].code) == NULL ||
            strstr(body_of(r), cases[i].text) == NULL)
            fail_msg("%s -> %d %s", cases[i].body, r->status, body_of(r));
        assert_contains(sbuf_str(&r->headers), "application/json");
    }
    http_resp *r = send(f, "POST", "/api/insights/python-sandbox", "text/plain", "x", 1);
    assert_int_equal(r->status, 415);
}

static void batch_analyze_generates_a_program(void **state)
{
    fixture *f = *state;
    http_resp *r = post_json(f, "/api/insights/batch-analyze",
                             "{\"data\":[{\"a\":1},{\"a\":2}],\"analysisType\":\"correlation\"}");
    assert_int_equal(r->status, 200);
    assert_contains(body_of(r), "run_analysis(data, \\\"correlation\\\")");
    assert_contains(body_of(r), "\"autorun\":true");

    r = post_json(f, "/api/insights/batch-analyze", "{\"documents\":[\"a b\", {\"text\":\"c\"}]}");
    assert_int_equal(r->status, 200);
    assert_contains(body_of(r), "\"analysisType\":\"descriptive\"");

    r = post_json(f, "/api/insights/batch-analyze", "{\"data\":[],\"analysisType\":\"astrology\"}");
    assert_int_equal(r->status, 400);
    assert_contains(body_of(r), "unknown analysisType 'astrology'");

    r = post_json(f, "/api/insights/batch-analyze", "{\"analysisType\":\"descriptive\"}");
    assert_int_equal(r->status, 400);
    assert_contains(body_of(r), "exactly one of 'data'");
}

static void unknown_routes_and_methods(void **state)
{
    fixture *f = *state;
    http_resp *r = send(f, "GET", "/api/nope", "", "", 0);
    assert_int_equal(r->status, 404);
    assert_contains(body_of(r), "\"code\":\"not_found\"");

    r = send(f, "DELETE", "/api/insights/python-sandbox", "", "", 0);
    assert_int_equal(r->status, 405);
    assert_contains(sbuf_str(&r->headers), "Allow: GET, HEAD, POST");

    r = send(f, "GET", "/api/insights/batch-analyze", "", "", 0);
    assert_int_equal(r->status, 405);
    assert_contains(sbuf_str(&r->headers), "Allow: POST");

    /* Asynchronous executions: the collection takes POST, a run GET and
     * DELETE; a malformed id is unknown (answered without the store). */
    r = send(f, "GET", "/api/python/executions", "", "", 0);
    assert_int_equal(r->status, 405);
    assert_contains(sbuf_str(&r->headers), "Allow: POST");
    r = send(f, "PUT", "/api/python/executions/0123456789abcdef0123456789abcdef", "", "", 0);
    assert_int_equal(r->status, 405);
    assert_contains(sbuf_str(&r->headers), "Allow: GET, HEAD, DELETE");
    static const char *const malformed[] = {"", "0123", "0123456789ABCDEF0123456789ABCDEF",
                                            "0123456789abcdef0123456789abcdef0",
                                            "0123456789abcdef0123456789abcdeg", "x/y"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/python/executions/%s", malformed[i]);
        r = send(f, i % 2 ? "DELETE" : "GET", path, "", "", 0);
        assert_int_equal(r->status, 404);
        assert_contains(body_of(r), "\"code\":\"not_found\"");
    }

    size_t cap = 0;
    assert_int_equal(svc_body_limit(f->s, "POST", "/api/insights/batch-analyze", &cap), APP_OK);
    assert_int_equal(cap, f->c.max_body);
    assert_int_equal(svc_body_limit(f->s, "GET", "/api/x", &cap), APP_ENOTFOUND);
}

static void oversized_bodies_are_refused(void **state)
{
    fixture *f = *state;
    size_t n = f->c.max_body + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    big[n] = '\0';
    http_resp *r = send(f, "POST", "/api/insights/python-sandbox", "application/json", big, n);
    assert_int_equal(r->status, 413);
    assert_contains(body_of(r), "payload_too_large");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_renders_the_page_with_security_headers),
        cmocka_unit_test(post_embeds_code_and_data_inertly),
        cmocka_unit_test(form_posts_work_like_json),
        cmocka_unit_test(bad_requests_get_clear_json_errors),
        cmocka_unit_test(batch_analyze_generates_a_program),
        cmocka_unit_test(unknown_routes_and_methods),
        cmocka_unit_test(oversized_bodies_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
