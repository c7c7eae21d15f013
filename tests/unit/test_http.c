/* test_http.c - status mapping, JSON strings and error bodies. */
#include "form.h"
#include "http.h"
#include "jscan.h"
#include "unit.h"

static void maps_every_error_to_a_status(void **state)
{
    (void)state;
    assert_int_equal(http_status_for(APP_OK), 200);
    assert_int_equal(http_status_for(APP_EJSON), 400);
    assert_int_equal(http_status_for(APP_EFIELD), 400);
    assert_int_equal(http_status_for(APP_EUTF8), 400);
    assert_int_equal(http_status_for(APP_ENOTFOUND), 404);
    assert_int_equal(http_status_for(APP_EMETHOD), 405);
    assert_int_equal(http_status_for(APP_ECONFLICT), 409);
    assert_int_equal(http_status_for(APP_ETOOBIG), 413);
    assert_int_equal(http_status_for(APP_EMEDIA), 415);
    assert_int_equal(http_status_for(APP_EUNAVAIL), 503);
    assert_int_equal(http_status_for(APP_EBUSY), 429);
    assert_int_equal(http_status_for(APP_ECLIENT_LIMIT), 429);
    assert_int_equal(http_status_for(APP_ETIMEOUT), 504);
    assert_int_equal(http_status_for(APP_EGONE), 499);
    assert_int_equal(http_status_for(APP_EENDED), 410);
    assert_int_equal(http_status_for(APP_EINTERNAL), 500);
    for (int e = 0; e < APP_ERR_COUNT_; e++) {
        int s = http_status_for((app_err)e);
        assert_true(s >= 200 && s <= 599);
        assert_string_not_equal(http_reason(s), "Unknown");
        assert_non_null(app_strerror((app_err)e));
        assert_non_null(app_errcode((app_err)e));
    }
}

static void writes_json_strings(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b, 1024);
    const char in[] = "q\"b\\n\n\t\x01\0\xff\xc3\xa9</script>";
    assert_int_equal(jsonw_string(&b, in, sizeof in - 1), APP_OK);
    assert_string_equal(sbuf_str(&b),
                        "\"q\\\"b\\\\n\\n\\t\\u0001\\u0000\\ufffd\xc3\xa9</script>\"");
    js_span root;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(js_validate(b.data, b.len, &root, msg, sizeof msg), APP_OK);
    sbuf_free(&b);
}

static void renders_json_errors(void **state)
{
    (void)state;
    http_resp r;
    http_resp_init(&r);
    http_resp_error(&r, APP_EFIELD, "field 'code' must be a string");
    assert_int_equal(r.status, 400);
    assert_string_equal(sbuf_str(&r.body), "{\"error\":{\"code\":\"invalid_field\",\"message\":"
                                           "\"field 'code' must be a string\"}}\n");
    assert_contains(sbuf_str(&r.headers), "Content-Type: application/json");
    assert_not_contains(sbuf_str(&r.headers), "Retry-After");
    http_resp_error(&r, APP_ENOTFOUND, NULL);
    assert_int_equal(r.status, 404);
    assert_contains(sbuf_str(&r.body), "\"not_found\"");
    /* Capacity and outages say when to come back; the rest do not. */
    http_resp_error(&r, APP_ECLIENT_LIMIT, NULL);
    assert_int_equal(r.status, 429);
    assert_contains(sbuf_str(&r.body), "\"client_limit\"");
    assert_contains(sbuf_str(&r.headers), "Retry-After: 2\r\n");
    http_resp_error(&r, APP_EUNAVAIL, NULL);
    assert_contains(sbuf_str(&r.headers), "Retry-After: 2\r\n");
    http_resp_error(&r, APP_ETIMEOUT, NULL);
    assert_not_contains(sbuf_str(&r.headers), "Retry-After");
    /* An error may carry one more member: what the engines said. */
    http_resp_error_detail(&r, APP_EREFUSED, "no engine", "engines", "{\"native\":\"too big\"}");
    assert_int_equal(r.status, 422);
    assert_string_equal(sbuf_str(&r.body), "{\"error\":{\"code\":\"refused\",\"message\":\"no engine\","
                                           "\"engines\":{\"native\":\"too big\"}}}\n");
    http_resp_free(&r);
}

static void refuses_header_injection(void **state)
{
    (void)state;
    http_resp r;
    http_resp_init(&r);
    assert_int_equal(http_resp_header(&r, "X-A", "ok"), APP_OK);
    assert_int_equal(http_resp_header(&r, "X-B", "bad\r\nSet-Cookie: x=1"), APP_EINTERNAL);
    assert_int_equal(http_resp_header(&r, "X-C\n", "v"), APP_EINTERNAL);
    assert_string_equal(sbuf_str(&r.headers), "X-A: ok\r\n");
    http_resp_free(&r);
}

static void extracts_media_types(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(form_media_type("Application/JSON; charset=utf-8", buf, sizeof buf),
                        "application/json");
    assert_string_equal(form_media_type(" text/html", buf, sizeof buf), "text/html");
    assert_string_equal(form_media_type("", buf, sizeof buf), "");
    assert_string_equal(form_media_type(NULL, buf, sizeof buf), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_every_error_to_a_status), cmocka_unit_test(writes_json_strings),
        cmocka_unit_test(renders_json_errors),          cmocka_unit_test(refuses_header_injection),
        cmocka_unit_test(extracts_media_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
