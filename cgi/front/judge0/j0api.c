/*
 * j0api.c - the Judge0-compatible API's routes: the table of /judge0/...
 * paths and methods, and the thin handler of each (parse the request, call
 * the module that does the work, answer).  The work is elsewhere in
 * cgi/front/judge0/: j0_tables (what Judge0 is), j0_request (decoding and
 * validation), j0_result (engine result -> Judge0 fields), j0_run (store
 * and run), j0_render (JSON bodies), j0_http (answer shapes, query, body).
 * Judge0 CE 1.13.1 semantics: see docs/design/judge0-api.md.
 */
#include "j0api.h"

#include <stdio.h>
#include <string.h>

#include "hist_j0.h"
#include "j0_http.h"
#include "j0_render.h"
#include "j0_request.h"
#include "j0_run.h"
#include "j0_tables.h"
#include "jscan.h"
#include "jsonw.h"
#include "xproto.h"

/* --- the submission routes ------------------------------------------------------------- */

/* The store, or a 503 answer when it could not be opened.  Creating
 * purges expired and lost rows on the way (reads only filter them). */
static hist *open_store(const conf *c, hist *h, bool purge, http_resp *resp)
{
    if (h == NULL) {
        j0http_error(resp, 503, "the submission store is not available");
        return NULL;
    }
    if (purge)
        hist_j0_purge(h, j0run_stale_s(c));
    return h;
}

/* 503 "queue is full" when n more submissions would pass J0_MAX_QUEUE. */
static bool queue_room(hist *db, long n, http_resp *resp)
{
    long queued = 0;
    char msg[APP_ERRMSG_LEN];
    if (hist_j0_queue_size(db, &queued, msg, sizeof msg) != APP_OK) {
        j0http_error(resp, 500, msg);
        return false;
    }
    if (queued + n > J0_MAX_QUEUE) {
        j0http_error(resp, 503, "queue is full");
        return false;
    }
    return true;
}

/* POST /submissions */
static void h_create(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)arg;
    j0http_query q;
    j0tab_fields f;
    js_span root;
    if (!j0http_query_parse(req, &q, resp))
        return;
    hist *db = open_store(c, h, true, resp);
    if (db == NULL || !queue_room(db, 1, resp) || !j0http_query_fields(&q, &f, resp) ||
        !j0http_body(req, &root, resp))
        return;
    j0tab_limits l;
    j0tab_limits_get(c, &l);
    j0req r;
    j0req_init(&r, &l);
    char token[J0_TOKEN_LEN + 1] = "", msg[APP_ERRMSG_LEN] = "";
    sbuf errs;
    sbuf_init(&errs, 64 * 1024);
    app_err err =
        j0run_create(c, db, req->body ? req->body : "", root, q.base64,
                     q.wait ? J0_ST_PROCESS : J0_ST_QUEUE, &r, token, &errs, msg, sizeof msg);
    if (err == APP_EFIELD) {
        app_err werr =
            sbuf_append(&resp->body, errs.data ? errs.data : "{}", errs.len ? errs.len : 2);
        if (werr == APP_OK)
            j0http_ok_json(resp, 422);
        else
            j0http_render_failed(resp, werr);
    } else if (err != APP_OK) {
        j0http_error(resp, 500, msg[0] ? msg : app_strerror(err));
    } else if (!q.wait) {
        if (j0run_spawn(db, token, msg, sizeof msg) != APP_OK) {
            j0http_error(resp, 503, msg);
        } else if (sbuf_printf(&resp->body, "{\"token\":\"%s\"}", token) == APP_OK) {
            j0http_ok_json(resp, 201);
        } else {
            j0http_render_failed(resp, APP_ENOMEM);
        }
    } else {
        j0run_execute(c, h, token, &r, req->cancel_fd, xp_client_key(req->remote_addr),
                      J0_WAIT_BUSY_RETRY_S);
        hist_j0_row row;
        err = j0run_get(db, token, &row, msg, sizeof msg);
        if (err == APP_OK)
            err = j0render_submission(&l, &row, &f, q.base64, &resp->body);
        hist_j0_row_free(&row);
        if (err == APP_EUTF8) {
            sbuf_reset(&resp->body);
            err = sbuf_printf(&resp->body,
                              "{\"token\":\"%s\",\"error\":\"some attributes for this "
                              "submission cannot be converted to UTF-8, use base64_encoded=true "
                              "query parameter\"}",
                              token);
        }
        if (err == APP_OK)
            j0http_ok_json(resp, 201);
        else
            j0http_render_failed(resp, err);
    }
    sbuf_free(&errs);
    j0req_free(&r);
}

