/* test_dbq.c - the broker's database layer on a SQLite file (dbq_serve):
 * answers, types, caps, and every kind of write refused with the file
 * unchanged byte for byte.  (PostgreSQL: tests/http/test_dbq.py.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "dbq.h"
#include "unit.h"

static char db_path[64];
static dbq *q;

static const dbq_limits lim = {.max_rows = 100, .max_bytes = 1u << 20, .timeout_ms = 2000};

static void *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1u << 20);
    assert_non_null(buf);
    *n = fread(buf, 1, 1u << 20, f);
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    snprintf(db_path, sizeof db_path, "/tmp/pysb-test-dbq-%d.db", (int)getpid());
    unlink(db_path);
    sqlite3 *db;
    if (sqlite3_open(db_path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, x REAL, b BLOB);"
                     "INSERT INTO t VALUES (1, 'one', 1.5, x'00ff'), (2, 'naïve', NULL, NULL),"
                     " (9007199254740993, 'big', -2.0, NULL);"
                     "CREATE INDEX t_name ON t (name);",
                     NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_close(db);
    dbq_err e;
    char msg[APP_ERRMSG_LEN];
    q = dbq_open(db_path, &e, msg, sizeof msg);
    return q != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dbq_free(q);
    unlink(db_path);
    return 0;
}

/* Serves json and returns the parsed answer (cJSON_Delete it). */
static cJSON *serve(const char *json, const dbq_limits *l)
{
    sbuf out;
    sbuf_init(&out, DBW_MAX_ANSWER);
    dbq_outcome o;
    assert_int_equal(dbq_serve(q, "", json, strlen(json), l ? l : &lim, &out, &o), APP_OK);
    cJSON *a = cJSON_Parse(sbuf_str(&out));
    if (a == NULL)
        fail_msg("not JSON: %s", sbuf_str(&out));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a, "ok")) == (o.err == DBQ_OK));
    dbq_outcome_free(&o);
    sbuf_free(&out);
    return a;
}

static const char *error_type(const cJSON *a)
{
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "error"), "type");
    return cJSON_IsString(t) ? t->valuestring : "(ok)";
}

static void answers_rows_with_their_types(void **state)
{
    (void)state;
    cJSON *a = serve("{\"op\":\"query\",\"sql\":\"SELECT * FROM t WHERE id BETWEEN :lo AND ?2 "
                     "ORDER BY id\",\"params\":{\"lo\":1,\"2\":2}}",
                     NULL);
    assert_string_equal(error_type(a), "DatabaseError"); /* "2" is not a name */
    cJSON_Delete(a);
    a = serve("{\"op\":\"query\",\"sql\":\"SELECT * FROM t WHERE id BETWEEN ? AND ? ORDER BY id\","
              "\"params\":[1,2]}",
              NULL);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, "rows"));
    assert_string_equal(text, "[[1,\"one\",1.5,{\"__type__\":\"bytes\",\"base64\":\"AP8=\"}],"
                              "[2,\"naïve\",null,null]]");
    free(text);
    assert_int_equal(cJSON_GetObjectItem(a, "row_count")->valueint, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(a, "truncated")));
    cJSON_Delete(a);
    /* A big integer keeps its digits in the JSON text itself. */
    sbuf out;
    sbuf_init(&out, DBW_MAX_ANSWER);
    dbq_outcome o;
    const char *big = "{\"op\":\"query\",\"sql\":\"SELECT id, x FROM t WHERE id > 2\"}";
    assert_int_equal(dbq_serve(q, "", big, strlen(big), &lim, &out, &o), APP_OK);
    assert_non_null(strstr(sbuf_str(&out), "[[9007199254740993,-2.0]]"));
    assert_int_equal(o.rows, 1);
    dbq_outcome_free(&o);
    sbuf_free(&out);
}

static void tables_and_schema(void **state)
{
    (void)state;
    cJSON *a = serve("{\"op\":\"tables\"}", NULL);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, "tables"));
    assert_string_equal(text, "[\"t\"]");
    free(text);
    cJSON_Delete(a);
    a = serve("{\"op\":\"schema\",\"table\":\"t\"}", NULL);
    text = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, "columns"));
    assert_non_null(strstr(text, "{\"name\":\"id\",\"type\":\"INTEGER\",\"nullable\":false,"
                                 "\"key\":\"primary\"}"));
    assert_non_null(strstr(text, "{\"name\":\"x\",\"type\":\"REAL\",\"nullable\":true,"
                                 "\"key\":null}"));
    free(text);
    cJSON_Delete(a);
    a = serve("{\"op\":\"schema\",\"table\":\"t') --\"}", NULL);
    assert_string_equal(error_type(a), "DatabaseError");
    cJSON_Delete(a);
}

