/* test_dbwire.c - decoding the database requests jailed programs send. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbwire.h"
#include "sbuf.h"
#include "unit.h"

static APP_MUST_CHECK app_err decode(const char *json, dbw_request *r)
{
    char msg[APP_ERRMSG_LEN] = "";
    app_err e = dbw_decode(json, strlen(json), r, msg, sizeof msg);
    if (e != APP_OK)
        assert_true(msg[0] != '\0'); /* every refusal says why */
    return e;
}

static void decodes_the_three_ops(void **state)
{
    (void)state;
    dbw_request r;
    assert_int_equal(decode("{\"op\":\"query\",\"sql\":\"SELECT :id\",\"params\":{\":id\":7}}", &r),
                     APP_OK);
    assert_int_equal(r.op, DBW_QUERY);
    assert_string_equal(r.sql, "SELECT :id");
    assert_true(r.named);
    assert_int_equal(r.nparams, 1);
    assert_string_equal(r.params[0].name, "id"); /* ":id" and "id" are one name */
    assert_int_equal(r.params[0].type, DBW_INT);
    assert_int_equal(r.params[0].i, 7);
    dbw_request_free(&r);

    assert_int_equal(
        decode("{\"op\":\"query\",\"sql\":\"x\",\"params\":[null,true,1.5,\"t\\u00e9\","
               "9223372036854775807,9223372036854775808]}",
               &r),
        APP_OK);
    assert_false(r.named);
    assert_int_equal(r.nparams, 6);
    assert_int_equal(r.params[0].type, DBW_NULL);
    assert_int_equal(r.params[1].type, DBW_BOOL);
    assert_int_equal(r.params[2].type, DBW_REAL);
    assert_int_equal(r.params[3].type, DBW_TEXT);
    assert_int_equal(r.params[3].len, 3);
    assert_int_equal(r.params[4].type, DBW_INT);
    assert_int_equal(r.params[5].type, DBW_REAL); /* past int64: a double */
    dbw_request_free(&r);

    assert_int_equal(decode("{\"op\":\"tables\"}", &r), APP_OK);
    assert_int_equal(r.op, DBW_TABLES);
    dbw_request_free(&r);
    assert_int_equal(decode("{\"op\":\"schema\",\"table\":\"users\"}", &r), APP_OK);
    assert_string_equal(r.table, "users");
    dbw_request_free(&r);
}

static void refuses_what_it_does_not_know(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        app_err want;
    } bad[] = {
        {"", APP_EJSON},
        {"[]", APP_EFIELD},
        {"{\"op\":\"drop\"}", APP_EFIELD},
        {"{\"op\":\"query\"}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"\"}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"a\\u0000b\"}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":1}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"extra\":1}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":\"s\"}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":[[1]]}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":{\"a\":{}}}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":{\"a b\":1}}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":{\"1a\":1}}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":{\"a\":1,\":a\":2}}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"x\",\"params\":[1e999]}", APP_EFIELD},
        {"{\"op\":\"tables\",\"sql\":\"x\"}", APP_EFIELD},
        {"{\"op\":\"schema\"}", APP_EFIELD},
        {"{\"op\":\"schema\",\"table\":\"\"}", APP_EFIELD},
        {"{\"op\":\"query\",\"sql\":\"\xff\"}", APP_EUTF8},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dbw_request r;
        app_err e = decode(bad[i].json, &r);
        if (e != bad[i].want)
            fail_msg("%s: %d, not %d", bad[i].json, e, bad[i].want);
        dbw_request_free(&r);
    }
}

static void keeps_its_caps(void **state)
{
    (void)state;
    char msg[APP_ERRMSG_LEN];
    dbw_request r;
    /* The SQL text cap. */
    size_t n = DBW_MAX_SQL + 64;
    char *big = malloc(n);
    assert_non_null(big);
    int head = snprintf(big, n, "{\"op\":\"query\",\"sql\":\"");
    memset(big + head, 'x', DBW_MAX_SQL + 1);
    memcpy(big + head + DBW_MAX_SQL + 1, "\"}", 2);
    assert_int_equal(dbw_decode(big, (size_t)head + DBW_MAX_SQL + 3, &r, msg, sizeof msg),
                     APP_ETOOBIG);
    dbw_request_free(&r);
    /* The whole request's cap, checked before anything is parsed. */
    assert_int_equal(dbw_decode(big, DBW_MAX_REQUEST + 1, &r, msg, sizeof msg), APP_ETOOBIG);
    free(big);
    /* The parameter count. */
    sbuf b;
    sbuf_init(&b, DBW_MAX_REQUEST);
    assert_int_equal(sbuf_puts(&b, "{\"op\":\"query\",\"sql\":\"x\",\"params\":[0"), APP_OK);
    for (unsigned i = 0; i < DBW_MAX_PARAMS; i++)
        assert_int_equal(sbuf_puts(&b, ",0"), APP_OK);
    assert_int_equal(sbuf_puts(&b, "]}"), APP_OK);
    assert_int_equal(dbw_decode(b.data, b.len, &r, msg, sizeof msg), APP_ETOOBIG);
    dbw_request_free(&r);
    sbuf_free(&b);
    dbw_request_free(NULL); /* NULL-safe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_the_three_ops),
        cmocka_unit_test(refuses_what_it_does_not_know),
        cmocka_unit_test(keeps_its_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
