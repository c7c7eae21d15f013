/* j0_http.c - Judge0's answer shapes and query/body decoding (see j0_http.h). */
#include "j0_http.h"

#include <stdio.h>
#include <string.h>

#include "form.h"
#include "jsonw.h"

/* Fixed headers: only memory can refuse them, and the status and body are
 * still sent (as http.c does for its error answers). */
static void json_headers(http_resp *resp)
{
    app_ignore(http_resp_header(resp, "Content-Type", "application/json; charset=utf-8"));
    app_ignore(http_resp_header(resp, "Cache-Control", "no-store"));
    app_ignore(http_resp_header(resp, "X-Content-Type-Options", "nosniff"));
}

/* Replaces the response with Judge0's error shape {"error": message}. */
void j0http_error(http_resp *resp, int status, const char *message)
{
    http_resp_reset(resp);
    resp->status = status;
    app_err err = sbuf_puts(&resp->body, "{\"error\":");
    if (err == APP_OK)
        err = jsonw_string(&resp->body, message, strlen(message));
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "}\n");
    if (err != APP_OK) /* a reset body holds any message of ours: never, but no half JSON */
        sbuf_reset(&resp->body);
    json_headers(resp);
}

/* An empty-bodied answer, as Judge0 gives for 401/403. */
void j0http_empty(http_resp *resp, int status)
{
    http_resp_reset(resp);
    resp->status = status;
    app_ignore(http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8")); /* fixed */
}

/* Fails the response after a body could not be built. */
void j0http_render_failed(http_resp *resp, app_err err)
{
    if (err == APP_ETOOBIG)
        j0http_error(resp, 400,
                     "the response would be too large; request fewer fields or fewer submissions");
    else
        j0http_error(resp, 500, app_strerror(err));
}

void j0http_ok_json(http_resp *resp, int status)
{
    resp->status = status;
    if (sbuf_putc(&resp->body, '\n') != APP_OK) {
        j0http_render_failed(resp, APP_ETOOBIG);
        return;
    }
    json_headers(resp);
}

static APP_MUST_CHECK app_err query_cb(void *ctx, const char *name, size_t name_len,
                                       const char *value, size_t value_len, char *msg,
                                       size_t msglen)
{
    j0http_query *q = ctx;
    (void)name_len;
    char *dst = NULL;
    if (strcmp(name, "base64_encoded") == 0)
        q->base64 = strcmp(value, "true") == 0; /* v1.13.1: only "true" is true */
    else if (strcmp(name, "wait") == 0)
        q->wait = strcmp(value, "true") == 0;
    else if (strcmp(name, "fields") == 0) {
        dst = q->fields;
        q->has_fields = true;
    } else if (strcmp(name, "tokens") == 0) {
        dst = q->tokens;
        q->has_tokens = true;
    }
    if (dst == NULL)
        return APP_OK; /* other parameters are ignored, as Rails ignores them */
    if (value_len > J0_MAX_PARAM || memchr(value, '\0', value_len) != NULL) {
        snprintf(msg, msglen, "the %s parameter is longer than %u bytes or holds NUL", name,
                 J0_MAX_PARAM);
        return APP_EFIELD;
    }
    memcpy(dst, value, value_len + 1);
    return APP_OK;
}

/* Decodes the query; on failure answers 400 and returns false. */
bool j0http_query_parse(const http_req *req, j0http_query *q, http_resp *resp)
{
    memset(q, 0, sizeof *q);
    char msg[APP_ERRMSG_LEN] = "";
    const char *s = req->query ? req->query : "";
    if (form_parse(s, strlen(s), query_cb, q, msg, sizeof msg) != APP_OK) {
        char text[APP_ERRMSG_LEN + 32];
        snprintf(text, sizeof text, "invalid query string: %s", msg);
        j0http_error(resp, 400, text);
        return false;
    }
    return true;
}

/* Parses `fields`; on failure answers 400 {"error":"invalid fields: [..]"}. */
bool j0http_query_fields(const j0http_query *q, j0tab_fields *f, http_resp *resp)
{
    char msg[APP_ERRMSG_LEN];
    if (j0tab_fields_parse(q->has_fields ? q->fields : NULL, f, msg, sizeof msg) != APP_OK) {
        j0http_error(resp, 400, msg);
        return false;
    }
    return true;
}

/* Validates the body as JSON; answers 400 and returns false when it is not.
 * A body that is not application/json is not parsed (Judge0/Rails): root
 * becomes an empty object and validation reports the missing fields. */
bool j0http_body(const http_req *req, js_span *root, http_resp *resp)
{
    char type[64], msg[APP_ERRMSG_LEN];
    root->type = JS_NULL;
    root->off = root->len = 0;
    if (strcmp(form_media_type(req->content_type, type, sizeof type), "application/json") != 0 ||
        req->body_len == 0)
        return true;
    if (js_validate(req->body ? req->body : "", req->body_len, root, msg, sizeof msg) != APP_OK) {
        char text[APP_ERRMSG_LEN + 32];
        snprintf(text, sizeof text, "malformed JSON body: %s", msg);
        j0http_error(resp, 400, text);
        return false;
    }
    return true;
}

void j0http_text(http_resp *resp, const char *text)
{
    if (sbuf_puts(&resp->body, text) != APP_OK) { /* our short texts always fit */
        j0http_render_failed(resp, APP_ETOOBIG);
        return;
    }
    app_ignore(http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8")); /* fixed */
    app_ignore(http_resp_header(resp, "Cache-Control", "no-store"));
}

/* --- cross-origin requests ------------------------------------------------------------- */

bool j0http_is_preflight(const http_req *req)
{
    return strcmp(req->method, "OPTIONS") == 0 && req->cors_method != NULL &&
           req->cors_method[0] != '\0';
}

/* The Access-Control-Allow-Origin value for req's Origin: "*", the origin
 * itself (a listed one), or NULL when it may not read our answers. */
static const char *allowed_origin(const conf *c, const http_req *req)
{
    const char *origin = req->origin;
    const char *list = c->judge0_cors_origins ? c->judge0_cors_origins : "";
    if (origin == NULL || origin[0] == '\0' || list[0] == '\0')
        return NULL;
    if (strcmp(list, "*") == 0)
        return "*";
    return conf_list_has(list, origin) ? origin : NULL;
}

/* Header values below are fixed texts or checked input: only memory can
 * refuse them, and the answer stands without them (the browser then
 * blocks it, which is what a refused origin gets anyway). */
static void cors_headers(const char *allow_origin, http_resp *resp)
{
    app_ignore(http_resp_header(resp, "Access-Control-Allow-Origin", allow_origin));
    app_ignore(http_resp_header(resp, "Access-Control-Allow-Methods",
                                "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD"));
    app_ignore(http_resp_header(resp, "Access-Control-Max-Age", J0_CORS_MAX_AGE));
    app_ignore(http_resp_header(resp, "Vary", "Origin"));
}

/* True for a list of header names as a preflight sends it: tokens,
 * commas and spaces only (what we echo must not be able to split a header). */
static bool header_list_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > J0_CORS_MAX_HEADERS)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch == ',' || ch == ' ' || ch == '-' || ch == '_' || ch == '.' ||
              (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return false;
    }
    return true;
}

