/*
 * sbuf.h - growable byte buffer with a hard cap.
 *
 * Every buffer that untrusted input can grow is an sbuf with a cap chosen
 * by its owner (a named constant).  Appends that would pass the cap fail
 * with APP_ETOOBIG and leave the buffer unchanged, so a caller can report
 * "too large" without having stored a partial value.  The contents are
 * always NUL-terminated (the NUL is not counted in len and not in the cap),
 * so text can be handed to C string functions; binary data may hold NULs.
 *
 * The struct is visible so it can live on the stack; its fields MUST NOT
 * be written except through these functions.
 */
#ifndef PYSANDBOX_SBUF_H
#define PYSANDBOX_SBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "app.h"

typedef struct sbuf {
    char *data; /* From malloc(); NULL until the first append. */
    size_t len; /* bytes in use, excluding the terminating NUL */
    size_t cap; /* bytes allocated, excluding room for the NUL */
    size_t max; /* hard cap on len */
} sbuf;

/* Prepares an empty buffer that will refuse to grow past max bytes. */
void sbuf_init(sbuf *b, size_t max);

/* Releases the memory; the buffer may be reused after sbuf_init(). NULL-safe. */
void sbuf_free(sbuf *b);

/* Empties the buffer but keeps its memory and cap. */
void sbuf_reset(sbuf *b);

/* Appends n bytes. APP_ETOOBIG if len + n > max, APP_ENOMEM; unchanged on error. */
APP_MUST_CHECK app_err sbuf_append(sbuf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. Errors as sbuf_append(). */
APP_MUST_CHECK app_err sbuf_puts(sbuf *b, const char *s);

/* Appends one byte. Errors as sbuf_append(). */
APP_MUST_CHECK app_err sbuf_putc(sbuf *b, char c);

/* Appends printf-formatted text. Errors as sbuf_append(). */
APP_MUST_CHECK app_err sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
APP_MUST_CHECK app_err sbuf_vprintf(sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Hands the memory to the caller and leaves the buffer empty.
 * Returns a malloc()ed NUL-terminated block (never NULL: an empty buffer
 * yields a fresh "" block, or NULL only on ENOMEM) and stores its length
 * in *len_out when len_out is not NULL.  The caller frees it with free().
 */
char *sbuf_detach(sbuf *b, size_t *len_out);

/* Returns the contents as a C string ("" when empty); valid until the next change. */
const char *sbuf_str(const sbuf *b);

#endif
