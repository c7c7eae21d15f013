/* arun.c - asynchronous executions: stored, run by a task, read, cancelled (see arun.h). */
#include "arun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execution.h"
#include "jsonw.h"
#include "native.h"
#include "reqs.h"
#include "runout.h"
#include "runpool.h"
#include "xproto.h"

/* A run's task is named ARUN_TASK_PREFIX and the first ARUN_TASK_ID_CHARS
 * characters of its id (what ps shows, and how task_alive knows it). */
#define ARUN_TASK_PREFIX "run-"
#define ARUN_TASK_ID_CHARS (RUNPOOL_NAME_MAX - (sizeof ARUN_TASK_PREFIX - 1))
/* Largest requirements object kept with a run (what POST accepts). */
#define ARUN_MAX_REQUIREMENTS (64u * 1024)

bool arun_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')) || n >= HIST_RUN_ID_LEN)
            return false;
    return n == HIST_RUN_ID_LEN;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The name of run id's task (RUNPOOL_NAME_MAX + 1 bytes). */
static void task_name(const char *id, char name[RUNPOOL_NAME_MAX + 1])
{
    snprintf(name, RUNPOOL_NAME_MAX + 1, ARUN_TASK_PREFIX "%.*s", (int)ARUN_TASK_ID_CHARS, id);
}

/* Whether pid is still the task running id.  Its name says so, which a
 * pid reused by another process does not (unless it is the task of a run
 * whose id starts with the same 44 bits); when the name cannot be read,
 * whether the pid exists at all. */
