/*
 * hist.h - the SQLite store: execution statistics, browser hand-off links,
 * benchmark runs and results, Judge0-compatible submissions and
 * asynchronous executions.
 *
 * One database file (PYSANDBOX_DB, default <run dir>/pysandbox.db) shared by
 * every FastCGI worker process.  hist_open() creates and migrates it (a
 * schema version in PRAGMA user_version), switches it to WAL and sets a
 * busy timeout, so concurrent workers never see "database is locked" in
 * normal operation and never corrupt it.  Each process opens its own
 * handle (never share one across fork()).  Every query uses bound
 * parameters; user text is only ever stored as a value.
 *
 * The SQL lives here, in hist_j0.c (Judge0-compatible submissions,
 * hist_j0.h) and in hist_run.c (asynchronous executions, hist_run.h)
 * only: no sqlite3 handle leaves the store.
 *
 * Executions are recorded without the user's code or data unless
 * PYSANDBOX_STORE_CODE=1.  Hand-off links and Judge0 submissions must hold
 * code (that is what they are for) and are purged when they expire;
 * asynchronous executions hold it only until they end.
 */
#ifndef PYSANDBOX_HIST_H
#define PYSANDBOX_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "sbuf.h"

typedef struct hist hist;

/* Largest text value stored per column (code, data, output...). */
#define HIST_MAX_TEXT (64u * 1024 * 1024)
/* How long hand-off links stay valid. */
#define HIST_HANDOFF_TTL_S 600
/* How long Judge0-compatible submissions are kept. */
#define HIST_SUBMISSION_TTL_S (24 * 3600)
/* Longest statistics window and most rows one history page returns. */
#define HIST_MAX_WINDOW_S (90 * 24 * 3600)
#define HIST_MAX_PAGE 200

/* Opens (creating and migrating) the database at path.  Returns APP_OK and
 * *out (free with hist_close), or APP_EDB with a sentence in msg. */
APP_MUST_CHECK app_err hist_open(const char *path, hist **out, char *msg, size_t msglen);

/* Closes the handle. NULL-safe. */
void hist_close(hist *h);

/* --- executions --------------------------------------------------------- */

typedef struct hist_execution {
    const char *engine;      /* "browser", "native", "judge0" */
    const char *status;      /* result status, or "engine_error" / "unavailable" */
    bool success;
    double wall_ms;          /* as seen by the service (or the browser, for reports) */
    double exec_ms;          /* the user's code alone; < 0 when unknown */
    size_t code_bytes, data_bytes, output_bytes;
    const char *source;      /* "api", "page", "benchmark", "judge0-api" */
    bool fallback;           /* this attempt followed a failed one */
    const char *error;       /* engine-side error text (not the user's exception), or NULL */
    const char *code;        /* stored only when store_code is set; else NULL */
    const char *data;
} hist_execution;

/* Records one attempt.  APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_record(hist *h, const hist_execution *e, char *msg, size_t msglen);

/* Per-engine figures over the last window_s seconds. */
typedef struct hist_engine_stats {
    long count;
    double success_rate;   /* results with status ok / count; 0 when count is 0 */
    double engine_failure_rate; /* engine_error/unavailable attempts / count */
    double avg_ms, p50_ms, p95_ms; /* of wall_ms; 0 when count is 0 */
    char last_error[256];  /* most recent engine error, "" if none */
} hist_engine_stats;

/* Fills *s for engine over the window. APP_OK or APP_EDB. */
APP_MUST_CHECK app_err hist_engine_stats_get(hist *h, const char *engine, long window_s, hist_engine_stats *s,
                              char *msg, size_t msglen);

/* Appends a JSON array of time buckets for charts:
 * [{"t": <unix start>, "engine": e, "count": n, "ok": n, "p50": ms}, ...]. */
APP_MUST_CHECK app_err hist_timeseries_json(hist *h, long window_s, long bucket_s, sbuf *out, char *msg,
                             size_t msglen);

/* --- browser hand-off links --------------------------------------------- */

/* Stores code, data (JSON text) and requirements (JSON text) under a new
 * random token (32 hex chars, written to token[33]) valid for
 * HIST_HANDOFF_TTL_S.  Expired links are purged on the way. */
