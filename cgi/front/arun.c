/* arun.c - asynchronous executions: stored, run by a task, read, cancelled (see arun.h). */
#include "arun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"
#include "execution.h"
#include "jsonw.h"
#include "reqs.h"
#include "xproto.h"

/* The task's name in bg_run_task() and fcgi_main.c's table. */
#define ARUN_TASK "execution"
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

/* Whether pid is still the task running id.  Its command line says so
 * (argv as bg_run_task() wrote it), which a pid reused by another process
 * does not; when it cannot be read, whether the pid exists at all. */
static bool task_alive(long pid, const char *id)
{
    if (pid <= 0)
        return false;
    char path[64], want[128], got[128];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    int n = snprintf(want, sizeof want, "pysandbox-fcgi%c--task%c" ARUN_TASK "%c%s%c", '\0', '\0',
                     '\0', id, '\0');
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
    ssize_t len = read(fd, got, sizeof got);
    close(fd);
    return len == n && memcmp(got, want, (size_t)n) == 0;
}

/* The runs found lost in one pass, closed after the walk. */
typedef struct reap_list {
    double now;
    int n;
    char id[ARUN_REAP_BATCH][HIST_RUN_ID_LEN + 1];
    const char *why[ARUN_REAP_BATCH];
} reap_list;

static APP_MUST_CHECK app_err reap_one(void *ctx, const char *id, hist_run_status status,
                                       long task_pid, double created_at)
{
    reap_list *l = ctx;
    const char *why = NULL;
    if (status == HIST_RUN_QUEUED && l->now - created_at > HIST_TASK_START_S)
        why = "the run was lost: its task never started";
    else if (status == HIST_RUN_RUNNING && !task_alive(task_pid, id))
        why = "the run was lost: its task ended without an answer (or the service restarted)";
    if (why == NULL || strlen(id) != HIST_RUN_ID_LEN)
        return APP_OK;
    memcpy(l->id[l->n], id, HIST_RUN_ID_LEN + 1);
    l->why[l->n++] = why;
    return l->n < ARUN_REAP_BATCH ? APP_OK : APP_ETOOBIG; /* full: the rest next time */
}

/* Purges runs past their retention and closes lost ones.  Housekeeping:
 * its failures are left to the next call. */
static void housekeep(const conf *c, hist *h)
{
    hist_run_purge(h, c->execution_retention_s);
    reap_list l = {.now = now_s()};
    char msg[APP_ERRMSG_LEN];
    app_ignore(hist_run_active_each(h, reap_one, &l, msg, sizeof msg)); /* what was found counts */
    for (int i = 0; i < l.n; i++)
        if (hist_run_finish(h, l.id[i], HIST_RUN_FAILED, NULL, 0, "lost", l.why[i], msg,
                            sizeof msg) != APP_OK)
            fprintf(stderr, "pysandbox executions: closing lost %s: %s\n", l.id[i], msg);
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
    err = bg_run_task(ARUN_TASK, id, msg, msglen);
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

/* Loads id (after housekeeping) and appends its status JSON. */
static APP_MUST_CHECK app_err load_json(hist *h, const char *id, sbuf *out, char *msg,
                                        size_t msglen)
{
    hist_run_row row;
    app_err err = hist_run_get(h, id, &row, msg, msglen);
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
    app_err err = load_json(h, id, out, msg, msglen);
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
    return load_json(h, id, out, msg, msglen);
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
static void run_claimed(const conf *c, hist *h, const char *id, uint64_t client, const sbuf *code,
                        const sbuf *data, const sbuf *requirements)
{
    char msg[APP_ERRMSG_LEN] = "";
    exe_ctx *x = NULL;
    reqs r;
    reqs_init(&r);
    exe_answer a = {.err = APP_OK};
    bool answered = false;
    app_err err = requirements->len > 0
                      ? reqs_decode(requirements->data, requirements->len, &r, msg, sizeof msg)
                      : APP_OK;
    if (err == APP_OK)
        err = exe_ctx_new(c, &x, msg, sizeof msg);
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
    exe_ctx_free(x);
}

app_err arun_task(const conf *c, const char *id)
{
    hist *h = NULL;
    char msg[APP_ERRMSG_LEN] = "";
    uint64_t client = 0;
    sbuf code, data, requirements;
    sbuf_init(&code, XP_MAX_CODE);
    sbuf_init(&data, XP_MAX_DATA);
    sbuf_init(&requirements, ARUN_MAX_REQUIREMENTS);
    app_err err = arun_id_ok(id) ? APP_OK : APP_EFIELD;
    if (err == APP_OK)
        err = hist_open(c->db_path, &h, msg, sizeof msg);
    if (err == APP_OK)
        err = hist_run_claim(h, id, (long)getpid(), &client, &code, &data, &requirements, msg,
                             sizeof msg);
    if (err == APP_ENOTFOUND) {
        err = APP_OK; /* cancelled before it started (or started twice): nothing to do */
        goto out;
    }
    if (err != APP_OK) {
        fprintf(stderr, "pysandbox-fcgi --task " ARUN_TASK " %s: %s\n", id,
                msg[0] ? msg : app_strerror(err));
        char dbmsg[APP_ERRMSG_LEN];
        /* Not run: say why (a row this cannot close is closed as lost later). */
        if (h != NULL &&
            hist_run_finish(h, id, HIST_RUN_FAILED, NULL, 0, app_errcode(err),
                            "the execution task could not start", dbmsg, sizeof dbmsg) != APP_OK)
            fprintf(stderr, "pysandbox-fcgi --task " ARUN_TASK " %s: %s\n", id, dbmsg);
        goto out;
    }
    run_claimed(c, h, id, client, &code, &data, &requirements);
out:
    sbuf_free(&code);
    sbuf_free(&data);
    sbuf_free(&requirements);
    hist_close(h);
    return err;
}
