/*
 * bg.h - running a task after the HTTP response, outside the worker.
 *
 * Asynchronous work (a Judge0-compatible submission with wait=false, a
 * server benchmark run) must outlive the request without holding a
 * FastCGI worker.  bg_spawn() double-forks: the task runs in a grandchild
 * that belongs to init, has /dev/null on fds 0 and 1, keeps fd 2 (the log)
 * and closes every other descriptor, so it holds neither the FastCGI
 * connection nor the listening socket.  The worker waits only for the
 * short-lived middle process.  The task must open its own resources
 * (database handle, sockets): nothing opened before the fork may be used.
 */
#ifndef PYSANDBOX_BG_H
#define PYSANDBOX_BG_H

#include <stddef.h>

#include "app.h"

/* Runs fn(arg) in a detached grandchild, which then exits.  arg is the
 * parent's memory, copied by fork: valid in the task, owned by no one
 * there.  Returns APP_OK once the task has started, APP_EIO with msg. */
app_err bg_spawn(void (*fn)(void *arg), void *arg, char *msg, size_t msglen);

#endif
