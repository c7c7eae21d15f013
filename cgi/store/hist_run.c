/* hist_run.c - asynchronous executions: all of their SQL (see hist_run.h). */
#include "hist_run.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist-int.h"

static const char *const status_names[] = {
    [HIST_RUN_QUEUED] = "queued",       [HIST_RUN_RUNNING] = "running",
    [HIST_RUN_COMPLETED] = "completed", [HIST_RUN_FAILED] = "failed",
    [HIST_RUN_CANCELLED] = "cancelled",
};
#define NSTATUS ((int)(sizeof status_names / sizeof status_names[0]))

const char *hist_run_status_name(hist_run_status s)
{
    return (unsigned)s < NSTATUS ? status_names[s] : "failed";
}

bool hist_run_active(hist_run_status s)
{
    return s == HIST_RUN_QUEUED || s == HIST_RUN_RUNNING;
}

/* The status a column holds; anything unknown reads as failed (never
 * active, so never counted or reaped). */
static hist_run_status status_of(const unsigned char *text)
{
    for (int i = 0; text != NULL && i < NSTATUS; i++)
        if (strcmp((const char *)text, status_names[i]) == 0)
            return (hist_run_status)i;
    return HIST_RUN_FAILED;
}

/* Runs a one-row count query with up to one int64 parameter (bound when
 * bind is true) into *n. */
static APP_MUST_CHECK app_err count_rows(hist *h, const char *sql, bool bind, sqlite3_int64 param,
                                         long long *n, long long *bytes, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h, sql, "count", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    if (bind)
        sqlite3_bind_int64(st, 1, param);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        if (bytes != NULL)
            *bytes = sqlite3_column_int64(st, 1);
    } else {
        err = hist_db_fail(h, msg, msglen, "count");
    }
    sqlite3_finalize(st);
    return err;
}

/* The caps and the insert of hist_run_create, inside its transaction. */
static APP_MUST_CHECK app_err create_locked(hist *h, uint64_t client, const hist_run_caps *caps,
                                            const char *code, size_t code_len, const char *data,
                                            size_t data_len, const char *requirements,
                                            const char *sandbox, const char *id, char *msg,
                                            size_t msglen)
{
    long long mine = 0, all = 0, bytes = 0;
    app_err err = count_rows(h,
                             "SELECT count(*) FROM async_executions WHERE client = ? AND status "
                             "IN ('queued', 'running')",
                             true, (sqlite3_int64)client, &mine, NULL, msg, msglen);
    if (err != APP_OK)
        return err;
    if (mine >= caps->client_active) {
        snprintf(msg, msglen,
                 "this client already has %lld executions queued or running, its most; retry "
                 "when one ends",
                 mine);
        return APP_ECLIENT_LIMIT;
    }
    err = count_rows(h, "SELECT count(*), coalesce(sum(bytes), 0) FROM async_executions", false, 0,
                     &all, &bytes, msg, msglen);
    if (err != APP_OK)
        return err;
    size_t req_len = requirements != NULL ? strlen(requirements) : 0;
    size_t sbx_len = sandbox != NULL ? strnlen(sandbox, HIST_RUN_SANDBOX_MAX) : 0;
    long long need = (long long)(code_len + data_len + req_len + sbx_len);
    if (all >= caps->stored || bytes + need > caps->bytes) {
        snprintf(msg, msglen,
                 "the service holds as many executions as it may (%ld, or %lld bytes); finished "
                 "ones are deleted after their retention, retry later",
                 caps->stored, caps->bytes);
        return APP_EBUSY;
    }
    sqlite3_stmt *st = NULL;
    err = hist_prepare(h,
                       "INSERT INTO async_executions (id, client, status, created_at, code, data, "
                       "requirements, bytes, sandbox) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                       "insert", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)client);
    sqlite3_bind_double(st, 3, hist_now_s());
    hist_bind_text(st, 4, code, code_len);
    hist_bind_text(st, 5, data, data_len);
    hist_bind_text(st, 6, requirements, req_len);
    sqlite3_bind_int64(st, 7, need);
    hist_bind_text(st, 8, sandbox, sbx_len);
    return hist_step_done(h, st, "insert", msg, msglen);
}

app_err hist_run_create(hist *h, uint64_t client, const hist_run_caps *caps, const char *code,
                        size_t code_len, const char *data, size_t data_len,
                        const char *requirements, const char *sandbox, char id[HIST_RUN_ID_LEN + 1],
                        char *msg, size_t msglen)
{
    char fresh[HIST_RUN_ID_LEN + 1];
    if (hist_random_hex(fresh, HIST_RUN_ID_LEN / 2) != APP_OK) {
        snprintf(msg, msglen, "no randomness for an execution id");
        return APP_EIO;
    }
    /* The counts and the insert in one write transaction: two workers
     * creating at once cannot both take a client's last place. */
    app_err err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen);
    if (err != APP_OK)
        return err;
    err = create_locked(h, client, caps, code, code_len, data, data_len, requirements, sandbox,
                        fresh, msg, msglen);
    if (err == APP_OK)
        err = hist_exec(h, "COMMIT", msg, msglen);
    if (err != APP_OK) { /* a refused COMMIT leaves the transaction open too */
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
        return err;
    }
    memcpy(id, fresh, sizeof fresh);
    return APP_OK;
}

