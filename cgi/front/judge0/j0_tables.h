/*
 * j0_tables.h - what Judge0 CE 1.13.1 is, as the Judge0-compatible API
 * (cgi/front/judge0/) answers it: our caps, status ids, languages, the
 * attributes `fields` may name, the server-wide limits /config_info shows,
 * and the way Rails spells decimals, times and tokens.
 *
 * Everything here is pure: no store, no engine, no HTTP.  Nothing returned
 * needs freeing; strings returned are static.
 */
#ifndef PYSANDBOX_J0_TABLES_H
#define PYSANDBOX_J0_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "hist_j0.h"
#include "xproto.h"

/* The Judge0 version we answer as: judge0-python maps language aliases by it. */
#define J0_VERSION "1.13.1"

/* Decoded source_code: the engine's own cap.  Past it: 422 "is too long". */
#define J0_MAX_SOURCE XP_MAX_CODE
/* Decoded stdin.  Below the engine's XP_MAX_DATA because the request is
 * stored base64 in one SQLite value of at most HIST_MAX_TEXT bytes. */
#define J0_MAX_INPUT (32u * 1024 * 1024)
/* Decoded expected_output (stdout is capped at 1 MiB anyway). */
#define J0_MAX_EXPECTED (8u * 1024 * 1024)
/* stdout/stderr decoded from an engine result: twice the engine's stream
 * cap; a result past it is reported as Internal Error. */
#define J0_MAX_STREAM (2u * XP_MAX_STREAM_BYTES)
/* Submissions per batch (Judge0's MAX_SUBMISSION_BATCH_SIZE). */
#define J0_MAX_BATCH 20
/* Submissions in status 1 or 2 at once; past it create answers 503
 * "queue is full" (Judge0's MAX_QUEUE_SIZE).  Bounds background tasks. */
#define J0_MAX_QUEUE 100
/* number_of_runs accepted (Judge0's MAX_NUMBER_OF_RUNS). */
#define J0_MAX_RUNS 20
/* Judge0's MAX_CPU_EXTRA_TIME. */
#define J0_MAX_EXTRA_TIME 5.0
/* Longest value kept for fields, tokens or any other query parameter;
 * longer ones are refused with 400. */
#define J0_MAX_PARAM 4096
/* Longest message we store or print. */
#define J0_MAX_MESSAGE 512
/* How long a run keeps retrying while the executor is saturated (APP_EBUSY)
 * before it is reported as Internal Error: background runs, and wait=true
 * runs (which hold a FastCGI worker and an HTTP client, and must end well
 * inside nginx's 300 s fastcgi_read_timeout); and the pause between tries. */
#define J0_BUSY_RETRY_S 300
#define J0_WAIT_BUSY_RETRY_S 60
#define J0_BUSY_SLEEP_MS 250
/* What GET /isolate and GET /license answer (Judge0 prints `isolate
 * --version` and its LICENSE file, neither of which is ours to give). */
#define J0_ISOLATE_TEXT                                                                        \
    "pysandbox jail (not isolate): user, PID, mount, network, IPC and UTS namespaces, "       \
    "seccomp, rlimits and a cgroup per run\n"
#define J0_LICENSE_TEXT                                                                        \
    "This is pysandbox's Judge0-compatible API, not Judge0. Judge0 CE is (c) Herman Zvonimir " \
    "Dosilovic, GPLv3; this service reimplements its HTTP API only and contains none of its "  \
    "code.\n"
/* UUID v4 text. */
#define J0_TOKEN_LEN HIST_J0_TOKEN_LEN

/* Judge0's status ids (the ones we give; /statuses lists all 14). */
enum {
    J0_ST_QUEUE = 1,
    J0_ST_PROCESS = 2,
    J0_ST_ACCEPTED = 3,
    J0_ST_WRONG = 4,
    J0_ST_TLE = 5,
    J0_ST_SIGSEGV = 7,
    J0_ST_SIGXFSZ = 8,
    J0_ST_SIGFPE = 9,
    J0_ST_SIGABRT = 10,
    J0_ST_NZEC = 11,
    J0_ST_OTHER = 12,
    J0_ST_INTERNAL = 13,
};

/* --- languages ------------------------------------------------------------ */

/* How many languages we list (ids 71 and 92, both our CPython). */
size_t j0tab_language_count(void);

/* The id of the i-th language (i < j0tab_language_count()). */
int j0tab_language_id(size_t i);

/* The name of language id, or NULL when we have no such language. */
const char *j0tab_language_name(long id);

