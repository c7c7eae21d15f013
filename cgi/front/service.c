/* service.c - routing, body caps and the endpoint handlers. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "analysis.h"
#include "arun.h"
#include "bench.h"
#include "body.h"
#include "hist.h"
#include "execution.h"
#include "form.h"
#include "insights.h"
#include "live.h"
#include "j0api.h"
#include "mcp.h"
#include "native.h"
#include "page.h"
#include "present.h"
#include "reqs.h"
#include "runsse.h"
#include "sandbox_api.h"
#include "xproto.h"

struct svc {
    const conf *conf; /* borrowed */
    page *page;
    ana_set *analysis;
    exe_ctx *exe;     /* routing and statistics; per-worker copies after fork */
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

static hist *svc_db(svc *s, char *msg, size_t msglen);

/* Collects query parameters we know; others are ignored (links may grow). */
typedef struct query_params {
    char run[33];    /* a sandbox link token */
    char window[16]; /* a statistics window */
    char series[16]; /* a time-series bucket for the charts */
    char id[33];     /* a benchmark run */
    char cases[8];   /* non-empty: the benchmark case catalogue */
    int page, per_page;
} query_params;

static APP_MUST_CHECK app_err query_field(void *ctx, const char *name, size_t nlen, const char *value,
                           size_t vlen, char *msg, size_t msglen)
{
    query_params *q = ctx;
    (void)nlen;
    char *dst = NULL;
    size_t cap = 0;
    if (strcmp(name, "run") == 0) {
        dst = q->run;
        cap = sizeof q->run;
    } else if (strcmp(name, "window") == 0) {
        dst = q->window;
        cap = sizeof q->window;
    } else if (strcmp(name, "series") == 0) {
        dst = q->series;
        cap = sizeof q->series;
    } else if (strcmp(name, "id") == 0) {
        dst = q->id;
        cap = sizeof q->id;
    } else if (strcmp(name, "cases") == 0) {
        dst = q->cases;
        cap = sizeof q->cases;
    } else if (strcmp(name, "page") == 0 || strcmp(name, "perPage") == 0) {
        size_t v;
        if (!conf_parse_size(value, &v) || v < 1 || v > 100000) {
            snprintf(msg, msglen, "query parameter '%s' must be a positive number", name);
            return APP_EFIELD;
        }
        *(strcmp(name, "page") == 0 ? &q->page : &q->per_page) = (int)v;
        return APP_OK;
    } else {
        return APP_OK;
    }
    for (size_t i = 0; i < vlen; i++) {
        char c = value[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            snprintf(msg, msglen, "query parameter '%s' has an invalid value", name);
            return APP_EFIELD;
        }
    }
    if (vlen >= cap) {
        snprintf(msg, msglen, "query parameter '%s' is too long", name);
        return APP_EFIELD;
    }
    memcpy(dst, value, vlen + 1);
    return APP_OK;
}

static APP_MUST_CHECK app_err parse_query(const http_req *req, query_params *q, char *msg, size_t msglen)
{
    memset(q, 0, sizeof *q);
    q->page = 1;
    q->per_page = 20;
    return form_parse(req->query, strlen(req->query), query_field, q, msg, msglen);
}

static APP_MUST_CHECK app_err ep_sandbox_get(svc *s, const http_req *req, http_resp *resp, char *msg,
                              size_t msglen)
{
    query_params q;
    app_err err = parse_query(req, &q, msg, msglen);
    if (err != APP_OK)
        return err;
    page_input in = {
        .code = ins_default_code,
        .code_len = strlen(ins_default_code),
        .data = "[]",
        .data_len = 2,
    };
    if (q.run[0] == '\0')
        return page_render(s->page, &in, resp);
    /* A sandbox link from the router: code and data ready to run. */
    hist *db = svc_db(s, msg, msglen);
    if (db == NULL)
        return APP_EDB;
    sbuf code, data;
    sbuf_init(&code, XP_MAX_CODE);
    sbuf_init(&data, XP_MAX_DATA);
    err = hist_handoff_get(db, q.run, &code, &data, msg, msglen);
    if (err == APP_OK) {
        in.code = sbuf_str(&code);
        in.code_len = code.len;
        in.data = data.len ? sbuf_str(&data) : "[]";
        in.data_len = data.len ? data.len : 2;
        err = page_render(s->page, &in, resp);
    }
    sbuf_free(&code);
    sbuf_free(&data);
    return err;
}

