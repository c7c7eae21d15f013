/* sandbox_api.c - /sandbox/...: requests checked here, sandboxes kept by the executor. */
#include "sandbox_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "body.h"
#include "dbwire.h"
#include "form.h"
#include "hist_db.h"
#include "jscan.h"
#include "jsonw.h"
#include "live.h"
#include "native.h"
#include "reqs.h"
#include "utf8.h"
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

/* Makes a sandbox from b's user_id and config (the caller checked b's
 * members); its description goes to out. */
static APP_MUST_CHECK app_err create_from(const conf *c, const body *b, uint64_t client,
                                          sbuf *out, char *msg, size_t msglen)
{
    char *user = NULL;
    size_t user_len = 0;
    const char *cfg_text = NULL;
    size_t cfg_len = 0;
    js_type cfg_type = JS_NULL;
    double wall_s = 0, memory_mb = 0, idle_s = 0;
    app_err err = body_string(b, "user_id", XP_SANDBOX_USER_LEN - 1, &user, &user_len, msg, msglen);
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
        err = native_sandbox(c, XP_OP_SANDBOX_CREATE, NULL, &spec, client, out, msg, msglen);
    }
    free(user);
    return err;
}

static APP_MUST_CHECK app_err create(const conf *c, const http_req *req, http_resp *resp,
                                     char *msg, size_t msglen)
{
    static const char *const known[] = {"user_id", "config"};
    body *b = NULL;
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 2, msg, msglen);
    if (err == APP_OK)
        err = create_from(c, b, xp_client_key(req->remote_addr), &resp->body, msg, msglen);
    if (err == APP_OK)
        err = json_answer(resp, 201);
    body_free(b);
    return err;
}

/* Reads the optional boolean "insights" (findings about the data in the
 * answer) into *on. */
static APP_MUST_CHECK app_err insights_field(const body *b, bool *on, char *msg, size_t msglen)
{
    const char *text;
    size_t len;
    js_type type;
    app_err err = body_json(b, "insights", 16, &text, &len, &type, msg, msglen);
    if (err == APP_ENOTFOUND)
        return APP_OK;
    if (err == APP_OK && type != JS_BOOL) {
        snprintf(msg, msglen, "field 'insights' must be true or false");
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        *on = len == 4 && memcmp(text, "true", 4) == 0;
    return err;
}

/* Runs b's code (and data, when sent) in sandbox id, answering into resp
 * (the caller checked b's members). */
static APP_MUST_CHECK app_err run_code(exe_ctx *x, hist *db, const char *id, bool trace,
                                       const body *b, const http_req *req, http_resp *resp,
                                       char *msg, size_t msglen)
{
    char *code = NULL;
    reqs r;
    reqs_init(&r);
    r.debug = trace;
    exe_request er = {.r = &r, .cancel_fd = req->cancel_fd, .sandbox = id, .data = "",
                      .client = xp_client_key(req->remote_addr)};
    app_err err = body_string(b, "code", XP_MAX_CODE, &code, &er.code_len, msg, msglen);
    if (err == APP_OK)
        err = insights_field(b, &r.insights, msg, msglen);
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
    free(code);
    return err;
}

/* POST /sandbox/{id}/execute, and /debug (trace: the same run under the
 * harness's step tracer, so the answer gains steps). */
static APP_MUST_CHECK app_err execute(exe_ctx *x, hist *db, const char *id, bool trace,
                                      const http_req *req, http_resp *resp, char *msg,
                                      size_t msglen)
{
    static const char *const known[] = {"code", "data", "insights"};
    body *b = NULL;
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 3, msg, msglen);
    if (err == APP_OK)
        err = run_code(x, db, id, trace, b, req, resp, msg, msglen);
    body_free(b);
    return err;
}

/* The sandbox_id member of a creation's answer. */
static bool created_id(const sbuf *answer, char id[XP_SANDBOX_ID_LEN + 1])
{
    js_span root, k, v;
    char scratch[APP_ERRMSG_LEN];
    if (js_validate(answer->data, answer->len, &root, scratch, sizeof scratch) != APP_OK ||
        root.type != JS_OBJECT)
        return false;
    js_iter it;
    js_iter_init(&it, answer->data, root);
    while (js_iter_next(&it, &k, &v))
        if (js_string_equals(answer->data, k, "sandbox_id") && v.type == JS_STRING &&
            v.len == XP_SANDBOX_ID_LEN + 2 &&
            xp_sandbox_id_ok(answer->data + v.off + 1, XP_SANDBOX_ID_LEN)) {
            memcpy(id, answer->data + v.off + 1, XP_SANDBOX_ID_LEN);
            id[XP_SANDBOX_ID_LEN] = '\0';
            return true;
        }
    return false;
}

/* POST /sandbox/agent/quick-execute {code, data?, config?}: a sandbox made,
 * used once and ended in one call; the answer is the execution's. */
