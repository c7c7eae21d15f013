/* mcp.c - the MCP endpoint (see mcp.h and docs/design/agent-toolkit.md). */
#include "mcp.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "execution.h"
#include "hist_mcp.h"
#include "jscan.h"
#include "jsonw.h"
#include "sbuf.h"
#include "xproto.h"

/* Protocol versions we speak, newest first (MCP_PROTOCOL_LATEST first). */
static const char *const versions[] = {MCP_PROTOCOL_LATEST, "2025-03-26", "2024-11-05"};
#define NVERSIONS (sizeof versions / sizeof versions[0])

/* JSON-RPC 2.0 error codes, and the two the transport adds. */
enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
    RPC_BAD_REQUEST = -32000,       /* the transport refused the HTTP request */
    RPC_SESSION_NOT_FOUND = -32001, /* with HTTP 404 */
};

/* Longest method or tool name read from a request. */
#define MCP_NAME_MAX 64
/* Longest error message of an endpoint a tool error repeats (a database's
 * own message takes up to SBXAPI_DB_MESSAGE_MAX, 1 KiB). */
#define MCP_ERROR_MESSAGE_MAX 1280

/* The server's description of itself in the initialize answer. */
#define MCP_INSTRUCTIONS                                                                          \
    "Runs Python 3.11 (numpy, pandas, scipy, matplotlib, scikit-learn, statsmodels, ...) in a "   \
    "jail with no network. run_python starts from nothing each time; create_sandbox gives an "    \
    "interpreter whose names, imports and files persist across sandbox_execute calls until "      \
    "delete_sandbox or its idle timeout. Charts drawn with matplotlib come back as images; the "  \
    "value of __result__ comes back as result. db_schema and db_query read the service's "        \
    "database (read-only; writes are refused), when one is configured."

/* The result of a run (run_python, sandbox_execute): what structuredContent
 * holds, charts without their bytes (those are the image items). */
#define RESULT_SCHEMA                                                                             \
    "{\"type\":\"object\",\"properties\":{"                                                       \
    "\"success\":{\"type\":\"boolean\"},\"status\":{\"type\":\"string\"},"                        \
    "\"output\":{\"type\":\"string\"},\"stderr\":{\"type\":\"string\"},"                          \
    "\"error\":{\"description\":\"null, or the Python error (type, message, traceback, line)\"}," \
    "\"result\":{\"description\":\"the value of __result__ as JSON\"},"                           \
    "\"charts\":{\"type\":\"array\",\"items\":{\"type\":\"object\"},"                             \
    "\"description\":\"format, width, height of each chart; its bytes are the image content "     \
    "items, in the same order\"},"                                                                \
    "\"executionTime\":{\"type\":\"number\"},\"engine\":{\"type\":\"string\"},"                   \
    "\"metadata\":{\"type\":\"object\"}},\"required\":[\"success\",\"status\"]}"

#define CODE_PROP                                                                                 \
    "\"code\":{\"type\":\"string\",\"description\":\"Python source; top-level await works; set " \
    "__result__ to return a value\"}"
#define DATA_PROP                                                                                 \
    "\"data\":{\"description\":\"any JSON value, bound to the name data before the code runs\"}"
#define SANDBOX_ID_PROP                                                                           \
    "\"sandbox_id\":{\"type\":\"string\",\"description\":\"what create_sandbox returned\"}"

#define OPTIONAL_SANDBOX_PROP                                                                     \
    "\"sandbox_id\":{\"type\":\"string\",\"description\":\"a sandbox from create_sandbox: the " \
    "query runs as that sandbox's (one at a time, in its query log); without it, on its own\"}"

/* One column of a table (db_schema). */
#define DB_COLUMN_SCHEMA                                                                          \
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"                      \
    "\"type\":{\"type\":[\"string\",\"null\"]},\"nullable\":{\"type\":\"boolean\"},"             \
    "\"key\":{\"type\":[\"string\",\"null\"],\"description\":\"primary, or null\"}}}"

