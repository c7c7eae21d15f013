/*
 * executor_main.c - pysandbox-executor: the supervisor of the native engine.
 *
 * One single-threaded epoll loop.  It
 *   - starts pysandbox-zygote (execve, fixed environment) and restarts it
 *     if it dies;
 *   - keeps PYSANDBOX_POOL_SIZE jailed children ready, asking the zygote
 *     for a new one whenever one is taken, so fork and jail setup are off
 *     the request path; each child lives in a slot with its own outside
 *     uid (when root) and cgroup, and serves exactly one job;
 *   - accepts jobs from the FastCGI front on a unix socket (xproto.h),
 *     queues them when all PYSANDBOX_MAX_JOBS slots are busy, hands each
 *     to a ready child, enforces the wall-time limit, caps stdout, stderr
 *     and the result, kills the child's whole PID namespace when a limit
 *     is hit or the client goes away, and answers with the composed
 *     result (result.h).
 * The supervisor holds request data, so it never forks children itself:
 * that is the zygote's job, and the zygote never sees a request.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cgroup.h"
#include "conf.h"
#include "jsonw.h"
#include "jail.h"
#include "result.h"
#include "sbuf.h"
#include "xproto.h"
#include "zygote.h"

/* Memory the jail may use beyond the job's limit before the cgroup kills it:
 * /tmp pages, kernel memory and the pages copied from the warm interpreter
 * are charged there too, while the job's own limit is RLIMIT_DATA. */
#define EX_JAIL_MEMORY_SLACK_MB 64u
/* A zygote that dies within this time of starting is restarted only after it. */
#define EX_ZYGOTE_BACKOFF_MS 2000u
/* Consecutive failed spawns after which queued jobs are refused at once. */
#define EX_MAX_SPAWN_FAILURES 3u
/* Most connections from the front at once. */
#define EX_MAX_CLIENTS 512u
/* How long stopping waits for killed children to be reaped. */
#define EX_SHUTDOWN_REAP_MS 5000u

typedef enum src_kind {
    SRC_LISTEN,
    SRC_SIGNAL,
    SRC_ZYGOTE,
    SRC_CLIENT,
    SRC_CHAN,
    SRC_OUT,
    SRC_ERR,
    SRC_OOM, /* obj: the slot's entry in ex.oom_ev, whose index is the slot */
} src_kind;

typedef struct ev_src {
    src_kind kind;
    void *obj;
} ev_src;

struct client;

typedef enum child_state { CH_STARTING, CH_IDLE, CH_RUNNING } child_state;

typedef struct child {
    ev_src ev_chan, ev_out, ev_err;
    pid_t pid;
    unsigned slot;
    int chan, out, err; /* -1 once closed */
    int status;           /* the init's status pipe (jail_init_report); -1 once closed */
    child_state state;
    xp_req_hdr job;        /* the running job's header (its limits) */
    struct client *client; /* the job's owner; NULL when it went away */
    size_t woff;           /* bytes of the job already written to chan */
    sbuf out_buf, err_buf;
    sbuf res;              /* u32 length + the harness's JSON */
    char fail_msg[ZY_TEXT_MAX];
    res_verdict verdict;
    bool killed;
    bool precopied;        /* asked to copy the pre-copy plan (ZY_SPAWN_PRECOPY) */
    uint64_t deadline_ms;
    double started_ms;     /* now_ms_f() when the job was handed over */
    struct child *next;    /* idle list */
} child;

typedef enum client_state { CL_HEADER, CL_BODY, CL_QUEUED, CL_RUNNING, CL_REPLY } client_state;

typedef struct client {
    ev_src ev;
    int fd;
    client_state state;
    xp_req_hdr hdr;      /* as received; checked */
    char *payload;       /* From malloc(): header + code + data, as sent to the child */
    size_t need, got;
    sbuf reply;
    size_t sent;
    double queued_ms;    /* now_ms_f() when the request was complete */
    child *child;
    struct client *next_queued;
    struct client *prev, *next; /* all clients */
} client;

static struct {
    conf c;
    const char *zygote_path;
    char harness[PATH_MAX];
    char jail_root[64];
    int epfd, listen_fd, sig_fd;
    ev_src ev_listen, ev_sig, ev_zygote;

    pid_t zygote_pid;
    int zygote_fd;
    bool zygote_ready, spawn_pending;
    uint64_t zygote_started_ms, zygote_restart_ms;
    char zygote_info[ZY_TEXT_MAX];
    /* Bytes a child copies from the zygote for the data plan before its job
     * (precopy.h): charged to its cgroup, so added to its memory limit and
     * left out of the peak a job reports. */
    uint64_t precopy_bytes;

    cg *cg;
    char cg_why[256];
    bool per_slot_uid, deny_fork, mount_proc;

    unsigned nslots;
    child **slots;      /* From calloc(): the child in each slot, or NULL */
    ev_src *oom_ev;     /* From calloc(): per slot, for cg_oom_fd() */
    child *idle;        /* ready children, LIFO */
    unsigned n_idle, n_starting, n_running;
    unsigned ncpus;          /* online CPUs, for want_precopy() */
    client *queue_head, *queue_tail;
    unsigned n_queued, n_clients;
    client *clients;

    unsigned spawn_failures;
    uint64_t jobs_refused_client; /* over PYSANDBOX_CLIENT_MAX_JOBS */
    uint64_t jobs_done, jobs_failed, spawns, spawn_errors, spawns_precopied;
    char last_error[APP_ERRMSG_LEN];
    volatile bool stopping;
} ex;

/* A jail's memory cgroup limit for a job of memory_mb; a child that copied
 * the pre-copy plan has those bytes charged already. */
static uint64_t jail_memory_bytes(unsigned memory_mb, bool precopied)
{
    return (((uint64_t)memory_mb + EX_JAIL_MEMORY_SLACK_MB) << 20) +
           (precopied ? ex.precopy_bytes : 0);
}

/* Pre-copy only while the machine is not saturated: under load the copy
 * would take the CPU from running jobs and cost more than the faults it
 * saves.  Load is the jobs running and waiting for a child (n_running
 * counts a job until its jail is reaped, after its answer: one client
 * sending back to back has two). */