static bool task_alive(long pid, const char *id)
{
    if (pid <= 0)
        return false;
    char path[64], want[RUNPOOL_NAME_MAX + 2], got[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    task_name(id, want);
    size_t n = strlen(want);
    want[n++] = '\n'; /* how comm reads */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
    ssize_t len = read(fd, got, sizeof got);
    close(fd);
    return len == (ssize_t)n && memcmp(got, want, n) == 0;
}

/* The runs found lost in one pass, closed after the walk. */
typedef struct reap_list {
    double now;
    int n;
    char id[ARUN_REAP_BATCH][HIST_RUN_ID_LEN + 1];
    const char *why[ARUN_REAP_BATCH];
} reap_list;

/* Why a run whose row says status is lost (its task never started, or is
 * gone), or NULL when it is not. */
static const char *lost_why(const char *id, hist_run_status status, long task_pid,
                            double created_at, double now)
{
    if (status == HIST_RUN_QUEUED && now - created_at > HIST_TASK_START_S)
        return "the run was lost: its task never started";
    if (status == HIST_RUN_RUNNING && !task_alive(task_pid, id))
        return "the run was lost: its task ended without an answer (or the service restarted)";
    return NULL;
}

/* Closes run id as failed, lost for the reason why. */
static void close_lost(hist *h, const char *id, const char *why)
{
    char msg[APP_ERRMSG_LEN];
    if (hist_run_finish(h, id, HIST_RUN_FAILED, NULL, 0, "lost", why, msg, sizeof msg) != APP_OK)
        fprintf(stderr, "pysandbox executions: closing lost %s: %s\n", id, msg);
}

static APP_MUST_CHECK app_err reap_one(void *ctx, const char *id, hist_run_status status,
                                       long task_pid, double created_at)
{
    reap_list *l = ctx;
    const char *why = lost_why(id, status, task_pid, created_at, l->now);
    if (why == NULL || strlen(id) != HIST_RUN_ID_LEN)
        return APP_OK;
    memcpy(l->id[l->n], id, HIST_RUN_ID_LEN + 1);
    l->why[l->n++] = why;
    return l->n < ARUN_REAP_BATCH ? APP_OK : APP_ETOOBIG; /* full: the rest next time */
}

/* Purges runs past their retention and closes lost ones, at most every
 * ARUN_HOUSEKEEP_MS in this process: each pass reads every active row and
 * its task's /proc entry, too much for every request (the run a request
 * names is checked by load_row itself).  Housekeeping: its failures are
 * left to the next pass. */
static void housekeep(const conf *c, hist *h)
{
    static double last_s = -1;
    double now = now_s();
    if (last_s >= 0 && now - last_s < ARUN_HOUSEKEEP_MS / 1000.0 && now >= last_s)
        return;
    last_s = now;
    hist_run_purge(h, c->execution_retention_s);
    reap_list l = {.now = now};
    char msg[APP_ERRMSG_LEN];
    app_ignore(hist_run_active_each(h, reap_one, &l, msg, sizeof msg)); /* what was found counts */
    for (int i = 0; i < l.n; i++)
        close_lost(h, l.id[i], l.why[i]);
}

/* Loads run id into *row (free it in every case) as an answer must see
 * it, with its output chunks after after handed to fn (hist_run_read; fn
 * may be NULL): closed as lost when its task is gone, and APP_ENOTFOUND
 * once past its retention, whether or not a purge has deleted it yet. */
static APP_MUST_CHECK app_err load_row(const conf *c, hist *h, const char *id, long long after,
                                       hist_run_row *row, hist_run_chunk_fn fn, void *ctx,
                                       char *msg, size_t msglen)
{
    app_err err = hist_run_read(h, id, after, row, fn, ctx, msg, msglen);
    const char *why =
        err == APP_OK ? lost_why(id, row->status, row->task_pid, row->created_at, now_s()) : NULL;
    if (why != NULL) {
        /* Its task is gone, so its output is what was read: the row alone again. */
        close_lost(h, id, why);
        hist_run_row_free(row);
        err = hist_run_get(h, id, row, msg, msglen);
    }
    if (err == APP_OK && !hist_run_active(row->status) &&
        row->finished_at < now_s() - c->execution_retention_s) {
        hist_run_row_free(row);
        err = APP_ENOTFOUND;
    }
    return err;
}

app_err arun_submit(const conf *c, hist *h, const arun_request *r, char *id, char *msg,
                    size_t msglen)
{
    static const hist_run_caps caps = {
        .client_active = ARUN_CLIENT_MAX_ACTIVE,
        .stored = ARUN_MAX_STORED,
        .bytes = ARUN_MAX_STORED_BYTES,
    };
    housekeep(c, h);
    app_err err = APP_OK;
    if (r->sandbox != NULL) {
        /* Refused now when it is unknown or ended, as its own endpoint
         * would; what happens to it later is the run's failure. */
        sbuf status;
        sbuf_init(&status, ARUN_SANDBOX_STATUS_MAX);
        err = native_sandbox(c, XP_OP_SANDBOX_STATUS, r->sandbox, NULL, 0, &status, msg, msglen);
        sbuf_free(&status);
    }
    if (err == APP_OK)
        err = hist_run_create(h, r->client, &caps, r->code, r->code_len, r->data, r->data_len,
                              r->requirements, r->sandbox, id, msg, msglen);
    if (err != APP_OK)
        return err;
    err = runpool_wake(id, msg, msglen);
    if (err != APP_OK) {
        char ignored[APP_ERRMSG_LEN];
        /* Left queued if this fails too: housekeeping closes it as lost. */
        app_ignore(hist_run_delete(h, id, ignored, sizeof ignored));
    }
    return err;
}


/* The engine's answer of a completed row, as stored (JSON) but for its
 * trailing newline: *n bytes at the result, or NULL. */
static const char *result_of(const hist_run_row *row, size_t *n)
{
    *n = row->result_len;
    while (
        row->result != NULL && *n > 0 &&
        (row->result[*n - 1] == '\n' || row->result[*n - 1] == ' ' || row->result[*n - 1] == '\r'))
        (*n)--;
    return row->status == HIST_RUN_COMPLETED && row->result != NULL && *n > 0 ? row->result : NULL;
}

/* Appends {"code", "message"} of a failed or cancelled row. */
static APP_MUST_CHECK app_err error_json(const hist_run_row *row, sbuf *out)
{
    app_err err = sbuf_puts(out, "{\"code\":");
    if (err == APP_OK)
        err = jsonw_string(out, row->error_code, strlen(row->error_code));
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"message\":");
    if (err == APP_OK)
        err = jsonw_string(out, row->error_message, strlen(row->error_message));
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

/* A run's stored output, both streams, as a chunk walk collects it. */
typedef struct output_text {
    sbuf stream[2]; /* stdout, stderr; each capped at RUNOUT_STREAM_CAP */
} output_text;

static APP_MUST_CHECK app_err collect_output(void *ctx, long long seq, bool is_stderr,
                                             const char *data, size_t len)
{
    output_text *o = ctx;
    (void)seq;
    return sbuf_append(&o->stream[is_stderr ? 1 : 0], data, len);
}

/* Appends a loaded row and its output as the status JSON (see arun_status_json). */
static APP_MUST_CHECK app_err status_json(const hist_run_row *row, const output_text *o, sbuf *out)
{
    app_err err = sbuf_printf(out, "{\"id\":\"%s\",\"status\":\"%s\",\"createdAt\":", row->id,
                              hist_run_status_name(row->status));
    if (err == APP_OK)
        err = jsonw_iso_time(out, row->created_at);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"startedAt\":");
    if (err == APP_OK)
        err = jsonw_iso_time(out, row->started_at);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"finishedAt\":");
    if (err == APP_OK)
        err = jsonw_iso_time(out, row->finished_at);
    if (err == APP_OK)
        err = sbuf_printf(out,
                          ",\"statusUrl\":\"" ARUN_PATH "/%s\",\"eventsUrl\":\"" ARUN_PATH
                          "/%s/events\",\"sandboxId\":",
                          row->id, row->id);
    if (err == APP_OK)
        err = row->sandbox[0] != '\0' ? jsonw_string(out, row->sandbox, strlen(row->sandbox))
                                      : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"output\":");
    if (err == APP_OK)
        err = jsonw_string(out, o->stream[0].data ? o->stream[0].data : "", o->stream[0].len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"stderr\":");
    if (err == APP_OK)
        err = jsonw_string(out, o->stream[1].data ? o->stream[1].data : "", o->stream[1].len);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"truncated\":{\"stdout\":%s,\"stderr\":%s},\"result\":",
                          row->out_truncated ? "true" : "false",
                          row->err_truncated ? "true" : "false");
    size_t n;
    const char *result = result_of(row, &n);
    if (err == APP_OK)
        err = result != NULL ? sbuf_append(out, result, n) : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"error\":");
    if (err == APP_OK)
        err = row->error_code[0] != '\0' ? error_json(row, out) : sbuf_puts(out, "null");
    return err == APP_OK ? sbuf_puts(out, "}\n") : err;
}

