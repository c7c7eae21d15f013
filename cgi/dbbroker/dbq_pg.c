/*
 * dbq_pg.c - the PostgreSQL backend of dbq.h, with libpq.
 *
 * Read-only is enforced by the server: every request runs in a
 * transaction begun READ ONLY (never trusting default_transaction_read_only,
 * which the URL or the role may set otherwise) and rolled back, and a
 * DISCARD ALL afterwards drops what outlives a transaction (session
 * advisory locks, prepared statements, LISTEN, session GUCs).  The user's
 * statement goes through the extended protocol, which refuses several
 * statements in one string.  Time is bounded by statement_timeout and
 * lock_timeout on the server, and by a deadline here in case the server
 * does not answer; rows are read one at a time and the statement is
 * cancelled once the answer is full.
 *
 * A read-only transaction does not stop what a superuser can do outside
 * the database (COPY ... TO PROGRAM, the server's files), so a connection
 * whose role could is refused.  Deployments should go further and give the
 * broker a role that may only read (tests/http/pgcluster.py's agent_ro):
 * the grants are then a second wall behind the read-only transaction.
 */
#include "dbq.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"

/* What the server shows in pg_stat_activity for our sessions. */
#define PG_APPLICATION "pysandbox-dbbroker"
/* Seconds a connection attempt may take, unless the URL says otherwise. */
#define PG_CONNECT_TIMEOUT "10"
/* Milliseconds past a deadline before we give up on the server: past the
 * statement's own time we cancel it and wait this long again; past that
 * the connection is abandoned (reset before its next use). */
#define PG_GRACE_MS 2000
/* Bytes kept free in out for the members after the rows, so that a full
 * answer can still be closed. */
#define PG_TAIL_RESERVE 256
/* Room for the text of one number parameter ("%.17g", int64_t). */
#define PG_NUM_LEN 32

/* The fixed OIDs of the built-in types (pg_type.dat): the same in every
 * version, and the server sends a domain's base type. */
enum {
    PG_BOOLOID = 16,
    PG_BYTEAOID = 17,
    PG_INT8OID = 20,
    PG_INT2OID = 21,
    PG_INT4OID = 23,
    PG_OIDOID = 26,
    PG_FLOAT4OID = 700,
    PG_FLOAT8OID = 701,
    PG_NUMERICOID = 1700,
};

typedef struct pg_conn {
    PGconn *conn; /* From PQconnectdbParams(); PQfinish() */
    bool dirty;   /* a transaction may be open or session state left: clean before reuse */
    bool broken;  /* the server stopped answering or cleaning failed: reset before reuse */
} pg_conn;

/* One statement in flight: its deadline, and whether we cancelled it. */
typedef struct pg_flight {
    int64_t deadline; /* CLOCK_MONOTONIC ms */
    bool late;        /* the deadline passed once: the statement was cancelled */
    bool cancelled;   /* a cancel request was sent */
    bool stuck;       /* the grace passed too: the connection is abandoned */
} pg_flight;

/* --- small helpers ------------------------------------------------------------ */

static int64_t pg_now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        return 0; /* cannot fail for CLOCK_MONOTONIC; 0 only makes deadlines pass */
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Copies libpq's message into msg on one line: its messages end in a
 * newline and put hints on further lines. */
static void pg_one_line(char *msg, size_t msglen, const char *prefix, const char *text)
{
    size_t o = (size_t)snprintf(msg, msglen, "%s", prefix);
    bool space = false;
    for (const char *s = text != NULL ? text : ""; *s != '\0' && o + 1 < msglen; s++) {
        if (*s == '\n' || *s == '\t' || *s == '\r' || *s == ' ') {
            space = o > strlen(prefix);
            continue;
        }
        if (space && o + 2 < msglen)
            msg[o++] = ' ';
        space = false;
        msg[o++] = *s;
    }
    if (o < msglen)
        msg[o] = '\0';
}

/* Leaves out as it was at mark (dbq.h: "on failure out is left as it was"). */
static void pg_restore(sbuf *out, size_t mark)
{
    if (out->data == NULL)
        return;
    out->len = mark;
    out->data[mark] = '\0';
}

static dbq_err pg_app_err(app_err e)
{
    return e == APP_ENOMEM ? DBQ_ENOMEM : DBQ_ELIMIT;
}

/* --- waiting for the server ------------------------------------------------------ */

/* Asks the server to stop the statement in flight (once).  A failed request
 * changes nothing: the statement's own timeout still stops it. */
static void pg_cancel(pg_conn *pq, pg_flight *f)
{
    if (f->cancelled)
        return;
    f->cancelled = true;
    PGcancel *c = PQgetCancel(pq->conn);
    char err[256];
    if (c != NULL)
        (void)PQcancel(c, err, sizeof err); /* failing, it changes nothing (above) */
    PQfreeCancel(c);
}

/* Waits until the server sends something or the flight's deadline passes.
 * At the deadline the statement is cancelled and given PG_GRACE_MS more;
 * past that the connection is abandoned: returns false (f->stuck).  A
 * failed connection returns true: libpq reports it on the next call. */
static bool pg_poll(pg_conn *pq, pg_flight *f)
{
    for (;;) {
        int64_t left = f->deadline - pg_now_ms();
        if (left <= 0) {
            if (f->late) {
                f->stuck = true;
                pq->broken = true;
                return false;
            }
            f->late = true;
            pg_cancel(pq, f);
            f->deadline = pg_now_ms() + PG_GRACE_MS;
            continue;
        }
        struct pollfd p = {.fd = PQsocket(pq->conn), .events = POLLIN};
        if (p.fd < 0)
            return true;
        int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0 || (n < 0 && errno != EINTR))
            return true;
    }
}

/* The next result of the statement in flight, or NULL at its end (or when
 * the server stopped answering: f->stuck).  libpq's socket is always
 * non-blocking underneath, so PQconsumeInput() never waits. */
static PGresult *pg_next_result(pg_conn *pq, pg_flight *f)
{
    while (PQisBusy(pq->conn)) {
        if (!pg_poll(pq, f))
            return NULL;
        if (!PQconsumeInput(pq->conn))
            break; /* the connection failed: PQgetResult() hands out the error */
    }
    return PQgetResult(pq->conn);
}

/* Runs sql (nparams text values; none: the simple protocol, which lets our
 * own statements go in one round trip) and returns the first error result
 * or else the last result; NULL when it could not be sent (PQerrorMessage
 * says why) or the server stopped answering (f->stuck).  PQclear() it. */
