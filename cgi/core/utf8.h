/*
 * utf8.h - strict UTF-8 validation.
 *
 * "Strict" means what RFC 3629 allows and nothing more: no overlong forms,
 * no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF.  Every
 * text a user submits passes through utf8_valid() (directly or via the
 * JSON scanner) before it reaches Python, a template or a log.
 */
#ifndef PYSANDBOX_UTF8_H
#define PYSANDBOX_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Returns true when the n bytes at p are valid UTF-8; on false, stores the
 * offset of the first bad byte in *bad_off when bad_off is not NULL. */
bool utf8_valid(const void *p, size_t n, size_t *bad_off);

/*
 * Decodes one sequence starting at p (n bytes available).  Returns its
 * length (1..4) and stores the code point in *cp, or returns 0 when the
 * bytes do not start a valid sequence.
 */
size_t utf8_decode(const unsigned char *p, size_t n, unsigned *cp);

/* Writes cp (which must be a valid scalar value) as UTF-8 into out[4];
 * returns the number of bytes written (1..4), or 0 when cp is invalid. */
size_t utf8_encode(unsigned cp, unsigned char out[4]);

/* How many of the n bytes at p end in complete UTF-8 characters: all but
 * a trailing start of one (at most 3 bytes) that more bytes could still
 * complete.  What is not UTF-8 at all counts as complete (a reader turns
 * it into U+FFFD). */
size_t utf8_complete_prefix(const void *p, size_t n);

#endif
