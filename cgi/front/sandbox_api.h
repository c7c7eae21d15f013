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

/*
 * Answers req (its path starts with "/sandbox") into resp.  x and db as
 * for exe_run_native (db may be NULL).  Returns APP_OK with resp filled, or
 * an error (with msg) for the caller to render as JSON; a wrong method
 * comes back as APP_EMETHOD with the allowed ones in allow.
 */
APP_MUST_CHECK app_err sbxapi_handle(const conf *c, exe_ctx *x, hist *db, const http_req *req,
                                     http_resp *resp, char *allow, size_t allowlen, char *msg,
                                     size_t msglen);

#endif
