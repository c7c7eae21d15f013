/* child.c - the executor's jailed children: slots, jobs, limits, answers, ends. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "dblink.h"
#include "dbwire.h"
#include "hview.h"
#include "jail.h"
#include "sandbox.h"

/* Memory the jail may use beyond the job's limit before the cgroup kills it:
 * /tmp pages, kernel memory and the pages copied from the warm interpreter
 * are charged there too, while the job's own limit is RLIMIT_DATA. */
#define EX_JAIL_MEMORY_SLACK_MB 64u

/* Shortest wait between two looks at a jail's CPU time: a job may pass its
 * CPU-time limit by at most this much on each CPU before it is stopped. */
#define CHILD_CPU_CHECK_MIN_MS 10u

/* Marks a slot reserved while the zygote is creating its child. */
static child slot_reserved;

/* --- slots ------------------------------------------------------------------ */

unsigned child_free_slot(const executor *ex)
{
    unsigned slot;
    for (slot = 0; slot < ex->nslots; slot++)
        if (ex->slots[slot] == NULL)
            break;
    return slot;
}

void child_reserve_slot(executor *ex, unsigned slot)
{
    ex->slots[slot] = &slot_reserved;
}

void child_release_slot(executor *ex, unsigned slot)
{
    ex->slots[slot] = NULL;
}

child *child_in_slot(const executor *ex, unsigned slot)
{
    child *ch = ex->slots[slot];
    return ch == &slot_reserved ? NULL : ch;
}

child *child_by_pid(const executor *ex, pid_t pid)
{
    for (unsigned i = 0; i < ex->nslots; i++) {
        child *ch = child_in_slot(ex, i);
        if (ch != NULL && ch->pid == pid)
            return ch;
    }
    return NULL;
}

uid_t child_slot_uid(const executor *ex, unsigned slot)
{
    return ex->per_slot_uid ? (uid_t)(ex->c.jail_uid_base + slot) : getuid();
}

gid_t child_slot_gid(const executor *ex, unsigned slot)
{
    return ex->per_slot_uid ? (gid_t)(ex->c.jail_uid_base + slot) : getgid();
}

uint64_t child_memory_limit_bytes(const executor *ex, unsigned memory_mb, bool precopied)
{
    return (((uint64_t)memory_mb + EX_JAIL_MEMORY_SLACK_MB) << 20) +
           (precopied ? ex->precopy_bytes : 0);
}

/* Pre-copy only while the machine is not saturated: under load the copy
 * would take the CPU from running jobs and cost more than the faults it
 * saves.  Load is the jobs running and waiting for a child (n_running
 * counts a job until its jail is reaped, after its answer: one client
 * sending back to back has two). */
bool child_want_precopy(const executor *ex)
{
    return ex->c.precopy && ex->precopy_bytes > 0 && ex->n_running + ex->n_queued <= ex->ncpus;
}

unsigned child_lean_count(const executor *ex)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ex->nslots; i++) {
        const child *ch = child_in_slot(ex, i);
        n += ch != NULL && !ch->precopied && (ch->state == CH_STARTING || ch->state == CH_IDLE);
    }
    return n;
}

child *child_pick_idle(const executor *ex, bool lean)
{
    child *any = NULL;
    for (child *ch = ex->idle; ch != NULL; ch = ch->next) {
        if (lean && !ch->precopied)
            return ch;
        if (!lean && ch->precopied)
            return ch;
        if (any == NULL)
            any = ch;
    }
    return lean ? NULL : any;
}

/* --- creation and end ------------------------------------------------------------ */