static bool want_precopy(void)
{
    return ex.c.precopy && ex.precopy_bytes > 0 && ex.n_running + ex.n_queued <= ex.ncpus;
}

/* Marks a slot reserved while the zygote is creating its child. */
static child slot_reserved;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double now_ms_f(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pysandbox-executor: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void note_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex.last_error, sizeof ex.last_error, fmt, ap);
    va_end(ap);
    logf_("%s", ex.last_error);
}

static void ep_add(int fd, uint32_t events, ev_src *src)
{
    struct epoll_event e = {.events = events, .data.ptr = src};
    if (epoll_ctl(ex.epfd, EPOLL_CTL_ADD, fd, &e) != 0)
        logf_("epoll_ctl add: %s", strerror(errno));
}

static void ep_mod(int fd, uint32_t events, ev_src *src)
{
    struct epoll_event e = {.events = events, .data.ptr = src};
    epoll_ctl(ex.epfd, EPOLL_CTL_MOD, fd, &e);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        epoll_ctl(ex.epfd, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
        *fd = -1;
    }
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* --- replies to the front -------------------------------------------------- */

static void client_free(client *cl);

static void client_reply(client *cl, app_err err, const char *json, size_t len)
{
    xp_resp_hdr h = {XP_MAGIC_RESP, (uint32_t)err, (uint32_t)len, 0};
    sbuf_reset(&cl->reply);
    if (sbuf_append(&cl->reply, &h, sizeof h) != APP_OK ||
        sbuf_append(&cl->reply, json, len) != APP_OK) {
        client_free(cl);
        return;
    }
    cl->state = CL_REPLY;
    cl->sent = 0;
    ep_mod(cl->fd, EPOLLOUT | EPOLLRDHUP, &cl->ev);
}

static void client_error(client *cl, app_err err, const char *message)
{
    sbuf b;
    sbuf_init(&b, 4096);
    sbuf_puts(&b, "{\"message\":");
    jsonw_string(&b, message, strlen(message));
    sbuf_puts(&b, "}");
    client_reply(cl, err, sbuf_str(&b), b.len);
    sbuf_free(&b);
}

static void queue_remove(client *cl)
{
    client **pp = &ex.queue_head;
    client *prev = NULL;
    while (*pp != NULL && *pp != cl) {
        prev = *pp;
        pp = &(*pp)->next_queued;
    }
    if (*pp == cl) {
        *pp = cl->next_queued;
        if (ex.queue_tail == cl)
            ex.queue_tail = prev;
        ex.n_queued--;
    }
    cl->next_queued = NULL;
}

static void child_kill(child *ch, res_verdict why);

static void client_free(client *cl)
{
    if (cl->state == CL_QUEUED)
        queue_remove(cl);
    if (cl->child != NULL) {
        /* The client went away: its job must not go on. */
        cl->child->client = NULL;
        child_kill(cl->child, cl->child->verdict);
        cl->child = NULL;
    }
    close_fd(&cl->fd);
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        ex.clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    ex.n_clients--;
    free(cl->payload);
    sbuf_free(&cl->reply);
    free(cl);
}

/* --- children ------------------------------------------------------------- */

static uid_t slot_uid(unsigned slot)
{
    return ex.per_slot_uid ? (uid_t)(ex.c.jail_uid_base + slot) : getuid();
}

static gid_t slot_gid(unsigned slot)
{
    return ex.per_slot_uid ? (gid_t)(ex.c.jail_uid_base + slot) : getgid();
}

static void child_kill(child *ch, res_verdict why)
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

static void idle_remove(child *ch)
{
    for (child **pp = &ex.idle; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == ch) {
            *pp = ch->next;
            ex.n_idle--;
            break;
        }
    }
    ch->next = NULL;
}

/* Reads what is available on a child's output pipe, up to the cap. */
static void child_drain_stream(child *ch, int *fd, sbuf *buf, res_verdict over)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(*fd, tmp, sizeof tmp);
        if (n > 0) {
            size_t room = buf->max - buf->len;
            sbuf_append(buf, tmp, (size_t)n < room ? (size_t)n : room);
            if ((size_t)n > room && ch->state == CH_RUNNING)
                child_kill(ch, over);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno != EAGAIN))
            close_fd(fd);
        return;
    }
}

static void child_drain_chan(child *ch)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(ch->chan, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close_fd(&ch->chan);
            return;
        }
        if (ch->state == CH_STARTING) {
            if (tmp[0] == ZY_CHILD_READY && n == 1) {
                ch->state = CH_IDLE;
                ex.n_starting--;
                ch->next = ex.idle;
                ex.idle = ch;
                ex.n_idle++;
                ex.spawn_failures = 0;
            } else if (tmp[0] == ZY_CHILD_FAILED) {
                snprintf(ch->fail_msg, sizeof ch->fail_msg, "%.*s", (int)(n - 1), tmp + 1);
            }
            continue;
        }
        if (ch->state != CH_RUNNING) {
            child_kill(ch, RES_NO_RESULT); /* an idle child must stay silent */
            return;
        }
        if (sbuf_append(&ch->res, tmp, (size_t)n) == APP_ETOOBIG) {
            child_kill(ch, RES_RESULT_LIMIT);
            return;
        }
    }
}

static void child_write_job(child *ch)
{
    client *cl = ch->client;
    if (cl == NULL || ch->chan < 0)
        return;
    while (ch->woff < cl->need) {
        ssize_t n = write(ch->chan, cl->payload + ch->woff, cl->need - ch->woff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            ep_mod(ch->chan, EPOLLIN | EPOLLOUT, &ch->ev_chan);
            return;
        }
        if (n < 0) {
            child_kill(ch, RES_NO_RESULT);
            return;
        }
        ch->woff += (size_t)n;
    }
    ep_mod(ch->chan, EPOLLIN, &ch->ev_chan);
    /* The job's data is with the child now: drop our copy early. */
    free(cl->payload);
    cl->payload = NULL;
}

