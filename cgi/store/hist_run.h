/*
 * hist_run.h - asynchronous executions (POST /api/python/executions) in the
 * SQLite store (table async_executions).
 *
 * A row is one submitted run: its client key, status (queued, running,
 * completed, failed, cancelled), timestamps, the pid of the background
 * task running it, the code, data and requirements it runs (kept only
 * until it ends), the stateful sandbox it runs in (if any), the output its
 * task stored while it ran (table async_execution_output: chunks numbered
 * from 1 in the order written, kept with the row) and, once it ends, the
 * engine's answer (result JSON) or an error code and message.  The texts are the front's
 * (cgi/front/arun.c) and are stored as values, never read here.  Status changes are guarded by the
 * status they leave, so a cancelled row stays cancelled whatever its task writes later.  Every
 * function takes a handle from hist_open(); failures are APP_EDB with "database: <what>: <sqlite's
 * message>" in msg.
 */
#ifndef PYSANDBOX_HIST_RUN_H
#define PYSANDBOX_HIST_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "hist.h"
#include "sbuf.h"

/* An id is 32 lowercase hex characters (16 random bytes). */
#define HIST_RUN_ID_LEN 32
/* Longest sandbox id a row keeps (the front's are 32 hex characters). */
#define HIST_RUN_SANDBOX_MAX 64

typedef enum hist_run_status {
    HIST_RUN_QUEUED,    /* stored, its task not yet started */
    HIST_RUN_RUNNING,   /* its task took it (task_pid set) */
    HIST_RUN_COMPLETED, /* the engine answered (whatever the user code's status) */
    HIST_RUN_FAILED,    /* no engine answer: error code and message say why */
    HIST_RUN_CANCELLED, /* DELETEd while queued or running */
} hist_run_status;

/* "queued", "running", ...; static. */
const char *hist_run_status_name(hist_run_status s);

/* Whether s is queued or running. */
bool hist_run_active(hist_run_status s);

/* The caps hist_run_create() enforces (the front's named constants). */
typedef struct hist_run_caps {
    long client_active; /* queued + running rows of one client */
    long stored;        /* rows of any status */
    long long bytes;    /* sum of the rows' stored texts */
} hist_run_caps;

/*
 * Inserts a queued row for client, created now, with a new random id
 * (written to id[HIST_RUN_ID_LEN + 1]); code, data and requirements
 * (JSON text, or NULL) are kept until the run ends; sandbox (at most
 * HIST_RUN_SANDBOX_MAX bytes, or NULL) is the sandbox it runs in.  The caps are checked
 * in the same transaction: APP_ECLIENT_LIMIT when the client has
 * caps->client_active rows queued or running, APP_EBUSY when the store
 * holds caps->stored rows or caps->bytes bytes, each with a sentence in
 * msg.  Else APP_OK, APP_EIO (no randomness) or APP_EDB.
 */
APP_MUST_CHECK app_err hist_run_create(hist *h, uint64_t client, const hist_run_caps *caps,
                                       const char *code, size_t code_len, const char *data,
                                       size_t data_len, const char *requirements,
                                       const char *sandbox, char id[HIST_RUN_ID_LEN + 1], char *msg,
                                       size_t msglen);

/* One row as read.  Free its result with hist_run_row_free(). */
typedef struct hist_run_row {
    char id[HIST_RUN_ID_LEN + 1];
    uint64_t client;
    hist_run_status status;
    double created_at, started_at, finished_at; /* Unix seconds; < 0: not yet */
    long task_pid;                              /* 0: none recorded */
    char *result;                               /* From malloc(); the answer JSON, or NULL */
    size_t result_len;
    char error_code[32]; /* "" unless failed or cancelled */
    char error_message[APP_ERRMSG_LEN];
    char sandbox[HIST_RUN_SANDBOX_MAX + 1]; /* "" when it runs in none */
    long long chunks;                       /* output chunks stored: the last one's number */
    long long out_bytes, err_bytes;         /* stdout / stderr bytes stored */
    bool out_truncated, err_truncated;      /* some was left out (hist_run_output_add) */
} hist_run_row;

/* Frees a row's result (the struct itself is the caller's).  NULL-safe. */
void hist_run_row_free(hist_run_row *row);

/* Loads row id into *row (zeroed first; free it on APP_OK).  APP_ENOTFOUND
 * when unknown (or id is not HIST_RUN_ID_LEN long); APP_EDB; APP_ENOMEM. */
APP_MUST_CHECK app_err hist_run_get(hist *h, const char *id, hist_run_row *row, char *msg,
                                    size_t msglen);

