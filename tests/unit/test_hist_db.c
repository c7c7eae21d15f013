/* test_hist_db.c - the agent database's query log in the store (hist_db.c),
 * over a real store file. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hist_db.h"
#include "jscan.h"
#include "unit.h"

typedef struct fixture {
    char path[64];
    hist *db;
    sbuf out;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char msg[APP_ERRMSG_LEN];
    if (f == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "/tmp/test_hist_db.%d.db", (int)getpid());
    if (hist_open(f->path, &f->db, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "setup: %s\n", msg);
        free(f);
        return -1;
    }
    sbuf_init(&f->out, 64u * 1024 * 1024);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sbuf_free(&f->out);
    hist_close(f->db);
    char p[96];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    free(f);
    return 0;
}

static hist_db_entry entry(const char *sandbox, const char *sql)
{
    hist_db_entry e = {.sandbox = sandbox,
                       .origin = "jail",
                       .op = "query",
                       .query = sql,
                       .query_len = sql != NULL ? strlen(sql) : 0,
                       .params = NULL,
                       .rows = 1,
                       .truncated = false,
                       .duration_ms = 0.25,
                       .outcome = "ok",
                       .message = NULL};
    return e;
}

static void log_ok(fixture *f, const hist_db_entry *e)
{
    char msg[APP_ERRMSG_LEN];
    app_err err = hist_db_log(f->db, e, msg, sizeof msg);
    if (err != APP_OK)
        fail_msg("hist_db_log: %s", msg);
}

/* Lists into f->out (emptied first), checks it is a JSON array and
 * returns how many rows it holds. */
static size_t list(fixture *f, const char *sandbox, unsigned limit)
{
    char msg[APP_ERRMSG_LEN];
    sbuf_reset(&f->out);
    app_err err = hist_db_log_list(f->db, sandbox, limit, &f->out, msg, sizeof msg);
    if (err != APP_OK)
        fail_msg("hist_db_log_list: %s", msg);
    js_span root, k, v;
    assert_int_equal(js_validate(f->out.data, f->out.len, &root, msg, sizeof msg), APP_OK);
    assert_int_equal(root.type, JS_ARRAY);
    js_iter it;
    js_iter_init(&it, f->out.data, root);
    size_t n = 0;
    while (js_iter_next(&it, &k, &v))
        n++;
    return n;
}

static const char sbx_a[] = "0123456789abcdef0123456789abcdef";
static const char sbx_b[] = "fedcba9876543210fedcba9876543210";

static void test_log_and_list_newest_first(void **state)
{
    fixture *f = *state;
    hist_db_entry e = entry(sbx_a, "SELECT 1");
    e.params = "{\"id\":\"int\",\"name\":\"text\"}";
    log_ok(f, &e);
    e = entry(sbx_a, "UPDATE users SET name = 'x'");
    e.origin = "api";
    e.rows = -1;
    e.duration_ms = 1.5;
    e.outcome = "DatabaseReadOnly";
    e.message = "attempt to write a readonly database";
    log_ok(f, &e);
    e = entry(sbx_a, "users");
    e.op = "schema";
    e.origin = "mcp";
    e.rows = 3;
    e.truncated = true;
    e.params = "[\"int\",\"text\"]";
    log_ok(f, &e);

    assert_int_equal(list(f, sbx_a, 50), 3);
    const char *s = sbuf_str(&f->out);
    /* Newest first. */
    const char *schema = strstr(s, "\"op\":\"schema\"");
    const char *update = strstr(s, "UPDATE users");
    const char *select = strstr(s, "SELECT 1");
    assert_non_null(schema);
    assert_non_null(update);
    assert_non_null(select);
    assert_true(schema < update && update < select);
    /* Every member, params back as JSON (not a string). */
    assert_contains(s, "\"origin\":\"mcp\",\"op\":\"schema\",\"query\":\"users\","
                       "\"params\":[\"int\",\"text\"],\"rows\":3,\"truncated\":true,"
                       "\"duration_ms\":0.250,\"outcome\":\"ok\",\"message\":null}");
    assert_contains(s, "\"params\":{\"id\":\"int\",\"name\":\"text\"},\"rows\":1,"
                       "\"truncated\":false");
    assert_contains(s, "\"origin\":\"api\",\"op\":\"query\",\"query\":\"UPDATE users SET name = "
                       "'x'\",\"params\":null,\"rows\":null,\"truncated\":false,"
                       "\"duration_ms\":1.500,\"outcome\":\"DatabaseReadOnly\",\"message\":"
                       "\"attempt to write a readonly database\"}");
    /* An ISO-8601 UTC time. */
    assert_contains(s, "{\"at\":\"20");
    assert_contains(s, "Z\",\"origin\"");
}

