/* test_mcp.c - the MCP endpoint (mcp.c) over a real store file, with the
 * tools' sub-requests answered by a stand-in; and its sessions in the store
 * (hist_mcp.c).  The same endpoint against the real service and the
 * official SDK client: tests/http/test_mcp.py, tests/browser/mcp.test.mjs. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hist_mcp.h"
#include "jscan.h"
#include "mcp.h"
#include "unit.h"

typedef struct fixture {
    char path[64];
    hist *db;
    http_resp resp;
    /* What the stand-in saw and answers. */
    char sub_method[16];
    char sub_path[128];
    char sub_query[256];
    char sub_body[512];
    int sub_status;
    const char *sub_answer;
    int subrequests;
    char session[HIST_MCP_ID_LEN + 1];
} fixture;

static void fake_subrequest(void *ctx, const http_req *req, http_resp *resp)
{
    fixture *f = ctx;
    f->subrequests++;
    snprintf(f->sub_method, sizeof f->sub_method, "%s", req->method);
    snprintf(f->sub_path, sizeof f->sub_path, "%s", req->path);
    snprintf(f->sub_query, sizeof f->sub_query, "%s", req->query);
    snprintf(f->sub_body, sizeof f->sub_body, "%.*s", (int)req->body_len, req->body);
    http_resp_reset(resp);
    resp->status = f->sub_status;
    assert_int_equal(sbuf_puts(&resp->body, f->sub_answer), APP_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char msg[APP_ERRMSG_LEN];
    snprintf(f->path, sizeof f->path, "/tmp/test_mcp.%d.db", (int)getpid());
    if (hist_open(f->path, &f->db, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "setup: %s\n", msg);
        free(f);
        return -1;
    }
    http_resp_init(&f->resp);
    f->sub_status = 200;
    f->sub_answer = "{\"success\":true,\"status\":\"ok\",\"output\":\"1\\n\",\"charts\":"
                    "[{\"format\":\"png\",\"data\":\"iVBORw0K\",\"width\":1}],\"result\":12345678901234567890}";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    http_resp_free(&f->resp);
    hist_close(f->db);
    char p[96];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    free(f);
    return 0;
}

static http_resp *call(fixture *f, const char *method, const char *session, const char *origin,
                       const char *body)
{
    http_req req = {.method = method,
                    .path = "/mcp",
                    .query = "",
                    .content_type = "application/json",
                    .host = "localhost:8080",
                    .scheme = "http",
                    .remote_addr = "127.0.0.1",
                    .body = body,
                    .body_len = strlen(body),
                    .cancel_fd = -1,
                    .accept = "application/json, text/event-stream",
                    .origin = origin,
                    .mcp_session = session,
                    .mcp_protocol = ""};
    mcp_env env = {.db = f->db, .subrequest = fake_subrequest, .ctx = f};
    mcp_serve(&env, &req, &f->resp);
    assert_int_equal(sbuf_putc(&f->resp.body, '\0'), APP_OK); /* for strstr */
    return &f->resp;
}

/* Starts a session and keeps its id in f->session. */
static void initialize(fixture *f)
{
    http_resp *r = call(f, "POST", "", "",
                        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
                        "{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{}}}");
    assert_int_equal(r->status, 200);
    assert_contains(r->body.data, "\"protocolVersion\":\"2025-03-26\"");
    const char *h = strstr(r->headers.data, "Mcp-Session-Id: ");
    assert_non_null(h);
    memcpy(f->session, h + 16, HIST_MCP_ID_LEN);
    f->session[HIST_MCP_ID_LEN] = '\0';
}

static void test_initialize_negotiates_and_sessions_are_required(void **state)
{
    fixture *f = *state;
    initialize(f);
    http_resp *r = call(f, "POST", "", "", "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"initialize\","
                                           "\"params\":{\"protocolVersion\":\"1999-01-01\"}}");
    assert_contains(r->body.data, "\"id\":\"a\"");
    assert_contains(r->body.data, "\"protocolVersion\":\"" MCP_PROTOCOL_LATEST "\"");
    r = call(f, "POST", "", "", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assert_int_equal(r->status, 400);
    r = call(f, "POST", "0123456789abcdef0123456789abcdef", "",
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assert_int_equal(r->status, 404);
    assert_contains(r->body.data, "-32001");
    r = call(f, "POST", f->session, "", "{\"jsonrpc\":\"2.0\",\"id\":1.50,\"method\":\"tools/list\"}");
    assert_int_equal(r->status, 200);
    assert_contains(r->body.data, "\"id\":1.50,"); /* echoed byte for byte */
    assert_contains(r->body.data, "\"run_python\"");
    r = call(f, "POST", f->session, "", "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_int_equal(r->status, 202);
    r = call(f, "POST", f->session, "", "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}");
    assert_int_equal(r->status, 200);
    assert_contains(r->body.data, "-32601");
    r = call(f, "DELETE", f->session, "", "");
    assert_int_equal(r->status, 204);
    r = call(f, "DELETE", f->session, "", "");
    assert_int_equal(r->status, 404);
}

static void test_malformed_messages_are_refused(void **state)
{
    fixture *f = *state;
    initialize(f);
    static const struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        {"{\"jsonrpc\":\"2.0\",", 400, "-32700"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}", 400, "-32700"},
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", 400, "batches"},
        {"{\"id\":1,\"method\":\"ping\"}", 400, "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", 400, "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", 400, "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", 400, "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", 400, "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":3}", 400, "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\"}", 200, "-32602"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}", 200,
         "unknown tool"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"run_python\","
         "\"arguments\":[]}}",
         200, "-32602"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
         "\"sandbox_execute\",\"arguments\":{\"sandbox_id\":\"../../api/health\",\"code\":\"\"}}}",
         200, "sandbox_id must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_resp *r = call(f, "POST", f->session, "", cases[i].body);
        if (r->status != cases[i].status || strstr(r->body.data, cases[i].code) == NULL)
            fail_msg("case %zu: %d %s", i, r->status, r->body.data);
        assert_contains(r->body.data, "\"jsonrpc\":\"2.0\"");
    }
    assert_int_equal(f->subrequests, 0);
    assert_int_equal(call(f, "GET", f->session, "", "")->status, 405);
    assert_int_equal(call(f, "POST", f->session, "http://evil.example", "{}")->status, 403);
    assert_int_equal(call(f, "POST", f->session, "http://localhost:8080",
                          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")->status, 200);
}

static void test_tools_are_sub_requests_with_exact_bytes(void **state)
{
    fixture *f = *state;
    initialize(f);
    http_resp *r = call(f, "POST", f->session, "",
                        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
                        "\"run_python\",\"arguments\":{\"code\":\"print(1)\",\"data\":[1.0,"
                        "12345678901234567890],\"evil\":1}}}");
    assert_int_equal(r->status, 200);
    assert_string_equal(f->sub_method, "POST");
    assert_string_equal(f->sub_path, "/api/python/execute");
    /* Only the tool's own members, their bytes unchanged. */
    assert_string_equal(f->sub_body, "{\"code\":\"print(1)\",\"data\":[1.0,12345678901234567890]}");
    assert_contains(r->body.data, "\"structuredContent\":{\"success\":true");
    assert_contains(r->body.data, "\"result\":12345678901234567890");
    assert_contains(r->body.data, "{\"type\":\"image\",\"data\":\"iVBORw0K\",\"mimeType\":\"image/png\"}");
    assert_contains(r->body.data, "\"charts\":[{\"format\":\"png\",\"width\":1}]");
    assert_contains(r->body.data, "\"isError\":false");

    f->sub_status = 404;
    f->sub_answer = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such sandbox\"}}";
    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"delete_sandbox\",\"arguments\":{\"sandbox_id\":\"0123456789abcdef0123456789abcdef\"}}}");
    assert_string_equal(f->sub_method, "DELETE");
    assert_string_equal(f->sub_path, "/sandbox/0123456789abcdef0123456789abcdef");
    assert_contains(r->body.data, "HTTP 404 not_found: no such sandbox");
    assert_contains(r->body.data, "\"isError\":true");
}

/* The tools/list answer names every tool with its schemas, as JSON. */
static void test_tools_list_has_every_tool_and_schema(void **state)
{
    static const char *const names[] = {"run_python",     "create_sandbox", "sandbox_execute",
                                        "delete_sandbox", "db_query",       "db_schema"};
    fixture *f = *state;
    initialize(f);
    http_resp *r =
        call(f, "POST", f->session, "", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assert_int_equal(r->status, 200);
    const char *doc = r->body.data;
    js_span root, result, tools, k, tool, v;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(js_validate(doc, r->body.len - 1, &root, msg, sizeof msg), APP_OK);
    js_iter it;
    bool found = false;
    js_iter_init(&it, doc, root);
    while (!found && js_iter_next(&it, &k, &result))
        found = js_string_equals(doc, k, "result");
    assert_true(found);
    assert_int_equal(result.type, JS_OBJECT);
    js_iter_init(&it, doc, result);
    assert_true(js_iter_next(&it, &k, &tools));
    assert_true(js_string_equals(doc, k, "tools"));
    assert_int_equal(tools.type, JS_ARRAY);
    size_t n = 0;
    js_iter_init(&it, doc, tools);
    while (js_iter_next(&it, &k, &tool)) {
        assert_true(n < sizeof names / sizeof names[0]);
        int have = 0;
        js_iter members;
        js_iter_init(&members, doc, tool);
        while (js_iter_next(&members, &k, &v)) {
            if (js_string_equals(doc, k, "name")) {
                assert_true(js_string_equals(doc, v, names[n]));
                have |= 1;
            } else if (js_string_equals(doc, k, "inputSchema") && v.type == JS_OBJECT) {
                have |= 2;
            } else if (js_string_equals(doc, k, "outputSchema") && v.type == JS_OBJECT) {
                have |= 4;
            } else if (js_string_equals(doc, k, "description") && v.type == JS_STRING) {
                have |= 8;
            }
        }
        if (have != 15)
            fail_msg("tool %zu (%s): members %d", n, names[n], have);
        n++;
    }
    assert_int_equal(n, sizeof names / sizeof names[0]);
    /* The database tools' arguments and results. */
    assert_contains(doc, "\"name\":\"db_query\"");
    assert_contains(doc, "\"params\":{\"type\":[\"object\",\"array\",\"null\"]");
    assert_contains(doc, "\"required\":[\"query\"]");
    assert_contains(doc,
                    "\"required\":[\"success\",\"columns\",\"rows\",\"row_count\",\"truncated\"]");
    assert_contains(doc, "\"tables_truncated\":{\"type\":\"boolean\"}");
}

static void test_database_tools_with_and_without_a_sandbox(void **state)
{
    fixture *f = *state;
    initialize(f);
    f->sub_answer = "{\"success\":true,\"columns\":[\"id\"],\"rows\":[{\"id\":1}],\"row_count\":1,"
                    "\"truncated\":false,\"duration_ms\":0.1}";
    http_resp *r =
        call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_query\",\"arguments\":{\"query\":\"SELECT id FROM users WHERE id = :id\","
             "\"params\":{\"id\":1},\"other\":2}}}");
    assert_int_equal(r->status, 200);
    assert_string_equal(f->sub_method, "POST");
    assert_string_equal(f->sub_path,
                        MCP_DB_PATH "/query"); /* no sandbox: the database on its own */
    assert_string_equal(f->sub_body, "{\"query\":\"SELECT id FROM users WHERE id = :id\","
                                     "\"params\":{\"id\":1}}");
    assert_contains(r->body.data, "\"structuredContent\":{\"success\":true,\"columns\":[\"id\"]");
    assert_contains(r->body.data, "\"isError\":false");

    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_query\",\"arguments\":{\"query\":\"SELECT 1\",\"sandbox_id\":"
             "\"0123456789abcdef0123456789abcdef\"}}}");
    assert_string_equal(f->sub_path, "/sandbox/0123456789abcdef0123456789abcdef/database/query");
    assert_string_equal(f->sub_body, "{\"query\":\"SELECT 1\"}");

    f->sub_answer = "{\"table\":\"a b\",\"columns\":[]}";
    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_schema\",\"arguments\":{\"table\":\"a b&c=\\u00e9\"}}}");
    assert_string_equal(f->sub_method, "GET");
    assert_string_equal(f->sub_path, MCP_DB_PATH "/schema");
    assert_string_equal(f->sub_query, "table=a%20b%26c%3D%C3%A9");
    assert_contains(r->body.data, "\"structuredContent\":{\"table\":\"a b\"");
    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_schema\",\"arguments\":{\"sandbox_id\":\"0123456789abcdef0123456789abcdef\"}}}");
    assert_string_equal(f->sub_path, "/sandbox/0123456789abcdef0123456789abcdef/database/schema");
    assert_string_equal(f->sub_query, "");

    /* A refusal of the database: a tool error naming its type. */
    f->sub_status = 422;
    f->sub_answer = "{\"error\":{\"code\":\"refused\",\"message\":\"attempt to write a readonly "
                    "database\",\"type\":\"DatabaseReadOnly\"}}";
    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_query\",\"arguments\":{\"query\":\"DELETE FROM users\"}}}");
    assert_contains(r->body.data,
                    "HTTP 422 refused (DatabaseReadOnly): attempt to write a readonly database");
    assert_contains(r->body.data, "\"isError\":true");

    /* Malformed arguments never reach an endpoint. */
    int before = f->subrequests;
    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_query\",\"arguments\":{\"query\":\"SELECT 1\",\"sandbox_id\":\"../x\"}}}");
    assert_contains(r->body.data, "-32602");
    r = call(f, "POST", f->session, "",
             "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"db_schema\",\"arguments\":{\"table\":7}}}");
    assert_contains(r->body.data, "-32602");
    assert_int_equal(f->subrequests, before);
}

