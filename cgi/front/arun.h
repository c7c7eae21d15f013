/*
 * arun.h - asynchronous executions: POST /api/python/executions stores a
 * run and wakes the task pool for it; GET .../{id} reads it, with the
 * output written so far; GET .../{id}/events follows it (arun_follow);
 * DELETE .../{id} cancels it.
 *
 * The state lives only in the store (hist_run.h), so any FastCGI worker
 * answers for any run.  A run is executed by a spare of the task pool
 * (runpool.h, started by the FastCGI master with arun_pool_start()), a
 * process of its own named run-<the id's first 11 characters>, which takes
 * the row (queued -> running, with its pid), runs it with exe_run_native()
 * like POST /api/python/execute (in the stateful sandbox the request named,
 * if any), stores its output as it comes (runout.h) and then the engine's
 * answer.  Cancelling kills that process (SIGKILL): its connection to the
 * executor closes, and the executor kills the jailed job.  At most every
 * ARUN_HOUSEKEEP_MS each worker purges the runs ended more than
 * PYSANDBOX_EXECUTION_RETENTION ago and closes as failed ("the run was
 * lost") the runs whose task is gone; the run a request names is checked
 * every time.  Nothing here builds HTTP answers: the front renders the
 * JSON written here (status, events' data) and maps the app_err.  Every
 * string a caller passes is borrowed for the call; every buffer filled is
 * the caller's.
 */
#ifndef PYSANDBOX_ARUN_H
#define PYSANDBOX_ARUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "app.h"
#include "conf.h"
#include "hist.h"
#include "hist_run.h"
#include "sbuf.h"

/* Executions one client (xp_client_key) may have queued or running; one
 * more is APP_ECLIENT_LIMIT (429 client_limit). */
#define ARUN_CLIENT_MAX_ACTIVE 8
/* Executions the store holds (any status, until their retention ends), and
 * the bytes their code, data and results take; beyond either, a new one is
 * APP_EBUSY (429 busy). */
#define ARUN_MAX_STORED 1000
#define ARUN_MAX_STORED_BYTES (1024LL * 1024 * 1024)
/* How long a task retries while the executor, or the client's share of it,
 * is full (each try already waits PYSANDBOX_QUEUE_TIMEOUT in its queue). */
#define ARUN_BUSY_RETRY_S 60
/* Pause between those tries. */
#define ARUN_BUSY_SLEEP_MS 1000
/* Housekeeping (the retention purge, closing lost runs) runs at most this
 * often in each worker; the run a request names is checked every time. */
#define ARUN_HOUSEKEEP_MS 1000
/* Most lost runs closed per pass (the rest on the next passes). */
#define ARUN_REAP_BATCH 64
/* Cap of the executor's answer to the sandbox check of a submission. */
#define ARUN_SANDBOX_STATUS_MAX (64u * 1024)
/* The URL path of the runs; a run's is ARUN_PATH "/" id. */
#define ARUN_PATH "/api/python/executions"

/* Whether s has the shape of an id (HIST_RUN_ID_LEN lowercase hex).
 * arun_status_json() and arun_cancel() answer APP_ENOTFOUND for any other
 * id before touching the store (h may be NULL then). */
bool arun_id_ok(const char *s);

/* What a new run carries (borrowed for the call). */
typedef struct arun_request {
    const char *code; /* UTF-8, no NUL */
    size_t code_len;
    const char *data; /* JSON text */
    size_t data_len;
    const char *requirements; /* JSON text of the requirements object, or NULL */
    uint64_t client;          /* xp_client_key() of the caller */
    const char *sandbox;      /* run in this stateful sandbox (its id), or NULL */
} arun_request;

/*
 * Stores r as a queued run and wakes the task pool for it (runpool.h).  On
 * APP_OK, id (HIST_RUN_ID_LEN + 1 bytes) names it.  APP_ECLIENT_LIMIT /
 * APP_EBUSY over the caps above; APP_EUNAVAIL / APP_EBUSY / APP_EIO when
 * the pool cannot be told (the row is removed); APP_EDB; each with msg.
 */
APP_MUST_CHECK app_err arun_submit(const conf *c, hist *h, const arun_request *r, char *id,
                                   char *msg, size_t msglen);

