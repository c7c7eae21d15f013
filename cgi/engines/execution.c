/* execution.c - running code on the best engine: routing, fallback, statistics, hand-off. */
#include "execution.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hview.h"
#include "jscan.h"
#include "jsonw.h"
#include "judge0_engine.h"
#include "native.h"
#include "pkgs.h"
#include "router.h"
#include "xproto.h"

/* After an engine failed, the router leaves it out for this long (per worker). */
#define EXE_FAILURE_BACKOFF_S 5.0
/* Performance scores are recomputed from the store at most this often (per worker). */
#define EXE_SCORE_TTL_S 10.0
/* Limits of the browser engine: wasm32 memory in practice, and the page's body cap. */
#define EXE_BROWSER_MAX_MEMORY_MB 2048.0
/* Data Judge0 receives on stdin. */
#define EXE_JUDGE0_MAX_DATA_MB 10.0

struct exe_ctx {
    const conf *c;               /* borrowed */
    pk_set *pk[RT_NENGINES];     /* importable names per engine */
    double failed_at[RT_NENGINES];
    char failed_msg[RT_NENGINES][APP_ERRMSG_LEN];
    double score[RT_NENGINES];
    double score_at;             /* 0: never computed */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

app_err exe_ctx_new(const conf *c, exe_ctx **out, char *msg, size_t msglen)
{
    app_err err = APP_ENOMEM;
    pk_set *stdlib = NULL, *unvendored = NULL;
    exe_ctx *x = calloc(1, sizeof *x);
    if (x == NULL)
        return APP_ENOMEM;
    x->c = c;
    for (int e = 0; e < RT_NENGINES; e++) {
        x->score[e] = 100;
        if ((err = pk_set_new(&x->pk[e])) != APP_OK)
            goto out;
    }
    /* The native engine binds exactly these directories into its jails. */
    if ((err = pk_set_new(&stdlib)) != APP_OK || (err = pk_set_new(&unvendored)) != APP_OK ||
        (err = pk_add_builtins(stdlib)) != APP_OK ||
        (err = pk_add_dir(stdlib, "/usr/lib/python3.11")) != APP_OK ||
        (err = pk_add_dir(stdlib, "/usr/lib/python3.11/lib-dynload")) != APP_OK ||
        (err = pk_add_set(x->pk[RT_NATIVE], stdlib)) != APP_OK ||
        (err = pk_add_dir(x->pk[RT_NATIVE], "/usr/lib/python3/dist-packages")) != APP_OK)
        goto out;
    /* The browser: the lockfile packages actually served (all of them when the
     * package source is remote), and the stdlib minus what Pyodide unvendors. */
    char lockfile[4200];
    snprintf(lockfile, sizeof lockfile, "%s/pyodide-lock.json", c->pyodide_dir);
    bool remote_packages = strcmp(c->package_url, c->pyodide_url) != 0;
    if ((err = pk_add_set(x->pk[RT_BROWSER], stdlib)) != APP_OK ||
        (err = pk_add_pyodide_lockfile(x->pk[RT_BROWSER], lockfile,
                                       remote_packages ? NULL : c->pyodide_dir,
                                       unvendored, msg, msglen)) != APP_OK)
        goto out;
    pk_remove_set(x->pk[RT_BROWSER], unvendored);
    /* Judge0 runs its own Python: the stdlib plus what the operator lists. */
    if ((err = pk_add_set(x->pk[RT_JUDGE0], stdlib)) != APP_OK ||
        (err = pk_add_list(x->pk[RT_JUDGE0], c->judge0_packages)) != APP_OK)
        goto out;
    *out = x;
    x = NULL;
    err = APP_OK;
out:
    pk_set_free(stdlib);
    pk_set_free(unvendored);
    exe_ctx_free(x);
    return err;
}

void exe_ctx_free(exe_ctx *x)
{
    if (x == NULL)
        return;
    for (int e = 0; e < RT_NENGINES; e++)
        pk_set_free(x->pk[e]);
    free(x);
}

static void refresh_scores(exe_ctx *x, hist *db)
{
    double now = now_s();
    if (db == NULL || (x->score_at > 0 && now - x->score_at < EXE_SCORE_TTL_S))
        return;
    for (int e = 0; e < RT_NENGINES; e++) {
        hist_engine_stats st;
        char msg[APP_ERRMSG_LEN];
        if (hist_engine_stats_get(db, rt_engine_name((rt_engine)e), (long)x->c->stats_window_s,
                                  &st, msg, sizeof msg) == APP_OK)
            x->score[e] = rt_score(st.count, st.engine_failure_rate, st.p50_ms);
    }
    x->score_at = now;
}

static void engine_infos(exe_ctx *x, rt_engine_info info[RT_NENGINES])
{
    const conf *c = x->c;
    memset(info, 0, sizeof(rt_engine_info) * RT_NENGINES);
    info[RT_BROWSER] = (rt_engine_info){.available = true,
                                        .max_memory_mb = EXE_BROWSER_MAX_MEMORY_MB,
                                        .max_data_mb = (double)c->max_body / (1024 * 1024)};
    info[RT_NATIVE] = (rt_engine_info){.available = true,
                                       .max_time_s = c->max_wall_ms / 1000.0,
                                       .max_memory_mb = c->max_memory_mb,
                                       .max_data_mb = XP_MAX_DATA / (1024.0 * 1024)};
    info[RT_JUDGE0] = (rt_engine_info){.available = jeng_configured(c),
                                       .max_time_s = c->judge0_max_wall_ms / 1000.0,
                                       .max_memory_mb = c->judge0_max_memory_mb,
                                       .max_data_mb = EXE_JUDGE0_MAX_DATA_MB,
                                       .remote = true};
    if (!info[RT_JUDGE0].available)
        snprintf(info[RT_JUDGE0].reason, sizeof info[RT_JUDGE0].reason,
                 "not configured (set JUDGE0_API_URL)");
    for (int e = 0; e < RT_NENGINES; e++) {
        info[e].packages = x->pk[e];
        info[e].score = x->score[e];
    }
}

/* Whether engine e failed in this worker less than EXE_FAILURE_BACKOFF_S
 * ago; if so, says when and why in why.  A failing engine is tried last,
 * never refused: it may be back already (an executor restarts in about
 * 2 s), and a refusal (422) would tell the client not to retry. */
static bool cooling_down(const exe_ctx *x, int e, char *why, size_t whylen)
{
    double ago = now_s() - x->failed_at[e];
    if (x->failed_at[e] <= 0 || ago >= EXE_FAILURE_BACKOFF_S)
        return false;
    snprintf(why, whylen, "%s failed %.1f s ago (%.200s)", rt_engine_name((rt_engine)e), ago,
             x->failed_msg[e]);
    return true;
}

/* Moves the engines that failed moments ago to the end of the order,
 * keeping the rest in theirs, and says so in the decision's reason. */
static void try_failing_engines_last(const exe_ctx *x, rt_decision *d)
{
    rt_engine fresh[RT_NENGINES], failing[RT_NENGINES];
    size_t nf = 0, nb = 0;
    for (size_t i = 0; i < d->n; i++) {
        char why[300];
        if (cooling_down(x, d->order[i], why, sizeof why)) {
            failing[nb++] = d->order[i];
            size_t used = strlen(d->because);
            snprintf(d->because + used, sizeof d->because - used, "; %s: tried last", why);
        } else {
            fresh[nf++] = d->order[i];
        }
    }
    memcpy(d->order, fresh, nf * sizeof *fresh);
    memcpy(d->order + nf, failing, nb * sizeof *failing);
}

/* An engine's own failure (fallback-worthy) versus the request's fault. */
static bool engine_failure(app_err err)
{
    switch (err) {
    case APP_EUNAVAIL:
    case APP_EBUSY:
    case APP_ETIMEOUT:
    case APP_EUPSTREAM:
    case APP_EJAIL:
    case APP_ECONFIG:
    case APP_ENOMEM:
    case APP_EINTERNAL:
    case APP_EDB:
        return true;
    default:
        return false;
    }
}

typedef struct attempt {
    rt_engine engine;
    char status[24];
    double ms;
    char error[APP_ERRMSG_LEN];
} attempt;

static void record(hist *db, const conf *c, const exe_request *req, const attempt *a,
                   bool fallback, bool success, double exec_ms, size_t output_bytes)
{
    if (db == NULL)
        return;
    hist_execution e = {
        .engine = rt_engine_name(a->engine),
        .status = a->status,
        .success = success,
        .wall_ms = a->ms,
        .exec_ms = exec_ms,
        .code_bytes = req->code_len,
        .data_bytes = req->data_len,
        .output_bytes = output_bytes,
        .source = req->caller_is_page ? "page" : "api",
        .fallback = fallback,
        .error = a->error[0] ? a->error : NULL,
        .code = c->store_code ? req->code : NULL,
        .data = c->store_code ? req->data : NULL,
    };
    char msg[APP_ERRMSG_LEN];
    app_ignore(hist_record(db, &e, msg, sizeof msg)); /* statistics must never fail a run */
}

static APP_MUST_CHECK app_err attempts_json(sbuf *out, const attempt *att, size_t n)
{
    app_err err = sbuf_putc(out, '[');
    for (size_t i = 0; i < n && err == APP_OK; i++) {
        err = sbuf_printf(out, "%s{\"engine\":\"%s\",\"status\":\"%s\",\"ms\":%.3f,\"error\":",
                          i ? "," : "", rt_engine_name(att[i].engine), att[i].status, att[i].ms);
        if (err == APP_OK)
            err = att[i].error[0] ? jsonw_string(out, att[i].error, strlen(att[i].error))
                                  : sbuf_puts(out, "null");
        if (err == APP_OK)
            err = sbuf_putc(out, '}');
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

/* Our metadata members, without braces: "performanceScore":..,"attempts":[..].. */
static APP_MUST_CHECK app_err routing_members(sbuf *out, double score, bool fallback, const attempt *att,
                               size_t n, const char *because)
{
    app_err err = sbuf_printf(out, "\"performanceScore\":%.0f,\"fallbackUsed\":%s,\"attempts\":",
                              score, fallback ? "true" : "false");
    if (err == APP_OK)
        err = attempts_json(out, att, n);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"selectedBecause\":");
    if (err == APP_OK)
        err = jsonw_string(out, because, strlen(because));
    return err;
}

/* Copies result JSON into out with extra members added to its metadata. */
static APP_MUST_CHECK app_err merge_metadata(const char *json, size_t len, const char *extra, sbuf *out)
{
    js_span root, k, v;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(json, len, &root, msg, sizeof msg) != APP_OK || root.type != JS_OBJECT)
        return APP_EUPSTREAM;
    js_iter it;
    js_iter_init(&it, json, root);
    while (js_iter_next(&it, &k, &v)) {
        if (js_string_equals(json, k, "metadata") && v.type == JS_OBJECT) {
            bool empty = true;
            for (size_t i = v.off + 1; i < v.off + v.len - 1; i++)
                if (json[i] != ' ' && json[i] != '\n' && json[i] != '\t' && json[i] != '\r')
                    empty = false;
            app_err err = sbuf_append(out, json + root.off, v.off + 1 - root.off);
            if (err == APP_OK)
                err = sbuf_puts(out, extra);
            if (err == APP_OK && !empty)
                err = sbuf_putc(out, ',');
            if (err == APP_OK)
                err = sbuf_append(out, json + v.off + 1, root.off + root.len - (v.off + 1));
            return err;
        }
    }
    /* No metadata: add it as the last member. */
    app_err err = sbuf_append(out, json + root.off, root.len - 1);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"metadata\":{%s}}", extra);
    return err;
}

