/* test_b64.c - base64: RFC 4648 vectors, the strict reading our Judge0
 * client applies to a remote answer, and the Ruby (encode64/decode64)
 * dialect our Judge0-compatible API speaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "unit.h"

static const struct {
    const char *plain, *b64;
} rfc4648[] = {{"", ""},
               {"f", "Zg=="},
               {"fo", "Zm8="},
               {"foo", "Zm9v"},
               {"foob", "Zm9vYg=="},
               {"fooba", "Zm9vYmE="},
               {"foobar", "Zm9vYmFy"}};

static void encoding_matches_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        sbuf b;
        sbuf_init(&b, 1024);
        assert_int_equal(b64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain), B64_ONE_LINE, &b), APP_OK);
        assert_string_equal(sbuf_str(&b), rfc4648[i].b64);
        sbuf_reset(&b);
        assert_int_equal(b64_decode(rfc4648[i].b64, strlen(rfc4648[i].b64), B64_STRICT, &b), APP_OK);
        assert_int_equal(b.len, strlen(rfc4648[i].plain));
        assert_memory_equal(sbuf_str(&b), rfc4648[i].plain, b.len);
        sbuf_free(&b);
    }
}

static void one_line_round_trips_every_byte_and_length(void **state)
{
    (void)state;
    unsigned char data[700];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + i / 256);
    for (size_t n = 0; n <= sizeof data; n += n < 20 ? 1 : 37) {
        sbuf enc, dec;
        sbuf_init(&enc, 4096);
        sbuf_init(&dec, 4096);
        assert_int_equal(b64_encode(data, n, B64_ONE_LINE, &enc), APP_OK);
        assert_int_equal(enc.len, (n + 2) / 3 * 4);
        assert_null(memchr(sbuf_str(&enc), '\n', enc.len)); /* no line breaks on our side */
        assert_int_equal(b64_decode(enc.data ? enc.data : "", enc.len, B64_STRICT, &dec), APP_OK);
        assert_int_equal(dec.len, n);
        if (n > 0)
            assert_memory_equal(dec.data, data, n);
        sbuf_free(&enc);
        sbuf_free(&dec);
    }
}

static void strict_skips_mime_line_breaks(void **state)
{
    (void)state;
    /* Ruby's encode64 as Judge0 sends it: 60 characters a line, a final \n. */
    const char *text = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox.";
    sbuf enc, mime, dec;
    sbuf_init(&enc, 4096);
    sbuf_init(&mime, 4096);
    sbuf_init(&dec, 4096);
    assert_int_equal(b64_encode(text, strlen(text), B64_ONE_LINE, &enc), APP_OK);
    for (size_t i = 0; i < enc.len; i += 60) {
        assert_int_equal(sbuf_append(&mime, enc.data + i, enc.len - i < 60 ? enc.len - i : 60), APP_OK);
        assert_int_equal(sbuf_puts(&mime, i % 120 == 0 ? "\n" : "\r\n"), APP_OK);
    }
    assert_non_null(strchr(sbuf_str(&mime), '\n'));
    assert_int_equal(b64_decode(mime.data, mime.len, B64_STRICT, &dec), APP_OK);
    assert_string_equal(sbuf_str(&dec), text);
    sbuf_reset(&dec);
    assert_int_equal(b64_decode("aGVsbG8sIEp1ZGdlMAo=\n", 21, B64_STRICT, &dec), APP_OK);
    assert_string_equal(sbuf_str(&dec), "hello, Judge0\n");
    sbuf_reset(&dec);
    assert_int_equal(b64_decode("\n\r\n", 3, B64_STRICT, &dec), APP_OK);
    assert_int_equal(dec.len, 0);
    /* Line breaks anywhere, even inside the padding. */
    assert_int_equal(b64_decode("Zm\n9vY\r\ng=\n=\n", 13, B64_STRICT, &dec), APP_OK);
    assert_string_equal(sbuf_str(&dec), "foob");
    sbuf_free(&enc);
    sbuf_free(&mime);
    sbuf_free(&dec);
}

