/*
 * zylink.h - the executor's link to its zygote (pysandbox-zygote).
 *
 * The executor execs the zygote with a fixed environment and talks to it
 * over a SOCK_SEQPACKET pair in ZY_ messages (zygote.h): the zygote says
 * when it is ready, and creates one jailed child per ZY_SPAWN request in
 * the slot it names (child.h).  A zygote that dies is restarted, after a
 * back-off when it died young.  The link's state is the zygote_* fields of
 * the executor; nothing here allocates.
 */
#ifndef PYSANDBOX_EXECUTOR_ZYLINK_H
#define PYSANDBOX_EXECUTOR_ZYLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "executor.h"

/* Starts the zygote and watches its socket; a failure is noted
 * (ex->last_error) and retried by zylink_on_timer(). */
void zylink_start(executor *ex);

/* Reads one message from the zygote (its socket is readable). */
void zylink_on_message(executor *ex);

/* Asks the zygote for one more child when the pool is short and a slot
 * is free; nothing while a spawn is pending or spawns keep failing. */
void zylink_request_spawn(executor *ex);

/* If pid is the zygote, records that it exited with status (and restarts
 * it later) and returns true; false for any other pid. */
bool zylink_reaped(executor *ex, pid_t pid, int status);

/* When the zygote side wants the loop to wake up next (UINT64_MAX: never). */
uint64_t zylink_next_wakeup(const executor *ex, uint64_t now);

/* Restarts the zygote when its back-off is over, and lets spawning be tried
 * again a while after spawns kept failing. */
void zylink_on_timer(executor *ex, uint64_t now);

#endif