/* --- fields ------------------------------------------------------------------ */

/* Every attribute `fields` may name: Judge0's columns (minus id) plus
 * status and language, in its serializer's order.  "*" selects them all. */
enum j0_field {
    J0_F_SOURCE_CODE,
    J0_F_LANGUAGE_ID,
    J0_F_STDIN,
    J0_F_EXPECTED_OUTPUT,
    J0_F_STDOUT,
    J0_F_STATUS_ID,
    J0_F_CREATED_AT,
    J0_F_FINISHED_AT,
    J0_F_TIME,
    J0_F_MEMORY,
    J0_F_STDERR,
    J0_F_TOKEN,
    J0_F_NUMBER_OF_RUNS,
    J0_F_CPU_TIME_LIMIT,
    J0_F_CPU_EXTRA_TIME,
    J0_F_WALL_TIME_LIMIT,
    J0_F_MEMORY_LIMIT,
    J0_F_STACK_LIMIT,
    J0_F_MAX_PROCESSES,
    J0_F_PP_TIME,
    J0_F_PP_MEMORY,
    J0_F_MAX_FILE_SIZE,
    J0_F_COMPILE_OUTPUT,
    J0_F_EXIT_CODE,
    J0_F_EXIT_SIGNAL,
    J0_F_MESSAGE,
    J0_F_WALL_TIME,
    J0_F_COMPILER_OPTIONS,
    J0_F_COMMAND_LINE_ARGUMENTS,
    J0_F_REDIRECT,
    J0_F_CALLBACK_URL,
    J0_F_ADDITIONAL_FILES,
    J0_F_ENABLE_NETWORK,
    J0_F_STATUS,
    J0_F_LANGUAGE,
    J0_F_COUNT
};

/* The attribute's name as Judge0 spells it (f < J0_F_COUNT). */
const char *j0tab_field_name(unsigned f);

/* A selection of attributes. */
typedef struct j0tab_fields {
    unsigned char list[J0_F_COUNT]; /* enum j0_field values, in output order, no repeats */
    size_t n;
} j0tab_fields;

/*
 * Parses a `fields` query value as Judge0 does (split on ',', names taken
 * as given, no trimming).  NULL or "" selects the default eight; "*" all.
 * Returns APP_OK, or APP_EFIELD with Judge0's exact error text in msg:
 * "invalid fields: [a, b]".
 */
APP_MUST_CHECK app_err j0tab_fields_parse(const char *s, j0tab_fields *f, char *msg, size_t msglen);

/* --- limits -------------------------------------------------------------------- */

/* Judge0 CE 1.13.1's defaults and maxima of the limits our jail fixes for
 * every run (app/helpers/config.rb): accepted so that clients sending
 * Judge0's own values pass validation, then applied as the jail does. */
#define J0_JUDGE0_STACK_KB 64000
#define J0_JUDGE0_MAX_STACK_KB 128000
#define J0_JUDGE0_PROCS 60
#define J0_JUDGE0_MAX_PROCS 120
#define J0_JUDGE0_FILE_KB 1024
#define J0_JUDGE0_MAX_FILE_KB 4096

/* Server-wide defaults and maxima, as /config_info reports them.  stack,
 * procs and file_size are the values applied (the jail's); the max_* are
 * what validation accepts (Judge0's). */
typedef struct j0tab_limits {
    double cpu_time, max_cpu_time, cpu_extra, max_cpu_extra, wall_time, max_wall_time;
    long memory, max_memory, stack, max_stack, procs, max_procs, file_size, max_file_size;
    long runs, max_runs;
} j0tab_limits;

/* Fills *l from the service's settings (c) and the jail's fixed limits. */
void j0tab_limits_get(const conf *c, j0tab_limits *l);

/* --- spellings -------------------------------------------------------------------- */

/* Writes v the way Rails prints a decimal column: "5.0", "0.012", "2.5"
 * (three decimals at most, trailing zeros dropped, at least one kept). */
void j0tab_decimal(double v, char *buf, size_t len);

/* Writes t (Unix seconds) as Rails does: "2024-04-03T05:40:51.306Z". */
void j0tab_iso_time(double t, char *buf, size_t len);

/* Unix time now, in seconds with a fraction. */
double j0tab_now(void);

/* Makes a UUID v4 (what Judge0's SecureRandom.uuid gives and judge0-python
 * validates).  token: J0_TOKEN_LEN + 1 bytes.  APP_OK, or APP_EIO when no
 * randomness could be had. */
APP_MUST_CHECK app_err j0tab_new_token(char *token);

#endif