void hist_run_row_free(hist_run_row *row)
{
    if (row == NULL)
        return;
    free(row->result);
    row->result = NULL;
}

/* A nullable REAL column as seconds, or -1. */
static double time_column(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_double(st, col);
}

/* A nullable TEXT column into a fixed buffer ("" when NULL). */
static void text_column(sqlite3_stmt *st, int col, char *buf, size_t len)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(buf, len, "%s", t ? t : "");
}

app_err hist_run_get(hist *h, const char *id, hist_run_row *row, char *msg, size_t msglen)
{
    memset(row, 0, sizeof *row);
    if (strlen(id) != HIST_RUN_ID_LEN)
        return APP_ENOTFOUND;
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT client, status, created_at, started_at, finished_at, "
                               "task_pid, result, error_code, error_message, sandbox, chunks, "
                               "out_bytes, err_bytes, out_truncated, err_truncated FROM "
                               "async_executions WHERE id = ?",
                               "select", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    err = APP_ENOTFOUND;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memcpy(row->id, id, HIST_RUN_ID_LEN + 1);
        row->client = (uint64_t)sqlite3_column_int64(st, 0);
        row->status = status_of(sqlite3_column_text(st, 1));
        row->created_at = sqlite3_column_double(st, 2);
        row->started_at = time_column(st, 3);
        row->finished_at = time_column(st, 4);
        row->task_pid = (long)sqlite3_column_int64(st, 5);
        text_column(st, 7, row->error_code, sizeof row->error_code);
        text_column(st, 8, row->error_message, sizeof row->error_message);
        text_column(st, 9, row->sandbox, sizeof row->sandbox);
        row->chunks = sqlite3_column_int64(st, 10);
        row->out_bytes = sqlite3_column_int64(st, 11);
        row->err_bytes = sqlite3_column_int64(st, 12);
        row->out_truncated = sqlite3_column_int(st, 13) != 0;
        row->err_truncated = sqlite3_column_int(st, 14) != 0;
        err = APP_OK;
        const unsigned char *res = sqlite3_column_text(st, 6);
        if (res != NULL) {
            size_t n = (size_t)sqlite3_column_bytes(st, 6);
            row->result = malloc(n + 1);
            if (row->result == NULL) {
                err = APP_ENOMEM;
            } else {
                memcpy(row->result, res, n);
                row->result[n] = '\0';
                row->result_len = n;
            }
        }
    } else if (rc != SQLITE_DONE) {
        err = hist_db_fail(h, msg, msglen, "select");
    }
    sqlite3_finalize(st);
    if (err != APP_OK)
        hist_run_row_free(row);
    return err;
}