/* Loads id (load_row) with its output and appends its status JSON. */
static APP_MUST_CHECK app_err load_json(const conf *c, hist *h, const char *id, sbuf *out,
                                        char *msg, size_t msglen)
{
    hist_run_row row;
    output_text o;
    sbuf_init(&o.stream[0], RUNOUT_STREAM_CAP);
    sbuf_init(&o.stream[1], RUNOUT_STREAM_CAP);
    app_err err = load_row(c, h, id, 0, &row, collect_output, &o, msg, msglen);
    if (err == APP_OK)
        err = status_json(&row, &o, out);
    hist_run_row_free(&row);
    sbuf_free(&o.stream[0]);
    sbuf_free(&o.stream[1]);
    return err;
}

/* The 404 of every unknown id: one sentence, whatever the reason. */
static APP_MUST_CHECK app_err not_found(const conf *c, char *msg, size_t msglen)
{
    snprintf(msg, msglen,
             "no execution with that id (ids are 32 hex characters; ended executions are kept "
             "%u s)",
             c->execution_retention_s);
    return APP_ENOTFOUND;
}

app_err arun_status_json(const conf *c, hist *h, const char *id, sbuf *out, char *msg,
                         size_t msglen)
{
    if (!arun_id_ok(id))
        return not_found(c, msg, msglen);
    housekeep(c, h);
    app_err err = load_json(c, h, id, out, msg, msglen);
    return err == APP_ENOTFOUND ? not_found(c, msg, msglen) : err;
}

