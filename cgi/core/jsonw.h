/*
 * jsonw.h - writing JSON text into capped buffers.
 *
 * Every answer this project writes (HTTP bodies, executor frames, the
 * history's JSON) escapes strings here, so the output is always valid JSON
 * whatever bytes the string holds.  The caller owns the buffer.
 */
#ifndef PYSANDBOX_JSONW_H
#define PYSANDBOX_JSONW_H

#include <stddef.h>

#include "app.h"
#include "sbuf.h"

/* Appends the n bytes at s to out as a JSON string literal (quotes included).
 * Control characters, NUL, '"' and '\\' are escaped; bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON.  Returns
 * APP_OK, or APP_ETOOBIG / APP_ENOMEM from the buffer (then out holds a
 * partial literal: the caller must not send it as JSON). */
APP_MUST_CHECK app_err jsonw_string(sbuf *out, const char *s, size_t n);

/* Appends Unix time t (seconds) as a JSON string "2024-05-01T12:00:00.123Z"
 * (UTC, milliseconds), or null when t is negative or not finite.
 * APP_ETOOBIG / APP_ENOMEM from the buffer. */
APP_MUST_CHECK app_err jsonw_iso_time(sbuf *out, double t);

#endif
