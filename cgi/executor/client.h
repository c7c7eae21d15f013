/*
 * client.h - the executor's connections from the front (pysandbox-fcgi).
 *
 * A client is one accepted connection carrying one request (xproto.h): its
 * header and body are read, a status request is answered at once, a job is
 * queued until ex_dispatch() hands it to a child (child.h), and the answer
 * is written back before the connection is closed.  Each client is owned
 * by ex->clients from client_accept_all() until client_free(); the queue
 * (ex->queue_head) borrows the clients waiting for a child.
 */
#ifndef PYSANDBOX_EXECUTOR_CLIENT_H
#define PYSANDBOX_EXECUTOR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "executor.h"
#include "sbuf.h"
#include "xproto.h"

typedef enum client_state { CL_HEADER, CL_BODY, CL_QUEUED, CL_RUNNING, CL_REPLY } client_state;

/* Visible to child.c, which hands the payload to a child and answers the
 * client when its job ends; other modules go through the functions. */
struct client {
    ex_src ev;
    int fd;
    client_state state;
    xp_req_hdr hdr;      /* as received; checked */
    char *payload;       /* From malloc(): header + code + data, as sent to the child;
                            freed once the child has it */
    size_t need, got;
    sbuf reply;
    size_t sent;
    double queued_ms;    /* ex_now_ms_f() when the request was complete */
    child *child;        /* the child running its job, or NULL */
    struct client *next_queued;
    struct client *prev, *next; /* all clients */
};

/* Accepts every pending connection on ex->listen_fd (at most
 * EX_MAX_CLIENTS at once; more are closed at once). */
void client_accept_all(executor *ex);

/* Handles epoll events on the client's socket: reads the request, or
 * writes the answer.  May free cl. */
void client_on_event(executor *ex, client *cl, uint32_t events);

/* Starts sending the answer frame err + json (copied) to cl; frees cl when
 * the frame does not fit its buffer. */
void client_reply(executor *ex, client *cl, app_err err, const char *json, size_t len);

/* Sends n bytes of its job's stdout (or stderr) to cl now, as an output
 * frame, when it asked for them (XP_FLAG_STREAM) and its job runs. */
void client_stream(executor *ex, client *cl, bool is_stderr, const char *bytes, size_t n);

/* The same for any output frame kind (XP_FRAME_STEP: a traced step). */
void client_stream_frame(executor *ex, client *cl, uint32_t kind, const char *bytes, size_t n);

/* Answers cl with err and {"message": message}. */
void client_error(executor *ex, client *cl, app_err err, const char *message);

/* Takes cl off the job queue (nothing when it is not queued). */
void client_dequeue(executor *ex, client *cl);

/* When the oldest queued job stops waiting (UINT64_MAX when none is). */
uint64_t client_queue_deadline(const executor *ex);

/* Answers APP_EBUSY to the jobs that waited longer than the queue timeout. */
void client_expire_queued(executor *ex, uint64_t now);

/* Answers every queued job with err and message, and empties the queue. */
void client_refuse_queued(executor *ex, app_err err, const char *message);

/* Closes the connection and frees cl; a queued job is dropped and a running
 * one killed (the front went away).  NULL-safe. */
void client_free(executor *ex, client *cl);

#endif