const char *arun_event_name(arun_event ev)
{
    static const char *const names[] = {
        [ARUN_EV_STDOUT] = "stdout", [ARUN_EV_STDERR] = "stderr",       [ARUN_EV_RESULT] = "result",
        [ARUN_EV_ERROR] = "error",   [ARUN_EV_HEARTBEAT] = "heartbeat",
    };
    return (unsigned)ev < sizeof names / sizeof names[0] ? names[ev] : "error";
}

/* The chunks one read of a followed run found, as their events' JSON. */
typedef struct event_batch {
    sbuf json; /* the events' data back to back */
    size_t n;
    struct {
        long long seq;
        bool is_stderr;
        size_t off, len;
    } ev[ARUN_EVENTS_BATCH_CHUNKS];
} event_batch;

/* A chunk walk that collects events; APP_ETOOBIG stops it when the batch
 * is full (the rest is read on the next round). */
static APP_MUST_CHECK app_err collect_events(void *ctx, long long seq, bool is_stderr,
                                             const char *data, size_t len)
{
    event_batch *b = ctx;
    if (b->n == ARUN_EVENTS_BATCH_CHUNKS || b->json.len >= ARUN_EVENTS_BATCH_BYTES)
        return APP_ETOOBIG;
    size_t off = b->json.len;
    app_err err = jsonw_string(&b->json, data, len);
    if (err != APP_OK)
        return err;
    b->ev[b->n].seq = seq;
    b->ev[b->n].is_stderr = is_stderr;
    b->ev[b->n].off = off;
    b->ev[b->n++].len = b->json.len - off;
    return APP_OK;
}

/* Sends the last event of an ended row (id final); false: refused. */
static bool send_final(const hist_run_row *row, long long final, const arun_follower *f)
{
    size_t n;
    const char *result = result_of(row, &n);
    if (result != NULL)
        return f->event(f->ctx, ARUN_EV_RESULT, final, result, n);
    sbuf e;
    sbuf_init(&e, 2 * APP_ERRMSG_LEN + 256);
    app_err err = sbuf_puts(&e, "{\"error\":");
    if (err == APP_OK)
        err = error_json(row, &e);
    if (err == APP_OK)
        err = sbuf_putc(&e, '}');
    bool ok = err != APP_OK || f->event(f->ctx, ARUN_EV_ERROR, final, e.data, e.len);
    sbuf_free(&e);
    return ok;
}

/* How a follower's wait ended. */
typedef enum follow_wake { FOLLOW_GONE, FOLLOW_TIMEOUT, FOLLOW_WRITTEN } follow_wake;

/* Waits up to ms for the store to be written (watch, or -1: just the time)
 * or the client to leave (cancel_fd, or -1). */
static follow_wake follow_wait(int watch, int cancel_fd, int ms)
{
    struct pollfd p[2] = {{.fd = watch, .events = POLLIN}, {.fd = cancel_fd, .events = POLLIN}};
    int rc = poll(p, 2, ms);
    if (rc > 0 && p[1].revents != 0)
        return FOLLOW_GONE;
    if (rc > 0 && p[0].revents != 0) {
        hist_watch_drain(watch);
        return FOLLOW_WRITTEN;
    }
    return FOLLOW_TIMEOUT;
}

