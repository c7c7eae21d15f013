/* sandbox_api.c - /sandbox/...: requests checked here, sandboxes kept by the executor. */
#include "sandbox_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "jscan.h"
#include "live.h"
#include "native.h"
#include "reqs.h"
#include "xproto.h"

/* Cap of the executor's answer to a list, status or history request. */
#define SBXAPI_ANSWER_MAX (512u * 1024)

static APP_MUST_CHECK app_err json_answer(http_resp *resp, int status)
{
    resp->status = status;
    app_err err = http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    return err == APP_OK ? http_resp_header(resp, "Cache-Control", "no-store") : err;
}

/* Reads config.<name> as a number: *out unchanged when absent. */
static APP_MUST_CHECK app_err config_number(const char *doc, js_span cfg, const char *name,
                                            double *out, char *msg, size_t msglen)
{
    js_iter it;
    js_span k, v;
    js_iter_init(&it, doc, cfg);
    while (js_iter_next(&it, &k, &v)) {
        if (!js_string_equals(doc, k, name))
            continue;
        if (v.type != JS_NUMBER || !isfinite(js_number(doc, v)) || js_number(doc, v) <= 0) {
            snprintf(msg, msglen, "config.%s must be a positive number", name);
            return APP_EFIELD;
        }
        *out = js_number(doc, v);
    }
    return APP_OK;
}

/* Checks config's members: known names, right types. */
static APP_MUST_CHECK app_err config_known(const char *doc, js_span cfg, char *msg, size_t msglen)
{
    static const char *const known[] = {"max_execution_time", "max_memory_mb", "idle_timeout",
                                        "enable_debugging"};
    js_iter it;
    js_span k, v;
    js_iter_init(&it, doc, cfg);
    while (js_iter_next(&it, &k, &v)) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok = ok || js_string_equals(doc, k, known[i]);
        if (!ok) {
            snprintf(msg, msglen, "unknown field in config (known: max_execution_time, "
                                  "max_memory_mb, idle_timeout, enable_debugging)");
            return APP_EFIELD;
        }
        if (js_string_equals(doc, k, "enable_debugging") && v.type != JS_BOOL) {
            snprintf(msg, msglen, "config.enable_debugging must be true or false");
            return APP_EFIELD;
        }
    }
    return APP_OK;
}

/* One limit of config against the server's most (the default when absent). */
static APP_MUST_CHECK app_err limit(double asked, double most, double least, const char *name,
                                    const char *unit, double *out, char *msg, size_t msglen)
{
    if (asked > most) {
        snprintf(msg, msglen, "config.%s %.6g %s is more than this server allows (%.6g %s)", name,
                 asked, unit, most, unit);
        return APP_EREFUSED;
    }
    if (asked > 0 && asked < least) {
        snprintf(msg, msglen, "config.%s must be at least %.6g %s", name, least, unit);
        return APP_EFIELD;
    }
    *out = asked > 0 ? asked : most;
    return APP_OK;
}

