/*
 * j0_result.h - what a run produced, in Judge0's terms: the engine's
 * result JSON (shared schema, program mode) mapped to a status id, stdout,
 * stderr, message, exit code or signal, times and memory; and the result
 * JSON stored with the submission.  The mapping table is in
 * docs/design/judge0-api.md.
 *
 * The engine's result is untrusted (a jailed program wrote part of it):
 * anything unreadable becomes Internal Error, never a failure.  An outcome
 * owns its buffers: free it with j0res_free().
 */
#ifndef PYSANDBOX_J0_RESULT_H
#define PYSANDBOX_J0_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "j0_request.h"
#include "j0_tables.h"
#include "sbuf.h"

/* What a run produced.  Prepare with j0res_init(), free with j0res_free(). */
typedef struct j0res_outcome {
    int status_id;
    sbuf out, err;                /* stdout and stderr bytes; empty means null */
    char message[J0_MAX_MESSAGE]; /* "" means null */
    bool has_exit_code, has_exit_signal, has_times, has_memory;
    int exit_code, exit_signal;
    double time_s, wall_s;
    long memory_kb;
    char engine_status[16]; /* the result's status, for the statistics */
} j0res_outcome;

/* Empties o (caps: J0_MAX_STREAM for stderr, twice that for stdout, which
 * may take stderr in). */
void j0res_init(j0res_outcome *o);

/* Frees o's buffers (not o). NULL-safe. */
void j0res_free(j0res_outcome *o);

/* Makes o an Internal Error whose message is "what: detail" (or what alone
 * when detail is ""): for runs that produced no result at all. */
void j0res_internal(j0res_outcome *o, const char *what, const char *detail);

/*
 * Maps the engine's result JSON (doc, len bytes) for request r to Judge0's
 * fields in o, which j0res_init() prepared.  Never fails on content: a
 * result it cannot read becomes Internal Error.  Returns APP_OK or
 * APP_ENOMEM.
 */
APP_MUST_CHECK app_err j0res_map(const char *doc, size_t len, const j0req *r, j0res_outcome *o);

/* A stored stream that is not UTF-8: "stdout" is null and
 * "stdout" J0RES_BASE64_SUFFIX holds its bytes in one-line base64. */
#define J0RES_BASE64_SUFFIX "_base64"

/* Appends the stored result object: the Judge0 fields a run sets (stdout,
 * stderr, message, exit_code, exit_signal, time, wall_time, memory), the
 * streams byte for byte (J0RES_BASE64_SUFFIX).  APP_OK, or out's append
 * error. */
APP_MUST_CHECK app_err j0res_json(const j0res_outcome *o, sbuf *out);

/* Judge0's Accepted test: expected and actual equal after Judge0's
 * normalisation (every line right-stripped, then the whole).  Returns 1
 * equal, 0 different, -1 out of memory. */
int j0res_output_matches(const char *expected, size_t elen, const char *actual, size_t alen);

#endif
