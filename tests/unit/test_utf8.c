/* test_utf8.c - strict UTF-8 validation. */
#include "unit.h"
#include "utf8.h"

static void accepts_valid_text(void **state)
{
    (void)state;
    const char *ok[] = {"",
                        "plain ascii",
                        "caf\xc3\xa9",
                        "\xe2\x82\xac",
                        "\xf0\x9f\x98\x80",
                        "\xef\xbf\xbf",
                        "\xf4\x8f\xbf\xbf",
                        "\xe2\x80\xa8"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(utf8_valid(ok[i], strlen(ok[i]), NULL));
    assert_true(utf8_valid("a\0b", 3, NULL)); /* NUL is valid UTF-8 */
}

static void refuses_invalid_text(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t bad;
    } cases[] = {
        {"\x80", 0},                 /* lone continuation */
        {"ab\xc3", 2},               /* truncated */
        {"\xc0\xaf", 0},             /* overlong '/' */
        {"\xe0\x80\xaf", 0},         /* overlong 3-byte */
        {"\xed\xa0\x80", 0},         /* UTF-16 surrogate D800 */
        {"\xf4\x90\x80\x80", 0},     /* above U+10FFFF */
        {"x\xff", 1},                /* invalid byte */
        {"ok\xe2\x82", 2},           /* truncated euro sign */
        {"\xf8\x88\x80\x80\x80", 0}, /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t bad = 99;
        assert_false(utf8_valid(cases[i].s, strlen(cases[i].s), &bad));
        assert_int_equal(bad, cases[i].bad);
    }
}

static void encode_decode_round_trip(void **state)
{
    (void)state;
    unsigned cps[] = {0, 0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        unsigned char buf[4];
        size_t n = utf8_encode(cps[i], buf);
        assert_true(n >= 1 && n <= 4);
        unsigned back;
        assert_int_equal(utf8_decode(buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    unsigned char buf[4];
    assert_int_equal(utf8_encode(0xd800, buf), 0);
    assert_int_equal(utf8_encode(0x110000, buf), 0);
}

static void complete_prefix_holds_back_a_cut_character(void **state)
{
    (void)state;
    const char *euro = "\xe2\x82\xac"; /* U+20AC, 3 bytes */
    assert_int_equal(utf8_complete_prefix("ab", 2), 2);
    assert_int_equal(utf8_complete_prefix(euro, 3), 3);
    assert_int_equal(utf8_complete_prefix("a\xe2\x82", 3), 1); /* 2 of 3 bytes: wait */
    assert_int_equal(utf8_complete_prefix("a\xe2", 2), 1);
    assert_int_equal(utf8_complete_prefix("\xf0\x9f\x98", 3), 0); /* 3 of 4 */
    assert_int_equal(utf8_complete_prefix("a\x82", 2), 2); /* a stray continuation: not UTF-8 */
    assert_int_equal(utf8_complete_prefix("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_valid_text),
        cmocka_unit_test(refuses_invalid_text),
        cmocka_unit_test(encode_decode_round_trip),
        cmocka_unit_test(complete_prefix_holds_back_a_cut_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
