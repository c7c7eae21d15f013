/* runpool.c - spare processes that each take one piece of background work (see runpool.h). */
#include "runpool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The wake pipe (runpool_init), inherited by every process forked after
 * it; both ends non-blocking: a full pipe fails a wake rather than block a
 * worker, and of the spares woken by one argument all but one find it gone. */
static int wake_rd = -1;
static int wake_wr = -1;

/* What ps shows of the spawner and of a spare still waiting. */
#define SPAWNER_NAME "pysandbox-pool"
#define SPARE_NAME "pysandbox-spare"

app_err runpool_init(char *msg, size_t msglen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(msg, msglen, "task pool: pipe: %s", strerror(errno));
        return APP_EIO;
    }
    wake_rd = fds[0];
    wake_wr = fds[1];
    return APP_OK;
}

app_err runpool_wake(const char *arg, char *msg, size_t msglen)
{
    if (wake_wr < 0) {
        snprintf(msg, msglen, "background work needs the task pool, which this process lacks");
        return APP_EUNAVAIL;
    }
    ssize_t n;
    do
        n = write(wake_wr, arg, RUNPOOL_ARG_LEN);
    while (n < 0 && errno == EINTR);
    if (n == RUNPOOL_ARG_LEN)
        return APP_OK;
    if (n < 0 && errno == EAGAIN) {
        snprintf(msg, msglen, "the task pool has %d runs waiting, its most; retry later",
                 RUNPOOL_PIPE_ARGS);
        return APP_EBUSY;
    }
    snprintf(msg, msglen, "task pool: write: %s", n < 0 ? strerror(errno) : "short write");
    return APP_EIO;
}

bool runpool_set_name(const char *name)
{
    return prctl(PR_SET_NAME, (unsigned long)name, 0ul, 0ul, 0ul) == 0;
}

/* Closes every descriptor above 2 but keep (the master's sockets, logs
 * opened later...: none of them is ours to hold). */
static void close_all_but(int keep)
{
    if (keep > 3)
        syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
    syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
}

/*
 * Copies now, while the spare waits, the pages it shares copy-on-write
 * with the spawner (and those prepare allocated), as the work would on
 * its first writes to them: each such fault costs tens of microseconds on
 * a paravirtualised host, and a run took about 75 of them (docs/
 * PERFORMANCE.md).  Private writable mappings of at most
 * RUNPOOL_PREFAULT_MAX_MAPPING bytes (larger ones are reservations mostly
 * never used).  Best effort: on a kernel without MADV_POPULATE_WRITE
 * (before 5.14) the work pays the faults as before.
 */
static void prefault(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long start, end;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3 || strcmp(perms, "rw-p") != 0 ||
            end - start > RUNPOOL_PREFAULT_MAX_MAPPING)
            continue;
        if (madvise((void *)start, end - start, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
            break; /* not this kernel; other errors: the next mapping may do */
    }
    fclose(f);
}

/*
 * A spare: prepares, waits for an argument, and once spec->take took its
 * work tells the spawner (note: its pid), leaves the master's session and
 * runs it.  Never returns.
 */
