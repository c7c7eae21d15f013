/* arun.c - asynchronous executions: stored, run by a task, read, cancelled (see arun.h). */
#include "arun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runpool.h"
#include "execution.h"
#include "jsonw.h"
#include "reqs.h"
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

/* Loads run id into *row (free it on APP_OK) as an answer must see it:
 * closed as lost first when its task is gone, and APP_ENOTFOUND once past
 * its retention, whether or not a purge has deleted it yet. */
static APP_MUST_CHECK app_err load_row(const conf *c, hist *h, const char *id, hist_run_row *row,
                                       char *msg, size_t msglen)
{
    app_err err = hist_run_get(h, id, row, msg, msglen);
    if (err != APP_OK)
        return err;
    const char *why = lost_why(id, row->status, row->task_pid, row->created_at, now_s());
    if (why != NULL) {
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
    app_err err = hist_run_create(h, r->client, &caps, r->code, r->code_len, r->data, r->data_len,
                                  r->requirements, id, msg, msglen);
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

/* Appends Unix time t as "2024-05-01T12:00:00.123Z", or null when t < 0. */
static APP_MUST_CHECK app_err iso_time(sbuf *out, double t)
{
    if (t < 0)
        return sbuf_puts(out, "null");
    time_t secs = (time_t)t;
    int ms = (int)((t - (double)secs) * 1000.0);
    if (ms > 999)
        ms = 999;
    struct tm tm;
    char text[32];
    if (gmtime_r(&secs, &tm) == NULL || strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return sbuf_puts(out, "null");
    return sbuf_printf(out, "\"%s.%03dZ\"", text, ms);
}

/* Appends a loaded row as the status JSON (see arun_status_json). */
static APP_MUST_CHECK app_err status_json(const hist_run_row *row, sbuf *out)
{
    app_err err = sbuf_printf(out, "{\"id\":\"%s\",\"status\":\"%s\",\"createdAt\":", row->id,
                              hist_run_status_name(row->status));
    if (err == APP_OK)
        err = iso_time(out, row->created_at);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"startedAt\":");
    if (err == APP_OK)
        err = iso_time(out, row->started_at);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"finishedAt\":");
    if (err == APP_OK)
        err = iso_time(out, row->finished_at);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"statusUrl\":\"" ARUN_PATH "/%s\",\"result\":", row->id);
    /* The engine's answer, stored as it came (JSON); without its newline. */
    size_t n = row->result_len;
    while (row->result != NULL && n > 0 &&
           (row->result[n - 1] == '\n' || row->result[n - 1] == ' ' || row->result[n - 1] == '\r'))
        n--;
    if (err == APP_OK)
        err = row->status == HIST_RUN_COMPLETED && row->result != NULL && n > 0
                  ? sbuf_append(out, row->result, n)
                  : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"error\":");
    if (err == APP_OK && row->error_code[0] != '\0') {
        err = sbuf_puts(out, "{\"code\":");
        if (err == APP_OK)
            err = jsonw_string(out, row->error_code, strlen(row->error_code));
        if (err == APP_OK)
            err = sbuf_puts(out, ",\"message\":");
        if (err == APP_OK)
            err = jsonw_string(out, row->error_message, strlen(row->error_message));
        if (err == APP_OK)
            err = sbuf_putc(out, '}');
    } else if (err == APP_OK) {
        err = sbuf_puts(out, "null");
    }
    return err == APP_OK ? sbuf_puts(out, "}\n") : err;
}

/* Loads id (load_row) and appends its status JSON. */
static APP_MUST_CHECK app_err load_json(const conf *c, hist *h, const char *id, sbuf *out,
                                        char *msg, size_t msglen)
{
    hist_run_row row;
    app_err err = load_row(c, h, id, &row, msg, msglen);
    if (err == APP_OK)
        err = status_json(&row, out);
    hist_run_row_free(&row);
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

/* Runs the claimed job and stores its outcome: the engine's answer, or
 * why there is none.  Retries while the executor or the client's share of
 * it is full, for ARUN_BUSY_RETRY_S. */
static void run_claimed(exe_ctx *x, hist *h, const char *id, uint64_t client, const sbuf *code,
                        const sbuf *data, const sbuf *requirements)
{
    char msg[APP_ERRMSG_LEN] = "";
    reqs r;
    reqs_init(&r);
    exe_answer a = {.err = APP_OK};
    bool answered = false;
    app_err err = requirements->len > 0
                      ? reqs_decode(requirements->data, requirements->len, &r, msg, sizeof msg)
                      : APP_OK;
    if (err == APP_OK) {
        exe_request er = {
            .code = code->data ? code->data : "",
            .code_len = code->len,
            .data = data->len > 0 ? data->data : "[]",
            .data_len = data->len > 0 ? data->len : 2,
            .r = &r,
            .cancel_fd = -1,
            .client = client,
        };
        double started = now_s();
        for (;;) {
            exe_run_native(x, h, &er, &a);
            answered = true;
            if ((a.err != APP_EBUSY && a.err != APP_ECLIENT_LIMIT) ||
                now_s() - started > ARUN_BUSY_RETRY_S)
                break;
            exe_answer_free(&a);
            answered = false;
            pause_ms(ARUN_BUSY_SLEEP_MS);
        }
    }
    char dbmsg[APP_ERRMSG_LEN];
    app_err serr;
    if (!answered)
        serr = hist_run_finish(h, id, HIST_RUN_FAILED, NULL, 0, app_errcode(err),
                               msg[0] ? msg : app_strerror(err), dbmsg, sizeof dbmsg);
    else if (a.err == APP_OK)
        serr = hist_run_finish(h, id, HIST_RUN_COMPLETED, a.result.data ? a.result.data : "",
                               a.result.len, NULL, NULL, dbmsg, sizeof dbmsg);
    else
        serr = hist_run_finish(h, id, HIST_RUN_FAILED, NULL, 0, app_errcode(a.err),
                               a.message[0] ? a.message : app_strerror(a.err), dbmsg, sizeof dbmsg);
    if (serr != APP_OK) /* left running: housekeeping closes it as lost once we exit */
        fprintf(stderr, "pysandbox executions: storing %s: %s\n", id, dbmsg);
    if (answered)
        exe_answer_free(&a);
}

/* The pool's state in one of its processes (each has its own copy): the
 * spawner's engine context, a spare's store handle, the run it took. */
static struct {
    const conf *c;
    exe_ctx *x; /* From exe_ctx_new() in the spawner; ends with the process */
    hist *h;    /* From hist_open() in the spare; ends with the process */
    char id[HIST_RUN_ID_LEN + 1];
    uint64_t client;
    sbuf code, data, requirements;
} pool;

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
    if (hist_open(pool.c->db_path, &pool.h, msg, sizeof msg) == APP_OK)
        return true;
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
    app_err err = hist_run_claim(pool.h, id, (long)getpid(), &pool.client, &pool.code, &pool.data,
                                 &pool.requirements, msg, sizeof msg);
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
    run_claimed(pool.x, pool.h, pool.id, pool.client, &pool.code, &pool.data, &pool.requirements);
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
