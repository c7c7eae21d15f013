/* hist_db.c - the agent database's query log in the store (see hist_db.h). */
#include "hist_db.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hist-int.h"
#include "jscan.h"
#include "jsonw.h"
#include "utf8.h"

static bool one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* Binds text s (n bytes, or NULL) as parameter i, cut to
 * HIST_DB_LOG_MAX_TEXT at a character boundary. */
static int bind_capped(sqlite3_stmt *st, int i, const char *s, size_t n)
{
    if (s != NULL && n > HIST_DB_LOG_MAX_TEXT)
        n = utf8_complete_prefix(s, HIST_DB_LOG_MAX_TEXT);
    return hist_bind_text(st, i, s, n);
}

/* Deletes the rows older than the newest HIST_DB_LOG_KEEP - PRUNE_EVERY,
 * so that the table holds at most HIST_DB_LOG_KEEP rows until the next
 * prune (ids grow by one a row). */
static APP_MUST_CHECK app_err prune(hist *h, sqlite3_int64 newest, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h, "DELETE FROM db_queries WHERE id <= ?", "prune", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_int64(st, 1, newest - (HIST_DB_LOG_KEEP - HIST_DB_LOG_PRUNE_EVERY));
    return hist_step_done(h, st, "prune", msg, msglen);
}

app_err hist_db_log(hist *h, const hist_db_entry *e, char *msg, size_t msglen)
{
    static const char *const origins[] = {"jail", "api", "mcp"};
    static const char *const ops[] = {"query", "tables", "schema"};
    if (!one_of(e->origin, origins, 3) || !one_of(e->op, ops, 3)) {
        snprintf(msg, msglen,
                 "a logged query's origin is jail, api or mcp and its op query, "
                 "tables or schema");
        return APP_EFIELD;
    }
    if (e->outcome == NULL || e->outcome[0] == '\0' || strlen(e->outcome) > HIST_DB_LOG_MAX_NAME ||
        (e->sandbox != NULL && strlen(e->sandbox) > HIST_DB_LOG_MAX_NAME)) {
        snprintf(msg, msglen,
                 "a logged query needs an outcome, and its outcome and sandbox are "
                 "at most %d bytes",
                 HIST_DB_LOG_MAX_NAME);
        return APP_EFIELD;
    }
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "INSERT INTO db_queries (at, sandbox, origin, op, query, params, "
                               "row_count, truncated, duration_ms, outcome, message) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               "log", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    int rc = sqlite3_bind_double(st, 1, hist_now_s());
    if (rc == SQLITE_OK)
        rc = hist_bind_str(st, 2, e->sandbox);
    if (rc == SQLITE_OK)
        rc = hist_bind_str(st, 3, e->origin);
    if (rc == SQLITE_OK)
        rc = hist_bind_str(st, 4, e->op);
    if (rc == SQLITE_OK)
        rc = bind_capped(st, 5, e->query, e->query != NULL ? e->query_len : 0);
    if (rc == SQLITE_OK)
        rc = bind_capped(st, 6, e->params, e->params != NULL ? strlen(e->params) : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, e->rows < 0 ? -1 : e->rows);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 8, e->truncated ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = isfinite(e->duration_ms) ? sqlite3_bind_double(st, 9, e->duration_ms)
                                      : sqlite3_bind_null(st, 9);
    if (rc == SQLITE_OK)
        rc = hist_bind_str(st, 10, e->outcome);
    if (rc == SQLITE_OK)
        rc = bind_capped(st, 11, e->message, e->message != NULL ? strlen(e->message) : 0);
    if (rc != SQLITE_OK) {
        err = hist_db_fail(h, msg, msglen, "log: bind");
        sqlite3_finalize(st);
        return err;
    }
    if ((err = hist_step_done(h, st, "log", msg, msglen)) != APP_OK)
        return err;
    sqlite3_int64 id = sqlite3_last_insert_rowid(h->db);
    return id % HIST_DB_LOG_PRUNE_EVERY == 0 ? prune(h, id, msg, msglen) : APP_OK;
}


/* Appends column i of the current row as a JSON string, or null. */
static APP_MUST_CHECK app_err put_text(sbuf *out, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (s == NULL)
        return sbuf_puts(out, "null");
    return jsonw_string(out, s, (size_t)sqlite3_column_bytes(st, i));
}

/* Appends column i (the stored params) as the JSON it holds; as a string
 * when it does not hold JSON (cut at the cap, or a caller's slip). */