static void spare_main(const runpool_spec *spec, int note, pid_t spawner)
{
    if (!runpool_set_name(SPARE_NAME) || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
        getppid() != spawner || !spec->prepare(spec->ctx))
        _exit(1);
    prefault();
    char arg[RUNPOOL_ARG_LEN + 1];
    for (;;) {
        struct pollfd p = {.fd = wake_rd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            _exit(1);
        /* Writes of RUNPOOL_ARG_LEN bytes are atomic, so a read gets one
         * whole argument, or EAGAIN when another spare took it first. */
        if (read(wake_rd, arg, RUNPOOL_ARG_LEN) != RUNPOOL_ARG_LEN)
            continue;
        arg[RUNPOOL_ARG_LEN] = '\0';
        /* From here on the work may be taken, and must outlive the spawner. */
        if (prctl(PR_SET_PDEATHSIG, 0) != 0)
            _exit(1);
        if (spec->take(spec->ctx, arg))
            break;
        /* Not taken (already done, or cancelled): a spare again, one that
         * dies with a spawner that may have died meanwhile. */
        if (!runpool_set_name(SPARE_NAME) || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
            getppid() != spawner)
            _exit(0);
    }
    pid_t me = getpid();
    /* A lost note only delays the replacement until this process ends. */
    if (write(note, &me, sizeof me) != (ssize_t)sizeof me)
        fprintf(stderr, "pysandbox task pool: telling the spawner: %s\n", strerror(errno));
    close(note);
    close(wake_rd);
    setsid(); /* out of the master's process group: a Ctrl-C of the service is not for it */
    _exit(spec->run(spec->ctx));
}

static void on_child(int sig)
{
    (void)sig; /* only interrupts the spawner's ppoll */
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The spawner's slots: a waiting spare's pid, or 0 and when to fork one. */
typedef struct slots {
    pid_t pid[RUNPOOL_SPARES];
    double due_ms[RUNPOOL_SPARES];
} slots;

/* Reads the spares' notes: each names one that took work, which is no
 * longer waiting.  Its replacement is due RUNPOOL_REFILL_DELAY_MS later,
 * or at once when no spare is left. */
static void read_notes(int notes, slots *sl)
{
    pid_t took;
    while (read(notes, &took, sizeof took) == (ssize_t)sizeof took) {
        int waiting = 0;
        for (int i = 0; i < RUNPOOL_SPARES; i++)
            if (sl->pid[i] == took)
                sl->pid[i] = 0;
            else if (sl->pid[i] != 0)
                waiting++;
        for (int i = 0; i < RUNPOOL_SPARES; i++)
            if (sl->pid[i] == 0 && sl->due_ms[i] < now_ms() + RUNPOOL_REFILL_DELAY_MS)
                sl->due_ms[i] = waiting > 0 ? now_ms() + RUNPOOL_REFILL_DELAY_MS : 0;
    }
}

/* Forks a spare into slot *pid (0 when the fork failed). */
static void fork_spare(const runpool_spec *spec, int note, const sigset_t *orig, pid_t *pid)
{
    pid_t spawner = getpid();
    *pid = fork();
    if (*pid < 0) {
        fprintf(stderr, "pysandbox task pool: fork: %s\n", strerror(errno));
        *pid = 0;
    } else if (*pid == 0) {
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, orig, NULL);
        spare_main(spec, note, spawner);
    }
}

/*
 * The spawner: keeps RUNPOOL_SPARES spares waiting, forking a new one
 * when one takes work (its note) or dies, and reaps its children (spares,
 * and the work they became).  Never returns.
 */
static void spawner_main(const runpool_spec *spec, pid_t master)
{
    signal(SIGTERM, SIG_DFL); /* the master's handler is for the master */
    signal(SIGINT, SIG_DFL);
    close_all_but(wake_rd);
    wake_wr = -1; /* closed above: spares never wake anyone */
    int notes[2];
    if (!runpool_set_name(SPAWNER_NAME) || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
        getppid() != master || pipe2(notes, O_CLOEXEC | O_NONBLOCK) != 0 || !spec->start(spec->ctx))
        _exit(1);
    /* SIGCHLD stays blocked but in ppoll, so no death goes unnoticed
     * between a reap and the wait. */
    sigset_t chld, orig;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &orig);
    struct sigaction sa = {.sa_handler = on_child};
    sigaction(SIGCHLD, &sa, NULL);
    slots sl = {{0}, {0}};
    for (;;) {
        double next = -1; /* the next slot due, or -1: none */
        for (int i = 0; i < RUNPOOL_SPARES; i++) {
            if (sl.pid[i] == 0 && now_ms() >= sl.due_ms[i])
                fork_spare(spec, notes[1], &orig, &sl.pid[i]);
            if (sl.pid[i] == 0 && (next < 0 || sl.due_ms[i] < next))
                next = sl.due_ms[i] > now_ms() ? sl.due_ms[i] : now_ms() + 1;
        }
        struct pollfd p = {.fd = notes[0], .events = POLLIN};
        double wait = next < 0 ? 0 : next - now_ms();
        struct timespec ts = {(time_t)(wait / 1000),
                              (long)(wait - (double)(time_t)(wait / 1000) * 1000) * 1000000L};
        if (ppoll(&p, 1, next < 0 ? NULL : &ts, &orig) < 0 && errno != EINTR)
            _exit(1);
        read_notes(notes[0], &sl);
        int status;
        pid_t dead;
        while ((dead = waitpid(-1, &status, WNOHANG)) > 0) {
            read_notes(notes[0], &sl); /* a note written before it ended is in the pipe */
            for (int i = 0; i < RUNPOOL_SPARES; i++)
                if (sl.pid[i] == dead) { /* died waiting: do not spin on it */
                    sl.pid[i] = 0;
                    sl.due_ms[i] = now_ms() + RUNPOOL_RESPAWN_PAUSE_MS;
                }
        }
        if (getppid() != master)
            _exit(0);
    }
}

pid_t runpool_start(const runpool_spec *spec)
{
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fprintf(stderr, "pysandbox task pool: fork: %s\n", strerror(errno));
    else if (pid == 0)
        spawner_main(spec, master);
    return pid;
}