static APP_MUST_CHECK app_err quick_execute(const conf *c, exe_ctx *x, hist *db,
                                            const http_req *req, http_resp *resp, char *msg,
                                            size_t msglen)
{
    static const char *const known[] = {"code", "data", "config", "insights"};
    body *b = NULL;
    char id[XP_SANDBOX_ID_LEN + 1];
    sbuf made;
    sbuf_init(&made, SBXAPI_ANSWER_MAX);
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 4, msg, msglen);
    if (err == APP_OK && !body_has(b, "code")) {
        snprintf(msg, msglen, "field 'code' is required");
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        err = create_from(c, b, xp_client_key(req->remote_addr), &made, msg, msglen);
    if (err == APP_OK && !created_id(&made, id)) {
        snprintf(msg, msglen, "the executor's answer names no sandbox");
        err = APP_EUPSTREAM;
    }
    if (err == APP_OK) {
        err = run_code(x, db, id, false, b, req, resp, msg, msglen);
        /* Ended whatever the run did; a sandbox already gone is fine. */
        char ignored[APP_ERRMSG_LEN];
        sbuf scratch;
        sbuf_init(&scratch, SBXAPI_ANSWER_MAX);
        app_ignore(native_sandbox(c, XP_OP_SANDBOX_DELETE, id, NULL, 0, &scratch, ignored,
                                  sizeof ignored));
        sbuf_free(&scratch);
    }
    sbuf_free(&made);
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

/* --- the agent's database: /sandbox/{id}/database/... ---------------------- */

/* Cap of one broker answer as the executor relays it (dbwire.h). */
#define SBXAPI_DB_ANSWER_MAX DBW_MAX_ANSWER
/* Bytes of a database's error message kept in an error answer; longer
 * ones are cut at a character. */
#define SBXAPI_DB_MESSAGE_MAX 1024
/* Longest error type taken from the broker (letters only; others read
 * as "DatabaseError"). */
#define SBXAPI_DB_TYPE_MAX 40

/* The error types of the broker (dbq.h) and what each is over HTTP. */
static const struct {
    const char *type;
    app_err err;
} db_types[] = {
    {"DatabaseReadOnly", APP_EREFUSED},      /* 422: the statement would write */
    {"DatabaseError", APP_EFIELD},           /* 400: the database refused it */
    {"DatabaseLimit", APP_EFIELD},           /* 400: a cap of the request */
    {"DatabaseTimeout", APP_ETIMEOUT},       /* 504 */
    {"DatabaseUnavailable", APP_EUNAVAIL},   /* 503: cannot reach or open it */
    {"DatabaseNotConfigured", APP_EUNAVAIL}, /* 503: PYSANDBOX_AGENT_DB is not set */
};

/* The one place a database error is written: the error answer of http.c
 * with the database's error type next to code and message,
 *   {"error": {"code", "message", "type": "DatabaseReadOnly"}}.
 * type must be one of db_types (or letters only). */
static void db_error(http_resp *resp, app_err err, const char *type, const char *message)
{
    char quoted[SBXAPI_DB_TYPE_MAX + 3];
    snprintf(quoted, sizeof quoted, "\"%s\"", type);
    http_resp_error_detail(resp, err, message, "type", quoted);
}

/* The answer when PYSANDBOX_AGENT_DB is not set. */
static void db_not_configured(http_resp *resp)
{
    db_error(resp, APP_EUNAVAIL, "DatabaseNotConfigured",
             "no database is configured: set PYSANDBOX_AGENT_DB");
}

/* "postgresql" or "sqlite" for PYSANDBOX_AGENT_DB (what dbq_open reads it as). */
static const char *db_kind(const conf *c)
{
    return strncasecmp(c->agent_db, "postgresql://", 13) == 0 ||
                   strncasecmp(c->agent_db, "postgres://", 11) == 0
               ? "postgresql"
               : "sqlite";
}

/* Finds member name of an object span. */
static bool db_member(const char *doc, js_span obj, const char *name, js_span *value)
{
    js_iter it;
    js_span k, v;
    if (obj.type != JS_OBJECT)
        return false;
    js_iter_init(&it, doc, obj);
    while (js_iter_next(&it, &k, &v))
        if (js_string_equals(doc, k, name)) {
            *value = v;
            return true;
        }
    return false;
}

/* A broker answer, read: ok, or the error's type and message. */
typedef struct db_answer {
    sbuf raw;     /* the broker's JSON (SBXAPI_DB_ANSWER_MAX) */
    js_span root; /* its object */
    bool ok;
    char type[SBXAPI_DB_TYPE_MAX + 1];       /* ok false: the error's type */
    char message[SBXAPI_DB_MESSAGE_MAX + 1]; /* ok false: its message */
} db_answer;

static void db_answer_init(db_answer *a)
{
    memset(a, 0, sizeof *a);
    sbuf_init(&a->raw, SBXAPI_DB_ANSWER_MAX);
}

static void db_answer_free(db_answer *a)
{
    sbuf_free(&a->raw);
}

/* Reads the error object of a refusal into a->type and a->message. */
static void db_read_error(db_answer *a, js_span e)
{
    const char *doc = a->raw.data;
    js_span t, m;
    snprintf(a->type, sizeof a->type, "DatabaseError");
    snprintf(a->message, sizeof a->message, "the database refused the request");
    if (db_member(doc, e, "type", &t) && t.type == JS_STRING && t.len > 2 &&
        t.len - 2 <= SBXAPI_DB_TYPE_MAX) {
        bool letters = true;
        for (size_t i = 1; i + 1 < t.len; i++) {
            char ch = doc[t.off + i];
            letters = letters && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'));
        }
        if (letters)
            snprintf(a->type, sizeof a->type, "%.*s", (int)(t.len - 2), doc + t.off + 1);
    }
    if (db_member(doc, e, "message", &m) && m.type == JS_STRING) {
        sbuf text;
        sbuf_init(&text, SBXAPI_DB_ANSWER_MAX);
        if (js_string_decode(doc, m, &text, NULL) == APP_OK && text.len > 0) {
            size_t n = text.len;
            if (n > SBXAPI_DB_MESSAGE_MAX)
                n = utf8_complete_prefix(text.data, SBXAPI_DB_MESSAGE_MAX);
            memcpy(a->message, text.data, n);
            a->message[n] = '\0';
        }
        sbuf_free(&text);
    }
}

/* Sends request (JSON) for sandbox (or NULL) and reads the answer into a.
 * APP_OK whether the database answered rows or refused (a->ok says);
 * otherwise the executor's error with msg. */
static APP_MUST_CHECK app_err db_ask(const conf *c, const char *sandbox, const sbuf *request,
                                     uint64_t client, db_answer *a, char *msg, size_t msglen)
{
    sbuf_reset(&a->raw);
    app_err err = native_db(c, sandbox, request->data, request->len, client, &a->raw, msg, msglen);
    if (err != APP_OK)
        return err;
    js_span ok, e;
    const char *doc = a->raw.data != NULL ? a->raw.data : "";
    if (js_validate(doc, a->raw.len, &a->root, msg, msglen) != APP_OK ||
        a->root.type != JS_OBJECT || !db_member(doc, a->root, "ok", &ok) || ok.type != JS_BOOL) {
        snprintf(msg, msglen, "the database broker's answer could not be read");
        return APP_EUPSTREAM;
    }
    a->ok = js_bool(doc, ok);
    if (!a->ok)
        db_read_error(a, db_member(doc, a->root, "error", &e) ? e : (js_span){.type = JS_NULL});
    return APP_OK;
}

/* Answers a refusal of the database: its type's status, with the type. */
static void db_refused(http_resp *resp, const db_answer *a)
{
    app_err err = APP_EFIELD; /* an unknown type: the database refused the request */
    for (size_t i = 0; i < sizeof db_types / sizeof db_types[0]; i++)
        if (strcmp(a->type, db_types[i].type) == 0)
            err = db_types[i].err;
    db_error(resp, err, a->type, a->message);
}

/* Whether a refused schema request means the table does not exist (the
 * broker's DBQ_ENOTFOUND: a DatabaseError saying "no table ..."). */
static bool db_no_table(const db_answer *a)
{
    return !a->ok && strcmp(a->type, "DatabaseError") == 0 &&
           (strncasecmp(a->message, "no table", 8) == 0 ||
            strncasecmp(a->message, "no such table", 13) == 0);
}

/* Appends params (validated JSON text: an object, an array or null) to
 * out, re-encoded from what was read: names and strings decoded and
 * written again, numbers as their validated token, and nothing but null,
 * booleans, numbers and strings as values. */
static APP_MUST_CHECK app_err db_put_params(const char *text, size_t len, sbuf *out, char *msg,
                                            size_t msglen)
{
    js_span root, k, v;
    app_err err = js_validate(text, len, &root, msg, msglen);
    if (err != APP_OK)
        return err;
    if (root.type == JS_NULL)
        return sbuf_puts(out, "null");
    if (root.type != JS_OBJECT && root.type != JS_ARRAY) {
        snprintf(msg, msglen,
                 "field 'params' must be an object (named parameters), an array "
                 "(positional) or null");
        return APP_EFIELD;
    }
    bool named = root.type == JS_OBJECT;
    sbuf name;
    sbuf_init(&name, DBW_MAX_REQUEST);
    js_iter it;
    js_iter_init(&it, text, root);
    size_t i = 0;
    err = sbuf_putc(out, named ? '{' : '[');
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        if (v.type == JS_ARRAY || v.type == JS_OBJECT) {
            if (named)
                snprintf(msg, msglen, "params.%.*s must be null, a boolean, a number or a string",
                         k.len - 2 > 64 ? 64 : (int)(k.len - 2), text + k.off + 1);
            else
                snprintf(msg, msglen, "params[%zu] must be null, a boolean, a number or a string",
                         i);
            err = APP_EFIELD;
            break;
        }
        if (i++ > 0)
            err = sbuf_putc(out, ',');
        if (err == APP_OK && named) {
            sbuf_reset(&name);
            err = js_string_decode(text, k, &name, NULL);
            if (err == APP_OK)
                err = jsonw_string(out, name.data != NULL ? name.data : "", name.len);
            if (err == APP_OK)
                err = sbuf_putc(out, ':');
        }
        if (err != APP_OK)
            break;
        switch (v.type) {
        case JS_NULL:
            err = sbuf_puts(out, "null");
            break;
        case JS_BOOL:
            err = sbuf_puts(out, js_bool(text, v) ? "true" : "false");
            break;
        case JS_NUMBER: /* a token the validator read as a JSON number: its exact spelling */
            err = sbuf_append(out, text + v.off, v.len);
            break;
        case JS_STRING:
            sbuf_reset(&name);
            err = js_string_decode(text, v, &name, NULL);
            if (err == APP_OK)
                err = jsonw_string(out, name.data != NULL ? name.data : "", name.len);
            break;
        case JS_ARRAY:
        case JS_OBJECT:
            break;
        }
    }
    if (err == APP_OK)
        err = sbuf_putc(out, named ? '}' : ']');
    sbuf_free(&name);
    return err;
}

