/*
 * xclient.h - the FastCGI front's client for the executor socket.
 *
 * One blocking call per request: connect, send the job, wait for the
 * answer.  The wait ends at a deadline (the job's wall limit plus the
 * executor's queue timeout plus a margin), or early when cancel_fd (the
 * FastCGI connection to nginx) reports that the HTTP client went away; the
 * connection to the executor is then closed, which makes the executor kill
 * the job.  No FastCGI types appear here: cancel_fd is a plain descriptor.
 */
#ifndef PYSANDBOX_XCLIENT_H
#define PYSANDBOX_XCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "sbuf.h"
#include "xproto.h"

/* Time allowed on top of the job's own limits before the front gives up. */
#define XC_MARGIN_MS 5000u

/* Receives a streamed job's output as it comes: kind XP_FRAME_STDOUT or
 * XP_FRAME_STDERR with n bytes of its stdout or stderr, any bytes, or
 * XP_FRAME_STEP with one traced step's whole JSON object; or, with bytes
 * NULL and n 0, a heartbeat: nothing came for heartbeat_ms (a stream can
 * say it is still alive).  Returning false gives the job up (the caller's
 * client went away): the request ends with APP_EIO. */
typedef bool (*xc_output_fn)(void *ctx, unsigned kind, const char *bytes, size_t n);

/*
 * Sends one request (hdr, then code_len bytes of code, then data_len bytes
 * of data) to the executor listening at socket_path and waits up to
 * timeout_ms for the answer, which is appended to out (its cap bounds it).
 * Returns the executor's app_err for the request (APP_OK: out holds the
 * result JSON; otherwise out holds {"message": ...}), or APP_EUNAVAIL (no
 * executor), APP_ETIMEOUT, APP_EUPSTREAM (malformed answer), APP_EIO
 * (cancelled: the client went away) with a sentence in msg.  With
 * on_output (hdr asks XP_FLAG_STREAM) the job's output frames go to it as
 * they arrive, before the answer, and a heartbeat after each heartbeat_ms
 * without one (0: none).
 */
APP_MUST_CHECK app_err xc_request(const char *socket_path, const xp_req_hdr *hdr, const char *code,
                                  const char *data, unsigned timeout_ms, int cancel_fd,
                                  xc_output_fn on_output, void *ctx, unsigned heartbeat_ms,
                                  sbuf *out, char *msg, size_t msglen);

#endif
