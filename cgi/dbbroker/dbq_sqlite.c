/*
 * dbq_sqlite.c - the SQLite backend of dbq.h.
 *
 * Read-only is enforced by SQLite itself, four times over: the file is
 * opened SQLITE_OPEN_READONLY (a write fails with SQLITE_READONLY), the
 * connection has PRAGMA query_only on, an authorizer allows only reading
 * (SELECT, READ, functions other than the few with side effects, recursive
 * CTEs, and the PRAGMAs that describe tables), and a prepared statement
 * that is not sqlite3_stmt_readonly() is refused before it runs.  Defensive
 * mode is on and the schema is not trusted (no functions with side effects
 * run from views or triggers of a file we did not make).  Time is bounded
 * by a progress handler, size by sqlite3_limit() and a heap limit.
 */
#include "dbq.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"

/* SQLite VM instructions between two looks at the clock. */
#define SQ_PROGRESS_OPS 1000
/* Heap all SQLite connections of the broker may use together. */
#define SQ_HEAP_LIMIT (256ll * 1024 * 1024)
/* Deepest expression a statement may hold. */
#define SQ_MAX_EXPR_DEPTH 200

typedef struct sq_conn {
    sqlite3 *db;
    struct timespec deadline;
    bool timed_out;
    char denied[96]; /* what the authorizer refused in this request, or "" */
} sq_conn;

/* --- the authorizer -------------------------------------------------------- */

/* PRAGMAs that only describe the schema. */
static const char *const sq_read_pragmas[] = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
};

/* Functions with effects beyond their answer. */
static const char *const sq_denied_functions[] = {
    "load_extension", "fts3_tokenizer", "readfile", "writefile", "edit",
};

static bool sq_in(const char *name, const char *const *list, size_t n)
{
    if (name == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (sqlite3_stricmp(name, list[i]) == 0)
            return true;
    return false;
}

/* Names the actions a write or an escape would need, for the error. */
static const char *sq_action_name(int action)
{
    switch (action) {
    case SQLITE_INSERT:
        return "INSERT";
    case SQLITE_UPDATE:
        return "UPDATE";
    case SQLITE_DELETE:
        return "DELETE";
    case SQLITE_ATTACH:
        return "ATTACH";
    case SQLITE_DETACH:
        return "DETACH";
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return "a transaction statement";
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_VTABLE:
        return "CREATE";
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_VTABLE:
        return "DROP";
    case SQLITE_ALTER_TABLE:
        return "ALTER TABLE";
    case SQLITE_REINDEX:
        return "REINDEX";
    case SQLITE_ANALYZE:
        return "ANALYZE";
    default:
        return "this statement";
    }
}

static int sq_authorize(void *arg, int action, const char *a3, const char *a4, const char *db,
                        const char *trigger)
{
    sq_conn *c = arg;
    (void)db, (void)trigger;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION: /* the function's name is the fourth argument */
        if (!sq_in(a4, sq_denied_functions,
                   sizeof sq_denied_functions / sizeof sq_denied_functions[0]))
            return SQLITE_OK;
        snprintf(c->denied, sizeof c->denied, "the function %.40s", a4);
        return SQLITE_DENY;
    case SQLITE_PRAGMA:
        if (sq_in(a3, sq_read_pragmas, sizeof sq_read_pragmas / sizeof sq_read_pragmas[0]))
            return SQLITE_OK;
        snprintf(c->denied, sizeof c->denied, "PRAGMA %.40s", a3 ? a3 : "");
        return SQLITE_DENY;
    default:
        if (c->denied[0] != '\0')
            return SQLITE_DENY;
        /* CREATE and DROP first ask to change the schema table itself. */
        if (a3 != NULL &&
            (strcmp(a3, "sqlite_master") == 0 || strcmp(a3, "sqlite_temp_master") == 0))
            snprintf(c->denied, sizeof c->denied, "changing the schema (CREATE, DROP, ALTER)");
        else
            snprintf(c->denied, sizeof c->denied, "%s", sq_action_name(action));
        return SQLITE_DENY;
    }
}