static void child_free(child *ch)
{
    close_fd(&ch->chan);
    close_fd(&ch->out);
    close_fd(&ch->err);
    close_fd(&ch->status);
    sbuf_free(&ch->out_buf);
    sbuf_free(&ch->err_buf);
    sbuf_free(&ch->res);
    ex.slots[ch->slot] = NULL;
    free(ch);
}

/* Returns the harness's JSON when the child's result frame is complete. */
static const char *child_result(const child *ch, size_t *len)
{
    uint32_t n;
    if (ch->res.len < 4)
        return NULL;
    memcpy(&n, ch->res.data, 4);
    if (n != ch->res.len - 4)
        return NULL;
    *len = n;
    return ch->res.data + 4;
}

/* Sends the job's answer to its client (if it is still there).  status and
 * ru describe the child's end when reaped is true; an early answer reports
 * the exit the child is about to make (status 0). */
static void child_answer(child *ch, bool reaped, int status, const struct rusage *ru)
{
    client *cl = ch->client;
    ch->client = NULL;
    if (cl == NULL)
        return;
    cl->child = NULL;
    cg_usage use = {0};
    if (ex.cg != NULL)
        cg_read_usage(ex.cg, ch->slot, &use);
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
        .memory_limit_mb = ch->job.memory_mb,
        .nofile = ch->job.nofile,
        .nproc = ch->job.nproc,
        .stream_cap = XP_MAX_STREAM_BYTES,
        .wall_ms = now_ms_f() - ch->started_ms,
        .queue_ms = ch->started_ms - cl->queued_ms,
        .cpu_ms = cpu_ms,
        .peak_memory_bytes = ch->precopied && use.peak_bytes > ex.precopy_bytes
                                 ? use.peak_bytes - ex.precopy_bytes
                                 : use.peak_bytes,
    };
    sbuf out;
    sbuf_init(&out, XP_MAX_RESPONSE);
    if (res_compose(&p, &out) == APP_OK) {
        client_reply(cl, APP_OK, out.data, out.len);
        ex.jobs_done++;
    } else {
        client_error(cl, APP_EINTERNAL, "the result could not be composed");
        ex.jobs_failed++;
    }
    sbuf_free(&out);
}

/* The harness points fds 1 and 2 at /dev/null before it writes its result,
 * so a complete result plus EOF on both pipes means nothing more can come:
 * answer now instead of after the kernel has torn the child down (its
 * address space goes before its files), and end the jail at once. */
static void child_maybe_answer_early(child *ch)
{
    size_t len;
    if (ch->state != CH_RUNNING || ch->client == NULL || ch->out >= 0 || ch->err >= 0 ||
        ch->verdict != RES_EXITED || child_result(ch, &len) == NULL)
        return;
    child_answer(ch, false, 0, NULL);
    kill(ch->pid, SIGKILL);
}

/* The child was reaped: everything in its PID namespace is gone, so the
 * pipes hold their last bytes and then EOF. */
/* The runner's wait status as its init reported it, or the init's own
 * status when there is no report (it was killed: by us, by the OOM killer,
 * or before it could start a runner). */
static int runner_status(child *ch, int init_status)
{
    jail_init_report r;
    if (ch->status < 0 || read(ch->status, &r, sizeof r) != (ssize_t)sizeof r ||
        r.magic != JAIL_INIT_MAGIC)
        return init_status;
    return r.wait_status;
}

static void child_finish(child *ch, int status, const struct rusage *ru)
{
    status = runner_status(ch, status);
    if (ch->out >= 0)
        child_drain_stream(ch, &ch->out, &ch->out_buf, RES_STDOUT_LIMIT);
    if (ch->err >= 0)
        child_drain_stream(ch, &ch->err, &ch->err_buf, RES_STDERR_LIMIT);
    if (ch->chan >= 0)
        child_drain_chan(ch);

    if (ch->state == CH_STARTING) {
        ex.n_starting--;
        ex.spawn_errors++;
        ex.spawn_failures++;
        char sig[32];
        note_error("a jailed child failed before it was ready (%s %d): %s",
                   WIFSIGNALED(status) ? res_signal_name(WTERMSIG(status), sig, sizeof sig)
                                       : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                   ch->fail_msg[0] ? ch->fail_msg : "(no message)");
    } else if (ch->state == CH_IDLE) {
        idle_remove(ch);
    } else if (ch->state == CH_RUNNING) {
        ex.n_running--;
        child_answer(ch, true, status, ru);
    }
    child_free(ch);
}

/* --- zygote ----------------------------------------------------------------- */

static void start_zygote(void)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
        note_error("socketpair for the zygote: %s", strerror(errno));
        return;
    }
    char tmp_mb[16], cpu[16], nofile[16], nproc[16], deny[4], proc[4];
    snprintf(tmp_mb, sizeof tmp_mb, "%u", ex.c.jail_tmp_mb);
    snprintf(cpu, sizeof cpu, "%u", (ex.c.max_wall_ms + 999) / 1000);
    snprintf(nofile, sizeof nofile, "%u", XP_DEFAULT_NOFILE);
    snprintf(nproc, sizeof nproc, "%u", ex.per_slot_uid ? XP_DEFAULT_NPROC : 0u);
    snprintf(deny, sizeof deny, "%d", ex.deny_fork ? 1 : 0);
    snprintf(proc, sizeof proc, "%d", ex.mount_proc ? 1 : 0);
    char mpl[PATH_MAX];
    snprintf(mpl, sizeof mpl, "MPLCONFIGDIR=%s/mpl-cache", ex.c.run_dir);
    pid_t pid = fork();
    if (pid == 0) {
        /* The environment every child inherits: nothing secret, thread
         * pools of numerical libraries off (the zygote must stay single
         * threaded, and a job's threads count against its limits). */
        const char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                        "HOME=/tmp", "TMPDIR=/tmp", "OPENBLAS_NUM_THREADS=1",
                        "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1", "NUMEXPR_NUM_THREADS=1",
                        "VECLIB_MAXIMUM_THREADS=1", "MALLOC_ARENA_MAX=2", "MPLBACKEND=Agg",
                        mpl, NULL};
        const char *argv[] = {"pysandbox-zygote", ex.harness, ex.jail_root, tmp_mb, cpu, nofile, nproc,
                        deny, proc, NULL};
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_IGN); /* kept across execve: a child's broken pipe is an error, not death */
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* survives execve; the zygote must not outlive us */
        if (dup2(sp[1], 3) != 3)
            _exit(126);
        /* execve does not modify them; its prototype predates const. */
        execve(ex.zygote_path, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    close(sp[1]);
    if (pid < 0) {
        close(sp[0]);
        note_error("fork for the zygote: %s", strerror(errno));
        return;
    }
    ex.zygote_pid = pid;
    ex.zygote_fd = sp[0];
    ex.zygote_ready = false;
    ex.spawn_pending = false;
    ex.zygote_started_ms = now_ms();
    ex.ev_zygote = (ev_src){SRC_ZYGOTE, NULL};
    ep_add(ex.zygote_fd, EPOLLIN, &ex.ev_zygote);
}

