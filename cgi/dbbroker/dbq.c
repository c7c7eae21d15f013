/*
 * dbq.c - picking the backend, and what the backends share.
 */
#include "dbq.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "jscan.h"
#include "jsonw.h"

struct dbq {
    const dbq_backend *be;
    void *conn;
};

const char *dbq_err_type(dbq_err e)
{
    switch (e) {
    case DBQ_OK:
        return "ok";
    case DBQ_EREADONLY:
        return "DatabaseReadOnly";
    case DBQ_ETIMEOUT:
        return "DatabaseTimeout";
    case DBQ_ELIMIT:
        return "DatabaseLimit";
    case DBQ_EUNAVAILABLE:
        return "DatabaseUnavailable";
    case DBQ_ESQL:
    case DBQ_EPARAM:
    case DBQ_ENOTFOUND:
    case DBQ_ENOMEM:
        break;
    }
    return "DatabaseError";
}

bool dbq_target_is_postgres(const char *target)
{
    return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

dbq *dbq_open(const char *target, dbq_err *err, char *msg, size_t msglen)
{
    dbq *q = calloc(1, sizeof *q);
    if (q == NULL) {
        *err = DBQ_ENOMEM;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    q->be = dbq_target_is_postgres(target) ? &dbq_pg_backend : &dbq_sqlite_backend;
    q->conn = q->be->open(target, err, msg, msglen);
    if (q->conn == NULL) {
        free(q);
        return NULL;
    }
    return q;
}

void dbq_free(dbq *q)
{
    if (q == NULL)
        return;
    q->be->close(q->conn);
    free(q);
}

const char *dbq_kind(const dbq *q)
{
    return q->be->kind;
}

dbq_err dbq_run(dbq *q, const dbw_request *req, const dbq_limits *lim, sbuf *out, char *msg,
                size_t msglen)
{
    msg[0] = '\0';
    return q->be->run(q->conn, req, lim, out, msg, msglen);
}

bool dbq_usable(const dbq *q)
{
    return q->be->usable(q->conn);
}

app_err dbq_put_int(sbuf *out, int64_t v)
{
    return sbuf_printf(out, "%" PRId64, v);
}

app_err dbq_put_real(sbuf *out, double v)
{
    if (isnan(v))
        return sbuf_puts(out, "null");
    if (isinf(v)) /* valid JSON that parsers read back as an infinity */
        return sbuf_puts(out, v > 0 ? "1e999" : "-1e999");
    /* The shortest text that reads back as the same double (0.1, not
     * 0.10000000000000001). */
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* Keep a float a float when it is read back: 2.0 must not become 2. */
    if (strpbrk(buf, ".eE") == NULL)
        return sbuf_printf(out, "%s.0", buf);
    return sbuf_puts(out, buf);
}

app_err dbq_put_bytes(sbuf *out, const void *p, size_t n)
{
    app_err e = sbuf_puts(out, "{\"__type__\":\"bytes\",\"base64\":\"");
    if (e != APP_OK)
        return e;
    e = b64_encode(p, n, B64_ONE_LINE, out);
    return e != APP_OK ? e : sbuf_puts(out, "\"}");
}

/* --- serving one request -------------------------------------------------------- */

static double dbq_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* The row count and truncation the backend wrote last in a query's
 * members ("row_count":N,"truncated":b...): the last "row_count" key is
 * ours, as every value of the rows comes before it. */
static void dbq_note_rows(const sbuf *out, size_t start, dbq_outcome *o)
{
    static const char key[] = "\"row_count\":";
    const char *p = NULL;
    for (const char *s = out->data + start; (s = strstr(s, key)) != NULL; s++)
        p = s;
    if (p == NULL)
        return;
    o->rows = strtoll(p + sizeof key - 1, NULL, 10);
    o->truncated = strstr(p, "\"truncated\":true") != NULL;
}

/* For the log, the entries of a tables or schema answer (names or
 * columns): its members are re-read with the JSON scanner. */
static void dbq_note_entries(const sbuf *out, size_t start, dbq_outcome *o)
{
    sbuf doc;
    sbuf_init(&doc, out->len - start + 2);
    js_span root, key, v;
    char msg[APP_ERRMSG_LEN];
    if (sbuf_append(&doc, out->data + start, out->len - start) == APP_OK &&
        sbuf_putc(&doc, '}') == APP_OK &&
        js_validate(doc.data, doc.len, &root, msg, sizeof msg) == APP_OK) {
        js_iter it;
        js_iter_init(&it, doc.data, root);
        while (js_iter_next(&it, &key, &v)) {
            if (v.type != JS_ARRAY || (!js_string_equals(doc.data, key, "tables") &&
                                       !js_string_equals(doc.data, key, "columns")))
                continue;
            js_iter items;
            js_span item;
            long long n = 0;
            js_iter_init(&items, doc.data, v);
            while (js_iter_next(&items, &key, &item))
                n++;
            o->rows = n;
        }
    }
    sbuf_free(&doc);
}

static APP_MUST_CHECK app_err dbq_put_error(sbuf *out, dbq_err e, const char *message)
{
    app_err w =
        sbuf_printf(out, "{\"ok\":false,\"error\":{\"type\":\"%s\",\"message\":", dbq_err_type(e));
    if (w == APP_OK)
        w = jsonw_string(out, message, strlen(message));
    return w != APP_OK ? w : sbuf_puts(out, "}}");
}

app_err dbq_serve(dbq *q, const char *unavailable_msg, const char *json, size_t n,
                  const dbq_limits *lim, sbuf *out, dbq_outcome *o)
{
    double t0 = dbq_now_ms();
    memset(o, 0, sizeof *o);
    o->rows = -1;
    size_t start = out->len;
    app_err w = dbw_decode(json, n, &o->req, o->message, sizeof o->message);
    if (w != APP_OK)
        o->err = w == APP_ETOOBIG ? DBQ_ELIMIT : w == APP_ENOMEM ? DBQ_ENOMEM : DBQ_EPARAM;
    else if (q == NULL)
        o->err = DBQ_EUNAVAILABLE;
    o->decoded = w == APP_OK;
    if (o->err == DBQ_EUNAVAILABLE)
        snprintf(o->message, sizeof o->message, "%s", unavailable_msg);
    if (w == APP_OK && q != NULL) {
        w = sbuf_puts(out, "{\"ok\":true,");
        o->err =
            w != APP_OK ? DBQ_ENOMEM : dbq_run(q, &o->req, lim, out, o->message, sizeof o->message);
        if (o->err == DBQ_OK) {
            if (o->req.op == DBW_QUERY)
                dbq_note_rows(out, start, o);
            else
                dbq_note_entries(out, start, o);
            o->duration_ms = dbq_now_ms() - t0;
            if (sbuf_printf(out, ",\"duration_ms\":%.3f}", o->duration_ms) == APP_OK)
                return APP_OK;
            o->err = DBQ_ELIMIT;
            snprintf(o->message, sizeof o->message, "the answer is larger than %u bytes",
                     DBW_MAX_ANSWER);
        }
    }
    if (o->err == DBQ_ENOMEM && o->message[0] == '\0')
        snprintf(o->message, sizeof o->message, "out of memory");
    if (out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    o->rows = -1;
    o->truncated = false;
    o->duration_ms = dbq_now_ms() - t0;
    return dbq_put_error(out, o->err, o->message);
}

void dbq_outcome_free(dbq_outcome *o)
{
    if (o != NULL)
        dbw_request_free(&o->req);
}
