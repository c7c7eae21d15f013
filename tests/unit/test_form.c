/* test_form.c - form and query decoding. */
#include <stdio.h>

#include "form.h"
#include "sbuf.h"
#include "unit.h"

/* Collects "name=value;" pairs with NULs shown as \0. */
static APP_MUST_CHECK app_err collect(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen,
                       char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    sbuf *out = ctx;
    assert_int_equal(sbuf_append(out, name, nlen), APP_OK);
    assert_int_equal(sbuf_putc(out, '='), APP_OK);
    for (size_t i = 0; i < vlen; i++)
        if (value[i] == '\0')
            assert_int_equal(sbuf_puts(out, "\\0"), APP_OK);
        else
            assert_int_equal(sbuf_putc(out, value[i]), APP_OK);
    assert_int_equal(sbuf_putc(out, ';'), APP_OK);
    return APP_OK;
}

static APP_MUST_CHECK app_err parse(const char *in, sbuf *out, char *msg)
{
    sbuf_init(out, 4096);
    return form_parse(in, strlen(in), collect, out, msg, APP_ERRMSG_LEN);
}

static void decodes_pairs(void **state)
{
    (void)state;
    struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"a=1", "a=1;"},
        {"a=1&b=two+words", "a=1;b=two words;"},
        {"code=print%281%29%0A&x=%E2%82%AC", "code=print(1)\n;x=\xe2\x82\xac;"},
        {"flag&&empty=&=v", "flag=;empty=;=v;"},
        {"a=%3D%26%2B", "a==&+;"},
        {"n=%00", "n=\\0;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf out;
        char msg[APP_ERRMSG_LEN];
        assert_int_equal(parse(cases[i].in, &out, msg), APP_OK);
        assert_string_equal(sbuf_str(&out), cases[i].want);
        sbuf_free(&out);
    }
}

static void refuses_bad_input(void **state)
{
    (void)state;
    struct {
        const char *in;
        app_err err;
        const char *reason;
    } cases[] = {
        {"a=%zz", APP_EFIELD, "%-escape"}, {"a=%4", APP_EFIELD, "%-escape"},
        {"a=%", APP_EFIELD, "%-escape"},   {"a=%ff", APP_EUTF8, "UTF-8"},
        {"%c0%af=1", APP_EUTF8, "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf out;
        char msg[APP_ERRMSG_LEN] = "";
        assert_int_equal(parse(cases[i].in, &out, msg), cases[i].err);
        assert_contains(msg, cases[i].reason);
        sbuf_free(&out);
    }
}

static void caps_the_number_of_fields(void **state)
{
    (void)state;
    sbuf in;
    sbuf_init(&in, 1 << 16);
    for (int i = 0; i < FORM_MAX_FIELDS; i++)
        assert_int_equal(sbuf_printf(&in, "f%d=1&", i), APP_OK);
    sbuf out;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(parse(sbuf_str(&in), &out, msg), APP_OK);
    sbuf_free(&out);
    assert_int_equal(sbuf_puts(&in, "one=more"), APP_OK);
    assert_int_equal(parse(sbuf_str(&in), &out, msg), APP_ETOOBIG);
    sbuf_free(&out);
    sbuf_free(&in);
}

static APP_MUST_CHECK app_err refuse_b(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen,
                        char *msg, size_t msglen)
{
    (void)ctx;
    (void)nlen;
    (void)value;
    (void)vlen;
    if (strcmp(name, "b") == 0) {
        snprintf(msg, msglen, "no b please");
        return APP_EFIELD;
    }
    return APP_OK;
}

static void stops_at_a_callback_error(void **state)
{
    (void)state;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(form_parse("a=1&b=2&c=3", 11, refuse_b, NULL, msg, sizeof msg), APP_EFIELD);
    assert_string_equal(msg, "no b please");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_pairs),
        cmocka_unit_test(refuses_bad_input),
        cmocka_unit_test(caps_the_number_of_fields),
        cmocka_unit_test(stops_at_a_callback_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