/* Reads POST .../database/query's body into the broker's request JSON:
 * {"op":"query","sql":...,"params":...}, checked as the broker will
 * (dbw_decode), so a malformed one is 400 without asking. */
static APP_MUST_CHECK app_err db_query_request(const http_req *req, sbuf *request, char *msg,
                                               size_t msglen)
{
    static const char *const known[] = {"query", "params"};
    body *b = NULL;
    char *sql = NULL;
    size_t sql_len = 0;
    const char *params = "null";
    size_t params_len = 4;
    js_type type;
    dbw_request check;
    memset(&check, 0, sizeof check);
    if (req->body_len > DBW_MAX_REQUEST) {
        snprintf(msg, msglen, "the request body is larger than the %u-byte limit of a query",
                 DBW_MAX_REQUEST);
        return APP_ETOOBIG;
    }
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 2, msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "query", DBW_MAX_SQL, &sql, &sql_len, msg, msglen);
    if (err == APP_OK && (sql == NULL || sql_len == 0)) {
        snprintf(msg, msglen, "field 'query' is required: the SQL text");
        err = APP_EFIELD;
    }
    if (err == APP_OK) {
        err = body_json(b, "params", DBW_MAX_REQUEST, &params, &params_len, &type, msg, msglen);
        if (err == APP_ENOTFOUND) {
            params = "null";
            params_len = 4;
            err = APP_OK;
        }
    }
    if (err == APP_OK)
        err = sbuf_puts(request, "{\"op\":\"query\",\"sql\":");
    if (err == APP_OK)
        err = jsonw_string(request, sql, sql_len);
    if (err == APP_OK)
        err = sbuf_puts(request, ",\"params\":");
    if (err == APP_OK)
        err = db_put_params(params, params_len, request, msg, msglen);
    if (err == APP_OK)
        err = sbuf_putc(request, '}');
    if (err == APP_ETOOBIG && sql != NULL)
        snprintf(msg, msglen, "the query and its parameters are larger than %u bytes",
                 DBW_MAX_REQUEST);
    if (err == APP_OK)
        err = dbw_decode(request->data, request->len, &check, msg, msglen);
    dbw_request_free(&check);
    free(sql);
    body_free(b);
    return err;
}