static APP_MUST_CHECK app_err create(const conf *c, const http_req *req, http_resp *resp,
                                     char *msg, size_t msglen)
{
    static const char *const known[] = {"user_id", "config"};
    body *b = NULL;
    char *user = NULL;
    size_t user_len = 0;
    const char *cfg_text = NULL;
    size_t cfg_len = 0;
    js_type cfg_type = JS_NULL;
    double wall_s = 0, memory_mb = 0, idle_s = 0;
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 2, msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "user_id", XP_SANDBOX_USER_LEN - 1, &user, &user_len, msg, msglen);
    if (err == APP_OK && user != NULL && memchr(user, '\0', user_len) != NULL) {
        snprintf(msg, msglen, "user_id must not contain NUL");
        err = APP_EFIELD;
    }
    if (err == APP_OK) {
        err = body_json(b, "config", 4096, &cfg_text, &cfg_len, &cfg_type, msg, msglen);
        if (err == APP_ENOTFOUND) {
            err = APP_OK;
            cfg_text = NULL;
        }
    }
    if (err == APP_OK && cfg_text != NULL && cfg_type != JS_OBJECT && cfg_type != JS_NULL) {
        snprintf(msg, msglen, "config must be an object");
        err = APP_EFIELD;
    }
    if (err == APP_OK && cfg_text != NULL && cfg_type == JS_OBJECT) {
        js_span root;
        err = js_validate(cfg_text, cfg_len, &root, msg, msglen);
        if (err == APP_OK)
            err = config_known(cfg_text, root, msg, msglen);
        if (err == APP_OK)
            err = config_number(cfg_text, root, "max_execution_time", &wall_s, msg, msglen);
        if (err == APP_OK)
            err = config_number(cfg_text, root, "max_memory_mb", &memory_mb, msg, msglen);
        if (err == APP_OK)
            err = config_number(cfg_text, root, "idle_timeout", &idle_s, msg, msglen);
    }
    double default_wall_s =
        (XP_DEFAULT_WALL_MS < c->max_wall_ms ? XP_DEFAULT_WALL_MS : c->max_wall_ms) / 1000.0;
    double memory_most = c->sandbox_memory_mb < c->max_memory_mb ? c->sandbox_memory_mb
                                                                  : c->max_memory_mb;
    if (err == APP_OK)
        err = limit(wall_s, default_wall_s, XP_MIN_WALL_MS / 1000.0, "max_execution_time", "s",
                    &wall_s, msg, msglen);
    if (err == APP_OK)
        err = limit(memory_mb, memory_most, XP_MIN_MEMORY_MB, "max_memory_mb", "MB", &memory_mb,
                    msg, msglen);
    if (err == APP_OK)
        err = limit(idle_s, c->sandbox_idle_s, 1, "idle_timeout", "s", &idle_s, msg, msglen);
    if (err == APP_OK) {
        native_sandbox_spec spec = {
            .wall_ms = (unsigned)ceil(wall_s * 1000),
            .memory_mb = (unsigned)ceil(memory_mb),
            .idle_s = (unsigned)ceil(idle_s),
            .life_s = c->sandbox_life_s,
            .user = user,
        };
        err = native_sandbox(c, XP_OP_SANDBOX_CREATE, NULL, &spec, xp_client_key(req->remote_addr),
                             &resp->body, msg, msglen);
    }
    if (err == APP_OK)
        err = json_answer(resp, 201);
    free(user);
    body_free(b);
    return err;
}

/* POST /sandbox/{id}/execute, and /debug (trace: the same run under the
 * harness's step tracer, so the answer gains steps). */
static APP_MUST_CHECK app_err execute(const conf *c, exe_ctx *x, hist *db, const char *id,
                                      bool trace, const http_req *req, http_resp *resp, char *msg,
                                      size_t msglen)
{
    static const char *const known[] = {"code", "data"};
    body *b = NULL;
    char *code = NULL;
    reqs r;
    reqs_init(&r);
    r.debug = trace;
    exe_request er = {.r = &r, .cancel_fd = req->cancel_fd, .sandbox = id, .data = "",
                      .client = xp_client_key(req->remote_addr)};
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 2, msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "code", XP_MAX_CODE, &code, &er.code_len, msg, msglen);
    if (err == APP_OK && code == NULL) {
        snprintf(msg, msglen, "field 'code' is required");
        err = APP_EFIELD;
    }
    if (err == APP_OK) {
        er.code = code;
        js_type type;
        err = body_json(b, "data", XP_MAX_DATA, &er.data, &er.data_len, &type, msg, msglen);
        if (err == APP_ENOTFOUND) { /* the sandbox keeps the data it has */
            er.data = "";
            er.data_len = 0;
            err = APP_OK;
        }
    }
    if (err == APP_OK && live_wanted(req)) {
        err = live_run(x, db, &er, false, req, resp);
    } else if (err == APP_OK) {
        exe_answer a;
        exe_run_native(x, db, &er, &a);
        if (a.err != APP_OK) {
            http_resp_error_detail(resp, a.err, a.message, a.detail_name, sbuf_str(&a.detail));
        } else {
            sbuf_free(&resp->body);
            resp->body = a.result;
            sbuf_init(&a.result, EXE_MAX_ANSWER);
            err = json_answer(resp, 200);
        }
        exe_answer_free(&a);
    }
    (void)c;
    free(code);
    body_free(b);
    return err;
}