static void zygote_gone(void)
{
    close_fd(&ex.zygote_fd);
    ex.zygote_ready = false;
    ex.spawn_pending = false;
    uint64_t lived = now_ms() - ex.zygote_started_ms;
    ex.zygote_restart_ms = now_ms() + (lived < EX_ZYGOTE_BACKOFF_MS ? EX_ZYGOTE_BACKOFF_MS : 0);
}

static void request_spawn(void)
{
    if (!ex.zygote_ready || ex.spawn_pending || ex.stopping)
        return;
    if (ex.n_idle + ex.n_starting >= ex.c.pool_size)
        return;
    if (ex.spawn_failures >= EX_MAX_SPAWN_FAILURES && now_ms() < ex.zygote_restart_ms)
        return;
    unsigned slot;
    for (slot = 0; slot < ex.nslots; slot++)
        if (ex.slots[slot] == NULL)
            break;
    if (slot == ex.nslots)
        return;
    bool precopy = want_precopy();
    if (ex.cg != NULL && cg_mode_of(ex.cg) != CG_NONE) {
        char err[APP_ERRMSG_LEN];
        /* The server maxima until a job lowers them. */
        if (cg_limit_slot(ex.cg, slot, jail_memory_bytes(ex.c.max_memory_mb, precopy),
                          XP_DEFAULT_NPROC + JAIL_INIT_TASKS, err, sizeof err) != APP_OK) {
            note_error("%s", err);
            return;
        }
    }
    /* The zygote moves the child into the slot's cgroups before releasing
     * it (so it can root a cgroup namespace there): it gets the slot's
     * cgroup.procs files with the request. */
    int cg_fds[ZY_MAX_CG_FDS];
    int ncg = 0;
    if (ex.cg != NULL && cg_mode_of(ex.cg) != CG_NONE) {
        char err[APP_ERRMSG_LEN];
        ncg = cg_procs_fds(ex.cg, slot, cg_fds, ZY_MAX_CG_FDS, err, sizeof err);
        if (ncg < 0) {
            note_error("%s", err);
            return;
        }
    }
    zy_msg m = {.type = ZY_SPAWN, .slot = slot, .outside_uid = slot_uid(slot),
                .outside_gid = slot_gid(slot), .flags = precopy ? ZY_SPAWN_PRECOPY : 0};
    if (!zy_send(ex.zygote_fd, &m, cg_fds, ncg)) { /* the zygote gets copies of cg_fds */
        note_error("cannot reach the zygote: %s", strerror(errno));
        return;
    }
    /* Reserve the slot until the answer arrives. */
    ex.slots[slot] = &slot_reserved;
    ex.spawn_pending = true;
}

/* The pre-copy size in the zygote's ready message (0 when absent). */
static uint64_t precopy_bytes_of(const char *ready_json)
{
    cJSON *doc = cJSON_Parse(ready_json);
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(doc, "precopy");
    const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(pc, "bytes");
    uint64_t v = cJSON_IsNumber(bytes) && bytes->valuedouble >= 0 && bytes->valuedouble < 1e12
                     ? (uint64_t)bytes->valuedouble
                     : 0;
    cJSON_Delete(doc);
    return v;
}

static void zygote_message(void)
{
    zy_msg m;
    int fds[ZY_CHILD_FDS] = {-1, -1, -1, -1};
    int nfds = 0;
    ssize_t n = zy_recv(ex.zygote_fd, &m, fds, ZY_CHILD_FDS, &nfds);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        zygote_gone(); /* closed, or speaking nonsense */
        return;
    }
    m.text[sizeof m.text - 1] = '\0';
    if (m.type == ZY_READY) {
        ex.zygote_ready = true;
        snprintf(ex.zygote_info, sizeof ex.zygote_info, "%s", m.text);
        ex.precopy_bytes = precopy_bytes_of(m.text);
        logf_("zygote %d ready: %s", (int)ex.zygote_pid, m.text);
        return;
    }
    if (m.type == ZY_FATAL) {
        note_error("zygote: %s", m.text);
        return;
    }
    if (m.type != ZY_SPAWNED || m.slot >= ex.nslots) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return;
    }
    ex.spawn_pending = false;
    ex.slots[m.slot] = NULL;
    if (m.err != 0 || nfds != ZY_CHILD_FDS) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        ex.spawn_errors++;
        ex.spawn_failures++;
        note_error("spawning a jailed child failed: %s", m.text);
        if (m.pid > 0) {
            /* Killed by the zygote; reaped by us. Keep the slot until then. */
            child *ch = calloc(1, sizeof *ch);
            if (ch != NULL) {
                ch->pid = m.pid;
                ch->slot = m.slot;
                ch->chan = ch->out = ch->err = ch->status = -1;
                ch->state = CH_STARTING;
                ex.n_starting++;
                snprintf(ch->fail_msg, sizeof ch->fail_msg, "%s", m.text);
                sbuf_init(&ch->out_buf, 0);
                sbuf_init(&ch->err_buf, 0);
                sbuf_init(&ch->res, 0);
                ex.slots[m.slot] = ch;
            }
        }
        return;
    }
    child *ch = calloc(1, sizeof *ch);
    if (ch == NULL) {
        for (int i = 0; i < ZY_CHILD_FDS; i++)
            close(fds[i]);
        kill(m.pid, SIGKILL);
        return;
    }
    ex.spawns++;
    ex.spawns_precopied += (m.flags & ZY_SPAWN_PRECOPY) != 0;
    ch->pid = m.pid;
    ch->slot = m.slot;
    ch->chan = fds[0];
    ch->out = fds[1];
    ch->err = fds[2];
    ch->status = fds[3];
    ch->precopied = (m.flags & ZY_SPAWN_PRECOPY) != 0;
    ch->state = CH_STARTING;
    sbuf_init(&ch->out_buf, XP_MAX_STREAM_BYTES);
    sbuf_init(&ch->err_buf, XP_MAX_STREAM_BYTES);
    sbuf_init(&ch->res, 4 + (size_t)XP_MAX_CHILD_RESULT);
    ex.slots[m.slot] = ch;
    ex.n_starting++;
    for (int i = 0; i < ZY_CHILD_FDS; i++)
        set_nonblock(fds[i]);
    ch->ev_chan = (ev_src){SRC_CHAN, ch};
    ch->ev_out = (ev_src){SRC_OUT, ch};
    ch->ev_err = (ev_src){SRC_ERR, ch};
    ep_add(ch->chan, EPOLLIN, &ch->ev_chan);
    ep_add(ch->out, EPOLLIN, &ch->ev_out);
    ep_add(ch->err, EPOLLIN, &ch->ev_err);
}

