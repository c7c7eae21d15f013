/*
 * executor_main.c - pysandbox-executor: the supervisor of the native engine.
 *
 * One single-threaded epoll loop.  It
 *   - starts pysandbox-zygote (execve, fixed environment) and restarts it
 *     if it dies (zylink.c);
 *   - keeps PYSANDBOX_POOL_SIZE jailed children ready, asking the zygote
 *     for a new one whenever one is taken, so fork and jail setup are off
 *     the request path; each child lives in a slot with its own outside
 *     uid (when root) and cgroup, and serves exactly one job (child.c);
 *   - accepts jobs from the FastCGI front on a unix socket (xproto.h),
 *     queues them when all PYSANDBOX_MAX_JOBS slots are busy (client.c),
 *     hands each to a ready child, enforces the wall-time limit, caps
 *     stdout, stderr and the result, kills the child's whole PID namespace
 *     when a limit is hit or the client goes away, and answers with the
 *     composed result (result.h);
 *   - answers status requests with its health (status.c).
 * The supervisor holds request data, so it never forks children itself:
 * that is the zygote's job, and the zygote never sees a request.
 *
 * Shared state: main() owns the one `executor` (executor.h) and passes it
 * to every module as `executor *ex`; no module keeps a global of its own.
 * Clients, children and the zygote link are tied together (a client's job
 * runs in a child, a child's slot comes from the zygote, the queue feeds
 * the pool), so splitting the state per module would mean accessors for
 * every cross-reference; one struct passed explicitly keeps who touches
 * what visible at each call, and this file is where its life begins and
 * ends.  The loop, the timers, reaping and the scheduling policy
 * (ex_dispatch) live here; each module handles its own events.
 */
#include "executor.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "client.h"
#include "dblink.h"
#include "sandbox.h"
#include "zylink.h"

/* How long stopping waits for killed children to be reaped. */
#define EX_SHUTDOWN_REAP_MS 5000u

/* --- helpers shared by the modules (executor.h) -------------------------------- */

uint64_t ex_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double ex_now_ms_f(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void ex_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pysandbox-executor: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void ex_note_error(executor *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->last_error, sizeof ex->last_error, fmt, ap);
    va_end(ap);
    ex_log("%s", ex->last_error);
}

void ex_watch(executor *ex, int fd, uint32_t events, ex_src *src)
{
    struct epoll_event e = {.events = events, .data.ptr = src};
    if (epoll_ctl(ex->epfd, EPOLL_CTL_ADD, fd, &e) != 0)
        ex_log("epoll_ctl add: %s", strerror(errno));
}

void ex_rewatch(executor *ex, int fd, uint32_t events, ex_src *src)
{
    struct epoll_event e = {.events = events, .data.ptr = src};
    epoll_ctl(ex->epfd, EPOLL_CTL_MOD, fd, &e);
}

void ex_close_fd(executor *ex, int *fd)
{
    if (*fd >= 0) {
        epoll_ctl(ex->epfd, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
        *fd = -1;
    }
}

bool ex_job_streamed(const executor *ex, const xp_req_hdr *h)
{
    return ex->c.max_streams > 0 && h->sandbox[0] == '\0' && (h->flags & XP_FLAG_STREAM) != 0;
}

bool ex_has_room(const executor *ex, const xp_req_hdr *h)
{
    if (ex_job_streamed(ex, h))
        return ex->n_stream_running < ex->c.max_streams;
    return ex->n_running - ex->n_sandbox_running - ex->n_stream_running < ex->c.max_jobs;
}

void ex_dispatch(executor *ex)
{
    /* In queue order, each to a child that fits it (a sandbox's creation
     * waits for a lean one; see child_pick_idle) if its class has room
     * (ex_has_room): a full class does not hold back the others' jobs.
     * Executions in sandboxes run in their own held slots. */
    client *cl = ex->queue_head;
    while (cl != NULL && ex->idle != NULL) {
        client *next = cl->next_queued;
        child *ch = ex_has_room(ex, &cl->hdr)
                        ? child_pick_idle(ex, cl->hdr.op == XP_OP_SANDBOX_CREATE)
                        : NULL;
        if (ch != NULL)
            child_start_job(ex, cl, ch);
        cl = next;
    }
    /* Children that keep failing to start: refuse instead of waiting. */
    if (ex->spawn_failures >= EX_MAX_SPAWN_FAILURES && ex->idle == NULL &&
        ex->queue_head != NULL) {
        char msg[APP_ERRMSG_LEN + 64];
        snprintf(msg, sizeof msg, "the native engine cannot set up its jail: %s", ex->last_error);
        client_refuse_queued(ex, APP_EJAIL, msg);
    }
    zylink_request_spawn(ex);
}

/* --- time, signals, exits ------------------------------------------------------- */

static int next_timeout_ms(const executor *ex)
{
    uint64_t now = ex_now_ms();
    uint64_t next = child_next_deadline(ex);
    uint64_t q = client_queue_deadline(ex);
    uint64_t z = zylink_next_wakeup(ex, now);
    uint64_t s = sandbox_next_deadline(ex);
    uint64_t d = dblink_next_wakeup(ex);
    if (d < next)
        next = d;
    if (q < next)
        next = q;
    if (s < next)
        next = s;
    if (z < next)
        next = z;
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > INT_MAX ? INT_MAX : next - now);
}