static const char tools_json[] =
    "{\"tools\":["
    "{\"name\":\"run_python\",\"title\":\"Run Python\","
    "\"description\":\"Runs Python once in a fresh jailed interpreter and returns its output, "
    "result, charts and error.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{" CODE_PROP "," DATA_PROP ","
    "\"requirements\":{\"type\":\"object\",\"description\":\"limits as in POST "
    "/api/python/execute, e.g. {\\\"maxExecutionTime\\\": 10, \\\"maxMemoryUsage\\\": 256}\"}},"
    "\"required\":[\"code\"]},"
    "\"outputSchema\":" RESULT_SCHEMA "},"
    "{\"name\":\"create_sandbox\",\"title\":\"Create a sandbox\","
    "\"description\":\"Starts a long-lived jailed interpreter whose state persists across "
    "sandbox_execute calls.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"user_id\":{\"type\":\"string\"},"
    "\"config\":{\"type\":\"object\",\"properties\":{\"max_execution_time\":{\"type\":\"number\"},"
    "\"max_memory_mb\":{\"type\":\"number\"},\"idle_timeout\":{\"type\":\"number\"}}}}},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"sandbox_id\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\"},\"created_at\":{},\"expires_at\":{},"
    "\"limits\":{\"type\":\"object\"}},\"required\":[\"sandbox_id\"]}},"
    "{\"name\":\"sandbox_execute\",\"title\":\"Run Python in a sandbox\","
    "\"description\":\"Runs Python in a sandbox made by create_sandbox: the names, imports and "
    "files of earlier calls are still there.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{" SANDBOX_ID_PROP "," CODE_PROP
    "," DATA_PROP "},\"required\":[\"sandbox_id\",\"code\"]},"
    "\"outputSchema\":" RESULT_SCHEMA "},"
    "{\"name\":\"delete_sandbox\",\"title\":\"Delete a sandbox\","
    "\"description\":\"Ends a sandbox at once (its interpreter is killed).\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{" SANDBOX_ID_PROP "},"
    "\"required\":[\"sandbox_id\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"deleted\":{\"type\":\"boolean\"}},"
    "\"required\":[\"deleted\"]}},"
    "{\"name\":\"db_query\",\"title\":\"Query the database\","
    "\"description\":\"Runs one read-only SQL statement (SELECT, WITH, ...) against the service's "
    "database and returns its rows as objects. Writes are refused (DatabaseReadOnly); rows past "
    "the server's cap are left out (truncated).\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"query\":{\"type\":\"string\",\"description\":\"one SQL statement; placeholders :name "
    "(params an object) or ? (params an array)\"},"
    "\"params\":{\"type\":[\"object\",\"array\",\"null\"],\"description\":\"the placeholders' "
    "values: null, booleans, numbers, strings\"}," OPTIONAL_SANDBOX_PROP "},"
    "\"required\":[\"query\"]},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"success\":{\"type\":\"boolean\"},"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"object\"},\"description\":\"one object "
    "per row, column name to value\"},"
    "\"row_count\":{\"type\":\"integer\"},\"truncated\":{\"type\":\"boolean\"},"
    "\"truncated_reason\":{\"type\":\"string\"},\"duration_ms\":{\"type\":\"number\"}},"
    "\"required\":[\"success\",\"columns\",\"rows\",\"row_count\",\"truncated\"]}},"
    "{\"name\":\"db_schema\",\"title\":\"Describe the database\","
    "\"description\":\"Lists the service's database's tables and views with their columns (name, "
    "type, nullable, key), or one table's columns.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"table\":{\"type\":\"string\",\"description\":\"one table's name; without it, every "
    "table\"}," OPTIONAL_SANDBOX_PROP "}},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"database\":{\"type\":\"string\",\"description\":\"sqlite or postgresql\"},"
    "\"tables\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"columns\":{\"type\":[\"array\",\"null\"],\"items\":"
    DB_COLUMN_SCHEMA "}}}},"
    "\"tables_truncated\":{\"type\":\"boolean\"},"
    "\"table\":{\"type\":\"string\"},"
    "\"columns\":{\"type\":\"array\",\"items\":" DB_COLUMN_SCHEMA "}}}}"
    "]}";

/* The parts of one JSON-RPC message (spans into the validated body). */
typedef struct rpc_msg {
    const char *doc;
    bool has_id, has_method, has_params, has_result_or_error;
    js_span id, method, params, jsonrpc;
    bool has_jsonrpc;
} rpc_msg;

/* --- answers --------------------------------------------------------------- */

/* Content-Type and Cache-Control of every JSON answer; a failure to add
 * them is memory's, and the answer stands. */
static void json_type(http_resp *resp)
{
    app_ignore(http_resp_header(resp, "Content-Type", "application/json; charset=utf-8"));
    app_ignore(http_resp_header(resp, "Cache-Control", "no-store"));
}

/* Replaces the answer with a JSON-RPC error: {"jsonrpc":"2.0","id":id,
 * "error":{"code","message"}}, id the request's raw id or null. */
