/* hist_j0.c - the Judge0-compatible API's submissions: all of its SQL. */
#include "hist_j0.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist-int.h"

void hist_j0_row_free(hist_j0_row *row)
{
    if (row == NULL)
        return;
    free(row->request);
    free(row->result);
    row->request = row->result = NULL;
}

app_err hist_j0_insert(hist *h, const char *token, long language_id, const char *request,
                       int status_id, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h,
                     "INSERT INTO judge0_submissions (token, created_at, finished_at, "
                     "language_id, request, status_id, result) VALUES (?, ?, NULL, ?, ?, ?, "
                     "NULL)",
                     "", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, token);
    sqlite3_bind_double(st, 2, hist_now_s());
    sqlite3_bind_int64(st, 3, language_id);
    hist_bind_str(st, 4, request);
    sqlite3_bind_int64(st, 5, status_id);
    return hist_step_done(h, st, "step", msg, msglen);
}

/* A copy of a text column (NULL when the column is NULL or malloc fails). */
static char *column_copy(sqlite3_stmt *st, int col, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t == NULL)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, t, n);
        p[n] = '\0';
        *len = n;
    }
    return p;
}

app_err hist_j0_get(hist *h, const char *token, hist_j0_row *row, char *msg, size_t msglen)
{
    memset(row, 0, sizeof *row);
    if (strlen(token) > HIST_J0_TOKEN_LEN)
        return APP_ENOTFOUND;
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h,
                     "SELECT created_at, finished_at, language_id, request, status_id, result "
                     "FROM judge0_submissions WHERE token = ? AND created_at >= ?",
                     "", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, token);
    sqlite3_bind_double(st, 2, hist_now_s() - HIST_SUBMISSION_TTL_S);
    err = APP_ENOTFOUND;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(row->token, sizeof row->token, "%s", token);
        row->created_at = sqlite3_column_double(st, 0);
        row->finished_at =
            sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 1);
        row->language_id = (long)sqlite3_column_int64(st, 2);
        row->status_id = sqlite3_column_int(st, 4);
        row->request = column_copy(st, 3, &row->request_len);
        row->result = column_copy(st, 5, &row->result_len);
        err = row->request == NULL ||
                      (row->result == NULL && sqlite3_column_type(st, 5) != SQLITE_NULL)
                  ? APP_ENOMEM
                  : APP_OK;
    } else if (rc != SQLITE_DONE) {
        err = hist_db_fail(h, msg, msglen, "select");
    }
    sqlite3_finalize(st);
    if (err != APP_OK)
        hist_j0_row_free(row);
    return err;
}

app_err hist_j0_set_status(hist *h, const char *token, int status_id, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h, "UPDATE judge0_submissions SET status_id = ? WHERE token = ?", "",
                               &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_int64(st, 1, status_id);
    hist_bind_str(st, 2, token);
    return hist_step_done(h, st, "step", msg, msglen);
}

app_err hist_j0_finish(hist *h, const char *token, int status_id, const char *result, char *msg,
                       size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h,
                     "UPDATE judge0_submissions SET status_id = ?, finished_at = ?, result = ? "
                     "WHERE token = ?",
                     "", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_int64(st, 1, status_id);
    sqlite3_bind_double(st, 2, hist_now_s());
    hist_bind_str(st, 3, result);
    hist_bind_str(st, 4, token);
    return hist_step_done(h, st, "step", msg, msglen);
}

app_err hist_j0_delete(hist *h, const char *token, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h, "DELETE FROM judge0_submissions WHERE token = ?", "", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, token);
    return hist_step_done(h, st, "step", msg, msglen);
}

app_err hist_j0_queue_size(hist *h, long *n, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err =
        hist_prepare(h, "SELECT count(*) FROM judge0_submissions WHERE status_id IN (1, 2)", "",
                     &st, msg, msglen);
    if (err != APP_OK)
        return err;
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(st, 0);
    else
        err = hist_db_fail(h, msg, msglen, "count");
    sqlite3_finalize(st);
    return err;
}

app_err hist_j0_count_by(hist *h, hist_j0_group by, hist_j0_count_fn *fn, void *ctx, char *msg,
                         size_t msglen)
{
    static const char *const sql[] = {
        [HIST_J0_BY_LANGUAGE] = "SELECT language_id, count(*) AS n FROM judge0_submissions "
                                "WHERE created_at >= ? GROUP BY 1 ORDER BY n DESC, 1",
        [HIST_J0_BY_STATUS] = "SELECT status_id, count(*) AS n FROM judge0_submissions "
                              "WHERE created_at >= ? GROUP BY 1 ORDER BY n DESC, 1",
        [HIST_J0_BY_DAY] = "SELECT CAST(created_at / 86400 AS INTEGER), count(*) AS n "
                           "FROM judge0_submissions WHERE created_at >= ? GROUP BY 1 "
                           "ORDER BY n DESC, 1",
    };
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h, sql[by], "", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_double(st, 1, hist_now_s() - HIST_SUBMISSION_TTL_S);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1));
    if (rc != SQLITE_DONE)
        err = hist_db_fail(h, msg, msglen, "count");
    sqlite3_finalize(st);
    return err;
}

app_err hist_j0_store_bytes(hist *h, long long *bytes, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(
        h, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", "", &st,
        msg, msglen);
    if (err != APP_OK)
        return err;
    if (sqlite3_step(st) == SQLITE_ROW)
        *bytes = (long long)sqlite3_column_int64(st, 0);
    else
        err = hist_db_fail(h, msg, msglen, "size");
    sqlite3_finalize(st);
    return err;
}

void hist_j0_purge(hist *h, double lost_after_s)
{
    double now = hist_now_s();
    sqlite3_stmt *st = NULL;
    char ignored[APP_ERRMSG_LEN];
    if (hist_prepare(h, "DELETE FROM judge0_submissions WHERE created_at < ?", "", &st, ignored,
                     sizeof ignored) == APP_OK) {
        sqlite3_bind_double(st, 1, now - HIST_SUBMISSION_TTL_S);
        app_ignore(hist_step_done(h, st, "step", ignored, sizeof ignored)); /* retried next call */
    }
    /* 1 and 2 are Judge0's In Queue and Processing, 13 its Internal Error. */
    if (hist_prepare(
            h,
            "UPDATE judge0_submissions SET status_id = 13, finished_at = ?, result = "
            "'{\"message\":\"the run was lost (its task ended or the service restarted)\"}' "
            "WHERE status_id IN (1, 2) AND created_at < ?",
            "", &st, ignored, sizeof ignored) == APP_OK) {
        sqlite3_bind_double(st, 1, now);
        sqlite3_bind_double(st, 2, now - lost_after_s);
        app_ignore(hist_step_done(h, st, "step", ignored, sizeof ignored)); /* retried next call */
    }
}
