/* test_body.c - JSON and form request bodies. */
#include <stdlib.h>

#include "body.h"
#include "unit.h"

#define JSON "application/json"
#define FORM "application/x-www-form-urlencoded"

static body *decode_ok(const char *ctype, const char *text)
{
    body *b = NULL;
    char msg[APP_ERRMSG_LEN];
    app_err e = body_decode(ctype, text, strlen(text), &b, msg, sizeof msg);
    if (e != APP_OK)
        fail_msg("decode '%s': %s", text, msg);
    return b;
}

static void reads_json_fields(void **state)
{
    (void)state;
    const char *text = "{\"code\":\"print(1)\\n\",\"data\":[{\"a\":1.0}],\"n\":null}";
    body *b = decode_ok("application/json; charset=utf-8", text);
    assert_false(body_is_form(b));
    char msg[APP_ERRMSG_LEN];
    char *code;
    size_t len;
    assert_int_equal(body_string(b, "code", 100, &code, &len, msg, sizeof msg), APP_OK);
    assert_string_equal(code, "print(1)\n");
    assert_int_equal(len, 9);
    free(code);
    const char *json;
    js_type type;
    assert_int_equal(body_json(b, "data", 1000, &json, &len, &type, msg, sizeof msg), APP_OK);
    assert_int_equal(type, JS_ARRAY);
    assert_int_equal(len, strlen("[{\"a\":1.0}]"));
    assert_memory_equal(json, "[{\"a\":1.0}]", len);
    assert_int_equal(body_json(b, "missing", 1000, &json, &len, &type, msg, sizeof msg),
                     APP_ENOTFOUND);
    /* null counts as absent for strings */
    assert_int_equal(body_string(b, "n", 100, &code, &len, msg, sizeof msg), APP_OK);
    assert_null(code);
    body_free(b);
}

static void reads_form_fields(void **state)
{
    (void)state;
    body *b = decode_ok(FORM, "code=print%28data%29&data=%5B%7B%22a%22%3A1.0%7D%5D");
    assert_true(body_is_form(b));
    char msg[APP_ERRMSG_LEN];
    char *code;
    size_t len;
    assert_int_equal(body_string(b, "code", 100, &code, &len, msg, sizeof msg), APP_OK);
    assert_string_equal(code, "print(data)");
    free(code);
    const char *json;
    js_type type;
    assert_int_equal(body_json(b, "data", 1000, &json, &len, &type, msg, sizeof msg), APP_OK);
    assert_int_equal(type, JS_ARRAY);
    assert_memory_equal(json, "[{\"a\":1.0}]", len);
    body_free(b);

    b = decode_ok(FORM, "data=%5Bnope");
    assert_int_equal(body_json(b, "data", 1000, &json, &len, &type, msg, sizeof msg), APP_EJSON);
    assert_contains(msg, "field 'data'");
    body_free(b);
}

static void reads_json_that_curl_labels_as_a_form(void **state)
{
    (void)state;
    body *b = decode_ok(FORM, " {\"code\":\"print(1)\"}");
    assert_false(body_is_form(b));
    char msg[APP_ERRMSG_LEN];
    char *code;
    size_t len;
    assert_int_equal(body_string(b, "code", 100, &code, &len, msg, sizeof msg), APP_OK);
    assert_string_equal(code, "print(1)");
    free(code);
    body_free(b);
}

static void refuses_bad_bodies(void **state)
{
    (void)state;
    struct {
        const char *ctype, *text;
        app_err err;
        const char *reason;
    } bad[] = {
        {"text/plain", "{}", APP_EMEDIA, "Content-Type must be"},
        {"", "{}", APP_EMEDIA, "(none)"},
        {JSON, "", APP_EJSON, "empty"},
        {JSON, "[1]", APP_EFIELD, "must be a JSON object, not array"},
        {JSON, "{\"a\":1,\"a\":2}", APP_EFIELD, "more than once"},
        {JSON, "{\"a\":1", APP_EJSON, "expected"},
        {JSON, "{\"a\":\"\xff\"}", APP_EUTF8, "UTF-8"},
        {FORM, "a=1&a=2", APP_EFIELD, "more than once"},
        {FORM, "a=%ff", APP_EUTF8, "UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        body *b = NULL;
        char msg[APP_ERRMSG_LEN] = "";
        app_err e =
            body_decode(bad[i].ctype, bad[i].text, strlen(bad[i].text), &b, msg, sizeof msg);
        if (e != bad[i].err || strstr(msg, bad[i].reason) == NULL)
            fail_msg("'%s': got %d '%s'", bad[i].text, e, msg);
        assert_null(b);
    }
}

static void checks_field_types_and_sizes(void **state)
{
    (void)state;
    body *b = decode_ok(JSON, "{\"code\":42,\"s\":\"a\\u0000b\",\"long\":\"abcdef\",\"x\":1}");
    char msg[APP_ERRMSG_LEN];
    char *s;
    size_t len;
    assert_int_equal(body_string(b, "code", 100, &s, &len, msg, sizeof msg), APP_EFIELD);
    assert_string_equal(msg, "field 'code' must be a string, not number");
    assert_int_equal(body_string(b, "s", 100, &s, &len, msg, sizeof msg), APP_EFIELD);
    assert_contains(msg, "NUL");
    assert_int_equal(body_string(b, "long", 3, &s, &len, msg, sizeof msg), APP_ETOOBIG);
    assert_contains(msg, "longer than 3 bytes");
    static const char *const known[] = {"code", "s", "long"};
    assert_int_equal(body_only(b, known, 3, msg, sizeof msg), APP_EFIELD);
    assert_string_equal(msg, "unknown field 'x'");
    body_free(b);
    body_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_json_fields),
        cmocka_unit_test(reads_form_fields),
        cmocka_unit_test(reads_json_that_curl_labels_as_a_form),
        cmocka_unit_test(refuses_bad_bodies),
        cmocka_unit_test(checks_field_types_and_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
