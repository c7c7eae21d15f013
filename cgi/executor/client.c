/* client.c - the executor's connections from the front: requests in, answers out. */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "dblink.h"
#include "jsonw.h"
#include "sandbox.h"
#include "status.h"

/* Most connections from the front at once. */
#define EX_MAX_CLIENTS 512u
/* Cap of an error answer's JSON; the messages are at most a few hundred bytes. */
#define CLIENT_ERROR_MAX 4096u
/* Cap of the health JSON (status.h): a few kilobytes in practice. */
#define CLIENT_STATUS_MAX (64u * 1024)

/* Drops the bytes of cl->reply already sent, keeping what is still to go. */
static void client_compact(client *cl)
{
    if (cl->sent >= cl->reply.len) {
        sbuf_reset(&cl->reply);
    } else if (cl->sent > 0) {
        memmove(cl->reply.data, cl->reply.data + cl->sent, cl->reply.len - cl->sent);
        cl->reply.len -= cl->sent;
        cl->reply.data[cl->reply.len] = '\0';
    }
    cl->sent = 0;
}

void client_reply(executor *ex, client *cl, app_err err, const char *json, size_t len)
{
    xp_resp_hdr h = {XP_MAGIC_RESP, (uint32_t)err, (uint32_t)len, XP_FRAME_RESULT};
    client_compact(cl); /* output frames of a streamed job may still be on their way */
    if (sbuf_append(&cl->reply, &h, sizeof h) != APP_OK ||
        sbuf_append(&cl->reply, json, len) != APP_OK) {
        client_free(ex, cl);
        return;
    }
    cl->state = CL_REPLY;
    ex_rewatch(ex, cl->fd, EPOLLOUT | EPOLLRDHUP, &cl->ev);
}

void client_stream(executor *ex, client *cl, bool is_stderr, const char *bytes, size_t n)
{
    client_stream_frame(ex, cl, is_stderr ? XP_FRAME_STDERR : XP_FRAME_STDOUT, bytes, n);
}

void client_stream_frame(executor *ex, client *cl, uint32_t kind, const char *bytes, size_t n)
{
    if ((cl->hdr.flags & XP_FLAG_STREAM) == 0 || cl->state != CL_RUNNING || n == 0)
        return;
    xp_resp_hdr h = {XP_MAGIC_RESP, APP_OK, (uint32_t)n, kind};
    client_compact(cl);
    size_t mark = cl->reply.len;
    if (sbuf_append(&cl->reply, &h, sizeof h) != APP_OK ||
        sbuf_append(&cl->reply, bytes, n) != APP_OK) {
        /* A front that stopped reading: the chunk is dropped here, not from
         * the answer, which carries all of the output anyway. */
        cl->reply.len = mark;
        return;
    }
    ex_rewatch(ex, cl->fd, EPOLLOUT | EPOLLRDHUP, &cl->ev);
}

void client_error(executor *ex, client *cl, app_err err, const char *message)
{
    /* Said instead when the message cannot be written: still valid JSON. */
    static const char unwritable[] = "{\"message\":\"the executor could not write its error message\"}";
    sbuf b;
    sbuf_init(&b, CLIENT_ERROR_MAX);
    app_err e = sbuf_puts(&b, "{\"message\":");
    if (e == APP_OK)
        e = jsonw_string(&b, message, strlen(message));
    if (e == APP_OK)
        e = sbuf_puts(&b, "}");
    if (e == APP_OK)
        client_reply(ex, cl, err, sbuf_str(&b), b.len);
    else
        client_reply(ex, cl, err, unwritable, sizeof unwritable - 1);
    sbuf_free(&b);
}

void client_dequeue(executor *ex, client *cl)
{
    client **pp = &ex->queue_head;
    client *prev = NULL;
    while (*pp != NULL && *pp != cl) {
        prev = *pp;
        pp = &(*pp)->next_queued;
    }
    if (*pp == cl) {
        *pp = cl->next_queued;
        if (ex->queue_tail == cl)
            ex->queue_tail = prev;
        ex->n_queued--;
    }
    cl->next_queued = NULL;
}

