/*
 * judge0_decode.h - reading what a Judge0 CE server answers: its submission
 * objects and its status ids.
 *
 * The body comes from a remote server: untrusted.  The decoder accepts what
 * Judge0 really sends (read from Judge0 CE 1.13.1's source,
 * base64_service.rb): MIME base64 with line breaks, numbers sent as strings
 * ("0.282"), nulls; anything else is APP_EUPSTREAM.  The caller owns the
 * jz_result and frees it with jz_result_free().
 */
#ifndef PYSANDBOX_JUDGE0_DECODE_H
#define PYSANDBOX_JUDGE0_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "sbuf.h"

/* Largest HTTP response body accepted from Judge0. */
#define JZ_MAX_RESPONSE (8u * 1024 * 1024)

/* Longest submission token accepted (Judge0 uses 36-character UUIDs). */
#define JZ_MAX_TOKEN 64
/* Cap on a numeric string ("0.282") or a status description. */
#define JZ_MAX_SCALAR 256

/* A decoded submission.  Fields Judge0 sent as null keep their "has" flag false. */
typedef struct jz_result {
    char token[128];
    int status_id;               /* 1..14; 0 if absent */
    char status_description[96];
    sbuf stdout_text, stderr_text, compile_output, message; /* base64-decoded */
    bool has_time, has_wall_time, has_memory, has_exit_code, has_exit_signal;
    double time_s, wall_time_s;
    long memory_kb;
    int exit_code, exit_signal;
} jz_result;

/* Judge0's status ids run from 1 (In Queue) to JZ_STATUS_MAX (Exec Format Error). */
#define JZ_STATUS_MAX 14

/* Returns Judge0's own description of a status id ("Accepted",
 * "Runtime Error (NZEC)", ...), or "" for an id outside 1..JZ_STATUS_MAX.
 * The string is static. */
const char *jz_status_description(int id);

/* Prepares an empty result (buffers capped at JZ_MAX_RESPONSE). */
void jz_result_init(jz_result *r);
/* Frees the buffers. NULL-safe. */
void jz_result_free(jz_result *r);

/*
 * Decodes one submission object (the body of GET /submissions/{token}) into
 * *r.  base64 says whether text fields are base64.  Returns APP_OK, or
 * APP_EUPSTREAM with msg for anything malformed (not JSON, wrong types,
 * invalid base64, decoded text that is not UTF-8 is kept as bytes).
 */
APP_MUST_CHECK app_err jz_decode_submission(const char *json, size_t len, bool base64, jz_result *r, char *msg,
                             size_t msglen);

/* Whether the n bytes at s are a token we accept: 1..JZ_MAX_TOKEN of
 * [A-Za-z0-9-] (Judge0 sends UUIDs). */
bool jz_token_valid(const char *s, size_t n);

#endif
