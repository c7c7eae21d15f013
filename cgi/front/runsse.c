/* runsse.c - an asynchronous execution's events as Server-Sent Events (see runsse.h). */
#include "runsse.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arun.h"
#include "sbuf.h"

/* Cap of one framed event: the largest event data arun_follow hands over
 * (a batch of escaped output, or a result up to its own cap) and the
 * field lines. */
#define RUNSSE_EVENT_MAX (HTTP_MAX_RESPONSE + 256)

typedef struct sse {
    const http_req *req;
    http_resp *resp;
    sbuf event; /* the event being framed */
    bool begun;
} sse;

static bool sse_begin(void *ctx)
{
    sse *s = ctx;
    s->begun = true;
    s->resp->status = 200;
    app_err err = http_resp_header(s->resp, "Content-Type", "text/event-stream; charset=utf-8");
    if (err == APP_OK)
        err = http_resp_header(s->resp, "Cache-Control", "no-store");
    if (err == APP_OK) /* nginx relays each event at once */
        err = http_resp_header(s->resp, "X-Accel-Buffering", "no");
    s->resp->streamed = 1;
    return err == APP_OK && s->req->stream->begin(s->req->stream->ctx, s->resp);
}

static bool sse_event(void *ctx, arun_event ev, long long id, const char *json, size_t len)
{
    sse *s = ctx;
    sbuf_reset(&s->event);
    app_err err;
    if (ev == ARUN_EV_HEARTBEAT) {
        err = sbuf_puts(&s->event, ": hb\n\n");
    } else {
        /* The data is one line: JSON text has no raw newline but a
         * stored answer's last one, which arun_follow leaves out. */
        err = sbuf_printf(&s->event, "id: %lld\nevent: %s\ndata: ", id, arun_event_name(ev));
        if (err == APP_OK)
            err = sbuf_append(&s->event, json, len);
        if (err == APP_OK)
            err = sbuf_puts(&s->event, "\n\n");
    }
    if (err != APP_OK) /* only memory: the client cannot be given this event, end the stream */
        return false;
    return s->req->stream->write(s->req->stream->ctx, s->event.data, s->event.len);
}

/* Reads Last-Event-ID ("" : 0, replay all) into *after. */
static APP_MUST_CHECK app_err last_event_id(const char *text, long long *after, char *msg,
                                            size_t msglen)
{
    size_t n = strlen(text);
    *after = 0;
    bool ok = n <= RUNSSE_MAX_ID_DIGITS;
    for (size_t i = 0; ok && i < n; i++) {
        ok = text[i] >= '0' && text[i] <= '9';
        *after = *after * 10 + (text[i] - '0');
    }
    if (!ok) {
        snprintf(msg, msglen,
                 "Last-Event-ID must be the id of an event this stream sent (a "
                 "number of at most %d digits)",
                 RUNSSE_MAX_ID_DIGITS);
        return APP_EFIELD;
    }
    return APP_OK;
}

app_err runsse_serve(const conf *c, hist *h, const char *id, const http_req *req, http_resp *resp,
                     char *msg, size_t msglen)
{
    long long after;
    app_err err =
        last_event_id(req->last_event_id != NULL ? req->last_event_id : "", &after, msg, msglen);
    if (err != APP_OK)
        return err;
    if (req->stream == NULL) {
        snprintf(msg, msglen, "this server cannot stream events");
        return APP_EUNAVAIL;
    }
    sse s = {.req = req, .resp = resp};
    sbuf_init(&s.event, RUNSSE_EVENT_MAX);
    const arun_follower f = {.begin = sse_begin, .event = sse_event, .ctx = &s};
    err = arun_follow(c, h, id, after, req->cancel_fd, &f, msg, msglen);
    sbuf_free(&s.event);
    if (err == APP_OK && !s.begun) /* nothing left: EventSource stops reconnecting */
        resp->status = 204;
    return err;
}
