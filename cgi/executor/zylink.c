/* zylink.c - the executor's link to its zygote: start, restart, ZY_ messages. */
#include "zylink.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "child.h"
#include "client.h"
#include "jail.h"
#include "xproto.h"
#include "zygote.h"

/* A zygote that dies within this time of starting is restarted only after it. */
#define EX_ZYGOTE_BACKOFF_MS 2000u
/* After spawns kept failing, how long until spawning is tried again. */
#define EX_SPAWN_RETRY_MS 5000u
/* While the pool is short or spawning is suspended, the loop wakes at least this often. */
#define EX_SPAWN_POLL_MS 1000u

void zylink_start(executor *ex)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
        ex_note_error(ex, "socketpair for the zygote: %s", strerror(errno));
        return;
    }
    char tmp_mb[16], cpu[16], nofile[16], nproc[16], deny[4], proc[4];
    snprintf(tmp_mb, sizeof tmp_mb, "%u", ex->c.jail_tmp_mb);
    /* The jail's hard CPU limit: a job lowers it to its wall time, a
     * sandbox to its lifetime (its CPU budget for life). */
    unsigned cpu_s = (ex->c.max_wall_ms + 999) / 1000;
    if (ex->c.max_sandboxes > 0 && ex->c.sandbox_life_s > cpu_s)
        cpu_s = ex->c.sandbox_life_s;
    snprintf(cpu, sizeof cpu, "%u", cpu_s);
    snprintf(nofile, sizeof nofile, "%u", XP_DEFAULT_NOFILE);
    snprintf(nproc, sizeof nproc, "%u", ex->per_slot_uid ? XP_DEFAULT_NPROC : 0u);
    snprintf(deny, sizeof deny, "%d", ex->deny_fork ? 1 : 0);
    snprintf(proc, sizeof proc, "%d", ex->mount_proc ? 1 : 0);
    char mpl[PATH_MAX];
    snprintf(mpl, sizeof mpl, "MPLCONFIGDIR=%s/mpl-cache", ex->c.run_dir);
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
        const char *argv[] = {"pysandbox-zygote", ex->harness, ex->jail_root, tmp_mb, cpu, nofile,
                        nproc, deny, proc, NULL};
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_IGN); /* kept across execve: a child's broken pipe is an error, not death */
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* survives execve; the zygote must not outlive us */
        if (dup2(sp[1], 3) != 3)
            _exit(126);
        /* execve does not modify them; its prototype predates const. */
        execve(ex->zygote_path, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    close(sp[1]);
    if (pid < 0) {
        close(sp[0]);
        ex_note_error(ex, "fork for the zygote: %s", strerror(errno));
        return;
    }
    ex->zygote_pid = pid;
    ex->zygote_fd = sp[0];
    ex->zygote_ready = false;
    ex->spawn_pending = false;
    ex->zygote_started_ms = ex_now_ms();
    ex->ev_zygote = (ex_src){SRC_ZYGOTE, NULL};
    ex_watch(ex, ex->zygote_fd, EPOLLIN, &ex->ev_zygote);
}

/* The link is lost (the zygote exited, closed it or spoke nonsense). */
static void zylink_gone(executor *ex)
{
    ex_close_fd(ex, &ex->zygote_fd);
    ex->zygote_ready = false;
    ex->spawn_pending = false;
    uint64_t lived = ex_now_ms() - ex->zygote_started_ms;
    ex->zygote_restart_ms = ex_now_ms() + (lived < EX_ZYGOTE_BACKOFF_MS ? EX_ZYGOTE_BACKOFF_MS : 0);
}

