/*
 * hist-int.h - what the store's own files (hist.c, hist_j0.c, hist_run.c, hist_mcp.c) share and
 * nothing else may see: the handle's layout and the statement helpers.
 * Keeping it out of hist.h is what keeps the sqlite3 handle, and so all
 * SQL, inside cgi/store/.
 */
#ifndef PYSANDBOX_HIST_INT_H
#define PYSANDBOX_HIST_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "app.h"
#include "hist.h"

struct hist {
    sqlite3 *db; /* From sqlite3_open_v2(); closed by hist_close() */
};

/* Unix time now, in seconds with a fraction (what every timestamp column holds). */
double hist_now_s(void);

/* Writes "database: <what>: <sqlite's message>" to msg; returns APP_EDB. */
APP_MUST_CHECK app_err hist_db_fail(hist *h, char *msg, size_t msglen, const char *what);

/* Runs sql (statements without parameters: transactions, schema).
 * APP_OK, or APP_EDB with "database: <sqlite's message>" in msg. */
APP_MUST_CHECK app_err hist_exec(hist *h, const char *sql, char *msg, size_t msglen);

/* Prepares sql into *st (the caller binds, steps and finalises it).
 * APP_OK, or APP_EDB with "database: prepare <what>: ..." in msg. */
APP_MUST_CHECK app_err hist_prepare(hist *h, const char *sql, const char *what, sqlite3_stmt **st, char *msg,
                     size_t msglen);

/* Steps a statement that returns no rows, then finalises it.  APP_OK, or
 * APP_EDB with "database: <what>: ..." in msg. */
APP_MUST_CHECK app_err hist_step_done(hist *h, sqlite3_stmt *st, const char *what, char *msg, size_t msglen);

/* Binds text s (n bytes) or NULL as parameter i.  SQLITE_TRANSIENT: SQLite
 * takes a copy, because the caller's buffer may change after the call.
 * Returns sqlite's code. */
int hist_bind_text(sqlite3_stmt *st, int i, const char *s, size_t n);

/* hist_bind_text of a NUL-terminated string (or NULL). */
int hist_bind_str(sqlite3_stmt *st, int i, const char *s);

#endif