static APP_MUST_CHECK app_err ep_sandbox_post(svc *s, const http_req *req, http_resp *resp, char *msg,
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

static APP_MUST_CHECK app_err ep_batch_post(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
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

static APP_MUST_CHECK app_err ep_health(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    (void)req;
    (void)msg;
    (void)msglen;
    /* A full run folder fails quietly elsewhere (nginx cannot buffer large
     * bodies, logs stop, the store cannot write): say it here. */
    struct statvfs fs;
    bool known = statvfs(s->conf->run_dir, &fs) == 0;
    unsigned long long free_bytes =
        known ? (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_frsize : 0;
    bool low = known && free_bytes < SVC_RUN_DIR_MIN_FREE_BYTES;
    char free_text[32] = "null";
    if (known)
        snprintf(free_text, sizeof free_text, "%llu", free_bytes);
    app_err err = sbuf_printf(&resp->body,
                              "{\"status\":\"%s\",\"pyodideVersion\":\"%s\",\"runFolder\":{"
                              "\"freeBytes\":%s,\"minFreeBytes\":%llu,\"lowSpace\":%s}}\n",
                              low ? "degraded" : "ok", PYODIDE_VERSION, free_text,
                              (unsigned long long)SVC_RUN_DIR_MIN_FREE_BYTES, low ? "true" : "false");
    if (err == APP_OK)
        err = http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cache-Control", "no-store");
    return err;
}

static APP_MUST_CHECK app_err json_headers(http_resp *resp)
{
    app_err err = http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cache-Control", "no-store");
    return err;
}

/* Largest body of a request about one execution (GET, DELETE: none expected). */
#define SVC_ITEM_MAX_BODY (64u * 1024)
/* Largest "requirements" object accepted. */
#define SVC_MAX_REQUIREMENTS (64u * 1024)

/* Reads the optional "requirements" field; absent means the defaults.
 * *text (may be NULL) points at its JSON inside b, or is NULL when absent. */
static APP_MUST_CHECK app_err requirements_field(const body *b, reqs *r, const char **text_out,
                                                 size_t *len_out, char *msg, size_t msglen)
{
    const char *text;
    size_t len;
    js_type type;
    reqs_init(r);
    if (text_out != NULL) {
        *text_out = NULL;
        *len_out = 0;
    }
    app_err err = body_json(b, "requirements", SVC_MAX_REQUIREMENTS, &text, &len, &type, msg,
                            msglen);
    if (err == APP_ENOTFOUND)
        return APP_OK;
    if (err == APP_ETOOBIG)
        return APP_EFIELD;
    if (err == APP_OK)
        err = reqs_decode(text, len, r, msg, msglen);
    if (err == APP_OK && text_out != NULL) {
        *text_out = text;
        *len_out = len;
    }
    return err;
}

/* The answer of a run as the HTTP response: the error with its status, or
 * the result in the output format asked for (JSON unless text or html). */
static APP_MUST_CHECK app_err send_run_answer(http_resp *resp, exe_answer *a, reqs_format format)
{
    _Static_assert(EXE_MAX_ANSWER <= HTTP_MAX_RESPONSE, "an answer must fit a response");
    if (a->err != APP_OK) {
        http_resp_error_detail(resp, a->err, a->message, a->detail_name, sbuf_str(&a->detail));
        return APP_OK;
    }
    const char *type = "application/json; charset=utf-8";
    sbuf_free(&resp->body);
    resp->body = a->result;
    sbuf_init(&a->result, EXE_MAX_ANSWER);
    if (format != FORMAT_JSON) {
        sbuf rendered;
        sbuf_init(&rendered, HTTP_MAX_RESPONSE);
        bool text = format == FORMAT_TEXT;
        if ((text ? present_text : present_html)(resp->body.data, resp->body.len, &rendered) ==
            APP_OK) {
            sbuf_free(&resp->body);
            resp->body = rendered;
            type = text ? "text/plain; charset=utf-8" : "text/html; charset=utf-8";
        } else {
            sbuf_free(&rendered); /* the JSON answer is still the truth */
        }
    }
    app_err err = http_resp_header(resp, "Content-Type", type);
    return err == APP_OK ? http_resp_header(resp, "Cache-Control", "no-store") : err;
}

/* Reads {code, data?, <more>} shared by both run endpoints into er: code
 * (required) and data (default []).  *code is the caller's to free. */
static APP_MUST_CHECK app_err decode_run(const body *b, exe_request *er, char **code, char *msg, size_t msglen)
{
    app_err err = body_string(b, "code", XP_MAX_CODE, code, &er->code_len, msg, msglen);
    if (err == APP_OK && *code == NULL) {
        snprintf(msg, msglen, "field 'code' is required");
        err = APP_EFIELD;
    }
    if (err != APP_OK)
        return err;
    er->code = *code;
    js_type type;
    err = body_json(b, "data", XP_MAX_DATA, &er->data, &er->data_len, &type, msg, msglen);
    if (err == APP_ENOTFOUND) {
        er->data = "[]";
        er->data_len = 2;
        err = APP_OK;
    }
    return err;
}

/* The fields of POST /api/python/execute (those of POST
 * /api/python/executions, which adds sandbox_id, come first). */
static const char *const native_fields[] = {"code", "data", "requirements", "sandbox_id"};
#define NATIVE_FIELDS 3

/* Decodes the body of the native-engine endpoints (POST /api/python/execute
 * and /api/python/executions), {code, data?, requirements?} and whatever
 * else known names, into er (which points into *b and *code: the caller
 * frees both) and r; *req_text is the requirements object's JSON inside
 * *b, or NULL when absent. */
static APP_MUST_CHECK app_err decode_native_run(const http_req *req, const char *const *known,
                                                size_t nknown, body **b, exe_request *er,
                                                reqs *r, char **code, const char **req_text,
                                                size_t *req_len, char *msg, size_t msglen)
{
    app_err err = body_decode(req->content_type, req->body, req->body_len, b, msg, msglen);
    if (err == APP_OK)
        err = body_only(*b, known, nknown, msg, msglen);
    if (err == APP_OK)
        err = decode_run(*b, er, code, msg, msglen);
    if (err == APP_OK)
        err = requirements_field(*b, r, req_text, req_len, msg, msglen);
    if (err == APP_OK && r->preferred_engine != ENGINE_AUTO &&
        r->preferred_engine != ENGINE_NATIVE) {
        snprintf(msg, msglen,
                 "this endpoint runs the native engine; use /api/insights/python-execution to "
                 "choose another (preferredEngine: %s)",
                 reqs_engine_name(r->preferred_engine));
        err = APP_EFIELD;
    }
    return err;
}

static APP_MUST_CHECK app_err ep_execute(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    body *b = NULL;
    char *code = NULL;
    reqs r;
    exe_request er = {.r = &r, .cancel_fd = req->cancel_fd,
                      .client = xp_client_key(req->remote_addr)};
    app_err err = decode_native_run(req, native_fields, NATIVE_FIELDS, &b, &er, &r, &code, NULL,
                                    NULL, msg, msglen);
    if (err == APP_OK && live_wanted(req)) {
        char dbmsg[APP_ERRMSG_LEN];
        err = live_run(s->exe, svc_db(s, dbmsg, sizeof dbmsg), &er, false, req, resp);
    } else if (err == APP_OK) {
        char dbmsg[APP_ERRMSG_LEN];
        exe_answer a;
        exe_run_native(s->exe, svc_db(s, dbmsg, sizeof dbmsg), &er, &a);
        /* This endpoint answers JSON whatever outputFormat says, as it always has. */
        err = send_run_answer(resp, &a, FORMAT_JSON);
        exe_answer_free(&a);
    }
    free(code);
    body_free(b);
    return err;
}

/* POST /sandbox/agent/analyze-data {data | documents, analysisType}: the
 * batch analysis run on the server's native engine, answered as its JSON
 * result instead of a page (the program is batch-analyze's). */
static APP_MUST_CHECK app_err ep_agent_analyze(svc *s, const http_req *req, http_resp *resp,
                                               char *msg, size_t msglen)
{
    body *b = NULL;
    ins_request r = {0};
    reqs q;
    reqs_init(&q);
    q.insights = true; /* a batch analysis always carries its findings */
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = ins_decode_batch(b, s->analysis, &r, msg, msglen);
    if (err == APP_OK) {
        exe_request er = {.r = &q, .cancel_fd = req->cancel_fd,
                          .client = xp_client_key(req->remote_addr), .code = r.page.code,
                          .code_len = r.page.code_len, .data = r.page.data,
                          .data_len = r.page.data_len};
        char dbmsg[APP_ERRMSG_LEN];
        exe_answer a;
        exe_run_native(s->exe, svc_db(s, dbmsg, sizeof dbmsg), &er, &a);
        err = send_run_answer(resp, &a, FORMAT_JSON);
        exe_answer_free(&a);
    }
    ins_request_free(&r);
    body_free(b);
    return err;
}

/* The base of links we hand out: PYSANDBOX_PUBLIC_URL, or the request's own
 * scheme and Host (checked: it is echoed into a URL). */
static void link_base(const svc *s, const http_req *req, char *out, size_t len)
{
    if (s->conf->public_url != NULL) {
        snprintf(out, len, "%s", s->conf->public_url);
        return;
    }
    const char *host = req->host[0] ? req->host : "localhost";
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            host = "localhost";
    snprintf(out, len, "%s://%s/", strcmp(req->scheme, "https") == 0 ? "https" : "http", host);
}

static APP_MUST_CHECK app_err ep_execution_run(svc *s, const http_req *req, http_resp *resp, char *msg,
                                size_t msglen)
{
    static const char *const known[] = {"code", "data", "requirements", "client"};
    body *b = NULL;
    char *code = NULL, *client = NULL;
    size_t client_len = 0;
    reqs r;
    exe_request er = {0};
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, 4, msg, msglen);
    if (err == APP_OK)
        err = decode_run(b, &er, &code, msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "client", 16, &client, &client_len, msg, msglen);
    if (err == APP_OK && client != NULL && strcmp(client, "api") != 0 && strcmp(client, "page") != 0) {
        snprintf(msg, msglen, "field 'client' must be \"api\" or \"page\"");
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        err = requirements_field(b, &r, NULL, NULL, msg, msglen);
    if (err == APP_OK) {
        char base[4200];
        link_base(s, req, base, sizeof base);
        er.r = &r;
        er.caller_is_page = client != NULL && strcmp(client, "page") == 0;
        er.link_base = base;
        er.cancel_fd = req->cancel_fd;
        er.client = xp_client_key(req->remote_addr);
        char dbmsg[APP_ERRMSG_LEN];
        if (live_wanted(req)) {
            err = live_run(s->exe, svc_db(s, dbmsg, sizeof dbmsg), &er, true, req, resp);
        } else {
            exe_answer a;
            exe_run(s->exe, svc_db(s, dbmsg, sizeof dbmsg), &er, &a);
            err = send_run_answer(resp, &a, r.output_format);
            exe_answer_free(&a);
        }
    }
    free(code);
    free(client);
    body_free(b);
    return err;
}

/* Parses a statistics window: "90s", "30m", "24h", "7d" or plain seconds. */
static bool parse_window(const char *text, long *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 10)
        return false;
    long mult = 1;
    char unit = text[n - 1];
    char digits[16];
    snprintf(digits, sizeof digits, "%s", text);
    if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') {
        mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
        digits[n - 1] = '\0';
    }
    size_t v;
    if (!conf_parse_size(digits, &v) || v == 0 || v > HIST_MAX_WINDOW_S)
        return false;
    *out = (long)v * mult;
    return *out <= HIST_MAX_WINDOW_S;
}

static APP_MUST_CHECK app_err ep_execution_stats(svc *s, const http_req *req, http_resp *resp, char *msg,
                                  size_t msglen)
{
    query_params q;
    app_err err = parse_query(req, &q, msg, msglen);
    if (err != APP_OK)
        return err;
    long window = (long)s->conf->stats_window_s;
    if (q.window[0] != '\0' && !parse_window(q.window, &window)) {
        snprintf(msg, msglen, "window must look like 1h, 24h, 7d or a number of seconds (at most "
                              "90 days)");
        return APP_EFIELD;
    }
    long bucket = 0;
    if (q.series[0] != '\0' && (!parse_window(q.series, &bucket) || window / bucket > 2000)) {
        snprintf(msg, msglen, "series must be a bucket like 5m or 1h, with at most 2000 buckets "
                              "in the window");
        return APP_EFIELD;
    }
    hist *db = svc_db(s, msg, msglen);
    if (db == NULL)
        return APP_EDB;
    err = exe_stats_json(s->exe, db, window, &resp->body, msg, msglen);
    if (err == APP_OK && bucket > 0) {
        /* Add "series" to the object exe_stats_json wrote ("...}\n"). */
        while (resp->body.len > 0 && resp->body.data[resp->body.len - 1] != '}')
            resp->body.len--;
        resp->body.len--;
        err = sbuf_printf(&resp->body, ",\"seriesBucketSeconds\":%ld,\"series\":", bucket);
        if (err == APP_OK)
            err = hist_timeseries_json(db, window, bucket, &resp->body, msg, msglen);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, "}\n");
    }
    return err == APP_OK ? json_headers(resp) : err;
}