static PGresult *pg_exec(pg_conn *pq, const char *sql, int nparams, const char *const *values,
                         pg_flight *f)
{
    int sent = nparams > 0 ? PQsendQueryParams(pq->conn, sql, nparams, NULL, values, NULL, NULL, 0)
                           : PQsendQuery(pq->conn, sql);
    if (!sent)
        return NULL;
    PGresult *kept = NULL;
    PGresult *res;
    while ((res = pg_next_result(pq, f)) != NULL) {
        if (kept != NULL && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
            PQclear(res);
            continue;
        }
        PQclear(kept);
        kept = res;
    }
    if (f->stuck) {
        PQclear(kept);
        return NULL;
    }
    return kept;
}

/* --- errors ----------------------------------------------------------------------- */

static bool pg_state_is(const char *state, const char *prefix)
{
    return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* Maps a failed statement to a dbq_err and a sentence in msg.  res may be
 * NULL (nothing came back: the connection's own error applies). */
static dbq_err pg_error(const pg_conn *pq, const PGresult *res, const pg_flight *f,
                        const dbq_limits *lim, char *msg, size_t msglen)
{
    if (f != NULL && f->stuck) {
        snprintf(msg, msglen, "the query ran longer than %u ms (the database did not answer)",
                 lim->timeout_ms);
        return DBQ_ETIMEOUT;
    }
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary == NULL)
        primary = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pq->conn);
    bool lost = PQstatus(pq->conn) != CONNECTION_OK || pg_state_is(state, "57P") ||
                (pg_state_is(state, "08") && strcmp(state, "08P01") != 0);
    if (lost || (state == NULL && res == NULL)) {
        pg_one_line(msg, msglen, "the database is not available: ", primary);
        return DBQ_EUNAVAILABLE;
    }
    if (pg_state_is(state, "25006") || pg_state_is(state, "25001")) {
        /* 25001: "transaction read-write mode must be set before any query",
         * and the statements that must run outside a transaction (VACUUM,
         * CREATE DATABASE): all ways to write. */
        pg_one_line(msg, msglen, "", primary);
        return DBQ_EREADONLY;
    }
    if (pg_state_is(state, "57014")) {
        snprintf(msg, msglen, "the query ran longer than %u ms", lim->timeout_ms);
        return DBQ_ETIMEOUT;
    }
    if (pg_state_is(state, "55P03")) { /* lock_timeout */
        snprintf(msg, msglen, "the query waited longer than %u ms for a lock", lim->timeout_ms);
        return DBQ_ETIMEOUT;
    }
    dbq_err e = DBQ_ESQL;
    if (pg_state_is(state, "54") || pg_state_is(state, "53400"))
        e = DBQ_ELIMIT; /* program_limit_exceeded; configuration_limit_exceeded (temp_file_limit) */
    else if (pg_state_is(state, "08P01") || pg_state_is(state, "42P02") ||
             pg_state_is(state, "42P18"))
        e = DBQ_EPARAM; /* bind count; "there is no parameter $n"; an unused $n's type */
    pg_one_line(msg, msglen, "", primary);
    if (state != NULL) {
        size_t n = strlen(msg);
        snprintf(msg + n, msglen - n, " (SQLSTATE %s)", state);
    }
    return e;
}

/* --- the transaction around each request ------------------------------------------ */

/* Clamps a limit in ms to what a PostgreSQL timeout setting accepts (0 would
 * turn the timeout off). */
static unsigned pg_timeout_setting(uint64_t ms)
{
    return ms < 1 ? 1 : ms > INT_MAX ? INT_MAX : (unsigned)ms;
}

/* Opens the READ ONLY transaction every request runs in, with its timeouts:
 * statement_timeout and lock_timeout for each statement, and
 * idle_in_transaction_session_timeout so that a broker which stalls
 * cannot hold a snapshot open for long.  The closing SELECT takes the
 * transaction's first snapshot, after which PostgreSQL refuses to make it
 * read-write (SET TRANSACTION READ WRITE would otherwise pass, as BEGIN
 * and SET take none). */
static dbq_err pg_begin(pg_conn *pq, const dbq_limits *lim, char *msg, size_t msglen)
{
    unsigned t = pg_timeout_setting(lim->timeout_ms);
    unsigned idle = pg_timeout_setting((uint64_t)lim->timeout_ms + PG_GRACE_MS);
    char sql[256];
    snprintf(sql, sizeof sql,
             "BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = %u; "
             "SET LOCAL lock_timeout = %u; SET LOCAL idle_in_transaction_session_timeout = %u; "
             "SELECT 1",
             t, t, idle);
    pq->dirty = true;
    pg_flight f = {.deadline = pg_now_ms() + t + PG_GRACE_MS};
    PGresult *res = pg_exec(pq, sql, 0, NULL, &f);
    dbq_err e = DBQ_OK;
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
        e = pg_error(pq, res, &f, lim, msg, msglen);
    PQclear(res);
    return e;
}

