/*
 * sandbox_api.h - the HTTP face of stateful sandboxes (/sandbox/...).
 *
 *   POST   /sandbox/create          {user_id?, config?: {max_execution_time,
 *                                    max_memory_mb, idle_timeout, enable_debugging}}
 *                                    -> 201 the sandbox's description
 *   GET    /sandbox                 every sandbox, and the statistics
 *   GET    /sandbox/statistics      {active_sandboxes, total_executions,
 *                                    success_rate, average_execution_time, ...}
 *   POST   /sandbox/{id}/execute    {code, data?} -> the shared result schema
 *   POST   /sandbox/{id}/debug      {code, data?} -> the same, run under the step
 *                                    tracer: the answer gains steps, steps_truncated
 *   GET    /sandbox/{id}/status     its description
 *   GET    /sandbox/{id}/history    its last executions
 *   DELETE /sandbox/{id}            ends it at once
 *   POST   /sandbox/{id}/database/query   {query, params?} -> {success, columns,
 *                                    rows: [{column: value}], row_count, truncated,
 *                                    truncated_reason?, duration_ms}
 *   GET    /sandbox/{id}/database/schema  {database, tables: [{name, columns}],
 *                                    tables_truncated}; ?table=name: {table, columns}
 *   GET    /sandbox/{id}/database/log     ?limit=N: {sandbox_id, queries: [...]}
 *   GET    /sandbox/{id}/help/functions, /help/examples, /templates/{name},
 *          GET /sandbox/templates   help for agents (agent.h)
 *   POST   /sandbox/agent/quick-execute   {code, data?, config?}: a sandbox made,
 *                                    executed in once and ended; the execution's answer
 *   (POST /sandbox/agent/analyze-data is service.c's: the analyses are its)
 *
 * The database routes reach the agent's database (PYSANDBOX_AGENT_DB)
 * through the executor and its broker (native_db, dbwire.h), read-only;
 * a refusal of the database is an error answer with its "type"
 * (DatabaseReadOnly 422, DatabaseError and DatabaseLimit 400,
 * DatabaseTimeout 504, DatabaseUnavailable 503, DatabaseNotConfigured
 * 503 when PYSANDBOX_AGENT_DB is not set).  The log is the store's
 * (hist_db.h), written by the broker.
 *
 * The sandboxes themselves live in the executor (executor/sandbox.h); this
 * module validates requests, asks it (engines/native.h) and runs
 * executions through engines/execution.h, so they are recorded like every
 * run.  Errors are app_err values the front maps to statuses: 404 unknown
 * or expired, 410 ended (its state is lost), 409 busy, 429 too many.
 */
#ifndef PYSANDBOX_SANDBOX_API_H
#define PYSANDBOX_SANDBOX_API_H

#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "execution.h"
#include "hist.h"
#include "http.h"

/* The largest request body under /sandbox/: an execution's, as /api/python/execute. */
#define SBXAPI_MAX_BODY NATIVE_MAX_BODY
/* (A database query's body is at most DBW_MAX_REQUEST bytes and its SQL
 * text DBW_MAX_SQL: 413 past them.) */
/* Tables described by one schema answer; past it "tables_truncated": true. */
#define SBXAPI_DB_MAX_TABLES 200
/* Bytes of one query or schema answer as the front writes it (rows as
 * objects repeat their column names): rows or tables past it are left out
 * ("truncated": true with "truncated_reason": "bytes"; "tables_truncated":
 * true). */
#define SBXAPI_DB_MAX_ANSWER (32u * 1024 * 1024)
/* Queries GET .../database/log answers without ?limit= (at most HIST_MAX_PAGE). */
#define SBXAPI_DB_LOG_DEFAULT 50

/*
 * Answers req (its path starts with "/sandbox") into resp.  x and db as
 * for exe_run_native (db may be NULL).  Returns APP_OK with resp filled, or
 * an error (with msg) for the caller to render as JSON; a wrong method
 * comes back as APP_EMETHOD with the allowed ones in allow.
 */
APP_MUST_CHECK app_err sbxapi_handle(const conf *c, exe_ctx *x, hist *db, const http_req *req,
                                     http_resp *resp, char *allow, size_t allowlen, char *msg,
                                     size_t msglen);

/*
 * Answers the database route what ("query", "schema" or "log") of sandbox
 * (its id, checked; or NULL: the database without a sandbox, what a
 * one-shot run sees, "query" and "schema" only: the MCP tools reach it,
 * no HTTP route does).  Returns APP_OK with resp filled (a refusal of the
 * database included: an error answer with its type), or an error with
 * msg for the caller to render (APP_ENOTFOUND, APP_EENDED for the
 * sandbox, 400s for the body, ...); a wrong method is APP_EMETHOD with
 * the allowed ones in allow.
 */
APP_MUST_CHECK app_err sbxapi_database(const conf *c, hist *db, const char *sandbox,
                                       const char *what, const http_req *req, http_resp *resp,
                                       char *allow, size_t allowlen, char *msg, size_t msglen);

#endif
