/* xclient.c - the FastCGI front's client for the executor socket. */
#include "xclient.h"

#include "jscan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How one request waits: until deadline, unless cancel_fd (nginx's
 * connection) reports the client gone; while a streamed job's frames are
 * awaited, with a heartbeat to on_output after heartbeat_ms of quiet. */
typedef struct xc_wait {
    int cancel_fd;
    long long deadline;
    xc_output_fn on_output; /* NULL: no heartbeats (yet) */
    void *ctx;
    unsigned heartbeat_ms;
    long long quiet_since;  /* the last frame or heartbeat */
} xc_wait;

/* Waits for events on fd.  Returns 1 ready, 0 timed out, -1 cancelled,
 * failed, or a heartbeat the caller's client did not take. */
static int wait_fd(int fd, short events, xc_wait *w)
{
    for (;;) {
        long long now = now_ms();
        long long left = w->deadline - now;
        if (left <= 0)
            return 0;
        if (w->on_output != NULL && w->heartbeat_ms > 0) {
            long long beat = w->quiet_since + w->heartbeat_ms - now;
            if (beat <= 0) {
                w->quiet_since = now;
                if (!w->on_output(w->ctx, XP_FRAME_STDOUT, NULL, 0))
                    return -1;
                continue;
            }
            if (beat < left)
                left = beat;
        }
        struct pollfd p[2] = {{fd, events, 0}, {w->cancel_fd, POLLIN | POLLRDHUP, 0}};
        int n = poll(p, w->cancel_fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        /* nginx sends nothing more after the request; any readiness on its
         * connection means it closed it (the HTTP client went away). */
        if (w->cancel_fd >= 0 && p[1].revents != 0)
            return -1;
        if (p[0].revents != 0)
            return 1;
    }
}

static APP_MUST_CHECK app_err send_all(int fd, const void *buf, size_t n, xc_wait *wt, char *msg,
                                       size_t msglen)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            int r = wait_fd(fd, POLLOUT, wt);
            if (r == 1)
                continue;
            snprintf(msg, msglen, r == 0 ? "the native engine did not accept the job in time"
                                         : "the request was cancelled");
            return r == 0 ? APP_ETIMEOUT : APP_EIO;
        }
        snprintf(msg, msglen, "the native engine closed the connection");
        return APP_EUNAVAIL;
    }
    return APP_OK;
}

static APP_MUST_CHECK app_err recv_all(int fd, void *buf, size_t n, xc_wait *wt, char *msg,
                                       size_t msglen)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN) {
            int w = wait_fd(fd, POLLIN, wt);
            if (w == 1)
                continue;
            snprintf(msg, msglen, w == 0 ? "the native engine did not answer in time"
                                         : "the request was cancelled");
            return w == 0 ? APP_ETIMEOUT : APP_EIO;
        }
        /* It died or restarted while holding our job. */
        snprintf(msg, msglen, "the native engine stopped before answering; retry");
        return APP_EUNAVAIL;
    }
    return APP_OK;
}

app_err xc_request(const char *socket_path, const xp_req_hdr *hdr, const char *code,
                   const char *data, unsigned timeout_ms, int cancel_fd, xc_output_fn on_output,
                   void *ctx, unsigned heartbeat_ms, sbuf *out, char *msg, size_t msglen)
{
    xc_wait wt = {.cancel_fd = cancel_fd, .deadline = now_ms() + timeout_ms, .ctx = ctx,
                  .heartbeat_ms = heartbeat_ms};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof sa.sun_path) {
        snprintf(msg, msglen, "the executor socket path is too long");
        return APP_ECONFIG;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(msg, msglen, "socket: %s", strerror(errno));
        return APP_EIO;
    }
    app_err err = APP_OK;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno == EAGAIN) {
            snprintf(msg, msglen, "the native engine is overloaded; retry shortly");
            err = APP_EBUSY;
        } else {
            snprintf(msg, msglen, "the native engine is not running (%s)", strerror(errno));
            err = APP_EUNAVAIL;
        }
        goto out;
    }
    err = send_all(fd, hdr, sizeof *hdr, &wt, msg, msglen);
    if (err == APP_OK && hdr->code_len > 0)
        err = send_all(fd, code, hdr->code_len, &wt, msg, msglen);
    if (err == APP_OK && hdr->data_len > 0)
        err = send_all(fd, data, (size_t)hdr->data_len, &wt, msg, msglen);
    xp_resp_hdr rh;
    char chunk[XP_MAX_STEP_FRAME]; /* a step frame arrives whole */
    wt.on_output = on_output; /* heartbeats from now on: the job is queued or runs */
    wt.quiet_since = now_ms();
    for (;;) { /* output frames of a streamed job, then the answer */
        if (err == APP_OK)
            err = recv_all(fd, &rh, sizeof rh, &wt, msg, msglen);
        if (err == APP_OK)
            err = xp_resp_check(&rh, msg, msglen);
        if (err != APP_OK || rh.kind == XP_FRAME_RESULT)
            break;
        if (rh.kind == XP_FRAME_STEP && rh.json_len > sizeof chunk) {
            snprintf(msg, msglen, "the executor sent a step larger than %u bytes", XP_MAX_STEP_FRAME);
            err = APP_EUPSTREAM; /* it caps them (child.c): a step is never split */
            break;
        }
        for (size_t left = rh.json_len; left > 0 && err == APP_OK;) {
            size_t n = left < sizeof chunk ? left : sizeof chunk;
            err = recv_all(fd, chunk, n, &wt, msg, msglen);
            if (err == APP_OK && on_output != NULL &&
                !on_output(ctx, rh.kind, chunk, n)) {
                snprintf(msg, msglen, "the client went away");
                err = APP_EIO;
            }
            left -= n;
        }
        wt.quiet_since = now_ms();
    }
    if (err != APP_OK)
        goto out;
    size_t start = out->len;
    size_t left = rh.json_len;
    while (left > 0 && err == APP_OK) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        err = recv_all(fd, chunk, n, &wt, msg, msglen);
        if (err == APP_OK && sbuf_append(out, chunk, n) != APP_OK) {
            snprintf(msg, msglen, "the native engine's answer is too large");
            err = APP_EUPSTREAM;
        }
        left -= n;
    }
    if (err == APP_OK && rh.err != APP_OK) {
        /* The executor refused the job; its answer is {"message": "..."}. */
        err = (app_err)rh.err;
        snprintf(msg, msglen, "the native engine refused the job");
        js_span root, k, v;
        char detail[APP_ERRMSG_LEN];
        const char *doc = out->data + start;
        if (js_validate(doc, out->len - start, &root, detail, sizeof detail) == APP_OK &&
            root.type == JS_OBJECT) {
            js_iter it;
            js_iter_init(&it, doc, root);
            while (js_iter_next(&it, &k, &v)) {
                sbuf text;
                sbuf_init(&text, msglen - 1);
                if (js_string_equals(doc, k, "message") && v.type == JS_STRING &&
                    js_string_decode(doc, v, &text, NULL) != APP_ENOMEM)
                    snprintf(msg, msglen, "%s", sbuf_str(&text));
                sbuf_free(&text);
            }
        }
        out->len = start;
    }
out:
    close(fd);
    return err;
}