/*
 * Appends run id as JSON: {id, status, createdAt, startedAt, finishedAt,
 * statusUrl, result, error}.  Timestamps are ISO-8601 UTC or null; result
 * is the engine's answer (shared schema) once completed, else null; error
 * is {code, message} when failed or cancelled, else null.  APP_ENOTFOUND
 * (unknown, malformed or past its retention); APP_EDB; APP_ENOMEM /
 * APP_ETOOBIG from out.
 */
APP_MUST_CHECK app_err arun_status_json(const conf *c, hist *h, const char *id, sbuf *out,
                                        char *msg, size_t msglen);

/*
 * Cancels run id when queued or running (its task is killed) and appends
 * its status JSON as arun_status_json does.  APP_ECONFLICT, with its status
 * in msg, when it had already ended; APP_ENOTFOUND; APP_EDB.
 */
APP_MUST_CHECK app_err arun_cancel(const conf *c, hist *h, const char *id, sbuf *out, char *msg,
                                   size_t msglen);

/* An events stream (arun_follow) sends a heartbeat after this much quiet,
 * so that proxies and browsers keep it open. */
#define ARUN_EVENTS_HEARTBEAT_MS 15000
/* A follower reads the store again when it was written (hist_watch), twice
 * more after such a wake, ARUN_EVENTS_SETTLE_MS and then
 * ARUN_EVENTS_SETTLE_LATE_MS later (the watch fires on a commit's log
 * write, microseconds before the commit is visible, unless the writer is
 * preempted in between), and at least every ARUN_EVENTS_RECHECK_MS anyway:
 * a task that died writes nothing, and a commit published later than the
 * settle times is seen then. */
#define ARUN_EVENTS_SETTLE_MS 1
#define ARUN_EVENTS_SETTLE_LATE_MS 10
#define ARUN_EVENTS_RECHECK_MS 250
/* Without hist_watch, how often a follower reads the store. */
#define ARUN_EVENTS_POLL_MS 100
/* Output a follower reads from the store at once (then sends, then reads
 * on): what an events stream holds in memory, as chunks and as JSON. */
#define ARUN_EVENTS_BATCH_BYTES (256u * 1024)
#define ARUN_EVENTS_BATCH_CHUNKS 64

/* The events of a run's stream, in the order sent: output chunks, then one
 * result (completed) or error (failed, cancelled); heartbeats between. */
typedef enum arun_event {
    ARUN_EV_STDOUT,
    ARUN_EV_STDERR,
    ARUN_EV_RESULT,
    ARUN_EV_ERROR,
    ARUN_EV_HEARTBEAT,
} arun_event;

/* "stdout", "stderr", "result", "error", "heartbeat"; static. */
const char *arun_event_name(arun_event ev);

/* Who receives a followed run's events (arun_follow). */
typedef struct arun_follower {
    /* Once, before the first event: false ends the follow (the client
     * cannot be answered). */
    bool (*begin)(void *ctx);
    /* One event: its id (a chunk's number; one past the last chunk for
     * the result or error; 0 for a heartbeat) and its data as JSON
     * (stdout/stderr: the chunk as a JSON string; result: the answer in
     * the shared schema; error: {"error": {code, message}}; heartbeat:
     * empty), borrowed for the call.  false: the client went away. */
    bool (*event)(void *ctx, arun_event ev, long long id, const char *json, size_t len);
    void *ctx;
} arun_follower;

/*
 * Follows run id for its events stream: sends each stored output chunk
 * numbered above after, then waits for more (hist_watch, or polling every
 * ARUN_EVENTS_POLL_MS), with a heartbeat after ARUN_EVENTS_HEARTBEAT_MS of
 * quiet, until the run ends: then its result or error is the last event.
 * Ends early when cancel_fd (or -1) becomes readable or an event is
 * refused (the client left).  APP_ENOTFOUND (nothing sent) as
 * arun_status_json; APP_OK otherwise, without begin when there was nothing
 * to send (the run ended and after is at or past its last event's id);
 * APP_EDB / APP_ENOMEM before begin (after it, a store failure ends the
 * stream and is logged).
 */
APP_MUST_CHECK app_err arun_follow(const conf *c, hist *h, const char *id, long long after,
                                   int cancel_fd, const arun_follower *f, char *msg, size_t msglen);

/* Starts the pool of execution tasks for settings c (borrowed for the
 * process's life): the FastCGI master calls it once runpool_init() made the
 * wake pipe, and again when the pid it returned exits.  Returns the
 * spawner's pid, or -1 (logged). */
pid_t arun_pool_start(const conf *c);

#endif