/* POST /submissions/batch (wait and fields are ignored, as in Judge0). */
static void h_batch_create(const conf *c, hist *h, const http_req *req, const char *arg,
                           http_resp *resp)
{
    (void)arg;
    j0http_query q;
    js_span root, list;
    if (!j0http_query_parse(req, &q, resp))
        return;
    hist *db = open_store(c, h, true, resp);
    if (db == NULL || !j0http_body(req, &root, resp))
        return;
    const char *doc = req->body ? req->body : "";
    size_t n = 0;
    if (j0req_member(doc, root, "submissions", &list) && list.type == JS_ARRAY) {
        js_iter it;
        js_iter_init(&it, doc, list);
        js_span el;
        while (n <= J0_MAX_BATCH && js_iter_next(&it, NULL, &el))
            n++;
    }
    if (n > J0_MAX_BATCH) {
        j0http_error(resp, 400,
                     "number of submissions in a batch should be less than or equal to 20");
        return;
    }
    if (n == 0) {
        j0http_error(resp, 400, "there should be at least one submission in a batch");
        return;
    }
    if (!queue_room(db, (long)n, resp))
        return;
    j0tab_limits l;
    j0tab_limits_get(c, &l);
    sbuf *out = &resp->body;
    app_err err = sbuf_putc(out, '[');
    bool any = false;
    js_iter it;
    js_iter_init(&it, doc, list);
    js_span el;
    for (size_t i = 0; err == APP_OK && js_iter_next(&it, NULL, &el); i++) {
        j0req r;
        j0req_init(&r, &l);
        char token[J0_TOKEN_LEN + 1] = "", msg[APP_ERRMSG_LEN] = "";
        if (i > 0)
            err = sbuf_putc(out, ',');
        app_err one = err == APP_OK ? j0run_create(c, db, doc, el, q.base64, J0_ST_QUEUE, &r, token,
                                                   out, msg, sizeof msg)
                                    : err;
        if (one == APP_OK)
            one = j0run_spawn(db, token, msg, sizeof msg);
        if (one == APP_OK) {
            err = sbuf_printf(out, "{\"token\":\"%s\"}", token);
            any = true;
        } else if (one != APP_EFIELD) {
            /* Judge0 has no per-item form for this: report it in the item. */
            err = sbuf_puts(out, "{\"error\":");
            if (err == APP_OK)
                err = jsonw_string(out, msg[0] ? msg : app_strerror(one),
                                   strlen(msg[0] ? msg : app_strerror(one)));
            if (err == APP_OK)
                err = sbuf_putc(out, '}');
        }
        j0req_free(&r);
    }
    if (err == APP_OK)
        err = sbuf_putc(out, ']');
    if (err != APP_OK)
        j0http_render_failed(resp, err);
    else
        j0http_ok_json(resp, any ? 201 : 422);
}

/* GET /submissions/{token} */
static void h_show(const conf *c, hist *h, const http_req *req, const char *token, http_resp *resp)
{
    j0http_query q;
    j0tab_fields f;
    if (!j0http_query_parse(req, &q, resp) || !j0http_query_fields(&q, &f, resp))
        return;
    hist *db = open_store(c, h, false, resp);
    if (db == NULL)
        return;
    hist_j0_row row;
    char msg[APP_ERRMSG_LEN] = "";
    app_err err = j0run_load(c, db, token, &row, msg, sizeof msg);
    if (err == APP_ENOTFOUND) {
        j0http_error(resp, 404, "submission not found");
        return;
    }
    if (err != APP_OK) {
        j0http_error(resp, 500, msg[0] ? msg : app_strerror(err));
        return;
    }
    j0tab_limits l;
    j0tab_limits_get(c, &l);
    err = j0render_submission(&l, &row, &f, q.base64, &resp->body);
    hist_j0_row_free(&row);
    if (err == APP_EUTF8)
        j0http_error(resp, 400,
                     "some attributes for this submission cannot be converted to UTF-8, use "
                     "base64_encoded=true query parameter");
    else if (err != APP_OK)
        j0http_render_failed(resp, err);
    else
        j0http_ok_json(resp, 200);
}