static APP_MUST_CHECK app_err put_json(sbuf *out, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (s == NULL)
        return sbuf_puts(out, "null");
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    js_span root;
    char why[APP_ERRMSG_LEN];
    if (js_validate(s, n, &root, why, sizeof why) == APP_OK)
        return sbuf_append(out, s + root.off, root.len);
    return jsonw_string(out, s, n);
}

/* Appends the current row of the list's statement as one JSON object. */
static APP_MUST_CHECK app_err put_row(sbuf *out, sqlite3_stmt *st)
{
    app_err err = sbuf_puts(out, "{\"at\":");
    if (err == APP_OK)
        err = jsonw_iso_time(out, sqlite3_column_double(st, 0));
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"origin\":");
    if (err == APP_OK)
        err = put_text(out, st, 1);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"op\":");
    if (err == APP_OK)
        err = put_text(out, st, 2);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"query\":");
    if (err == APP_OK)
        err = put_text(out, st, 3);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"params\":");
    if (err == APP_OK)
        err = put_json(out, st, 4);
    sqlite3_int64 rows = sqlite3_column_int64(st, 5);
    if (err == APP_OK)
        err = rows < 0 ? sbuf_puts(out, ",\"rows\":null")
                       : sbuf_printf(out, ",\"rows\":%lld", (long long)rows);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"truncated\":%s", sqlite3_column_int(st, 6) ? "true" : "false");
    double ms = sqlite3_column_double(st, 7);
    if (err == APP_OK)
        err = sqlite3_column_type(st, 7) == SQLITE_NULL || !isfinite(ms)
                  ? sbuf_puts(out, ",\"duration_ms\":null")
                  : sbuf_printf(out, ",\"duration_ms\":%.3f", ms);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"outcome\":");
    if (err == APP_OK)
        err = put_text(out, st, 8);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"message\":");
    if (err == APP_OK)
        err = put_text(out, st, 9);
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

app_err hist_db_log_list(hist *h, const char *sandbox, unsigned limit, sbuf *out, char *msg,
                         size_t msglen)
{
    if (limit < 1 || limit > HIST_MAX_PAGE) {
        snprintf(msg, msglen, "limit must be between 1 and %d", HIST_MAX_PAGE);
        return APP_EFIELD;
    }
    sqlite3_stmt *st = NULL;
    sbuf list, row;
    sbuf_init(&list, HIST_DB_LOG_LIST_MAX);
    sbuf_init(&row, HIST_DB_LOG_LIST_MAX);
    app_err err = hist_prepare(h,
                               "SELECT at, origin, op, query, params, row_count, truncated, "
                               "duration_ms, outcome, message FROM db_queries "
                               "WHERE sandbox IS ? ORDER BY id DESC LIMIT ?",
                               "log list", &st, msg, msglen);
    if (err != APP_OK)
        goto out;
    if (hist_bind_str(st, 1, sandbox) != SQLITE_OK ||
        sqlite3_bind_int(st, 2, (int)limit) != SQLITE_OK) {
        err = hist_db_fail(h, msg, msglen, "log list: bind");
        goto out;
    }
    err = sbuf_putc(&list, '[');
    int rc = SQLITE_DONE;
    bool first = true;
    while (err == APP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sbuf_reset(&row);
        err = first ? APP_OK : sbuf_putc(&row, ',');
        if (err == APP_OK)
            err = put_row(&row, st);
        /* Room for the closing bracket: a list that would pass its cap ends here. */
        if (err == APP_ETOOBIG ||
            (err == APP_OK && list.len + row.len + 1 > HIST_DB_LOG_LIST_MAX)) {
            err = APP_OK;
            rc = SQLITE_DONE;
            break;
        }
        if (err == APP_OK)
            err = sbuf_append(&list, row.data, row.len);
        first = false;
    }
    if (err == APP_OK && rc != SQLITE_DONE)
        err = hist_db_fail(h, msg, msglen, "log list");
    if (err == APP_OK)
        err = sbuf_putc(&list, ']');
    if (err == APP_OK)
        err = sbuf_append(out, list.data, list.len);
    if (err == APP_ETOOBIG || err == APP_ENOMEM)
        snprintf(msg, msglen, "the query log does not fit the answer");
out:
    sqlite3_finalize(st);
    sbuf_free(&row);
    sbuf_free(&list);
    return err;
}