/* --- jobs ------------------------------------------------------------------- */

static void start_job(client *cl, child *ch)
{
    idle_remove(ch);
    char err[APP_ERRMSG_LEN];
    if (ex.cg != NULL && cg_mode_of(ex.cg) != CG_NONE &&
        cg_limit_slot(ex.cg, ch->slot, jail_memory_bytes(cl->hdr.memory_mb, ch->precopied),
                      cl->hdr.nproc + JAIL_INIT_TASKS,
                      err, sizeof err) != APP_OK) {
        note_error("%s", err);
        child_kill(ch, RES_NO_RESULT); /* reaped, slot freed; the job is retried */
        return;
    }
    queue_remove(cl);
    ch->state = CH_RUNNING;
    ch->job = cl->hdr;
    ch->client = cl;
    ch->started_ms = now_ms_f();
    ch->deadline_ms = now_ms() + cl->hdr.wall_ms;
    ch->woff = 0;
    cl->child = ch;
    cl->state = CL_RUNNING;
    ex.n_running++;
    child_write_job(ch);
}

/* Hands queued jobs to ready children, and asks for replacements. */
static void dispatch(void)
{
    while (ex.queue_head != NULL && ex.idle != NULL && ex.n_running < ex.c.max_jobs)
        start_job(ex.queue_head, ex.idle);
    /* Children that keep failing to start: refuse instead of waiting. */
    if (ex.spawn_failures >= EX_MAX_SPAWN_FAILURES && ex.idle == NULL) {
        while (ex.queue_head != NULL) {
            client *cl = ex.queue_head;
            queue_remove(cl);
            char msg[APP_ERRMSG_LEN + 64];
            snprintf(msg, sizeof msg, "the native engine cannot set up its jail: %s",
                     ex.last_error);
            client_error(cl, APP_EJAIL, msg);
            ex.jobs_failed++;
        }
    }
    request_spawn();
}

/* The executor's health, for GET /api/python/health. */
static void status_json(sbuf *b)
{
    const char *state = !ex.zygote_ready ? "starting"
                        : ex.spawn_failures >= EX_MAX_SPAWN_FAILURES ? "unavailable"
                        : cg_mode_of(ex.cg) == CG_NONE || !ex.per_slot_uid ? "degraded"
                                                                              : "ok";
    sbuf_printf(b, "{\"status\":\"%s\",\"engine\":\"native\",\"interpreter\":%s,", state,
                ex.zygote_info[0] ? ex.zygote_info : "null");
    sbuf_printf(b,
                "\"pool\":{\"ready\":%u,\"starting\":%u,\"target\":%u},"
                "\"jobs\":{\"running\":%u,\"queued\":%u,\"maxRunning\":%u,\"completed\":%llu,"
                "\"failed\":%llu,\"refusedOverClientShare\":%llu},\"spawns\":{\"total\":%llu,"
                "\"failed\":%llu,\"precopied\":%llu},",
                ex.n_idle, ex.n_starting, ex.c.pool_size, ex.n_running, ex.n_queued,
                ex.c.max_jobs, (unsigned long long)ex.jobs_done,
                (unsigned long long)ex.jobs_failed, (unsigned long long)ex.jobs_refused_client,
                (unsigned long long)ex.spawns,
                (unsigned long long)ex.spawn_errors, (unsigned long long)ex.spawns_precopied);
    sbuf_printf(b,
                "\"jail\":{\"namespaces\":[\"user\",\"pid\",\"mount\",\"network\",\"ipc\",\"uts\","
                "\"cgroup\"],"
                "\"network\":\"none: an empty namespace of its own, AF_UNIX sockets only\","
                "\"filesystem\":\"read-only root: overlays of /usr/lib, /usr/share, /usr/bin (no-exec); private /tmp "
                "(%u MB), /dev/shm, minimal /dev and /etc\",\"proc\":\"%s\","
                "\"init\":\"PID 1 reaps and reports; the job runs as PID 2\","
                "\"seccomp\":{\"mode\":\"allowlist\",\"denied\":%s,\"emulated\":%s},\"noNewPrivs\":true,"
                "\"capabilities\":\"none\",\"outsideIds\":",
                ex.c.jail_tmp_mb, ex.mount_proc ? "fresh procfs (subset=pid)" : "none",
                jail_denied_syscalls_json(), jail_emulated_syscalls_json());
    if (ex.per_slot_uid)
        sbuf_printf(b, "\"one unprivileged uid/gid per slot: %u-%u\",", ex.c.jail_uid_base,
                    ex.c.jail_uid_base + ex.nslots - 1);
    else
        sbuf_printf(b, "\"the service's own uid %u (not root: per-slot uids need root)\",",
                    (unsigned)getuid());
    sbuf_printf(b, "\"rlimits\":[\"RLIMIT_CPU\",\"RLIMIT_DATA\",\"RLIMIT_FSIZE\",\"RLIMIT_NOFILE\","
                   "\"RLIMIT_STACK\",\"RLIMIT_CORE\",\"RLIMIT_MEMLOCK\"%s],\"cgroup\":%s,",
                ex.per_slot_uid ? ",\"RLIMIT_NPROC\"" : "", cg_describe_json(ex.cg));
    sbuf_puts(b, "\"cgroupNote\":");
    jsonw_string(b, ex.cg_why, strlen(ex.cg_why));
    sbuf_printf(b, ",\"forkAllowed\":%s},", ex.deny_fork ? "false" : "true");
    sbuf_printf(b,
                "\"limits\":{\"defaultWallTimeMs\":%u,\"maxWallTimeMs\":%u,\"defaultMemoryMb\":%u,"
                "\"maxMemoryMb\":%u,\"openFiles\":%u,\"processes\":%u,\"stdoutBytes\":%u,"
                "\"stderrBytes\":%u,\"codeBytes\":%u,\"dataBytes\":%u,\"tmpMb\":%u,"
                "\"fileSizeMb\":%u,\"clientMaxJobs\":%u},\"lastError\":",
                XP_DEFAULT_WALL_MS < ex.c.max_wall_ms ? XP_DEFAULT_WALL_MS : ex.c.max_wall_ms,
                ex.c.max_wall_ms,
                XP_DEFAULT_MEMORY_MB < ex.c.max_memory_mb ? XP_DEFAULT_MEMORY_MB : ex.c.max_memory_mb,
                ex.c.max_memory_mb, XP_DEFAULT_NOFILE, XP_DEFAULT_NPROC, XP_MAX_STREAM_BYTES,
                XP_MAX_STREAM_BYTES, XP_MAX_CODE, XP_MAX_DATA, ex.c.jail_tmp_mb, JAIL_MAX_FILE_MB,
                ex.c.client_max_jobs);
    if (ex.last_error[0])
        jsonw_string(b, ex.last_error, strlen(ex.last_error));
    else
        sbuf_puts(b, "null");
    sbuf_puts(b, "}");
}