/* GET /submissions/batch?tokens=a,b */
static void h_batch_show(const conf *c, hist *h, const http_req *req, const char *arg,
                         http_resp *resp)
{
    (void)arg;
    j0http_query q;
    j0tab_fields f;
    if (!j0http_query_parse(req, &q, resp) || !j0http_query_fields(&q, &f, resp))
        return;
    /* Judge0 reads the `tokens` header first, then the query parameter;
     * Ruby: tokens.to_s.strip.split(",") (trailing empty pieces dropped). */
    if (req->tokens != NULL && req->tokens[0] != '\0') {
        if (strlen(req->tokens) > J0_MAX_PARAM) {
            j0http_error(resp, 400, "the tokens header is longer than 4096 bytes");
            return;
        }
        snprintf(q.tokens, sizeof q.tokens, "%s", req->tokens);
    }
    char *s = q.tokens;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
        s[--len] = '\0';
    while (len > 0 && s[len - 1] == ',')
        s[--len] = '\0';
    const char *tokens[J0_MAX_BATCH];
    size_t n = 0;
    for (char *p = s; len > 0 && p != NULL; n++) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (n < J0_MAX_BATCH)
            tokens[n] = p;
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (n > J0_MAX_BATCH) {
        j0http_error(resp, 400,
                     "number of submissions in a batch should be less than or equal to 20");
        return;
    }
    if (n == 0) {
        j0http_error(resp, 400, "there should be at least one submission in a batch");
        return;
    }
    hist *db = open_store(c, h, false, resp);
    if (db == NULL)
        return;
    j0tab_limits l;
    j0tab_limits_get(c, &l);
    sbuf *out = &resp->body;
    app_err err = sbuf_puts(out, "{\"submissions\":[");
    for (size_t i = 0; i < n && err == APP_OK; i++) {
        if (i > 0)
            err = sbuf_putc(out, ',');
        hist_j0_row row;
        char msg[APP_ERRMSG_LEN] = "";
        app_err one = err == APP_OK ? j0run_load(c, db, tokens[i], &row, msg, sizeof msg) : err;
        if (one == APP_ENOTFOUND) {
            err = sbuf_puts(out, "null");
        } else if (one != APP_OK) {
            j0http_error(resp, 500, msg[0] ? msg : app_strerror(one));
            return;
        } else {
            err = j0render_submission(&l, &row, &f, q.base64, out);
            hist_j0_row_free(&row);
        }
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "]}");
    if (err == APP_EUTF8)
        j0http_error(
            resp, 400,
            "some attributes for one or more submissions cannot be converted to UTF-8, use "
            "base64_encoded=true query parameter");
    else if (err != APP_OK)
        j0http_render_failed(resp, err);
    else
        j0http_ok_json(resp, 200);
}

/* --- the information routes ------------------------------------------------------------- */

/* Finishes an information answer whose body render wrote (or failed to). */
static void info_answer(http_resp *resp, app_err err)
{
    if (err == APP_OK)
        j0http_ok_json(resp, 200);
    else
        j0http_render_failed(resp, err);
}

/* GET / */
static void h_root(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    j0http_text(resp, "");
}

/* GET /version */
static void h_version(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    j0http_text(resp, J0_VERSION);
}

/* GET /languages */
static void h_languages(const conf *c, hist *h, const http_req *req, const char *arg,
                        http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    info_answer(resp, j0render_languages(&resp->body, false));
}

/* GET /languages/all */
static void h_languages_all(const conf *c, hist *h, const http_req *req, const char *arg,
                            http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    info_answer(resp, j0render_languages(&resp->body, true));
}

/* GET /languages/{id} */
static void h_language(const conf *c, hist *h, const http_req *req, const char *id, http_resp *resp)
{
    (void)c, (void)h, (void)req;
    app_err err = j0render_language(&resp->body, id);
    if (err == APP_ENOTFOUND)
        j0http_error(resp, 404, "language not found");
    else
        info_answer(resp, err);
}

/* GET /statuses */
static void h_statuses(const conf *c, hist *h, const http_req *req, const char *arg,
                       http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    info_answer(resp, j0render_statuses(&resp->body));
}

/* GET /about */
static void h_about(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)h, (void)req, (void)arg;
    info_answer(resp, j0render_about(c, &resp->body));
}