static void rpc_error(http_resp *resp, int status, const char *id_raw, size_t id_len, int code,
                      const char *message)
{
    http_resp_reset(resp);
    resp->status = status;
    app_err err = sbuf_puts(&resp->body, "{\"jsonrpc\":\"2.0\",\"id\":");
    if (err == APP_OK)
        err = id_raw != NULL ? sbuf_append(&resp->body, id_raw, id_len) : sbuf_puts(&resp->body, "null");
    if (err == APP_OK)
        err = sbuf_printf(&resp->body, ",\"error\":{\"code\":%d,\"message\":", code);
    if (err == APP_OK)
        err = jsonw_string(&resp->body, message, strlen(message));
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "}}\n");
    if (err != APP_OK) { /* only memory: a shorter answer that fits */
        http_resp_reset(resp);
        resp->status = 500;
        app_ignore(sbuf_puts(&resp->body, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
                                          "\"message\":\"out of memory\"}}\n"));
    }
    json_type(resp);
}

static void msg_error(http_resp *resp, int status, const rpc_msg *m, int code, const char *message)
{
    bool id = m != NULL && m->has_id;
    rpc_error(resp, status, id ? m->doc + m->id.off : NULL, id ? m->id.len : 0, code, message);
}

/* Starts a successful answer: {"jsonrpc":"2.0","id":ID,"result": */
static APP_MUST_CHECK app_err rpc_result_begin(http_resp *resp, const rpc_msg *m)
{
    app_err err = sbuf_puts(&resp->body, "{\"jsonrpc\":\"2.0\",\"id\":");
    if (err == APP_OK)
        err = sbuf_append(&resp->body, m->doc + m->id.off, m->id.len);
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, ",\"result\":");
    return err;
}

/* --- small helpers ------------------------------------------------------- */

/* Decodes a string span into buf (cap bytes with the NUL); false when the
 * span is not a string, holds a NUL or does not fit. */
static bool span_string(const char *doc, js_span s, char *buf, size_t cap)
{
    if (s.type != JS_STRING)
        return false;
    sbuf b;
    sbuf_init(&b, cap - 1);
    bool nul = false;
    bool ok = js_string_decode(doc, s, &b, &nul) == APP_OK && !nul;
    if (ok)
        snprintf(buf, cap, "%s", b.len > 0 ? sbuf_str(&b) : "");
    sbuf_free(&b);
    return ok;
}

/* Finds member name of an object span. */
static bool member(const char *doc, js_span obj, const char *name, js_span *value)
{
    if (obj.type != JS_OBJECT)
        return false;
    js_iter it;
    js_span k, v;
    js_iter_init(&it, doc, obj);
    while (js_iter_next(&it, &k, &v))
        if (js_string_equals(doc, k, name)) {
            *value = v;
            return true;
        }
    return false;
}

static bool version_known(const char *v)
{
    for (size_t i = 0; i < NVERSIONS; i++)
        if (strcmp(v, versions[i]) == 0)
            return true;
    return false;
}

/* The Origin header, when sent, must name this server: a page elsewhere
 * must not drive a local MCP server through the user's browser (DNS
 * rebinding). */
static bool origin_ok(const http_req *req)
{
    const char *origin = req->origin != NULL ? req->origin : "";
    if (origin[0] == '\0')
        return true;
    const char *scheme = req->scheme != NULL && req->scheme[0] ? req->scheme : "http";
    size_t sl = strlen(scheme);
    return strncasecmp(origin, scheme, sl) == 0 && strncmp(origin + sl, "://", 3) == 0 &&
           req->host != NULL && req->host[0] != '\0' && strcasecmp(origin + sl + 3, req->host) == 0;
}

/* --- the message ----------------------------------------------------------- */

/* Splits the validated object root into its members. */
static void rpc_parse(const char *doc, js_span root, rpc_msg *m)
{
    memset(m, 0, sizeof *m);
    m->doc = doc;
    js_iter it;
    js_span k, v;
    js_iter_init(&it, doc, root);
    while (js_iter_next(&it, &k, &v)) {
        if (js_string_equals(doc, k, "jsonrpc")) {
            m->jsonrpc = v;
            m->has_jsonrpc = true;
        } else if (js_string_equals(doc, k, "id")) {
            m->id = v;
            m->has_id = true;
        } else if (js_string_equals(doc, k, "method")) {
            m->method = v;
            m->has_method = true;
        } else if (js_string_equals(doc, k, "params")) {
            m->params = v;
            m->has_params = true;
        } else if (js_string_equals(doc, k, "result") || js_string_equals(doc, k, "error")) {
            m->has_result_or_error = true;
        }
    }
}

/* --- tools ----------------------------------------------------------------- */