bool child_add_spawned(executor *ex, unsigned slot, pid_t pid, const int *fds, bool precopied)
{
    child *ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return false;
    ex->spawns++;
    ex->spawns_precopied += precopied;
    ch->pid = pid;
    ch->slot = slot;
    ch->chan = fds[0];
    ch->out = fds[1];
    ch->err = fds[2];
    ch->status = fds[3];
    ch->precopied = precopied;
    ch->state = CH_STARTING;
    sbuf_init(&ch->out_buf, XP_MAX_STREAM_BYTES);
    sbuf_init(&ch->err_buf, XP_MAX_STREAM_BYTES);
    sbuf_init(&ch->res, 4 + (size_t)XP_MAX_CHILD_RESULT);
    sbuf_init(&ch->db_out, 4 + (size_t)DBW_MAX_ANSWER);
    ex->slots[slot] = ch;
    ex->n_starting++;
    for (int i = 0; i < ZY_CHILD_FDS; i++)
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    ch->ev_chan = (ex_src){SRC_CHAN, ch};
    ch->ev_out = (ex_src){SRC_OUT, ch};
    ch->ev_err = (ex_src){SRC_ERR, ch};
    ex_watch(ex, ch->chan, EPOLLIN, &ch->ev_chan);
    ex_watch(ex, ch->out, EPOLLIN, &ch->ev_out);
    ex_watch(ex, ch->err, EPOLLIN, &ch->ev_err);
    return true;
}

void child_add_failed(executor *ex, unsigned slot, pid_t pid, const char *why)
{
    child *ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return;
    ch->pid = pid;
    ch->slot = slot;
    ch->chan = ch->out = ch->err = ch->status = -1;
    ch->state = CH_STARTING;
    ex->n_starting++;
    snprintf(ch->fail_msg, sizeof ch->fail_msg, "%s", why);
    sbuf_init(&ch->out_buf, 0);
    sbuf_init(&ch->err_buf, 0);
    sbuf_init(&ch->res, 0);
    ex->slots[slot] = ch;
}

void child_kill(child *ch, res_verdict why)
{
    if (!ch->killed) {
        ch->killed = true;
        if (ch->verdict == RES_EXITED)
            ch->verdict = why;
        /* SIGKILL of PID 1 ends the whole PID namespace: every process the
         * job started dies with it. */
        kill(ch->pid, SIGKILL);
    }
}

void child_kill_all(const executor *ex)
{
    for (unsigned i = 0; i < ex->nslots; i++) {
        child *ch = child_in_slot(ex, i);
        if (ch != NULL)
            kill(ch->pid, SIGKILL);
    }
}

static void child_idle_remove(executor *ex, child *ch)
{
    for (child **pp = &ex->idle; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == ch) {
            *pp = ch->next;
            ex->n_idle--;
            break;
        }
    }
    ch->next = NULL;
}

static void child_free(executor *ex, child *ch)
{
    ex_close_fd(ex, &ch->chan);
    ex_close_fd(ex, &ch->out);
    ex_close_fd(ex, &ch->err);
    ex_close_fd(ex, &ch->status);
    sbuf_free(&ch->out_buf);
    sbuf_free(&ch->err_buf);
    sbuf_free(&ch->res);
    sbuf_free(&ch->db_out);
    dblink_forget(ex, ch, NULL);
    ex->slots[ch->slot] = NULL;
    free(ch);
}

/* --- the job's bytes ------------------------------------------------------------ */

/* Reads what is available on a child's output pipe, up to the cap; more
 * than the cap ends a running job with the verdict over. */
static void child_drain_stream(executor *ex, child *ch, int *fd, sbuf *buf, res_verdict over)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(*fd, tmp, sizeof tmp);
        if (n > 0) {
            size_t room = buf->max - buf->len;
            size_t keep = (size_t)n < room ? (size_t)n : room;
            if (sbuf_append(buf, tmp, keep) != APP_OK) {
                /* Out of memory (keep fits the cap): the output can no
                 * longer be complete, so the job must not go on as if it
                 * were; it ends without a result. */
                if (ch->state == CH_RUNNING)
                    child_kill(ch, RES_NO_RESULT);
            } else if ((size_t)n > room && ch->state == CH_RUNNING) {
                child_kill(ch, over);
            }
            if (ch->client != NULL && ch->state == CH_RUNNING)
                client_stream(ex, ch->client, buf == &ch->err_buf, tmp, keep);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno != EAGAIN))
            ex_close_fd(ex, fd);
        return;
    }
}