static void test_store_sessions_expire_and_are_capped(void **state)
{
    fixture *f = *state;
    char msg[APP_ERRMSG_LEN], a[HIST_MCP_ID_LEN + 1], b[HIST_MCP_ID_LEN + 1],
        c[HIST_MCP_ID_LEN + 1], v[HIST_MCP_VERSION_LEN + 1];
    assert_int_equal(hist_mcp_open(f->db, "2025-06-18", 60, 2, a, msg, sizeof msg), APP_OK);
    assert_int_equal(hist_mcp_open(f->db, "2024-11-05", 60, 2, b, msg, sizeof msg), APP_OK);
    assert_int_equal(hist_mcp_touch(f->db, a, 60, v, msg, sizeof msg), APP_OK);
    assert_string_equal(v, "2025-06-18");
    /* A third with a cap of two: the least recently used (b) goes. */
    assert_int_equal(hist_mcp_open(f->db, "2025-03-26", 60, 2, c, msg, sizeof msg), APP_OK);
    assert_int_equal(hist_mcp_touch(f->db, b, 60, v, msg, sizeof msg), APP_ENOTFOUND);
    assert_int_equal(hist_mcp_touch(f->db, a, 60, v, msg, sizeof msg), APP_OK);
    /* Unused for longer than the idle time (here: any time at all). */
    assert_int_equal(hist_mcp_touch(f->db, c, -1, v, msg, sizeof msg), APP_ENOTFOUND);
    assert_int_equal(hist_mcp_close(f->db, a, msg, sizeof msg), APP_OK);
    assert_int_equal(hist_mcp_close(f->db, a, msg, sizeof msg), APP_ENOTFOUND);
    char too_long[HIST_MCP_VERSION_LEN + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_int_equal(hist_mcp_open(f->db, too_long, 60, 2, a, msg, sizeof msg), APP_EFIELD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_initialize_negotiates_and_sessions_are_required, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_messages_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tools_are_sub_requests_with_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tools_list_has_every_tool_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_tools_with_and_without_a_sandbox, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_sessions_expire_and_are_capped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