/* GET /sandbox/statistics: the statistics member of the executor's list. */
static APP_MUST_CHECK app_err statistics(const conf *c, http_resp *resp, char *msg, size_t msglen)
{
    sbuf list;
    sbuf_init(&list, SBXAPI_ANSWER_MAX);
    app_err err = native_sandbox(c, XP_OP_SANDBOX_LIST, NULL, NULL, 0, &list, msg, msglen);
    js_span root, k, v;
    if (err == APP_OK)
        err = js_validate(list.data, list.len, &root, msg, msglen) == APP_OK &&
                      root.type == JS_OBJECT
                  ? APP_OK
                  : APP_EUPSTREAM;
    bool found = false;
    if (err == APP_OK) {
        js_iter it;
        js_iter_init(&it, list.data, root);
        while (!found && js_iter_next(&it, &k, &v)) {
            if (js_string_equals(list.data, k, "statistics") && v.type == JS_OBJECT) {
                err = sbuf_append(&resp->body, list.data + v.off, v.len);
                found = true;
            }
        }
        if (!found)
            err = APP_EUPSTREAM;
    }
    if (err == APP_OK)
        err = sbuf_putc(&resp->body, '\n');
    if (err == APP_OK)
        err = json_answer(resp, 200);
    else if (err == APP_EUPSTREAM)
        snprintf(msg, msglen, "the executor's sandbox list could not be read");
    sbuf_free(&list);
    return err;
}

/* Routes /sandbox/{id}[/what]: the id and its verb. */
static APP_MUST_CHECK app_err one_sandbox(const conf *c, exe_ctx *x, hist *db, const char *rest,
                                          const http_req *req, http_resp *resp, char *allow,
                                          size_t allowlen, char *msg, size_t msglen)
{
    const char *slash = strchr(rest, '/');
    size_t id_len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    const char *what = slash != NULL ? slash + 1 : "";
    if (!xp_sandbox_id_ok(rest, id_len)) {
        snprintf(msg, msglen, "no such sandbox (never made, deleted, or expired)");
        return APP_ENOTFOUND;
    }
    char id[XP_SANDBOX_ID_LEN + 1];
    memcpy(id, rest, XP_SANDBOX_ID_LEN);
    id[XP_SANDBOX_ID_LEN] = '\0';
    const char *method = req->method;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    unsigned op = 0;
    const char *need = NULL;
    if (strcmp(what, "") == 0) {
        op = strcmp(method, "DELETE") == 0 ? XP_OP_SANDBOX_DELETE : 0;
        need = "DELETE";
    } else if (strcmp(what, "status") == 0) {
        op = get ? XP_OP_SANDBOX_STATUS : 0;
        need = "GET, HEAD";
    } else if (strcmp(what, "history") == 0) {
        op = get ? XP_OP_SANDBOX_HISTORY : 0;
        need = "GET, HEAD";
    } else if (strcmp(what, "execute") == 0 || strcmp(what, "debug") == 0) {
        if (strcmp(method, "POST") == 0)
            return execute(c, x, db, id, strcmp(what, "debug") == 0, req, resp, msg, msglen);
        need = "POST";
    } else {
        snprintf(msg, msglen, "no such endpoint: %.120s", req->path);
        return APP_ENOTFOUND;
    }
    if (op == 0) {
        snprintf(allow, allowlen, "%s", need);
        return APP_EMETHOD;
    }
    sbuf_reset(&resp->body);
    app_err err = native_sandbox(c, op, id, NULL, 0, &resp->body, msg, msglen);
    if (err == APP_OK)
        err = sbuf_putc(&resp->body, '\n');
    return err == APP_OK ? json_answer(resp, 200) : err;
}

app_err sbxapi_handle(const conf *c, exe_ctx *x, hist *db, const http_req *req, http_resp *resp,
                      char *allow, size_t allowlen, char *msg, size_t msglen)
{
    const char *path = req->path;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(path, "/sandbox") == 0 || strcmp(path, "/sandbox/") == 0) {
        if (!get) {
            snprintf(allow, allowlen, "GET, HEAD");
            return APP_EMETHOD;
        }
        app_err err = native_sandbox(c, XP_OP_SANDBOX_LIST, NULL, NULL, 0, &resp->body, msg, msglen);
        if (err == APP_OK)
            err = sbuf_putc(&resp->body, '\n');
        return err == APP_OK ? json_answer(resp, 200) : err;
    }
    const char *rest = path + strlen("/sandbox/");
    if (strcmp(rest, "create") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            snprintf(allow, allowlen, "POST");
            return APP_EMETHOD;
        }
        return create(c, req, resp, msg, msglen);
    }
    if (strcmp(rest, "statistics") == 0) {
        if (!get) {
            snprintf(allow, allowlen, "GET, HEAD");
            return APP_EMETHOD;
        }
        return statistics(c, resp, msg, msglen);
    }
    return one_sandbox(c, x, db, rest, req, resp, allow, allowlen, msg, msglen);
}