/* --- the run ------------------------------------------------------------------ */

/* The run did not produce an answer: say why, for the front to render. */
static void fail(exe_answer *a, app_err err, const char *message, const char *detail_name,
                 const char *detail_json)
{
    a->err = err;
    snprintf(a->message, sizeof a->message, "%s", message);
    sbuf_reset(&a->result);
    a->detail_name = detail_name;
    sbuf_reset(&a->detail);
    if (detail_name != NULL && sbuf_puts(&a->detail, detail_json) != APP_OK)
        a->detail_name = NULL; /* over its cap: the error without its detail is still true */
}

/* --- the engine table -------------------------------------------------------- */

/* Judge0 may allow more than the native engine: its own maxima, and the
 * request's limits as asked (Judge0 refuses what it cannot take). */
static APP_MUST_CHECK app_err judge0_limits(const conf *c, const reqs *r, native_job *job, char *msg,
                             size_t msglen)
{
    app_err err = native_limits(c, r, job, msg, msglen);
    if (err != APP_OK && err != APP_EREFUSED)
        return err;
    job->wall_ms = r->max_time_s > 0 ? (unsigned)ceil(r->max_time_s * 1000)
                   : XP_DEFAULT_WALL_MS < c->judge0_max_wall_ms ? XP_DEFAULT_WALL_MS
                                                                : c->judge0_max_wall_ms;
    job->cpu_ms = r->max_cpu_s > 0 ? (unsigned)ceil(r->max_cpu_s * 1000) : 0;
    job->memory_mb = r->max_memory_mb > 0 ? (unsigned)ceil(r->max_memory_mb)
                                          : c->judge0_max_memory_mb;
    return APP_OK;
}

