/*
 * runpool.h - background work done by processes started before it is asked
 * for: a pool of spare processes, each of which takes one piece of work,
 * does it and exits.
 *
 * Starting a process when the work comes costs tens of milliseconds on a
 * paravirtualised host (docs/PERFORMANCE.md): an exec and its libraries,
 * or, without exec, two forks, the new process's first page faults and the
 * closing of the caller's SQLite handle (none may cross a fork).  Here the
 * FastCGI master makes a wake pipe (runpool_init) before it forks anything,
 * then starts a spawner (runpool_start), a child that never opens SQLite
 * and keeps RUNPOOL_SPARES copies of itself waiting on that pipe, each
 * already past spec->prepare (its own store handle).  A worker that stored
 * work writes its argument to the pipe (runpool_wake); one spare reads it
 * and calls spec->take; when that takes the work, the spare tells the
 * spawner (which forks a replacement at once), leaves the master's session
 * and runs spec->run in its own process, which ends with it.  So the work
 * outlives a worker or spawner restart and can be killed by its pid, as a
 * process of its own.
 *
 * A waiting spare dies with its spawner (PR_SET_PDEATHSIG), the spawner
 * with the master's SIGTERM; work already taken goes on.  An argument
 * written while no spare waits stays in the pipe until one does (the pipe
 * holds RUNPOOL_PIPE_ARGS of them); one whose take fails is dropped.
 */
#ifndef PYSANDBOX_RUNPOOL_H
#define PYSANDBOX_RUNPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "app.h"

/* Spare processes kept waiting: more serve a burst of work without
 * waiting for forks; each costs a copy of the spawner's dirty pages and a
 * store handle. */
#define RUNPOOL_SPARES 2
/* Length of the argument of one piece of work (a run id): one atomic pipe
 * write. */
#define RUNPOOL_ARG_LEN 32
/* Arguments the wake pipe holds (its default 64 KiB); a wake beyond them
 * fails with APP_EBUSY. */
#define RUNPOOL_PIPE_ARGS (65536 / RUNPOOL_ARG_LEN)
/* A spare that took work is replaced this much later (at once when it
 * was the last): the fork and the new spare's start would otherwise take
 * CPU from the work just started (on 2 CPUs, a print(1) job ran 4 ms
 * slower beside them: docs/PERFORMANCE.md). */
#define RUNPOOL_REFILL_DELAY_MS 100
/* A spare that dies before taking work makes the spawner wait this long
 * before the next fork, so that a failing prepare does not spin. */
#define RUNPOOL_RESPAWN_PAUSE_MS 1000
/* A waiting spare copies its private writable mappings up to this size
 * ahead of the work (runpool.c: prefault); a thread's 8 MiB stack is
 * larger, and left to fault as it is used. */
#define RUNPOOL_PREFAULT_MAX_MAPPING (4ul * 1024 * 1024)
/* Longest process name (/proc/PID/comm keeps 15 bytes). */
#define RUNPOOL_NAME_MAX 15

/* What the pool's processes do; called in a spare, the ctx its copy. */
typedef struct runpool_spec {
    void *ctx;
    /* Once in the spawner, before the first fork: what every spare shares
     * (never a SQLite handle).  false: the spawner exits (logged by start). */
    bool (*start)(void *ctx);
    /* Once in each new spare, before it waits (open what work needs).
     * false: the spare exits (the spawner pauses, then forks another). */
    bool (*prepare)(void *ctx);
    /* Woken with arg (RUNPOOL_ARG_LEN bytes, NUL-terminated): takes that
     * work if it is still to be done.  true: run follows in this process;
     * false: the spare waits again. */
    bool (*take)(void *ctx, const char *arg);
    /* Does the taken work; what it returns is the process's exit status. */
    int (*run)(void *ctx);
} runpool_spec;

/* Makes the wake pipe; the master calls it once, before forking workers
 * (they inherit it).  APP_OK, or APP_EIO with msg. */
APP_MUST_CHECK app_err runpool_init(char *msg, size_t msglen);

/* Forks the spawner (after runpool_init; spec is its copy from then on)
 * and returns its pid, or -1 (logged).  The master calls it again when
 * that pid exits, and sends it SIGTERM to stop. */
pid_t runpool_start(const runpool_spec *spec);

/* Asks for the work named arg (RUNPOOL_ARG_LEN bytes; from any process
 * forked after runpool_init).  APP_OK once it is in the pipe;
 * APP_EUNAVAIL when there is no pool (runpool_init never ran in this
 * process's ancestry); APP_EBUSY when the pipe is full; APP_EIO; each with
 * msg. */
APP_MUST_CHECK app_err runpool_wake(const char *arg, char *msg, size_t msglen);

/* Names the calling process (what ps and /proc/PID/comm show): at most
 * RUNPOOL_NAME_MAX bytes are kept.  false when the kernel refused. */
bool runpool_set_name(const char *name);

#endif