bool zylink_reaped(executor *ex, pid_t pid, int status)
{
    if (pid != ex->zygote_pid)
        return false;
    ex_log("zygote %d exited (%s %d)", (int)pid, WIFSIGNALED(status) ? "signal" : "status",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    ex->zygote_pid = 0;
    if (ex->zygote_fd >= 0)
        zylink_gone(ex);
    return true;
}

void zylink_request_spawn(executor *ex)
{
    if (!ex->zygote_ready || ex->spawn_pending || ex->stopping)
        return;
    /* With sandboxes on, the pool keeps one lean child (no pre-copy) to make
     * them from, and makes one beyond its size for a creation waiting. */
    bool lean = ex->c.max_sandboxes > 0 && child_lean_count(ex) == 0;
    bool creation_waits = false;
    for (const client *q = ex->queue_head; q != NULL && !creation_waits; q = q->next_queued)
        creation_waits = q->hdr.op == XP_OP_SANDBOX_CREATE;
    if (ex->n_idle + ex->n_starting >= ex->c.pool_size && !(lean && creation_waits))
        return;
    if (ex->spawn_failures >= EX_MAX_SPAWN_FAILURES && ex_now_ms() < ex->zygote_restart_ms)
        return;
    unsigned slot = child_free_slot(ex);
    if (slot == ex->nslots)
        return;
    bool precopy = child_want_precopy(ex) && !lean;
    if (ex->cg != NULL && cg_mode_of(ex->cg) != CG_NONE) {
        char err[APP_ERRMSG_LEN];
        /* The server maxima until a job lowers them. */
        if (cg_limit_slot(ex->cg, slot, child_memory_limit_bytes(ex, ex->c.max_memory_mb, precopy),
                          XP_DEFAULT_NPROC + JAIL_INIT_TASKS, err, sizeof err) != APP_OK) {
            ex_note_error(ex, "%s", err);
            return;
        }
    }
    /* The zygote moves the child into the slot's cgroups before releasing
     * it (so it can root a cgroup namespace there): it gets the slot's
     * cgroup.procs files with the request. */
    int cg_fds[ZY_MAX_CG_FDS];
    int ncg = 0;
    if (ex->cg != NULL && cg_mode_of(ex->cg) != CG_NONE) {
        char err[APP_ERRMSG_LEN];
        ncg = cg_procs_fds(ex->cg, slot, cg_fds, ZY_MAX_CG_FDS, err, sizeof err);
        if (ncg < 0) {
            ex_note_error(ex, "%s", err);
            return;
        }
    }
    zy_msg m = {.type = ZY_SPAWN, .slot = slot, .outside_uid = child_slot_uid(ex, slot),
                .outside_gid = child_slot_gid(ex, slot), .flags = precopy ? ZY_SPAWN_PRECOPY : 0};
    if (!zy_send(ex->zygote_fd, &m, cg_fds, ncg)) { /* the zygote gets copies of cg_fds */
        ex_note_error(ex, "cannot reach the zygote: %s", strerror(errno));
        return;
    }
    /* Reserve the slot until the answer arrives. */
    child_reserve_slot(ex, slot);
    ex->spawn_pending = true;
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

static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* The zygote's answer to ZY_SPAWN: a child in the slot, or why not. */
static void zylink_spawned(executor *ex, const zy_msg *m, const int *fds, int nfds)
{
    ex->spawn_pending = false;
    child_release_slot(ex, m->slot);
    if (m->err != 0 || nfds != ZY_CHILD_FDS) {
        close_all(fds, nfds);
        ex->spawn_errors++;
        ex->spawn_failures++;
        ex_note_error(ex, "spawning a jailed child failed: %s", m->text);
        /* Killed by the zygote; reaped by us. Keep the slot until then. */
        if (m->pid > 0)
            child_add_failed(ex, m->slot, m->pid, m->text);
        return;
    }
    if (!child_add_spawned(ex, m->slot, m->pid, fds, (m->flags & ZY_SPAWN_PRECOPY) != 0)) {
        close_all(fds, ZY_CHILD_FDS);
        kill(m->pid, SIGKILL);
    }
}

void zylink_on_message(executor *ex)
{
    zy_msg m;
    int fds[ZY_CHILD_FDS] = {-1, -1, -1, -1};
    int nfds = 0;
    ssize_t n = zy_recv(ex->zygote_fd, &m, fds, ZY_CHILD_FDS, &nfds);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        zylink_gone(ex); /* closed, or speaking nonsense */
        return;
    }
    m.text[sizeof m.text - 1] = '\0';
    if (m.type == ZY_READY) {
        ex->zygote_ready = true;
        snprintf(ex->zygote_info, sizeof ex->zygote_info, "%s", m.text);
        ex->precopy_bytes = precopy_bytes_of(m.text);
        ex_log("zygote %d ready: %s", (int)ex->zygote_pid, m.text);
        return;
    }
    if (m.type == ZY_FATAL) {
        ex_note_error(ex, "zygote: %s", m.text);
        return;
    }
    if (m.type != ZY_SPAWNED || m.slot >= ex->nslots) {
        close_all(fds, nfds);
        return;
    }
    zylink_spawned(ex, &m, fds, nfds);
}

uint64_t zylink_next_wakeup(const executor *ex, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    if (ex->zygote_fd < 0)
        next = ex->zygote_restart_ms;
    if (ex->spawn_failures >= EX_MAX_SPAWN_FAILURES ||
        (ex->zygote_ready && !ex->spawn_pending && ex->n_idle + ex->n_starting < ex->c.pool_size))
        next = next < now + EX_SPAWN_POLL_MS ? next : now + EX_SPAWN_POLL_MS;
    return next;
}

void zylink_on_timer(executor *ex, uint64_t now)
{
    if (ex->zygote_fd < 0 && ex->zygote_pid == 0 && !ex->stopping && now >= ex->zygote_restart_ms)
        zylink_start(ex);
    if (ex->spawn_failures >= EX_MAX_SPAWN_FAILURES && now >= ex->zygote_restart_ms) {
        /* Try again now and then: the cause may have been transient. */
        ex->spawn_failures = EX_MAX_SPAWN_FAILURES - 1;
        ex->zygote_restart_ms = now + EX_SPAWN_RETRY_MS;
    }
}