/* Appends the member k: v (raw bytes of doc), after a comma unless *first. */
static APP_MUST_CHECK app_err put_member(sbuf *out, const char *doc, js_span k, js_span v,
                                         bool *first)
{
    app_err err = *first ? APP_OK : sbuf_putc(out, ',');
    *first = false;
    if (err == APP_OK)
        err = sbuf_append(out, doc + k.off, k.len);
    if (err == APP_OK)
        err = sbuf_putc(out, ':');
    return err == APP_OK ? sbuf_append(out, doc + v.off, v.len) : err;
}

/* Appends "name":value for each of names present in args (raw bytes, so
 * data keeps its exact numbers), as one JSON object. */
static APP_MUST_CHECK app_err copy_members(const char *doc, js_span args, const char *const *names,
                                           sbuf *out)
{
    app_err err = sbuf_putc(out, '{');
    bool first = true;
    js_iter it;
    js_span k, v;
    if (args.type == JS_OBJECT) {
        js_iter_init(&it, doc, args);
        while (err == APP_OK && js_iter_next(&it, &k, &v)) {
            bool wanted = false;
            for (size_t i = 0; names[i] != NULL; i++)
                wanted = wanted || js_string_equals(doc, k, names[i]);
            if (wanted)
                err = put_member(out, doc, k, v, &first);
        }
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

/* The MIME type of a chart's format, or NULL for one MCP has no image for. */
static const char *chart_mime(const char *doc, js_span chart)
{
    js_span f;
    if (!member(doc, chart, "format", &f))
        return NULL;
    return js_string_equals(doc, f, "png")   ? "image/png"
           : js_string_equals(doc, f, "svg") ? "image/svg+xml"
           : js_string_equals(doc, f, "jpeg") ? "image/jpeg"
                                              : NULL;
}

/* Copies the answer object root to out, each chart without its "data". */
static APP_MUST_CHECK app_err structured_copy(const char *doc, js_span root, sbuf *out)
{
    app_err err = sbuf_putc(out, '{');
    bool first = true;
    js_iter it;
    js_span k, v;
    js_iter_init(&it, doc, root);
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        if (!js_string_equals(doc, k, "charts") || v.type != JS_ARRAY) {
            err = put_member(out, doc, k, v, &first);
            continue;
        }
        err = first ? APP_OK : sbuf_putc(out, ',');
        first = false;
        if (err == APP_OK)
            err = sbuf_append(out, doc + k.off, k.len);
        if (err == APP_OK)
            err = sbuf_puts(out, ":[");
        js_iter charts;
        js_span ck, chart;
        bool first_chart = true;
        js_iter_init(&charts, doc, v);
        while (err == APP_OK && js_iter_next(&charts, &ck, &chart)) {
            if (!first_chart)
                err = sbuf_putc(out, ',');
            first_chart = false;
            if (err != APP_OK)
                break;
            if (chart.type != JS_OBJECT) {
                err = sbuf_append(out, doc + chart.off, chart.len);
                continue;
            }
            js_iter fields;
            js_span fk, fv;
            bool first_field = true;
            err = sbuf_putc(out, '{');
            js_iter_init(&fields, doc, chart);
            while (err == APP_OK && js_iter_next(&fields, &fk, &fv)) {
                if (!js_string_equals(doc, fk, "data"))
                    err = put_member(out, doc, fk, fv, &first_field);
            }
            if (err == APP_OK)
                err = sbuf_putc(out, '}');
        }
        if (err == APP_OK)
            err = sbuf_putc(out, ']');
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

/* Appends {"type":"image","data":..,"mimeType":..} for each chart of root
 * that has bytes in a format with a MIME type. */
static APP_MUST_CHECK app_err chart_images(const char *doc, js_span root, sbuf *out)
{
    js_span charts;
    if (!member(doc, root, "charts", &charts) || charts.type != JS_ARRAY)
        return APP_OK;
    app_err err = APP_OK;
    js_iter it;
    js_span k, chart;
    js_iter_init(&it, doc, charts);
    while (err == APP_OK && js_iter_next(&it, &k, &chart)) {
        js_span data;
        const char *mime = chart_mime(doc, chart);
        if (mime == NULL || !member(doc, chart, "data", &data) || data.type != JS_STRING)
            continue;
        err = sbuf_puts(out, ",{\"type\":\"image\",\"data\":");
        if (err == APP_OK)
            err = sbuf_append(out, doc + data.off, data.len);
        if (err == APP_OK)
            err = sbuf_printf(out, ",\"mimeType\":\"%s\"}", mime);
    }
    return err;
}

/* Writes a tools/call result for the sub-request's answer sub; its text
 * item repeats the structured content when with_text, else says where it is. */
static APP_MUST_CHECK app_err tool_result(const http_resp *sub, bool with_text, sbuf *out)
{
    const char *doc = sub->body.data != NULL ? sub->body.data : "";
    size_t n = sub->body.len;
    js_span root;
    char why[APP_ERRMSG_LEN];
    bool json = js_validate(doc, n, &root, why, sizeof why) == APP_OK && root.type == JS_OBJECT;
    if (sub->status >= 400 || !json) {
        /* An error of the endpoint: its message, for the model to read. */
        js_span e, code, message, type;
        char text[MCP_ERROR_MESSAGE_MAX + 256];
        char c[64] = "error", t[64] = "", m[MCP_ERROR_MESSAGE_MAX] = "";
        if (json && member(doc, root, "error", &e)) {
            if (member(doc, e, "code", &code) && !span_string(doc, code, c, sizeof c))
                snprintf(c, sizeof c, "error");
            if (member(doc, e, "message", &message) && !span_string(doc, message, m, sizeof m))
                m[0] = '\0';
            /* The database's error type (DatabaseReadOnly, ...), where there is one. */
            if (member(doc, e, "type", &type) && !span_string(doc, type, t, sizeof t))
                t[0] = '\0';
        }
        snprintf(text, sizeof text, "HTTP %d %s%s%s%s: %s", sub->status, c, t[0] ? " (" : "", t,
                 t[0] ? ")" : "", m[0] ? m : "the endpoint gave no message");
        app_err err = sbuf_puts(out, "{\"content\":[{\"type\":\"text\",\"text\":");
        if (err == APP_OK)
            err = jsonw_string(out, text, strlen(text));
        return err == APP_OK ? sbuf_puts(out, "}],\"isError\":true}") : err;
    }
    sbuf structured;
    sbuf_init(&structured, EXE_MAX_ANSWER);
    app_err err = structured_copy(doc, root, &structured);
    js_span success;
    bool failed = member(doc, root, "success", &success) && success.type == JS_BOOL &&
                  !js_bool(doc, success);
    if (err == APP_OK)
        err = sbuf_puts(out, "{\"content\":[{\"type\":\"text\",\"text\":");
    if (err == APP_OK)
        err = with_text ? jsonw_string(out, structured.data != NULL ? structured.data : "",
                                       structured.len)
                        : sbuf_puts(out, "\"The answer is in structuredContent (too large to "
                                         "repeat here as text).\"");
    if (err == APP_OK)
        err = sbuf_putc(out, '}');
    if (err == APP_OK)
        err = chart_images(doc, root, out);
    if (err == APP_OK)
        err = sbuf_puts(out, "],\"structuredContent\":");
    if (err == APP_OK)
        err = sbuf_append(out, structured.data, structured.len);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"isError\":%s}", failed ? "true" : "false");
    sbuf_free(&structured);
    return err;
}

static const char *const run_members[] = {"code", "data", "requirements", NULL};
static const char *const create_members[] = {"user_id", "config", NULL};
static const char *const execute_members[] = {"code", "data", NULL};
static const char *const db_query_members[] = {"query", "params", NULL};

/* Longest table name db_schema passes on (the endpoint checks its own cap). */
#define MCP_TABLE_MAX 1024

/* Writes "table=" and name percent-encoded (every byte but the unreserved
 * ones) to out (at least 3 * strlen(name) + 7 bytes). */
static void table_query(const char *name, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = (size_t)snprintf(out, outlen, "table=");
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && o + 4 <= outlen; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

/* tools/call: runs the tool as a sub-request and answers its result. */
static void tools_call(const mcp_env *env, const http_req *req, const rpc_msg *m, http_resp *resp)
{
    js_span name_span, args = {.type = JS_OBJECT, .off = 0, .len = 0};
    char name[MCP_NAME_MAX];
    if (!m->has_params || !member(m->doc, m->params, "name", &name_span) ||
        !span_string(m->doc, name_span, name, sizeof name)) {
        msg_error(resp, 200, m, RPC_INVALID_PARAMS, "tools/call needs params.name, a tool's name");
        return;
    }
    bool has_args = member(m->doc, m->params, "arguments", &args);
    if (has_args && args.type != JS_OBJECT) {
        msg_error(resp, 200, m, RPC_INVALID_PARAMS, "params.arguments must be an object");
        return;
    }
    if (!has_args)
        args.type = JS_NULL; /* copy_members then copies nothing */
    const char *const *members = NULL;
    const char *method = "POST";
    char path[64];
    char query[3 * MCP_TABLE_MAX + 8] = "";
    bool needs_sandbox = false;
    const char *suffix = "";
    const char *db_route = NULL; /* a database tool: "query" or "schema" */
    if (strcmp(name, "run_python") == 0) {
        members = run_members;
        snprintf(path, sizeof path, "/api/python/execute");
    } else if (strcmp(name, "create_sandbox") == 0) {
        members = create_members;
        snprintf(path, sizeof path, "/sandbox/create");
    } else if (strcmp(name, "sandbox_execute") == 0) {
        members = execute_members;
        needs_sandbox = true;
        suffix = "/execute";
    } else if (strcmp(name, "delete_sandbox") == 0) {
        method = "DELETE";
        needs_sandbox = true;
    } else if (strcmp(name, "db_query") == 0) {
        members = db_query_members;
        db_route = "query";
    } else if (strcmp(name, "db_schema") == 0) {
        method = "GET";
        db_route = "schema";
    } else {
        char text[MCP_NAME_MAX + 64];
        snprintf(text, sizeof text, "unknown tool: %s (tools/list names them)", name);
        msg_error(resp, 200, m, RPC_INVALID_PARAMS, text);
        return;
    }
    if (needs_sandbox) {
        js_span sid;
        char id[XP_SANDBOX_ID_LEN + 2];
        if (!member(m->doc, args, "sandbox_id", &sid) || !span_string(m->doc, sid, id, sizeof id) ||
            !xp_sandbox_id_ok(id, strlen(id))) {
            msg_error(resp, 200, m, RPC_INVALID_PARAMS,
                      "arguments.sandbox_id must be the id create_sandbox returned (32 hex digits)");
            return;
        }
        snprintf(path, sizeof path, "/sandbox/%s%s", id, suffix);
    }
    if (db_route != NULL) {
        /* With a sandbox_id, the sandbox's database route; without, the
         * database on its own (MCP_DB_PATH, answered by the callback). */
        js_span sid, table;
        char id[XP_SANDBOX_ID_LEN + 2];
        bool has_sid = member(m->doc, args, "sandbox_id", &sid) && sid.type != JS_NULL;
        if (has_sid &&
            (!span_string(m->doc, sid, id, sizeof id) || !xp_sandbox_id_ok(id, strlen(id)))) {
            msg_error(
                resp, 200, m, RPC_INVALID_PARAMS,
                "arguments.sandbox_id must be the id create_sandbox returned (32 hex digits)");
            return;
        }
        if (has_sid)
            snprintf(path, sizeof path, "/sandbox/%s/database/%s", id, db_route);
        else
            snprintf(path, sizeof path, MCP_DB_PATH "/%s", db_route);
        char name_text[MCP_TABLE_MAX + 1];
        if (members == NULL && member(m->doc, args, "table", &table) && table.type != JS_NULL) {
            if (!span_string(m->doc, table, name_text, sizeof name_text) || name_text[0] == '\0') {
                msg_error(resp, 200, m, RPC_INVALID_PARAMS,
                          "arguments.table must be a table's name (a short string)");
                return;
            }
            table_query(name_text, query, sizeof query);
        }
    }
    sbuf body;
    sbuf_init(&body, MCP_MAX_BODY);
    app_err err = members != NULL ? copy_members(m->doc, args, members, &body) : sbuf_puts(&body, "");
    http_resp sub;
    http_resp_init(&sub);
    if (err == APP_OK) {
        http_req sr = {
            .method = method,
            .path = path,
            .query = query,
            .content_type = members != NULL ? "application/json" : "",
            .host = req->host,
            .scheme = req->scheme,
            .remote_addr = req->remote_addr, /* the caller's share, as over HTTP */
            .body = body.data != NULL ? body.data : "",
            .body_len = body.len,
            .cancel_fd = req->cancel_fd, /* a client that goes away stops its run */
            .accept = "application/json",
            .last_event_id = "",
            .origin = "",
            .mcp_session = "",
            .mcp_protocol = "",
            .stream = NULL,
        };
        env->subrequest(env->ctx, &sr, &sub);
        /* An answer near the caps does not fit twice: then once. */
        for (int with_text = 1; with_text >= 0; with_text--) {
            http_resp_reset(resp);
            err = rpc_result_begin(resp, m);
            if (err == APP_OK)
                err = tool_result(&sub, with_text, &resp->body);
            if (err == APP_OK)
                err = sbuf_puts(&resp->body, "}\n");
            if (err != APP_ETOOBIG)
                break;
        }
    }
    http_resp_free(&sub);
    sbuf_free(&body);
    if (err != APP_OK) {
        char text[APP_ERRMSG_LEN];
        snprintf(text, sizeof text, "the tool's answer could not be written: %s", app_strerror(err));
        msg_error(resp, 200, m, RPC_INTERNAL_ERROR, text);
        return;
    }
    json_type(resp);
}

/* initialize: a new session, speaking the client's version if we can. */
static void initialize(const mcp_env *env, const rpc_msg *m, http_resp *resp)
{
    char asked[HIST_MCP_VERSION_LEN + 1] = "";
    js_span v;
    if (!m->has_params || !member(m->doc, m->params, "protocolVersion", &v) || v.type != JS_STRING) {
        msg_error(resp, 200, m, RPC_INVALID_PARAMS, "initialize needs params.protocolVersion, a string");
        return;
    }
    if (!span_string(m->doc, v, asked, sizeof asked))
        asked[0] = '\0'; /* too long to be one of ours: answered with ours */
    const char *version = version_known(asked) ? asked : MCP_PROTOCOL_LATEST;
    char id[HIST_MCP_ID_LEN + 1];
    char msg[APP_ERRMSG_LEN];
    if (hist_mcp_open(env->db, version, MCP_SESSION_IDLE_S, MCP_MAX_SESSIONS, id, msg,
                      sizeof msg) != APP_OK) {
        msg_error(resp, 500, m, RPC_INTERNAL_ERROR, msg);
        return;
    }
    app_err err = rpc_result_begin(resp, m);
    if (err == APP_OK)
        err = sbuf_printf(&resp->body,
                          "{\"protocolVersion\":\"%s\",\"capabilities\":{\"tools\":"
                          "{\"listChanged\":false}},\"serverInfo\":{\"name\":\"pysandbox\","
                          "\"title\":\"pysandbox: Python in a jail\",\"version\":\"1\"},"
                          "\"instructions\":",
                          version);
    if (err == APP_OK)
        err = jsonw_string(&resp->body, MCP_INSTRUCTIONS, strlen(MCP_INSTRUCTIONS));
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "}}\n");
    if (err == APP_OK)
        err = http_resp_header(resp, "Mcp-Session-Id", id);
    if (err != APP_OK) {
        msg_error(resp, 500, m, RPC_INTERNAL_ERROR, "the answer could not be written");
        return;
    }
    json_type(resp);
}

/* The session a request names: 400 without one, 404 for one that ended. */
static bool session_ok(const mcp_env *env, const http_req *req, const rpc_msg *m, http_resp *resp)
{
    const char *sid = req->mcp_session != NULL ? req->mcp_session : "";
    if (sid[0] == '\0') {
        msg_error(resp, 400, m, RPC_BAD_REQUEST,
                  "Bad Request: the Mcp-Session-Id header is required (initialize first)");
        return false;
    }
    const char *pv = req->mcp_protocol != NULL ? req->mcp_protocol : "";
    if (pv[0] != '\0' && !version_known(pv)) {
        char text[160];
        snprintf(text, sizeof text, "Bad Request: unsupported MCP-Protocol-Version %.40s (we speak %s, %s, %s)",
                 pv, versions[0], versions[1], versions[2]);
        msg_error(resp, 400, m, RPC_BAD_REQUEST, text);
        return false;
    }
    char version[HIST_MCP_VERSION_LEN + 1];
    char msg[APP_ERRMSG_LEN];
    app_err err = strlen(sid) == HIST_MCP_ID_LEN
                      ? hist_mcp_touch(env->db, sid, MCP_SESSION_IDLE_S, version, msg, sizeof msg)
                      : APP_ENOTFOUND;
    if (err == APP_ENOTFOUND) {
        msg_error(resp, 404, m, RPC_SESSION_NOT_FOUND, "Session not found: it ended or expired; initialize again");
        return false;
    }
    if (err != APP_OK) {
        msg_error(resp, 500, m, RPC_INTERNAL_ERROR, msg);
        return false;
    }
    return true;
}

static void serve_post(const mcp_env *env, const http_req *req, http_resp *resp)
{
    const char *ct = req->content_type != NULL ? req->content_type : "";
    if (strncasecmp(ct, "application/json", 16) != 0 || (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        rpc_error(resp, 415, NULL, 0, RPC_BAD_REQUEST,
                  "Unsupported Media Type: send the JSON-RPC message as application/json");
        return;
    }
    js_span root;
    char why[APP_ERRMSG_LEN];
    if (js_validate(req->body, req->body_len, &root, why, sizeof why) != APP_OK) {
        char text[APP_ERRMSG_LEN + 32];
        snprintf(text, sizeof text, "Parse error: %s", why);
        rpc_error(resp, 400, NULL, 0, RPC_PARSE_ERROR, text);
        return;
    }
    if (root.type != JS_OBJECT) {
        rpc_error(resp, 400, NULL, 0, RPC_INVALID_REQUEST,
                  root.type == JS_ARRAY ? "Invalid Request: batches are not supported; send one message per POST"
                                        : "Invalid Request: a JSON-RPC message is an object");
        return;
    }
    rpc_msg m;
    rpc_parse(req->body, root, &m);
    if (m.has_id && m.id.type != JS_STRING && m.id.type != JS_NUMBER) {
        rpc_error(resp, 400, NULL, 0, RPC_INVALID_REQUEST, "Invalid Request: id must be a string or a number");
        return;
    }
    if (!m.has_jsonrpc || !js_string_equals(req->body, m.jsonrpc, "2.0")) {
        msg_error(resp, 400, &m, RPC_INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"");
        return;
    }
    char method[MCP_NAME_MAX];
    if (!m.has_method) {
        if (m.has_id && m.has_result_or_error) { /* a client's answer: we never ask */
            if (session_ok(env, req, &m, resp)) {
                http_resp_reset(resp);
                resp->status = 202;
            }
            return;
        }
        msg_error(resp, 400, &m, RPC_INVALID_REQUEST, "Invalid Request: no method");
        return;
    }
    if (!span_string(req->body, m.method, method, sizeof method)) {
        msg_error(resp, 400, &m, RPC_INVALID_REQUEST, "Invalid Request: method must be a short string");
        return;
    }
    if (m.has_params && m.params.type != JS_OBJECT && m.params.type != JS_ARRAY) {
        msg_error(resp, 400, &m, RPC_INVALID_REQUEST, "Invalid Request: params must be an object");
        return;
    }
    if (strcmp(method, "initialize") == 0 && m.has_id) {
        initialize(env, &m, resp);
        return;
    }
    if (!session_ok(env, req, &m, resp))
        return;
    if (!m.has_id) { /* a notification (initialized, cancelled, ...): nothing to answer */
        http_resp_reset(resp);
        resp->status = 202;
        return;
    }
    app_err err = APP_OK;
    if (strcmp(method, "ping") == 0) {
        err = rpc_result_begin(resp, &m);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, "{}}\n");
    } else if (strcmp(method, "tools/list") == 0) {
        err = rpc_result_begin(resp, &m);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, tools_json);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, "}\n");
    } else if (strcmp(method, "tools/call") == 0) {
        tools_call(env, req, &m, resp);
        return;
    } else {
        char text[MCP_NAME_MAX + 64];
        snprintf(text, sizeof text, "Method not found: %s", method);
        msg_error(resp, 200, &m, RPC_METHOD_NOT_FOUND, text);
        return;
    }
    if (err != APP_OK) {
        msg_error(resp, 500, &m, RPC_INTERNAL_ERROR, "the answer could not be written");
        return;
    }
    json_type(resp);
}