/* The chunk walk of hist_run_read, inside its transaction. */
static APP_MUST_CHECK app_err walk_chunks(hist *h, const char *id, long long after,
                                          hist_run_chunk_fn fn, void *ctx, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT seq, stderr, data FROM async_execution_output WHERE "
                               "run_id = ? AND seq > ? ORDER BY seq",
                               "output", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    sqlite3_bind_int64(st, 2, after);
    int rc = SQLITE_DONE;
    while (err == APP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *data = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        err = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1) != 0,
                 data != NULL ? data : "", len);
    }
    if (err == APP_OK && rc != SQLITE_DONE)
        err = hist_db_fail(h, msg, msglen, "output");
    sqlite3_finalize(st);
    return err;
}

app_err hist_run_read(hist *h, const char *id, long long after, hist_run_row *row,
                      hist_run_chunk_fn fn, void *ctx, char *msg, size_t msglen)
{
    memset(row, 0, sizeof *row);
    /* A deferred transaction: one snapshot from the first read on. */
    app_err err = hist_exec(h, "BEGIN", msg, msglen);
    if (err != APP_OK)
        return err;
    err = hist_run_get(h, id, row, msg, msglen);
    if (err == APP_OK && fn != NULL)
        err = walk_chunks(h, id, after, fn, ctx, msg, msglen);
    char ignored[APP_ERRMSG_LEN];
    /* Nothing was written: ending the read cannot lose anything. */
    app_ignore(hist_exec(h, "COMMIT", ignored, sizeof ignored));
    return err;
}

/* The writing half of hist_run_output_add, inside its transaction. */
static APP_MUST_CHECK app_err output_locked(hist *h, const char *id, const hist_run_piece *pieces,
                                            size_t n, const bool truncated[2], char *msg,
                                            size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT chunks FROM async_executions WHERE id = ? AND status = "
                               "'running'",
                               "output", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    int rc = sqlite3_step(st);
    long long seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return APP_OK; /* ended: its output is final */
    if (rc != SQLITE_ROW)
        return hist_db_fail(h, msg, msglen, "output");
    err = hist_prepare(h,
                       "INSERT INTO async_execution_output (run_id, seq, stderr, data) VALUES "
                       "(?, ?, ?, ?)",
                       "output insert", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    long long bytes[2] = {0, 0};
    for (size_t i = 0; i < n && err == APP_OK; i++) {
        hist_bind_str(st, 1, id);
        sqlite3_bind_int64(st, 2, ++seq);
        sqlite3_bind_int(st, 3, pieces[i].is_stderr ? 1 : 0);
        /* SQLITE_TRANSIENT: the caller's buffer is reused after the call. */
        sqlite3_bind_blob64(st, 4, pieces[i].data, pieces[i].len, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = hist_db_fail(h, msg, msglen, "output insert");
        sqlite3_reset(st);
        bytes[pieces[i].is_stderr ? 1 : 0] += (long long)pieces[i].len;
    }
    sqlite3_finalize(st);
    if (err != APP_OK)
        return err;
    err = hist_prepare(h,
                       "UPDATE async_executions SET chunks = ?, out_bytes = out_bytes + ?, "
                       "err_bytes = err_bytes + ?, bytes = bytes + ?, out_truncated = "
                       "max(out_truncated, ?), err_truncated = max(err_truncated, ?) WHERE id = ?",
                       "output count", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, bytes[0]);
    sqlite3_bind_int64(st, 3, bytes[1]);
    sqlite3_bind_int64(st, 4, bytes[0] + bytes[1]);
    sqlite3_bind_int(st, 5, truncated[0] ? 1 : 0);
    sqlite3_bind_int(st, 6, truncated[1] ? 1 : 0);
    hist_bind_str(st, 7, id);
    return hist_step_done(h, st, "output count", msg, msglen);
}

app_err hist_run_output_add(hist *h, const char *id, const hist_run_piece *pieces, size_t n,
                            const bool truncated[2], char *msg, size_t msglen)
{
    /* The status check, the numbering and the inserts in one write
     * transaction: a cancel in between cannot add output after the end. */
    app_err err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen);
    if (err != APP_OK)
        return err;
    err = output_locked(h, id, pieces, n, truncated, msg, msglen);
    if (err == APP_OK)
        err = hist_exec(h, "COMMIT", msg, msglen);
    if (err != APP_OK) {
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
    }
    return err;
}

/* Appends a text column to buf (nothing when NULL). */
static APP_MUST_CHECK app_err column_append(sqlite3_stmt *st, int col, sbuf *buf)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL ? sbuf_append(buf, t, (size_t)sqlite3_column_bytes(st, col)) : APP_OK;
}