static void check_timers(executor *ex)
{
    uint64_t now = ex_now_ms();
    child_kill_overdue(ex, now);
    client_expire_queued(ex, now);
    zylink_on_timer(ex, now);
    sandbox_expire(ex, now);
    dblink_on_timer(ex, now);
}

static void reap(executor *ex)
{
    for (;;) {
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid <= 0)
            return;
        if (zylink_reaped(ex, pid, status) || dblink_reaped(ex, pid, status))
            continue;
        child *ch = child_by_pid(ex, pid);
        if (ch != NULL)
            child_finish(ex, ch, status, &ru);
    }
}

static void on_signals(executor *ex)
{
    struct signalfd_siginfo si;
    while (read(ex->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            ex->stopping = true;
    }
    reap(ex);
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        ex_log("socket path too long: %s", path);
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
        ex_log("cannot listen on %s: %s", path, strerror(errno));
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

static void shutdown_all(executor *ex)
{
    ex->stopping = true;
    sandbox_free_all(ex);
    dblink_stop(ex);
    child_kill_all(ex);
    if (ex->zygote_pid > 0)
        kill(ex->zygote_pid, SIGKILL);
    /* Reap everything so the cgroups are empty and can be removed; a child
     * we never learned the pid of (a spawn in flight) dies with the zygote,
     * but stopping must not hang on one that would not. */
    uint64_t give_up = ex_now_ms() + EX_SHUTDOWN_REAP_MS;
    for (;;) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid < 0 && errno != EINTR)
            break; /* ECHILD: all reaped */
        if (pid == 0) {
            if (ex_now_ms() >= give_up) {
                ex_log("stopping with children still running");
                break;
            }
            usleep(10 * 1000);
        }
    }
    cg_free(ex->cg);
    nftw(ex->jail_root, remove_jail_entry, 4, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    unlink(ex->c.executor_socket);
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

/* Handles one epoll event.  Returns false when the rest of the batch must
 * be skipped. */
static bool handle_event(executor *ex, ex_src *src, uint32_t events)
{
    ex_src_kind kind = src->kind; /* src may be freed by its handler */
    switch (kind) {
    case SRC_LISTEN:
        client_accept_all(ex);
        break;
    case SRC_SIGNAL:
        on_signals(ex);
        /* Reaping frees children that later events of this batch may
         * point at; epoll is level-triggered, so they come back. */
        return false;
    case SRC_ZYGOTE:
        zylink_on_message(ex);
        break;
    case SRC_OOM:
        child_oom_event(ex, (unsigned)((ex_src *)src->obj - ex->oom_ev));
        break;
    case SRC_CLIENT:
        client_on_event(ex, src->obj, events);
        break;
    case SRC_CHAN:
        child_on_chan(ex, src->obj, events);
        break;
    case SRC_OUT:
        child_on_output(ex, src->obj, false);
        break;
    case SRC_ERR:
        child_on_output(ex, src->obj, true);
        break;
    case SRC_DB:
        dblink_on_event(ex, src->obj, events);
        break;
    }
    return true;
}

/* Reads the settings, finds the zygote and the harness, and sets up the
 * slots, cgroups, jail root, signals, epoll set and listening socket.
 * Returns 0, or the exit status to stop with (2: misconfigured, 1: failed). */
static int setup(executor *ex, const char *argv0)
{
    const char *root = getenv("PYSANDBOX_ROOT");
    if (root == NULL) {
        fprintf(stderr, "pysandbox-executor: PYSANDBOX_ROOT must be set\n");
        return 2;
    }
    char msg[APP_ERRMSG_LEN];
    if (conf_load(&ex->c, root, NULL, NULL, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "pysandbox-executor: %s\n", msg);
        return 2;
    }
    static char zpath[PATH_MAX];
    const char *slash = strrchr(argv0, '/');
    snprintf(zpath, sizeof zpath, "%.*spysandbox-zygote", slash ? (int)(slash - argv0 + 1) : 0,
             argv0);
    ex->zygote_path = zpath;
    snprintf(ex->harness, sizeof ex->harness, "%s/harness.py", ex->c.web_dir);
    if (access(ex->harness, R_OK) != 0 || access(ex->zygote_path, X_OK) != 0) {
        fprintf(stderr, "pysandbox-executor: %s or %s is missing\n", ex->harness,
                ex->zygote_path);
        return 2;
    }

    /* Slots: the pool plus the running jobs; each gets its own outside uid
     * when we are root, so RLIMIT_NPROC and file ownership are per job. */
    ex->nslots = ex->c.pool_size + ex->c.max_jobs + ex->c.max_streams + ex->c.max_sandboxes;
    if (!sandbox_init(ex)) {
        fprintf(stderr, "pysandbox-executor: no random bytes for sandbox ids\n");
        return 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    ex->ncpus = cpus > 0 ? (unsigned)cpus : 1;
    ex->slots = calloc(ex->nslots, sizeof *ex->slots);
    ex->per_slot_uid = geteuid() == 0;
    app_err cg_err = cg_open("pysandbox", ex->nslots, &ex->cg, ex->cg_why, sizeof ex->cg_why);
    ex->oom_ev = calloc(ex->nslots, sizeof *ex->oom_ev);
    if (cg_err != APP_OK || ex->cg == NULL || ex->slots == NULL || ex->oom_ev == NULL)
        return 1;
    /* Without cgroups nothing bounds the memory of several processes
     * together, so jobs may not fork (threads remain). */
    ex->deny_fork = cg_mode_of(ex->cg) == CG_NONE;
    ex->mount_proc = can_mount_proc();
    if (cg_mode_of(ex->cg) == CG_NONE)
        ex_log("no cgroups (%s): memory and process limits are per process, fork is refused",
               ex->cg_why);

    /* An empty directory every slot uid can reach, to build jail roots on. */
    snprintf(ex->jail_root, sizeof ex->jail_root, "/tmp/pysandbox-jail.XXXXXX");
    if (mkdtemp(ex->jail_root) == NULL || chmod(ex->jail_root, 0755) != 0) {
        ex_log("cannot create the jail root directory: %s", strerror(errno));
        return 1;
    }
    char mpl[PATH_MAX];
    snprintf(mpl, sizeof mpl, "%s/mpl-cache", ex->c.run_dir);
    mkdir(ex->c.run_dir, 0755);
    mkdir(mpl, 0700);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    ex->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    ex->epfd = epoll_create1(EPOLL_CLOEXEC);
    ex->listen_fd = listen_on(ex->c.executor_socket);
    ex->zygote_fd = -1;
    if (ex->sig_fd < 0 || ex->epfd < 0 || ex->listen_fd < 0)
        return 1;
    ex->ev_listen = (ex_src){SRC_LISTEN, NULL};
    ex->ev_sig = (ex_src){SRC_SIGNAL, NULL};
    ex_watch(ex, ex->listen_fd, EPOLLIN, &ex->ev_listen);
    ex_watch(ex, ex->sig_fd, EPOLLIN, &ex->ev_sig);
    for (unsigned slot = 0; slot < ex->nslots; slot++) {
        ex->oom_ev[slot] = (ex_src){SRC_OOM, &ex->oom_ev[slot]};
        if (cg_oom_fd(ex->cg, slot) >= 0)
            ex_watch(ex, cg_oom_fd(ex->cg, slot), EPOLLIN, &ex->oom_ev[slot]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    /* Static: zero-initialised, and too large to want on the stack. */
    static executor ex;
    int rc = setup(&ex, argv[0]);
    if (rc != 0)
        return rc;
    zylink_start(&ex);
    if (!dblink_init(&ex)) {
        ex_log("out of memory");
        return 1;
    }
    ex_log("listening on %s (%u slots, pool %u, cgroup %s, %s)", ex.c.executor_socket, ex.nslots,
           ex.c.pool_size, cg_describe_json(ex.cg),
           ex.per_slot_uid ? "per-slot uids" : "shared uid");

    while (!ex.stopping) {
        struct epoll_event evs[64];
        int n = epoll_wait(ex.epfd, evs, 64, next_timeout_ms(&ex));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++)
            if (!handle_event(&ex, evs[i].data.ptr, evs[i].events))
                break;
        check_timers(&ex);
        ex_dispatch(&ex);
    }
    ex_log("stopping");
    shutdown_all(&ex);
    conf_free(&ex.c);
    return 0;
}