static APP_MUST_CHECK app_err native_job_limits(const conf *c, const reqs *r, native_job *job, char *msg,
                                 size_t msglen)
{
    return native_limits(c, r, job, msg, msglen);
}

/* The server engines: how each reads a request's limits and runs a job.
 * The browser is not here: it runs in the caller's page. */
typedef struct engine_ops {
    app_err (*limits)(const conf *c, const reqs *r, native_job *job, char *msg, size_t msglen);
    app_err (*run)(const conf *c, const native_job *job, int cancel_fd, sbuf *out, char *msg,
                   size_t msglen);
} engine_ops;

static const engine_ops engine_table[RT_NENGINES] = {
    [RT_NATIVE] = {native_job_limits, native_run},
    [RT_JUDGE0] = {judge0_limits, jeng_run},
};

app_err exe_engine_run(const exe_ctx *x, rt_engine e, const reqs *r, native_job *job,
                       int cancel_fd, sbuf *out, char *msg, size_t msglen)
{
    if ((unsigned)e >= RT_NENGINES || engine_table[e].run == NULL) {
        snprintf(msg, msglen, "the %s engine does not run on the server", rt_engine_name(e));
        return APP_EINTERNAL;
    }
    app_err err = engine_table[e].limits(x->c, r, job, msg, msglen);
    return err == APP_OK ? engine_table[e].run(x->c, job, cancel_fd, out, msg, msglen) : err;
}