/* GET /config_info */
static void h_config_info(const conf *c, hist *h, const http_req *req, const char *arg,
                          http_resp *resp)
{
    (void)h, (void)req, (void)arg;
    info_answer(resp, j0render_config_info(c, &resp->body));
}

/* GET /system_info */
static void h_system_info(const conf *c, hist *h, const http_req *req, const char *arg,
                          http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    info_answer(resp, j0render_system_info(&resp->body));
}

/* Adds one /statistics group's count (hist_j0_count_fn). */
typedef struct stats_groups {
    j0render_count *list;
    size_t *n;
} stats_groups;

static void add_group(void *ctx, long long key, long long count)
{
    stats_groups *g = ctx;
    if (*g->n < J0_STATS_MAX_GROUPS)
        g->list[(*g->n)++] = (j0render_count){key, count};
}

/* Adds one day's count to /statistics' totals. */
static void add_day(void *ctx, long long day, long long count)
{
    j0render_stats *st = ctx;
    long long today = (long long)(st->now / 86400.0);
    st->total += count;
    if (day == today)
        st->today = count;
    else if (day < today && today - 1 - day < J0_STATS_DAYS)
        st->days[today - 1 - day] = count;
}

/* GET /statistics: counted from the submissions the store keeps
 * (HIST_SUBMISSION_TTL_S), fresh on every call (Judge0 caches 10 minutes). */
static void h_statistics(const conf *c, hist *h, const http_req *req, const char *arg,
                         http_resp *resp)
{
    (void)req, (void)arg;
    hist *db = open_store(c, h, false, resp);
    if (db == NULL)
        return;
    j0render_stats st;
    memset(&st, 0, sizeof st);
    st.now = j0tab_now();
    stats_groups langs = {st.languages, &st.nlanguages}, stats = {st.statuses, &st.nstatuses};
    char msg[APP_ERRMSG_LEN] = "";
    app_err err = hist_j0_count_by(db, HIST_J0_BY_DAY, add_day, &st, msg, sizeof msg);
    if (err == APP_OK)
        err = hist_j0_count_by(db, HIST_J0_BY_LANGUAGE, add_group, &langs, msg, sizeof msg);
    if (err == APP_OK)
        err = hist_j0_count_by(db, HIST_J0_BY_STATUS, add_group, &stats, msg, sizeof msg);
    if (err == APP_OK)
        err = hist_j0_store_bytes(db, &st.store_bytes, msg, sizeof msg);
    if (err != APP_OK) {
        j0http_error(resp, 500, msg[0] ? msg : app_strerror(err));
        return;
    }
    info_answer(resp, j0render_statistics(&st, &resp->body));
}

/* GET /workers */
static void h_workers(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)req, (void)arg;
    hist *db = open_store(c, h, false, resp);
    if (db == NULL)
        return;
    j0render_count statuses[J0_STATS_MAX_GROUPS];
    size_t n = 0;
    stats_groups g = {statuses, &n};
    char msg[APP_ERRMSG_LEN] = "";
    if (hist_j0_count_by(db, HIST_J0_BY_STATUS, add_group, &g, msg, sizeof msg) != APP_OK) {
        j0http_error(resp, 500, msg);
        return;
    }
    long working = 0;
    for (size_t i = 0; i < n; i++)
        if (statuses[i].key == J0_ST_PROCESS)
            working = (long)statuses[i].count;
    info_answer(resp, j0render_workers(c, working, &resp->body));
}

/* GET /isolate: Judge0 prints `isolate --version`; we say what isolates instead. */
static void h_isolate(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    j0http_text(resp, J0_ISOLATE_TEXT);
}

/* GET /license: Judge0 prints its LICENSE file; we say what answers here. */
static void h_license(const conf *c, hist *h, const http_req *req, const char *arg, http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    j0http_text(resp, J0_LICENSE_TEXT);
}

/* Listing and deleting submissions need X-Auth-User, and /authorize an
 * authorization token, which we do not issue: 403, empty, as Judge0. */
static void h_forbidden(const conf *c, hist *h, const http_req *req, const char *arg,
                        http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    j0http_empty(resp, 403);
}

/* POST /authenticate: reached only by an authenticated caller (or with
 * authentication off): 200, empty, as Judge0. */