/* One column of a query's answer: its decoded name, where it is first
 * and where it is last. */
typedef struct db_column {
    char *name; /* From malloc() (sbuf_detach) */
    size_t len;
    size_t index;
} db_column;

static int db_column_cmp(const void *pa, const void *pb)
{
    const db_column *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* How a row's array becomes an object: for each column in order, whether
 * it is written (the first of its name) and from which value (the last of
 * its name), as a Python dict built from the pairs keeps them. */
typedef struct db_shape {
    size_t ncols;
    bool *emit;     /* From calloc(): ncols */
    size_t *src;    /* From calloc(): ncols */
    sbuf keys;      /* the written columns' "name": texts, one after the other */
    size_t *key_at; /* From calloc(): ncols + 1 offsets into keys */
    js_span *vals;  /* From calloc(): one row's values */
} db_shape;

static void db_shape_free(db_shape *sh)
{
    free(sh->emit);
    free(sh->src);
    free(sh->key_at);
    free(sh->vals);
    sbuf_free(&sh->keys);
    memset(sh, 0, sizeof *sh);
}

/* Builds the shape from the answer's "columns" (an array of strings). */
static APP_MUST_CHECK app_err db_shape_make(const char *doc, js_span columns, db_shape *sh)
{
    db_column *cols = NULL;
    js_iter it;
    js_span k, v;
    size_t n = 0;
    memset(sh, 0, sizeof *sh);
    sbuf_init(&sh->keys, SBXAPI_DB_ANSWER_MAX);
    js_iter_init(&it, doc, columns);
    while (js_iter_next(&it, &k, &v)) {
        if (v.type != JS_STRING)
            return APP_EUPSTREAM;
        n++;
    }
    sh->ncols = n;
    size_t alloc = n > 0 ? n : 1;
    cols = calloc(alloc, sizeof *cols);
    sh->emit = calloc(alloc, sizeof *sh->emit);
    sh->src = calloc(alloc, sizeof *sh->src);
    sh->key_at = calloc(alloc + 1, sizeof *sh->key_at);
    sh->vals = calloc(alloc, sizeof *sh->vals);
    app_err err = cols && sh->emit && sh->src && sh->key_at && sh->vals ? APP_OK : APP_ENOMEM;
    size_t i = 0;
    js_iter_init(&it, doc, columns);
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        sbuf name;
        sbuf_init(&name, SBXAPI_DB_ANSWER_MAX);
        err = js_string_decode(doc, v, &name, NULL);
        if (err == APP_OK && (cols[i].name = sbuf_detach(&name, &cols[i].len)) == NULL)
            err = APP_ENOMEM;
        sbuf_free(&name);
        cols[i].index = i;
        i++;
    }
    if (err == APP_OK) {
        qsort(cols, n, sizeof *cols, db_column_cmp);
        for (size_t g = 0; g < n;) { /* one group of equal names: first and last index */
            size_t e = g + 1;
            while (e < n && cols[e].len == cols[g].len &&
                   memcmp(cols[e].name, cols[g].name, cols[g].len) == 0)
                e++;
            sh->emit[cols[g].index] = true;
            sh->src[cols[g].index] = cols[e - 1].index;
            g = e;
        }
    }
    /* The keys, in column order: the broker's string literals, validated. */
    size_t written = 0;
    js_iter_init(&it, doc, columns);
    for (size_t c = 0; err == APP_OK && c < n && js_iter_next(&it, &k, &v); c++) {
        if (!sh->emit[c])
            continue;
        sh->key_at[written++] = sh->keys.len;
        err = sbuf_append(&sh->keys, doc + v.off, v.len); /* a validated string literal */
        if (err == APP_OK)
            err = sbuf_putc(&sh->keys, ':');
    }
    if (err == APP_OK)
        sh->key_at[written] = sh->keys.len;
    for (size_t c = 0; cols != NULL && c < n; c++)
        free(cols[c].name);
    free(cols);
    return err;
}