app_err arun_follow(const conf *c, hist *h, const char *id, long long after, int cancel_fd,
                    const arun_follower *f, char *msg, size_t msglen)
{
    if (!arun_id_ok(id))
        return not_found(c, msg, msglen);
    housekeep(c, h);
    event_batch b;
    sbuf_init(&b.json, 6 * ARUN_EVENTS_BATCH_BYTES + 64); /* a chunk escaped, at most 6x */
    int watch = hist_watch(h);
    follow_wake woke = FOLLOW_TIMEOUT;
    int settle = 0; /* reads still due soon after the last wake */
    bool begun = false;
    double quiet_since = now_s();
    app_err err = APP_OK;
    for (;;) {
        hist_run_row row;
        b.n = 0;
        sbuf_reset(&b.json);
        err = load_row(c, h, id, after, &row, collect_events, &b, msg, msglen);
        bool more = err == APP_ETOOBIG; /* the batch is full: read on at once */
        if (more)
            err = APP_OK;
        if (err != APP_OK) {
            if (err == APP_ENOTFOUND && !begun)
                err = not_found(c, msg, msglen);
            else if (begun) /* the stream has begun: it ends here */
                fprintf(stderr, "pysandbox executions: events of %s: %s\n", id, msg);
            hist_run_row_free(&row);
            break;
        }
        bool ended = !hist_run_active(row.status);
        long long final = row.chunks + 1;
        bool sent = false, gone = false;
        if (!begun && ended && after >= final && b.n == 0) {
            hist_run_row_free(&row);
            break; /* nothing left to send */
        }
        if (!begun) {
            begun = true;
            gone = !f->begin(f->ctx);
        }
        for (size_t i = 0; i < b.n && !gone; i++) {
            gone = !f->event(f->ctx, b.ev[i].is_stderr ? ARUN_EV_STDERR : ARUN_EV_STDOUT,
                             b.ev[i].seq, b.json.data + b.ev[i].off, b.ev[i].len);
            after = b.ev[i].seq;
            sent = true;
        }
        if (!gone && ended && !more && after < final)
            gone = !send_final(&row, final, f);
        hist_run_row_free(&row);
        if (gone || (ended && !more))
            break;
        if (more)
            continue;
        double now = now_s();
        if (sent)
            quiet_since = now;
        if ((now - quiet_since) * 1000 >= ARUN_EVENTS_HEARTBEAT_MS) {
            if (!f->event(f->ctx, ARUN_EV_HEARTBEAT, 0, "", 0))
                break;
            quiet_since = now;
        }
        /* A write wakes the watch before its commit is visible (the log's
         * frames come before the index that publishes them), so a read
         * right after a wake may miss it: two more reads shortly after. */
        if (woke == FOLLOW_WRITTEN)
            settle = 2;
        int wait = watch < 0     ? ARUN_EVENTS_POLL_MS
                   : settle == 2 ? ARUN_EVENTS_SETTLE_MS
                   : settle == 1 ? ARUN_EVENTS_SETTLE_LATE_MS
                                 : ARUN_EVENTS_RECHECK_MS;
        if (settle > 0)
            settle--;
        int to_beat = (int)(ARUN_EVENTS_HEARTBEAT_MS - (now - quiet_since) * 1000) + 1;
        woke = follow_wait(watch, cancel_fd, to_beat < wait ? to_beat : wait);
        if (woke == FOLLOW_GONE)
            break;
    }
    if (watch >= 0)
        close(watch);
    sbuf_free(&b.json);
    return begun ? APP_OK : err;
}