static void h_authenticate(const conf *c, hist *h, const http_req *req, const char *arg,
                           http_resp *resp)
{
    (void)c, (void)h, (void)req, (void)arg;
    j0http_empty(resp, 200);
}

/* --- the route table ---------------------------------------------------------------------- */

/* A handler; arg is the path's last segment for a prefix route, else "". */
typedef void route_fn(const conf *c, hist *h, const http_req *req, const char *arg,
                      http_resp *resp);

/* One route: a path under /judge0 (a prefix route matches path + one more
 * segment), a handler per method (HEAD is GET; NULL: 404, as Rails). */
typedef struct route {
    const char *path;
    bool prefix;
    route_fn *get, *post, *del;
} route;

/* First match wins: exact paths come before the prefix routes they extend. */
static const route routes[] = {
    {"/", false, h_root, NULL, NULL},
    {"/submissions", false, h_forbidden, h_create, NULL},
    {"/submissions/batch", false, h_batch_show, h_batch_create, NULL},
    {"/submissions/", true, h_show, NULL, h_forbidden},
    {"/languages", false, h_languages, NULL, NULL},
    {"/languages/all", false, h_languages_all, NULL, NULL},
    {"/languages/", true, h_language, NULL, NULL},
    {"/statuses", false, h_statuses, NULL, NULL},
    {"/about", false, h_about, NULL, NULL},
    {"/config_info", false, h_config_info, NULL, NULL},
    {"/system_info", false, h_system_info, NULL, NULL},
    {"/statistics", false, h_statistics, NULL, NULL},
    {"/workers", false, h_workers, NULL, NULL},
    {"/isolate", false, h_isolate, NULL, NULL},
    {"/license", false, h_license, NULL, NULL},
    {"/version", false, h_version, NULL, NULL},
    {"/authenticate", false, NULL, h_authenticate, NULL},
    {"/authorize", false, NULL, h_forbidden, NULL},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* The route p (under /judge0, no trailing slash) names, with its last
 * segment in *arg for a prefix route; NULL when none does. */
static const route *route_find(const char *p, const char **arg)
{
    for (size_t i = 0; i < NROUTES; i++) {
        const route *rt = &routes[i];
        size_t n = strlen(rt->path);
        if (!rt->prefix && strcmp(p, rt->path) == 0) {
            *arg = "";
            return rt;
        }
        if (rt->prefix && strncmp(p, rt->path, n) == 0 && strchr(p + n, '/') == NULL) {
            *arg = p + n;
            return rt;
        }
    }
    return NULL;
}

/* Answers req (CORS and authentication already handled). */
static void dispatch(const conf *c, hist *db, const http_req *req, http_resp *resp)
{
    const char *path = req->path + strlen("/judge0");
    char p[256];
    size_t n = strlen(path);
    if (n >= sizeof p) {
        j0http_error(resp, 404, "no such Judge0 route");
        return;
    }
    memcpy(p, path, n + 1);
    if (n > 1 && p[n - 1] == '/') /* Rails ignores one trailing slash */
        p[--n] = '\0';
    const char *arg = "";
    const route *rt = route_find(p, &arg);
    if (rt == NULL) {
        j0http_error(resp, 404, "no such Judge0 route");
        return;
    }
    const char *m = req->method;
    route_fn *fn = NULL;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        fn = rt->get;
    else if (strcmp(m, "POST") == 0)
        fn = rt->post;
    else if (strcmp(m, "DELETE") == 0)
        fn = rt->del;
    if (fn == NULL) /* Rails has no route for the method: 404, as for an unknown path */
        j0http_error(resp, 404, "no such Judge0 route");
    else
        fn(c, db, req, arg, resp);
}

/* Judge0 CE's order: Rack::Cors answers preflights before anything else
 * and decorates every answer; then authentication (401, empty); then the
 * routes. */
void j0api_handle(const conf *c, hist *db, const http_req *req, http_resp *resp)
{
    http_resp_reset(resp);
    if (j0http_is_preflight(req)) {
        j0http_preflight(c, req, resp);
        return;
    }
    if (!j0http_authenticated(c, req))
        j0http_empty(resp, 401);
    else
        dispatch(c, db, req, resp);
    j0http_cors(c, req, resp);
}

app_err j0api_task(const conf *c, const char *token)
{
    return j0run_task(c, token);
}
