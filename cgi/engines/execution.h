/*
 * execution.h - running code on the best engine: routing, fallback,
 * statistics, browser hand-off.
 *
 * exe_run() is the library behind POST /api/insights/python-execution:
 * it asks the router (router.h) for an ordered list of engines, runs the
 * job on the first one, and moves to the next only when an engine fails
 * for reasons that are not the user's (unavailable, busy, crashed, its own
 * timeout) and fallbackAllowed.  Every attempt is recorded in the store.
 * The answer is the engine's result in the shared schema, with
 * metadata.{performanceScore, fallbackUsed, attempts, selectedBecause}
 * added; a browser decision answers {engine: "browser", status: "handoff",
 * sandboxUrl} instead (no sandboxUrl for the sandbox page itself).
 */
#ifndef PYSANDBOX_EXECUTION_H
#define PYSANDBOX_EXECUTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "conf.h"
#include "hist.h"
#include "pkgs.h"
#include "reqs.h"
#include "router.h"
#include "sbuf.h"

typedef struct exe_ctx exe_ctx;

/* What one run request carries (borrowed for the call). */
typedef struct exe_request {
    const char *code;
    size_t code_len;
    const char *data;      /* JSON text */
    size_t data_len;
    const reqs *r;
    bool caller_is_page;   /* client: "page" */
    const char *link_base; /* e.g. "http://127.0.0.1:8080/" for sandbox links */
    int cancel_fd;
    uint64_t client;       /* xp_client_key() of the caller: its fair share of the engines */
} exe_request;

/* The answer: body and its media type. */
typedef struct exe_answer {
    int status;            /* HTTP status (200, or an error's) */
    const char *content_type;
    sbuf body;             /* capped; free with sbuf_free */
    int retry_after_s;     /* > 0: send Retry-After (the engines may be back soon) */
} exe_answer;

/*
 * Builds the context: the package catalogues of the engines (read from the
 * host's Python directories, the Pyodide lockfile and JUDGE0_PACKAGES).
 * Call once at start-up; c is borrowed.  APP_OK or an error with msg.
 */
app_err exe_ctx_new(const conf *c, exe_ctx **out, char *msg, size_t msglen);
void exe_ctx_free(exe_ctx *x);

/* Runs req.  Always fills *a (init'd here); errors that are the caller's
 * (refusal, bad input) or the service's come back as JSON error bodies with
 * their status.  db may be NULL (nothing is recorded then). */
void exe_run(exe_ctx *x, hist *db, const exe_request *req, exe_answer *a);

/* Appends the per-engine statistics and health (GET python-execution). */
app_err exe_stats_json(exe_ctx *x, hist *db, long window_s, sbuf *out, char *msg, size_t msglen);

/* The importable names of an engine (borrowed, valid until exe_ctx_free). */
const pk_set *exe_engine_packages(const exe_ctx *x, rt_engine e);

/* Appends the package catalogue of each engine as JSON (for the docs and the page). */
app_err exe_packages_json(exe_ctx *x, sbuf *out);

#endif
