/*
 * j0_render.h - the JSON bodies of the Judge0-compatible API's answers: a
 * stored submission with the fields asked for, and the fixed information
 * routes (languages, statuses, about, config_info, system_info), byte for
 * byte as Judge0 CE 1.13.1 shapes them.
 *
 * Every function appends to a caller-owned capped buffer and returns
 * APP_OK or the buffer's error (APP_ETOOBIG, APP_ENOMEM); the caller turns
 * that into an HTTP answer.  No store access, no HTTP types.
 */
#ifndef PYSANDBOX_J0_RENDER_H
#define PYSANDBOX_J0_RENDER_H

#include <stdbool.h>

#include "app.h"
#include "conf.h"
#include "hist_j0.h"
#include "j0_tables.h"
#include "sbuf.h"

/*
 * Appends the submission in row as a JSON object with the fields f, byte
 * fields in base64 when b64; l gives the defaults of a request that lacks
 * one.  Also APP_EUTF8 when a text field is not UTF-8 and b64 is false
 * (Judge0's "cannot be converted to UTF-8").
 */
APP_MUST_CHECK app_err j0render_submission(const j0tab_limits *l, const hist_j0_row *row,
                                           const j0tab_fields *f, bool b64, sbuf *out);

/* /languages (all false) or /languages/all: [{"id", "name"(, "is_archived")}]. */
APP_MUST_CHECK app_err j0render_languages(sbuf *out, bool all);

/* /languages/{id}: the language with its commands.  APP_ENOTFOUND (nothing
 * appended) when id is not the decimal id of one of ours. */
APP_MUST_CHECK app_err j0render_language(sbuf *out, const char *id);

/* /statuses: every Judge0 status id with its description. */
APP_MUST_CHECK app_err j0render_statuses(sbuf *out);

/* /about: version, homepage (the service's public URL), maintainer. */
APP_MUST_CHECK app_err j0render_about(const conf *c, sbuf *out);

/* /config_info: Judge0's keys, in its order, with our real values. */
APP_MUST_CHECK app_err j0render_config_info(const conf *c, sbuf *out);

/* /system_info: a flat string map in the spirit of Judge0's (lscpu + free -h). */
APP_MUST_CHECK app_err j0render_system_info(sbuf *out);

/* Groups /statistics lists at most (our 2 languages, Judge0's 14 statuses). */
#define J0_STATS_MAX_GROUPS 16
/* Days /statistics counts back from yesterday (Judge0: 30). */
#define J0_STATS_DAYS 30

/* One group's count: a language id, a status id. */
typedef struct j0render_count {
    long long key, count;
} j0render_count;

/* What /statistics shows, gathered from the store by the caller. */
typedef struct j0render_stats {
    double now;                    /* Unix seconds */
    long long total, today;        /* live submissions; those created today (UTC) */
    long long days[J0_STATS_DAYS]; /* days[0]: yesterday, days[29]: 30 days ago */
    j0render_count languages[J0_STATS_MAX_GROUPS], statuses[J0_STATS_MAX_GROUPS];
    size_t nlanguages, nstatuses; /* largest count first */
    long long store_bytes;
} j0render_stats;

/* /statistics in Judge0's shape (created_at, cached_until, submissions
 * {total, today, last_30_days}, languages, statuses, database). */
APP_MUST_CHECK app_err j0render_statistics(const j0render_stats *st, sbuf *out);

/* /workers: one queue named after the version we answer as, its workers
 * being the native engine's job slots (total), working ones the
 * submissions Processing now. */
APP_MUST_CHECK app_err j0render_workers(const conf *c, long working, sbuf *out);

#endif
