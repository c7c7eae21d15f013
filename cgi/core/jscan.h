/*
 * jscan.h - strict JSON validator and span scanner for untrusted bodies.
 *
 * js_validate() checks a whole document against RFC 8259 (UTF-8 text, no
 * lone surrogate escapes, nesting at most JS_MAX_DEPTH) and returns the
 * span of its top-level value.  Nothing is allocated: callers then walk
 * the validated bytes with js_iter and decode only the members they need.
 * That lets an endpoint forward a large "data" value to Python byte for
 * byte (numbers keep their exact spelling, 1.0 stays a float) without ever
 * building a tree for it.  cJSON is used elsewhere for small, trusted or
 * already-validated documents.
 *
 * The js_iter and js_string_* functions require a span that came from
 * js_validate() on the same bytes; they do not re-check validity.
 */
#ifndef PYSANDBOX_JSCAN_H
#define PYSANDBOX_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "sbuf.h"

/* Deepest array/object nesting accepted; deeper input is refused with
 * APP_EJSON ("nested too deeply") before any recursion can exhaust a stack. */
#define JS_MAX_DEPTH 64

typedef enum js_type { JS_NULL, JS_BOOL, JS_NUMBER, JS_STRING, JS_ARRAY, JS_OBJECT } js_type;

/* A value's raw bytes inside the document: doc[off .. off+len). Strings
 * include their quotes. */
typedef struct js_span {
    js_type type;
    size_t off;
    size_t len;
} js_span;

/*
 * Validates the n bytes at doc.  Returns APP_OK and the top-level value's
 * span in *root; APP_EUTF8 for bytes that are not UTF-8; APP_EJSON for any
 * other violation.  On error a sentence naming the problem and its byte
 * offset is written to msg (msglen bytes, always NUL-terminated).
 */
APP_MUST_CHECK app_err js_validate(const char *doc, size_t n, js_span *root, char *msg, size_t msglen);

/* Returns "null", "boolean", "number", "string", "array" or "object". */
const char *js_type_name(js_type t);

/* Iterates the elements of an array span or the members of an object span. */
typedef struct js_iter {
    const char *doc;
    size_t pos; /* next byte to look at */
    size_t end; /* offset of the closing bracket */
    bool object;
} js_iter;

void js_iter_init(js_iter *it, const char *doc, js_span container);

/* Advances to the next element (arrays: key is left untouched) or member
 * (objects: *key gets the key's string span).  Returns false at the end. */
bool js_iter_next(js_iter *it, js_span *key, js_span *value);

/* Appends the decoded contents of a validated string span to out.
 * Returns APP_ETOOBIG when out's cap would be passed, APP_ENOMEM. Decoded
 * text may contain NUL (from \u0000); *has_nul reports it when not NULL. */
APP_MUST_CHECK app_err js_string_decode(const char *doc, js_span s, sbuf *out, bool *has_nul);

/* Returns true when the string span decodes to exactly name. */
bool js_string_equals(const char *doc, js_span s, const char *name);

/* Parses a validated number span as a double. */
double js_number(const char *doc, js_span s);

/* Returns true for true, false for false (span must be JS_BOOL). */
bool js_bool(const char *doc, js_span s);

#endif