static void child_drain_chan(executor *ex, child *ch)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(ch->chan, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            ex_close_fd(ex, &ch->chan);
            return;
        }
        if (ch->state == CH_STARTING) {
            if (tmp[0] == ZY_CHILD_READY && n == 1) {
                ch->state = CH_IDLE;
                ex->n_starting--;
                ch->next = ex->idle;
                ex->idle = ch;
                ex->n_idle++;
                ex->spawn_failures = 0;
            } else if (tmp[0] == ZY_CHILD_FAILED) {
                snprintf(ch->fail_msg, sizeof ch->fail_msg, "%.*s", (int)(n - 1), tmp + 1);
            }
            continue;
        }
        if (ch->state != CH_RUNNING) {
            child_kill(ch, RES_NO_RESULT); /* an idle child must stay silent */
            return;
        }
        app_err e = sbuf_append(&ch->res, tmp, (size_t)n);
        if (e != APP_OK) {
            /* Out of memory leaves an incomplete frame: no result either way. */
            child_kill(ch, e == APP_ETOOBIG ? RES_RESULT_LIMIT : RES_NO_RESULT);
            return;
        }
    }
}

/* Relays one traced step (a step frame's JSON) to the job's client as an
 * XP_FRAME_STEP frame, filtered as the answer's steps are (hview.h): the
 * program may have forged it.  Nothing when nobody streams. */
static void child_relay_step(executor *ex, child *ch, const char *json, size_t n)
{
    if (ch->client == NULL || (ch->client->hdr.flags & XP_FLAG_STREAM) == 0)
        return;
    sbuf doc, out;
    sbuf_init(&doc, n + 16);
    sbuf_init(&out, 2 * n + 64);
    hv_view v;
    if (sbuf_puts(&doc, "{\"steps\":[") == APP_OK && sbuf_append(&doc, json, n) == APP_OK &&
        sbuf_puts(&doc, "]}") == APP_OK) {
        hv_read(doc.data, doc.len, &v);
        /* "steps":[<the step, or nothing>],"steps_truncated":b */
        static const char head[] = "\"steps\":[", tail[] = "],\"steps_truncated\":";
        if (hv_put_steps(&out, doc.data, &v) == APP_OK && out.len > sizeof head - 1) {
            const char *end = NULL;
            for (const char *p = out.data; (p = strstr(p, tail)) != NULL; p++)
                end = p;
            const char *begin = out.data + sizeof head - 1;
            if (end != NULL && end > begin && (size_t)(end - begin) <= XP_MAX_STEP_FRAME)
                client_stream_frame(ex, ch->client, XP_FRAME_STEP, begin, (size_t)(end - begin));
        }
    }
    sbuf_free(&doc);
    sbuf_free(&out);
}

/* Takes the complete frames at the front of the channel's bytes that are
 * not the result: steps are relayed at once; a database request goes to
 * the broker, and frames after it wait for its answer. */
static void child_take_frames(executor *ex, child *ch)
{
    uint32_t word;
    while (!ch->db_pending && !ch->chan_broken && ch->state == CH_RUNNING && !ch->killed &&
           ch->res.len >= 4) {
        memcpy(&word, ch->res.data, 4);
        bool db = (word & XP_CHILD_FRAME_DB) != 0, step = !db && (word & XP_CHILD_FRAME_STEP) != 0;
        if (!db && !step)
            return; /* the result */
        uint32_t n = word & XP_CHILD_FRAME_LEN;
        if (n > (db ? DBW_MAX_REQUEST : XP_MAX_STEP_FRAME)) {
            /* The harness never sends one: a forged frame.  Nothing more is
             * read as frames, so no result can complete (the answer says
             * EngineError); the program runs on to its end, and its output
             * is kept. */
            ch->chan_broken = true;
            return;
        }
        if (ch->res.len - 4 < n)
            return;
        char *json = malloc(n > 0 ? n : 1);
        if (json == NULL) {
            child_kill(ch, RES_NO_RESULT);
            return;
        }
        memcpy(json, ch->res.data + 4, n);
        memmove(ch->res.data, ch->res.data + 4 + n, ch->res.len - 4 - n);
        ch->res.len -= 4 + (size_t)n;
        ch->res.data[ch->res.len] = '\0';
        if (step) {
            child_relay_step(ex, ch, json, n);
        } else {
            ch->db_pending = true;
            if (++ch->db_queries > DBW_MAX_QUERIES_PER_JOB) {
                static const char over[] =
                    "{\"ok\":false,\"error\":{\"type\":\"DatabaseLimit\",\"message\":"
                    "\"this execution made more database queries than allowed\"}}";
                child_db_answer(ex, ch, over, sizeof over - 1);
            } else {
                dblink_submit_child(ex, ch, json, n);
            }
        }
        free(json);
    }
}