/* --- the run ------------------------------------------------------------------ */

static void answer_init(exe_answer *a)
{
    a->err = APP_OK;
    a->message[0] = '\0';
    a->detail_name = NULL;
    sbuf_init(&a->result, EXE_MAX_ANSWER);
    sbuf_init(&a->detail, EXE_MAX_DETAIL);
}

void exe_answer_free(exe_answer *a)
{
    if (a == NULL)
        return;
    sbuf_free(&a->result);
    sbuf_free(&a->detail);
}

/* The browser answer: where to run it (a sandbox link unless the caller is
 * the sandbox page itself). */
static void handoff(exe_ctx *x, hist *db, const exe_request *req, const rt_decision *d,
                    attempt *att, size_t natt, exe_answer *a)
{
    char token[33] = "";
    char msg[APP_ERRMSG_LEN];
    attempt *me = &att[natt];
    memset(me, 0, sizeof *me);
    me->engine = RT_BROWSER;
    snprintf(me->status, sizeof me->status, "handoff");
    if (!req->caller_is_page) {
        if (db == NULL) {
            fail(a, APP_EUNAVAIL, "the store for sandbox links is unavailable", NULL, NULL);
            return;
        }
        char reqjson[64];
        snprintf(reqjson, sizeof reqjson, "{\"preferredEngine\":\"%s\"}",
                 reqs_engine_name(req->r->preferred_engine));
        app_err err = hist_handoff_create(db, req->code, req->code_len, req->data, req->data_len,
                                          reqjson, token, msg, sizeof msg);
        if (err != APP_OK) {
            fail(a, err, msg, NULL, NULL);
            return;
        }
    }
    /* Not recorded: a hand-off is a decision; the page reports the run itself. */
    sbuf *out = &a->result;
    app_err err = sbuf_puts(out, "{\"success\":true,\"status\":\"handoff\",\"output\":\"\","
                                 "\"stderr\":\"\",\"error\":null,\"result\":null,\"charts\":[],"
                                 "\"executionTime\":0,\"engine\":\"browser\",");
    if (err == APP_OK && token[0] != '\0')
        err = sbuf_printf(out, "\"sandboxUrl\":\"%sapi/insights/python-sandbox?run=%s\",",
                          req->link_base, token);
    if (err == APP_OK)
        err = sbuf_puts(out, "\"metadata\":{");
    if (err == APP_OK)
        err = routing_members(out, x->score[RT_BROWSER], natt > 0, att, natt + 1, d->because);
    if (err == APP_OK && token[0] != '\0')
        err = sbuf_printf(out, ",\"linkExpiresInSeconds\":%d", HIST_HANDOFF_TTL_S);
    if (err == APP_OK)
        err = sbuf_puts(out, "}}\n");
    if (err != APP_OK)
        fail(a, err, "the hand-off answer could not be composed", NULL, NULL);
}

