/*
 * executor.h - the state pysandbox-executor's modules share, and the
 * event-loop helpers they all use.
 *
 * One `executor` value, owned by main() (executor_main.c), holds everything
 * the supervisor knows: its settings, the epoll set, the zygote link, the
 * slots and their children, the connections from the front and the job
 * queue, and the counters the health report shows.  Every module gets it
 * as an explicit `executor *ex` argument; none keeps state of its own, so
 * reading a function's parameters tells what it may touch.
 *
 * The modules, each with its own header:
 *   client.h   connections from the front: requests in, answers out, the queue
 *   child.h    the jailed children in their slots: running a job, its limits,
 *              its answer, its end
 *   zylink.h   the zygote: starting and restarting it, ZY_ messages
 *   sandbox.h  stateful sandboxes: children kept between executions
 *   dblink.h   the database broker: queries from jails and from the front
 *   status.h   the health JSON
 * The helpers below live in executor_main.c, next to the loop they serve.
 */
#ifndef PYSANDBOX_EXECUTOR_H
#define PYSANDBOX_EXECUTOR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "conf.h"
#include "xproto.h"
#include "zygote.h"

/* Consecutive failed spawns after which queued jobs are refused at once. */
#define EX_MAX_SPAWN_FAILURES 3u

/* What an epoll registration stands for; the loop dispatches on kind. */
typedef enum ex_src_kind {
    SRC_LISTEN,
    SRC_SIGNAL,
    SRC_ZYGOTE,
    SRC_CLIENT, /* obj: the client */
    SRC_CHAN,   /* obj: the child */
    SRC_OUT,    /* obj: the child */
    SRC_ERR,    /* obj: the child */
    SRC_OOM,    /* obj: the slot's entry in ex->oom_ev, whose index is the slot */
    SRC_DB,     /* obj: a connection to the database broker (dblink.h) */
} ex_src_kind;

typedef struct ex_src {
    ex_src_kind kind;
    void *obj;
} ex_src;

typedef struct client client;   /* client.h */
typedef struct child child;     /* child.h */
typedef struct sandbox sandbox; /* sandbox.h */
typedef struct dblink dblink;   /* dblink.h */

typedef struct executor {
    conf c;
    const char *zygote_path; /* static storage in main() */
    char harness[PATH_MAX];
    char jail_root[64];
    int epfd, listen_fd, sig_fd;
    ex_src ev_listen, ev_sig, ev_zygote;

    /* The zygote (zylink.h). */
    pid_t zygote_pid;       /* 0 when not running */
    int zygote_fd;          /* -1 when not connected */
    bool zygote_ready, spawn_pending;
    uint64_t zygote_started_ms, zygote_restart_ms;
    char zygote_info[ZY_TEXT_MAX]; /* its ready message: JSON, or "" */
    /* Bytes a child copies from the zygote for the data plan before its job
     * (precopy.h): charged to its cgroup, so added to its memory limit and
     * left out of the peak a job reports. */
    uint64_t precopy_bytes;

    cg *cg;
    char cg_why[256];
    bool per_slot_uid, deny_fork, mount_proc;

    /* The slots and their children (child.h). */
    unsigned nslots;
    child **slots;      /* From calloc(): the child in each slot, NULL, or child.c's reservation mark */
    ex_src *oom_ev;     /* From calloc(): per slot, for cg_oom_fd() */
    child *idle;        /* ready children, LIFO */
    unsigned n_idle, n_starting, n_running;
    unsigned ncpus;     /* online CPUs, for child_want_precopy() */

    /* The front's connections and the job queue (client.h). */
    client *queue_head, *queue_tail;
    unsigned n_queued, n_clients;
    client *clients;

    /* The database broker (dblink.h). */
    dblink *db;

    /* Stateful sandboxes (sandbox.h). */
    sandbox *sandboxes;       /* every record, live and dead */
    char sandbox_boot[9];     /* this executor's tag: the first 8 hex digits of its ids */
    unsigned n_sandbox_running; /* of n_running: executions in a sandbox (not pool jobs) */
    unsigned n_stream_running;  /* of n_running: streamed one-shot jobs (ex_job_streamed) */
    unsigned sbx_live;        /* sandboxes ready or busy */
    uint64_t sbx_created, sbx_executions, sbx_successes;
    double sbx_exec_ms_total;

    unsigned spawn_failures;
    uint64_t jobs_refused_client; /* over PYSANDBOX_CLIENT_MAX_JOBS */
    uint64_t jobs_done, jobs_failed, spawns, spawn_errors, spawns_precopied;
    char last_error[APP_ERRMSG_LEN];
    volatile bool stopping;
} executor;

/* CLOCK_MONOTONIC in whole milliseconds. */
uint64_t ex_now_ms(void);

/* Whether the job h describes counts against PYSANDBOX_MAX_STREAMS rather
 * than PYSANDBOX_MAX_JOBS: a one-shot job whose output is streamed.  A
 * stream is watched, so it tends to run long (an agent following a
 * training loop); with capacity of its own, 64 of them leave the slots of
 * short runs free.  Executions in a sandbox count against neither. */
bool ex_job_streamed(const executor *ex, const xp_req_hdr *h);

/* Whether a job h describes may start now: its class has a free slot. */
bool ex_has_room(const executor *ex, const xp_req_hdr *h);

/* CLOCK_MONOTONIC in fractional milliseconds, for reported durations. */
double ex_now_ms_f(void);

/* Writes "pysandbox-executor: <text>" and a newline to stderr. */
void ex_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs, and keeps the text as ex->last_error for the health report. */
void ex_note_error(executor *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fd in the epoll set (a failure is logged); src must outlive it. */
void ex_watch(executor *ex, int fd, uint32_t events, ex_src *src);

/* Changes the events fd is watched for. */
void ex_rewatch(executor *ex, int fd, uint32_t events, ex_src *src);

/* Unregisters and closes *fd and sets it to -1; nothing when already -1. */
void ex_close_fd(executor *ex, int *fd);

/* Hands queued jobs to ready children, refuses them when children keep
 * failing to start, and asks the zygote for replacements. */
void ex_dispatch(executor *ex);

#endif
