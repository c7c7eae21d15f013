/*
 * j0_request.h - a Judge0 submission's request: decoding it from a client
 * (validated as Judge0's Submission model does, with its messages),
 * writing its canonical stored form, reading that form back, and the
 * engine limits it asks for.
 *
 * Inputs are spans of documents js_validate() accepted; nothing here
 * touches the store, the engine or HTTP.  A j0req owns its buffers: free
 * it with j0req_free().
 */
#ifndef PYSANDBOX_J0_REQUEST_H
#define PYSANDBOX_J0_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "j0_tables.h"
#include "jscan.h"
#include "sbuf.h"

/* Most validation errors one submission can collect (later ones are dropped). */
#define J0_MAX_ERRS 32

/* A submission's request fields, decoded.  Prepare with j0req_init(),
 * free with j0req_free(). */
typedef struct j0req {
    sbuf source, input, expected; /* decoded bytes (caps J0_MAX_SOURCE/INPUT/EXPECTED) */
    bool has_source, has_input, has_expected; /* given and not null */
    long language_id;
    double cpu_time_limit, cpu_extra_time, wall_time_limit;
    long memory_limit, stack_limit, max_processes, max_file_size, number_of_runs;
    bool pp_time, pp_memory, redirect, network;
} j0req;

/* Empties r and fills in the server's defaults l. */
void j0req_init(j0req *r, const j0tab_limits *l);

/* Frees r's buffers (not r). NULL-safe. */
void j0req_free(j0req *r);

/* Validation errors in Judge0's order: {"field": ["message", ...], ...}.
 * Zero it before use ({0}); n counts the errors. */
typedef struct j0req_errs {
    size_t n;
    struct {
        const char *field; /* static */
        char msg[96];
    } e[J0_MAX_ERRS];
} j0req_errs;

/* Appends e as Judge0's error object.  APP_OK, or out's append error. */
APP_MUST_CHECK app_err j0req_errs_json(const j0req_errs *e, sbuf *out);

/*
 * Decodes a client's submission object (root) into r, which j0req_init()
 * prepared, validating every field as Judge0's Submission model does
 * against the limits l; source_code, stdin and expected_output are base64
 * when b64.  Problems are collected in e (the call still returns APP_OK:
 * the request is acceptable when e->n is 0).  Returns APP_OK or APP_ENOMEM.
 */
APP_MUST_CHECK app_err j0req_decode_create(const j0tab_limits *l, const char *doc, js_span root, bool b64,
                            j0req *r, j0req_errs *e);

/*
 * Reads back a stored request (what j0req_store_json wrote) into r, which
 * j0req_init() prepared.  No validation.  With bytes false, only the
 * presence of source_code, stdin and expected_output is read, not their
 * bytes (rendering that does not show them skips the decoding).  Returns
 * APP_OK or APP_ENOMEM.
 */
APP_MUST_CHECK app_err j0req_decode_stored(const char *doc, js_span root, bool bytes, j0req *r);

/*
 * Appends the canonical stored form of r: a Judge0 request object with the
 * byte fields in base64 (one line) and every default filled in.
 * j0req_decode_stored() gives r back.  APP_OK, or out's append error.
 */
APP_MUST_CHECK app_err j0req_store_json(const j0req *r, sbuf *out);

/* The engine limits for r, as Judge0 means them: the wall-clock kill at
 * wall_time_limit; the whole jail's CPU time bounded by cpu_time_limit +
 * cpu_extra_time (none when cpu_time_limit is 0); memory_limit rounded up
 * to MB.  Each kept within the engine's minimum and the server's maximum. */
void j0req_job_limits(const conf *c, const j0req *r, unsigned *wall_ms, unsigned *cpu_ms,
                      unsigned *memory_mb);

/* Finds a member of an object span (the last one wins, as in Rails); false
 * when obj is not an object or has no such member.  Member names without
 * escapes (all real ones) are compared in place without allocating. */
bool j0req_member(const char *doc, js_span obj, const char *name, js_span *out);

#endif