static void strict_refuses_junk_and_leaves_out_unchanged(void **state)
{
    (void)state;
    const char *bad[] = {"Zm9",  "Zm9v!",      "Zm 9v", "Zm=v",    "Zg==Zg==",    "Zg=",   "=Zg=",
                         "Z===", "Zm9v\tYg==", "Zm-_",  "Zg==\nx", "Zm9vYg==\n=", "Zm9v\0"};
    size_t lens[] = {3, 5, 5, 4, 8, 3, 4, 4, 9, 4, 6, 10, 5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sbuf b;
        sbuf_init(&b, 64);
        assert_int_equal(sbuf_puts(&b, "keep"), APP_OK);
        if (b64_decode(bad[i], lens[i], B64_STRICT, &b) != APP_EFIELD)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(sbuf_str(&b), "keep");
        sbuf_free(&b);
    }
    /* Too large for the buffer's cap: refused up front, nothing appended. */
    sbuf small;
    sbuf_init(&small, 2);
    assert_int_equal(b64_decode("Zm9v", 4, B64_STRICT, &small), APP_ETOOBIG);
    assert_int_equal(small.len, 0);
    assert_int_equal(b64_encode("foo", 3, B64_ONE_LINE, &small), APP_ETOOBIG);
    assert_int_equal(small.len, 0);
    sbuf_free(&small);
}

static void mime_and_lenient_read_like_ruby(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b, 1 << 20);
    /* The reference's example of what Judge0 emits. */
    assert_int_equal(b64_encode("hello, Judge0\n", 14, B64_MIME, &b), APP_OK);
    assert_string_equal(sbuf_str(&b), "aGVsbG8sIEp1ZGdlMAo=\n");
    sbuf_reset(&b);
    assert_int_equal(b64_encode("", 0, B64_MIME, &b), APP_OK);
    assert_string_equal(sbuf_str(&b), "");
    /* 60 characters per line, newline-terminated. */
    char in[100];
    memset(in, 'x', sizeof in);
    sbuf_reset(&b);
    assert_int_equal(b64_encode(in, sizeof in, B64_MIME, &b), APP_OK);
    assert_int_equal(b.len, 136 + 3); /* 136 characters in 3 lines */
    assert_int_equal(b.data[60], '\n');
    assert_int_equal(b.data[121], '\n');
    assert_int_equal(b.data[b.len - 1], '\n');
    /* The cap counts the line breaks: exactly enough room succeeds, one
     * byte less is refused before anything is written. */
    sbuf exact;
    sbuf_init(&exact, 139);
    assert_int_equal(b64_encode(in, sizeof in, B64_MIME, &exact), APP_OK);
    sbuf_free(&exact);
    sbuf_init(&exact, 138);
    assert_int_equal(b64_encode(in, sizeof in, B64_MIME, &exact), APP_ETOOBIG);
    assert_int_equal(exact.len, 0);
    sbuf_free(&exact);
    sbuf_reset(&b);
    assert_int_equal(b64_encode(in, sizeof in, B64_ONE_LINE, &b), APP_OK);
    assert_null(memchr(b.data, '\n', b.len));

    /* Every byte value survives a round trip, in both forms. */
    unsigned char all[256 * 3 + 2];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char)(i * 7);
    for (int mime = 0; mime < 2; mime++) {
        sbuf enc, dec;
        sbuf_init(&enc, 1 << 20);
        sbuf_init(&dec, 1 << 20);
        assert_int_equal(b64_encode(all, sizeof all, mime ? B64_MIME : B64_ONE_LINE, &enc), APP_OK);
        assert_int_equal(b64_decode(enc.data, enc.len, B64_LENIENT, &dec), APP_OK);
        assert_int_equal(dec.len, sizeof all);
        assert_memory_equal(dec.data, all, sizeof all);
        sbuf_free(&enc);
        sbuf_free(&dec);
    }

    struct {
        const char *in, *out;
    } cases[] = {
        {"aGVsbG8=", "hello"},
        {"aGVs\r\nbG8=\n", "hello"},  /* MIME line breaks */
        {"aGVsbG8", "hello"},         /* missing padding */
        {"a G V s b G 8 =", "hello"}, /* junk is skipped, as Ruby's decode64 does */
        {"aGk=aGVsbG8=", "hi"},       /* stops at the first '=' */
        {"", ""},
        {"a", ""}, /* a lone sixth of a byte gives nothing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf_reset(&b);
        assert_int_equal(b64_decode(cases[i].in, strlen(cases[i].in), B64_LENIENT, &b), APP_OK);
        assert_string_equal(sbuf_str(&b), cases[i].out);
    }
    /* The destination's cap is honoured. */
    sbuf small;
    sbuf_init(&small, 4);
    assert_int_equal(b64_decode("aGVsbG8=", 8, B64_LENIENT, &small), APP_ETOOBIG);
    sbuf_free(&small);
    sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_matches_rfc4648_vectors),
        cmocka_unit_test(one_line_round_trips_every_byte_and_length),
        cmocka_unit_test(strict_skips_mime_line_breaks),
        cmocka_unit_test(strict_refuses_junk_and_leaves_out_unchanged),
        cmocka_unit_test(mime_and_lenient_read_like_ruby),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