APP_MUST_CHECK app_err hist_handoff_create(hist *h, const char *code, size_t code_len, const char *data,
                            size_t data_len, const char *requirements, char token[33], char *msg,
                            size_t msglen);

/* Loads a live link: code and data appended to the caller's buffers.
 * APP_ENOTFOUND when unknown or expired. */
APP_MUST_CHECK app_err hist_handoff_get(hist *h, const char *token, sbuf *code, sbuf *data, char *msg,
                         size_t msglen);

/* --- benchmarks ---------------------------------------------------------- */

/* Creates a run (status "running") with a new id (32 hex chars). */
APP_MUST_CHECK app_err hist_bench_create(hist *h, const char *suite, int iterations, const char *engines_json,
                          const char *source, int total, char id[33], char *msg, size_t msglen);

/* Records one measured case of a run and advances its progress. */
APP_MUST_CHECK app_err hist_bench_result(hist *h, const char *run_id, const char *case_name, const char *engine,
                          int iteration, const char *status, double wall_ms, double exec_ms,
                          char *msg, size_t msglen);

/* Marks a run done or failed; summary_json may be NULL. */
APP_MUST_CHECK app_err hist_bench_finish(hist *h, const char *run_id, bool ok, const char *summary_json,
                          const char *error, char *msg, size_t msglen);

/* A benchmark task that has not recorded its pid after this long never started. */
#define HIST_TASK_START_S 30

/* Records the process running a server run (its task calls this first). */
APP_MUST_CHECK app_err hist_bench_set_pid(hist *h, const char *run_id, long pid, char *msg, size_t msglen);

/* Marks failed the running server runs whose task never started or died. */
void hist_bench_reap(hist *h);

/* Appends a run as JSON {id, suite, status, progress, done, total, ...}.
 * APP_ENOTFOUND when unknown. */
APP_MUST_CHECK app_err hist_bench_get_json(hist *h, const char *run_id, sbuf *out, char *msg, size_t msglen);

/* Appends {"history": [runs newest first], "page": p, "perPage": n, "total": t}. */
APP_MUST_CHECK app_err hist_bench_history_json(hist *h, int page, int per_page, sbuf *out, char *msg,
                                size_t msglen);

/* Fills *suite, *iterations and *engines (the JSON list bench_start wrote)
 * of a server run still running.  APP_ENOTFOUND when there is none with
 * that id, or a value does not fit its buffer; APP_EDB with msg. */
APP_MUST_CHECK app_err hist_bench_server_run(hist *h, const char *run_id, char *suite, size_t suite_len,
                              int *iterations, char *engines, size_t engines_len, char *msg,
                              size_t msglen);

/* How many server runs are running; 0 when the store cannot say. */
int hist_bench_running_count(hist *h);

/* Called once per stored result of a run; a result other than APP_OK stops
 * the walk and is returned.  The strings are borrowed for the call only;
 * status may be NULL. */
typedef app_err (*hist_bench_row_fn)(void *ctx, const char *case_name, const char *engine,
                                     const char *status, double wall_ms);

/* Walks a run's results ordered by case, engine, then the successful ones
 * first by ascending wall_ms (what a summary's percentiles need).  Returns
 * APP_OK, fn's first failure, or APP_EDB with msg when the query cannot
 * start; a read error part-way ends the walk early. */
APP_MUST_CHECK app_err hist_bench_results_each(hist *h, const char *run_id, hist_bench_row_fn fn, void *ctx,
                                char *msg, size_t msglen);

/* --- waiting for writes -------------------------------------------------------- */

/* Returns a descriptor that becomes readable once the store may have
 * changed (a commit by any process: inotify on the write-ahead log, which
 * every commit writes, and which stays while h is open), for a reader that
 * follows a row; close it with close(), empty it with hist_watch_drain()
 * after each wake.  -1 when there is none (the caller polls instead). */
int hist_watch(hist *h);

/* Empties a hist_watch() descriptor (non-blocking). */
void hist_watch_drain(int fd);

/* --- helpers ----------------------------------------------------------------- */

/* Fills buf with n random bytes as 2n hex chars plus NUL (buf: 2n+1 bytes). */
APP_MUST_CHECK app_err hist_random_hex(char *buf, size_t n);

#endif
