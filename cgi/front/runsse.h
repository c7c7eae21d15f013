/*
 * runsse.h - GET /api/python/executions/{id}/events: an asynchronous
 * execution's output and end as Server-Sent Events.
 *
 * The events are live output's (live.h), each with an id line so that a
 * browser's EventSource that reconnects (it sends Last-Event-ID) gets only
 * what it has not seen:
 *
 *   id: 1            event: stdout     data: "<the chunk, as a JSON string>"
 *   id: 2            event: stderr     data: "..."
 *   id: 3            event: result     data: {the answer in the shared schema}
 *
 * An output event's id is the number of the stored chunk it carries (1, 2,
 * ... in the order the run wrote them: runout.h); the last event, result
 * (completed) or error (failed or cancelled: data {"error": {code,
 * message}}), has the next number.  The ids are stable: a run's chunks are
 * numbered once, when stored, and never change.  The stored output is sent
 * first, then the run is followed until it ends (arun_follow), with a
 * comment line ": hb" after ARUN_EVENTS_HEARTBEAT_MS without an event.
 * A stream whose Last-Event-ID is the last event's id (or past it) of an
 * ended run answers 204 No Content, which tells EventSource to stop
 * reconnecting.  All SSE formatting is here; the run's logic is arun.h's.
 */
#ifndef PYSANDBOX_RUNSSE_H
#define PYSANDBOX_RUNSSE_H

#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "hist.h"
#include "http.h"

/* Longest Last-Event-ID accepted (the ids are decimal chunk numbers). */
#define RUNSSE_MAX_ID_DIGITS 18

/*
 * Answers the events of run id into resp (streamed through req->stream).
 * Returns APP_OK once the stream has begun and ended, or with resp a 204
 * when there was nothing left to send; otherwise the error to render, with
 * msg: APP_ENOTFOUND (unknown run), APP_EFIELD (a Last-Event-ID that is
 * not one of ours), APP_EUNAVAIL (no streaming here), APP_EDB.
 */
APP_MUST_CHECK app_err runsse_serve(const conf *c, hist *h, const char *id, const http_req *req,
                                    http_resp *resp, char *msg, size_t msglen);

#endif