/* Appends one row (an array of ncols values) as an object to out. */
static APP_MUST_CHECK app_err db_put_row(const char *doc, js_span row, db_shape *sh, sbuf *out)
{
    js_iter it;
    js_span k, v;
    size_t n = 0;
    if (row.type != JS_ARRAY)
        return APP_EUPSTREAM;
    js_iter_init(&it, doc, row);
    while (js_iter_next(&it, &k, &v)) {
        if (n >= sh->ncols)
            return APP_EUPSTREAM;
        sh->vals[n++] = v;
    }
    if (n != sh->ncols)
        return APP_EUPSTREAM;
    app_err err = sbuf_putc(out, '{');
    size_t written = 0;
    for (size_t c = 0; err == APP_OK && c < sh->ncols; c++) {
        if (!sh->emit[c])
            continue;
        if (written > 0)
            err = sbuf_putc(out, ',');
        if (err == APP_OK)
            err = sbuf_append(out, sh->keys.data + sh->key_at[written],
                              sh->key_at[written + 1] - sh->key_at[written]);
        written++;
        js_span val = sh->vals[sh->src[c]];
        if (err == APP_OK)
            err = sbuf_append(out, doc + val.off, val.len);
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

/* Writes a query's answer a (ok) into out:
 *   {"success":true,"columns":[...],"rows":[{...}...],"row_count":N,
 *    "truncated":bool[,"truncated_reason":...],"duration_ms":x}
 * Rows that would take out past SBXAPI_DB_MAX_ANSWER are left out
 * (truncated, reason "bytes"). */
static APP_MUST_CHECK app_err db_put_query(const db_answer *a, sbuf *out)
{
    const char *doc = a->raw.data;
    js_span columns, rows, truncated, reason, duration;
    if (!db_member(doc, a->root, "columns", &columns) || columns.type != JS_ARRAY ||
        !db_member(doc, a->root, "rows", &rows) || rows.type != JS_ARRAY)
        return APP_EUPSTREAM;
    bool cut = db_member(doc, a->root, "truncated", &truncated) && truncated.type == JS_BOOL &&
               js_bool(doc, truncated);
    db_shape sh;
    sbuf objects, row;
    sbuf_init(&objects, SBXAPI_DB_MAX_ANSWER);
    sbuf_init(&row, SBXAPI_DB_MAX_ANSWER);
    app_err err = db_shape_make(doc, columns, &sh);
    size_t count = 0;
    bool cut_here = false;
    js_iter it;
    js_span k, v;
    js_iter_init(&it, doc, rows);
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        sbuf_reset(&row);
        err = db_put_row(doc, v, &sh, &row);
        if (err == APP_OK && objects.len + row.len + 1 + columns.len + 256 > SBXAPI_DB_MAX_ANSWER)
            err = APP_ETOOBIG;
        if (err == APP_ETOOBIG) { /* the answer is full: the rows so far, truncated */
            cut_here = true;
            err = APP_OK;
            break;
        }
        if (err == APP_OK && count > 0)
            err = sbuf_putc(&objects, ',');
        if (err == APP_OK)
            err = sbuf_append(&objects, row.data, row.len);
        count++;
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "{\"success\":true,\"columns\":");
    if (err == APP_OK)
        err = sbuf_append(out, doc + columns.off, columns.len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"rows\":[");
    if (err == APP_OK && objects.len > 0)
        err = sbuf_append(out, objects.data, objects.len);
    if (err == APP_OK)
        err = sbuf_printf(out, "],\"row_count\":%zu,\"truncated\":%s", count,
                          cut || cut_here ? "true" : "false");
    if (err == APP_OK && cut_here)
        err = sbuf_puts(out, ",\"truncated_reason\":\"bytes\"");
    else if (err == APP_OK && cut && db_member(doc, a->root, "truncated_reason", &reason) &&
             reason.type == JS_STRING)
        err = sbuf_printf(out, ",\"truncated_reason\":%.*s", (int)reason.len, doc + reason.off);
    if (err == APP_OK && db_member(doc, a->root, "duration_ms", &duration) &&
        duration.type == JS_NUMBER)
        err = sbuf_printf(out, ",\"duration_ms\":%.*s", (int)duration.len, doc + duration.off);
    if (err == APP_OK)
        err = sbuf_puts(out, "}\n");
    db_shape_free(&sh);
    sbuf_free(&row);
    sbuf_free(&objects);
    return err;
}

/* POST /sandbox/{id}/database/query. */
static APP_MUST_CHECK app_err db_query(const conf *c, const char *sandbox, const http_req *req,
                                       http_resp *resp, char *msg, size_t msglen)
{
    sbuf request;
    db_answer a;
    sbuf_init(&request, DBW_MAX_REQUEST);
    db_answer_init(&a);
    app_err err = db_query_request(req, &request, msg, msglen);
    if (err == APP_OK)
        err = db_ask(c, sandbox, &request, xp_client_key(req->remote_addr), &a, msg, msglen);
    if (err == APP_OK && !a.ok) {
        db_refused(resp, &a);
    } else if (err == APP_OK) {
        sbuf_reset(&resp->body);
        err = db_put_query(&a, &resp->body);
        if (err == APP_EUPSTREAM)
            snprintf(msg, msglen, "the database broker's answer could not be read");
        if (err == APP_OK)
            err = json_answer(resp, 200);
    }
    db_answer_free(&a);
    sbuf_free(&request);
    return err;
}

/* The query string of the database routes: limit (log) and table (schema). */
typedef struct db_params {
    unsigned limit;
    char table[DBW_MAX_NAME * 4 + 1];
    bool has_table;
} db_params;

static APP_MUST_CHECK app_err db_param(void *ctx, const char *name, size_t nlen, const char *value,
                                       size_t vlen, char *msg, size_t msglen)
{
    db_params *p = ctx;
    (void)nlen;
    if (strcmp(name, "table") == 0) {
        if (vlen == 0 || vlen >= sizeof p->table || memchr(value, '\0', vlen) != NULL) {
            snprintf(msg, msglen,
                     "query parameter 'table' must be a table's name of at most %u "
                     "bytes",
                     DBW_MAX_NAME * 4);
            return APP_EFIELD;
        }
        memcpy(p->table, value, vlen + 1);
        p->has_table = true;
    } else if (strcmp(name, "limit") == 0) {
        unsigned v = 0;
        bool ok = vlen > 0 && vlen <= 4;
        for (size_t i = 0; ok && i < vlen; i++) {
            ok = value[i] >= '0' && value[i] <= '9';
            v = v * 10 + (unsigned)(value[i] - '0');
        }
        if (!ok || v < 1 || v > HIST_MAX_PAGE) {
            snprintf(msg, msglen, "query parameter 'limit' must be a number from 1 to %d",
                     HIST_MAX_PAGE);
            return APP_EFIELD;
        }
        p->limit = v;
    }
    return APP_OK; /* others are ignored, as elsewhere */
}

/* Appends {"op":"schema","table":name} to request (emptied first). */
static APP_MUST_CHECK app_err db_schema_request(sbuf *request, const char *name, size_t len)
{
    sbuf_reset(request);
    app_err err = sbuf_puts(request, "{\"op\":\"schema\",\"table\":");
    if (err == APP_OK)
        err = jsonw_string(request, name, len);
    return err == APP_OK ? sbuf_putc(request, '}') : err;
}

/* GET /sandbox/{id}/database/schema?table=name: that table's columns. */
static APP_MUST_CHECK app_err db_schema_one(const conf *c, const char *sandbox, const char *table,
                                            uint64_t client, http_resp *resp, char *msg,
                                            size_t msglen)
{
    sbuf request;
    db_answer a;
    js_span name, columns;
    sbuf_init(&request, DBW_MAX_REQUEST);
    db_answer_init(&a);
    app_err err = db_schema_request(&request, table, strlen(table));
    if (err == APP_OK)
        err = db_ask(c, sandbox, &request, client, &a, msg, msglen);
    if (err == APP_OK && db_no_table(&a)) {
        snprintf(msg, msglen, "no table or view named %.120s", table);
        err = APP_ENOTFOUND;
    } else if (err == APP_OK && !a.ok) {
        db_refused(resp, &a);
    } else if (err == APP_OK) {
        const char *doc = a.raw.data;
        if (!db_member(doc, a.root, "columns", &columns) || columns.type != JS_ARRAY) {
            snprintf(msg, msglen, "the database broker's answer could not be read");
            err = APP_EUPSTREAM;
        }
        sbuf_reset(&resp->body);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, "{\"table\":");
        if (err == APP_OK && db_member(doc, a.root, "table", &name) && name.type == JS_STRING)
            err = sbuf_append(&resp->body, doc + name.off, name.len);
        else if (err == APP_OK)
            err = jsonw_string(&resp->body, table, strlen(table));
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, ",\"columns\":");
        if (err == APP_OK)
            err = sbuf_append(&resp->body, doc + columns.off, columns.len);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, "}\n");
        if (err == APP_OK)
            err = json_answer(resp, 200);
    }
    db_answer_free(&a);
    sbuf_free(&request);
    return err;
}