static APP_MUST_CHECK app_err ep_execution_report(svc *s, const http_req *req, http_resp *resp, char *msg,
                                   size_t msglen)
{
    static const char *const known[] = {"engine",    "status",    "success",     "executionTime",
                                        "wallMs",    "codeBytes", "dataBytes",   "outputBytes",
                                        "error",     "missingPackages"};
    static const char *const statuses[] = {"ok",           "error",  "timeout", "memory_limit",
                                           "output_limit", "killed", "engine_error", NULL};
    body *b = NULL;
    char *engine = NULL, *status = NULL, *error = NULL;
    size_t len;
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK)
        err = body_only(b, known, sizeof known / sizeof known[0], msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "engine", 16, &engine, &len, msg, msglen);
    if (err == APP_OK && (engine == NULL || strcmp(engine, "browser") != 0)) {
        snprintf(msg, msglen, "field 'engine' must be \"browser\" (server engines record their "
                              "own runs)");
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        err = body_string(b, "status", 16, &status, &len, msg, msglen);
    bool known_status = false;
    for (int i = 0; err == APP_OK && status != NULL && statuses[i] != NULL; i++)
        known_status = known_status || strcmp(status, statuses[i]) == 0;
    if (err == APP_OK && !known_status) {
        snprintf(msg, msglen, "field 'status' must be one of ok, error, timeout, memory_limit, "
                              "output_limit, killed, engine_error");
        err = APP_EFIELD;
    }
    if (err == APP_OK)
        err = body_string(b, "error", 500, &error, &len, msg, msglen);
    /* Numbers: non-negative and sane, so one bad client cannot skew the charts. */
    static const char *const numbers[] = {"executionTime", "wallMs", "codeBytes", "dataBytes",
                                          "outputBytes"};
    double values[5] = {-1, -1, 0, 0, 0};
    for (int i = 0; i < 5 && err == APP_OK; i++) {
        const char *text;
        js_type type;
        app_err e = body_json(b, numbers[i], 64, &text, &len, &type, msg, msglen);
        if (e == APP_ENOTFOUND)
            continue;
        double v = e == APP_OK && type == JS_NUMBER ? js_number(text, (js_span){JS_NUMBER, 0, len})
                                                    : -1;
        if (e != APP_OK || type != JS_NUMBER || !(v >= 0 && v <= 1e9)) {
            snprintf(msg, msglen, "field '%s' must be a number from 0 to 1e9", numbers[i]);
            err = APP_EFIELD;
        }
        values[i] = v;
    }
    hist *db = NULL;
    if (err == APP_OK && (db = svc_db(s, msg, msglen)) == NULL)
        err = APP_EDB;
    if (err == APP_OK) {
        hist_execution e = {
            .engine = "browser",
            .status = status,
            .success = strcmp(status, "ok") == 0,
            .wall_ms = values[1] >= 0 ? values[1] : values[0] >= 0 ? values[0] : 0,
            .exec_ms = values[0],
            .code_bytes = (size_t)values[2],
            .data_bytes = (size_t)values[3],
            .output_bytes = (size_t)values[4],
            .source = "page",
            .error = error,
        };
        err = hist_record(db, &e, msg, msglen);
    }
    if (err == APP_OK) {
        resp->status = 201;
        err = sbuf_puts(&resp->body, "{\"recorded\":true}\n");
    }
    if (err == APP_OK)
        err = json_headers(resp);
    free(engine);
    free(status);
    free(error);
    body_free(b);
    return err;
}

