/*
 * hist_j0.h - the Judge0-compatible API's submissions in the SQLite store
 * (table judge0_submissions).
 *
 * A row holds a submission's canonical request JSON, its Judge0 status id
 * and, once finished, its result JSON; the texts are the API's own
 * (cgi/front/judge0/) and are stored as values, never read here.  Rows
 * live HIST_SUBMISSION_TTL_S; hist_j0_purge() removes older ones and closes
 * lost runs.  Every function takes a handle from hist_open(); failures are
 * APP_EDB with "database: <what>: <sqlite's message>" in msg.
 */
#ifndef PYSANDBOX_HIST_J0_H
#define PYSANDBOX_HIST_J0_H

#include <stddef.h>

#include "app.h"
#include "hist.h"

/* A token's length (UUID v4 text); longer ones are never found. */
#define HIST_J0_TOKEN_LEN 36

/* One row.  Free its strings with hist_j0_row_free(). */
typedef struct hist_j0_row {
    char token[HIST_J0_TOKEN_LEN + 1];
    double created_at, finished_at; /* Unix seconds; finished_at < 0: not finished */
    long language_id;
    int status_id; /* as stored: the caller checks its range */
    char *request; /* From malloc(); the request JSON */
    size_t request_len;
    char *result; /* From malloc(); the result JSON, or NULL while unfinished */
    size_t result_len;
} hist_j0_row;

/* Frees a row's strings (the struct itself is the caller's). NULL-safe. */
void hist_j0_row_free(hist_j0_row *row);

/* Inserts a new, unfinished row created now.  APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_j0_insert(hist *h, const char *token, long language_id,
                                      const char *request, int status_id, char *msg, size_t msglen);

/* Loads a live row into *row (zeroed first; free it on APP_OK).
 * APP_ENOTFOUND when unknown or expired; APP_EDB; APP_ENOMEM. */
APP_MUST_CHECK app_err hist_j0_get(hist *h, const char *token, hist_j0_row *row, char *msg,
                                   size_t msglen);

/* Sets a row's status id (an unfinished row moving on).  APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_j0_set_status(hist *h, const char *token, int status_id, char *msg,
                                          size_t msglen);

/* Finishes a row now: its final status id and result JSON.  APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_j0_finish(hist *h, const char *token, int status_id, const char *result,
                                      char *msg, size_t msglen);

/* Deletes a row (a submission whose run could not be started).  APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_j0_delete(hist *h, const char *token, char *msg, size_t msglen);

/* Counts the rows In Queue or Processing (Judge0 status 1 or 2). */
APP_MUST_CHECK app_err hist_j0_queue_size(hist *h, long *n, char *msg, size_t msglen);

/* What hist_j0_count_by() groups the live rows by. */
typedef enum hist_j0_group {
    HIST_J0_BY_LANGUAGE, /* language_id */
    HIST_J0_BY_STATUS,   /* status_id */
    HIST_J0_BY_DAY,      /* the UTC day of created_at, as days since 1970-01-01 */
} hist_j0_group;

/* Called once per group, largest count first (ties by key). */
typedef void hist_j0_count_fn(void *ctx, long long key, long long count);

/* Counts the live rows per group (Judge0's /statistics).  APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_j0_count_by(hist *h, hist_j0_group by, hist_j0_count_fn *fn, void *ctx,
                                        char *msg, size_t msglen);

/* The store file's size in bytes (pages in use times the page size). */
APP_MUST_CHECK app_err hist_j0_store_bytes(hist *h, long long *bytes, char *msg, size_t msglen);

/* Deletes rows older than HIST_SUBMISSION_TTL_S and closes as Internal
 * Error (13, "the run was lost") rows still In Queue/Processing created more
 * than lost_after_s ago.  Failures are ignored: purging is housekeeping. */
void hist_j0_purge(hist *h, double lost_after_s);

#endif