/* GET /sandbox/{id}/database/schema: one "tables" request, then one
 * "schema" request per table (at most SBXAPI_DB_MAX_TABLES). */
static APP_MUST_CHECK app_err db_schema_all(const conf *c, const char *sandbox, uint64_t client,
                                            http_resp *resp, char *msg, size_t msglen)
{
    sbuf request, out;
    db_answer list, one;
    js_span tables, k, v, columns;
    sbuf_init(&request, DBW_MAX_REQUEST);
    sbuf_init(&out, SBXAPI_DB_MAX_ANSWER);
    db_answer_init(&list);
    db_answer_init(&one);
    app_err err = sbuf_puts(&request, "{\"op\":\"tables\"}");
    if (err == APP_OK)
        err = db_ask(c, sandbox, &request, client, &list, msg, msglen);
    if (err != APP_OK || !list.ok)
        goto out;
    const char *doc = list.raw.data;
    if (!db_member(doc, list.root, "tables", &tables) || tables.type != JS_ARRAY) {
        snprintf(msg, msglen, "the database broker's answer could not be read");
        err = APP_EUPSTREAM;
        goto out;
    }
    err = sbuf_printf(&out, "{\"database\":\"%s\",\"tables\":[", db_kind(c));
    size_t n = 0;
    bool more = false;
    js_iter it;
    js_iter_init(&it, doc, tables);
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        if (v.type != JS_STRING) {
            snprintf(msg, msglen, "the database broker's answer could not be read");
            err = APP_EUPSTREAM;
            break;
        }
        if (n == SBXAPI_DB_MAX_TABLES) {
            more = true;
            break;
        }
        sbuf name;
        sbuf_init(&name, DBW_MAX_NAME * 4);
        bool nul = false;
        /* A name the broker would not take (too long, a NUL) is listed without columns. */
        bool askable = js_string_decode(doc, v, &name, &nul) == APP_OK && !nul && name.len > 0;
        if (askable)
            err = db_schema_request(&request, name.data, name.len);
        sbuf_free(&name);
        if (err == APP_OK && askable)
            err = db_ask(c, sandbox, &request, client, &one, msg, msglen);
        if (err != APP_OK)
            break;
        if (askable && db_no_table(&one))
            continue; /* dropped since it was listed */
        if (askable && !one.ok) {
            list.ok = false; /* answered with this refusal */
            memcpy(list.type, one.type, sizeof list.type);
            memcpy(list.message, one.message, sizeof list.message);
            break;
        }
        if (askable &&
            (!db_member(one.raw.data, one.root, "columns", &columns) || columns.type != JS_ARRAY)) {
            snprintf(msg, msglen, "the database broker's answer could not be read");
            err = APP_EUPSTREAM;
            break;
        }
        size_t before = out.len;
        err = sbuf_puts(&out, n > 0 ? ",{\"name\":" : "{\"name\":");
        if (err == APP_OK)
            err = sbuf_append(&out, doc + v.off, v.len);
        if (err == APP_OK)
            err = sbuf_puts(&out, ",\"columns\":");
        if (err == APP_OK)
            err = askable ? sbuf_append(&out, one.raw.data + columns.off, columns.len)
                          : sbuf_puts(&out, "null");
        if (err == APP_OK)
            err = sbuf_putc(&out, '}');
        if (err == APP_OK && out.len + 64 > SBXAPI_DB_MAX_ANSWER)
            err = APP_ETOOBIG;
        if (err == APP_ETOOBIG) { /* full: the tables so far */
            sbuf rest;
            sbuf_init(&rest, SBXAPI_DB_MAX_ANSWER);
            err = sbuf_append(&rest, out.data, before);
            sbuf_free(&out);
            out = rest;
            more = true;
            break;
        }
        n++;
    }
    if (err == APP_OK && list.ok)
        err = sbuf_printf(&out, "],\"tables_truncated\":%s}\n", more ? "true" : "false");
    if (err == APP_OK && list.ok) {
        sbuf_free(&resp->body);
        resp->body = out;
        sbuf_init(&out, SBXAPI_DB_MAX_ANSWER);
        err = json_answer(resp, 200);
    }