static APP_MUST_CHECK app_err ep_benchmark_post(svc *s, const http_req *req, http_resp *resp, char *msg,
                                 size_t msglen)
{
    body *b = NULL;
    char id[33];
    hist *db = NULL;
    app_err err = body_decode(req->content_type, req->body, req->body_len, &b, msg, msglen);
    if (err == APP_OK && (db = svc_db(s, msg, msglen)) == NULL)
        err = APP_EDB;
    if (err == APP_OK) {
        /* The statistics page posts what it measured in the browser. */
        bool browser = body_has(b, "results");
        err = browser ? bench_store_browser(db, b, id, msg, msglen)
                      : bench_start(s->conf, s->exe, db, b, id, msg, msglen);
        if (err == APP_OK) {
            resp->status = browser ? 201 : 202;
            err = sbuf_printf(&resp->body,
                              "{\"id\":\"%s\",\"status\":\"%s\",\"statusUrl\":"
                              "\"/api/insights/python-benchmark?id=%s\"}\n",
                              id, browser ? "done" : "running", id);
        }
    }
    if (err == APP_OK)
        err = json_headers(resp);
    body_free(b);
    return err;
}

static APP_MUST_CHECK app_err ep_benchmark_get(svc *s, const http_req *req, http_resp *resp, char *msg,
                                size_t msglen)
{
    query_params q;
    app_err err = parse_query(req, &q, msg, msglen);
    hist *db = NULL;
    if (err == APP_OK && q.cases[0] != '\0') {
        /* ?cases=1: what the statistics page runs in the browser. */
        err = sbuf_puts(&resp->body, "{\"cases\":");
        if (err == APP_OK)
            err = bench_cases_json(&resp->body);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, ",\"data\":");
        if (err == APP_OK)
            err = bench_data_json(&resp->body);
        if (err == APP_OK)
            err = sbuf_puts(&resp->body, "}\n");
        return err == APP_OK ? json_headers(resp) : err;
    }
    if (err == APP_OK && (db = svc_db(s, msg, msglen)) == NULL)
        err = APP_EDB;
    if (err == APP_OK && q.id[0] != '\0')
        err = hist_bench_get_json(db, q.id, &resp->body, msg, msglen);
    else if (err == APP_OK)
        err = hist_bench_history_json(db, q.page, q.per_page > HIST_MAX_PAGE ? HIST_MAX_PAGE
                                                                             : q.per_page,
                                      &resp->body, msg, msglen);
    return err == APP_OK ? json_headers(resp) : err;
}

