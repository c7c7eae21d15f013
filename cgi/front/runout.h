/*
 * runout.h - an asynchronous execution's output, stored while it runs.
 *
 * The run's task gives runout_on_output() (an xc_output_fn) each piece of
 * its job's stdout and stderr as the executor forwards it.  The pieces wait
 * in memory and a thread of the task, with a store handle of its own (a
 * transaction of its own never mixes with the task's statements), writes
 * them (hist_run_output_add, one transaction for all that waits):
 * at once when nothing was written for RUNOUT_FLUSH_MS, else
 * RUNOUT_FLUSH_MS after the previous write, or sooner when
 * RUNOUT_FLUSH_BYTES or RUNOUT_MAX_PIECES wait.  So a chatty program costs
 * a few writes a second, not one per chunk, and no byte waits longer than
 * RUNOUT_FLUSH_MS.  A thread decides, not the callback: the callback runs
 * only when output comes, so a program that went quiet would otherwise
 * leave its last piece unwritten until it ends.
 *
 * Each stream keeps up to RUNOUT_STREAM_CAP bytes, the cap of the result's
 * own streams; a stream that reaches it is marked truncated and the rest
 * dropped (the executor stops a job whose stream passes the cap).  A
 * piece never ends inside a UTF-8 character (up to 3 bytes wait for the
 * stream's next piece), so every stored chunk reads as text on its own.
 * What waits when the job ends is stored by the task with the run's end
 * (runout_stop, one commit).  A store failure is logged and its pieces
 * dropped: the run's result still has all of its output.
 */
#ifndef PYSANDBOX_RUNOUT_H
#define PYSANDBOX_RUNOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "hist.h"
#include "hist_run.h"
#include "xproto.h"

/* Longest wait of a piece before it is written, and least time between
 * two writes. */
#define RUNOUT_FLUSH_MS 150
/* Bytes waiting that are written at once. */
#define RUNOUT_FLUSH_BYTES (64u * 1024)
/* Pieces waiting that are written at once (each is one stored chunk). */
#define RUNOUT_MAX_PIECES 256
/* Bytes kept of each stream: the result's cap (past it the job ends with
 * output_limit anyway). */
#define RUNOUT_STREAM_CAP XP_MAX_STREAM_BYTES

typedef struct runout runout;

/*
 * Starts the writer thread, which will store through h (a store handle
 * that only the thread uses until runout_stop; borrowed).  Made ahead of
 * the run (a thread's start cost a run about 1 ms): runout_begin names the
 * run.  APP_OK and *out; APP_ENOMEM or APP_EIO (no thread) with msg: runs
 * then go on without it.
 */
APP_MUST_CHECK app_err runout_new(hist *h, runout **out, char *msg, size_t msglen);

/* Names the running run whose output o stores, before its first piece. */
void runout_begin(runout *o, const char *id);

/* The xc_output_fn: keeps n bytes of stdout (or stderr) for the store.
 * bytes NULL or n 0 (a heartbeat), or a step, keeps nothing.  Always true: storing
 * never gives the job up. */
bool runout_on_output(void *ctx, unsigned kind, const char *bytes, size_t n);

/* Stops the thread (a write it began ends first) and hands the caller what
 * still waits, a character the program never finished too: *n pieces
 * (pointing into o, valid until runout_free) and the truncated flags, for
 * hist_run_finish_output() to store with the run's end in one commit.
 * o NULL: none. */
void runout_stop(runout *o, const hist_run_piece **pieces, size_t *n, bool truncated[2]);

/* Frees o (after runout_stop).  NULL-safe. */
void runout_free(runout *o);

#endif