/* The reading half of hist_run_claim, after its update took the row. */
static APP_MUST_CHECK app_err claim_read(hist *h, const char *id, uint64_t *client,
                                         char sandbox[HIST_RUN_SANDBOX_MAX + 1], sbuf *code,
                                         sbuf *data, sbuf *requirements, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT client, code, data, requirements, sandbox FROM "
                               "async_executions WHERE id = ?",
                               "claim", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *client = (uint64_t)sqlite3_column_int64(st, 0);
        err = column_append(st, 1, code);
        if (err == APP_OK)
            err = column_append(st, 2, data);
        if (err == APP_OK)
            err = column_append(st, 3, requirements);
        text_column(st, 4, sandbox, HIST_RUN_SANDBOX_MAX + 1);
    } else {
        err = hist_db_fail(h, msg, msglen, "claim read");
    }
    sqlite3_finalize(st);
    return err;
}

app_err hist_run_claim(hist *h, const char *id, long pid, uint64_t *client,
                       char sandbox[HIST_RUN_SANDBOX_MAX + 1], sbuf *code, sbuf *data,
                       sbuf *requirements, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "UPDATE async_executions SET status = 'running', task_pid = ?, "
                               "started_at = ? WHERE id = ? AND status = 'queued'",
                               "claim", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_int64(st, 1, pid);
    sqlite3_bind_double(st, 2, hist_now_s());
    hist_bind_str(st, 3, id);
    err = hist_step_done(h, st, "claim", msg, msglen);
    if (err != APP_OK)
        return err;
    /* sqlite3_changes() is this connection's last statement: ours. */
    if (sqlite3_changes(h->db) != 1)
        return APP_ENOTFOUND;
    return claim_read(h, id, client, sandbox, code, data, requirements, msg, msglen);
}

app_err hist_run_finish_output(hist *h, const char *id, const hist_run_piece *pieces, size_t n,
                               const bool truncated[2], hist_run_status status, const char *result,
                               size_t len, const char *error_code, const char *error_message,
                               char *msg, size_t msglen)
{
    if (n == 0 && !truncated[0] && !truncated[1])
        return hist_run_finish(h, id, status, result, len, error_code, error_message, msg, msglen);
    /* One write transaction: a reader never sees the end without the
     * output, and the run's last write is one commit, not two. */
    app_err err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen);
    if (err != APP_OK)
        return err;
    err = output_locked(h, id, pieces, n, truncated, msg, msglen);
    if (err == APP_OK)
        err = hist_run_finish(h, id, status, result, len, error_code, error_message, msg, msglen);
    if (err == APP_OK)
        err = hist_exec(h, "COMMIT", msg, msglen);
    if (err != APP_OK) {
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
    }
    return err;
}