static APP_MUST_CHECK app_err ep_stats_page(svc *s, const http_req *req, http_resp *resp, char *msg,
                             size_t msglen)
{
    (void)req;
    (void)msg;
    (void)msglen;
    return page_render_stats(s->page, resp);
}

static APP_MUST_CHECK app_err ep_judge0(svc *s, const http_req *req, http_resp *resp, char *msg, size_t msglen)
{
    hist *db = svc_db(s, msg, msglen);
    j0api_handle(s->conf, db, req, resp);
    return APP_OK;
}

static APP_MUST_CHECK app_err ep_sandboxes(svc *s, const http_req *req, http_resp *resp, char *msg,
                                            size_t msglen)
{
    char dbmsg[APP_ERRMSG_LEN], allow[64] = "";
    app_err err = sbxapi_handle(s->conf, s->exe, svc_db(s, dbmsg, sizeof dbmsg), req, resp, allow,
                                sizeof allow, msg, msglen);
    if (err == APP_EMETHOD) {
        snprintf(msg, msglen, "%.16s is not allowed here; allowed: %s", req->method, allow);
        http_resp_error(resp, err, msg);
        /* A fixed list of methods: only memory can refuse it, and the 405 stands. */
        app_ignore(http_resp_header(resp, "Allow", allow));
        return APP_OK;
    }
    return err;
}

