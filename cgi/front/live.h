/*
 * live.h - live output: a run's stdout and stderr as Server-Sent Events.
 *
 * A run endpoint asked with `Accept: text/event-stream` (and a glue that can
 * stream: http_req.stream) answers 200 `text/event-stream` at once, then
 *
 *   event: stdout            data: "<the chunk, as a JSON string>"
 *   event: stderr            data: "<...>"
 *   event: step              data: {one traced step, as in the answer's steps}
 *   event: result            data: {the whole answer in the shared schema}
 *
 * in the order the program wrote them, each as soon as the native engine
 * has it (step events only for a traced run: /sandbox/{id}/debug or
 * requirements.debug; a step comes on the jail's channel, not its stdout
 * pipe, so its place among the output events is close but not exact); a run that gets no answer ends with `event: error` and
 * `data: {"error": {"code", "message"}}`.  A chunk never splits a UTF-8
 * character (up to 3 bytes wait for the next chunk); bytes that are not
 * UTF-8 become U+FFFD, as in the answer.  When a write fails (the client
 * went away) the run is given up, which kills its job.  Without the header
 * nothing changes.
 */
#ifndef PYSANDBOX_LIVE_H
#define PYSANDBOX_LIVE_H

#include <stdbool.h>

#include "app.h"
#include "execution.h"
#include "hist.h"
#include "http.h"

/* Whether req asks for live output and can have it. */
bool live_wanted(const http_req *req);

/*
 * Runs er (exe_run_native, or exe_run when routed) with its output streamed
 * to req's client as events; the answer goes out as the last event.  resp
 * is marked streamed (nothing more to write).  Returns APP_OK once the
 * stream has begun (whatever the run's outcome, which the events carry),
 * or the error that kept it from beginning (resp untouched then).
 */
APP_MUST_CHECK app_err live_run(exe_ctx *x, hist *db, exe_request *er, bool routed,
                                const http_req *req, http_resp *resp);

#endif