/* Writes buf[*off .. len) to the channel as far as it takes it.  Returns
 * true when all is written (the channel is watched for input only again);
 * false when the rest waits for EPOLLOUT, or the child was killed. */
static bool child_write_chan(executor *ex, child *ch, const char *buf, size_t len, size_t *off)
{
    while (*off < len) {
        ssize_t n = write(ch->chan, buf + *off, len - *off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            ex_rewatch(ex, ch->chan, EPOLLIN | EPOLLOUT, &ch->ev_chan);
            return false;
        }
        if (n < 0) {
            child_kill(ch, RES_NO_RESULT);
            return false;
        }
        *off += (size_t)n;
    }
    ex_rewatch(ex, ch->chan, EPOLLIN, &ch->ev_chan);
    return true;
}

static void child_write_db(executor *ex, child *ch)
{
    if (!child_write_chan(ex, ch, ch->db_out.data, ch->db_out.len, &ch->db_woff))
        return;
    sbuf_reset(&ch->db_out);
    ch->db_woff = 0;
    ch->db_pending = false;
}

static void child_after_chan(executor *ex, child *ch);

void child_db_answer(executor *ex, child *ch, const char *json, size_t n)
{
    uint32_t len = (uint32_t)n;
    if (ch->state != CH_RUNNING || ch->killed || ch->chan < 0)
        return;
    sbuf_reset(&ch->db_out);
    if (n > DBW_MAX_ANSWER || sbuf_append(&ch->db_out, &len, 4) != APP_OK ||
        sbuf_append(&ch->db_out, json, n) != APP_OK) {
        child_kill(ch, RES_NO_RESULT);
        return;
    }
    ch->db_woff = 0;
    child_write_db(ex, ch);
    if (!ch->db_pending)
        child_after_chan(ex, ch);
}

static void child_write_job(executor *ex, child *ch)
{
    client *cl = ch->client;
    if (cl == NULL || ch->chan < 0)
        return;
    if (!child_write_chan(ex, ch, cl->payload, cl->need, &ch->woff))
        return;
    /* The job's data is with the child now: drop our copy early. */
    free(cl->payload);
    cl->payload = NULL;
}

/* Returns the harness's JSON when the child's result frame is complete. */
static const char *child_result(const child *ch, size_t *len)
{
    uint32_t n;
    if (ch->res.len < 4 || ch->db_pending)
        return NULL; /* a result is complete only once its queries are answered */
    memcpy(&n, ch->res.data, 4);
    if (n != ch->res.len - 4)
        return NULL;
    *len = n;
    return ch->res.data + 4;
}

/* Sends the job's answer to its client (if it is still there).  status and
 * ru describe the child's end when reaped is true; an early answer reports
 * the exit the child is about to make (status 0). */