/* --- time --------------------------------------------------------------------- */

static int sq_progress(void *arg)
{
    sq_conn *c = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > c->deadline.tv_sec ||
        (now.tv_sec == c->deadline.tv_sec && now.tv_nsec >= c->deadline.tv_nsec)) {
        c->timed_out = true;
        return 1;
    }
    return 0;
}

static void sq_arm(sq_conn *c, unsigned timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, &c->deadline);
    c->deadline.tv_sec += timeout_ms / 1000;
    c->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (c->deadline.tv_nsec >= 1000000000L) {
        c->deadline.tv_sec++;
        c->deadline.tv_nsec -= 1000000000L;
    }
    c->timed_out = false;
    c->denied[0] = '\0';
}

/* --- opening -------------------------------------------------------------------- */

static void sq_close(void *conn)
{
    sq_conn *c = conn;
    if (c == NULL)
        return;
    sqlite3_close_v2(c->db);
    free(c);
}

static bool sq_configure(sq_conn *c, char *msg, size_t msglen)
{
    sqlite3 *db = c->db;
    static const struct {
        int op, value;
    } flags[] = {
        {SQLITE_DBCONFIG_DEFENSIVE, 1},
        {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
        {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        int now = -1;
        if (sqlite3_db_config(db, flags[i].op, flags[i].value, &now) != SQLITE_OK ||
            now != flags[i].value) {
            snprintf(msg, msglen, "cannot configure the SQLite connection");
            return false;
        }
    }
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)DBW_MAX_ANSWER);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, (int)DBW_MAX_SQL);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, (int)DBW_MAX_PARAMS);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, SQ_MAX_EXPR_DEPTH);
    sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0);
    char *err = NULL;
    if (sqlite3_exec(db, "PRAGMA query_only = ON", NULL, NULL, &err) != SQLITE_OK) {
        snprintf(msg, msglen, "cannot make the SQLite connection query-only: %s", err ? err : "?");
        sqlite3_free(err);
        return false;
    }
    if (sqlite3_set_authorizer(db, sq_authorize, c) != SQLITE_OK) {
        snprintf(msg, msglen, "cannot install the SQLite authorizer");
        return false;
    }
    sqlite3_progress_handler(db, SQ_PROGRESS_OPS, sq_progress, c);
    return true;
}

static void *sq_open(const char *target, dbq_err *err, char *msg, size_t msglen)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        *err = DBQ_ENOMEM;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    sqlite3_hard_heap_limit64(SQ_HEAP_LIMIT);
    int rc = sqlite3_open_v2(target, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        *err = DBQ_EUNAVAILABLE;
        snprintf(msg, msglen, "cannot open the SQLite database: %s",
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sq_close(c);
        return NULL;
    }
    if (!sq_configure(c, msg, msglen)) {
        *err = DBQ_EUNAVAILABLE;
        sq_close(c);
        return NULL;
    }
    return c;
}

static bool sq_usable(const void *conn)
{
    return conn != NULL;
}

/* --- running ---------------------------------------------------------------------- */

/* What a failed SQLite call means for the user. */
static dbq_err sq_error(sq_conn *c, int rc, char *msg, size_t msglen)
{
    int primary = rc & 0xff;
    if (c->timed_out || primary == SQLITE_INTERRUPT) {
        snprintf(msg, msglen, "the query ran longer than its time limit");
        return DBQ_ETIMEOUT;
    }
    const char *text = sqlite3_errmsg(c->db);
    if (c->denied[0] != '\0' || primary == SQLITE_AUTH) {
        snprintf(msg, msglen,
                 "database access is read-only: %s is not allowed (only reading "
                 "statements run)",
                 c->denied[0] ? c->denied : "this statement");
        return DBQ_EREADONLY;
    }
    switch (primary) {
    case SQLITE_READONLY:
        snprintf(msg, msglen, "database access is read-only: %s", text);
        return DBQ_EREADONLY;
    case SQLITE_TOOBIG:
        snprintf(msg, msglen, "%s", text);
        return DBQ_ELIMIT;
    case SQLITE_NOMEM:
        snprintf(msg, msglen, "the query needed more memory than the broker allows");
        return DBQ_ELIMIT;
    case SQLITE_RANGE:
        snprintf(msg, msglen, "%s", text);
        return DBQ_EPARAM;
    default:
        snprintf(msg, msglen, "%s", text);
        return DBQ_ESQL;
    }
}