app_err arun_cancel(const conf *c, hist *h, const char *id, sbuf *out, char *msg, size_t msglen)
{
    if (!arun_id_ok(id))
        return not_found(c, msg, msglen);
    housekeep(c, h);
    hist_run_status was;
    long pid;
    app_err err = hist_run_cancel(h, id, &was, &pid, msg, msglen);
    if (err == APP_ENOTFOUND)
        return not_found(c, msg, msglen);
    if (err != APP_OK)
        return err;
    if (!hist_run_active(was)) {
        snprintf(msg, msglen, "the execution has already ended (status %s)",
                 hist_run_status_name(was));
        return APP_ECONFLICT;
    }
    /* The row says cancelled first, so whatever the task writes after is
     * refused; then the task goes, and with it the jailed job. */
    if (task_alive(pid, id) && kill((pid_t)pid, SIGKILL) != 0 && errno != ESRCH)
        fprintf(stderr, "pysandbox executions: kill %ld (%s): %s\n", pid, id, strerror(errno));
    return load_json(c, h, id, out, msg, msglen);
}

/* Sleeps ms milliseconds. */
static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The pool's state in one of its processes (each has its own copy): the
 * spawner's engine context, a spare's store handle, the run it took. */
typedef struct task_state {
    const conf *c;
    exe_ctx *x;  /* From exe_ctx_new() in the spawner; ends with the process */
    hist *h;     /* From hist_open() in the spare; ends with the process */
    hist *out_h; /* the same, for the output writer's thread (runout.h) */
    runout *out; /* that thread, started in the spare; NULL: runs store no output as it comes */
    char id[HIST_RUN_ID_LEN + 1];
    uint64_t client;
    char sandbox[HIST_RUN_SANDBOX_MAX + 1]; /* "": a one-shot run */
    sbuf code, data, requirements;
} task_state;

static task_state pool;

/* Runs the claimed job, its output stored as it comes (runout.h), and
 * stores its outcome: the engine's answer, or why there is none.  Retries
 * while the executor or the client's share of it is full, for
 * ARUN_BUSY_RETRY_S. */
static void run_claimed(const task_state *t)
{
    char msg[APP_ERRMSG_LEN] = "";
    reqs r;
    reqs_init(&r);
    exe_answer a = {.err = APP_OK};
    bool answered = false;
    runout *o = NULL;
    app_err err = t->requirements.len > 0
                      ? reqs_decode(t->requirements.data, t->requirements.len, &r, msg, sizeof msg)
                      : APP_OK;
    if (err == APP_OK && t->out != NULL) {
        o = t->out;
        runout_begin(o, t->id);
    }
    if (err == APP_OK) {
        bool sandbox = t->sandbox[0] != '\0';
        /* Without data, a sandbox keeps the data it has (""), a one-shot
         * run gets []. */
        exe_request er = {
            .code = t->code.data ? t->code.data : "",
            .code_len = t->code.len,
            .data = t->data.len > 0 ? t->data.data
                    : sandbox       ? ""
                                    : "[]",
            .data_len = t->data.len > 0 ? t->data.len
                        : sandbox       ? 0
                                        : 2,
            .r = &r,
            .cancel_fd = -1,
            .client = t->client,
            .sandbox = sandbox ? t->sandbox : NULL,
            .on_output = o != NULL ? runout_on_output : NULL,
            .output_ctx = o,
        };
        double started = now_s();
        for (;;) {
            exe_run_native(t->x, t->h, &er, &a);
            answered = true;
            if ((a.err != APP_EBUSY && a.err != APP_ECLIENT_LIMIT) ||
                now_s() - started > ARUN_BUSY_RETRY_S)
                break;
            exe_answer_free(&a);
            answered = false;
            pause_ms(ARUN_BUSY_SLEEP_MS);
        }
    }
    /* All output is stored before the end is, so a reader that sees the
     * run ended sees all of its output too. */
    const hist_run_piece *tail;
    size_t ntail;
    bool truncated[2];
    runout_stop(o, &tail, &ntail, truncated);
    char dbmsg[APP_ERRMSG_LEN];
    app_err serr;
    if (!answered)
        serr = hist_run_finish_output(t->h, t->id, tail, ntail, truncated, HIST_RUN_FAILED, NULL, 0,
                                      app_errcode(err), msg[0] ? msg : app_strerror(err), dbmsg,
                                      sizeof dbmsg);
    else if (a.err == APP_OK)
        serr = hist_run_finish_output(t->h, t->id, tail, ntail, truncated, HIST_RUN_COMPLETED,
                                      a.result.data ? a.result.data : "", a.result.len, NULL, NULL,
                                      dbmsg, sizeof dbmsg);
    else
        serr = hist_run_finish_output(t->h, t->id, tail, ntail, truncated, HIST_RUN_FAILED, NULL, 0,
                                      app_errcode(a.err),
                                      a.message[0] ? a.message : app_strerror(a.err), dbmsg,
                                      sizeof dbmsg);
    runout_free(o);
    if (serr != APP_OK) /* left running: housekeeping closes it as lost once we exit */
        fprintf(stderr, "pysandbox executions: storing %s: %s\n", t->id, dbmsg);
    if (answered)
        exe_answer_free(&a);
}

