/*
 * child.h - the executor's jailed children, one per slot.
 *
 * The zygote (zylink.h) creates each child in a free slot, which has its
 * own cgroup and, when the executor is root, its own outside uid.  A child
 * starts (CH_STARTING), says it is ready and waits in the idle list
 * (CH_IDLE), then runs exactly one job (CH_RUNNING) -- or, for a sandbox,
 * one after the other, held between them (CH_HELD) -- : it gets the job's
 * payload on its channel, its stdout, stderr and result are read up to
 * their caps, its wall-time, memory and output limits end the jail when
 * passed, and its client is answered with the composed result (result.h).
 * A child is owned by its slot (ex->slots) until it is reaped
 * (child_finish), whatever happened to its client.
 */
#ifndef PYSANDBOX_EXECUTOR_CHILD_H
#define PYSANDBOX_EXECUTOR_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "executor.h"
#include "result.h"
#include "sbuf.h"
#include "xproto.h"
#include "zygote.h"

/* CH_HELD: a sandbox's child between two executions (sandbox.h). */
typedef enum child_state { CH_STARTING, CH_IDLE, CH_RUNNING, CH_HELD } child_state;

/* Visible to client.c, which unlinks a departing client from its child;
 * other modules go through the functions. */
struct child {
    ex_src ev_chan, ev_out, ev_err;
    pid_t pid;
    unsigned slot;
    int chan, out, err; /* -1 once closed */
    int status;           /* the init's status pipe (jail_init_report); -1 once closed */
    child_state state;
    xp_req_hdr job;        /* the running job's header (its limits) */
    client *client;        /* the job's owner; NULL when it went away */
    size_t woff;           /* bytes of the job already written to chan */
    sbuf out_buf, err_buf;
    sbuf res;              /* u32 length + the harness's JSON */
    char fail_msg[ZY_TEXT_MAX];
    res_verdict verdict;
    bool killed;
    bool precopied;        /* asked to copy the pre-copy plan (ZY_SPAWN_PRECOPY) */
    uint64_t deadline_ms;
    uint64_t cpu_check_ms; /* next look at the jail's CPU time; UINT64_MAX: not watched */
    double started_ms;     /* ex_now_ms_f() when the job was handed over */
    struct child *next;    /* idle list */
    sandbox *sbx;          /* the sandbox it holds; NULL: a pool child */
    /* Database requests (dblink.h): one in flight at a time. */
    bool db_pending;       /* a request was taken off the channel and is not answered yet */
    bool chan_broken;      /* a forged frame: nothing more is read as frames this job */
    unsigned db_queries;   /* this job's requests (DBW_MAX_QUERIES_PER_JOB) */
    sbuf db_out;           /* an answer being written to the channel */
    size_t db_woff;
};

/* Writes a database answer (json, n bytes: the broker's object) to the
 * child's channel as a u32 length and the JSON, then reads its frames
 * again.  Nothing when the child no longer runs a job. */
void child_db_answer(executor *ex, child *ch, const char *json, size_t n);

/* --- slots ---------------------------------------------------------------- */

/* The first slot with neither a child nor a reservation; ex->nslots when none. */
unsigned child_free_slot(const executor *ex);

/* Marks a free slot taken while the zygote creates its child. */
void child_reserve_slot(executor *ex, unsigned slot);

/* Frees a slot's reservation (the zygote answered). */
void child_release_slot(executor *ex, unsigned slot);

/* The child in a slot; NULL when the slot is free or only reserved. */
child *child_in_slot(const executor *ex, unsigned slot);

/* The child whose init is pid, or NULL. */
child *child_by_pid(const executor *ex, pid_t pid);

/* The outside uid and gid of a slot's jail. */
uid_t child_slot_uid(const executor *ex, unsigned slot);
gid_t child_slot_gid(const executor *ex, unsigned slot);

/* A jail's memory cgroup limit for a job of memory_mb; a child that copied
 * the pre-copy plan has those bytes charged already. */
uint64_t child_memory_limit_bytes(const executor *ex, unsigned memory_mb, bool precopied);

/* Whether the next child should copy the pre-copy plan (ZY_SPAWN_PRECOPY). */
bool child_want_precopy(const executor *ex);

/* Children starting or idle that did not copy the pre-copy plan ("lean"):
 * the ones a sandbox is made from, so it does not keep ~8 MB of copied
 * pages for its life. */
unsigned child_lean_count(const executor *ex);

/* An idle child for a job: for a sandbox's creation (lean true) only a
 * lean one; for other jobs one that pre-copied if there is one (its
 * head start is for them), else any.  NULL when none fits. */
child *child_pick_idle(const executor *ex, bool lean);

/* --- a child's life ------------------------------------------------------- */

/*
 * Puts a child the zygote spawned into its (reserved) slot: fds are its
 * channel, stdout, stderr and init-status descriptors (ZY_CHILD_FDS, taken
 * over: made non-blocking and watched).  Returns false when out of memory;
 * the caller then still owns the fds.
 */
bool child_add_spawned(executor *ex, unsigned slot, pid_t pid, const int *fds, bool precopied);

/* Keeps a slot for a child the zygote failed to set up and killed, until
 * it is reaped; why is the zygote's message.  Out of memory: nothing. */
void child_add_failed(executor *ex, unsigned slot, pid_t pid, const char *why);

/* Ends the child's jail (once): SIGKILL of its PID 1.  why becomes its
 * verdict unless one was set already. */
void child_kill(child *ch, res_verdict why);

/* Kills every child, for stopping (no verdicts: no one is answered). */
void child_kill_all(const executor *ex);

/* Hands cl's job to the idle child ch: sets the slot's limits and starts
 * writing the payload.  When the limits cannot be set the child is killed
 * and cl stays queued. */
void child_start_job(executor *ex, client *cl, child *ch);

/* Handles epoll events on the child's channel: the rest of the job out,
 * readiness and the result in. */
void child_on_chan(executor *ex, child *ch, uint32_t events);

/* Handles the child's stdout (is_stderr false) or stderr becoming readable. */
void child_on_output(executor *ex, child *ch, bool is_stderr);

/* When the earliest running job passes its wall time (UINT64_MAX when none runs). */
uint64_t child_next_deadline(const executor *ex);

/* Kills the running jobs whose wall time is over at now. */
void child_kill_overdue(executor *ex, uint64_t now);

/* The OOM eventfd of slot fired (cgroup v1). */
void child_oom_event(executor *ex, unsigned slot);

/* The child's init was reaped with status and ru: reads its last output,
 * answers its client and frees it (its slot becomes free). */
void child_finish(executor *ex, child *ch, int status, const struct rusage *ru);

#endif