/* Called for each output chunk a walk finds (borrowed data, for the call
 * only).  A result other than APP_OK stops the walk. */
typedef app_err (*hist_run_chunk_fn)(void *ctx, long long seq, bool is_stderr, const char *data,
                                     size_t len);

/*
 * Loads row id into *row as hist_run_get() does and, when fn is not NULL,
 * walks its output chunks numbered above after, in order, both in one read
 * transaction: a row read as ended comes with every chunk it will ever
 * have.  APP_OK; APP_ENOTFOUND; APP_EDB; APP_ENOMEM; or fn's first
 * failure (the row is filled then too: free it in every case but
 * APP_ENOTFOUND).
 */
APP_MUST_CHECK app_err hist_run_read(hist *h, const char *id, long long after, hist_run_row *row,
                                     hist_run_chunk_fn fn, void *ctx, char *msg, size_t msglen);

/* A piece of output to store (borrowed). */
typedef struct hist_run_piece {
    bool is_stderr;
    const char *data;
    size_t len;
} hist_run_piece;

/*
 * Stores n pieces of running run id's output, each as the next chunk, in
 * one transaction; its byte counts (and the store's byte total) grow by
 * their lengths, and truncated[0] / [1] (stdout / stderr: some was left
 * out) are remembered.  Nothing is stored once the run has ended, so an
 * ended run's chunks are final.  APP_OK (also then); APP_EDB.
 */
APP_MUST_CHECK app_err hist_run_output_add(hist *h, const char *id, const hist_run_piece *pieces,
                                           size_t n, const bool truncated[2], char *msg,
                                           size_t msglen);

/*
 * The task's start: moves a queued row to running with task_pid pid and
 * started_at now, and appends its code, data and requirements (empty when
 * none) to the caller's buffers; *client is its client key and sandbox
 * (HIST_RUN_SANDBOX_MAX + 1 bytes) the sandbox it runs in, "" for none.  APP_ENOTFOUND
 * when the row is not queued (cancelled, or started twice); APP_ETOOBIG /
 * APP_ENOMEM from a buffer; APP_EDB.
 */
APP_MUST_CHECK app_err hist_run_claim(hist *h, const char *id, long pid, uint64_t *client,
                                      char sandbox[HIST_RUN_SANDBOX_MAX + 1], sbuf *code,
                                      sbuf *data, sbuf *requirements, char *msg, size_t msglen);

/*
 * Ends a queued or running row now: completed with result (JSON, len
 * bytes), or failed with error_code and error_message (result NULL).  Its
 * code, data and requirements are dropped.  APP_OK also when the row had
 * already ended (a cancelled run stays cancelled); APP_EDB.
 */
APP_MUST_CHECK app_err hist_run_finish(hist *h, const char *id, hist_run_status status,
                                       const char *result, size_t len, const char *error_code,
                                       const char *error_message, char *msg, size_t msglen);

/*
 * hist_run_output_add() of the n pieces (and truncated flags) the run
 * wrote last, then hist_run_finish(), in one transaction.
 */
APP_MUST_CHECK app_err hist_run_finish_output(hist *h, const char *id, const hist_run_piece *pieces,
                                              size_t n, const bool truncated[2],
                                              hist_run_status status, const char *result,
                                              size_t len, const char *error_code,
                                              const char *error_message, char *msg, size_t msglen);

/*
 * Cancels a queued or running row now (error "cancelled"), dropping its
 * code and data.  *was is the status it had and *pid its task's pid (0:
 * none); a row that had already ended is left as it is.  APP_ENOTFOUND;
 * APP_EDB.
 */
APP_MUST_CHECK app_err hist_run_cancel(hist *h, const char *id, hist_run_status *was, long *pid,
                                       char *msg, size_t msglen);

/* Deletes a row and its output (a run whose task could not be started).
 * APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_run_delete(hist *h, const char *id, char *msg, size_t msglen);

/* Called for each queued or running row; borrowed id for the call only.
 * A result other than APP_OK stops the walk and is returned. */
typedef app_err (*hist_run_active_fn)(void *ctx, const char *id, hist_run_status status,
                                      long task_pid, double created_at);

/* Walks the queued and running rows, oldest first.  APP_OK, fn's first
 * failure, or APP_EDB. */
APP_MUST_CHECK app_err hist_run_active_each(hist *h, hist_run_active_fn fn, void *ctx, char *msg,
                                            size_t msglen);

/* Deletes the rows (and their output) that ended more than retention_s
 * seconds ago.  Failures are ignored: purging is housekeeping, retried
 * next call. */
void hist_run_purge(hist *h, double retention_s);

#endif