static APP_MUST_CHECK app_err ep_python_health(svc *s, const http_req *req, http_resp *resp, char *msg,
                                size_t msglen)
{
    (void)req;
    app_err err = native_status(s->conf, &resp->body, msg, msglen);
    if (err == APP_OK)
        err = json_headers(resp);
    return err;
}

/* Reads POST /api/python/executions' optional sandbox_id into *sandbox
 * (the caller frees it; NULL when absent) and checks what goes with it: a
 * sandbox's executions take its own limits (no requirements), and without
 * data it keeps the data it has. */
static APP_MUST_CHECK app_err sandbox_field(const body *b, exe_request *er, char **sandbox,
                                            char *msg, size_t msglen)
{
    size_t len = 0;
    app_err err = body_string(b, "sandbox_id", 2 * XP_SANDBOX_ID_LEN, sandbox, &len, msg, msglen);
    if (err != APP_OK || *sandbox == NULL)
        return err;
    if (!xp_sandbox_id_ok(*sandbox, len)) { /* as /sandbox/{id}/execute answers it */
        snprintf(msg, msglen, "no such sandbox (never made, deleted, or expired)");
        return APP_ENOTFOUND;
    }
    if (body_has(b, "requirements")) {
        snprintf(msg, msglen, "a sandbox's executions run with its own limits: 'requirements' "
                              "cannot go with 'sandbox_id'");
        return APP_EFIELD;
    }
    if (!body_has(b, "data")) {
        er->data = "";
        er->data_len = 0;
    }
    return APP_OK;
}

/* POST /api/python/executions: the body of /api/python/execute (and an
 * optional sandbox_id), stored and run by a background task; 202 with
 * where to poll. */
