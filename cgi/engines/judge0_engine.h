/*
 * judge0_engine.h - the remote Judge0 engine: our harness, run by Judge0.
 *
 * The job's code runs inside the same harness the other engines use:
 * the submitted source is web/harness.py followed by a few lines that read
 * {"code", "data"} from stdin, call run_json() and print the result after
 * a marker line; jeng_run() finds it in Judge0's stdout and answers in the
 * shared schema with engine "judge0".  Judge0's status ids map to our
 * statuses (docs/design/judge0-client.md); Judge0's own failures (13
 * Internal Error, 14 Exec Format Error, quota, outages) are engine
 * failures the router may fall back from, never the user's.
 */
#ifndef PYSANDBOX_JUDGE0_ENGINE_H
#define PYSANDBOX_JUDGE0_ENGINE_H

#include <stdbool.h>

#include "app.h"
#include "conf.h"
#include "native.h"
#include "sbuf.h"

/* Returns true when JUDGE0_API_URL is set. */
bool jeng_configured(const conf *c);

/*
 * Runs job (code, data, wall_ms, memory_mb; program mode is not supported)
 * on the configured Judge0.  On APP_OK, out holds the result JSON.  Errors
 * as jz_run(), plus APP_EUNAVAIL when not configured.
 */
APP_MUST_CHECK app_err jeng_run(const conf *c, const native_job *job, int cancel_fd, sbuf *out, char *msg,
                 size_t msglen);

#endif