uint64_t client_queue_deadline(const executor *ex)
{
    if (ex->queue_head == NULL)
        return UINT64_MAX;
    return (uint64_t)ex->queue_head->queued_ms + ex->c.queue_timeout_ms;
}

void client_expire_queued(executor *ex, uint64_t now)
{
    while (ex->queue_head != NULL && client_queue_deadline(ex) <= now) {
        client *cl = ex->queue_head;
        client_dequeue(ex, cl);
        client_error(ex, cl, APP_EBUSY, "every native-engine slot stayed busy; retry later");
        ex->jobs_failed++;
    }
}

void client_refuse_queued(executor *ex, app_err err, const char *message)
{
    while (ex->queue_head != NULL) {
        client *cl = ex->queue_head;
        client_dequeue(ex, cl);
        client_error(ex, cl, err, message);
        ex->jobs_failed++;
    }
}

void client_free(executor *ex, client *cl)
{
    if (cl == NULL)
        return;
    if (cl->state == CL_QUEUED)
        client_dequeue(ex, cl);
    if (cl->child != NULL) {
        /* The client went away: its job must not go on. */
        cl->child->client = NULL;
        child_kill(cl->child, cl->child->verdict);
        cl->child = NULL;
    }
    dblink_forget(ex, NULL, cl);
    ex_close_fd(ex, &cl->fd);
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        ex->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    ex->n_clients--;
    free(cl->payload);
    sbuf_free(&cl->reply);
    free(cl);
}

/* Jobs of the given client queued or running now (cl itself not counted). */
static unsigned client_jobs_in_progress(const executor *ex, const client *cl)
{
    unsigned n = 0;
    for (const client *o = ex->clients; o != NULL; o = o->next)
        if (o != cl && o->hdr.client == cl->hdr.client &&
            (o->state == CL_QUEUED || o->state == CL_RUNNING))
            n++;
    return n;
}

/* Answers a status request with the health JSON, or with an error that
 * says why there is none (never a truncated document). */
static void client_answer_status(executor *ex, client *cl)
{
    sbuf b;
    sbuf_init(&b, CLIENT_STATUS_MAX);
    app_err e = status_json(ex, &b);
    if (e == APP_OK) {
        client_reply(ex, cl, APP_OK, sbuf_str(&b), b.len);
    } else {
        char msg[APP_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "the executor's status could not be written: %s",
                 app_strerror(e));
        client_error(ex, cl, APP_EINTERNAL, msg);
    }
    sbuf_free(&b);
}

static void client_request_complete(executor *ex, client *cl)
{
    cl->queued_ms = ex_now_ms_f();
    if (cl->hdr.op == XP_OP_STATUS) {
        client_answer_status(ex, cl);
        return;
    }
    if (sandbox_on_request(ex, cl))
        return; /* answered, or started in its sandbox */
    /* One client may hold only its share of the slots and the queue; the
     * others keep theirs (refused at once: waiting would hold a front
     * worker for nothing). */
    if (cl->hdr.client != 0 && client_jobs_in_progress(ex, cl) >= ex->c.client_max_jobs) {
        char msg[APP_ERRMSG_LEN];
        snprintf(msg, sizeof msg,
                 "this client already has %u native jobs running or queued, the most one client "
                 "may have (PYSANDBOX_CLIENT_MAX_JOBS); retry when one finishes",
                 ex->c.client_max_jobs);
        ex->jobs_refused_client++;
        client_error(ex, cl, APP_ECLIENT_LIMIT, msg);
        return;
    }
    ((xp_req_hdr *)cl->payload)->client = 0; /* the child need not know who asked */
    xp_req_hdr *payload = (xp_req_hdr *)cl->payload;
    /* Nor how the answer travels; but a traced, streamed job writes its
     * steps as they happen, for the client's step frames. */
    if ((payload->flags & (XP_FLAG_STREAM | XP_FLAG_TRACE)) == (XP_FLAG_STREAM | XP_FLAG_TRACE))
        payload->flags |= XP_FLAG_STEPS;
    payload->flags &= ~XP_FLAG_STREAM;
    cl->state = CL_QUEUED;
    if (ex->queue_tail != NULL)
        ex->queue_tail->next_queued = cl;
    else
        ex->queue_head = cl;
    ex->queue_tail = cl;
    ex->n_queued++;
    ex_rewatch(ex, cl->fd, EPOLLRDHUP, &cl->ev); /* only notice the front going away */
    ex_dispatch(ex);
}