out:
    if (err == APP_OK && !list.ok)
        db_refused(resp, &list);
    db_answer_free(&one);
    db_answer_free(&list);
    sbuf_free(&out);
    sbuf_free(&request);
    return err;
}

/* Whether sandbox exists (the executor's answer to a status request):
 * APP_OK, or its error (APP_ENOTFOUND, APP_EENDED, APP_EUNAVAIL) with msg. */
static APP_MUST_CHECK app_err db_sandbox_known(const conf *c, const char *sandbox, char *msg,
                                               size_t msglen)
{
    sbuf status;
    sbuf_init(&status, SBXAPI_ANSWER_MAX);
    app_err err = native_sandbox(c, XP_OP_SANDBOX_STATUS, sandbox, NULL, 0, &status, msg, msglen);
    sbuf_free(&status);
    return err;
}

/* GET /sandbox/{id}/database/log. */
static APP_MUST_CHECK app_err db_log(const conf *c, hist *db, const char *sandbox, unsigned limit,
                                     http_resp *resp, char *msg, size_t msglen)
{
    app_err err = db_sandbox_known(c, sandbox, msg, msglen);
    if (err != APP_OK)
        return err;
    if (db == NULL) {
        snprintf(msg, msglen, "the store cannot be opened: the query log is not available");
        return APP_EDB;
    }
    sbuf_reset(&resp->body);
    err = sbuf_printf(&resp->body, "{\"sandbox_id\":\"%s\",\"queries\":", sandbox);
    if (err == APP_OK)
        err = hist_db_log_list(db, sandbox, limit, &resp->body, msg, msglen);
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "}\n");
    return err == APP_OK ? json_answer(resp, 200) : err;
}