/* Prepares the one statement of sql; anything but blanks and comments
 * after it is refused. */
static dbq_err sq_prepare(sq_conn *c, const char *sql, size_t len, sqlite3_stmt **st, char *msg,
                          size_t msglen)
{
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, (int)len, 0, st, &tail);
    if (rc != SQLITE_OK)
        return sq_error(c, rc, msg, msglen);
    if (*st == NULL) {
        snprintf(msg, msglen, "the SQL text holds no statement");
        return DBQ_ESQL;
    }
    const char *end = sql + len;
    while (tail != NULL && tail < end) {
        sqlite3_stmt *next = NULL;
        const char *after = NULL;
        rc = sqlite3_prepare_v3(c->db, tail, (int)(end - tail), 0, &next, &after);
        sqlite3_finalize(next);
        if (rc != SQLITE_OK || next != NULL) {
            sqlite3_finalize(*st);
            *st = NULL;
            snprintf(msg, msglen, "one statement per query: remove what follows the first ';'");
            return DBQ_ESQL;
        }
        if (after == tail)
            break;
        tail = after;
    }
    /* A second check after the authorizer's; and a statement that answers
     * no columns (REINDEX, VACUUM, ...) is no query: only queries run. */
    if (!sqlite3_stmt_readonly(*st) || sqlite3_column_count(*st) == 0) {
        sqlite3_finalize(*st);
        *st = NULL;
        snprintf(msg, msglen,
                 "database access is read-only: only statements that return rows "
                 "run");
        return DBQ_EREADONLY;
    }
    return DBQ_OK;
}

static int sq_bind_one(sqlite3_stmt *st, int idx, const dbw_param *p)
{
    switch (p->type) {
    case DBW_NULL:
        return sqlite3_bind_null(st, idx);
    case DBW_BOOL:
    case DBW_INT:
        return sqlite3_bind_int64(st, idx, p->i);
    case DBW_REAL:
        return sqlite3_bind_double(st, idx, p->r);
    case DBW_TEXT:
        return sqlite3_bind_text64(st, idx, p->text, p->len, SQLITE_STATIC, SQLITE_UTF8);
    }
    return SQLITE_MISUSE;
}

/* Binds every parameter: by name (":name", "@name" or "$name" in the SQL)
 * or by position; a parameter of the statement left without a value, a
 * value for a name the statement does not have, or a wrong count, fails. */
static dbq_err sq_bind(sq_conn *c, sqlite3_stmt *st, const dbw_request *req, char *msg,
                       size_t msglen)
{
    int count = sqlite3_bind_parameter_count(st);
    if (!req->named) {
        if ((size_t)count != req->nparams) {
            snprintf(msg, msglen, "the statement takes %d parameter%s, %zu given", count,
                     count == 1 ? "" : "s", req->nparams);
            return DBQ_EPARAM;
        }
        for (int i = 0; i < count; i++) {
            int rc = sq_bind_one(st, i + 1, &req->params[i]);
            if (rc != SQLITE_OK)
                return sq_error(c, rc, msg, msglen);
        }
        return DBQ_OK;
    }
    unsigned char *bound = calloc((size_t)count + 1, 1);
    if (bound == NULL)
        return DBQ_ENOMEM;
    dbq_err e = DBQ_OK;
    for (size_t i = 0; i < req->nparams && e == DBQ_OK; i++) {
        const dbw_param *p = &req->params[i];
        char name[DBW_MAX_NAME + 2];
        int idx = 0;
        for (const char *pfx = ":@$"; *pfx != '\0' && idx == 0; pfx++) {
            snprintf(name, sizeof name, "%c%s", *pfx, p->name);
            idx = sqlite3_bind_parameter_index(st, name);
        }
        if (idx == 0) {
            snprintf(msg, msglen, "the statement has no parameter :%s", p->name);
            e = DBQ_EPARAM;
        } else {
            int rc = sq_bind_one(st, idx, p);
            if (rc != SQLITE_OK)
                e = sq_error(c, rc, msg, msglen);
            bound[idx] = 1;
        }
    }
    for (int i = 1; i <= count && e == DBQ_OK; i++)
        if (!bound[i]) {
            const char *n = sqlite3_bind_parameter_name(st, i);
            snprintf(msg, msglen, "no value for parameter %s", n ? n : "?");
            e = DBQ_EPARAM;
        }
    free(bound);
    return e;
}

