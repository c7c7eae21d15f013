/* test_jscan.c - strict JSON validation and span scanning. */
#include <stdio.h>
#include <stdlib.h>

#include "jscan.h"
#include "unit.h"

static APP_MUST_CHECK app_err check(const char *doc, char *msg)
{
    js_span root;
    return js_validate(doc, strlen(doc), &root, msg, APP_ERRMSG_LEN);
}

static void accepts_rfc8259_documents(void **state)
{
    (void)state;
    const char *ok[] = {
        "{}",
        "[]",
        "0",
        "-0",
        "1.5e-3",
        "-12.0E+7",
        "\"\"",
        "true",
        "false",
        "null",
        " { \"a\" : [1, 2, {\"b\": null}], \"c\": \"\\u00e9\\n\\\"\" } ",
        "\"\\ud83d\\ude00\"",
        "[\"\xe2\x80\xa8 \xf0\x9f\x98\x80\"]",
        "\"</script><!--\"",
        "{\"x\":\"\\u0000\"}",
    };
    char msg[APP_ERRMSG_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        app_err e = check(ok[i], msg);
        if (e != APP_OK)
            fail_msg("rejected %s: %s", ok[i], msg);
    }
}

static void refuses_malformed_documents_with_a_reason(void **state)
{
    (void)state;
    struct {
        const char *doc;
        app_err err;
        const char *reason;
    } bad[] = {
        {"", APP_EJSON, "empty"},
        {"   ", APP_EJSON, "empty"},
        {"{", APP_EJSON, "expected a string key"},
        {"{\"a\" 1}", APP_EJSON, "expected ':'"},
        {"[1,]", APP_EJSON, "value expected"},
        {"[1 2]", APP_EJSON, "expected ',' or ']'"},
        {"01", APP_EJSON, "after the JSON value"},
        {"1.", APP_EJSON, "decimal point"},
        {"1e", APP_EJSON, "exponent"},
        {"-", APP_EJSON, "digit expected"},
        {"NaN", APP_EJSON, "unexpected character"},
        {"'a'", APP_EJSON, "unexpected character"},
        {"\"a", APP_EJSON, "unterminated string"},
        {"\"\t\"", APP_EJSON, "control character"},
        {"\"\\x\"", APP_EJSON, "invalid escape"},
        {"\"\\u12\"", APP_EJSON, "four hex digits"},
        {"\"\\ud800\"", APP_EJSON, "lone high surrogate"},
        {"\"\\udc00\"", APP_EJSON, "lone low surrogate"},
        {"\"\\ud800\\u0041\"", APP_EJSON, "not followed by a low surrogate"},
        {"{} {}", APP_EJSON, "after the JSON value"},
        {"tru", APP_EJSON, "unexpected character"},
        {"\"\xff\"", APP_EUTF8, "UTF-8"},
        {"[\"\xc0\xaf\"]", APP_EUTF8, "UTF-8"},
        {"\xef\xbb\xbf{}", APP_EJSON, "unexpected character"}, /* BOM is not JSON */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[APP_ERRMSG_LEN] = "";
        app_err e = check(bad[i].doc, msg);
        if (e != bad[i].err || strstr(msg, bad[i].reason) == NULL)
            fail_msg("'%s': got %d '%s', want %d '%s'", bad[i].doc, e, msg, bad[i].err,
                     bad[i].reason);
    }
}

static void reports_the_byte_offset(void **state)
{
    (void)state;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(check("{\"a\": tru }", msg), APP_EJSON);
    assert_contains(msg, "byte 6");
}

