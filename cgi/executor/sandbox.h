/*
 * sandbox.h - stateful sandboxes: jailed interpreters kept between runs.
 *
 * A sandbox is one jailed child (child.h) that, instead of exiting after
 * its job, keeps its interpreter and its globals and waits for the next
 * one (XP_FLAG_SANDBOX towards the child).  It is made by an ordinary job
 * from the pool (XP_OP_SANDBOX_CREATE: the queue, a warm child, an empty
 * run that applies the limits it keeps for life: memory, its CPU budget),
 * then held in its slot (CH_HELD) until it is deleted, idle too long, past
 * its lifetime, or its jail dies.  One execution at a time runs in it.
 *
 * Records are owned by ex->sandboxes (a list) from creation until they are
 * removed: at once on delete and on expiry (the id then answers 404); a
 * sandbox whose jail died (a timeout or memory kill, a crash) stays as a
 * dead record answering 410 for SBX_DEAD_KEEP_S, then goes too.  An id made
 * by an earlier executor (its first 8 hex digits name the executor's boot)
 * answers 410: a restart ended it.
 */
#ifndef PYSANDBOX_EXECUTOR_SANDBOX_H
#define PYSANDBOX_EXECUTOR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "executor.h"
#include "sbuf.h"
#include "xproto.h"

/* Executions a sandbox's history keeps (the oldest go first). */
#define SBX_HISTORY 50u
/* Bytes of code and of output each history entry keeps. */
#define SBX_EXCERPT 200u
/* How long a dead sandbox's id answers 410 before it is forgotten (404). */
#define SBX_DEAD_KEEP_S 3600u
/* Dead records kept at most (the oldest are forgotten first). */
#define SBX_MAX_DEAD 256u

/* Makes this executor's boot tag (the first 8 hex digits of its ids).
 * Returns false when the kernel gives no random bytes. */
bool sandbox_init(executor *ex);

/* Sandboxes alive now (ready or busy). */
unsigned sandbox_live(const executor *ex);

/*
 * Handles a complete request of a sandbox op on cl: lists, statuses,
 * histories and deletions are answered at once; a creation is checked
 * (APP_EBUSY past PYSANDBOX_MAX_SANDBOXES) and then queued as a job; an
 * execution (XP_OP_JOB naming a sandbox) starts in its sandbox at once, or
 * is answered 404 (APP_ENOTFOUND), 410 (APP_EENDED) or 409 (APP_ECONFLICT:
 * one execution at a time).  Returns false when cl is not a sandbox
 * request (the caller queues it as usual).
 */
bool sandbox_on_request(executor *ex, client *cl);

/*
 * The empty run of a creation finished in ch: makes the record (ch becomes
 * its held child) and answers cl with the sandbox's description.  json is
 * the composed answer of the empty run (its status must be "ok").
 */
void sandbox_created(executor *ex, child *ch, client *cl, const char *json, size_t len);

/*
 * An execution ended in ch's sandbox: counts it, adds it to the history
 * (code excerpt kept at the start, status and output from json, the
 * composed answer) and makes the sandbox ready again, or dead when
 * state_lost (its jail ended with the execution).
 */
void sandbox_executed(executor *ex, child *ch, const char *json, size_t len, bool state_lost);

/* ch, the held child of a sandbox, was reaped while no execution ran in it:
 * the sandbox is dead. */
void sandbox_child_lost(executor *ex, child *ch);

/* When the earliest sandbox passes its idle timeout or lifetime, or a
 * dead record should be forgotten (UINT64_MAX when none). */
uint64_t sandbox_next_deadline(const executor *ex);

/* Ends the sandboxes idle too long or past their lifetime (their jails are
 * killed, their records removed) and forgets old dead records. */
void sandbox_expire(executor *ex, uint64_t now);

/* The sandbox's id: XP_SANDBOX_ID_LEN hex digits and a NUL. */
const char *sandbox_id(const sandbox *s);

/* Frees every record, for stopping. */
void sandbox_free_all(executor *ex);

#endif