/* Jobs of the given client queued or running now (cl itself not counted). */
static unsigned client_jobs_in_progress(const client *cl)
{
    unsigned n = 0;
    for (const client *o = ex.clients; o != NULL; o = o->next)
        if (o != cl && o->hdr.client == cl->hdr.client &&
            (o->state == CL_QUEUED || o->state == CL_RUNNING))
            n++;
    return n;
}

static void client_request_complete(client *cl)
{
    cl->queued_ms = now_ms_f();
    if (cl->hdr.op == XP_OP_STATUS) {
        sbuf b;
        sbuf_init(&b, 64 * 1024);
        status_json(&b);
        client_reply(cl, APP_OK, sbuf_str(&b), b.len);
        sbuf_free(&b);
        return;
    }
    /* One client may hold only its share of the slots and the queue; the
     * others keep theirs (refused at once: waiting would hold a front
     * worker for nothing). */
    if (cl->hdr.client != 0 && client_jobs_in_progress(cl) >= ex.c.client_max_jobs) {
        char msg[APP_ERRMSG_LEN];
        snprintf(msg, sizeof msg,
                 "this client already has %u native jobs running or queued, the most one client "
                 "may have (PYSANDBOX_CLIENT_MAX_JOBS); retry when one finishes",
                 ex.c.client_max_jobs);
        ex.jobs_refused_client++;
        client_error(cl, APP_ECLIENT_LIMIT, msg);
        return;
    }
    ((xp_req_hdr *)cl->payload)->client = 0; /* the child need not know who asked */
    cl->state = CL_QUEUED;
    if (ex.queue_tail != NULL)
        ex.queue_tail->next_queued = cl;
    else
        ex.queue_head = cl;
    ex.queue_tail = cl;
    ex.n_queued++;
    ep_mod(cl->fd, EPOLLRDHUP, &cl->ev); /* only notice the front going away */
    dispatch();
}

static void client_readable(client *cl)
{
    for (;;) {
        char *dst;
        size_t want;
        if (cl->state == CL_HEADER) {
            dst = (char *)&cl->hdr + cl->got;
            want = sizeof cl->hdr - cl->got;
        } else if (cl->state == CL_BODY) {
            dst = cl->payload + cl->got;
            want = cl->need - cl->got;
        } else {
            char probe;
            ssize_t n = recv(cl->fd, &probe, 1, MSG_PEEK);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                client_free(cl); /* gone: its queued or running job is dropped */
            return;
        }
        ssize_t n = want > 0 ? read(cl->fd, dst, want) : 0;
        if (want > 0 && n < 0 && errno == EINTR)
            continue;
        if (want > 0 && n < 0 && errno == EAGAIN)
            return;
        if (want > 0 && n <= 0) {
            client_free(cl);
            return;
        }
        cl->got += (size_t)n;
        if (cl->state == CL_HEADER && cl->got == sizeof cl->hdr) {
            char msg[APP_ERRMSG_LEN];
            app_err e = xp_req_check(&cl->hdr, ex.c.max_wall_ms, ex.c.max_memory_mb, msg,
                                     sizeof msg);
            if (e != APP_OK) {
                client_error(cl, e, msg);
                return;
            }
            cl->need = sizeof cl->hdr + cl->hdr.code_len + (size_t)cl->hdr.data_len;
            cl->payload = malloc(cl->need);
            if (cl->payload == NULL) {
                client_error(cl, APP_ENOMEM, "out of memory");
                return;
            }
            memcpy(cl->payload, &cl->hdr, sizeof cl->hdr);
            cl->got = sizeof cl->hdr;
            cl->state = CL_BODY;
        }
        if (cl->state == CL_BODY && cl->got == cl->need) {
            client_request_complete(cl);
            return;
        }
    }
}