static bool pool_start(void *ctx)
{
    (void)ctx;
    char msg[APP_ERRMSG_LEN] = "";
    if (exe_ctx_new(pool.c, &pool.x, msg, sizeof msg) == APP_OK)
        return true;
    fprintf(stderr, "pysandbox executions: task pool: %s\n", msg);
    return false;
}

static bool pool_prepare(void *ctx)
{
    (void)ctx;
    char msg[APP_ERRMSG_LEN] = "";
    sbuf_init(&pool.code, XP_MAX_CODE);
    sbuf_init(&pool.data, XP_MAX_DATA);
    sbuf_init(&pool.requirements, ARUN_MAX_REQUIREMENTS);
    if (hist_open(pool.c->db_path, &pool.h, msg, sizeof msg) == APP_OK &&
        hist_open(pool.c->db_path, &pool.out_h, msg, sizeof msg) == APP_OK) {
        if (runout_new(pool.out_h, &pool.out, msg, sizeof msg) != APP_OK)
            fprintf(stderr, "pysandbox executions: task pool: %s\n", msg); /* runs without it */
        return true;
    }
    fprintf(stderr, "pysandbox executions: task pool: %s\n", msg);
    return false;
}

/* Takes the queued run id: named after it first, so that whoever sees it
 * running (task_alive) recognises its task. */
static bool pool_take(void *ctx, const char *id)
{
    (void)ctx;
    char name[RUNPOOL_NAME_MAX + 1], msg[APP_ERRMSG_LEN] = "";
    if (!arun_id_ok(id))
        return false;
    task_name(id, name);
    if (!runpool_set_name(name))
        return false;
    sbuf_reset(&pool.code);
    sbuf_reset(&pool.data);
    sbuf_reset(&pool.requirements);
    app_err err = hist_run_claim(pool.h, id, (long)getpid(), &pool.client, pool.sandbox, &pool.code,
                                 &pool.data, &pool.requirements, msg, sizeof msg);
    if (err == APP_OK) {
        memcpy(pool.id, id, sizeof pool.id);
        return true;
    }
    if (err != APP_ENOTFOUND) { /* not found: cancelled before it started, nothing to do */
        char dbmsg[APP_ERRMSG_LEN];
        fprintf(stderr, "pysandbox executions: task %s: %s\n", id, msg);
        /* Not run: say why (a row this cannot close is closed as lost later). */
        if (hist_run_finish(pool.h, id, HIST_RUN_FAILED, NULL, 0, app_errcode(err),
                            "the execution task could not start", dbmsg, sizeof dbmsg) != APP_OK)
            fprintf(stderr, "pysandbox executions: task %s: %s\n", id, dbmsg);
    }
    return false;
}

static int pool_run(void *ctx)
{
    (void)ctx;
    run_claimed(&pool);
    return 0;
}

pid_t arun_pool_start(const conf *c)
{
    static const runpool_spec spec = {
        .start = pool_start,
        .prepare = pool_prepare,
        .take = pool_take,
        .run = pool_run,
    };
    pool.c = c;
    return runpool_start(&spec);
}