static APP_MUST_CHECK app_err ep_executions_post(svc *s, const http_req *req, http_resp *resp,
                                                 char *msg, size_t msglen)
{
    body *b = NULL;
    char *code = NULL, *sandbox = NULL;
    reqs r;
    exe_request er = {.r = &r};
    arun_request ar = {.client = xp_client_key(req->remote_addr)};
    size_t req_len = 0;
    char *req_text = NULL; /* From malloc(): NUL-terminated for the store */
    const char *req_span = NULL;
    hist *db = NULL;
    char id[HIST_RUN_ID_LEN + 1];
    app_err err = decode_native_run(req, native_fields, NATIVE_FIELDS + 1, &b, &er, &r, &code,
                                    &req_span, &req_len, msg, msglen);
    if (err == APP_OK)
        err = sandbox_field(b, &er, &sandbox, msg, msglen);
    /* Limits the engine would refuse are refused now, not when the run starts. */
    native_job limits = {0};
    if (err == APP_OK)
        err = native_limits(s->conf, &r, &limits, msg, msglen);
    if (err == APP_OK && req_span != NULL && (req_text = strndup(req_span, req_len)) == NULL)
        err = APP_ENOMEM;
    if (err == APP_OK && (db = svc_db(s, msg, msglen)) == NULL)
        err = APP_EDB;
    if (err == APP_OK) {
        ar.code = er.code;
        ar.code_len = er.code_len;
        ar.data = er.data;
        ar.data_len = er.data_len;
        ar.requirements = req_text;
        ar.sandbox = sandbox;
        err = arun_submit(s->conf, db, &ar, id, msg, msglen);
    }
    char location[sizeof ARUN_PATH + HIST_RUN_ID_LEN + 2];
    if (err == APP_OK) {
        snprintf(location, sizeof location, ARUN_PATH "/%s", id);
        resp->status = 202;
        err = sbuf_printf(&resp->body,
                          "{\"id\":\"%s\",\"status\":\"queued\",\"statusUrl\":\"%s\","
                          "\"eventsUrl\":\"%s/events\"}\n",
                          id, location, location);
    }
    if (err == APP_OK)
        err = http_resp_header(resp, "Location", location);
    if (err == APP_OK)
        err = http_resp_header(resp, "Retry-After", "1");
    if (err == APP_OK)
        err = json_headers(resp);
    free(req_text);
    free(sandbox);
    free(code);
    body_free(b);
    return err;
}

/* Answers a wrong method on a run's URLs: 405 with Allow. */
static void method_not_allowed(const http_req *req, http_resp *resp, const char *allow, char *msg,
                               size_t msglen)
{
    snprintf(msg, msglen, "%.16s is not allowed here; allowed: %s", req->method, allow);
    http_resp_error(resp, APP_EMETHOD, msg);
    /* A fixed value: only memory can refuse it, and the 405 stands. */
    app_ignore(http_resp_header(resp, "Allow", allow));
}

/* /api/python/executions/{id}: GET (HEAD) reads a run, DELETE cancels it;
 * /api/python/executions/{id}/events: GET streams its events (runsse.h). */
static APP_MUST_CHECK app_err ep_executions_item(svc *s, const http_req *req, http_resp *resp,
                                                 char *msg, size_t msglen)
{
    const char *rest = req->path + strlen(ARUN_PATH "/");
    char id[HIST_RUN_ID_LEN + 1] = "";
    const char *slash = strchr(rest, '/');
    bool events = slash != NULL && strcmp(slash, "/events") == 0;
    size_t id_len = events ? (size_t)(slash - rest) : strlen(rest);
    if (id_len <= HIST_RUN_ID_LEN) { /* longer: not an id, answered unknown below */
        memcpy(id, rest, id_len);
        id[id_len] = '\0';
    }
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool del = strcmp(req->method, "DELETE") == 0;
    if (events ? strcmp(req->method, "GET") != 0 : !get && !del) {
        method_not_allowed(req, resp, events ? "GET" : "GET, HEAD, DELETE", msg, msglen);
        return APP_OK;
    }
    if (slash != NULL && !events) {
        snprintf(msg, msglen, "no such endpoint: %.120s", req->path);
        return APP_ENOTFOUND;
    }
    /* A malformed id is unknown without asking the store (arun_* answer
     * it before touching db). */
    hist *db = NULL;
    if (arun_id_ok(id) && (db = svc_db(s, msg, msglen)) == NULL)
        return APP_EDB;
    if (events)
        return runsse_serve(s->conf, db, id, req, resp, msg, msglen);
    app_err err = get ? arun_status_json(s->conf, db, id, &resp->body, msg, msglen)
                      : arun_cancel(s->conf, db, id, &resp->body, msg, msglen);
    if (err == APP_OK && del)
        resp->status = 202; /* cancelled; the task and its job stop within moments */
    return err == APP_OK ? json_headers(resp) : err;
}