static void test_limit_and_sandbox_filter(void **state)
{
    fixture *f = *state;
    char sql[32];
    for (int i = 0; i < 7; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        hist_db_entry e = entry(i % 2 ? sbx_a : sbx_b, sql);
        log_ok(f, &e);
    }
    hist_db_entry one_shot = entry(NULL, "SELECT 'one-shot'");
    log_ok(f, &one_shot);

    assert_int_equal(list(f, sbx_a, 50), 3);
    assert_not_contains(sbuf_str(&f->out), "SELECT 0");
    assert_not_contains(sbuf_str(&f->out), "one-shot");
    assert_int_equal(list(f, sbx_b, 50), 4);
    assert_int_equal(list(f, sbx_b, 2), 2);
    assert_contains(sbuf_str(&f->out), "SELECT 6");
    assert_contains(sbuf_str(&f->out), "SELECT 4");
    assert_not_contains(sbuf_str(&f->out), "SELECT 2");
    /* NULL: the one-shot runs' queries only. */
    assert_int_equal(list(f, NULL, HIST_MAX_PAGE), 1);
    assert_contains(sbuf_str(&f->out), "one-shot");
    assert_int_equal(list(f, "00000000000000000000000000000000", 10), 0);
    assert_string_equal(sbuf_str(&f->out), "[]");

    char msg[APP_ERRMSG_LEN];
    assert_int_equal(hist_db_log_list(f->db, sbx_a, 0, &f->out, msg, sizeof msg), APP_EFIELD);
    assert_int_equal(hist_db_log_list(f->db, sbx_a, HIST_MAX_PAGE + 1, &f->out, msg, sizeof msg),
                     APP_EFIELD);
}