void mcp_serve(const mcp_env *env, const http_req *req, http_resp *resp)
{
    http_resp_reset(resp);
    if (!origin_ok(req)) {
        rpc_error(resp, 403, NULL, 0, RPC_BAD_REQUEST,
                  "Forbidden: the Origin header names another site than this server");
        return;
    }
    if (strcmp(req->method, "POST") == 0) {
        serve_post(env, req, resp);
        return;
    }
    if (strcmp(req->method, "DELETE") == 0) {
        const char *sid = req->mcp_session != NULL ? req->mcp_session : "";
        char msg[APP_ERRMSG_LEN];
        app_err err = sid[0] == '\0'                    ? APP_EFIELD
                      : strlen(sid) != HIST_MCP_ID_LEN ? APP_ENOTFOUND
                                                       : hist_mcp_close(env->db, sid, msg, sizeof msg);
        if (err == APP_OK) {
            http_resp_reset(resp);
            resp->status = 204;
        } else if (err == APP_EFIELD) {
            rpc_error(resp, 400, NULL, 0, RPC_BAD_REQUEST, "Bad Request: the Mcp-Session-Id header is required");
        } else if (err == APP_ENOTFOUND) {
            rpc_error(resp, 404, NULL, 0, RPC_SESSION_NOT_FOUND, "Session not found");
        } else {
            rpc_error(resp, 500, NULL, 0, RPC_INTERNAL_ERROR, msg);
        }
        return;
    }
    /* GET would open a stream for server-initiated messages: we send none. */
    rpc_error(resp, 405, NULL, 0, RPC_BAD_REQUEST,
              "Method Not Allowed: POST a JSON-RPC message (this server opens no SSE stream)");
    app_ignore(http_resp_header(resp, "Allow", "POST, DELETE"));
}
