/*
 * j0api.h - a Judge0-compatible API served by our native engine.
 *
 * Existing Judge0 clients can point at <service>/judge0 and use this
 * service as a self-hosted Judge0 for Python: POST/GET /submissions (base64
 * or plain, wait true/false, fields), batch create/get, /languages,
 * /statuses, /about, /config_info, with Judge0's field names, status ids
 * and descriptions, units and error codes.  Submissions run in the native
 * engine in program mode (stdin in, exit code out) and are kept in the
 * SQLite store for HIST_SUBMISSION_TTL_S.
 */
#ifndef PYSANDBOX_J0API_H
#define PYSANDBOX_J0API_H

#include "conf.h"
#include "hist.h"
#include "http.h"

/* Handles any request whose path starts with /judge0/ and always leaves a
 * complete response (Judge0-style errors included).  db may be NULL when the
 * store could not be opened (submissions then fail with 503). */
void j0api_handle(const conf *c, hist *db, const http_req *req, http_resp *resp);

/* The background task of a wait=false submission (see bg.h): runs the
 * stored submission with this token and stores its result. */
APP_MUST_CHECK app_err j0api_task(const conf *c, const char *token);

#endif