static APP_MUST_CHECK app_err sq_put_value(sbuf *out, sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        return dbq_put_int(out, sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return dbq_put_real(out, sqlite3_column_double(st, col));
    case SQLITE_TEXT: {
        const unsigned char *t = sqlite3_column_text(st, col);
        return t ? jsonw_string(out, (const char *)t, (size_t)sqlite3_column_bytes(st, col))
                 : APP_ENOMEM;
    }
    case SQLITE_BLOB: {
        const void *b = sqlite3_column_blob(st, col);
        int n = sqlite3_column_bytes(st, col);
        return dbq_put_bytes(out, b ? b : "", (size_t)n);
    }
    default:
        return sbuf_puts(out, "null");
    }
}

static APP_MUST_CHECK app_err sq_put_row(sbuf *out, sqlite3_stmt *st, int ncols, bool first)
{
    app_err e = sbuf_puts(out, first ? "[" : ",[");
    for (int i = 0; i < ncols && e == APP_OK; i++) {
        if (i > 0)
            e = sbuf_putc(out, ',');
        if (e == APP_OK)
            e = sq_put_value(out, st, i);
    }
    return e != APP_OK ? e : sbuf_putc(out, ']');
}

static APP_MUST_CHECK app_err sq_put_columns(sbuf *out, sqlite3_stmt *st, int ncols)
{
    app_err e = sbuf_puts(out, "\"columns\":[");
    for (int i = 0; i < ncols && e == APP_OK; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (name == NULL)
            return APP_ENOMEM;
        if (i > 0)
            e = sbuf_putc(out, ',');
        if (e == APP_OK)
            e = jsonw_string(out, name, strlen(name));
    }
    return e != APP_OK ? e : sbuf_puts(out, "],\"rows\":[");
}

/* Steps st to its end or a cap, writing the rows. */
static dbq_err sq_rows(sq_conn *c, sqlite3_stmt *st, const dbq_limits *lim, sbuf *out, char *msg,
                       size_t msglen)
{
    int ncols = sqlite3_column_count(st);
    if (sq_put_columns(out, st, ncols) != APP_OK)
        return DBQ_ENOMEM;
    size_t rows_start = out->len;
    unsigned long long nrows = 0;
    const char *truncated = NULL;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW)
            return sq_error(c, rc, msg, msglen);
        if (nrows == lim->max_rows) {
            truncated = "rows";
            break;
        }
        size_t mark = out->len;
        app_err e = sq_put_row(out, st, ncols, nrows == 0);
        if (e == APP_ENOMEM)
            return DBQ_ENOMEM;
        if (e != APP_OK || out->len - rows_start > lim->max_bytes) {
            out->len = mark;
            out->data[mark] = '\0';
            truncated = "bytes";
            break;
        }
        nrows++;
    }
    app_err e = sbuf_printf(out, "],\"row_count\":%llu,\"truncated\":%s", nrows,
                            truncated ? "true" : "false");
    if (e == APP_OK && truncated)
        e = sbuf_printf(out, ",\"truncated_reason\":\"%s\"", truncated);
    return e == APP_OK ? DBQ_OK : DBQ_ENOMEM;
}

static dbq_err sq_query(sq_conn *c, const dbw_request *req, const dbq_limits *lim, sbuf *out,
                        char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    dbq_err e = sq_prepare(c, req->sql, req->sql_len, &st, msg, msglen);
    if (e == DBQ_OK)
        e = sq_bind(c, st, req, msg, msglen);
    if (e == DBQ_OK)
        e = sq_rows(c, st, lim, out, msg, msglen);
    sqlite3_finalize(st);
    return e;
}

