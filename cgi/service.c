/* service.c - routing, body caps and the endpoint handlers. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "body.h"
#include "hist.h"
#include "insights.h"
#include "j0api.h"
#include "native.h"
#include "page.h"
#include "reqs.h"
#include "xproto.h"

struct svc {
    const conf *conf; /* borrowed */
    page *page;
    ana_set *analysis;
    hist *db;         /* opened on first use, in the worker process (never across fork) */
    pid_t db_pid;     /* the process that opened db */
};

/* A handler decodes, calls one library function and renders. On error it
 * returns the app_err and may explain it in msg; svc_handle renders it. */
typedef app_err (*handler_fn)(svc *s, const http_req *req, http_resp *resp, char *msg,
                              size_t msglen);

typedef struct route {
    const char *path;
    const char *method; /* "*": every method (the handler answers 405 itself) */
    handler_fn fn;
    size_t max_body;    /* 0: the configured page body cap (PYSANDBOX_MAX_BODY_BYTES) */
    bool prefix;        /* path is a prefix with its own sub-router */
} route;

/* The worker's store handle; NULL (with msg) when it cannot be opened. */
static hist *svc_db(svc *s, char *msg, size_t msglen)
{
    if (s->db != NULL && s->db_pid == getpid())
        return s->db;
    s->db = NULL; /* a handle from before a fork belongs to the parent: never touch it */
    if (hist_open(s->conf->db_path, &s->db, msg, msglen) != APP_OK)
        return NULL;
    s->db_pid = getpid();
    return s->db;
}

/* --- handlers ------------------------------------------------------------ */

static app_err ep_sandbox_get(svc *s, const http_req *req, http_resp *resp, char *msg,
                              size_t msglen)
{
    (void)req;
    (void)msg;
    (void)msglen;
    page_input in = {
        .code = ins_default_code,
        .code_len = strlen(ins_default_code),
        .data = "[]",
        .data_len = 2,
    };
    return page_render(s->page, &in, resp);
}

static app_err ep_sandbox_post(svc *s, const http_req *req, http_resp *resp, char *msg,
                               size_t msglen)
{
    body *b = NULL;
    ins_request r = {0};
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = ins_decode_sandbox(b, &r, msg, msglen);
    if (err == APP_OK)
        err = page_render(s->page, &r.page, resp);
    ins_request_free(&r);
    body_free(b);
    return err;
}

static app_err ep_batch_post(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    body *b = NULL;
    ins_request r = {0};
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = ins_decode_batch(b, s->analysis, &r, msg, msglen);
    if (err == APP_OK)
        err = page_render(s->page, &r.page, resp);
    ins_request_free(&r);
    body_free(b);
    return err;
}

static app_err ep_health(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    (void)s;
    (void)req;
    (void)msg;
    (void)msglen;
    app_err err = sbuf_printf(&resp->body, "{\"status\":\"ok\",\"pyodideVersion\":\"%s\"}\n",
                              PYODIDE_VERSION);
    if (err == APP_OK)
        err = http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cache-Control", "no-store");
    return err;
}

static app_err json_headers(http_resp *resp)
{
    app_err err = http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cache-Control", "no-store");
    return err;
}

/* Reads the optional "requirements" field; absent means the defaults. */
static app_err requirements_field(const body *b, reqs *r, char *msg, size_t msglen)
{
    const char *text;
    size_t len;
    js_type type;
    reqs_init(r);
    app_err err = body_json(b, "requirements", 64 * 1024, &text, &len, &type, msg, msglen);
    if (err == APP_ENOTFOUND)
        return APP_OK;
    if (err == APP_ETOOBIG)
        return APP_EFIELD;
    return err == APP_OK ? reqs_decode(text, len, r, msg, msglen) : err;
}

/* Decodes {code, data?, requirements?} into a native job. */
static app_err decode_job(svc *s, const body *b, native_job *job, char **code, reqs *r, char *msg,
                          size_t msglen)
{
    static const char *const known[] = {"code", "data", "requirements"};
    app_err err = body_only(b, known, 3, msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "code", XP_MAX_CODE, code, &job->code_len, msg, msglen);
    if (err == APP_OK && *code == NULL) {
        snprintf(msg, msglen, "field 'code' is required");
        err = APP_EFIELD;
    }
    if (err != APP_OK)
        return err;
    job->code = *code;
    js_type type;
    err = body_json(b, "data", XP_MAX_DATA, &job->data, &job->data_len, &type, msg, msglen);
    if (err == APP_ENOTFOUND) {
        job->data = "[]";
        job->data_len = 2;
        err = APP_OK;
    }
    if (err == APP_OK)
        err = requirements_field(b, r, msg, msglen);
    if (err == APP_OK)
        err = native_limits(s->conf, r, &job->wall_ms, &job->memory_mb, msg, msglen);
    return err;
}