static void child_answer(executor *ex, child *ch, bool reaped, int status, const struct rusage *ru)
{
    client *cl = ch->client;
    ch->client = NULL;
    if (cl == NULL)
        return;
    cl->child = NULL;
    if (ch->job.op == XP_OP_SANDBOX_CREATE) { /* ended before its empty run did */
        char why[APP_ERRMSG_LEN];
        snprintf(why, sizeof why, "the sandbox's interpreter could not be started (%s %d)",
                 !reaped ? "no result" : WIFSIGNALED(status) ? "signal" : "exit status",
                 !reaped ? 0 : WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        ex_note_error(ex, "%s", why);
        client_error(ex, cl, APP_EJAIL, why);
        ex->jobs_failed++;
        return;
    }
    cg_usage use = {0};
    if (ex->cg != NULL)
        cg_read_usage(ex->cg, ch->slot, &use);
    size_t json_len = 0;
    const char *json = child_result(ch, &json_len);
    if (json == NULL && ch->res.len > 0 && ch->verdict == RES_EXITED)
        ch->verdict = RES_NO_RESULT;
    double cpu_ms = use.cpu_ns / 1e6;
    if (use.cpu_ns == 0 && reaped)
        cpu_ms = ru->ru_utime.tv_sec * 1e3 + ru->ru_utime.tv_usec / 1e3 +
                 ru->ru_stime.tv_sec * 1e3 + ru->ru_stime.tv_usec / 1e3;
    res_parts p = {
        .child_json = json,
        .child_len = json_len,
        .out = ch->out_buf.data,
        .out_len = ch->out_buf.len,
        .err = ch->err_buf.data,
        .err_len = ch->err_buf.len,
        .verdict = ch->verdict,
        .exited = !reaped || WIFEXITED(status),
        .exit_code = reaped && WIFEXITED(status) ? WEXITSTATUS(status) : 0,
        .exit_signal = reaped && WIFSIGNALED(status) ? WTERMSIG(status) : 0,
        .oom_killed = use.oom_killed,
        .wall_limit_ms = ch->job.wall_ms,
        .cpu_limit_ms = ch->job.cpu_ms,
        .memory_limit_mb = ch->job.memory_mb,
        .nofile = ch->job.nofile,
        .nproc = ch->job.nproc,
        .stream_cap = XP_MAX_STREAM_BYTES,
        .wall_ms = ex_now_ms_f() - ch->started_ms,
        .queue_ms = ch->started_ms - cl->queued_ms,
        .cpu_ms = cpu_ms,
        .peak_memory_bytes = ch->precopied && use.peak_bytes > ex->precopy_bytes
                                 ? use.peak_bytes - ex->precopy_bytes
                                 : use.peak_bytes,
        .sandbox_id = ch->sbx != NULL ? cl->hdr.sandbox : NULL,
        .sandbox_state_lost = reaped,
        .traced = (cl->hdr.flags & XP_FLAG_TRACE) != 0,
        .insights = (cl->hdr.flags & XP_FLAG_INSIGHTS) != 0,
        .raw_streams = (cl->hdr.flags & XP_FLAG_PROGRAM) != 0,
    };
    sbuf out;
    sbuf_init(&out, XP_MAX_RESPONSE);
    app_err err = res_compose(&p, &out);
    if (ch->sbx != NULL)
        sandbox_executed(ex, ch, err == APP_OK ? out.data : NULL, out.len, reaped);
    if (err == APP_OK) {
        client_reply(ex, cl, APP_OK, out.data, out.len);
        ex->jobs_done++;
    } else {
        client_error(ex, cl, APP_EINTERNAL, "the result could not be composed");
        ex->jobs_failed++;
    }
    sbuf_free(&out);
}

/* A job of a sandbox (its creation's empty run, or an execution in it). */
static bool child_sandbox_job(const child *ch)
{
    return ch->job.op == XP_OP_SANDBOX_CREATE || ch->job.sandbox[0] != '\0';
}

/* A sandbox's child does not exit after its job: a complete result frame
 * ends the job.  Its output was written before the frame (the interpreter's
 * stdio is unbuffered), so what the pipes hold now is all of it.  The
 * child is then held for the next execution. */
static void child_sandbox_done(executor *ex, child *ch)
{
    size_t len;
    if (ch->state != CH_RUNNING || ch->killed || !child_sandbox_job(ch) ||
        child_result(ch, &len) == NULL)
        return;
    if (ch->out >= 0)
        child_drain_stream(ex, ch, &ch->out, &ch->out_buf, RES_STDOUT_LIMIT);
    if (ch->err >= 0)
        child_drain_stream(ex, ch, &ch->err, &ch->err_buf, RES_STDERR_LIMIT);
    if (ch->killed || ch->out < 0 || ch->err < 0)
        return; /* over an output cap, or its pipes closed: it ends as a job does */
    ex->n_running--;
    ex->n_sandbox_running -= ch->job.sandbox[0] != '\0';
    ex->n_stream_running -= ex_job_streamed(ex, &ch->job);
    if (ch->job.op == XP_OP_SANDBOX_CREATE) {
        client *cl = ch->client;
        ch->client = NULL;
        if (cl == NULL) {
            child_kill(ch, RES_NO_RESULT); /* nobody is told its id: nobody may use it */
            return;
        }
        cl->child = NULL;
        const char *json = child_result(ch, &len);
        ch->state = CH_HELD;
        sandbox_created(ex, ch, cl, json, len);
    } else {
        child_answer(ex, ch, false, 0, NULL);
        ch->state = CH_HELD;
    }
    sbuf_reset(&ch->out_buf);
    sbuf_reset(&ch->err_buf);
    sbuf_reset(&ch->res);
    ch->verdict = RES_EXITED;
    ch->woff = 0;
}

/* The harness points fds 1 and 2 at /dev/null before it writes its result,
 * so a complete result plus EOF on both pipes means nothing more can come:
 * answer now instead of after the kernel has torn the child down (its
 * address space goes before its files), and end the jail at once. */
static void child_maybe_answer_early(executor *ex, child *ch)
{
    size_t len;
    if (ch->state != CH_RUNNING || ch->client == NULL || ch->out >= 0 || ch->err >= 0 ||
        ch->verdict != RES_EXITED || child_result(ch, &len) == NULL)
        return;
    child_answer(ex, ch, false, 0, NULL);
    kill(ch->pid, SIGKILL);
}

/* After the channel moved: the next database request, or the end. */
static void child_after_chan(executor *ex, child *ch)
{
    child_take_frames(ex, ch);
    child_sandbox_done(ex, ch);
    child_maybe_answer_early(ex, ch);
}

void child_on_chan(executor *ex, child *ch, uint32_t events)
{
    if (events & EPOLLOUT) {
        child_write_job(ex, ch);
        if (ch->db_pending && ch->db_out.len > 0 && ch->chan >= 0)
            child_write_db(ex, ch);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        child_drain_chan(ex, ch);
    child_after_chan(ex, ch);
}

void child_on_output(executor *ex, child *ch, bool is_stderr)
{
    if (is_stderr)
        child_drain_stream(ex, ch, &ch->err, &ch->err_buf, RES_STDERR_LIMIT);
    else
        child_drain_stream(ex, ch, &ch->out, &ch->out_buf, RES_STDOUT_LIMIT);
    child_maybe_answer_early(ex, ch);
}

/* --- jobs and their limits --------------------------------------------------------- */

/* The earliest moment the jail could pass its CPU-time limit, having used
 * used_ns: with every CPU busy from now on.  A look costs one read of one
 * control file, and a jail that mostly waits is looked at a few times. */
static void child_schedule_cpu_check(const executor *ex, child *ch, uint64_t used_ns)
{
    uint64_t limit_ns = (uint64_t)ch->job.cpu_ms * 1000000u;
    uint64_t wait_ms = used_ns < limit_ns ? (limit_ns - used_ns) / 1000000u / ex->ncpus : 0;
    if (wait_ms < CHILD_CPU_CHECK_MIN_MS)
        wait_ms = CHILD_CPU_CHECK_MIN_MS;
    ch->cpu_check_ms = ex_now_ms() + wait_ms;
}

void child_start_job(executor *ex, client *cl, child *ch)
{
    child_idle_remove(ex, ch);
    char err[APP_ERRMSG_LEN];
    if (ex->cg != NULL && cg_mode_of(ex->cg) != CG_NONE &&
        cg_limit_slot(ex->cg, ch->slot,
                      child_memory_limit_bytes(ex, cl->hdr.memory_mb, ch->precopied),
                      cl->hdr.nproc + JAIL_INIT_TASKS, err, sizeof err) != APP_OK) {
        ex_note_error(ex, "%s", err);
        child_kill(ch, RES_NO_RESULT); /* reaped, slot freed; the job is retried */
        return;
    }
    client_dequeue(ex, cl);
    ex->n_sandbox_running += cl->hdr.sandbox[0] != '\0';
    ex->n_stream_running += ex_job_streamed(ex, &cl->hdr);
    ch->state = CH_RUNNING;
    ch->job = cl->hdr;
    ch->client = cl;
    ch->started_ms = ex_now_ms_f();
    ch->deadline_ms = ex_now_ms() + cl->hdr.wall_ms;
    ch->cpu_check_ms = UINT64_MAX;
    if (cl->hdr.cpu_ms > 0 && ex->cg != NULL && cg_measures_cpu(ex->cg))
        child_schedule_cpu_check(ex, ch, 0);
    ch->woff = 0;
    ch->db_queries = 0;
    ch->chan_broken = false;
    cl->child = ch;
    cl->state = CL_RUNNING;
    ex->n_running++;
    child_write_job(ex, ch);
}

/* A running job whose limits are still watched: not yet killed. */
static bool child_is_live_job(const child *ch)
{
    return ch != NULL && ch->state == CH_RUNNING && !ch->killed;
}

uint64_t child_next_deadline(const executor *ex)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < ex->nslots; i++) {
        const child *ch = child_in_slot(ex, i);
        if (child_is_live_job(ch) && ch->deadline_ms < next)
            next = ch->deadline_ms;
        if (child_is_live_job(ch) && ch->cpu_check_ms < next)
            next = ch->cpu_check_ms;
    }
    return next;
}