static dbq_err sq_tables(sq_conn *c, sbuf *out, char *msg, size_t msglen)
{
    static const char sql[] = "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
                              "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
    sqlite3_stmt *st = NULL;
    dbq_err e = sq_prepare(c, sql, sizeof sql - 1, &st, msg, msglen);
    if (e != DBQ_OK)
        return e;
    app_err w = sbuf_puts(out, "\"tables\":[");
    int rc, n = 0;
    while (w == APP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (n++ > 0)
            w = sbuf_putc(out, ',');
        if (w == APP_OK)
            w = jsonw_string(out, name ? name : "", name ? strlen(name) : 0);
    }
    if (w == APP_OK && rc != SQLITE_DONE)
        e = sq_error(c, rc, msg, msglen);
    else if (w != APP_OK || sbuf_putc(out, ']') != APP_OK)
        e = DBQ_ENOMEM;
    sqlite3_finalize(st);
    return e;
}

static dbq_err sq_schema(sq_conn *c, const char *table, sbuf *out, char *msg, size_t msglen)
{
    /* PRAGMA takes no bound parameters: the name goes in as a quoted
     * literal (%Q doubles its quotes), and the authorizer still applies. */
    char *sql = sqlite3_mprintf("PRAGMA main.table_info(%Q)", table);
    if (sql == NULL)
        return DBQ_ENOMEM;
    sqlite3_stmt *st = NULL;
    dbq_err e = sq_prepare(c, sql, strlen(sql), &st, msg, msglen);
    sqlite3_free(sql);
    if (e != DBQ_OK)
        return e;
    int rc;
    app_err w = sbuf_puts(out, "\"table\":");
    if (w == APP_OK)
        w = jsonw_string(out, table, strlen(table));
    if (w == APP_OK)
        w = sbuf_puts(out, ",\"columns\":[");
    int n = 0;
    while (w == APP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* table_info: cid, name, type, notnull, dflt_value, pk */
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        bool notnull = sqlite3_column_int(st, 3) != 0, pk = sqlite3_column_int(st, 5) > 0;
        w = sbuf_puts(out, n++ > 0 ? ",{\"name\":" : "{\"name\":");
        if (w == APP_OK)
            w = jsonw_string(out, name ? name : "", name ? strlen(name) : 0);
        if (w == APP_OK)
            w = sbuf_puts(out, ",\"type\":");
        if (w == APP_OK)
            w = jsonw_string(out, type ? type : "", type ? strlen(type) : 0);
        if (w == APP_OK)
            w = sbuf_printf(out, ",\"nullable\":%s,\"key\":%s}", !notnull && !pk ? "true" : "false",
                            pk ? "\"primary\"" : "null");
    }
    if (w == APP_OK && rc != SQLITE_DONE)
        e = sq_error(c, rc, msg, msglen);
    else if (w != APP_OK || sbuf_putc(out, ']') != APP_OK)
        e = DBQ_ENOMEM;
    else if (n == 0) {
        snprintf(msg, msglen, "no table named %.128s", table);
        e = DBQ_ENOTFOUND;
    }
    sqlite3_finalize(st);
    return e;
}

static dbq_err sq_run(void *conn, const dbw_request *req, const dbq_limits *lim, sbuf *out,
                      char *msg, size_t msglen)
{
    sq_conn *c = conn;
    size_t start = out->len;
    sq_arm(c, lim->timeout_ms);
    dbq_err e = req->op == DBW_QUERY    ? sq_query(c, req, lim, out, msg, msglen)
                : req->op == DBW_TABLES ? sq_tables(c, out, msg, msglen)
                                        : sq_schema(c, req->table, out, msg, msglen);
    if (e == DBQ_ENOMEM && msg[0] == '\0')
        snprintf(msg, msglen, "out of memory");
    if (e != DBQ_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return e;
}

const dbq_backend dbq_sqlite_backend = {
    .kind = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .run = sq_run,
    .usable = sq_usable,
};
