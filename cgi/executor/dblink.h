/*
 * dblink.h - the executor's link to the database broker (pysandbox-dbbroker).
 *
 * When PYSANDBOX_AGENT_DB is set, the executor starts the broker with
 * DBW_BROKER_CONNECTIONS socket pairs as its fds 3.., one per broker
 * thread, and restarts it when it dies.  Database requests come from two
 * places: a jailed program's channel (child.c takes the frame off it and
 * stops reading frames until the answer is written back, so a program has
 * one request in flight) and the front (XP_OP_DB).  Each is queued until a
 * connection is free, sent with a dbw_hdr the executor fills (the sandbox,
 * where it came from), and its answer goes back to whoever asked, if they
 * are still there.  Without a database, or with the broker down, the
 * executor answers at once with a DatabaseNotConfigured /
 * DatabaseUnavailable error in the broker's own answer format.
 *
 * The state is ex->db (From dblink_init(); freed by dblink_stop()).
 */
#ifndef PYSANDBOX_EXECUTOR_DBLINK_H
#define PYSANDBOX_EXECUTOR_DBLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "executor.h"
#include "sbuf.h"

/* Sets up ex->db and starts the broker when a database is configured.
 * Returns false only when out of memory. */
bool dblink_init(executor *ex);

/* Kills the broker and frees ex->db. */
void dblink_stop(executor *ex);

/* A jailed program's request (json, n bytes, copied): the answer goes to
 * child_db_answer(ch, ...), now or later. */
void dblink_submit_child(executor *ex, child *ch, const char *json, size_t n);

/* The front's XP_OP_DB request in cl (its payload's code bytes): answered
 * with client_reply(), now or later. */
void dblink_submit_client(executor *ex, client *cl);

/* Forgets ch or cl (either may be NULL): a request of theirs still queued
 * is dropped; an answer in flight is thrown away when it comes. */
void dblink_forget(executor *ex, const child *ch, const client *cl);

/* Whether a request for sandbox id (XP_SANDBOX_ID_LEN bytes) is queued or
 * in flight. */
bool dblink_sandbox_busy(const executor *ex, const char *id);

/* Handles epoll events on connection conn (an ex_src obj of kind SRC_DB). */
void dblink_on_event(executor *ex, void *conn, uint32_t events);

/* Whether pid was the broker (then it is restarted later). */
bool dblink_reaped(executor *ex, pid_t pid, int status);

/* When the broker is due to be started again; UINT64_MAX when not. */
uint64_t dblink_next_wakeup(const executor *ex);

/* Starts the broker again when it is due. */
void dblink_on_timer(executor *ex, uint64_t now);

/* Appends the "database" member of the health report: {"configured",
 * "kind", "broker", "queries", "failures"}. */
APP_MUST_CHECK app_err dblink_status_json(const executor *ex, sbuf *out);

#endif