/* A tool of the MCP endpoint reaches the other endpoints through here,
 * and the database without a sandbox at MCP_DB_PATH (mcp.h), which is no
 * route of svc_handle's. */
static void mcp_subrequest(void *ctx, const http_req *req, http_resp *resp)
{
    static const char db_prefix[] = MCP_DB_PATH "/";
    svc *s = ctx;
    if (strncmp(req->path, db_prefix, sizeof db_prefix - 1) != 0) {
        svc_handle(s, req, resp);
        return;
    }
    char msg[APP_ERRMSG_LEN] = "", dbmsg[APP_ERRMSG_LEN], allow[64] = "";
    http_resp_reset(resp);
    app_err err = sbxapi_database(s->conf, svc_db(s, dbmsg, sizeof dbmsg), NULL,
                                  req->path + sizeof db_prefix - 1, req, resp, allow,
                                  sizeof allow, msg, sizeof msg);
    if (err != APP_OK)
        http_resp_error(resp, err, msg[0] != '\0' ? msg : NULL);
}

/* /mcp: the Model Context Protocol (mcp.h). */
static APP_MUST_CHECK app_err ep_mcp(svc *s, const http_req *req, http_resp *resp, char *msg,
                                     size_t msglen)
{
    hist *db = svc_db(s, msg, msglen);
    if (db == NULL)
        return APP_EDB;
    mcp_env env = {.db = db, .subrequest = mcp_subrequest, .ctx = s};
    mcp_serve(&env, req, resp);
    return APP_OK;
}

/* --- routing ------------------------------------------------------------- */

static const route routes[] = {
    {"/api/insights/python-sandbox", "GET", ep_sandbox_get, 0, false},
    {"/api/insights/python-sandbox", "POST", ep_sandbox_post, 0, false},
    {"/api/insights/batch-analyze", "POST", ep_batch_post, 0, false},
    {"/api/health", "GET", ep_health, 0, false},
    {"/api/python/execute", "POST", ep_execute, NATIVE_MAX_BODY, false},
    {"/api/python/health", "GET", ep_python_health, 0, false},
    {ARUN_PATH, "POST", ep_executions_post, NATIVE_MAX_BODY, false},
    {ARUN_PATH "/", "*", ep_executions_item, SVC_ITEM_MAX_BODY, true},
    {"/api/insights/python-execution", "POST", ep_execution_run, NATIVE_MAX_BODY, false},
    {"/api/insights/python-execution", "GET", ep_execution_stats, 0, false},
    {"/api/insights/python-execution/report", "POST", ep_execution_report, 0, false},
    {"/api/insights/python-benchmark", "POST", ep_benchmark_post, 0, false},
    {"/api/insights/python-benchmark", "GET", ep_benchmark_get, 0, false},
    {"/stats", "GET", ep_stats_page, 0, false},
    {"/judge0/", "*", ep_judge0, NATIVE_MAX_BODY, true},
    {"/sandbox", "*", ep_sandboxes, 0, false},
    /* Before /sandbox/: the analyses are the service's (its other methods: 405 there). */
    {"/sandbox/agent/analyze-data", "POST", ep_agent_analyze, NATIVE_MAX_BODY, false},
    {"/sandbox/", "*", ep_sandboxes, SBXAPI_MAX_BODY, true},
    {"/mcp", "*", ep_mcp, MCP_MAX_BODY, false},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* HEAD is served wherever GET is (the adapter drops the body). */
static bool method_matches(const route *r, const char *method)
{
    return strcmp(r->method, "*") == 0 || strcmp(r->method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

/* Finds the route; on APP_EMETHOD fills allow with "GET, HEAD, POST"-style text. */
static APP_MUST_CHECK app_err find_route(const char *method, const char *path, const route **out, char *allow,
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
        /* A fixed list of methods: only memory can refuse it, and the 405 stands. */
        app_ignore(http_resp_header(resp, "Allow", allow));
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
    if (err == APP_OK)
        err = exe_ctx_new(c, &s->exe, msg, msglen);
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
    exe_ctx_free(s->exe);
    free(s);
}
