/* live.c - a run's output as Server-Sent Events, as it is written. */
#include "live.h"

#include <stdio.h>
#include <string.h>

#include "jsonw.h"

/* Cap of one event: an output frame (at most XP_MAX_STREAM_BYTES) escaped
 * up to 6 bytes per byte, plus the field names. */
#define LIVE_EVENT_MAX (6u * XP_MAX_STREAM_BYTES + 256)

typedef struct live {
    const http_stream *stream;
    bool gone;          /* a write failed: the client went away */
    char held[2][4];    /* per stream, the start of a UTF-8 character cut by the frame */
    size_t nheld[2];
    sbuf event;
} live;

bool live_wanted(const http_req *req)
{
    return req->stream != NULL && req->accept != NULL &&
           strstr(req->accept, "text/event-stream") != NULL;
}

static bool send_event(live *lv, const char *name, const char *data, size_t n, bool as_string)
{
    sbuf_reset(&lv->event);
    app_err err = sbuf_printf(&lv->event, "event: %s\ndata: ", name);
    if (err == APP_OK)
        err = as_string ? jsonw_string(&lv->event, data, n) : sbuf_append(&lv->event, data, n);
    if (err == APP_OK)
        err = sbuf_puts(&lv->event, "\n\n");
    if (err != APP_OK)
        return true; /* only memory: this event is lost, the answer still carries it */
    if (!lv->stream->write(lv->stream->ctx, lv->event.data, lv->event.len))
        lv->gone = true;
    return !lv->gone;
}

/* How many of the n bytes at p end in complete UTF-8 characters (the rest,
 * at most 3, may be the start of one the next chunk completes). */
static size_t complete_prefix(const char *p, size_t n)
{
    size_t back = 0;
    while (back < 3 && back < n && ((unsigned char)p[n - 1 - back] & 0xC0) == 0x80)
        back++;
    if (back < n) {
        unsigned char lead = (unsigned char)p[n - 1 - back];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (lead >= 0xC0 && need > back + 1)
            return n - back - 1;
    }
    return n;
}

static bool on_output(void *ctx, unsigned kind, const char *bytes, size_t n)
{
    live *lv = ctx;
    bool is_stderr = kind == XP_FRAME_STDERR;
    if (bytes == NULL) { /* quiet for a while: a comment keeps proxies from closing the stream */
        static const char beat[] = ": hb\n\n";
        if (!lv->stream->write(lv->stream->ctx, beat, sizeof beat - 1))
            lv->gone = true;
        return !lv->gone;
    }
    if (kind == XP_FRAME_STEP) /* one whole JSON object, filtered by the executor */
        return send_event(lv, "step", bytes, n, false);
    int k = is_stderr ? 1 : 0;
    char joined[65536 + 4];
    size_t len = 0;
    /* Frames arrive in pieces of at most 64 KiB (xclient.c). */
    if (lv->nheld[k] + n > sizeof joined)
        n = sizeof joined - lv->nheld[k];
    memcpy(joined, lv->held[k], lv->nheld[k]);
    memcpy(joined + lv->nheld[k], bytes, n);
    len = lv->nheld[k] + n;
    size_t whole = complete_prefix(joined, len);
    lv->nheld[k] = len - whole;
    memcpy(lv->held[k], joined + whole, lv->nheld[k]);
    if (whole == 0)
        return true;
    return send_event(lv, is_stderr ? "stderr" : "stdout", joined, whole, true);
}

app_err live_run(exe_ctx *x, hist *db, exe_request *er, bool routed, const http_req *req,
                 http_resp *resp)
{
    resp->status = 200;
    app_err err = http_resp_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cache-Control", "no-store");
    if (err == APP_OK) /* nginx relays each event at once */
        err = http_resp_header(resp, "X-Accel-Buffering", "no");
    if (err != APP_OK)
        return err;
    live lv = {.stream = req->stream};
    sbuf_init(&lv.event, LIVE_EVENT_MAX);
    resp->streamed = 1;
    if (!req->stream->begin(req->stream->ctx, resp)) {
        sbuf_free(&lv.event);
        return APP_OK; /* gone before anything ran */
    }
    er->on_output = on_output;
    er->output_ctx = &lv;
    exe_answer a;
    if (routed)
        exe_run(x, db, er, &a);
    else
        exe_run_native(x, db, er, &a);
    for (int k = 0; k < 2 && !lv.gone; k++) /* a character the program never finished */
        if (lv.nheld[k] > 0)
            send_event(&lv, k ? "stderr" : "stdout", lv.held[k], lv.nheld[k], true);
    if (!lv.gone && a.err == APP_OK) {
        size_t n = a.result.len;
        while (n > 0 && (a.result.data[n - 1] == '\n' || a.result.data[n - 1] == ' '))
            n--; /* one line: the composed JSON has no other raw newline */
        send_event(&lv, "result", a.result.data, n, false);
    } else if (!lv.gone) {
        sbuf e;
        sbuf_init(&e, EXE_MAX_DETAIL + 1024);
        app_err werr = sbuf_printf(&e, "{\"error\":{\"code\":\"%s\",\"message\":",
                                   app_errcode(a.err));
        if (werr == APP_OK)
            werr = jsonw_string(&e, a.message, strlen(a.message));
        if (werr == APP_OK && a.detail_name != NULL)
            werr = sbuf_printf(&e, ",\"%s\":%s", a.detail_name, sbuf_str(&a.detail));
        if (werr == APP_OK)
            werr = sbuf_puts(&e, "}}");
        if (werr == APP_OK)
            send_event(&lv, "error", e.data, e.len, false);
        sbuf_free(&e);
    }
    exe_answer_free(&a);
    sbuf_free(&lv.event);
    return APP_OK;
}