app_err sbxapi_database(const conf *c, hist *db, const char *sandbox, const char *what,
                        const http_req *req, http_resp *resp, char *allow, size_t allowlen,
                        char *msg, size_t msglen)
{
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool query = strcmp(what, "query") == 0;
    bool log = sandbox != NULL && strcmp(what, "log") == 0;
    if (!query && !log && strcmp(what, "schema") != 0) {
        snprintf(msg, msglen, "no such endpoint: %.120s", req->path);
        return APP_ENOTFOUND;
    }
    if (query ? strcmp(req->method, "POST") != 0 : !get) {
        snprintf(allow, allowlen, "%s", query ? "POST" : "GET, HEAD");
        return APP_EMETHOD;
    }
    db_params p = {.limit = SBXAPI_DB_LOG_DEFAULT};
    app_err err = form_parse(req->query, strlen(req->query), db_param, &p, msg, msglen);
    if (err != APP_OK)
        return err;
    if (log)
        return db_log(c, db, sandbox, p.limit, resp, msg, msglen);
    if (c->agent_db == NULL) {
        /* An unknown sandbox is still 404 (410) first, as on every route. */
        err = sandbox != NULL ? db_sandbox_known(c, sandbox, msg, msglen) : APP_OK;
        if (err == APP_OK)
            db_not_configured(resp);
        return err;
    }
    uint64_t client = xp_client_key(req->remote_addr);
    if (query)
        return db_query(c, sandbox, req, resp, msg, msglen);
    return p.has_table ? db_schema_one(c, sandbox, p.table, client, resp, msg, msglen)
                       : db_schema_all(c, sandbox, client, resp, msg, msglen);
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
    } else if (strncmp(what, "help/", 5) == 0 || strncmp(what, "templates/", 10) == 0) {
        if (!get) {
            snprintf(allow, allowlen, "GET, HEAD");
            return APP_EMETHOD;
        }
        return what[0] == 'h' ? agent_help(c, id, what + 5, resp, msg, msglen)
                              : agent_templates(c, id, what + 10, resp, msg, msglen);
    } else if (strncmp(what, "database/", 9) == 0) {
        return sbxapi_database(c, db, id, what + 9, req, resp, allow, allowlen, msg, msglen);
    } else if (strcmp(what, "execute") == 0 || strcmp(what, "debug") == 0) {
        if (strcmp(method, "POST") == 0)
            return execute(x, db, id, strcmp(what, "debug") == 0, req, resp, msg, msglen);
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
    if (strcmp(rest, "templates") == 0) {
        if (!get) {
            snprintf(allow, allowlen, "GET, HEAD");
            return APP_EMETHOD;
        }
        return agent_templates(c, NULL, NULL, resp, msg, msglen);
    }
    if (strcmp(rest, "agent/quick-execute") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            snprintf(allow, allowlen, "POST");
            return APP_EMETHOD;
        }
        return quick_execute(c, x, db, req, resp, msg, msglen);
    }
    if (strcmp(rest, "agent/analyze-data") == 0) { /* POST is service.c's (the analyses are its) */
        snprintf(allow, allowlen, "POST");
        return APP_EMETHOD;
    }
    return one_sandbox(c, x, db, rest, req, resp, allow, allowlen, msg, msglen);
}