static void client_readable(executor *ex, client *cl)
{
    for (;;) {
        char *dst;
        size_t want;
        if (cl->state == CL_HEADER) {
            dst = (char *)&cl->hdr + cl->got;
            want = sizeof cl->hdr - cl->got;
        } else if (cl->state == CL_BODY) {
            dst = cl->payload + cl->got;
            want = cl->need - cl->got;
        } else {
            char probe;
            ssize_t n = recv(cl->fd, &probe, 1, MSG_PEEK);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                client_free(ex, cl); /* gone: its queued or running job is dropped */
            return;
        }
        ssize_t n = want > 0 ? read(cl->fd, dst, want) : 0;
        if (want > 0 && n < 0 && errno == EINTR)
            continue;
        if (want > 0 && n < 0 && errno == EAGAIN)
            return;
        if (want > 0 && n <= 0) {
            client_free(ex, cl);
            return;
        }
        cl->got += (size_t)n;
        if (cl->state == CL_HEADER && cl->got == sizeof cl->hdr) {
            char msg[APP_ERRMSG_LEN];
            app_err e = xp_req_check(&cl->hdr, ex->c.max_wall_ms, ex->c.max_memory_mb, msg,
                                     sizeof msg);
            if (e != APP_OK) {
                client_error(ex, cl, e, msg);
                return;
            }
            cl->need = sizeof cl->hdr + cl->hdr.code_len + (size_t)cl->hdr.data_len;
            cl->payload = malloc(cl->need);
            if (cl->payload == NULL) {
                client_error(ex, cl, APP_ENOMEM, "out of memory");
                return;
            }
            memcpy(cl->payload, &cl->hdr, sizeof cl->hdr);
            cl->got = sizeof cl->hdr;
            cl->state = CL_BODY;
        }
        if (cl->state == CL_BODY && cl->got == cl->need) {
            client_request_complete(ex, cl);
            return;
        }
    }
}

static void client_writable(executor *ex, client *cl)
{
    while (cl->sent < cl->reply.len) {
        ssize_t n = send(cl->fd, cl->reply.data + cl->sent, cl->reply.len - cl->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            client_free(ex, cl); /* the front went away */
            return;
        }
        cl->sent += (size_t)n;
    }
    if (cl->state == CL_REPLY) {
        client_free(ex, cl); /* answered */
        return;
    }
    /* A streamed job's output is out; its answer comes later. */
    client_compact(cl);
    ex_rewatch(ex, cl->fd, EPOLLRDHUP, &cl->ev);
}

void client_on_event(executor *ex, client *cl, uint32_t events)
{
    if ((events & EPOLLOUT) && cl->sent < cl->reply.len)
        client_writable(ex, cl);
    else if (cl->state != CL_REPLY)
        client_readable(ex, cl);
}

void client_accept_all(executor *ex)
{
    for (;;) {
        int fd = accept4(ex->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (ex->n_clients >= EX_MAX_CLIENTS) {
            close(fd);
            continue;
        }
        client *cl = calloc(1, sizeof *cl);
        if (cl == NULL) {
            close(fd);
            continue;
        }
        cl->fd = fd;
        cl->state = CL_HEADER;
        sbuf_init(&cl->reply, sizeof(xp_resp_hdr) + XP_MAX_RESPONSE);
        cl->ev = (ex_src){SRC_CLIENT, cl};
        cl->next = ex->clients;
        if (ex->clients != NULL)
            ex->clients->prev = cl;
        ex->clients = cl;
        ex->n_clients++;
        ex_watch(ex, fd, EPOLLIN | EPOLLRDHUP, &cl->ev);
    }
}
