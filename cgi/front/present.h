/*
 * present.h - the other output formats of an execution's answer.
 *
 * Runs answer JSON in the shared schema ({success, status, output, stderr,
 * error, result, charts, ...}); a caller may ask for
 * requirements.outputFormat "text" (output, then stderr, error and result
 * under "--- name ---" lines) or "html" (a small page, every text escaped,
 * charts as <img> when their data is plain base64).  Both read the answer
 * with cJSON and append to out (capped; the caller owns it).  They return
 * APP_EUPSTREAM when json is not a JSON document, APP_ENOMEM or
 * APP_ETOOBIG from the buffer.
 */
#ifndef PYSANDBOX_PRESENT_H
#define PYSANDBOX_PRESENT_H

#include <stddef.h>

#include "app.h"
#include "sbuf.h"

APP_MUST_CHECK app_err present_text(const char *json, size_t len, sbuf *out);
APP_MUST_CHECK app_err present_html(const char *json, size_t len, sbuf *out);

#endif
