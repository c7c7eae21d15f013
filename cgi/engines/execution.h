/*
 * execution.h - running code on the best engine: routing, fallback,
 * statistics, browser hand-off.
 *
 * exe_run() is the library behind POST /api/insights/python-execution
 * (exe_run_native() behind POST /api/python/execute):
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
#include "native.h"
#include "pkgs.h"
#include "reqs.h"
#include "router.h"
#include "sbuf.h"
#include "xproto.h"

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
    const char *sandbox;   /* exe_run_native only: run in this sandbox (its id), or NULL */
    xc_output_fn on_output; /* the native engine's output as it comes (xclient.h), or NULL */
    void *output_ctx;
} exe_request;

/* Caps of an answer: the engine's result (up to XP_MAX_RESPONSE) with our
 * metadata merged in, and the detail of an error (attempts, exclusions). */
#define EXE_MAX_DETAIL (64u * 1024)
#define EXE_MAX_ANSWER (XP_MAX_RESPONSE + EXE_MAX_DETAIL)

/*
 * What a run produced.  err == APP_OK: result holds the answer in the
 * shared schema (JSON).  Otherwise no engine answered: message says why
 * and, when detail_name is set, detail holds a JSON value the error
 * carries under that name ("engines": why each was left out, "attempts":
 * what was tried).  The front turns it into HTTP (status, error body,
 * output format); nothing here knows HTTP.  Free with exe_answer_free().
 */
typedef struct exe_answer {
    app_err err;
    sbuf result;
    char message[APP_ERRMSG_LEN];
    const char *detail_name; /* static, or NULL */
    sbuf detail;
} exe_answer;

/* Releases the answer's buffers.  NULL-safe. */
void exe_answer_free(exe_answer *a);

/*
 * Builds the context: the package catalogues of the engines (read from the
 * host's Python directories, the Pyodide lockfile and JUDGE0_PACKAGES).
 * Call once at start-up; c is borrowed.  APP_OK or an error with msg.
 */
APP_MUST_CHECK app_err exe_ctx_new(const conf *c, exe_ctx **out, char *msg, size_t msglen);
void exe_ctx_free(exe_ctx *x);

/* Runs req on the engines the router picks, falling back on engine
 * faults.  Always fills *a (initialised here).  Every attempt is recorded
 * in db, which may be NULL (nothing is recorded then). */
void exe_run(exe_ctx *x, hist *db, const exe_request *req, exe_answer *a);

/* Runs req on the native engine only (POST /api/python/execute): no
 * routing, no fallback, the engine's answer as it is; recorded like every
 * other run. */
void exe_run_native(exe_ctx *x, hist *db, const exe_request *req, exe_answer *a);

/*
 * Runs job on server engine e with the limits r asks for (the engine's
 * defaults where r says nothing): the one engine table every caller goes
 * through.  Fills job's limits; the answer (shared schema) goes to out.
 * APP_EREFUSED / APP_EFIELD for limits the engine cannot take, else the
 * engine's own error, with msg.
 */
APP_MUST_CHECK app_err exe_engine_run(const exe_ctx *x, rt_engine e, const reqs *r, native_job *job,
                       int cancel_fd, sbuf *out, char *msg, size_t msglen);

/* Appends the per-engine statistics and health (GET python-execution). */
APP_MUST_CHECK app_err exe_stats_json(exe_ctx *x, hist *db, long window_s, sbuf *out, char *msg, size_t msglen);

/* The importable names of an engine (borrowed, valid until exe_ctx_free). */
const pk_set *exe_engine_packages(const exe_ctx *x, rt_engine e);

/* Appends the package catalogue of each engine as JSON (for the docs and the page). */
APP_MUST_CHECK app_err exe_packages_json(exe_ctx *x, sbuf *out);

#endif
