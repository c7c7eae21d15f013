/*
 * b64.c - base64 encoder and the strict and lenient decoders.
 *
 * Both decoders run twice over their input: once to validate and count,
 * once to write.  The first pass is what lets them promise that a refused
 * input leaves the output buffer untouched.
 */
#include "b64.h"

#include <stdint.h>
#include <string.h>

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value 0..63 of an alphabet character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

app_err b64_encode(const void *p, size_t n, b64_layout layout, sbuf *out)
{
    const unsigned char *in = p;
    if (n > (SIZE_MAX / 4 - 1) / 2 * 3 - 3)
        return APP_ETOOBIG;
    size_t chars = (n + 2) / 3 * 4;
    size_t need = layout == B64_MIME ? chars + (chars + 59) / 60 : chars;
    if (need > out->max - out->len)
        return APP_ETOOBIG;
    char chunk[4096];
    size_t fill = 0, col = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        unsigned triple = (unsigned)in[i] << 16 | (left > 1 ? (unsigned)in[i + 1] << 8 : 0) |
                          (left > 2 ? in[i + 2] : 0);
        chunk[fill++] = b64_alphabet[triple >> 18 & 63];
        chunk[fill++] = b64_alphabet[triple >> 12 & 63];
        chunk[fill++] = left > 1 ? b64_alphabet[triple >> 6 & 63] : '=';
        chunk[fill++] = left > 2 ? b64_alphabet[triple & 63] : '=';
        col += 4;
        if (layout == B64_MIME && col == 60) {
            chunk[fill++] = '\n';
            col = 0;
        }
        if (fill > sizeof chunk - 8) {
            app_err err = sbuf_append(out, chunk, fill);
            if (err != APP_OK)
                return err;
            fill = 0;
        }
    }
    if (layout == B64_MIME && col > 0)
        chunk[fill++] = '\n';
    return fill > 0 ? sbuf_append(out, chunk, fill) : APP_OK;
}

/* Collects decoded bytes and appends them to out in chunks; with out NULL
 * it only counts them. */
typedef struct b64_sink {
    sbuf *out;
    unsigned char chunk[3072];
    size_t fill;
    size_t total;
    app_err err;
} b64_sink;

static void sink_put(b64_sink *k, const unsigned char *p, size_t n)
{
    k->total += n;
    if (k->out == NULL || k->err != APP_OK)
        return;
    if (k->fill + n > sizeof k->chunk) {
        k->err = sbuf_append(k->out, k->chunk, k->fill);
        k->fill = 0;
    }
    memcpy(k->chunk + k->fill, p, n);
    k->fill += n;
}

static APP_MUST_CHECK app_err sink_flush(b64_sink *k)
{
    if (k->out != NULL && k->err == APP_OK && k->fill > 0)
        k->err = sbuf_append(k->out, k->chunk, k->fill);
    return k->err;
}

/* Emits the first `bytes` (1..3) bytes of the 24-bit group acc. */
static void sink_group(b64_sink *k, unsigned acc, size_t bytes)
{
    unsigned char b[3] = {(unsigned char)(acc >> 16), (unsigned char)(acc >> 8), (unsigned char)acc};
    sink_put(k, b, bytes);
}

/* Canonical padded base64 with CR/LF allowed anywhere; false on anything else. */
static bool walk_strict(const char *s, size_t n, b64_sink *k)
{
    unsigned acc = 0;
    int have = 0, pads = 0;
    bool ended = false; /* a padded group was seen: only line breaks may follow */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r')
            continue;
        if (ended)
            return false;
        if (c == '=') {
            if (have + pads < 2) /* "xx==" or "xxx=" only */
                return false;
            pads++;
        } else {
            int v = b64_value(c);
            if (v < 0 || pads > 0)
                return false;
            acc = acc << 6 | (unsigned)v;
            have++;
        }
        if (have + pads < 4)
            continue;
        acc <<= 6 * pads;
        sink_group(k, acc, (size_t)(3 - pads));
        ended = pads > 0;
        acc = 0;
        have = pads = 0;
    }
    return have + pads == 0; /* a multiple of four characters */
}

/* Ruby's Base64.decode64: never refuses. */
static void walk_lenient(const char *s, size_t n, b64_sink *k)
{
    unsigned acc = 0;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=')
            break;
        int v = b64_value(c);
        if (v < 0)
            continue;
        acc = acc << 6 | (unsigned)v;
        if (++have == 4) {
            sink_group(k, acc, 3);
            acc = 0;
            have = 0;
        }
    }
    if (have == 2)
        sink_group(k, acc << 12, 1);
    else if (have == 3)
        sink_group(k, acc << 6, 2);
}

static bool walk(const char *s, size_t n, b64_reading reading, b64_sink *k)
{
    if (reading == B64_STRICT)
        return walk_strict(s, n, k);
    walk_lenient(s, n, k);
    return true;
}

app_err b64_decode(const char *s, size_t n, b64_reading reading, sbuf *out)
{
    b64_sink count = {.out = NULL};
    if (!walk(s, n, reading, &count))
        return APP_EFIELD;
    if (count.total > out->max - out->len)
        return APP_ETOOBIG;
    b64_sink write = {.out = out};
    walk(s, n, reading, &write);
    return sink_flush(&write);
}