app_err hist_run_finish(hist *h, const char *id, hist_run_status status, const char *result,
                        size_t len, const char *error_code, const char *error_message, char *msg,
                        size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(
        h,
        "UPDATE async_executions SET status = ?, finished_at = ?, result = "
        "?, error_code = ?, error_message = ?, code = NULL, data = NULL, "
        "requirements = NULL, bytes = ? + out_bytes + err_bytes WHERE id = ? AND status IN "
        "('queued', 'running')",
        "finish", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    size_t emlen = error_message != NULL ? strlen(error_message) : 0;
    hist_bind_str(st, 1, hist_run_status_name(status));
    sqlite3_bind_double(st, 2, hist_now_s());
    hist_bind_text(st, 3, result, len);
    hist_bind_str(st, 4, error_code);
    hist_bind_text(st, 5, error_message, emlen);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)((result != NULL ? len : 0) + emlen));
    hist_bind_str(st, 7, id);
    return hist_step_done(h, st, "finish", msg, msglen);
}

/* The reading half of hist_run_cancel, inside its transaction. */
static APP_MUST_CHECK app_err cancel_locked(hist *h, const char *id, hist_run_status *was,
                                            long *pid, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h, "SELECT status, task_pid FROM async_executions WHERE id = ?",
                               "cancel", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *was = status_of(sqlite3_column_text(st, 0));
        *pid = (long)sqlite3_column_int64(st, 1);
    } else {
        err = rc == SQLITE_DONE ? APP_ENOTFOUND : hist_db_fail(h, msg, msglen, "cancel");
    }
    sqlite3_finalize(st);
    if (err != APP_OK || !hist_run_active(*was))
        return err;
    return hist_run_finish(h, id, HIST_RUN_CANCELLED, NULL, 0, "cancelled",
                           "the execution was cancelled (DELETE)", msg, msglen);
}

app_err hist_run_cancel(hist *h, const char *id, hist_run_status *was, long *pid, char *msg,
                        size_t msglen)
{
    *was = HIST_RUN_FAILED;
    *pid = 0;
    if (strlen(id) != HIST_RUN_ID_LEN)
        return APP_ENOTFOUND;
    /* Read and change together: the status answered is the one changed. */
    app_err err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen);
    if (err != APP_OK)
        return err;
    err = cancel_locked(h, id, was, pid, msg, msglen);
    if (err == APP_OK)
        err = hist_exec(h, "COMMIT", msg, msglen);
    if (err != APP_OK) {
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
    }
    return err;
}

app_err hist_run_delete(hist *h, const char *id, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h, "DELETE FROM async_executions WHERE id = ?", "delete", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    return hist_step_done(h, st, "delete", msg, msglen);
}

app_err hist_run_active_each(hist *h, hist_run_active_fn fn, void *ctx, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT id, status, task_pid, created_at FROM async_executions "
                               "WHERE status IN ('queued', 'running') ORDER BY created_at",
                               "active", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    int rc = SQLITE_DONE;
    while (err == APP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id == NULL) /* a NOT NULL primary key: never, but never crash on it */
            continue;
        err = fn(ctx, id, status_of(sqlite3_column_text(st, 1)), (long)sqlite3_column_int64(st, 2),
                 sqlite3_column_double(st, 3));
    }
    if (err == APP_OK && rc != SQLITE_DONE)
        err = hist_db_fail(h, msg, msglen, "active");
    sqlite3_finalize(st);
    return err;
}

void hist_run_purge(hist *h, double retention_s)
{
    sqlite3_stmt *st = NULL;
    char ignored[APP_ERRMSG_LEN];
    double before = hist_now_s() - retention_s;
    /* Most calls find nothing to purge: a read says so without the write
     * lock, which every request taking it would make the tasks wait for. */
    if (hist_prepare(h, "SELECT 1 FROM async_executions WHERE finished_at < ? LIMIT 1", "purge",
                     &st, ignored, sizeof ignored) != APP_OK)
        return;
    sqlite3_bind_double(st, 1, before);
    bool some = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (some && hist_prepare(h, "DELETE FROM async_executions WHERE finished_at < ?", "purge", &st,
                             ignored, sizeof ignored) == APP_OK) {
        sqlite3_bind_double(st, 1, before);
        app_ignore(hist_step_done(h, st, "purge", ignored, sizeof ignored)); /* retried next call */
    }
}