static void limits_nesting_depth(void **state)
{
    (void)state;
    char doc[2 * JS_MAX_DEPTH + 8];
    char msg[APP_ERRMSG_LEN];
    for (int depth = JS_MAX_DEPTH; depth <= JS_MAX_DEPTH + 1; depth++) {
        memset(doc, '[', (size_t)depth);
        memset(doc + depth, ']', (size_t)depth);
        js_span root;
        app_err e = js_validate(doc, 2 * (size_t)depth, &root, msg, sizeof msg);
        if (depth == JS_MAX_DEPTH) {
            assert_int_equal(e, APP_OK);
        } else {
            assert_int_equal(e, APP_EJSON);
            assert_contains(msg, "nested too deeply");
        }
    }
    /* A million brackets must not recurse a million times. */
    size_t n = 1000000;
    char *deep = malloc(n);
    assert_non_null(deep);
    memset(deep, '[', n);
    js_span root;
    assert_int_equal(js_validate(deep, n, &root, msg, sizeof msg), APP_EJSON);
    free(deep);
}

static void iterates_members_and_elements(void **state)
{
    (void)state;
    const char *doc = "{ \"code\" : \"print(1)\", \"data\":[ {\"a\":1.0}, {\"b\":[1,\"]\"]} ],"
                      " \"n\": -2.5e1, \"ok\": true, \"z\": null }";
    js_span root;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(js_validate(doc, strlen(doc), &root, msg, sizeof msg), APP_OK);
    assert_int_equal(root.type, JS_OBJECT);
    js_iter it;
    js_iter_init(&it, doc, root);
    js_span k, v;
    const char *names[] = {"code", "data", "n", "ok", "z"};
    js_type types[] = {JS_STRING, JS_ARRAY, JS_NUMBER, JS_BOOL, JS_NULL};
    size_t i = 0;
    while (js_iter_next(&it, &k, &v)) {
        assert_true(i < 5);
        assert_true(js_string_equals(doc, k, names[i]));
        assert_int_equal(v.type, types[i]);
        if (i == 1) {
            /* The raw span keeps the client's exact spelling (1.0 stays 1.0). */
            assert_int_equal(v.len, strlen("[ {\"a\":1.0}, {\"b\":[1,\"]\"]} ]"));
            assert_memory_equal(doc + v.off, "[ {\"a\":1.0}", 11);
            js_iter rows;
            js_iter_init(&rows, doc, v);
            js_span row;
            size_t nrows = 0;
            while (js_iter_next(&rows, NULL, &row)) {
                assert_int_equal(row.type, JS_OBJECT);
                nrows++;
            }
            assert_int_equal(nrows, 2);
        }
        if (i == 2)
            assert_true(js_number(doc, v) == -25.0);
        if (i == 3)
            assert_true(js_bool(doc, v));
        i++;
    }
    assert_int_equal(i, 5);
}

static void decodes_strings(void **state)
{
    (void)state;
    const char *doc = "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000z\"";
    js_span root;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(js_validate(doc, strlen(doc), &root, msg, sizeof msg), APP_OK);
    sbuf b;
    sbuf_init(&b, 1024);
    bool nul = false;
    assert_int_equal(js_string_decode(doc, root, &b, &nul), APP_OK);
    const char want[] = "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\0z";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, sizeof want - 1);
    assert_true(nul);
    sbuf_free(&b);

    /* The output cap is honoured. */
    sbuf small;
    sbuf_init(&small, 3);
    assert_int_equal(js_string_decode(doc, root, &small, NULL), APP_ETOOBIG);
    sbuf_free(&small);

    /* Escaped keys compare by their decoded value. */
    const char *keydoc = "\"c\\u006fde\"";
    assert_int_equal(js_validate(keydoc, strlen(keydoc), &root, msg, sizeof msg), APP_OK);
    assert_true(js_string_equals(keydoc, root, "code"));
    assert_false(js_string_equals(keydoc, root, "cod"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_rfc8259_documents),
        cmocka_unit_test(refuses_malformed_documents_with_a_reason),
        cmocka_unit_test(reports_the_byte_offset),
        cmocka_unit_test(limits_nesting_depth),
        cmocka_unit_test(iterates_members_and_elements),
        cmocka_unit_test(decodes_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
