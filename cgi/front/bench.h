/*
 * bench.h - benchmark suites: named cases run on the server engines, and
 * browser-side results posted back by the statistics page.
 *
 * bench_start() validates a request, records a run in the store and runs
 * it in a background task (bg.h); progress and results go to the store as
 * they happen, so GET ...?id= can show "running" with progress, then
 * "done" with a summary (p50/mean/min/max per case and engine) or
 * "failed".  Cases an engine cannot import (pandas on a stock Judge0) are
 * skipped for it and said so.  At most BENCH_MAX_RUNNING server runs go at
 * once, so benchmarks cannot starve real work.
 */
#ifndef PYSANDBOX_BENCH_H
#define PYSANDBOX_BENCH_H

#include <stddef.h>

#include "app.h"
#include "body.h"
#include "conf.h"
#include "execution.h"
#include "hist.h"

#define BENCH_MAX_ITERATIONS 20
#define BENCH_DEFAULT_ITERATIONS 3
#define BENCH_MAX_RUNNING 2
/* Most results one browser report may carry. */
#define BENCH_MAX_BROWSER_RESULTS 500

/* Appends the suite catalogue: [{"name", "code", "packages" (space-separated
 * imports), "data" (true: the case gets bench_data_json's rows)}] (the
 * statistics page runs the same cases in the browser). */
APP_MUST_CHECK app_err bench_cases_json(sbuf *out);

/* Appends the data set the cases with "data": true get: 1,000 deterministic
 * rows [{"id", "price", "qty"}], about 40 kB. */
APP_MUST_CHECK app_err bench_data_json(sbuf *out);

/*
 * Starts a server run from {suite?, iterations?, engines?} (decoded body b).
 * suite: "all" (default) or a case name; engines: subset of ["native",
 * "judge0"] (default: every available one).  On APP_OK the run's id is in
 * id.  Errors: APP_EFIELD (bad fields), APP_EBUSY (too many runs), APP_EDB,
 * APP_EIO, each with msg.
 */
APP_MUST_CHECK app_err bench_start(const conf *c, exe_ctx *x, hist *db, const body *b, char id[33], char *msg,
                    size_t msglen);

/* The background task of a server run (see bg.h): runs the stored run. */
APP_MUST_CHECK app_err bench_task(const conf *c, const char *run_id);

/*
 * Stores a browser run posted by the page: {source: "browser", suite,
 * results: [{case, iteration, status, wallMs, execMs?}]}.  On APP_OK the
 * stored run's id is in id.
 */
APP_MUST_CHECK app_err bench_store_browser(hist *db, const body *b, char id[33], char *msg, size_t msglen);

#endif
