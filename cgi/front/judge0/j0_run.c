/* j0_run.c - a Judge0 submission stored, run and loaded (see j0_run.h). */
#include "j0_run.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bg.h"
#include "j0_result.h"
#include "j0_tables.h"
#include "judge0.h"
#include "native.h"
#include "utf8.h"
#include "xproto.h"

/* Seconds after which a row still In Queue/Processing is taken as lost
 * (its task died, or the service restarted under it). */
double j0run_stale_s(const conf *c)
{
    return J0_BUSY_RETRY_S + (c->max_wall_ms + c->queue_timeout_ms) / 1000.0 + 60.0;
}

/* Loads a live row (hist_j0_get), taking a status id out of Judge0's
 * range as Internal Error.  APP_ENOTFOUND; APP_EDB; APP_ENOMEM. */
app_err j0run_get(hist *h, const char *token, hist_j0_row *row, char *msg, size_t msglen)
{
    app_err err = hist_j0_get(h, token, row, msg, msglen);
    if (err == APP_OK && (row->status_id < 1 || row->status_id > JZ_STATUS_MAX))
        row->status_id = J0_ST_INTERNAL;
    return err;
}

/* Sleeps ms milliseconds; returns true early when cancel_fd became readable. */
static bool pause_or_cancel(int cancel_fd, int ms)
{
    if (cancel_fd < 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return false;
    }
    struct pollfd p = {.fd = cancel_fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/* One run of job, retried while the executor (or this client's share)
 * is saturated, mapped into o (which j0res_init() prepared).  Returns the
 * engine's error (o is then Internal Error) or APP_OK. */
static APP_MUST_CHECK app_err run_once(const conf *c, const native_job *job, const j0req *r,
                                       int cancel_fd, double retry_s, sbuf *res, j0res_outcome *o)
{
    char msg[APP_ERRMSG_LEN] = "";
    double started = j0tab_now();
    app_err err;
    for (;;) {
        sbuf_reset(res);
        msg[0] = '\0';
        err = native_run(c, job, cancel_fd, res, msg, sizeof msg);
        if ((err != APP_EBUSY && err != APP_ECLIENT_LIMIT) || j0tab_now() - started > retry_s)
            break;
        if (pause_or_cancel(cancel_fd, J0_BUSY_SLEEP_MS)) {
            err = APP_EIO;
            snprintf(msg, sizeof msg, "the client went away while the run was queued");
            break;
        }
    }
    if (err == APP_OK)
        err = j0res_map(res->data ? res->data : "", res->len, r, o);
    else
        j0res_internal(o, app_strerror(err), msg);
    if (err == APP_ENOMEM)
        j0res_internal(o, "out of memory while reading the result", "");
    return err;
}

/* One row in the execution statistics for one run of r (each of
 * number_of_runs is an execution of the engine). */
static void record_run(const conf *c, hist *h, const j0req *r, app_err err, const j0res_outcome *o,
                       double wall_ms)
{
    char dbmsg[APP_ERRMSG_LEN];
    const char *src = r->source.data ? r->source.data : "";
    const char *in = r->input.data ? r->input.data : "";
    bool in_text = utf8_valid(in, r->input.len, NULL) && memchr(in, '\0', r->input.len) == NULL;
    hist_execution e = {
        .engine = "native",
        .status = err == APP_EUNAVAIL                     ? "unavailable"
                  : err != APP_OK || !o->engine_status[0] ? "engine_error"
                                                          : o->engine_status,
        .success = o->status_id == J0_ST_ACCEPTED,
        .wall_ms = wall_ms,
        .exec_ms = o->has_times ? o->wall_s * 1000.0 : -1,
        .code_bytes = r->source.len,
        .data_bytes = r->input.len,
        .output_bytes = o->out.len,
        .source = "judge0-api",
        .error = err == APP_OK ? NULL : o->message,
        .code = c->store_code ? src : NULL,
        .data = c->store_code && in_text ? in : NULL,
    };
    if (hist_record(h, &e, dbmsg, sizeof dbmsg) != APP_OK)
        fprintf(stderr, "pysandbox judge0 api: statistics: %s\n", dbmsg);
}

/*
 * Runs r in the native engine number_of_runs times, as Judge0 does: it
 * stops at the first run that is not Accepted, keeps the last run's output
 * and status, and averages time, wall time and memory over the runs made.
 * Stores the outcome under token (status, finished_at, result) and one row
 * in the execution statistics.  cancel_fd (or -1) is the HTTP client of a
 * wait=true request and client its xp_client_key() (0 for queued
 * submissions); retry_s bounds the retries while the executor, or this
 * client's share of it, is saturated.  Failures of the engine become
 * Internal Error; store failures are logged.
 */
void j0run_execute(const conf *c, hist *h, const char *token, const j0req *r, int cancel_fd,
                   uint64_t client, double retry_s)
{
    native_job job = {
        .code = r->source.data ? r->source.data : "",
        .code_len = r->source.len,
        .data = r->input.data ? r->input.data : "",
        .data_len = r->input.len,
        .program = true,
        .merge_stderr = r->redirect,
        .client = client,
    };
    j0req_job_limits(c, r, &job.wall_ms, &job.cpu_ms, &job.memory_mb);
    sbuf res, stored;
    sbuf_init(&res, XP_MAX_RESPONSE);
    sbuf_init(&stored, HIST_MAX_TEXT);
    j0res_outcome o;
    j0res_init(&o);

    long runs = r->number_of_runs < 1             ? 1
                : r->number_of_runs > J0_MAX_RUNS ? J0_MAX_RUNS
                                                  : r->number_of_runs;
    double time_sum = 0, wall_sum = 0, memory_sum = 0;
    long timed = 0, measured = 0;
    app_err err = APP_OK;
    for (long i = 0; i < runs; i++) {
        if (i > 0) {
            j0res_free(&o);
            j0res_init(&o);
        }
        double run_started = j0tab_now();
        err = run_once(c, &job, r, cancel_fd, retry_s, &res, &o);
        record_run(c, h, r, err, &o, (j0tab_now() - run_started) * 1000.0);
        if (o.has_times) {
            time_sum += o.time_s;
            wall_sum += o.wall_s;
            timed++;
        }
        if (o.has_memory) {
            memory_sum += (double)o.memory_kb;
            measured++;
        }
        if (err != APP_OK || o.status_id != J0_ST_ACCEPTED)
            break;
    }
    if (timed > 1) {
        o.time_s = time_sum / (double)timed;
        o.wall_s = wall_sum / (double)timed;
    }
    if (measured > 1)
        o.memory_kb = lround(memory_sum / (double)measured);
    app_err serr = j0res_json(&o, &stored);
    if (serr != APP_OK) {
        j0res_internal(&o, "the result was too large to store", "");
        sbuf_reset(&stored);
        serr = j0res_json(&o, &stored);
    }
    char dbmsg[APP_ERRMSG_LEN];
    if (serr == APP_OK &&
        hist_j0_finish(h, token, o.status_id, sbuf_str(&stored), dbmsg, sizeof dbmsg) != APP_OK)
        fprintf(stderr, "pysandbox judge0 api: storing %s: %s\n", token, dbmsg);

    j0res_free(&o);
    sbuf_free(&res);
    sbuf_free(&stored);
}

app_err j0run_task(const conf *c, const char *token)
{
    hist *h = NULL;
    char msg[APP_ERRMSG_LEN];
    app_err err = hist_open(c->db_path, &h, msg, sizeof msg);
    if (err != APP_OK) {
        fprintf(stderr, "pysandbox judge0 api: task %s: %s\n", token, msg);
        return err; /* the row is closed as lost later (hist_j0_purge) */
    }
    hist_j0_row row;
    err = j0run_get(h, token, &row, msg, sizeof msg);
    if (err == APP_OK && row.status_id != J0_ST_QUEUE)
        err = APP_EINTERNAL; /* started twice: leave it to the first */
    if (err == APP_OK) {
        j0tab_limits l;
        j0tab_limits_get(c, &l);
        j0req r;
        j0req_init(&r, &l);
        js_span root;
        if (hist_j0_set_status(h, token, J0_ST_PROCESS, msg, sizeof msg) != APP_OK) {
            /* Not run: the purge reports it lost (Internal Error) in time. */
            fprintf(stderr, "pysandbox judge0 api: task %s: %s\n", token, msg);
            err = APP_EDB;
        } else if (js_validate(row.request, row.request_len, &root, msg, sizeof msg) == APP_OK &&
                   j0req_decode_stored(row.request, root, true, &r) == APP_OK) {
            j0run_execute(c, h, token, &r, -1, 0, J0_BUSY_RETRY_S);
        } else {
            if (hist_j0_finish(h, token, J0_ST_INTERNAL,
                               "{\"message\":\"the stored request could not be read\"}", msg,
                               sizeof msg) != APP_OK)
                fprintf(stderr, "pysandbox judge0 api: task %s: %s\n", token, msg);
            err = APP_EINTERNAL;
        }
        j0req_free(&r);
        hist_j0_row_free(&row);
    } else if (err != APP_EINTERNAL) {
        fprintf(stderr, "pysandbox judge0 api: task %s: %s\n", token,
                msg[0] ? msg : app_strerror(err));
    }
    hist_close(h);
    return err;
}

/* j0run_get, closing the row as lost first when its run is overdue, so a
 * polling client always ends. */
app_err j0run_load(const conf *c, hist *h, const char *token, hist_j0_row *row, char *msg,
                   size_t msglen)
{
    app_err err = j0run_get(h, token, row, msg, msglen);
    if (err == APP_OK && row->status_id <= J0_ST_PROCESS &&
        row->created_at < j0tab_now() - j0run_stale_s(c)) {
        hist_j0_row_free(row);
        hist_j0_purge(h, j0run_stale_s(c));
        err = j0run_get(h, token, row, msg, msglen);
    }
    return err;
}

/* Validates one submission object and stores it (status 1, or 2 when it is
 * about to run here).  On validation errors, appends Judge0's error object
 * to errs_out and returns APP_EFIELD.  On APP_OK, token is set and r holds
 * the decoded request (the caller frees it). */
app_err j0run_create(const conf *c, hist *h, const char *doc, js_span obj, bool b64, int status,
                     j0req *r, char *token, sbuf *errs_out, char *msg, size_t msglen)
{
    j0tab_limits l;
    j0tab_limits_get(c, &l);
    j0req_errs e = {0};
    app_err err = j0req_decode_create(&l, doc, obj, b64, r, &e);
    if (err != APP_OK)
        return err;
    if (e.n > 0) {
        err = j0req_errs_json(&e, errs_out);
        return err == APP_OK ? APP_EFIELD : err;
    }
    sbuf stored;
    sbuf_init(&stored, HIST_MAX_TEXT);
    err = j0req_store_json(r, &stored);
    if (err == APP_OK && j0tab_new_token(token) != APP_OK) {
        snprintf(msg, msglen, "no randomness for a token");
        err = APP_EIO;
    }
    if (err == APP_OK)
        err = hist_j0_insert(h, token, r->language_id, sbuf_str(&stored), status, msg, msglen);
    sbuf_free(&stored);
    return err;
}

/* Starts the background run of token (pysandbox-fcgi --task judge0 TOKEN,
 * which calls j0api_task); on failure the row is removed. */
app_err j0run_spawn(hist *h, const char *token, char *msg, size_t msglen)
{
    app_err err = bg_run_task("judge0", token, msg, msglen);
    if (err != APP_OK) {
        char ignored[APP_ERRMSG_LEN];
        /* Left queued if this fails too: the purge reports it lost. */
        app_ignore(hist_j0_delete(h, token, ignored, sizeof ignored));
    }
    return err;
}
