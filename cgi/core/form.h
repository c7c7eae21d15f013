/*
 * form.h - application/x-www-form-urlencoded and query-string decoder.
 *
 * One decoder serves both POSTed HTML forms and URL query strings.  Names
 * and values are percent-decoded ('+' means space), must be valid UTF-8
 * after decoding, and are handed to a callback one pair at a time; the
 * decoder keeps no state between calls and allocates one scratch block the
 * size of the input.
 */
#ifndef PYSANDBOX_FORM_H
#define PYSANDBOX_FORM_H

#include <stddef.h>

#include "app.h"

/* Most name=value pairs one form or query string may carry; more is
 * refused with APP_ETOOBIG so a request cannot make us loop for long. */
#define FORM_MAX_FIELDS 64

/*
 * Receives one decoded pair.  name/value are NUL-terminated (the NUL is not
 * counted in the lengths; a value may itself contain NUL bytes from %00).
 * They are valid only during the call.  A non-APP_OK return stops parsing
 * and is returned by form_parse(); the callback may explain it in msg.
 */
typedef app_err (*form_cb)(void *ctx, const char *name, size_t name_len, const char *value,
                           size_t value_len, char *msg, size_t msglen);

/*
 * Decodes the n bytes at p.  Returns APP_OK; APP_EFIELD for a malformed
 * %-escape; APP_EUTF8 for a decoded name or value that is not UTF-8;
 * APP_ETOOBIG past FORM_MAX_FIELDS pairs; APP_ENOMEM; or the callback's
 * error.  msg (msglen bytes) receives a sentence on error.
 */
APP_MUST_CHECK app_err form_parse(const char *p, size_t n, form_cb cb, void *ctx, char *msg, size_t msglen);

/* Returns the media type of a Content-Type value, lower-cased into buf
 * (without parameters such as charset): "application/json". */
const char *form_media_type(const char *content_type, char *buf, size_t buflen);

#endif
