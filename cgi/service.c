/* service.c - routing, body caps and the endpoint handlers. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "body.h"
#include "insights.h"
#include "page.h"

struct svc {
    const conf *conf; /* borrowed */
    page *page;
    ana_set *analysis;
};

/* A handler decodes, calls one library function and renders. On error it
 * returns the app_err and may explain it in msg; svc_handle renders it. */
typedef app_err (*handler_fn)(svc *s, const http_req *req, http_resp *resp, char *msg,
                              size_t msglen);

typedef struct route {
    const char *path;
    const char *method;
    handler_fn fn;
    size_t max_body; /* 0: the configured page body cap (PYSANDBOX_MAX_BODY_BYTES) */
} route;

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

/* --- routing ------------------------------------------------------------- */

static const route routes[] = {
    {"/api/insights/python-sandbox", "GET", ep_sandbox_get, 0},
    {"/api/insights/python-sandbox", "POST", ep_sandbox_post, 0},
    {"/api/insights/batch-analyze", "POST", ep_batch_post, 0},
    {"/api/health", "GET", ep_health, 0},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* HEAD is served wherever GET is (the adapter drops the body). */
static bool method_matches(const route *r, const char *method)
{
    return strcmp(r->method, method) == 0 ||
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
        if (strcmp(routes[i].path, path) != 0)
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
    page_free(s->page);
    ana_free(s->analysis);
    free(s);
}