static app_err ep_execute(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    body *b = NULL;
    char *code = NULL;
    native_job job = {0};
    reqs r;
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = decode_job(s, b, &job, &code, &r, msg, msglen);
    if (err == APP_OK && r.preferred_engine != ENGINE_AUTO && r.preferred_engine != ENGINE_NATIVE) {
        snprintf(msg, msglen,
                 "this endpoint runs the native engine; use /api/insights/python-execution to "
                 "choose another (preferredEngine: %s)",
                 reqs_engine_name(r.preferred_engine));
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        err = native_run(s->conf, &job, req->cancel_fd, &resp->body, msg, msglen);
    if (err == APP_OK)
        err = json_headers(resp);
    free(code);
    body_free(b);
    return err;
}

static app_err ep_judge0(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    hist *db = svc_db(s, msg, msglen);
    j0api_handle(s->conf, db, req, resp);
    return APP_OK;
}

static app_err ep_python_health(svc *s, const http_req *req, http_resp *resp, char *msg,
                                size_t msglen)
{
    (void)req;
    app_err err = native_status(s->conf, &resp->body, msg, msglen);
    if (err == APP_OK)
        err = json_headers(resp);
    return err;
}

/* --- routing ------------------------------------------------------------- */

static const route routes[] = {
    {"/api/insights/python-sandbox", "GET", ep_sandbox_get, 0, false},
    {"/api/insights/python-sandbox", "POST", ep_sandbox_post, 0, false},
    {"/api/insights/batch-analyze", "POST", ep_batch_post, 0, false},
    {"/api/health", "GET", ep_health, 0, false},
    {"/api/python/execute", "POST", ep_execute, NATIVE_MAX_BODY, false},
    {"/api/python/health", "GET", ep_python_health, 0, false},
    {"/judge0/", "*", ep_judge0, NATIVE_MAX_BODY, true},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* HEAD is served wherever GET is (the adapter drops the body). */
static bool method_matches(const route *r, const char *method)
{
    return strcmp(r->method, "*") == 0 || strcmp(r->method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

/* Finds the route; on APP_EMETHOD fills allow with "GET, HEAD, POST"-style text. */
static app_err find_route(const char *method, const char *path, const route **out, char *allow,
                          size_t allowlen)
{
    bool path_known = false;
    if (allow != NULL && allowlen > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < NROUTES; i++) {
        bool match = routes[i].prefix ? strncmp(path, routes[i].path, strlen(routes[i].path)) == 0
                                      : strcmp(routes[i].path, path) == 0;
        if (!match)
            continue;
        path_known = true;
        if (method_matches(&routes[i], method)) {
            *out = &routes[i];
            return APP_OK;
        }
        if (allow != NULL) {
            size_t used = strlen(allow);
            snprintf(allow + used, allowlen - used, "%s%s%s", used > 0 ? ", " : "",
                     routes[i].method, strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
        }
    }
    return path_known ? APP_EMETHOD : APP_ENOTFOUND;
}

app_err svc_body_limit(const svc *s, const char *method, const char *path, size_t *max_body)
{
    const route *r;
    app_err err = find_route(method, path, &r, NULL, 0);
    if (err == APP_OK)
        *max_body = r->max_body != 0 ? r->max_body : s->conf->max_body;
    return err;
}

void svc_handle(svc *s, const http_req *req, http_resp *resp)
{
    char msg[APP_ERRMSG_LEN] = "";
    char allow[128];
    const route *r = NULL;
    http_resp_reset(resp);
    app_err err = find_route(req->method, req->path, &r, allow, sizeof allow);
    if (err == APP_ENOTFOUND) {
        snprintf(msg, sizeof msg, "no such endpoint: %.120s", req->path);
        http_resp_error(resp, err, msg);
        return;
    }
    if (err == APP_EMETHOD) {
        snprintf(msg, sizeof msg, "%.16s is not allowed here; allowed: %s", req->method, allow);
        http_resp_error(resp, err, msg);
        http_resp_header(resp, "Allow", allow);
        return;
    }
    size_t cap = r->max_body != 0 ? r->max_body : s->conf->max_body;
    if (req->body_len > cap) {
        snprintf(msg, sizeof msg, "the request body is larger than the %zu-byte limit", cap);
        http_resp_error(resp, APP_ETOOBIG, msg);
        return;
    }
    err = r->fn(s, req, resp, msg, sizeof msg);
    if (err != APP_OK)
        http_resp_error(resp, err, msg[0] != '\0' ? msg : NULL);
}

app_err svc_new(const conf *c, svc **out, char *msg, size_t msglen)
{
    app_err err;
    svc *s = calloc(1, sizeof *s);
    if (s == NULL)
        return APP_ENOMEM;
    s->conf = c;
    err = page_new(c, &s->page, msg, msglen);
    if (err == APP_OK)
        err = ana_load(c->templates_dir, &s->analysis, msg, msglen);
    if (err != APP_OK) {
        svc_free(s);
        return err;
    }
    *out = s;
    return APP_OK;
}

void svc_free(svc *s)
{
    if (s == NULL)
        return;
    if (s->db_pid == getpid())
        hist_close(s->db);
    page_free(s->page);
    ana_free(s->analysis);
    free(s);
}