static void client_writable(client *cl)
{
    while (cl->sent < cl->reply.len) {
        ssize_t n = send(cl->fd, cl->reply.data + cl->sent, cl->reply.len - cl->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            break;
        cl->sent += (size_t)n;
    }
    client_free(cl); /* answered (or the front went away) */
}

static void accept_clients(void)
{
    for (;;) {
        int fd = accept4(ex.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (ex.n_clients >= EX_MAX_CLIENTS) {
            close(fd);
            continue;
        }
        client *cl = calloc(1, sizeof *cl);
        if (cl == NULL) {
            close(fd);
            continue;
        }
        cl->fd = fd;
        cl->state = CL_HEADER;
        sbuf_init(&cl->reply, sizeof(xp_resp_hdr) + XP_MAX_RESPONSE);
        cl->ev = (ev_src){SRC_CLIENT, cl};
        cl->next = ex.clients;
        if (ex.clients != NULL)
            ex.clients->prev = cl;
        ex.clients = cl;
        ex.n_clients++;
        ep_add(fd, EPOLLIN | EPOLLRDHUP, &cl->ev);
    }
}

/* --- time, signals, exits ------------------------------------------------------- */

static int next_timeout_ms(void)
{
    uint64_t now = now_ms(), next = UINT64_MAX;
    for (unsigned i = 0; i < ex.nslots; i++) {
        child *ch = ex.slots[i];
        if (ch != NULL && ch != &slot_reserved && ch->state == CH_RUNNING && !ch->killed &&
            ch->deadline_ms < next)
            next = ch->deadline_ms;
    }
    if (ex.queue_head != NULL) {
        uint64_t q = (uint64_t)ex.queue_head->queued_ms + ex.c.queue_timeout_ms;
        if (q < next)
            next = q;
    }
    if (ex.zygote_fd < 0 && ex.zygote_restart_ms < next)
        next = ex.zygote_restart_ms;
    if (ex.spawn_failures >= EX_MAX_SPAWN_FAILURES || (ex.zygote_ready && !ex.spawn_pending &&
                                                       ex.n_idle + ex.n_starting < ex.c.pool_size))
        next = next < now + 1000 ? next : now + 1000;
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > INT_MAX ? INT_MAX : next - now);
}

static void check_timers(void)
{
    uint64_t now = now_ms();
    for (unsigned i = 0; i < ex.nslots; i++) {
        child *ch = ex.slots[i];
        if (ch != NULL && ch != &slot_reserved && ch->state == CH_RUNNING && !ch->killed &&
            ch->deadline_ms <= now)
            child_kill(ch, RES_TIMEOUT);
    }
    while (ex.queue_head != NULL &&
           (uint64_t)ex.queue_head->queued_ms + ex.c.queue_timeout_ms <= now) {
        client *cl = ex.queue_head;
        queue_remove(cl);
        client_error(cl, APP_EBUSY, "every native-engine slot stayed busy; retry later");
        ex.jobs_failed++;
    }
    if (ex.zygote_fd < 0 && ex.zygote_pid == 0 && !ex.stopping && now >= ex.zygote_restart_ms)
        start_zygote();
    if (ex.spawn_failures >= EX_MAX_SPAWN_FAILURES && now >= ex.zygote_restart_ms) {
        /* Try again now and then: the cause may have been transient. */
        ex.spawn_failures = EX_MAX_SPAWN_FAILURES - 1;
        ex.zygote_restart_ms = now + 5000;
    }
}

/* The OOM killer acted in a slot (cgroup v1): it may have killed a single
 * process of the jail; end the whole jail, so the job stops now and is
 * reported as over its memory limit rather than running on. */
static void oom_event(unsigned slot)
{
    uint64_t count;
    while (read(cg_oom_fd(ex.cg, slot), &count, sizeof count) == (ssize_t)sizeof count)
        ;
    child *ch = ex.slots[slot];
    if (ch != NULL && ch != &slot_reserved && ch->state == CH_RUNNING)
        child_kill(ch, RES_OOM);
}

static void reap(void)
{
    for (;;) {
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid <= 0)
            return;
        if (pid == ex.zygote_pid) {
            logf_("zygote %d exited (%s %d)", (int)pid, WIFSIGNALED(status) ? "signal" : "status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            ex.zygote_pid = 0;
            if (ex.zygote_fd >= 0)
                zygote_gone();
            continue;
        }
        for (unsigned i = 0; i < ex.nslots; i++) {
            child *ch = ex.slots[i];
            if (ch != NULL && ch != &slot_reserved && ch->pid == pid) {
                child_finish(ch, status, &ru);
                break;
            }
        }
    }
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        logf_("socket path too long: %s", path);
        return -1;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    mode_t old = umask(077); /* only the service's own user may submit jobs */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, 256) != 0) {
        logf_("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* nftw() callback: removes the slots' device directories (they hold only
 * character devices) and, last, the jail root itself. */
static int remove_jail_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    if (type == FTW_DP)
        rmdir(path);
    else if (S_ISCHR(st->st_mode))
        unlink(path);
    return 0;
}

static void shutdown_all(void)
{
    ex.stopping = true;
    for (unsigned i = 0; i < ex.nslots; i++)
        if (ex.slots[i] != NULL && ex.slots[i] != &slot_reserved)
            kill(ex.slots[i]->pid, SIGKILL);
    if (ex.zygote_pid > 0)
        kill(ex.zygote_pid, SIGKILL);
    /* Reap everything so the cgroups are empty and can be removed; a child
     * we never learned the pid of (a spawn in flight) dies with the zygote,
     * but stopping must not hang on one that would not. */
    uint64_t give_up = now_ms() + EX_SHUTDOWN_REAP_MS;
    for (;;) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid < 0 && errno != EINTR)
            break; /* ECHILD: all reaped */
        if (pid == 0) {
            if (now_ms() >= give_up) {
                logf_("stopping with children still running");
                break;
            }
            usleep(10 * 1000);
        }
    }
    cg_free(ex.cg);
    nftw(ex.jail_root, remove_jail_entry, 4, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    unlink(ex.c.executor_socket);
}

