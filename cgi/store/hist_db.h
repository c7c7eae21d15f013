/*
 * hist_db.h - the log of the agent database's queries (PYSANDBOX_AGENT_DB,
 * dbwire.h) in the SQLite store (table db_queries).
 *
 * The database broker writes one row per request it answers, whoever sent
 * it (a jailed program, the HTTP API, an MCP tool) and whatever the
 * outcome; GET /sandbox/{id}/database/log reads a sandbox's rows back.
 * The texts are the caller's and are stored as values, never read here:
 * params is JSON the caller computed (the parameters' shape, such as
 * {"id":"int"}, or their values when PYSANDBOX_STORE_CODE=1).  The table
 * keeps the newest HIST_DB_LOG_KEEP rows.  Every function takes a handle
 * from hist_open(); failures are APP_EDB with "database: <what>: <sqlite's
 * message>" in msg.
 */
#ifndef PYSANDBOX_HIST_DB_H
#define PYSANDBOX_HIST_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "hist.h"
#include "sbuf.h"

/* Rows kept: past it the oldest go (checked every HIST_DB_LOG_PRUNE_EVERY
 * rows, so the table never holds more). */
#define HIST_DB_LOG_KEEP 100000
#define HIST_DB_LOG_PRUNE_EVERY 1000
/* Bytes kept of each text (query, params, message); longer ones are cut at
 * a character boundary.  A cut params is no longer JSON: the list then
 * shows it as a string. */
#define HIST_DB_LOG_MAX_TEXT (64u * 1024)
/* Longest sandbox id and outcome a row takes (APP_EFIELD past them). */
#define HIST_DB_LOG_MAX_NAME 64
/* Bytes of JSON one list answers at most: it ends before the row that
 * would pass this (so with long texts it holds fewer than limit rows). */
#define HIST_DB_LOG_LIST_MAX (32u * 1024 * 1024)

typedef struct hist_db_entry {
    const char *sandbox; /* the sandbox's id, or NULL: a one-shot run's query */
    const char *origin;  /* "jail", "api" or "mcp" */
    const char *op;      /* "query", "tables" or "schema" */
    const char *query;   /* the SQL text (query), the table's name (schema), or NULL */
    size_t query_len;    /* bytes at query */
    const char *params;  /* JSON text (NUL-terminated), or NULL */
    int64_t rows;        /* rows answered; -1 when the request failed */
    bool truncated;      /* the answer was cut at a cap */
    double duration_ms;
    const char *outcome; /* "ok", or the error's type ("DatabaseReadOnly", ...) */
    const char *message; /* the error's message, or NULL */
} hist_db_entry;

/*
 * Stores e, stamped now.  Every HIST_DB_LOG_PRUNE_EVERY-th row also
 * deletes the oldest rows past HIST_DB_LOG_KEEP.  Returns APP_OK;
 * APP_EFIELD (with msg) for an origin or op not listed above, a missing
 * outcome, or a sandbox or outcome longer than HIST_DB_LOG_MAX_NAME;
 * APP_EDB.
 */
APP_MUST_CHECK app_err hist_db_log(hist *h, const hist_db_entry *e, char *msg, size_t msglen);

/*
 * Appends to out a JSON array of the newest rows of sandbox (NULL: the
 * one-shot runs' rows), newest first, at most limit (1..HIST_MAX_PAGE,
 * else APP_EFIELD):
 *   [{"at": "2024-05-01T12:00:00.123Z", "origin", "op", "query" (or null),
 *     "params" (the stored JSON as JSON; a string when it is not JSON; or
 *     null), "rows" (null when the request failed), "truncated",
 *     "duration_ms", "outcome", "message" (or null)}, ...]
 * ending early before HIST_DB_LOG_LIST_MAX bytes.  On failure out is left
 * as it was: APP_ETOOBIG / APP_ENOMEM from out, APP_EDB.
 */
APP_MUST_CHECK app_err hist_db_log_list(hist *h, const char *sandbox, unsigned limit, sbuf *out,
                                        char *msg, size_t msglen);

#endif