void child_kill_overdue(executor *ex, uint64_t now)
{
    for (unsigned i = 0; i < ex->nslots; i++) {
        child *ch = child_in_slot(ex, i);
        if (child_is_live_job(ch) && ch->deadline_ms <= now)
            child_kill(ch, RES_TIMEOUT);
        if (child_is_live_job(ch) && ch->cpu_check_ms <= now) {
            uint64_t used_ns = cg_cpu_ns(ex->cg, ch->slot);
            if (used_ns >= (uint64_t)ch->job.cpu_ms * 1000000u)
                child_kill(ch, RES_CPU_TIMEOUT);
            else
                child_schedule_cpu_check(ex, ch, used_ns);
        }
    }
}

/* The OOM killer acted in a slot (cgroup v1): it may have killed a single
 * process of the jail; end the whole jail, so the job stops now and is
 * reported as over its memory limit rather than running on. */
void child_oom_event(executor *ex, unsigned slot)
{
    uint64_t count;
    while (read(cg_oom_fd(ex->cg, slot), &count, sizeof count) == (ssize_t)sizeof count)
        ;
    child *ch = child_in_slot(ex, slot);
    if (ch != NULL && ch->state == CH_RUNNING)
        child_kill(ch, RES_OOM);
}

/* --- reaped ------------------------------------------------------------------------- */