static bool can_mount_proc(void)
{
    /* A fresh procfs cannot be mounted in a user namespace when the host's
     * /proc has parts covered by other mounts ("mount too revealing"). */
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    bool covered = false;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char point[1024];
        if (sscanf(line, "%*s %*s %*s %*s %1023s", point) == 1 && strncmp(point, "/proc/", 6) == 0 &&
            strncmp(point, "/proc/sys/fs/binfmt_misc", 24) != 0)
            covered = true;
    }
    if (f != NULL)
        fclose(f);
    return !covered;
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *root = getenv("PYSANDBOX_ROOT");
    if (root == NULL) {
        fprintf(stderr, "pysandbox-executor: PYSANDBOX_ROOT must be set\n");
        return 2;
    }
    char msg[APP_ERRMSG_LEN];
    if (conf_load(&ex.c, root, NULL, NULL, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "pysandbox-executor: %s\n", msg);
        return 2;
    }
    static char zpath[PATH_MAX];
    const char *slash = strrchr(argv[0], '/');
    snprintf(zpath, sizeof zpath, "%.*spysandbox-zygote", slash ? (int)(slash - argv[0] + 1) : 0,
             argv[0]);
    ex.zygote_path = zpath;
    snprintf(ex.harness, sizeof ex.harness, "%s/harness.py", ex.c.web_dir);
    if (access(ex.harness, R_OK) != 0 || access(ex.zygote_path, X_OK) != 0) {
        fprintf(stderr, "pysandbox-executor: %s or %s is missing\n", ex.harness, ex.zygote_path);
        return 2;
    }

    /* Slots: the pool plus the running jobs; each gets its own outside uid
     * when we are root, so RLIMIT_NPROC and file ownership are per job. */
    ex.nslots = ex.c.pool_size + ex.c.max_jobs;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    ex.ncpus = cpus > 0 ? (unsigned)cpus : 1;
    ex.slots = calloc(ex.nslots, sizeof *ex.slots);
    ex.per_slot_uid = geteuid() == 0;
    cg_open("pysandbox", ex.nslots, &ex.cg, ex.cg_why, sizeof ex.cg_why);
    ex.oom_ev = calloc(ex.nslots, sizeof *ex.oom_ev);
    if (ex.cg == NULL || ex.slots == NULL || ex.oom_ev == NULL)
        return 1;
    /* Without cgroups nothing bounds the memory of several processes
     * together, so jobs may not fork (threads remain). */
    ex.deny_fork = cg_mode_of(ex.cg) == CG_NONE;
    ex.mount_proc = can_mount_proc();
    if (cg_mode_of(ex.cg) == CG_NONE)
        logf_("no cgroups (%s): memory and process limits are per process, fork is refused",
              ex.cg_why);

    /* An empty directory every slot uid can reach, to build jail roots on. */
    snprintf(ex.jail_root, sizeof ex.jail_root, "/tmp/pysandbox-jail.XXXXXX");
    if (mkdtemp(ex.jail_root) == NULL || chmod(ex.jail_root, 0755) != 0) {
        logf_("cannot create the jail root directory: %s", strerror(errno));
        return 1;
    }
    char mpl[PATH_MAX];
    snprintf(mpl, sizeof mpl, "%s/mpl-cache", ex.c.run_dir);
    mkdir(ex.c.run_dir, 0755);
    mkdir(mpl, 0700);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    ex.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    ex.epfd = epoll_create1(EPOLL_CLOEXEC);
    ex.listen_fd = listen_on(ex.c.executor_socket);
    ex.zygote_fd = -1;
    if (ex.sig_fd < 0 || ex.epfd < 0 || ex.listen_fd < 0)
        return 1;
    ex.ev_listen = (ev_src){SRC_LISTEN, NULL};
    ex.ev_sig = (ev_src){SRC_SIGNAL, NULL};
    ep_add(ex.listen_fd, EPOLLIN, &ex.ev_listen);
    ep_add(ex.sig_fd, EPOLLIN, &ex.ev_sig);
    for (unsigned slot = 0; slot < ex.nslots; slot++) {
        ex.oom_ev[slot] = (ev_src){SRC_OOM, &ex.oom_ev[slot]};
        if (cg_oom_fd(ex.cg, slot) >= 0)
            ep_add(cg_oom_fd(ex.cg, slot), EPOLLIN, &ex.oom_ev[slot]);
    }
    start_zygote();
    logf_("listening on %s (%u slots, pool %u, cgroup %s, %s)", ex.c.executor_socket, ex.nslots,
          ex.c.pool_size, cg_describe_json(ex.cg),
          ex.per_slot_uid ? "per-slot uids" : "shared uid");

    while (!ex.stopping) {
        struct epoll_event evs[64];
        int n = epoll_wait(ex.epfd, evs, 64, next_timeout_ms());
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            ev_src *src = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            src_kind kind = src->kind; /* src may be freed by its handler */
            switch (kind) {
            case SRC_LISTEN:
                accept_clients();
                break;
            case SRC_SIGNAL: {
                struct signalfd_siginfo si;
                while (read(ex.sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        ex.stopping = true;
                }
                reap();
                break;
            }
            case SRC_ZYGOTE:
                zygote_message();
                break;
            case SRC_OOM:
                oom_event((unsigned)((ev_src *)src->obj - ex.oom_ev));
                break;
            case SRC_CLIENT: {
                client *cl = src->obj;
                if (cl->state == CL_REPLY && (e & EPOLLOUT))
                    client_writable(cl);
                else
                    client_readable(cl);
                break;
            }
            case SRC_CHAN: {
                child *ch = src->obj;
                if (e & EPOLLOUT)
                    child_write_job(ch);
                if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    child_drain_chan(ch);
                child_maybe_answer_early(ch);
                break;
            }
            case SRC_OUT: {
                child *ch = src->obj;
                child_drain_stream(ch, &ch->out, &ch->out_buf, RES_STDOUT_LIMIT);
                child_maybe_answer_early(ch);
                break;
            }
            case SRC_ERR: {
                child *ch = src->obj;
                child_drain_stream(ch, &ch->err, &ch->err_buf, RES_STDERR_LIMIT);
                child_maybe_answer_early(ch);
                break;
            }
            }
            /* Reaping frees children that later events of this batch may
             * point at; epoll is level-triggered, so they come back. */
            if (kind == SRC_SIGNAL)
                break;
        }
        check_timers();
        dispatch();
    }
    logf_("stopping");
    shutdown_all();
    conf_free(&ex.c);
    return 0;
}