static void refuses_every_write_and_the_file_stays_the_same(void **state)
{
    (void)state;
    static const char *const writes[] = {
        "UPDATE t SET name = 'x'",
        "INSERT INTO t (name) VALUES ('x')",
        "DELETE FROM t",
        "DROP TABLE t",
        "CREATE TABLE u (x)",
        "CREATE TEMP TABLE u (x)",
        "ALTER TABLE t ADD COLUMN y",
        "CREATE INDEX i2 ON t (x)",
        "DROP INDEX t_name",
        "ATTACH DATABASE '/tmp/pysb-test-dbq-attach.db' AS o",
        "DETACH DATABASE main",
        "PRAGMA query_only = 0",
        "PRAGMA user_version = 3",
        "PRAGMA journal_mode = WAL",
        "PRAGMA writable_schema = 1",
        "VACUUM",
        "VACUUM INTO '/tmp/pysb-test-dbq-copy.db'",
        "REINDEX",
        "ANALYZE",
        "BEGIN",
        "SAVEPOINT s",
        "SELECT load_extension('x')",
        "WITH c AS (SELECT 1) DELETE FROM t",
        "REPLACE INTO t (id, name) VALUES (1, 'z')",
    };
    size_t before_n, after_n;
    char *before = slurp(db_path, &before_n);
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"op\":\"query\",\"sql\":\"%s\"}", writes[i]);
        cJSON *a = serve(json, NULL);
        if (strcmp(error_type(a), "DatabaseReadOnly") != 0)
            fail_msg("%s: %s", writes[i], error_type(a));
        cJSON_Delete(a);
    }
    char *after = slurp(db_path, &after_n);
    assert_int_equal(before_n, after_n);
    assert_memory_equal(before, after, before_n);
    assert_int_equal(access("/tmp/pysb-test-dbq-attach.db", F_OK), -1);
    assert_int_equal(access("/tmp/pysb-test-dbq-copy.db", F_OK), -1);
    free(before);
    free(after);
}

static void caps_rows_bytes_and_time(void **state)
{
    (void)state;
    dbq_limits small = lim;
    small.max_rows = 2;
    cJSON *a = serve("{\"op\":\"query\",\"sql\":\"SELECT id FROM t ORDER BY id\"}", &small);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "rows")), 2);
    assert_string_equal(cJSON_GetObjectItem(a, "truncated_reason")->valuestring, "rows");
    cJSON_Delete(a);
    small = lim;
    small.max_bytes = 40;
    a = serve("{\"op\":\"query\",\"sql\":\"SELECT * FROM t ORDER BY id\"}", &small);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(a, "rows")) < 3);
    assert_string_equal(cJSON_GetObjectItem(a, "truncated_reason")->valuestring, "bytes");
    cJSON_Delete(a);
    small = lim;
    small.timeout_ms = 100;
    a = serve("{\"op\":\"query\",\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
              "FROM c) SELECT count(*) FROM c\"}",
              &small);
    assert_string_equal(error_type(a), "DatabaseTimeout");
    cJSON_Delete(a);
    /* The connection still answers afterwards. */
    a = serve("{\"op\":\"query\",\"sql\":\"SELECT 1\"}", NULL);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a, "ok")));
    cJSON_Delete(a);
}

static void parameters_must_match(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"op\":\"query\",\"sql\":\"SELECT :a\"}",
        "{\"op\":\"query\",\"sql\":\"SELECT :a\",\"params\":{\"b\":1}}",
        "{\"op\":\"query\",\"sql\":\"SELECT ?\",\"params\":[1,2]}",
        "{\"op\":\"query\",\"sql\":\"SELECT 1; SELECT 2\"}",
        "{\"op\":\"query\",\"sql\":\"-- nothing\"}",
        "{\"op\":\"query\",\"sql\":\"SELECT nope\"}",
        "{not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *a = serve(bad[i], NULL);
        if (strcmp(error_type(a), "DatabaseError") != 0)
            fail_msg("%s: %s", bad[i], error_type(a));
        cJSON_Delete(a);
    }
    cJSON *a =
        serve("{\"op\":\"query\",\"sql\":\"SELECT @a + $b + ?3\",\"params\":{\"a\":1,\"b\":2,"
              "\"3\":3}}",
              NULL);
    assert_string_equal(error_type(a), "DatabaseError"); /* "3" is no name */
    cJSON_Delete(a);
    a = serve("{\"op\":\"query\",\"sql\":\"SELECT @a + $b AS s\",\"params\":{\"a\":1,\"b\":2}}",
              NULL);
    assert_int_equal(
        cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "rows"), 0), 0)->valueint, 3);
    cJSON_Delete(a);
}

static void no_database_is_unavailable(void **state)
{
    (void)state;
    dbq_err e;
    char msg[APP_ERRMSG_LEN];
    assert_null(dbq_open("/nonexistent/pysb.db", &e, msg, sizeof msg));
    assert_int_equal(e, DBQ_EUNAVAILABLE);
    sbuf out;
    sbuf_init(&out, 4096);
    dbq_outcome o;
    const char *json = "{\"op\":\"tables\"}";
    assert_int_equal(dbq_serve(NULL, msg, json, strlen(json), &lim, &out, &o), APP_OK);
    assert_non_null(strstr(sbuf_str(&out), "\"DatabaseUnavailable\""));
    dbq_outcome_free(&o);
    sbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_rows_with_their_types),
        cmocka_unit_test(tables_and_schema),
        cmocka_unit_test(refuses_every_write_and_the_file_stays_the_same),
        cmocka_unit_test(caps_rows_bytes_and_time),
        cmocka_unit_test(parameters_must_match),
        cmocka_unit_test(no_database_is_unavailable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