void j0http_preflight(const conf *c, const http_req *req, http_resp *resp)
{
    http_resp_reset(resp);
    const char *allow = allowed_origin(c, req);
    if (allow == NULL) {
        j0http_error(resp, 404, "no such Judge0 route");
        return;
    }
    j0http_empty(resp, 200);
    cors_headers(allow, resp);
    const char *asked = req->cors_headers ? req->cors_headers : "";
    if (asked[0] != '\0' && header_list_ok(asked)) /* rack-cors `headers: :any` echoes them */
        app_ignore(http_resp_header(resp, "Access-Control-Allow-Headers", asked));
}

void j0http_cors(const conf *c, const http_req *req, http_resp *resp)
{
    const char *allow = allowed_origin(c, req);
    if (allow != NULL)
        cors_headers(allow, resp);
}

/* --- authentication ------------------------------------------------------------------------ */

typedef struct token_query {
    char value[J0_MAX_PARAM + 1];
    bool found;
} token_query;

static APP_MUST_CHECK app_err token_cb(void *ctx, const char *name, size_t name_len,
                                       const char *value, size_t value_len, char *msg,
                                       size_t msglen)
{
    token_query *t = ctx;
    (void)name_len, (void)msg, (void)msglen;
    if (!t->found && strcmp(name, "X-Auth-Token") == 0 && value_len <= J0_MAX_PARAM) {
        memcpy(t->value, value, value_len);
        t->value[value_len] = '\0';
        t->found = true;
    }
    return APP_OK;
}

/* a == b in time that depends on the lengths only. */
static bool same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = alen == blen ? 0 : 1;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0 && blen > 0;
}

bool j0http_authenticated(const conf *c, const http_req *req)
{
    const char *tokens = c->judge0_auth_tokens;
    if (tokens == NULL || tokens[0] == '\0')
        return true;
    token_query tq;
    const char *given = req->auth_token;
    if (given == NULL || given[0] == '\0') {
        memset(&tq, 0, sizeof tq);
        char msg[APP_ERRMSG_LEN];
        const char *q = req->query ? req->query : "";
        if (form_parse(q, strlen(q), token_cb, &tq, msg, sizeof msg) != APP_OK || !tq.found)
            return false;
        given = tq.value;
    }
    size_t glen = strlen(given);
    bool ok = false;
    for (const char *p = tokens; *p != '\0';) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (p > start && same_secret(given, glen, start, (size_t)(p - start)))
            ok = true; /* no early exit: every token is compared */
    }
    return ok;
}
