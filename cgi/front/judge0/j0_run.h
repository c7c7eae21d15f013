/*
 * j0_run.h - a Judge0 submission's life in the store: validated and
 * inserted, run in the native engine (now, or in a background task), its
 * outcome stored, and loaded back for an answer.
 *
 * The SQL is the store's (hist_j0.h); this module decides what goes in:
 * status ids, the canonical request and result JSON, when a row is lost.
 * It never builds HTTP answers.  Rows loaded here are freed with
 * hist_j0_row_free().
 */
#ifndef PYSANDBOX_J0_RUN_H
#define PYSANDBOX_J0_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "conf.h"
#include "hist.h"
#include "hist_j0.h"
#include "j0_request.h"
#include "jscan.h"
#include "sbuf.h"

/* Seconds after which a row still In Queue/Processing is taken as lost
 * (its task died, or the service restarted under it). */
double j0run_stale_s(const conf *c);

/*
 * Validates one submission object (obj in doc; byte fields base64 when
 * b64) and stores it with status_id (1, or 2 when it is about to run
 * here).  On validation errors, appends Judge0's error object to errs_out
 * and returns APP_EFIELD.  On APP_OK, token (J0_TOKEN_LEN + 1 bytes) is
 * set and r, which j0req_init() prepared, holds the decoded request (the
 * caller frees it either way).  Else APP_ENOMEM, APP_EIO or APP_EDB with msg.
 */
APP_MUST_CHECK app_err j0run_create(const conf *c, hist *h, const char *doc, js_span obj, bool b64, int status_id,
                     j0req *r, char *token, sbuf *errs_out, char *msg, size_t msglen);

/* Starts the background run of token (pysandbox-fcgi --task judge0 TOKEN,
 * which calls j0run_task); on failure the row is removed and msg says why. */
APP_MUST_CHECK app_err j0run_spawn(hist *h, const char *token, char *msg, size_t msglen);

/*
 * Runs r in the native engine and stores the outcome under token (status,
 * finished_at, result) and one row in the execution statistics.
 * cancel_fd (or -1) is the HTTP client of a wait=true request and client
 * its xp_client_key() (0 for queued submissions); retry_s bounds the
 * retries while the executor, or this client's share of it, is saturated.
 * Failures of the engine become Internal Error; store failures are logged.
 */
void j0run_execute(const conf *c, hist *h, const char *token, const j0req *r, int cancel_fd,
                   uint64_t client, double retry_s);

/* The background task of a wait=false submission: opens the store, runs
 * the queued submission token and stores its result.  APP_OK; else what
 * went wrong (a row started twice is APP_EINTERNAL and left alone). */
APP_MUST_CHECK app_err j0run_task(const conf *c, const char *token);

/* Loads a live row (hist_j0_get), taking a status id out of Judge0's
 * range as Internal Error.  APP_ENOTFOUND; APP_EDB; APP_ENOMEM. */
APP_MUST_CHECK app_err j0run_get(hist *h, const char *token, hist_j0_row *row, char *msg, size_t msglen);

/* j0run_get, closing the row as lost first when its run is overdue, so a
 * polling client always ends. */
APP_MUST_CHECK app_err j0run_load(const conf *c, hist *h, const char *token, hist_j0_row *row, char *msg,
                   size_t msglen);

#endif