/* Why every engine was left out, as {"browser": "...", ...}. */
static APP_MUST_CHECK app_err exclusions_json(const rt_decision *d, sbuf *out)
{
    app_err err = sbuf_putc(out, '{');
    for (int e = 0; e < RT_NENGINES && err == APP_OK; e++) {
        err = sbuf_printf(out, "%s\"%s\":", e ? "," : "", rt_engine_name((rt_engine)e));
        if (err == APP_OK)
            err = jsonw_string(out, d->excluded[e], strlen(d->excluded[e]));
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

/* One attempt on server engine e: runs, times and records it.  Returns the
 * engine's error (at->error says why) or APP_OK with the answer in result. */
static APP_MUST_CHECK app_err attempt_run(exe_ctx *x, hist *db, const exe_request *req, rt_engine e,
                           bool fallback, attempt *at, sbuf *result)
{
    native_job job = {.code = req->code, .code_len = req->code_len, .data = req->data,
                      .data_len = req->data_len, .client = req->client,
                      .sandbox = e == RT_NATIVE ? req->sandbox : NULL,
                      .trace = e == RT_NATIVE && req->r->debug,
                      .insights = req->r->insights,
                      .on_output = e == RT_NATIVE ? req->on_output : NULL,
                      .output_ctx = req->output_ctx};
    char msg[APP_ERRMSG_LEN] = "";
    memset(at, 0, sizeof *at);
    at->engine = e;
    double t0 = now_s();
    app_err err = exe_engine_run(x, e, req->r, &job, req->cancel_fd, result, msg, sizeof msg);
    at->ms = (now_s() - t0) * 1000;
    if (err == APP_OK) {
        double exec_ms;
        size_t out_bytes;
        hv_summary(result->data, result->len, at->status, sizeof at->status, &exec_ms, &out_bytes);
        record(db, x->c, req, at, fallback, strcmp(at->status, "ok") == 0, exec_ms, out_bytes);
        return APP_OK;
    }
    snprintf(at->error, sizeof at->error, "%s", msg[0] ? msg : app_strerror(err));
    if (engine_failure(err)) {
        snprintf(at->status, sizeof at->status, "%s",
                 err == APP_EUNAVAIL || err == APP_EBUSY ? "unavailable" : "engine_error");
        record(db, x->c, req, at, fallback, false, -1, 0);
        x->failed_at[e] = now_s();
        snprintf(x->failed_msg[e], sizeof x->failed_msg[e], "%s", at->error);
    }
    return err;
}

/* An attempt that failed for a reason that is not the engine's: the
 * request's own fault (too large, refused) or a client that left. */
static void fail_request(exe_answer *a, app_err err, const attempt *at)
{
    if (err != APP_EIO)
        fail(a, err, at->error, NULL, NULL);
    else
        fail(a, APP_EGONE, "the client went away", NULL, NULL);
}

void exe_run(exe_ctx *x, hist *db, const exe_request *req, exe_answer *a)
{
    answer_init(a);
    refresh_scores(x, db);

    char imports[PK_MAX_IMPORTS][PK_NAME_MAX + 1];
    rt_input in = {
        .r = req->r,
        .caller_is_page = req->caller_is_page,
        .imports = imports,
        .nimports = pk_scan_imports(req->code, req->code_len, imports, PK_MAX_IMPORTS),
        .data_mb = (double)req->data_len / (1024 * 1024),
    };
    rt_engine_info info[RT_NENGINES];
    engine_infos(x, info);
    rt_decision d;
    rt_route(&in, info, &d);
    try_failing_engines_last(x, &d);
    if (d.n == 0) {
        sbuf why;
        sbuf_init(&why, EXE_MAX_DETAIL);
        if (exclusions_json(&d, &why) == APP_OK)
            fail(a, APP_EREFUSED, d.because, "engines", sbuf_str(&why));
        else
            fail(a, APP_EREFUSED, d.because, NULL, NULL);
        sbuf_free(&why);
        return;
    }

    attempt att[RT_NENGINES + 1];
    size_t natt = 0;
    for (size_t i = 0; i < d.n; i++) {
        rt_engine e = d.order[i];
        if (e == RT_BROWSER) {
            handoff(x, db, req, &d, att, natt, a);
            return;
        }
        sbuf result;
        sbuf_init(&result, XP_MAX_RESPONSE);
        attempt *at = &att[natt++];
        app_err err = attempt_run(x, db, req, e, natt > 1, at, &result);
        if (err == APP_OK) {
            sbuf extra;
            sbuf_init(&extra, EXE_MAX_DETAIL);
            app_err merr = routing_members(&extra, info[e].score, natt > 1, att, natt, d.because);
            if (merr == APP_OK)
                merr = merge_metadata(result.data, result.len, sbuf_str(&extra), &a->result);
            sbuf_free(&extra);
            sbuf_free(&result);
            if (merr != APP_OK)
                fail(a, APP_EUPSTREAM, "the engine's answer could not be read", NULL, NULL);
            return;
        }
        sbuf_free(&result);
        if (!engine_failure(err)) {
            fail_request(a, err, at);
            return;
        }
        if (!req->r->fallback_allowed)
            break;
    }
    sbuf list;
    sbuf_init(&list, EXE_MAX_DETAIL);
    char message[APP_ERRMSG_LEN];
    snprintf(message, sizeof message, "every engine tried failed%s (see attempts)",
             req->r->fallback_allowed ? "" : "; fallbackAllowed is false");
    if (attempts_json(&list, att, natt) == APP_OK)
        fail(a, APP_EUNAVAIL, message, "attempts", sbuf_str(&list));
    else
        fail(a, APP_EUNAVAIL, message, NULL, NULL);
    sbuf_free(&list);
}

void exe_run_native(exe_ctx *x, hist *db, const exe_request *req, exe_answer *a)
{
    answer_init(a);
    attempt at;
    app_err err = attempt_run(x, db, req, RT_NATIVE, false, &at, &a->result);
    if (err == APP_OK)
        return;
    if (engine_failure(err))
        fail(a, err, at.error, NULL, NULL);
    else
        fail_request(a, err, &at);
}

app_err exe_stats_json(exe_ctx *x, hist *db, long window_s, sbuf *out, char *msg, size_t msglen)
{
    refresh_scores(x, db);
    rt_engine_info info[RT_NENGINES];
    engine_infos(x, info);
    for (int e = 0; e < RT_NENGINES; e++)
        if (info[e].available && cooling_down(x, e, info[e].reason, sizeof info[e].reason))
            info[e].available = false;
    sbuf native_health;
    sbuf_init(&native_health, 256 * 1024);
    char nmsg[APP_ERRMSG_LEN] = "";
    app_err nerr = native_status(x->c, &native_health, nmsg, sizeof nmsg);
    if (nerr != APP_OK) {
        info[RT_NATIVE].available = false;
        snprintf(info[RT_NATIVE].reason, sizeof info[RT_NATIVE].reason, "%.200s", nmsg);
    }
    app_err err = sbuf_printf(out, "{\"windowSeconds\":%ld,\"engines\":{", window_s);
    for (int e = 0; e < RT_NENGINES && err == APP_OK; e++) {
        hist_engine_stats st = {0};
        if (db != NULL &&
            (err = hist_engine_stats_get(db, rt_engine_name((rt_engine)e), window_s, &st, msg,
                                         msglen)) != APP_OK)
            break;
        err = sbuf_printf(out, "%s\"%s\":{\"available\":%s,\"reason\":", e ? "," : "",
                          rt_engine_name((rt_engine)e), info[e].available ? "true" : "false");
        if (err == APP_OK)
            err = info[e].available ? sbuf_puts(out, "null")
                                    : jsonw_string(out, info[e].reason, strlen(info[e].reason));
        if (err == APP_OK)
            err = sbuf_printf(out,
                              ",\"count\":%ld,\"successRate\":%.4f,\"engineFailureRate\":%.4f,"
                              "\"avgExecutionTime\":%.3f,\"p50\":%.3f,\"p95\":%.3f,"
                              "\"performanceScore\":%.0f,\"lastError\":",
                              st.count, st.success_rate, st.engine_failure_rate, st.avg_ms,
                              st.p50_ms, st.p95_ms,
                              rt_score(st.count, st.engine_failure_rate, st.p50_ms));
        if (err == APP_OK)
            err = st.last_error[0] ? jsonw_string(out, st.last_error, strlen(st.last_error))
                                   : sbuf_puts(out, "null");
        if (err == APP_OK)
            err = sbuf_printf(out, ",\"limits\":{\"maxExecutionTimeS\":%g,\"maxMemoryMb\":%g,"
                                   "\"maxDataMb\":%g},\"remote\":%s,\"packageCount\":%zu}",
                              info[e].max_time_s, info[e].max_memory_mb, info[e].max_data_mb,
                              info[e].remote ? "true" : "false", pk_count(x->pk[e]));
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "},\"health\":{\"native\":");
    if (err == APP_OK)
        err = nerr == APP_OK ? sbuf_append(out, native_health.data, native_health.len)
                             : sbuf_printf(out, "{\"status\":\"unavailable\",\"message\":\"%s\"}",
                                           app_strerror(nerr));
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"judge0\":{\"configured\":%s},\"database\":\"%s\"}}\n",
                          jeng_configured(x->c) ? "true" : "false", db ? "ok" : "unavailable");
    sbuf_free(&native_health);
    return err;
}

const pk_set *exe_engine_packages(const exe_ctx *x, rt_engine e)
{
    return x->pk[e];
}

app_err exe_packages_json(exe_ctx *x, sbuf *out)
{
    app_err err = sbuf_putc(out, '{');
    for (int e = 0; e < RT_NENGINES && err == APP_OK; e++) {
        err = sbuf_printf(out, "%s\"%s\":", e ? "," : "", rt_engine_name((rt_engine)e));
        if (err == APP_OK)
            err = pk_to_json(x->pk[e], out);
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}
