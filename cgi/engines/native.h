/*
 * native.h - the jailed native engine, as the FastCGI front sees it.
 *
 * The engine itself is the pysandbox-executor process (executor_main.c);
 * this module turns a decoded request into its limits, sends the job over
 * the executor's socket (xclient.h) and returns the executor's answer,
 * which is already the complete result object of the shared schema.
 */
#ifndef PYSANDBOX_NATIVE_H
#define PYSANDBOX_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "conf.h"
#include "reqs.h"
#include "sbuf.h"
#include "xclient.h"

/* Largest request body of an execution endpoint: code escaped as JSON may
 * take up to six bytes per byte (\u0001), plus the data, plus slack. */
#define NATIVE_MAX_BODY (58u * 1024 * 1024)

typedef struct native_job {
    const char *code; /* UTF-8 without NUL */
    size_t code_len;
    const char *data; /* JSON text; in program mode, the program's stdin (any bytes) */
    size_t data_len;
    unsigned wall_ms;
    unsigned cpu_ms; /* CPU time of the whole jail; 0: none beyond wall_ms */
    unsigned memory_mb;
    bool program;     /* run as a plain program (Judge0 semantics), see harness.run */
    bool merge_stderr; /* program only: stderr into stdout's stream, in write order */
    bool trace;       /* step tracing (XP_FLAG_TRACE): the answer gains steps */
    bool insights;    /* findings about the data (XP_FLAG_INSIGHTS): the answer gains insights */
    uint64_t client;  /* xp_client_key() of the caller, or 0: not counted against a client */
    const char *sandbox; /* run in this sandbox (XP_SANDBOX_ID_LEN hex digits), or NULL */
    xc_output_fn on_output; /* the job's output as it comes (xclient.h), or NULL */
    void *output_ctx;
} native_job;

/* What a sandbox is made with (XP_OP_SANDBOX_CREATE). */
typedef struct native_sandbox_spec {
    unsigned wall_ms;   /* per execution */
    unsigned memory_mb; /* for its whole life */
    unsigned idle_s, life_s;
    const char *user;   /* the caller's user_id (at most XP_SANDBOX_USER_LEN - 1 bytes), or NULL */
} native_sandbox_spec;

/*
 * Derives the wall-time, CPU-time and memory limits of a job (job->wall_ms,
 * cpu_ms, memory_mb; nothing else is touched) from r and the server's
 * maxima in c: defaults when not given (no CPU-time limit beyond the wall
 * time), the requested values otherwise.  Returns APP_EREFUSED with a
 * sentence when r asks for more than this server allows (or for network
 * access, which the jail never has), or APP_EFIELD for values below the
 * minimum.
 */
APP_MUST_CHECK app_err native_limits(const conf *c, const reqs *r, native_job *job, char *msg,
                                     size_t msglen);

/*
 * Runs the job; cancel_fd (or -1) is watched for the HTTP client going
 * away.  On APP_OK, out holds the result JSON.  Errors: APP_EUNAVAIL (the
 * executor is not running), APP_EBUSY, APP_ECLIENT_LIMIT (job->client
 * already has PYSANDBOX_CLIENT_MAX_JOBS in progress), APP_ETIMEOUT, APP_EJAIL,
 * APP_EUPSTREAM, APP_ETOOBIG, APP_EIO (cancelled), each with msg.
 */
APP_MUST_CHECK app_err native_run(const conf *c, const native_job *job, int cancel_fd, sbuf *out, char *msg,
                   size_t msglen);

/* Appends the executor's health JSON to out; APP_EUNAVAIL when it is down. */
APP_MUST_CHECK app_err native_status(const conf *c, sbuf *out, char *msg, size_t msglen);

/*
 * Sends one sandbox request to the executor: op is XP_OP_SANDBOX_CREATE
 * (spec given, id NULL), _DELETE, _STATUS, _HISTORY (id given) or _LIST.
 * The answer's JSON is appended to out.  Returns the executor's error
 * (APP_ENOTFOUND, APP_EENDED, APP_EBUSY, ...) with its message in msg.
 */
APP_MUST_CHECK app_err native_sandbox(const conf *c, unsigned op, const char *id,
                                      const native_sandbox_spec *spec, uint64_t client, sbuf *out,
                                      char *msg, size_t msglen);

/*
 * Sends one database request (XP_OP_DB) to the executor: len bytes of
 * request JSON (dbwire.h: {"op": "query", "sql", "params"}, {"op":
 * "tables"}, {"op": "schema", "table"}), for sandbox_id's database
 * connection (XP_SANDBOX_ID_LEN hex digits; NULL: none, as a one-shot
 * run's), counted against client (xp_client_key(), or 0).  On APP_OK the
 * broker's answer is appended to out: {"ok": true, ...} or {"ok": false,
 * "error": {"type", "message"}} (a refused query is APP_OK too).  Errors
 * with msg: APP_ETOOBIG (len over DBW_MAX_REQUEST), APP_ENOTFOUND /
 * APP_EENDED (the sandbox), APP_ECONFLICT (a query of the sandbox's is in
 * flight), APP_EUNAVAIL (no database configured, or the executor or the
 * broker is down), APP_ETIMEOUT, APP_EUPSTREAM.  The wait is bounded by
 * the query's time limit (c->agent_db_timeout_ms), the queue's and a
 * margin.
 */
APP_MUST_CHECK app_err native_db(const conf *c, const char *sandbox_id, const char *json,
                                 size_t len, uint64_t client, sbuf *out, char *msg, size_t msglen);

#endif