/* The runner's wait status as its init reported it, or the init's own
 * status when there is no report (it was killed: by us, by the OOM killer,
 * or before it could start a runner). */
static int child_runner_status(const child *ch, int init_status)
{
    jail_init_report r;
    if (ch->status < 0 || read(ch->status, &r, sizeof r) != (ssize_t)sizeof r ||
        r.magic != JAIL_INIT_MAGIC)
        return init_status;
    return r.wait_status;
}

/* The child was reaped: everything in its PID namespace is gone, so the
 * pipes hold their last bytes and then EOF. */
void child_finish(executor *ex, child *ch, int status, const struct rusage *ru)
{
    status = child_runner_status(ch, status);
    if (ch->out >= 0)
        child_drain_stream(ex, ch, &ch->out, &ch->out_buf, RES_STDOUT_LIMIT);
    if (ch->err >= 0)
        child_drain_stream(ex, ch, &ch->err, &ch->err_buf, RES_STDERR_LIMIT);
    if (ch->chan >= 0)
        child_drain_chan(ex, ch);

    if (ch->state == CH_STARTING) {
        ex->n_starting--;
        ex->spawn_errors++;
        ex->spawn_failures++;
        char sig[32];
        ex_note_error(ex, "a jailed child failed before it was ready (%s %d): %s",
                      WIFSIGNALED(status) ? res_signal_name(WTERMSIG(status), sig, sizeof sig)
                                          : "exit status",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                      ch->fail_msg[0] ? ch->fail_msg : "(no message)");
    } else if (ch->state == CH_IDLE) {
        child_idle_remove(ex, ch);
    } else if (ch->state == CH_RUNNING) {
        ex->n_running--;
        ex->n_sandbox_running -= ch->job.sandbox[0] != '\0';
        ex->n_stream_running -= ex_job_streamed(ex, &ch->job);
        child_answer(ex, ch, true, status, ru);
    }
    if (ch->sbx != NULL) /* held, or its execution's client went away */
        sandbox_child_lost(ex, ch);
    child_free(ex, ch);
}
