/*
 * dbq.h - one read-only connection of the database broker to the agent's
 * database (PYSANDBOX_AGENT_DB): a SQLite file or a PostgreSQL server.
 *
 * The broker (dbbroker_main.c) runs one thread per connection; a dbq is
 * used by one thread at a time.  Everything here treats the request as
 * hostile (it was written by a jailed program): read-only is enforced by
 * the database itself (SQLite: opened read-only, query_only, an authorizer
 * that allows reads only, defensive mode; PostgreSQL: every statement in a
 * READ ONLY transaction that is rolled back, a statement timeout), one
 * statement per query, rows and answer bytes capped.
 *
 * Answers are written as JSON members into a caller-owned sbuf (the
 * caller writes the braces around them), so the broker composes one frame
 * whatever the backend:
 *   query:  "columns":[names],"rows":[[values]...],"row_count":N,"truncated":bool
 *           (+ "truncated_reason":"rows"|"bytes" when truncated)
 *   tables: "tables":[names]            (user tables and views, sorted)
 *   schema: "table":name,"columns":[{"name","type","nullable","key"}]
 *           (key: "primary", or null)
 * Values: SQL NULL -> null, integers and finite floats -> numbers (an
 * infinite float -> 1e999 / -1e999, which JSON parsers read back as
 * infinities), text -> strings, SQLite BLOBs and PostgreSQL bytea ->
 * {"__type__":"bytes","base64":...}, PostgreSQL booleans -> true/false,
 * numeric -> its exact text as a number, other PostgreSQL types -> their
 * text form as a string.
 */
#ifndef PYSANDBOX_DBQ_H
#define PYSANDBOX_DBQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbwire.h"
#include "sbuf.h"

typedef struct dbq dbq;

/* Why a request failed; dbq_err_type() names each for the user. */
typedef enum dbq_err {
    DBQ_OK = 0,
    DBQ_EREADONLY,    /* "DatabaseReadOnly": the statement would write */
    DBQ_ETIMEOUT,     /* "DatabaseTimeout": the time cap passed */
    DBQ_ELIMIT,       /* "DatabaseLimit": a size or count cap of the request passed */
    DBQ_ESQL,         /* "DatabaseError": the database refused the statement */
    DBQ_EPARAM,       /* "DatabaseError": parameters do not match the statement */
    DBQ_ENOTFOUND,    /* "DatabaseError": no such table (db_schema) */
    DBQ_EUNAVAILABLE, /* "DatabaseUnavailable": cannot reach or open the database */
    DBQ_ENOMEM,       /* "DatabaseError": out of memory */
} dbq_err;

/* The exception name the harness raises for e ("DatabaseReadOnly", ...). */
const char *dbq_err_type(dbq_err e);

/* Per-query limits, from the broker's settings. */
typedef struct dbq_limits {
    unsigned max_rows;   /* rows returned; more: truncated */
    size_t max_bytes;    /* bytes of the "rows" member; more: truncated */
    unsigned timeout_ms; /* time the statement may run */
} dbq_limits;

/* Opens a connection to target: a path to a SQLite file, or a
 * "postgresql://" / "postgres://" URL.  Returns NULL with *err and a
 * sentence in msg when it cannot (DBQ_EUNAVAILABLE, DBQ_ENOMEM). */
dbq *dbq_open(const char *target, dbq_err *err, char *msg, size_t msglen);

/* Closes the connection. NULL-safe. */
void dbq_free(dbq *q);

/* "sqlite" or "postgresql". */
const char *dbq_kind(const dbq *q);

/* Whether target names a PostgreSQL server (else a SQLite file). */
bool dbq_target_is_postgres(const char *target);

/* Runs req (DBW_QUERY, DBW_TABLES or DBW_SCHEMA) and appends the answer's
 * members to out.  On failure out is left as it was, and msg holds a
 * sentence for the user (the database's own message where it has one). */
dbq_err dbq_run(dbq *q, const dbw_request *req, const dbq_limits *lim, sbuf *out, char *msg,
                size_t msglen);

/* Whether the connection is still usable after an error (PostgreSQL: the
 * server went away); the broker reopens it when not. */
bool dbq_usable(const dbq *q);

/* What dbq_serve() did, for the broker's log. */
typedef struct dbq_outcome {
    dbw_request req; /* the decoded request (dbq_outcome_free frees it) */
    bool decoded;    /* false: the request was malformed (req is empty) */
    dbq_err err;     /* DBQ_OK, or why it failed */
    long long rows;  /* rows answered; -1 when it failed */
    bool truncated;
    double duration_ms;           /* running it, decoding and answering included */
    char message[APP_ERRMSG_LEN]; /* the error's sentence, or "" */
} dbq_outcome;

/*
 * Serves one request: decodes its JSON (n bytes; hostile), runs it on q
 * and appends the whole answer object to out (whose cap should be
 * DBW_MAX_ANSWER): {"ok":true,...,"duration_ms":x} or
 * {"ok":false,"error":{"type":...,"message":...}}.  q NULL: the database
 * could not be opened (unavailable_msg says why).  Returns APP_OK, or
 * APP_ENOMEM when not even the error answer fits (out is then empty).
 */
APP_MUST_CHECK app_err dbq_serve(dbq *q, const char *unavailable_msg, const char *json, size_t n,
                                 const dbq_limits *lim, sbuf *out, dbq_outcome *o);

/* Frees what dbq_serve() left in o. NULL-safe. */
void dbq_outcome_free(dbq_outcome *o);

/* --- the two backends (dbq_sqlite.c, dbq_pg.c), behind dbq_open/dbq_run ---- */
typedef struct dbq_backend {
    const char *kind;
    void *(*open)(const char *target, dbq_err *err, char *msg, size_t msglen);
    void (*close)(void *conn);
    dbq_err (*run)(void *conn, const dbw_request *req, const dbq_limits *lim, sbuf *out, char *msg,
                   size_t msglen);
    bool (*usable)(const void *conn);
} dbq_backend;

extern const dbq_backend dbq_sqlite_backend;
extern const dbq_backend dbq_pg_backend;

/* Shared by the backends: appends a JSON number for an integer / a double
 * (infinities as 1e999 / -1e999, NaN as null) / bytes as the marked base64
 * object.  APP_ETOOBIG, APP_ENOMEM from out. */
APP_MUST_CHECK app_err dbq_put_int(sbuf *out, int64_t v);
APP_MUST_CHECK app_err dbq_put_real(sbuf *out, double v);
APP_MUST_CHECK app_err dbq_put_bytes(sbuf *out, const void *p, size_t n);

#endif
