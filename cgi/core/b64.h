/*
 * b64.h - base64 (RFC 4648 standard alphabet) in the two dialects we meet.
 *
 * Judge0 is the only base64 speaker: our client sends and reads it
 * (judge0.c) and our Judge0-compatible API accepts and emits it (j0api.c).
 * Judge0 is a Rails application, so it writes Ruby's Base64.encode64 form
 * (MIME lines) and reads with Base64.decode64, which skips anything outside
 * the alphabet.  What we emit is canonical and padded; how strictly we read
 * depends on who wrote the text: a remote service's answer must be
 * canonical (anything else is a broken upstream), while a caller of our
 * compatible API gets Ruby's leniency, because Judge0's own callers rely
 * on it.  Output goes to a capped sbuf; nothing here allocates otherwise.
 */
#ifndef PYSANDBOX_B64_H
#define PYSANDBOX_B64_H

#include <stdbool.h>
#include <stddef.h>

#include "sbuf.h"

typedef enum b64_layout {
    B64_ONE_LINE, /* no line breaks */
    B64_MIME,     /* Ruby's encode64: "\n" after every 60 characters and at the end */
} b64_layout;

typedef enum b64_reading {
    B64_STRICT,  /* padded groups of four; only CR and LF may be skipped */
    B64_LENIENT, /* Ruby's decode64: skip non-alphabet bytes, stop at the first '=' */
} b64_reading;

/*
 * Appends the base64 of the n bytes at p to out.  Returns APP_OK,
 * APP_ETOOBIG when the encoding would pass out's cap (checked before
 * anything is appended, so out is unchanged), or APP_ENOMEM.
 */
APP_MUST_CHECK app_err b64_encode(const void *p, size_t n, b64_layout layout, sbuf *out);

/*
 * Appends the bytes the base64 text s[0..n) decodes to.  Returns APP_OK;
 * APP_EFIELD when reading is B64_STRICT and the text is not canonical
 * padded base64 (out unchanged); APP_ETOOBIG when the bytes would pass
 * out's cap (out unchanged); APP_ENOMEM.  B64_LENIENT never fails on
 * content: a trailing partial group yields the whole bytes it holds.
 */
APP_MUST_CHECK app_err b64_decode(const char *s, size_t n, b64_reading reading, sbuf *out);

#endif