static void test_bad_entries_are_refused(void **state)
{
    fixture *f = *state;
    char msg[APP_ERRMSG_LEN];
    hist_db_entry e = entry(sbx_a, "SELECT 1");
    e.origin = "web";
    assert_int_equal(hist_db_log(f->db, &e, msg, sizeof msg), APP_EFIELD);
    e = entry(sbx_a, "SELECT 1");
    e.op = "insert";
    assert_int_equal(hist_db_log(f->db, &e, msg, sizeof msg), APP_EFIELD);
    e = entry(sbx_a, "SELECT 1");
    e.outcome = NULL;
    assert_int_equal(hist_db_log(f->db, &e, msg, sizeof msg), APP_EFIELD);
    char long_id[HIST_DB_LOG_MAX_NAME + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    e = entry(long_id, "SELECT 1");
    assert_int_equal(hist_db_log(f->db, &e, msg, sizeof msg), APP_EFIELD);
    assert_int_equal(list(f, sbx_a, 10), 0);
}

static void test_texts_are_capped_at_a_character(void **state)
{
    fixture *f = *state;
    /* "é" (2 bytes) repeated so that the cap falls inside one. */
    size_t n = HIST_DB_LOG_MAX_TEXT + 101;
    char *big = malloc(n + 1);
    assert_non_null(big);
    big[0] = 'x';
    for (size_t i = 1; i + 1 < n; i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9;
    }
    big[n] = '\0';
    hist_db_entry e = entry(sbx_a, big);
    e.query_len = n;
    e.message = big;
    /* Params past the cap are no longer JSON: they come back as a string. */
    char *params = malloc(HIST_DB_LOG_MAX_TEXT + 16);
    assert_non_null(params);
    memset(params, ' ', HIST_DB_LOG_MAX_TEXT + 15);
    params[0] = '[';
    params[HIST_DB_LOG_MAX_TEXT + 10] = '1';
    params[HIST_DB_LOG_MAX_TEXT + 14] = ']';
    params[HIST_DB_LOG_MAX_TEXT + 15] = '\0';
    e.params = params;
    log_ok(f, &e);
    assert_int_equal(list(f, sbx_a, 1), 1);
    js_span root, k, row, v;
    char msg[APP_ERRMSG_LEN];
    const char *doc = f->out.data;
    assert_int_equal(js_validate(doc, f->out.len, &root, msg, sizeof msg), APP_OK);
    js_iter it, members;
    js_iter_init(&it, doc, root);
    assert_true(js_iter_next(&it, &k, &row));
    js_iter_init(&members, doc, row);
    int seen = 0;
    while (js_iter_next(&members, &k, &v)) {
        if (js_string_equals(doc, k, "query") || js_string_equals(doc, k, "message")) {
            sbuf text;
            sbuf_init(&text, 2 * HIST_DB_LOG_MAX_TEXT);
            assert_int_equal(js_string_decode(doc, v, &text, NULL), APP_OK);
            /* 1 + 2k bytes: the last whole character before the cap. */
            assert_int_equal(text.len, HIST_DB_LOG_MAX_TEXT - 1);
            assert_memory_equal(text.data, big, text.len);
            sbuf_free(&text);
            seen++;
        } else if (js_string_equals(doc, k, "params")) {
            assert_int_equal(v.type, JS_STRING);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    free(params);
    free(big);
}

static void test_params_round_trip_as_json(void **state)
{
    fixture *f = *state;
    static const char *const shapes[] = {
        "{\"id\":\"int\"}",
        "[\"int\",\"text\",\"null\",\"real\",\"bool\"]",
        "{\"name\":\"O'Brien \\\"q\\\" \\u00e9\",\"n\":12345678901234567890,\"x\":1.0}",
        "[]",
        "null",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        hist_db_entry e = entry(sbx_b, "SELECT :id");
        e.params = shapes[i];
        log_ok(f, &e);
        assert_int_equal(list(f, sbx_b, 1), 1);
        char want[256];
        snprintf(want, sizeof want, "\"params\":%s,\"rows\"", shapes[i]);
        assert_contains(sbuf_str(&f->out), want);
    }
    /* Text that is not JSON comes back as a string, so the list stays JSON. */
    hist_db_entry e = entry(sbx_b, "SELECT 1");
    e.params = "{not json";
    log_ok(f, &e);
    assert_int_equal(list(f, sbx_b, 1), 1);
    assert_contains(sbuf_str(&f->out), "\"params\":\"{not json\"");
}

/* Stands for rows logged up to id upto (the store's own connection does
 * not see this one's transaction: a second connection to the file), so
 * the prune points are reached without 200,000 calls. */
static void fill(fixture *f, long long upto)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(raw, 10000);
    assert_int_equal(sqlite3_prepare_v2(raw,
                                        "WITH RECURSIVE n(i) AS (SELECT max(id) + 1 FROM "
                                        "db_queries UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                                        "INSERT INTO db_queries (id, at, sandbox, origin, op, "
                                        "query, row_count, outcome) SELECT i, 0, ?, 'jail', "
                                        "'query', 'SELECT 2', 1, 'ok' FROM n",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, upto);
    sqlite3_bind_text(st, 2, sbx_b, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(raw);
}

/* Rows in the table, through a second connection. */
static long long count_rows(fixture *f)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "SELECT count(*) FROM db_queries", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return n;
}

static void test_pruning_keeps_the_newest(void **state)
{
    fixture *f = *state;
    hist_db_entry first = entry(sbx_a, "SELECT 'first'"); /* id 1 */
    log_ok(f, &first);
    hist_db_entry e = entry(sbx_b, "SELECT 2");
    /* Ids that are not a multiple of HIST_DB_LOG_PRUNE_EVERY prune nothing. */
    fill(f, HIST_DB_LOG_KEEP - 2);
    log_ok(f, &e);
    assert_int_equal(count_rows(f), HIST_DB_LOG_KEEP - 1);
    assert_int_equal(list(f, sbx_a, 10), 1);
    /* Id HIST_DB_LOG_KEEP prunes to KEEP - PRUNE_EVERY rows: the first went. */
    log_ok(f, &e);
    assert_int_equal(count_rows(f), HIST_DB_LOG_KEEP - HIST_DB_LOG_PRUNE_EVERY);
    assert_int_equal(list(f, sbx_a, 10), 0);
    assert_int_equal(list(f, sbx_b, HIST_MAX_PAGE), HIST_MAX_PAGE);
    /* A row logged just after a prune is still there when KEEP - 1 newer
     * rows exist and goes with the next prune (at the KEEP-th): so the
     * table never holds more than KEEP rows. */
    hist_db_entry mark = entry(sbx_a, "SELECT 'mark'"); /* id KEEP + 1 */
    log_ok(f, &mark);
    fill(f, 2 * HIST_DB_LOG_KEEP - 1);
    assert_int_equal(list(f, sbx_a, 10), 1);
    log_ok(f, &e); /* id 2 KEEP: a prune */
    assert_int_equal(count_rows(f), HIST_DB_LOG_KEEP - HIST_DB_LOG_PRUNE_EVERY);
    assert_int_equal(list(f, sbx_a, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_and_list_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_sandbox_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_entries_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_texts_are_capped_at_a_character, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_round_trip_as_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pruning_keeps_the_newest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