/* Runs one of our own cleanup statements; whether it succeeded. */
static bool pg_exec_ok(pg_conn *pq, const char *sql)
{
    pg_flight f = {.deadline = pg_now_ms() + PG_GRACE_MS};
    PGresult *res = pg_exec(pq, sql, 0, NULL, &f);
    bool ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

/* Ends the request's transaction and drops the session state a statement
 * may leave behind (a COMMIT in the user's statement ends our transaction
 * early; ROLLBACK then only warns).  When that fails the connection is
 * reset before its next use rather than trusted. */
static void pg_end(pg_conn *pq)
{
    if (!pq->dirty || PQstatus(pq->conn) != CONNECTION_OK)
        return;
    pq->dirty = false;
    /* Each is tried twice: a cancel we sent for a statement that was just
     * ending can reach the server while the first runs. */
    bool clean = pg_exec_ok(pq, "ROLLBACK") || pg_exec_ok(pq, "ROLLBACK");
    clean = clean && PQtransactionStatus(pq->conn) == PQTRANS_IDLE;
    clean = clean && (pg_exec_ok(pq, "DISCARD ALL") || pg_exec_ok(pq, "DISCARD ALL"));
    if (!clean)
        pq->broken = true;
    PGnotify *n;
    while ((n = PQnotifies(pq->conn)) != NULL) /* LISTEN: nobody reads them */
        PQfreemem(n);
}

/* Makes the connection fit for a request: one the server dropped, or that
 * we abandoned, is reconnected with the same settings. */
static dbq_err pg_ready(pg_conn *pq, char *msg, size_t msglen)
{
    if (!pq->broken && PQstatus(pq->conn) == CONNECTION_OK)
        return DBQ_OK;
    PQreset(pq->conn);
    if (PQstatus(pq->conn) != CONNECTION_OK) {
        pg_one_line(msg, msglen, "the database is not available: ", PQerrorMessage(pq->conn));
        return DBQ_EUNAVAILABLE;
    }
    pq->broken = false;
    pq->dirty = false;
    return DBQ_OK;
}

/* --- parameters --------------------------------------------------------------------- */

/* The statement and parameter values as PQsendQueryParams() takes them. */
typedef struct pg_params {
    const char *sql;     /* the statement: req->sql, or text */
    sbuf text;           /* the statement with :name turned into $n (named only) */
    const char **values; /* From malloc(): n values (NULL: SQL NULL), borrowed from req or nums */
    const char **names;  /* From malloc(): the name $k stands for (named only), borrowed */
    char *nums;          /* From malloc(): PG_NUM_LEN bytes per value, for numbers' text */
    int n;
} pg_params;

static void pg_params_free(pg_params *pp)
{
    sbuf_free(&pp->text);
    free(pp->values);
    free(pp->names);
    free(pp->nums);
}

/* Sets *text to p's value as PostgreSQL reads it in text form (num: room
 * for a number's).  DBQ_EPARAM for text holding a NUL, which PostgreSQL
 * text cannot hold. */
static dbq_err pg_param_text(const dbw_param *p, char *num, const char **text)
{
    switch (p->type) {
    case DBW_NULL:
        *text = NULL;
        return DBQ_OK;
    case DBW_BOOL:
        *text = p->i ? "true" : "false";
        return DBQ_OK;
    case DBW_INT:
        snprintf(num, PG_NUM_LEN, "%" PRId64, p->i);
        *text = num;
        return DBQ_OK;
    case DBW_REAL:
        if (isinf(p->r))
            *text = p->r > 0 ? "Infinity" : "-Infinity";
        else if (isnan(p->r))
            *text = "NaN";
        else {
            snprintf(num, PG_NUM_LEN, "%.17g", p->r);
            *text = num;
        }
        return DBQ_OK;
    case DBW_TEXT:
        *text = p->text;
        return memchr(p->text, '\0', p->len) == NULL ? DBQ_OK : DBQ_EPARAM;
    }
    return DBQ_EPARAM;
}

static void pg_param_name(const dbw_param *p, int k, char *buf, size_t len)
{
    if (p->name != NULL)
        snprintf(buf, len, ":%.*s", (int)DBW_MAX_NAME, p->name);
    else
        snprintf(buf, len, "$%d", k);
}

/* Sets value k (0-based) of pp from p. */
static dbq_err pg_params_set(pg_params *pp, int k, const dbw_param *p, char *msg, size_t msglen)
{
    if (pg_param_text(p, pp->nums + (size_t)k * PG_NUM_LEN, &pp->values[k]) == DBQ_OK)
        return DBQ_OK;
    char name[DBW_MAX_NAME + 8];
    pg_param_name(p, k + 1, name, sizeof name);
    snprintf(msg, msglen, "parameter %s holds a NUL character, which PostgreSQL text cannot hold",
             name);
    return DBQ_EPARAM;
}

static dbq_err pg_params_alloc(pg_params *pp, size_t n, char *msg, size_t msglen)
{
    pp->values = calloc(n > 0 ? n : 1, sizeof *pp->values);
    pp->names = calloc(n > 0 ? n : 1, sizeof *pp->names);
    pp->nums = calloc(n > 0 ? n : 1, PG_NUM_LEN);
    if (pp->values == NULL || pp->names == NULL || pp->nums == NULL) {
        snprintf(msg, msglen, "out of memory");
        return DBQ_ENOMEM;
    }
    return DBQ_OK;
}

static bool pg_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool pg_ident_char(unsigned char c)
{
    return pg_ident_start(c) || (c >= '0' && c <= '9');
}

/* Characters that continue a PostgreSQL identifier (which may hold $ and
 * any non-ASCII byte): a quote or $ after one does not open a string. */
static bool pg_word_char(unsigned char c)
{
    return pg_ident_char(c) || c == '$' || c >= 0x80;
}

/* Length of a quoted string ending at quote q, from s[i] (the opening
 * quote); backslash escapes too when escapes (E'...'). */
static size_t pg_skip_quoted(const char *s, size_t n, size_t i, char q, bool escapes)
{
    size_t j = i + 1;
    while (j < n) {
        if (escapes && s[j] == '\\' && j + 1 < n) {
            j += 2;
        } else if (s[j] == q) {
            if (j + 1 < n && s[j + 1] == q)
                j += 2; /* '' or "" inside */
            else
                return j + 1 - i;
        } else {
            j++;
        }
    }
    return n - i;
}

/* Length of the (nested, as PostgreSQL nests them) block comment at s[i]. */
static size_t pg_skip_block_comment(const char *s, size_t n, size_t i)
{
    size_t depth = 0;
    size_t j = i;
    while (j < n) {
        if (j + 1 < n && s[j] == '/' && s[j + 1] == '*') {
            depth++;
            j += 2;
        } else if (j + 1 < n && s[j] == '*' && s[j + 1] == '/') {
            j += 2;
            if (--depth == 0)
                return j - i;
        } else {
            j++;
        }
    }
    return n - i;
}

/* Length of the dollar-quoted string ($$...$$, $tag$...$tag$) at s[i], or 0
 * when the $ opens none (a $1 parameter, or a $ inside a word). */
static size_t pg_skip_dollar(const char *s, size_t n, size_t i)
{
    if (i > 0 && pg_word_char((unsigned char)s[i - 1]))
        return 0;
    size_t j = i + 1;
    if (j < n && (pg_ident_start((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80))
        while (j < n && (pg_ident_char((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80))
            j++;
    if (j >= n || s[j] != '$')
        return 0;
    size_t tag = j + 1 - i; /* "$tag$" */
    const char *end = memmem(s + i + tag, n - i - tag, s + i, tag);
    return end != NULL ? (size_t)(end - s) + tag - i : n - i;
}

/* Length of what the SQL lexer passes over whole at s[i] - a string, a
 * quoted identifier, a comment - or 0 when none starts there. */
static size_t pg_skip_opaque(const char *s, size_t n, size_t i)
{
    char c = s[i];
    char next = i + 1 < n ? s[i + 1] : '\0';
    if (c == '\'') {
        bool e = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                 (i < 2 || !pg_word_char((unsigned char)s[i - 2]));
        return pg_skip_quoted(s, n, i, '\'', e);
    }
    if (c == '"')
        return pg_skip_quoted(s, n, i, '"', false);
    if (c == '-' && next == '-') {
        const char *nl = memchr(s + i, '\n', n - i);
        return nl != NULL ? (size_t)(nl - s) - i : n - i;
    }
    if (c == '/' && next == '*')
        return pg_skip_block_comment(s, n, i);
    if (c == '$')
        return pg_skip_dollar(s, n, i);
    return 0;
}

/* A named parameter as the SQL spells it, for bsearch() over the params. */
typedef struct pg_name {
    const char *p;
    size_t len;
} pg_name;

static int pg_cmp_name(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int pg_cmp_key(const void *key, const void *elem)
{
    const pg_name *k = key;
    const dbw_param *p = *(const dbw_param *const *)elem;
    return pg_cmp_name(k->p, k->len, p->name != NULL ? p->name : "");
}

static int pg_cmp_params(const void *a, const void *b)
{
    const dbw_param *pa = *(const dbw_param *const *)a;
    const dbw_param *pb = *(const dbw_param *const *)b;
    const char *na = pa->name != NULL ? pa->name : "";
    return pg_cmp_name(na, strlen(na), pb->name != NULL ? pb->name : "");
}

/* State of turning :name into $n: the params sorted by name, and the $n
 * each got at its first appearance (0: not used yet). */
typedef struct pg_namer {
    const dbw_param **sorted; /* From malloc(): nparams entries, borrowed */
    int *slot;                /* From malloc(): nparams entries */
    size_t count;
} pg_namer;

/* Appends $n for the name at s (len bytes) to pp->text, numbering names
 * in order of first appearance. */
static dbq_err pg_put_name(pg_params *pp, pg_namer *nm, const dbw_request *req, const char *s,
                           size_t len, char *msg, size_t msglen)
{
    pg_name key = {s, len};
    const dbw_param **hit =
        req->nparams > 0 ? bsearch(&key, nm->sorted, req->nparams, sizeof *nm->sorted, pg_cmp_key)
                         : NULL;
    if (hit == NULL) {
        int shown = len > DBW_MAX_NAME ? (int)DBW_MAX_NAME : (int)len;
        snprintf(msg, msglen, "no value for parameter :%.*s%s", shown, s,
                 len > DBW_MAX_NAME ? "..." : "");
        return DBQ_EPARAM;
    }
    size_t at = (size_t)(hit - nm->sorted);
    if (nm->slot[at] == 0) {
        nm->slot[at] = (int)++nm->count;
        pp->names[nm->count - 1] = (*hit)->name;
        dbq_err e = pg_params_set(pp, nm->slot[at] - 1, *hit, msg, msglen);
        if (e != DBQ_OK)
            return e;
    }
    app_err w = sbuf_printf(&pp->text, "$%d", nm->slot[at]);
    if (w != APP_OK) {
        snprintf(msg, msglen, "%s", app_strerror(w));
        return pg_app_err(w);
    }
    return DBQ_OK;
}

/* Finds the next :name from s[*at] on, as the SQL lexer would see one: not
 * inside a string, quoted identifier, comment or dollar-quoted body, nor a
 * :: cast.  true: the name (without ':') is s[*name, *name + *len), and
 * *at is past it. */
static bool pg_next_name(const char *s, size_t n, size_t *at, size_t *name, size_t *len)
{
    size_t i = *at;
    while (i < n) {
        size_t skip = pg_skip_opaque(s, n, i);
        if (skip > 0) {
            i += skip;
        } else if (s[i] == ':' && i + 1 < n && s[i + 1] == ':') {
            i += 2;
        } else if (s[i] == ':' && i + 1 < n && pg_ident_start((unsigned char)s[i + 1])) {
            size_t j = i + 1;
            while (j < n && pg_ident_char((unsigned char)s[j]))
                j++;
            *name = i + 1;
            *len = j - i - 1;
            *at = j;
            return true;
        } else {
            i++;
        }
    }
    *at = n;
    return false;
}

/* Copies req->sql into pp->text with each :name replaced by $n. */
static dbq_err pg_rewrite(pg_params *pp, pg_namer *nm, const dbw_request *req, char *msg,
                          size_t msglen)
{
    const char *s = req->sql;
    size_t n = req->sql_len;
    size_t copied = 0; /* s[copied, name - 1) is still to be copied */
    size_t at = 0, name, len;
    while (pg_next_name(s, n, &at, &name, &len)) {
        app_err w = sbuf_append(&pp->text, s + copied, name - 1 - copied);
        if (w != APP_OK) {
            snprintf(msg, msglen, "%s", app_strerror(w));
            return pg_app_err(w);
        }
        dbq_err e = pg_put_name(pp, nm, req, s + name, len, msg, msglen);
        if (e != DBQ_OK)
            return e;
        copied = at;
    }
    app_err w = sbuf_append(&pp->text, s + copied, n - copied);
    if (w != APP_OK) {
        snprintf(msg, msglen, "%s", app_strerror(w));
        return pg_app_err(w);
    }
    pp->sql = pp->text.data != NULL ? pp->text.data : "";
    pp->n = (int)nm->count;
    return DBQ_OK;
}

/* Characters (as PostgreSQL counts error positions, from 1) up to byte b. */
static long pg_char_position(const char *s, size_t b)
{
    long chars = 1;
    for (size_t i = 0; i < b; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars;
}

/* A statement sent without parameters whose syntax error (42601) is at a
 * :name: says that name has no value, as it would with named parameters
 * (an empty {} is no parameters at all). */
static dbq_err pg_explain_syntax(const dbw_request *req, const char *state, long position,
                                 dbq_err e, char *msg, size_t msglen)
{
    if (e != DBQ_ESQL || req->nparams > 0 || strcmp(state, "42601") != 0)
        return e;
    size_t at = 0, name, len;
    while (pg_next_name(req->sql, req->sql_len, &at, &name, &len)) {
        if (pg_char_position(req->sql, name - 1) != position)
            continue;
        snprintf(msg, msglen, "no value for parameter :%.*s",
                 len > DBW_MAX_NAME ? (int)DBW_MAX_NAME : (int)len, req->sql + name);
        return DBQ_EPARAM;
    }
    return e;
}

/* Named parameters: the SQL says :name (as SQLite does); PostgreSQL wants
 * $n.  Only the names the SQL uses are sent. */
static dbq_err pg_params_named(pg_params *pp, const dbw_request *req, char *msg, size_t msglen)
{
    pg_namer nm = {0};
    dbq_err e = pg_params_alloc(pp, req->nparams, msg, msglen);
    if (e != DBQ_OK)
        return e;
    size_t n = req->nparams > 0 ? req->nparams : 1;
    nm.sorted = calloc(n, sizeof *nm.sorted);
    nm.slot = calloc(n, sizeof *nm.slot);
    if (nm.sorted == NULL || nm.slot == NULL) {
        snprintf(msg, msglen, "out of memory");
        e = DBQ_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < req->nparams; i++)
        nm.sorted[i] = &req->params[i];
    qsort(nm.sorted, req->nparams, sizeof *nm.sorted, pg_cmp_params);
    /* Each ":a" (2 bytes) becomes at most "$1000" (5). */
    sbuf_init(&pp->text, req->sql_len * 3 + 16);
    e = pg_rewrite(pp, &nm, req, msg, msglen);
out:
    free(nm.sorted);
    free(nm.slot);
    return e;
}

/* Positional parameters: $1..$n in PostgreSQL's own syntax, as given. */
static dbq_err pg_params_positional(pg_params *pp, const dbw_request *req, char *msg, size_t msglen)
{
    dbq_err e = pg_params_alloc(pp, req->nparams, msg, msglen);
    for (size_t i = 0; e == DBQ_OK && i < req->nparams; i++)
        e = pg_params_set(pp, (int)i, &req->params[i], msg, msglen);
    pp->sql = req->sql;
    pp->n = (int)req->nparams;
    return e;
}

/* --- values ---------------------------------------------------------------------- */

/* Whether t (n bytes) is a JSON number: PostgreSQL's integer and numeric
 * output always is, but a wrong answer here would break the whole frame. */
static bool pg_is_json_number(const char *t, size_t n)
{
    size_t i = 0;
    if (i < n && t[i] == '-')
        i++;
    if (i >= n || t[i] < '0' || t[i] > '9' ||
        (t[i] == '0' && i + 1 < n && t[i + 1] >= '0' && t[i + 1] <= '9'))
        return false;
    while (i < n && t[i] >= '0' && t[i] <= '9')
        i++;
    if (i < n && t[i] == '.') {
        size_t d = ++i;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static int pg_hex(unsigned char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes bytea's text form into buf (room for n bytes): "\x" then hex
 * (bytea_output = hex, the default), or the escape format a query may
 * switch to with set_config() (\\ and \ooo).  false: not either. */
static bool pg_bytea_decode(const char *t, size_t n, unsigned char *buf, size_t *len)
{
    size_t o = 0;
    if (n >= 2 && t[0] == '\\' && t[1] == 'x') {
        if ((n - 2) % 2 != 0)
            return false;
        for (size_t i = 2; i < n; i += 2) {
            int hi = pg_hex((unsigned char)t[i]), lo = pg_hex((unsigned char)t[i + 1]);
            if (hi < 0 || lo < 0)
                return false;
            buf[o++] = (unsigned char)(hi << 4 | lo);
        }
    } else {
        for (size_t i = 0; i < n;) {
            if (t[i] != '\\') {
                buf[o++] = (unsigned char)t[i++];
            } else if (i + 1 < n && t[i + 1] == '\\') {
                buf[o++] = '\\';
                i += 2;
            } else if (i + 3 < n && t[i + 1] >= '0' && t[i + 1] <= '3' && t[i + 2] >= '0' &&
                       t[i + 2] <= '7' && t[i + 3] >= '0' && t[i + 3] <= '7') {
                buf[o++] = (unsigned char)((t[i + 1] - '0') << 6 | (t[i + 2] - '0') << 3 |
                                           (t[i + 3] - '0'));
                i += 4;
            } else {
                return false;
            }
        }
    }
    *len = o;
    return true;
}

static APP_MUST_CHECK app_err pg_put_bytea(sbuf *out, const char *t, size_t n)
{
    unsigned char *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return APP_ENOMEM;
    size_t len;
    app_err e =
        pg_bytea_decode(t, n, buf, &len) ? dbq_put_bytes(out, buf, len) : jsonw_string(out, t, n);
    free(buf);
    return e;
}

/* A number's text as a JSON number when it is one, else as a string. */
static APP_MUST_CHECK app_err pg_put_number_text(sbuf *out, const char *t, size_t n)
{
    return pg_is_json_number(t, n) ? sbuf_append(out, t, n) : jsonw_string(out, t, n);
}

/* A float's text is the shortest that reads back exactly (PostgreSQL 12+):
 * kept as it is when it is a JSON number that reads back as a float
 * ("-273.15" rather than "%.17g"'s "-273.14999999999998"); else
 * dbq_put_real() says it ("2" -> 2.0, Infinity, NaN). */
static APP_MUST_CHECK app_err pg_put_float(sbuf *out, const char *t, size_t n)
{
    if (pg_is_json_number(t, n) && strpbrk(t, ".eE") != NULL)
        return sbuf_append(out, t, n);
    char *end;
    double v = strtod(t, &end); /* "Infinity", "-Infinity", "NaN" too */
    return end == t + n && n > 0 ? dbq_put_real(out, v) : jsonw_string(out, t, n);
}

static APP_MUST_CHECK app_err pg_put_numeric(sbuf *out, const char *t, size_t n)
{
    if (strcmp(t, "NaN") == 0)
        return sbuf_puts(out, "null");
    if (strcmp(t, "Infinity") == 0 || strcmp(t, "-Infinity") == 0)
        return dbq_put_real(out, t[0] == '-' ? -INFINITY : INFINITY);
    return pg_put_number_text(out, t, n);
}

/* Appends one value (t: its text form, n bytes; NULL for SQL NULL) as
 * dbq.h says a column of this type reads. */
static APP_MUST_CHECK app_err pg_put_value(sbuf *out, Oid type, const char *t, size_t n)
{
    if (t == NULL)
        return sbuf_puts(out, "null");
    switch (type) {
    case PG_INT2OID:
    case PG_INT4OID:
    case PG_INT8OID:
    case PG_OIDOID:
        return pg_put_number_text(out, t, n);
    case PG_FLOAT4OID:
    case PG_FLOAT8OID:
        return pg_put_float(out, t, n);
    case PG_NUMERICOID:
        return pg_put_numeric(out, t, n);
    case PG_BOOLOID:
        return sbuf_puts(out, t[0] == 't' ? "true" : "false");
    case PG_BYTEAOID:
        return pg_put_bytea(out, t, n);
    default:
        return jsonw_string(out, t, n);
    }
}

/* --- a query's answer --------------------------------------------------------------- */

/* Writing a query's members while its rows arrive. */
typedef struct pg_answer {
    sbuf *out;
    const dbq_limits *lim;
    size_t rows_at;     /* out->len where the "rows" array begins */
    bool head;          /* "columns" and the start of "rows" are written */
    unsigned rows;      /* rows kept */
    const char *reason; /* "rows" / "bytes" once truncated, else NULL */
    dbq_err err;        /* the first failure */
    char state[6];      /* its SQLSTATE, or "" */
    long position;      /* where in the statement, in characters from 1; 0: none */
    char *msg;
    size_t msglen;
} pg_answer;

static void pg_answer_fail(pg_answer *a, dbq_err e, const char *what)
{
    if (a->err != DBQ_OK)
        return;
    a->err = e;
    snprintf(a->msg, a->msglen, "%s", what);
}

static void pg_answer_write_fail(pg_answer *a, app_err w)
{
    if (w == APP_ENOMEM) {
        pg_answer_fail(a, DBQ_ENOMEM, "out of memory");
    } else {
        char m[96];
        snprintf(m, sizeof m, "the answer is larger than %zu bytes", a->out->max);
        pg_answer_fail(a, DBQ_ELIMIT, m);
    }
}

/* Writes "columns":[...],"rows":[ from res (NULL: a statement without
 * rows). */
static void pg_put_head(pg_answer *a, const PGresult *res)
{
    if (a->head)
        return;
    a->head = true;
    app_err w = sbuf_puts(a->out, "\"columns\":[");
    int ncols = res != NULL ? PQnfields(res) : 0;
    for (int c = 0; w == APP_OK && c < ncols; c++) {
        const char *name = PQfname(res, c);
        if (c > 0)
            w = sbuf_putc(a->out, ',');
        if (w == APP_OK)
            w = jsonw_string(a->out, name, strlen(name));
    }
    if (w == APP_OK)
        w = sbuf_puts(a->out, "],\"rows\":[");
    a->rows_at = a->out->len;
    if (w != APP_OK)
        pg_answer_write_fail(a, w);
}

static APP_MUST_CHECK app_err pg_put_row(sbuf *out, const PGresult *res, int row, bool first)
{
    app_err w = sbuf_puts(out, first ? "[" : ",[");
    for (int c = 0; w == APP_OK && c < PQnfields(res); c++) {
        if (c > 0)
            w = sbuf_putc(out, ',');
        if (w == APP_OK)
            w = pg_put_value(out, PQftype(res, c),
                             PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c),
                             (size_t)PQgetlength(res, row, c));
    }
    return w == APP_OK ? sbuf_putc(out, ']') : w;
}

/* The bytes a row's JSON takes at least: half its text (base64 of a bytea's
 * hex is 2/3 of it; everything else only grows).  Spares rendering a row
 * far too large for what is left. */
static size_t pg_row_floor(const PGresult *res, int row)
{
    size_t n = 0;
    for (int c = 0; c < PQnfields(res); c++)
        n += (size_t)PQgetlength(res, row, c);
    return n / 2;
}

/* Keeps row `row` of res, or truncates the answer there when it would pass
 * a cap (rows, bytes, or the room out has left). */
static void pg_keep_row(pg_answer *a, const PGresult *res, int row)
{
    if (a->rows >= a->lim->max_rows) {
        a->reason = "rows";
        return;
    }
    size_t mark = a->out->len;
    size_t used = mark - a->rows_at;
    size_t budget = a->lim->max_bytes > used ? a->lim->max_bytes - used : 0;
    app_err w =
        pg_row_floor(res, row) > budget ? APP_ETOOBIG : pg_put_row(a->out, res, row, a->rows == 0);
    if (w == APP_OK && (a->out->len - a->rows_at > a->lim->max_bytes ||
                        a->out->max - a->out->len < PG_TAIL_RESERVE))
        w = APP_ETOOBIG;
    if (w == APP_OK) {
        a->rows++;
        return;
    }
    pg_restore(a->out, mark);
    if (w == APP_ETOOBIG)
        a->reason = "bytes";
    else
        pg_answer_write_fail(a, w);
}

/* Passes over COPY TO STDOUT's data (we cancelled it). */
static void pg_skip_copy(pg_conn *pq, pg_flight *f)
{
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(pq->conn, &buf, 1);
        if (n > 0) {
            PQfreemem(buf);
            continue;
        }
        if (n < 0 || !pg_poll(pq, f) || !PQconsumeInput(pq->conn))
            return; /* the end, or a failure PQgetResult() reports */
    }
}

/* Takes one result of the user's statement into the answer. */
static void pg_take_result(pg_answer *a, pg_conn *pq, pg_flight *f, PGresult *res,
                           const dbq_limits *lim)
{
    switch (PQresultStatus(res)) {
    case PGRES_SINGLE_TUPLE:
    case PGRES_TUPLES_OK:
        pg_put_head(a, res);
        for (int r = 0; r < PQntuples(res) && a->reason == NULL && a->err == DBQ_OK; r++)
            pg_keep_row(a, res, r);
        if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && (a->reason != NULL || a->err != DBQ_OK))
            pg_cancel(pq, f); /* the rest would only be read and dropped */
        break;
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        pg_put_head(a, NULL);
        break;
    case PGRES_COPY_OUT:
        pg_answer_fail(a, DBQ_ESQL, "COPY is not supported here: use SELECT");
        pg_cancel(pq, f);
        pg_skip_copy(pq, f);
        break;
    case PGRES_COPY_IN:
        pg_answer_fail(a, DBQ_ESQL, "COPY is not supported here: use SELECT");
        if (PQputCopyEnd(pq->conn, "COPY is not supported here") != 1)
            pg_cancel(pq, f);
        break;
    default: {
        /* An error ends the statement (no cancel needed).  After truncation
         * the rest of the statement does not matter, and a 57014 there is
         * our own cancel; a lost connection always does. */
        if (a->reason != NULL && PQstatus(pq->conn) == CONNECTION_OK)
            break;
        if (a->err == DBQ_OK) {
            a->err = pg_error(pq, res, f, lim, a->msg, a->msglen);
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            snprintf(a->state, sizeof a->state, "%s", state != NULL ? state : "");
            const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
            a->position = pos != NULL ? strtol(pos, NULL, 10) : 0;
        }
        break;
    }
    }
}

static dbq_err pg_answer_close(pg_answer *a)
{
    pg_put_head(a, NULL);
    if (a->err != DBQ_OK)
        return a->err;
    app_err w = sbuf_printf(a->out, "],\"row_count\":%u,\"truncated\":%s", a->rows,
                            a->reason != NULL ? "true" : "false");
    if (w == APP_OK && a->reason != NULL)
        w = sbuf_printf(a->out, ",\"truncated_reason\":\"%s\"", a->reason);
    if (w != APP_OK)
        pg_answer_write_fail(a, w);
    return a->err;
}

/* Sends the user's statement (in our transaction) and writes its answer
 * as its rows arrive. */
static dbq_err pg_query_rows(pg_conn *pq, const dbw_request *req, const pg_params *pp,
                             const dbq_limits *lim, sbuf *out, char *msg, size_t msglen)
{
    /* PQsendQueryParams() always uses the extended protocol (one statement),
     * also without parameters. */
    if (!PQsendQueryParams(pq->conn, pp->sql, pp->n, NULL, pp->values, NULL, NULL, 0))
        return pg_error(pq, NULL, NULL, lim, msg, msglen);
    pg_flight f = {.deadline = pg_now_ms() + pg_timeout_setting(lim->timeout_ms) + PG_GRACE_MS};
    pg_answer a = {.out = out, .lim = lim, .msg = msg, .msglen = msglen};
    if (!PQsetSingleRowMode(pq->conn)) /* cannot fail right after a send; never read all at once */
        pg_answer_fail(&a, DBQ_ESQL, "could not read the rows one at a time");
    PGresult *res;
    while ((res = pg_next_result(pq, &f)) != NULL) {
        pg_take_result(&a, pq, &f, res, lim);
        PQclear(res);
    }
    if (f.stuck)
        return pg_error(pq, NULL, &f, lim, msg, msglen);
    return pg_explain_syntax(req, a.state, a.position, pg_answer_close(&a), msg, msglen);
}

/* Server messages name parameters $k; with named parameters the user
 * wrote :name, so msg says that instead. */
static void pg_say_names(const pg_params *pp, char *msg, size_t msglen)
{
    char said[APP_ERRMSG_LEN];
    size_t o = 0;
    for (const char *s = msg; *s != '\0' && o + 1 < sizeof said;) {
        char *end = NULL;
        long k = s[0] == '$' && s[1] >= '1' && s[1] <= '9' ? strtol(s + 1, &end, 10) : 0;
        if (k < 1 || k > pp->n || pp->names[k - 1] == NULL) {
            said[o++] = *s++;
            continue;
        }
        int w = snprintf(said + o, sizeof said - o, ":%s", pp->names[k - 1]);
        o = w < 0 ? o : (size_t)w >= sizeof said - o ? sizeof said - 1 : o + (size_t)w;
        s = end;
    }
    said[o] = '\0';
    snprintf(msg, msglen, "%s", said);
}

static dbq_err pg_query(pg_conn *pq, const dbw_request *req, const dbq_limits *lim, sbuf *out,
                        char *msg, size_t msglen)
{
    if (req->sql == NULL) {
        snprintf(msg, msglen, "the query has no SQL");
        return DBQ_EPARAM;
    }
    pg_params pp = {0};
    dbq_err e = req->named ? pg_params_named(&pp, req, msg, msglen)
                           : pg_params_positional(&pp, req, msg, msglen);
    if (e == DBQ_OK)
        e = pg_begin(pq, lim, msg, msglen);
    if (e == DBQ_OK)
        e = pg_query_rows(pq, req, &pp, lim, out, msg, msglen);
    if (e != DBQ_OK && req->named && pp.names != NULL)
        pg_say_names(&pp, msg, msglen);
    pg_params_free(&pp);
    return e;
}

/* --- tables and schema ------------------------------------------------------------- */

/* Relations a query can name without a schema: tables, views, materialized
 * views, foreign and partitioned tables in the search path, the one it
 * finds first for each name, user schemas only.  Sorted by bytes, as SQLite
 * sorts. */
static const char pg_tables_sql[] = "SELECT c.relname FROM pg_catalog.pg_class c"
                                    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                                    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
                                    " AND n.nspname = ANY (pg_catalog.current_schemas(false))"
                                    " AND pg_catalog.pg_table_is_visible(c.oid)"
                                    " ORDER BY c.relname COLLATE \"C\"";

/* The columns of the relation $1 names (as pg_tables_sql finds it), in
 * order; one row with a NULL name for a relation without columns, none
 * when there is no such relation.  pg_catalog rather than
 * information_schema: the same answer for visible relations, and it
 * resolves the name exactly as the search path does. */
static const char pg_schema_sql[] =
    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
    " a.attnum = ANY (pk.indkey)"
    " FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_catalog.pg_attribute a"
    "  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    " LEFT JOIN pg_catalog.pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary"
    " WHERE c.relname = $1::text AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
    " AND n.nspname = ANY (pg_catalog.current_schemas(false))"
    " AND pg_catalog.pg_table_is_visible(c.oid)"
    " ORDER BY a.attnum";

/* Runs one of our catalog queries in the request's transaction; *res gets
 * its rows (PQclear() it). */
static dbq_err pg_catalog_query(pg_conn *pq, const char *sql, const char *arg,
                                const dbq_limits *lim, PGresult **res, char *msg, size_t msglen)
{
    *res = NULL;
    dbq_err e = pg_begin(pq, lim, msg, msglen);
    if (e != DBQ_OK)
        return e;
    pg_flight f = {.deadline = pg_now_ms() + pg_timeout_setting(lim->timeout_ms) + PG_GRACE_MS};
    const char *values[1] = {arg};
    /* With a parameter or not, through PQsendQueryParams (the extended protocol). */
    int sent = PQsendQueryParams(pq->conn, sql, arg != NULL ? 1 : 0, NULL, values, NULL, NULL, 0);
    PGresult *r = NULL;
    if (sent) {
        PGresult *next;
        while ((next = pg_next_result(pq, &f)) != NULL) {
            PQclear(r);
            r = next;
        }
    }
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        e = pg_error(pq, r, &f, lim, msg, msglen);
        PQclear(r);
        return e;
    }
    *res = r;
    return DBQ_OK;
}

static dbq_err pg_tables(pg_conn *pq, const dbq_limits *lim, sbuf *out, char *msg, size_t msglen)
{
    PGresult *res;
    dbq_err e = pg_catalog_query(pq, pg_tables_sql, NULL, lim, &res, msg, msglen);
    if (e != DBQ_OK)
        return e;
    app_err w = sbuf_puts(out, "\"tables\":[");
    for (int r = 0; w == APP_OK && r < PQntuples(res); r++) {
        if (r > 0)
            w = sbuf_putc(out, ',');
        if (w == APP_OK)
            w = jsonw_string(out, PQgetvalue(res, r, 0), (size_t)PQgetlength(res, r, 0));
    }
    if (w == APP_OK)
        w = sbuf_putc(out, ']');
    PQclear(res);
    if (w != APP_OK) {
        snprintf(msg, msglen, "the list of tables is larger than %zu bytes", out->max);
        return pg_app_err(w);
    }
    return DBQ_OK;
}

/* Appends one column of pg_schema_sql's row r as {"name",...}. */
static APP_MUST_CHECK app_err pg_put_column(sbuf *out, const PGresult *res, int r)
{
    const char *name = PQgetvalue(res, r, 0);
    const char *type = PQgetvalue(res, r, 1);
    bool nullable = PQgetvalue(res, r, 2)[0] == 't';
    bool primary = !PQgetisnull(res, r, 3) && PQgetvalue(res, r, 3)[0] == 't';
    app_err w = sbuf_puts(out, "{\"name\":");
    if (w == APP_OK)
        w = jsonw_string(out, name, strlen(name));
    if (w == APP_OK)
        w = sbuf_puts(out, ",\"type\":");
    if (w == APP_OK)
        w = jsonw_string(out, type, strlen(type));
    if (w == APP_OK)
        w = sbuf_printf(out, ",\"nullable\":%s,\"key\":%s}", nullable ? "true" : "false",
                        primary ? "\"primary\"" : "null");
    return w;
}

static dbq_err pg_schema(pg_conn *pq, const dbw_request *req, const dbq_limits *lim, sbuf *out,
                         char *msg, size_t msglen)
{
    const char *table = req->table != NULL ? req->table : "";
    PGresult *res;
    dbq_err e = pg_catalog_query(pq, pg_schema_sql, table, lim, &res, msg, msglen);
    if (e != DBQ_OK)
        return e;
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(msg, msglen, "no table named %.*s", (int)DBW_MAX_NAME, table);
        return DBQ_ENOTFOUND;
    }
    app_err w = sbuf_puts(out, "\"table\":");
    if (w == APP_OK)
        w = jsonw_string(out, table, strlen(table));
    if (w == APP_OK)
        w = sbuf_puts(out, ",\"columns\":[");
    for (int r = 0, shown = 0; w == APP_OK && r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, 0))
            continue; /* a relation without columns */
        if (shown++ > 0)
            w = sbuf_putc(out, ',');
        if (w == APP_OK)
            w = pg_put_column(out, res, r);
    }
    if (w == APP_OK)
        w = sbuf_putc(out, ']');
    PQclear(res);
    if (w != APP_OK) {
        snprintf(msg, msglen, "the table's description is larger than %zu bytes", out->max);
        return pg_app_err(w);
    }
    return DBQ_OK;
}

/* --- the backend ---------------------------------------------------------------- */

/* Notices (ROLLBACK's "there is no transaction in progress", a user's RAISE
 * NOTICE) would go to the broker's stderr: nobody reads them. */
static void pg_ignore_notice(void *arg, const PGresult *res)
{
    (void)arg, (void)res;
}

static void pg_close(void *conn)
{
    pg_conn *pq = conn;
    if (pq == NULL)
        return;
    PQfinish(pq->conn);
    free(pq);
}

/* Whether the connection's role may reach beyond the database: a superuser
 * (or a role that can SET ROLE to one) may COPY ... TO PROGRAM, write and
 * read the server's files, reload its settings - none of which a READ ONLY
 * transaction stops - and so may the members of the roles granting those
 * powers one by one.  Such a role would hand the jail a shell on the
 * database server: the broker refuses it.  *bad gets the answer. */
static bool pg_role_reaches_out(pg_conn *pq, bool *bad)
{
    static const char sql[] = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r"
                              " WHERE (r.rolsuper OR r.rolname IN ('pg_execute_server_program',"
                              " 'pg_write_server_files', 'pg_read_server_files'))"
                              " AND pg_catalog.pg_has_role(r.oid, 'MEMBER'))";
    pg_flight f = {.deadline = pg_now_ms() + PG_GRACE_MS};
    PGresult *res = pg_exec(pq, sql, 0, NULL, &f);
    bool ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    *bad = !ok || PQgetvalue(res, 0, 0)[0] != 'f';
    PQclear(res);
    return ok;
}

/* Whether a new session is one the jail may use: it speaks UTF-8 (what we
 * decode), and its role cannot reach beyond the database. */
static bool pg_session_fit(pg_conn *pq, char *msg, size_t msglen)
{
    const char *enc = PQparameterStatus(pq->conn, "client_encoding");
    if (enc == NULL || strcmp(enc, "UTF8") != 0) {
        snprintf(msg, msglen, "the database connection does not use UTF-8");
        return false;
    }
    bool bad;
    if (!pg_role_reaches_out(pq, &bad)) {
        snprintf(msg, msglen, "cannot check the database role's privileges");
        return false;
    }
    if (bad) {
        snprintf(msg, msglen,
                 "the database role is a superuser or may use the server's files or "
                 "programs, which no read-only transaction stops: give the broker a "
                 "role that may only read");
        return false;
    }
    return true;
}

static void *pg_open(const char *target, dbq_err *err, char *msg, size_t msglen)
{
    /* Later keywords override the URL's, earlier ones yield to it: the URL
     * may set its own connect_timeout, not the encoding we decode. */
    static const char *const keys[] = {"connect_timeout", "dbname", "application_name",
                                       "client_encoding", NULL};
    const char *const values[] = {PG_CONNECT_TIMEOUT, target, PG_APPLICATION, "UTF8", NULL};
    pg_conn *pq = calloc(1, sizeof *pq);
    if (pq == NULL || (pq->conn = PQconnectdbParams(keys, values, 1)) == NULL) {
        free(pq);
        *err = DBQ_ENOMEM;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    /* libpq's messages name the host and user, never the password; the URL
     * itself is not repeated. */
    if (PQstatus(pq->conn) != CONNECTION_OK) {
        pg_one_line(msg, msglen, "cannot connect to the database: ", PQerrorMessage(pq->conn));
        *err = DBQ_EUNAVAILABLE;
        pg_close(pq);
        return NULL;
    }
    if (!pg_session_fit(pq, msg, msglen)) {
        *err = DBQ_EUNAVAILABLE;
        pg_close(pq);
        return NULL;
    }
    PQsetNoticeReceiver(pq->conn, pg_ignore_notice, NULL);
    return pq;
}

static dbq_err pg_run(void *conn, const dbw_request *req, const dbq_limits *lim, sbuf *out,
                      char *msg, size_t msglen)
{
    pg_conn *pq = conn;
    size_t mark = out->len;
    msg[0] = '\0';
    dbq_err e = pg_ready(pq, msg, msglen);
    if (e == DBQ_OK) {
        switch (req->op) {
        case DBW_QUERY:
            e = pg_query(pq, req, lim, out, msg, msglen);
            break;
        case DBW_TABLES:
            e = pg_tables(pq, lim, out, msg, msglen);
            break;
        case DBW_SCHEMA:
            e = pg_schema(pq, req, lim, out, msg, msglen);
            break;
        default:
            snprintf(msg, msglen, "unknown request");
            e = DBQ_EPARAM;
        }
        pg_end(pq);
    }
    if (e != DBQ_OK)
        pg_restore(out, mark);
    return e;
}

static bool pg_usable(const void *conn)
{
    const pg_conn *pq = conn;
    return pq != NULL && !pq->broken && PQstatus(pq->conn) == CONNECTION_OK;
}

const dbq_backend dbq_pg_backend = {"postgresql", pg_open, pg_close, pg_run, pg_usable};
