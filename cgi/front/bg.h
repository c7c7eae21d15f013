/*
 * bg.h - running a task after the HTTP response, outside the worker.
 *
 * Asynchronous work (a Judge0-compatible submission with wait=false, a
 * server benchmark run) must outlive the request without holding a
 * FastCGI worker.  bg_run_task() starts it as a fresh process: it
 * double-forks (the task belongs to init, not to the worker), puts
 * /dev/null on fds 0 and 1, keeps fd 2 (the log), closes every other
 * descriptor, and re-executes this program as
 *
 *     pysandbox-fcgi --task NAME ARG
 *
 * which loads the settings from the same environment and runs the task from
 * its own table (the program that owns --task owns the table: fcgi_main.c).
 * A fresh process matters: SQLite (like most libraries) must not be used
 * in a forked child of a process that had the database open.  A task
 * therefore carries no state but ARG; it reads what it needs from the
 * store.  The worker waits only for the short-lived middle process.
 */
#ifndef PYSANDBOX_BG_H
#define PYSANDBOX_BG_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* Longest task name and argument. */
#define BG_MAX_ARG 128

/* Starts task name with arg (short, [A-Za-z0-9_-]).  Returns APP_OK once
 * the task process exists, APP_EIO or APP_EFIELD with msg. */
/* The path of the running program (/proc/self/exe) into out (len bytes);
 * APP_EIO with msg when it cannot be read. */
APP_MUST_CHECK app_err bg_own_program(char *out, size_t len, char *msg, size_t msglen);

APP_MUST_CHECK app_err bg_run_task(const char *name, const char *arg, char *msg, size_t msglen);

/* Whether name or arg is acceptable as a task's name or argument: short,
 * [A-Za-z0-9_-] only (the task side checks its argv with it too). */
bool bg_arg_ok(const char *s);

#endif
