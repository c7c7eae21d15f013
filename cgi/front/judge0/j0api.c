/*
 * j0api.c - a Judge0-compatible API served by the native engine.
 *
 * Judge0 CE 1.13.1 semantics (see /work/shared/reference/judge0-api.md and
 * docs/design/judge0-api.md): field names and defaults, validation messages,
 * status ids, base64 (MIME) encoding, error codes.  Python only: language
 * ids 71 and 92 both run the jailed CPython in program mode.
 *
 * Layout: limits and tables; pure helpers (base64, decimals, output
 * comparison, field lists, request decoding, result mapping) that
 * tests/unit/test_j0api.c exercises directly; the store; the runner;
 * rendering; the route handlers; j0api_handle().
 *
 * Judge0 decides its own HTTP statuses (201 on create, 422 for validation,
 * 400 for bad fields, 503 queue full ...), so handlers here set them
 * explicitly instead of going through http_status_for().
 */
#include "j0api.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "bg.h"
#include "form.h"
#include "hist_j0.h"
#include "jscan.h"
#include "judge0.h"
#include "native.h"
#include "utf8.h"
#include "xproto.h"

/* --- limits and tables ---------------------------------------------------- */

/* The Judge0 version we answer as: judge0-python maps language aliases by it. */
#define J0_VERSION "1.13.1"
/* The interpreter the jail runs (Debian 12's CPython). */
#define J0_PYTHON_NAME "Python (3.11.2)"

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
/* number_of_runs accepted (validated like Judge0; we run once). */
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
/* UUID v4 text. */
#define J0_TOKEN_LEN HIST_J0_TOKEN_LEN
/* Most validation errors one submission can collect. */
#define J0_MAX_ERRS 32

static const struct {
    int id;
    const char *name;
} j0_languages[] = {{71, J0_PYTHON_NAME}, {92, J0_PYTHON_NAME}};
#define J0_NLANGUAGES (sizeof j0_languages / sizeof j0_languages[0])

enum {
    ST_QUEUE = 1,
    ST_PROCESS = 2,
    ST_ACCEPTED = 3,
    ST_WRONG = 4,
    ST_TLE = 5,
    ST_SIGSEGV = 7,
    ST_SIGXFSZ = 8,
    ST_SIGFPE = 9,
    ST_SIGABRT = 10,
    ST_NZEC = 11,
    ST_OTHER = 12,
    ST_INTERNAL = 13,
};

/* Every attribute `fields` may name: Judge0's columns (minus id) plus
 * status and language, in its serializer's order.  "*" selects them all. */
enum j0_field {
    F_SOURCE_CODE,
    F_LANGUAGE_ID,
    F_STDIN,
    F_EXPECTED_OUTPUT,
    F_STDOUT,
    F_STATUS_ID,
    F_CREATED_AT,
    F_FINISHED_AT,
    F_TIME,
    F_MEMORY,
    F_STDERR,
    F_TOKEN,
    F_NUMBER_OF_RUNS,
    F_CPU_TIME_LIMIT,
    F_CPU_EXTRA_TIME,
    F_WALL_TIME_LIMIT,
    F_MEMORY_LIMIT,
    F_STACK_LIMIT,
    F_MAX_PROCESSES,
    F_PP_TIME,
    F_PP_MEMORY,
    F_MAX_FILE_SIZE,
    F_COMPILE_OUTPUT,
    F_EXIT_CODE,
    F_EXIT_SIGNAL,
    F_MESSAGE,
    F_WALL_TIME,
    F_COMPILER_OPTIONS,
    F_COMMAND_LINE_ARGUMENTS,
    F_REDIRECT,
    F_CALLBACK_URL,
    F_ADDITIONAL_FILES,
    F_ENABLE_NETWORK,
    F_STATUS,
    F_LANGUAGE,
    F_COUNT
};

static const char *const j0_field_names[F_COUNT] = {
    "source_code",
    "language_id",
    "stdin",
    "expected_output",
    "stdout",
    "status_id",
    "created_at",
    "finished_at",
    "time",
    "memory",
    "stderr",
    "token",
    "number_of_runs",
    "cpu_time_limit",
    "cpu_extra_time",
    "wall_time_limit",
    "memory_limit",
    "stack_limit",
    "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "max_file_size",
    "compile_output",
    "exit_code",
    "exit_signal",
    "message",
    "wall_time",
    "compiler_options",
    "command_line_arguments",
    "redirect_stderr_to_stdout",
    "callback_url",
    "additional_files",
    "enable_network",
    "status",
    "language",
};

typedef struct j0_fields {
    unsigned char list[F_COUNT]; /* enum j0_field values, in output order, no repeats */
    size_t n;
} j0_fields;

/* Server-wide defaults and maxima, as /config_info reports them. */
typedef struct j0_limits {
    double cpu_time, max_cpu_time, cpu_extra, max_cpu_extra, wall_time, max_wall_time;
    long memory, max_memory, stack, max_stack, procs, max_procs, file_size, max_file_size;
    long runs, max_runs;
} j0_limits;

static void j0_limits_get(const conf *c, j0_limits *l)
{
    double max_wall = c->max_wall_ms / 1000.0;
    l->max_cpu_time = max_wall;
    l->cpu_time = 5.0 < max_wall ? 5.0 : max_wall;
    l->max_cpu_extra = J0_MAX_EXTRA_TIME;
    l->cpu_extra = 1.0;
    l->max_wall_time = max_wall;
    l->wall_time = 10.0 < max_wall ? 10.0 : max_wall;
    l->max_memory = (long)c->max_memory_mb * 1024;
    l->memory = 128000 < l->max_memory ? 128000 : l->max_memory;
    l->max_stack = (long)XP_STACK_MB * 1024; /* RLIMIT_STACK in the jail */
    l->stack = l->max_stack;
    l->max_procs = XP_DEFAULT_NPROC;
    l->procs = XP_DEFAULT_NPROC;
    l->max_file_size = (long)XP_MAX_FILE_MB * 1024; /* RLIMIT_FSIZE in the jail */
    l->file_size = 1024 < l->max_file_size ? 1024 : l->max_file_size;
    l->runs = 1;
    l->max_runs = J0_MAX_RUNS;
}

/* --- pure helpers ----------------------------------------------------------- */

/* Writes v the way Rails prints a decimal column: "5.0", "0.012", "2.5"
 * (three decimals at most, trailing zeros dropped, at least one kept). */
static void j0_decimal(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.3f", v);
    char *dot = strchr(buf, '.');
    if (dot == NULL)
        return;
    char *e = buf + strlen(buf) - 1;
    while (e > dot + 1 && *e == '0')
        *e-- = '\0';
}

/* Writes t (Unix seconds) as Rails does: "2024-04-03T05:40:51.306Z". */
static void j0_iso_time(double t, char *buf, size_t len)
{
    long long total = t > 0 && t < 1e15 ? llround(t * 1000.0) : 0;
    time_t s = (time_t)(total / 1000);
    int ms = (int)(total % 1000);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static double j0_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Ruby's String#rstrip set: whitespace and NUL. */
static bool j0_rstrip_char(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '\0';
}

/*
 * Appends s normalised the way Judge0 compares outputs (isolate_job.rb,
 * strip): split on "\n", right-strip every line, join with "\n", then
 * right-strip the whole.  out's cap must be at least n.
 */
static app_err j0_normalise(const char *s, size_t n, sbuf *out)
{
    size_t start = 0;
    app_err err = APP_OK;
    for (;;) {
        const char *nl = memchr(s + start, '\n', n - start);
        size_t end = nl != NULL ? (size_t)(nl - s) : n;
        size_t e = end;
        while (e > start && j0_rstrip_char(s[e - 1]))
            e--;
        if (start > 0)
            err = sbuf_putc(out, '\n');
        if (err == APP_OK)
            err = sbuf_append(out, s + start, e - start);
        if (err != APP_OK || nl == NULL)
            break;
        start = end + 1;
    }
    while (err == APP_OK && out->len > 0 && j0_rstrip_char(out->data[out->len - 1]))
        out->data[--out->len] = '\0';
    return err;
}

/* Judge0's Accepted test: expected and actual equal after j0_normalise.
 * Returns 1 equal, 0 different, -1 out of memory. */
static int j0_output_matches(const char *expected, size_t elen, const char *actual, size_t alen)
{
    sbuf a, b;
    sbuf_init(&a, elen + 1);
    sbuf_init(&b, alen + 1);
    int rc = -1;
    if (j0_normalise(expected, elen, &a) == APP_OK && j0_normalise(actual, alen, &b) == APP_OK)
        rc = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    sbuf_free(&a);
    sbuf_free(&b);
    return rc;
}

static const enum j0_field j0_default_fields[] = {F_TOKEN,  F_TIME,           F_MEMORY,  F_STDOUT,
                                                  F_STDERR, F_COMPILE_OUTPUT, F_MESSAGE, F_STATUS};

/*
 * Parses a `fields` query value as Judge0 does (split on ',', names taken
 * as given, no trimming).  NULL or "" selects the default eight; "*" all.
 * Returns APP_OK, or APP_EFIELD with Judge0's exact error text in msg:
 * "invalid fields: [a, b]".
 */
static app_err j0_fields_parse(const char *s, j0_fields *f, char *msg, size_t msglen)
{
    f->n = 0;
    bool seen[F_COUNT] = {false};
    bool all = false;
    size_t bad = 0;
    char names[160] = ""; /* the invalid ones, for the message (truncated past this) */
    for (const char *p = s; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 1 && p[0] == '*') {
            all = true;
        } else if (len > 0) {
            size_t i = 0;
            while (i < F_COUNT &&
                   (strlen(j0_field_names[i]) != len || memcmp(j0_field_names[i], p, len) != 0))
                i++;
            if (i == F_COUNT) {
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%.*s", bad > 0 ? ", " : "",
                         (int)(len > 64 ? 64 : len), p);
                bad++;
            } else if (!seen[i]) {
                seen[i] = true;
                f->list[f->n++] = (unsigned char)i;
            }
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (bad > 0) {
        snprintf(msg, msglen, "invalid fields: [%s]", names);
        return APP_EFIELD;
    }
    if (all) {
        for (size_t i = 0; i < F_COUNT; i++)
            f->list[i] = (unsigned char)i;
        f->n = F_COUNT;
    } else if (f->n == 0) {
        for (size_t i = 0; i < sizeof j0_default_fields / sizeof j0_default_fields[0]; i++)
            f->list[i] = (unsigned char)j0_default_fields[i];
        f->n = sizeof j0_default_fields / sizeof j0_default_fields[0];
    }
    return APP_OK;
}

/* Makes a UUID v4 (what Judge0's SecureRandom.uuid gives and judge0-python
 * validates) from 16 random bytes.  token: J0_TOKEN_LEN + 1 bytes. */
static app_err j0_new_token(char *token)
{
    static const char digits[] = "0123456789abcdef";
    char hex[33];
    if (hist_random_hex(hex, 16) != APP_OK)
        return APP_EIO;
    const char *d = strchr(digits, hex[16]);
    hex[12] = '4';                                      /* version 4 */
    hex[16] = "89ab"[d != NULL ? (d - digits) & 3 : 0]; /* RFC 4122 variant */
    snprintf(token, J0_TOKEN_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    return APP_OK;
}

static const char *j0_language_name(long id)
{
    for (size_t i = 0; i < J0_NLANGUAGES; i++)
        if (j0_languages[i].id == id)
            return j0_languages[i].name;
    return NULL;
}

/* --- request decoding and validation ------------------------------------------ */

/* A submission's request fields, decoded.  Free with j0_req_free(). */
typedef struct j0_req {
    sbuf source, input, expected; /* decoded bytes (caps J0_MAX_SOURCE/INPUT/EXPECTED) */
    bool has_source, has_input, has_expected; /* given and not null */
    long language_id;
    double cpu_time_limit, cpu_extra_time, wall_time_limit;
    long memory_limit, stack_limit, max_processes, max_file_size, number_of_runs;
    bool pp_time, pp_memory, redirect, network;
} j0_req;

static void j0_req_init(j0_req *r, const j0_limits *l)
{
    memset(r, 0, sizeof *r);
    sbuf_init(&r->source, J0_MAX_SOURCE);
    sbuf_init(&r->input, J0_MAX_INPUT);
    sbuf_init(&r->expected, J0_MAX_EXPECTED);
    r->cpu_time_limit = l->cpu_time;
    r->cpu_extra_time = l->cpu_extra;
    r->wall_time_limit = l->wall_time;
    r->memory_limit = l->memory;
    r->stack_limit = l->stack;
    r->max_processes = l->procs;
    r->max_file_size = l->file_size;
    r->number_of_runs = l->runs;
}

static void j0_req_free(j0_req *r)
{
    if (r == NULL)
        return;
    sbuf_free(&r->source);
    sbuf_free(&r->input);
    sbuf_free(&r->expected);
}

/* Validation errors in Judge0's order: {"field": ["message", ...], ...}. */
typedef struct j0_errs {
    size_t n;
    struct {
        const char *field; /* static */
        char msg[96];
    } e[J0_MAX_ERRS];
} j0_errs;

static void j0_err_add(j0_errs *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void j0_err_add(j0_errs *e, const char *field, const char *fmt, ...)
{
    if (e->n >= J0_MAX_ERRS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->e[e->n].msg, sizeof e->e[e->n].msg, fmt, ap);
    va_end(ap);
    e->e[e->n++].field = field;
}

static app_err j0_errs_json(const j0_errs *e, sbuf *out)
{
    app_err err = sbuf_putc(out, '{');
    bool first = true;
    for (size_t i = 0; i < e->n && err == APP_OK; i++) {
        bool done = false;
        for (size_t k = 0; k < i; k++)
            done = done || strcmp(e->e[k].field, e->e[i].field) == 0;
        if (done)
            continue;
        err = sbuf_printf(out, "%s\"%s\":[", first ? "" : ",", e->e[i].field);
        bool firstmsg = true;
        for (size_t k = i; k < e->n && err == APP_OK; k++) {
            if (strcmp(e->e[k].field, e->e[i].field) != 0)
                continue;
            if (!firstmsg)
                err = sbuf_putc(out, ',');
            if (err == APP_OK)
                err = jsonw_string(out, e->e[k].msg, strlen(e->e[k].msg));
            firstmsg = false;
        }
        if (err == APP_OK)
            err = sbuf_putc(out, ']');
        first = false;
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

enum j0_key {
    K_SOURCE,
    K_LANGUAGE,
    K_STDIN,
    K_EXPECTED,
    K_RUNS,
    K_CPU,
    K_EXTRA,
    K_WALL,
    K_MEMORY,
    K_STACK,
    K_PROCS,
    K_PP_TIME,
    K_PP_MEMORY,
    K_FILE_SIZE,
    K_REDIRECT,
    K_NETWORK,
    K_COMPILER_OPTIONS,
    K_ARGS,
    K_CALLBACK,
    K_FILES,
    K_COUNT
};

/* Request members we read (Judge0's permitted params); others are ignored
 * as Rails' params.permit ignores them. */
static const char *const j0_key_names[K_COUNT] = {
    "source_code",
    "language_id",
    "stdin",
    "expected_output",
    "number_of_runs",
    "cpu_time_limit",
    "cpu_extra_time",
    "wall_time_limit",
    "memory_limit",
    "stack_limit",
    "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "max_file_size",
    "redirect_stderr_to_stdout",
    "enable_network",
    "compiler_options",
    "command_line_arguments",
    "callback_url",
    "additional_files",
};

/* True when the validated string span s is exactly name; keys without
 * escapes (all real ones) are compared in place without allocating. */
static bool j0_key_is(const char *doc, js_span s, const char *name)
{
    size_t n = strlen(name);
    if (s.len < 2 || s.len - 2 < n)
        return false;
    if (memchr(doc + s.off + 1, '\\', s.len - 2) == NULL)
        return s.len - 2 == n && memcmp(doc + s.off + 1, name, n) == 0;
    return js_string_equals(doc, s, name);
}

/* Finds a member of an object span (the last one wins, as in Rails). */
static bool j0_member(const char *doc, js_span obj, const char *name, js_span *out)
{
    if (obj.type != JS_OBJECT)
        return false;
    js_iter it;
    js_iter_init(&it, doc, obj);
    js_span k, v;
    bool found = false;
    while (js_iter_next(&it, &k, &v))
        if (j0_key_is(doc, k, name)) {
            *out = v;
            found = true;
        }
    return found;
}

/* Ruby's blank?: empty or only whitespace. */
static bool j0_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
            return false;
    return true;
}

/*
 * The text Rails would store for a permitted scalar param: strings decoded,
 * numbers and booleans as spelled.  null, arrays and objects are absent
 * (*present false): params.permit drops non-scalars.
 */
static app_err j0_scalar_text(const char *doc, js_span v, sbuf *out, bool *present)
{
    *present = false;
    if (v.type == JS_STRING) {
        *present = true;
        return js_string_decode(doc, v, out, NULL);
    }
    if (v.type == JS_NUMBER || v.type == JS_BOOL) {
        *present = true;
        return sbuf_append(out, doc + v.off, v.len);
    }
    return APP_OK;
}

typedef enum j0_num { NUM_ABSENT, NUM_OK, NUM_NAN } j0_num;

/* A numeric param: JSON numbers, or strings spelling a decimal number
 * (Rails' numericality accepts both).  Blank strings, null and
 * non-scalars are absent (the default applies); the rest is "not a number". */
static j0_num j0_number(const char *doc, js_span v, double *out)
{
    if (v.type == JS_NUMBER) {
        *out = js_number(doc, v);
        return isfinite(*out) ? NUM_OK : NUM_NAN;
    }
    if (v.type == JS_BOOL)
        return NUM_NAN;
    if (v.type != JS_STRING)
        return NUM_ABSENT;
    if (v.len > 66)
        return NUM_NAN;
    sbuf b;
    sbuf_init(&b, 64);
    bool nul = false;
    j0_num st = NUM_NAN;
    if (js_string_decode(doc, v, &b, &nul) == APP_OK && !nul) {
        const char *s = sbuf_str(&b);
        if (j0_blank(s, b.len)) {
            st = NUM_ABSENT;
        } else if (strspn(s, "0123456789+-.eE") == b.len) {
            char *end;
            errno = 0;
            *out = strtod(s, &end);
            st = end == s + b.len && end != s && isfinite(*out) ? NUM_OK : NUM_NAN;
        }
    }
    sbuf_free(&b);
    return st;
}

/* A boolean param cast as ActiveModel's Boolean type does: false, 0, "0",
 * "f", "F", "false", "FALSE", "off", "OFF" are false; blank is absent
 * (returns -1); any other scalar is true. */
static int j0_boolean(const char *doc, js_span v)
{
    static const char *const falsy[] = {"0", "f", "F", "false", "FALSE", "off", "OFF"};
    if (v.type == JS_BOOL)
        return js_bool(doc, v);
    if (v.type == JS_NUMBER)
        return js_number(doc, v) != 0.0;
    if (v.type != JS_STRING || j0_blank(doc + v.off + 1, v.len - 2))
        return -1; /* blank (escapes are never blank: close enough) */
    for (size_t i = 0; i < sizeof falsy / sizeof falsy[0]; i++)
        if (j0_key_is(doc, v, falsy[i]))
            return 0;
    return 1;
}

/* Checks a numeric field against [min, max] (min exclusive when gt) with
 * Rails' numericality messages; int_max prints max as an integer. */
static void j0_check_range(j0_errs *e, const char *field, j0_num st, double v, double min, bool gt,
                           double max, bool int_max)
{
    if (st == NUM_NAN) {
        j0_err_add(e, field, "is not a number");
    } else if (st == NUM_OK && (gt ? v <= min : v < min)) {
        j0_err_add(e, field, "must be greater than%s %.0f", gt ? "" : " or equal to", min);
    } else if (st == NUM_OK && v > max) {
        char buf[32];
        if (int_max)
            snprintf(buf, sizeof buf, "%.0f", max);
        else
            j0_decimal(max, buf, sizeof buf);
        j0_err_add(e, field, "must be less than or equal to %s", buf);
    }
}

/* Decodes a byte field (source_code, stdin, expected_output) into dst. */
static app_err j0_bytes_field(const char *doc, js_span v, bool b64, sbuf *dst, bool *present,
                              bool *too_long)
{
    sbuf text;
    sbuf_init(&text, NATIVE_MAX_BODY);
    app_err err = j0_scalar_text(doc, v, &text, present);
    if (err == APP_OK && *present)
        err = b64 ? b64_decode(text.data ? text.data : "", text.len, B64_LENIENT, dst)
                  : sbuf_append(dst, text.data ? text.data : "", text.len);
    sbuf_free(&text);
    if (err == APP_ETOOBIG) {
        *too_long = true;
        err = APP_OK;
    }
    return err;
}

/* What j0_req_decode is asked to do. */
#define J0_CREATE 1u /* a client's request: validate everything */
#define J0_BASE64 2u /* source_code, stdin, expected_output are base64 */
#define J0_BYTES 4u  /* decode the byte fields (always done with J0_CREATE) */

/*
 * Decodes a submission object (a span js_validate accepted) into r, which
 * j0_req_init() prepared.  With J0_CREATE every field is validated as
 * Judge0's Submission model does and problems are collected in e (the
 * call still returns APP_OK); without it the object is one we stored.
 * Returns APP_OK or APP_ENOMEM.
 */
static app_err j0_req_decode(const j0_limits *l, const char *doc, js_span root, unsigned mode,
                             j0_req *r, j0_errs *e)
{
    js_span v[K_COUNT];
    bool given[K_COUNT] = {false};
    if (root.type == JS_OBJECT) {
        js_iter it;
        js_iter_init(&it, doc, root);
        js_span k, val;
        while (js_iter_next(&it, &k, &val))
            for (size_t i = 0; i < K_COUNT; i++)
                if (j0_key_is(doc, k, j0_key_names[i])) {
                    v[i] = val;
                    given[i] = true;
                }
    }
    bool create = (mode & J0_CREATE) != 0, b64 = (mode & J0_BASE64) != 0;
    bool long_source = false, long_input = false, long_expected = false;
    app_err err = APP_OK;

    /* Byte fields. */
    sbuf *dst[3] = {&r->source, &r->input, &r->expected};
    bool *has[3] = {&r->has_source, &r->has_input, &r->has_expected};
    bool *too_long[3] = {&long_source, &long_input, &long_expected};
    const enum j0_key keys[3] = {K_SOURCE, K_STDIN, K_EXPECTED};
    for (int i = 0; i < 3 && err == APP_OK; i++) {
        if (!given[keys[i]])
            continue;
        if (create || (mode & J0_BYTES))
            err = j0_bytes_field(doc, v[keys[i]], b64, dst[i], has[i], too_long[i]);
        else
            *has[i] = v[keys[i]].type != JS_NULL;
    }
    if (err != APP_OK)
        return err;

    /* language_id: integer column (71.9 -> 71, "71" -> 71). */
    char lang_text[40] = ""; /* the id as the error message shows it */
    bool lang_blank = true, lang_known = false;
    if (given[K_LANGUAGE]) {
        js_span lv = v[K_LANGUAGE];
        double d = 0;
        j0_num st = NUM_ABSENT;
        if (lv.type == JS_NUMBER) {
            d = js_number(doc, lv);
            st = isfinite(d) ? NUM_OK : NUM_NAN;
        } else if (lv.type == JS_BOOL) {
            d = js_bool(doc, lv);
            st = NUM_OK;
        } else if (lv.type == JS_STRING) {
            st = j0_number(doc, lv, &d);
        }
        lang_blank = st == NUM_ABSENT;
        if (st == NUM_OK && fabs(d) < 1e15) {
            r->language_id = (long)trunc(d);
            snprintf(lang_text, sizeof lang_text, "%ld", r->language_id);
            lang_known = j0_language_name(r->language_id) != NULL;
        } else if (!lang_blank) {
            sbuf b;
            sbuf_init(&b, 32);
            if (lv.type == JS_STRING)
                js_string_decode(doc, lv, &b, NULL); /* past 32 bytes: cut short, fine */
            else
                sbuf_append(&b, doc + lv.off, lv.len < 32 ? lv.len : 32);
            snprintf(lang_text, sizeof lang_text, "%s", sbuf_str(&b));
            sbuf_free(&b);
        }
    }

    /* Numbers. */
    static const struct {
        enum j0_key key;
        bool integer, gt;
        double min;
    } nums[] = {
        {K_RUNS, true, true, 0},   {K_CPU, false, false, 0},      {K_EXTRA, false, false, 0},
        {K_WALL, false, false, 1}, {K_MEMORY, true, false, 2048}, {K_STACK, true, false, 0},
        {K_PROCS, true, true, 0},  {K_FILE_SIZE, true, false, 0},
    };
    double maxes[] = {(double)l->max_runs,  l->max_cpu_time,         l->max_cpu_extra,
                      l->max_wall_time,     (double)l->max_memory,   (double)l->max_stack,
                      (double)l->max_procs, (double)l->max_file_size};
    j0_num nst[8];
    double nval[8] = {0};
    for (size_t i = 0; i < 8; i++) {
        nst[i] = given[nums[i].key] ? j0_number(doc, v[nums[i].key], &nval[i]) : NUM_ABSENT;
        if (nst[i] != NUM_OK)
            continue;
        switch (nums[i].key) {
        case K_RUNS:
            r->number_of_runs = (long)fmin(fmax(trunc(nval[i]), -1e9), 1e9);
            break;
        case K_CPU:
            r->cpu_time_limit = nval[i];
            break;
        case K_EXTRA:
            r->cpu_extra_time = nval[i];
            break;
        case K_WALL:
            r->wall_time_limit = nval[i];
            break;
        case K_MEMORY:
            r->memory_limit = (long)fmin(fmax(trunc(nval[i]), -1e12), 1e12);
            break;
        case K_STACK:
            r->stack_limit = (long)fmin(fmax(trunc(nval[i]), -1e12), 1e12);
            break;
        case K_PROCS:
            r->max_processes = (long)fmin(fmax(trunc(nval[i]), -1e12), 1e12);
            break;
        default:
            r->max_file_size = (long)fmin(fmax(trunc(nval[i]), -1e12), 1e12);
            break;
        }
    }

    /* Booleans. */
    int bvals[4] = {-1, -1, -1, -1};
    const enum j0_key bkeys[4] = {K_PP_TIME, K_PP_MEMORY, K_REDIRECT, K_NETWORK};
    bool *bdst[4] = {&r->pp_time, &r->pp_memory, &r->redirect, &r->network};
    for (int i = 0; i < 4; i++) {
        bvals[i] = given[bkeys[i]] ? j0_boolean(doc, v[bkeys[i]]) : -1;
        if (bvals[i] >= 0)
            *bdst[i] = bvals[i] == 1;
    }
    if (!create)
        return APP_OK;

    /* Validation, in the order of Judge0's Submission model. */
    if (!r->has_source || j0_blank(r->source.data ? r->source.data : "", r->source.len)) {
        if (!long_source)
            j0_err_add(e, "source_code", "can't be blank");
    }
    if (long_source)
        j0_err_add(e, "source_code", "is too long (maximum is %u bytes)", J0_MAX_SOURCE);
    else if (r->has_source &&
             (!utf8_valid(r->source.data ? r->source.data : "", r->source.len, NULL) ||
              memchr(r->source.data ? r->source.data : "", '\0', r->source.len) != NULL))
        j0_err_add(e, "source_code", "must be UTF-8 text without NUL bytes");
    if (long_input)
        j0_err_add(e, "stdin", "is too long (maximum is %u bytes)", J0_MAX_INPUT);
    if (long_expected)
        j0_err_add(e, "expected_output", "is too long (maximum is %u bytes)", J0_MAX_EXPECTED);
    if (lang_blank)
        j0_err_add(e, "language_id", "can't be blank");
    for (size_t i = 0; i < 8; i++)
        j0_check_range(e, j0_key_names[nums[i].key], nst[i], nval[i], nums[i].min, nums[i].gt,
                       maxes[i], nums[i].integer);
    if (r->pp_time)
        j0_err_add(e, j0_key_names[K_PP_TIME], "this option cannot be enabled");
    if (r->pp_memory)
        j0_err_add(e, j0_key_names[K_PP_MEMORY], "this option cannot be enabled");

    /* Strings we cannot honour: Judge0's "not allowed" messages, as a Judge0
     * configured without them answers.  compiler_options and
     * command_line_arguments also keep their 512-character limit. */
    static const struct {
        enum j0_key key;
        const char *refusal;
    } strs[] = {
        {K_COMPILER_OPTIONS, "setting compiler options is only allowed for compiled languages"},
        {K_ARGS, "setting command line arguments is not allowed"},
        {K_CALLBACK, "setting callback is not allowed"},
        {K_FILES, "setting additional files is not allowed"},
    };
    bool refused[4] = {false};
    for (size_t i = 0; i < 4 && err == APP_OK; i++) {
        if (!given[strs[i].key])
            continue;
        sbuf t;
        sbuf_init(&t, NATIVE_MAX_BODY);
        bool present;
        err = j0_scalar_text(doc, v[strs[i].key], &t, &present);
        if (err == APP_OK && present &&
            (strs[i].key == K_COMPILER_OPTIONS || strs[i].key == K_ARGS)) {
            size_t chars = 0; /* Rails counts characters */
            for (size_t k = 0; k < t.len; k++)
                chars += ((unsigned char)t.data[k] & 0xC0) != 0x80;
            if (chars > 512)
                j0_err_add(e, j0_key_names[strs[i].key], "is too long (maximum is 512 characters)");
        }
        refused[i] = err == APP_OK && present && !j0_blank(t.data ? t.data : "", t.len);
        sbuf_free(&t);
    }
    if (err != APP_OK)
        return err;
    if (!lang_known) /* Judge0 says this even when the id is blank */
        j0_err_add(e, "language_id", "language with id %s doesn't exist", lang_text);
    for (size_t i = 0; i < 4; i++)
        if (refused[i])
            j0_err_add(e, j0_key_names[strs[i].key], "%s", strs[i].refusal);
    if (r->network)
        j0_err_add(e, "enable_network", "enabling network is not allowed");
    return APP_OK;
}

/*
 * Appends the canonical stored form of r: a Judge0 request object with the
 * byte fields in base64 (one line) and every default filled in.  Decoding
 * it with J0_BASE64 gives r back.
 */
static app_err j0_req_store_json(const j0_req *r, sbuf *out)
{
    const sbuf *src[3] = {&r->source, &r->input, &r->expected};
    const bool has[3] = {r->has_source, r->has_input, r->has_expected};
    const char *names[3] = {"source_code", "stdin", "expected_output"};
    app_err err = sbuf_putc(out, '{');
    for (int i = 0; i < 3 && err == APP_OK; i++) {
        err = sbuf_printf(out, "\"%s\":", names[i]);
        if (err == APP_OK && !has[i])
            err = sbuf_puts(out, "null,");
        else if (err == APP_OK) {
            err = sbuf_putc(out, '"');
            if (err == APP_OK)
                err = b64_encode(src[i]->data ? src[i]->data : "", src[i]->len, B64_ONE_LINE, out);
            if (err == APP_OK)
                err = sbuf_puts(out, "\",");
        }
    }
    if (err == APP_OK)
        err = sbuf_printf(out,
                          "\"language_id\":%ld,\"number_of_runs\":%ld,\"cpu_time_limit\":%.17g,"
                          "\"cpu_extra_time\":%.17g,\"wall_time_limit\":%.17g,\"memory_limit\":%ld,"
                          "\"stack_limit\":%ld,\"max_processes_and_or_threads\":%ld,"
                          "\"enable_per_process_and_thread_time_limit\":%s,"
                          "\"enable_per_process_and_thread_memory_limit\":%s,\"max_file_size\":%ld,"
                          "\"redirect_stderr_to_stdout\":%s,\"enable_network\":%s}",
                          r->language_id, r->number_of_runs, r->cpu_time_limit, r->cpu_extra_time,
                          r->wall_time_limit, r->memory_limit, r->stack_limit, r->max_processes,
                          r->pp_time ? "true" : "false", r->pp_memory ? "true" : "false",
                          r->max_file_size, r->redirect ? "true" : "false",
                          r->network ? "true" : "false");
    return err;
}

/* The engine limits for r: the wall-clock kill is the smaller of
 * wall_time_limit and cpu_time_limit + cpu_extra_time (our engine has one
 * time limit; RLIMIT_CPU follows it), memory is memory_limit rounded up to
 * MB, both kept within the engine's minimum and the server's maximum. */
static void j0_job_limits(const conf *c, const j0_req *r, unsigned *wall_ms, unsigned *memory_mb)
{
    double kill = r->wall_time_limit;
    if (r->cpu_time_limit > 0 && r->cpu_time_limit + r->cpu_extra_time < kill)
        kill = r->cpu_time_limit + r->cpu_extra_time;
    double ms = ceil(kill * 1000.0);
    if (ms < XP_MIN_WALL_MS)
        ms = XP_MIN_WALL_MS;
    if (ms > c->max_wall_ms)
        ms = c->max_wall_ms;
    double mb = ceil((double)r->memory_limit / 1024.0);
    if (mb < XP_MIN_MEMORY_MB)
        mb = XP_MIN_MEMORY_MB;
    if (mb > c->max_memory_mb)
        mb = c->max_memory_mb;
    *wall_ms = (unsigned)ms;
    *memory_mb = (unsigned)mb;
}

/* --- mapping an engine result to a Judge0 outcome ------------------------------ */

/* What a run produced, in Judge0's terms.  Free with j0_outcome_free(). */
typedef struct j0_outcome {
    int status_id;
    sbuf out, err;                /* stdout and stderr bytes; empty means null */
    char message[J0_MAX_MESSAGE]; /* "" means null */
    bool has_exit_code, has_exit_signal, has_times, has_memory;
    int exit_code, exit_signal;
    double time_s, wall_s;
    long memory_kb;
    char engine_status[16]; /* the result's status, for the statistics */
} j0_outcome;

static void j0_outcome_init(j0_outcome *o)
{
    memset(o, 0, sizeof *o);
    sbuf_init(&o->out, 2 * J0_MAX_STREAM);
    sbuf_init(&o->err, J0_MAX_STREAM);
}

static void j0_outcome_free(j0_outcome *o)
{
    if (o == NULL)
        return;
    sbuf_free(&o->out);
    sbuf_free(&o->err);
}

/* Turns an engine failure (no result at all) into Internal Error. */
static void j0_outcome_internal(j0_outcome *o, const char *what, const char *detail)
{
    o->status_id = ST_INTERNAL;
    o->has_exit_code = o->has_exit_signal = o->has_times = o->has_memory = false;
    sbuf_reset(&o->out);
    sbuf_reset(&o->err);
    snprintf(o->message, sizeof o->message, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

static int j0_signal_number(const char *name)
{
    static const struct {
        const char *name;
        int sig;
    } t[] = {{"SIGKILL", SIGKILL}, {"SIGSEGV", SIGSEGV}, {"SIGABRT", SIGABRT}, {"SIGBUS", SIGBUS},
             {"SIGILL", SIGILL},   {"SIGFPE", SIGFPE},   {"SIGSYS", SIGSYS},   {"SIGXCPU", SIGXCPU},
             {"SIGXFSZ", SIGXFSZ}, {"SIGTERM", SIGTERM}, {"SIGPIPE", SIGPIPE}, {"SIGINT", SIGINT}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(name, t[i].name) == 0)
            return t[i].sig;
    if (strncmp(name, "signal ", 7) == 0) {
        long n = strtol(name + 7, NULL, 10);
        return n > 0 && n < 128 ? (int)n : 0;
    }
    return 0;
}

/* Decodes a short string member into buf ("" when absent or not a string). */
static void j0_short_string(const char *doc, js_span obj, const char *name, char *buf, size_t len)
{
    js_span v;
    buf[0] = '\0';
    if (!j0_member(doc, obj, name, &v) || v.type != JS_STRING)
        return;
    sbuf b;
    sbuf_init(&b, len - 1);
    if (js_string_decode(doc, v, &b, NULL) == APP_OK)
        snprintf(buf, len, "%s", sbuf_str(&b));
    else
        snprintf(buf, len, "%.*s", (int)(v.len - 2 < len - 1 ? v.len - 2 : len - 1),
                 doc + v.off + 1);
    sbuf_free(&b);
}

static bool j0_number_member(const char *doc, js_span obj, const char *name, double *out)
{
    js_span v;
    if (!j0_member(doc, obj, name, &v) || v.type != JS_NUMBER)
        return false;
    *out = js_number(doc, v);
    return isfinite(*out);
}

static int j0_signal_status(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return ST_SIGSEGV;
    case SIGXFSZ:
        return ST_SIGXFSZ;
    case SIGFPE:
        return ST_SIGFPE;
    case SIGABRT:
        return ST_SIGABRT;
    default:
        return ST_OTHER;
    }
}

/*
 * Maps the engine's result JSON (shared schema, program mode) for request r
 * to Judge0's fields; see docs/design/judge0-api.md for the table.  o must
 * come from j0_outcome_init().  Never fails on content: a result we cannot
 * read becomes Internal Error.  Returns APP_OK or APP_ENOMEM.
 */
static app_err j0_map_result(const char *doc, size_t len, const j0_req *r, j0_outcome *o)
{
    js_span root, v, meta, exit_obj, res, error;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(doc, len, &root, msg, sizeof msg) != APP_OK || root.type != JS_OBJECT) {
        j0_outcome_internal(o, "the native engine sent a malformed result", msg);
        return APP_OK;
    }
    char status[16], etype[64], emsg[256], sig_name[32] = "";
    j0_short_string(doc, root, "status", status, sizeof status);
    snprintf(o->engine_status, sizeof o->engine_status, "%s", status);
    etype[0] = emsg[0] = '\0';
    if (j0_member(doc, root, "error", &error) && error.type == JS_OBJECT) {
        j0_short_string(doc, error, "type", etype, sizeof etype);
        j0_short_string(doc, error, "message", emsg, sizeof emsg);
    }
    const char *names[2] = {"output", "stderr"};
    sbuf *dst[2] = {&o->out, &o->err};
    for (int i = 0; i < 2; i++) {
        if (!j0_member(doc, root, names[i], &v) || v.type != JS_STRING)
            continue;
        app_err err = js_string_decode(doc, v, dst[i], NULL);
        if (err == APP_ENOMEM)
            return err;
        if (err != APP_OK) {
            j0_outcome_internal(o, "the program's output was larger than the API can carry", "");
            return APP_OK;
        }
    }
    bool has_code = false;
    int code = 0, sig = 0;
    double d;
    if (j0_member(doc, root, "metadata", &meta) && j0_member(doc, meta, "exit", &exit_obj)) {
        if (j0_number_member(doc, exit_obj, "code", &d) && d >= -255 && d <= 255) {
            has_code = true;
            code = (int)d;
        }
        j0_short_string(doc, exit_obj, "signal", sig_name, sizeof sig_name);
        sig = sig_name[0] ? j0_signal_number(sig_name) : 0;
    }
    if (j0_member(doc, root, "metadata", &meta) && j0_member(doc, meta, "resources", &res)) {
        double cpu = 0, wall = 0;
        o->has_times = j0_number_member(doc, res, "cpuMs", &cpu) &&
                       j0_number_member(doc, res, "wallMs", &wall);
        o->time_s = cpu / 1000.0;
        o->wall_s = wall / 1000.0;
        if (j0_number_member(doc, res, "peakMemoryKb", &d) && d >= 0 && d < 1e15) {
            o->has_memory = true;
            o->memory_kb = (long)d;
        }
    }

    if (sig == 0 && strcmp(etype, "KeyboardInterrupt") == 0)
        sig = SIGINT;                    /* what an uncaught KeyboardInterrupt ends CPython with */
    if (r->redirect && o->err.len > 0) { /* stdout then stderr: see the design doc */
        if (sbuf_append(&o->out, o->err.data, o->err.len) == APP_ENOMEM)
            return APP_ENOMEM;
        sbuf_reset(&o->err);
    }

    bool ran = false; /* finished on its own: Accepted/Wrong Answer/NZEC territory */
    if (strcmp(status, "timeout") == 0) {
        o->status_id = ST_TLE;
        o->has_exit_code = o->has_exit_signal = true;
        o->exit_code = 0;
        o->exit_signal = sig ? sig : SIGKILL;
        /* Which limit the one wall-clock kill stood for (j0_job_limits). */
        bool cpu =
            r->cpu_time_limit > 0 && (o->time_s > r->cpu_time_limit ||
                                      r->cpu_time_limit + r->cpu_extra_time < r->wall_time_limit);
        snprintf(o->message, sizeof o->message, "Time limit exceeded%s",
                 cpu ? "" : " (wall clock)");
    } else if (strcmp(status, "output_limit") == 0) {
        o->status_id = ST_SIGXFSZ;
        o->has_exit_code = o->has_exit_signal = true;
        o->exit_code = 0;
        o->exit_signal = SIGXFSZ;
        snprintf(o->message, sizeof o->message, "Output limit exceeded: %s",
                 emsg[0] ? emsg : "the program wrote too much");
    } else if (strcmp(status, "memory_limit") == 0) {
        o->status_id = ST_NZEC;
        o->has_exit_code = true;
        o->exit_code = has_code && code != 0 ? code : 137;
        snprintf(o->message, sizeof o->message,
                 "Exited with error status %d (memory limit exceeded)", o->exit_code);
    } else if (sig != 0) {
        o->status_id = j0_signal_status(sig);
        o->has_exit_code = o->has_exit_signal = true;
        o->exit_code = 0;
        o->exit_signal = sig;
        snprintf(o->message, sizeof o->message, "Caught fatal signal %d", sig);
    } else if (strcmp(etype, "EngineError") == 0 || !has_code ||
               (strcmp(status, "ok") != 0 && strcmp(status, "error") != 0 && code == 0)) {
        char detail[300];
        snprintf(detail, sizeof detail, "%s%s%s", status, emsg[0] ? ": " : "", emsg);
        j0_outcome_internal(o, "the native engine could not run the program", detail);
        return APP_OK;
    } else if (code != 0) {
        o->status_id = ST_NZEC;
        o->has_exit_code = true;
        o->exit_code = code;
        snprintf(o->message, sizeof o->message, "Exited with error status %d", code);
        ran = true;
    } else {
        o->status_id = ST_ACCEPTED;
        o->has_exit_code = true;
        o->exit_code = 0;
        ran = true;
    }
    if (ran && o->has_times) { /* isolate reports TO when the CPU limit was passed at all */
        if (r->cpu_time_limit > 0 && o->time_s > r->cpu_time_limit) {
            o->status_id = ST_TLE;
            snprintf(o->message, sizeof o->message, "Time limit exceeded");
        } else if (o->wall_s > r->wall_time_limit) {
            o->status_id = ST_TLE;
            snprintf(o->message, sizeof o->message, "Time limit exceeded (wall clock)");
        }
    }
    if (o->status_id == ST_ACCEPTED && r->has_expected) {
        int eq = j0_output_matches(r->expected.data ? r->expected.data : "", r->expected.len,
                                   o->out.data ? o->out.data : "", o->out.len);
        if (eq < 0)
            return APP_ENOMEM;
        if (!eq)
            o->status_id = ST_WRONG;
    }
    return APP_OK;
}

/* Appends the stored result object: the Judge0 fields a run sets. */
static app_err j0_outcome_json(const j0_outcome *o, sbuf *out)
{
    char t[32], w[32];
    app_err err = sbuf_puts(out, "{\"stdout\":");
    if (err == APP_OK)
        err = o->out.len > 0 ? jsonw_string(out, o->out.data, o->out.len)
                             : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"stderr\":");
    if (err == APP_OK)
        err = o->err.len > 0 ? jsonw_string(out, o->err.data, o->err.len)
                             : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"message\":");
    if (err == APP_OK)
        err = o->message[0] ? jsonw_string(out, o->message, strlen(o->message))
                            : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = o->has_exit_code ? sbuf_printf(out, ",\"exit_code\":%d", o->exit_code)
                               : sbuf_puts(out, ",\"exit_code\":null");
    if (err == APP_OK)
        err = o->has_exit_signal ? sbuf_printf(out, ",\"exit_signal\":%d", o->exit_signal)
                                 : sbuf_puts(out, ",\"exit_signal\":null");
    j0_decimal(o->time_s, t, sizeof t);
    j0_decimal(o->wall_s, w, sizeof w);
    if (err == APP_OK)
        err = o->has_times ? sbuf_printf(out, ",\"time\":\"%s\",\"wall_time\":\"%s\"", t, w)
                           : sbuf_puts(out, ",\"time\":null,\"wall_time\":null");
    if (err == APP_OK)
        err = o->has_memory ? sbuf_printf(out, ",\"memory\":%ld}", o->memory_kb)
                            : sbuf_puts(out, ",\"memory\":null}");
    return err;
}

/* --- the store ------------------------------------------------------------------ */

/* Seconds after which a row still In Queue/Processing is taken as lost
 * (its task died, or the service restarted under it). */
static double j0_stale_s(const conf *c)
{
    return J0_BUSY_RETRY_S + (c->max_wall_ms + c->queue_timeout_ms) / 1000.0 + 60.0;
}

/* Loads a live row (hist_j0_get), taking a status id out of Judge0's
 * range as Internal Error.  APP_ENOTFOUND; APP_EDB; APP_ENOMEM. */
static app_err j0_db_get(hist *h, const char *token, hist_j0_row *row, char *msg, size_t msglen)
{
    app_err err = hist_j0_get(h, token, row, msg, msglen);
    if (err == APP_OK && (row->status_id < 1 || row->status_id > JZ_STATUS_MAX))
        row->status_id = ST_INTERNAL;
    return err;
}

/* --- running --------------------------------------------------------------------- */

/* Sleeps ms milliseconds; returns true early when cancel_fd became readable. */
static bool j0_pause(int cancel_fd, int ms)
{
    if (cancel_fd < 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return false;
    }
    struct pollfd p = {.fd = cancel_fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/*
 * Runs r in the native engine and stores the outcome under token (status,
 * finished_at, result) and one row in the execution statistics.
 * cancel_fd (or -1) is the HTTP client of a wait=true request and client
 * its xp_client_key() (0 for queued submissions); retry_s bounds the
 * retries while the executor, or this client's share of it, is saturated.  Failures
 * of the engine become Internal Error; store failures are logged.
 */
static void j0_execute(const conf *c, hist *h, const char *token, const j0_req *r, int cancel_fd,
                       uint64_t client, double retry_s)
{
    char msg[APP_ERRMSG_LEN] = "";
    native_job job = {
        .code = r->source.data ? r->source.data : "",
        .code_len = r->source.len,
        .data = r->input.data ? r->input.data : "",
        .data_len = r->input.len,
        .program = true,
        .client = client,
    };
    j0_job_limits(c, r, &job.wall_ms, &job.memory_mb);
    sbuf res, stored;
    sbuf_init(&res, XP_MAX_RESPONSE);
    sbuf_init(&stored, HIST_MAX_TEXT);
    j0_outcome o;
    j0_outcome_init(&o);

    double started = j0_now();
    app_err err;
    for (;;) {
        sbuf_reset(&res);
        msg[0] = '\0';
        err = native_run(c, &job, cancel_fd, &res, msg, sizeof msg);
        if ((err != APP_EBUSY && err != APP_ECLIENT_LIMIT) || j0_now() - started > retry_s)
            break;
        if (j0_pause(cancel_fd, J0_BUSY_SLEEP_MS)) {
            err = APP_EIO;
            snprintf(msg, sizeof msg, "the client went away while the run was queued");
            break;
        }
    }
    double wall_ms = (j0_now() - started) * 1000.0;
    if (err == APP_OK)
        err = j0_map_result(res.data ? res.data : "", res.len, r, &o);
    else
        j0_outcome_internal(&o, app_strerror(err), msg);
    if (err == APP_ENOMEM)
        j0_outcome_internal(&o, "out of memory while reading the result", "");
    app_err serr = j0_outcome_json(&o, &stored);
    if (serr != APP_OK) {
        j0_outcome_internal(&o, "the result was too large to store", "");
        sbuf_reset(&stored);
        serr = j0_outcome_json(&o, &stored);
    }
    char dbmsg[APP_ERRMSG_LEN];
    if (serr == APP_OK &&
        hist_j0_finish(h, token, o.status_id, sbuf_str(&stored), dbmsg, sizeof dbmsg) != APP_OK)
        fprintf(stderr, "pysandbox judge0 api: storing %s: %s\n", token, dbmsg);

    const char *src = r->source.data ? r->source.data : "";
    const char *in = r->input.data ? r->input.data : "";
    bool in_text = utf8_valid(in, r->input.len, NULL) && memchr(in, '\0', r->input.len) == NULL;
    hist_execution e = {
        .engine = "native",
        .status = err == APP_EUNAVAIL                    ? "unavailable"
                  : err != APP_OK || !o.engine_status[0] ? "engine_error"
                                                         : o.engine_status,
        .success = o.status_id == ST_ACCEPTED,
        .wall_ms = wall_ms,
        .exec_ms = o.has_times ? o.wall_s * 1000.0 : -1,
        .code_bytes = r->source.len,
        .data_bytes = r->input.len,
        .output_bytes = o.out.len,
        .source = "judge0-api",
        .error = err == APP_OK ? NULL : o.message,
        .code = c->store_code ? src : NULL,
        .data = c->store_code && in_text ? in : NULL,
    };
    if (hist_record(h, &e, dbmsg, sizeof dbmsg) != APP_OK)
        fprintf(stderr, "pysandbox judge0 api: statistics: %s\n", dbmsg);
    j0_outcome_free(&o);
    sbuf_free(&res);
    sbuf_free(&stored);
}

app_err j0api_task(const conf *c, const char *token)
{
    hist *h = NULL;
    char msg[APP_ERRMSG_LEN];
    app_err err = hist_open(c->db_path, &h, msg, sizeof msg);
    if (err != APP_OK) {
        fprintf(stderr, "pysandbox judge0 api: task %s: %s\n", token, msg);
        return err; /* the row is closed as lost later (hist_j0_purge) */
    }
    hist_j0_row row;
    err = j0_db_get(h, token, &row, msg, sizeof msg);
    if (err == APP_OK && row.status_id != ST_QUEUE)
        err = APP_EINTERNAL; /* started twice: leave it to the first */
    if (err == APP_OK) {
        j0_limits l;
        j0_limits_get(c, &l);
        j0_req r;
        j0_req_init(&r, &l);
        js_span root;
        hist_j0_set_status(h, token, ST_PROCESS, msg, sizeof msg);
        if (js_validate(row.request, row.request_len, &root, msg, sizeof msg) == APP_OK &&
            j0_req_decode(&l, row.request, root, J0_BASE64 | J0_BYTES, &r, NULL) == APP_OK) {
            j0_execute(c, h, token, &r, -1, 0, J0_BUSY_RETRY_S);
        } else {
            hist_j0_finish(h, token, ST_INTERNAL,
                           "{\"message\":\"the stored request could not be read\"}", msg,
                           sizeof msg);
            err = APP_EINTERNAL;
        }
        j0_req_free(&r);
        hist_j0_row_free(&row);
    } else if (err != APP_EINTERNAL) {
        fprintf(stderr, "pysandbox judge0 api: task %s: %s\n", token,
                msg[0] ? msg : app_strerror(err));
    }
    hist_close(h);
    return err;
}

/* --- rendering ------------------------------------------------------------------------ */

/* Appends bytes as a JSON value: null when absent; base64 (MIME) when b64;
 * else a JSON string, or APP_EUTF8 when the bytes are not UTF-8 (Judge0's
 * "cannot be converted to UTF-8"). */
static app_err j0_put_bytes(sbuf *out, const char *p, size_t n, bool present, bool b64)
{
    if (!present)
        return sbuf_puts(out, "null");
    if (!b64) {
        if (!utf8_valid(p, n, NULL))
            return APP_EUTF8;
        return jsonw_string(out, p, n);
    }
    sbuf enc;
    sbuf_init(&enc, HTTP_MAX_RESPONSE);
    app_err err = b64_encode(p, n, B64_MIME, &enc);
    if (err == APP_OK)
        err = jsonw_string(out, enc.data ? enc.data : "", enc.len);
    sbuf_free(&enc);
    return err;
}

/* Appends a string member of the stored result as a field value. */
static app_err j0_put_result_text(sbuf *out, const char *doc, js_span result, const char *name,
                                  bool b64)
{
    js_span v;
    if (!j0_member(doc, result, name, &v) || v.type != JS_STRING)
        return sbuf_puts(out, "null");
    sbuf b;
    sbuf_init(&b, HTTP_MAX_RESPONSE);
    app_err err = js_string_decode(doc, v, &b, NULL);
    if (err == APP_OK)
        err = j0_put_bytes(out, b.data ? b.data : "", b.len, true, b64);
    sbuf_free(&b);
    return err;
}

/* Appends a number or string member of the stored result verbatim, or null. */
static app_err j0_put_result_raw(sbuf *out, const char *doc, js_span result, const char *name)
{
    js_span v;
    if (!j0_member(doc, result, name, &v) || (v.type != JS_NUMBER && v.type != JS_STRING))
        return sbuf_puts(out, "null");
    return sbuf_append(out, doc + v.off, v.len);
}

/*
 * Appends the submission in row as a JSON object with the fields f, byte
 * fields in base64 when b64.  Returns APP_OK; APP_EUTF8 when a text field
 * is not UTF-8 and b64 is false; APP_ETOOBIG; APP_ENOMEM.
 */
static app_err j0_render(const j0_limits *l, const hist_j0_row *row, const j0_fields *f, bool b64,
                         sbuf *out)
{
    bool want_req = false, want_bytes = false;
    for (size_t i = 0; i < f->n; i++) {
        unsigned k = f->list[i];
        want_bytes = want_bytes || k == F_SOURCE_CODE || k == F_STDIN || k == F_EXPECTED_OUTPUT;
        want_req = want_req || k == F_SOURCE_CODE || k == F_STDIN || k == F_EXPECTED_OUTPUT ||
                   (k >= F_NUMBER_OF_RUNS && k <= F_MAX_FILE_SIZE) || k == F_REDIRECT ||
                   k == F_ENABLE_NETWORK;
    }
    j0_req r;
    j0_req_init(&r, l);
    char msg[APP_ERRMSG_LEN];
    app_err err = APP_OK;
    js_span root;
    if (want_req && js_validate(row->request, row->request_len, &root, msg, sizeof msg) == APP_OK)
        err =
            j0_req_decode(l, row->request, root, J0_BASE64 | (want_bytes ? J0_BYTES : 0), &r, NULL);
    js_span result = {.type = JS_NULL};
    const char *rdoc = row->result ? row->result : "null";
    if (row->result == NULL ||
        js_validate(row->result, row->result_len, &result, msg, sizeof msg) != APP_OK)
        result.type = JS_NULL;

    char buf[64];
    if (err == APP_OK)
        err = sbuf_putc(out, '{');
    for (size_t i = 0; i < f->n && err == APP_OK; i++) {
        unsigned k = f->list[i];
        err = sbuf_printf(out, "%s\"%s\":", i > 0 ? "," : "", j0_field_names[k]);
        if (err != APP_OK)
            break;
        switch (k) {
        case F_TOKEN:
            err = jsonw_string(out, row->token, strlen(row->token));
            break;
        case F_SOURCE_CODE:
            err = j0_put_bytes(out, r.source.data ? r.source.data : "", r.source.len, r.has_source,
                               b64);
            break;
        case F_STDIN:
            err =
                j0_put_bytes(out, r.input.data ? r.input.data : "", r.input.len, r.has_input, b64);
            break;
        case F_EXPECTED_OUTPUT:
            err = j0_put_bytes(out, r.expected.data ? r.expected.data : "", r.expected.len,
                               r.has_expected, b64);
            break;
        case F_LANGUAGE_ID:
            err = sbuf_printf(out, "%ld", row->language_id);
            break;
        case F_STDOUT:
        case F_STDERR:
        case F_COMPILE_OUTPUT:
        case F_MESSAGE:
            err = j0_put_result_text(out, rdoc, result, j0_field_names[k], b64);
            break;
        case F_TIME:
        case F_WALL_TIME:
        case F_MEMORY:
        case F_EXIT_CODE:
        case F_EXIT_SIGNAL:
            err = j0_put_result_raw(out, rdoc, result, j0_field_names[k]);
            break;
        case F_STATUS_ID:
            err = sbuf_printf(out, "%d", row->status_id);
            break;
        case F_STATUS:
            err = sbuf_printf(out, "{\"id\":%d,\"description\":\"%s\"}", row->status_id,
                              jz_status_description(row->status_id));
            break;
        case F_CREATED_AT:
        case F_FINISHED_AT: {
            double t = k == F_CREATED_AT ? row->created_at : row->finished_at;
            j0_iso_time(t, buf, sizeof buf);
            err = t < 0 ? sbuf_puts(out, "null") : sbuf_printf(out, "\"%s\"", buf);
            break;
        }
        case F_NUMBER_OF_RUNS:
            err = sbuf_printf(out, "%ld", r.number_of_runs);
            break;
        case F_CPU_TIME_LIMIT:
        case F_CPU_EXTRA_TIME:
        case F_WALL_TIME_LIMIT:
            j0_decimal(k == F_CPU_TIME_LIMIT   ? r.cpu_time_limit
                       : k == F_CPU_EXTRA_TIME ? r.cpu_extra_time
                                               : r.wall_time_limit,
                       buf, sizeof buf);
            err = sbuf_printf(out, "\"%s\"", buf);
            break;
        case F_MEMORY_LIMIT:
            err = sbuf_printf(out, "%ld", r.memory_limit);
            break;
        case F_STACK_LIMIT:
            err = sbuf_printf(out, "%ld", r.stack_limit);
            break;
        case F_MAX_PROCESSES:
            err = sbuf_printf(out, "%ld", r.max_processes);
            break;
        case F_MAX_FILE_SIZE:
            err = sbuf_printf(out, "%ld", r.max_file_size);
            break;
        case F_PP_TIME:
        case F_PP_MEMORY:
        case F_REDIRECT:
        case F_ENABLE_NETWORK: {
            bool b = k == F_PP_TIME     ? r.pp_time
                     : k == F_PP_MEMORY ? r.pp_memory
                     : k == F_REDIRECT  ? r.redirect
                                        : r.network;
            err = sbuf_puts(out, b ? "true" : "false");
            break;
        }
        case F_LANGUAGE: {
            const char *name = j0_language_name(row->language_id);
            err = sbuf_printf(out, "{\"id\":%ld,\"name\":", row->language_id);
            if (err == APP_OK)
                err = name ? jsonw_string(out, name, strlen(name)) : sbuf_puts(out, "null");
            if (err == APP_OK)
                err = sbuf_putc(out, '}');
            break;
        }
        default: /* compiler_options, command_line_arguments, callback_url,
                    additional_files: refused when set, so always null */
            err = sbuf_puts(out, "null");
            break;
        }
    }
    if (err == APP_OK)
        err = sbuf_putc(out, '}');
    j0_req_free(&r);
    return err;
}

/* --- HTTP plumbing ---------------------------------------------------------------------- */

static void j0_json_headers(http_resp *resp)
{
    http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    http_resp_header(resp, "Cache-Control", "no-store");
    http_resp_header(resp, "X-Content-Type-Options", "nosniff");
}

/* Replaces the response with Judge0's error shape {"error": message}. */
static void j0_error(http_resp *resp, int status, const char *message)
{
    http_resp_reset(resp);
    resp->status = status;
    sbuf_puts(&resp->body, "{\"error\":");
    jsonw_string(&resp->body, message, strlen(message));
    sbuf_puts(&resp->body, "}\n");
    j0_json_headers(resp);
}

/* An empty-bodied answer, as Judge0 gives for 401/403. */
static void j0_empty(http_resp *resp, int status)
{
    http_resp_reset(resp);
    resp->status = status;
    http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8");
}

/* Fails the response after a body could not be built. */
static void j0_render_failed(http_resp *resp, app_err err)
{
    if (err == APP_ETOOBIG)
        j0_error(resp, 400,
                 "the response would be too large; request fewer fields or fewer submissions");
    else
        j0_error(resp, 500, app_strerror(err));
}

static void j0_ok_json(http_resp *resp, int status)
{
    resp->status = status;
    if (sbuf_putc(&resp->body, '\n') != APP_OK) {
        j0_render_failed(resp, APP_ETOOBIG);
        return;
    }
    j0_json_headers(resp);
}

typedef struct j0_query {
    bool base64, wait;
    bool has_fields, has_tokens;
    char fields[J0_MAX_PARAM + 1];
    char tokens[J0_MAX_PARAM + 1];
} j0_query;

static app_err j0_query_cb(void *ctx, const char *name, size_t name_len, const char *value,
                           size_t value_len, char *msg, size_t msglen)
{
    j0_query *q = ctx;
    (void)name_len;
    char *dst = NULL;
    if (strcmp(name, "base64_encoded") == 0)
        q->base64 = strcmp(value, "true") == 0; /* v1.13.1: only "true" is true */
    else if (strcmp(name, "wait") == 0)
        q->wait = strcmp(value, "true") == 0;
    else if (strcmp(name, "fields") == 0) {
        dst = q->fields;
        q->has_fields = true;
    } else if (strcmp(name, "tokens") == 0) {
        dst = q->tokens;
        q->has_tokens = true;
    }
    if (dst == NULL)
        return APP_OK; /* other parameters are ignored, as Rails ignores them */
    if (value_len > J0_MAX_PARAM || memchr(value, '\0', value_len) != NULL) {
        snprintf(msg, msglen, "the %s parameter is longer than %u bytes or holds NUL", name,
                 J0_MAX_PARAM);
        return APP_EFIELD;
    }
    memcpy(dst, value, value_len + 1);
    return APP_OK;
}

/* Decodes the query; on failure answers 400 and returns false. */
static bool j0_query_parse(const http_req *req, j0_query *q, http_resp *resp)
{
    memset(q, 0, sizeof *q);
    char msg[APP_ERRMSG_LEN] = "";
    const char *s = req->query ? req->query : "";
    if (form_parse(s, strlen(s), j0_query_cb, q, msg, sizeof msg) != APP_OK) {
        char text[APP_ERRMSG_LEN + 32];
        snprintf(text, sizeof text, "invalid query string: %s", msg);
        j0_error(resp, 400, text);
        return false;
    }
    return true;
}

/* Parses `fields`; on failure answers 400 {"error":"invalid fields: [..]"}. */
static bool j0_query_fields(const j0_query *q, j0_fields *f, http_resp *resp)
{
    char msg[APP_ERRMSG_LEN];
    if (j0_fields_parse(q->has_fields ? q->fields : NULL, f, msg, sizeof msg) != APP_OK) {
        j0_error(resp, 400, msg);
        return false;
    }
    return true;
}

/* The store, or a 503 answer when it could not be opened.  Creating
 * purges expired and lost rows on the way (reads only filter them). */
static hist *j0_store(const conf *c, hist *h, bool purge, http_resp *resp)
{
    if (h == NULL) {
        j0_error(resp, 503, "the submission store is not available");
        return NULL;
    }
    if (purge)
        hist_j0_purge(h, j0_stale_s(c));
    return h;
}

/* j0_db_get, closing the row as lost first when its run is overdue, so a
 * polling client always ends. */
static app_err j0_load(const conf *c, hist *db, const char *token, hist_j0_row *row, char *msg,
                       size_t msglen)
{
    app_err err = j0_db_get(db, token, row, msg, msglen);
    if (err == APP_OK && row->status_id <= ST_PROCESS &&
        row->created_at < j0_now() - j0_stale_s(c)) {
        hist_j0_row_free(row);
        hist_j0_purge(db, j0_stale_s(c));
        err = j0_db_get(db, token, row, msg, msglen);
    }
    return err;
}

/* 503 "queue is full" when n more submissions would pass J0_MAX_QUEUE. */
static bool j0_queue_room(hist *db, long n, http_resp *resp)
{
    long queued = 0;
    char msg[APP_ERRMSG_LEN];
    if (hist_j0_queue_size(db, &queued, msg, sizeof msg) != APP_OK) {
        j0_error(resp, 500, msg);
        return false;
    }
    if (queued + n > J0_MAX_QUEUE) {
        j0_error(resp, 503, "queue is full");
        return false;
    }
    return true;
}

/* Validates the body as JSON; answers 400 and returns false when it is not.
 * A body that is not application/json is not parsed (Judge0/Rails): root
 * becomes an empty object and validation reports the missing fields. */
static bool j0_body(const http_req *req, js_span *root, http_resp *resp)
{
    char type[64], msg[APP_ERRMSG_LEN];
    root->type = JS_NULL;
    root->off = root->len = 0;
    if (strcmp(form_media_type(req->content_type, type, sizeof type), "application/json") != 0 ||
        req->body_len == 0)
        return true;
    if (js_validate(req->body ? req->body : "", req->body_len, root, msg, sizeof msg) != APP_OK) {
        char text[APP_ERRMSG_LEN + 32];
        snprintf(text, sizeof text, "malformed JSON body: %s", msg);
        j0_error(resp, 400, text);
        return false;
    }
    return true;
}

/* Validates one submission object and stores it (status 1, or 2 when it is
 * about to run here).  On validation errors, appends Judge0's error object
 * to errs_out and returns APP_EFIELD.  On APP_OK, token is set and r holds
 * the decoded request (the caller frees it). */
static app_err j0_create_one(const conf *c, hist *db, const char *doc, js_span obj, bool b64,
                             int status, j0_req *r, char *token, sbuf *errs_out, char *msg,
                             size_t msglen)
{
    j0_limits l;
    j0_limits_get(c, &l);
    j0_errs e = {0};
    app_err err = j0_req_decode(&l, doc, obj, J0_CREATE | (b64 ? J0_BASE64 : 0), r, &e);
    if (err != APP_OK)
        return err;
    if (e.n > 0) {
        err = j0_errs_json(&e, errs_out);
        return err == APP_OK ? APP_EFIELD : err;
    }
    sbuf stored;
    sbuf_init(&stored, HIST_MAX_TEXT);
    err = j0_req_store_json(r, &stored);
    if (err == APP_OK && j0_new_token(token) != APP_OK) {
        snprintf(msg, msglen, "no randomness for a token");
        err = APP_EIO;
    }
    if (err == APP_OK)
        err = hist_j0_insert(db, token, r->language_id, sbuf_str(&stored), status, msg, msglen);
    sbuf_free(&stored);
    return err;
}

/* Starts the background run of token (pysandbox-fcgi --task judge0 TOKEN,
 * which calls j0api_task); on failure the row is removed. */
static app_err j0_spawn(hist *db, const char *token, char *msg, size_t msglen)
{
    app_err err = bg_run_task("judge0", token, msg, msglen);
    if (err != APP_OK) {
        char ignored[APP_ERRMSG_LEN];
        hist_j0_delete(db, token, ignored, sizeof ignored);
    }
    return err;
}

/* --- handlers ---------------------------------------------------------------------------- */

/* POST /submissions */
static void j0_create(const conf *c, hist *h, const http_req *req, http_resp *resp)
{
    j0_query q;
    j0_fields f;
    js_span root;
    if (!j0_query_parse(req, &q, resp))
        return;
    hist *db = j0_store(c, h, true, resp);
    if (db == NULL || !j0_queue_room(db, 1, resp) || !j0_query_fields(&q, &f, resp) ||
        !j0_body(req, &root, resp))
        return;
    j0_limits l;
    j0_limits_get(c, &l);
    j0_req r;
    j0_req_init(&r, &l);
    char token[J0_TOKEN_LEN + 1] = "", msg[APP_ERRMSG_LEN] = "";
    sbuf errs;
    sbuf_init(&errs, 64 * 1024);
    app_err err = j0_create_one(c, db, req->body ? req->body : "", root, q.base64,
                                q.wait ? ST_PROCESS : ST_QUEUE, &r, token, &errs, msg, sizeof msg);
    if (err == APP_EFIELD) {
        sbuf_append(&resp->body, errs.data ? errs.data : "{}", errs.len ? errs.len : 2);
        j0_ok_json(resp, 422);
    } else if (err != APP_OK) {
        j0_error(resp, 500, msg[0] ? msg : app_strerror(err));
    } else if (!q.wait) {
        if (j0_spawn(db, token, msg, sizeof msg) != APP_OK) {
            j0_error(resp, 503, msg);
        } else {
            sbuf_printf(&resp->body, "{\"token\":\"%s\"}", token);
            j0_ok_json(resp, 201);
        }
    } else {
        j0_execute(c, h, token, &r, req->cancel_fd, xp_client_key(req->remote_addr),
                   J0_WAIT_BUSY_RETRY_S);
        hist_j0_row row;
        err = j0_db_get(db, token, &row, msg, sizeof msg);
        if (err == APP_OK)
            err = j0_render(&l, &row, &f, q.base64, &resp->body);
        hist_j0_row_free(&row);
        if (err == APP_EUTF8) {
            sbuf_reset(&resp->body);
            sbuf_printf(&resp->body,
                        "{\"token\":\"%s\",\"error\":\"some attributes for this submission "
                        "cannot be converted to UTF-8, use base64_encoded=true query "
                        "parameter\"}",
                        token);
            err = APP_OK;
        }
        if (err == APP_OK)
            j0_ok_json(resp, 201);
        else
            j0_render_failed(resp, err);
    }
    sbuf_free(&errs);
    j0_req_free(&r);
}

/* POST /submissions/batch (wait and fields are ignored, as in Judge0). */
static void j0_batch_create(const conf *c, hist *h, const http_req *req, http_resp *resp)
{
    j0_query q;
    js_span root, list;
    if (!j0_query_parse(req, &q, resp))
        return;
    hist *db = j0_store(c, h, true, resp);
    if (db == NULL || !j0_body(req, &root, resp))
        return;
    const char *doc = req->body ? req->body : "";
    size_t n = 0;
    if (j0_member(doc, root, "submissions", &list) && list.type == JS_ARRAY) {
        js_iter it;
        js_iter_init(&it, doc, list);
        js_span el;
        while (n <= J0_MAX_BATCH && js_iter_next(&it, NULL, &el))
            n++;
    }
    if (n > J0_MAX_BATCH) {
        j0_error(resp, 400, "number of submissions in a batch should be less than or equal to 20");
        return;
    }
    if (n == 0) {
        j0_error(resp, 400, "there should be at least one submission in a batch");
        return;
    }
    if (!j0_queue_room(db, (long)n, resp))
        return;
    j0_limits l;
    j0_limits_get(c, &l);
    sbuf *out = &resp->body;
    app_err err = sbuf_putc(out, '[');
    bool any = false;
    js_iter it;
    js_iter_init(&it, doc, list);
    js_span el;
    for (size_t i = 0; err == APP_OK && js_iter_next(&it, NULL, &el); i++) {
        j0_req r;
        j0_req_init(&r, &l);
        char token[J0_TOKEN_LEN + 1] = "", msg[APP_ERRMSG_LEN] = "";
        if (i > 0)
            err = sbuf_putc(out, ',');
        app_err one = err == APP_OK ? j0_create_one(c, db, doc, el, q.base64, ST_QUEUE, &r, token,
                                                    out, msg, sizeof msg)
                                    : err;
        if (one == APP_OK)
            one = j0_spawn(db, token, msg, sizeof msg);
        if (one == APP_OK) {
            err = sbuf_printf(out, "{\"token\":\"%s\"}", token);
            any = true;
        } else if (one != APP_EFIELD) {
            /* Judge0 has no per-item form for this: report it in the item. */
            err = sbuf_puts(out, "{\"error\":");
            if (err == APP_OK)
                err = jsonw_string(out, msg[0] ? msg : app_strerror(one),
                                       strlen(msg[0] ? msg : app_strerror(one)));
            if (err == APP_OK)
                err = sbuf_putc(out, '}');
        }
        j0_req_free(&r);
    }
    if (err == APP_OK)
        err = sbuf_putc(out, ']');
    if (err != APP_OK)
        j0_render_failed(resp, err);
    else
        j0_ok_json(resp, any ? 201 : 422);
}

/* GET /submissions/{token} */
static void j0_show(const conf *c, hist *h, const char *token, const http_req *req, http_resp *resp)
{
    j0_query q;
    j0_fields f;
    if (!j0_query_parse(req, &q, resp) || !j0_query_fields(&q, &f, resp))
        return;
    hist *db = j0_store(c, h, false, resp);
    if (db == NULL)
        return;
    hist_j0_row row;
    char msg[APP_ERRMSG_LEN] = "";
    app_err err = j0_load(c, db, token, &row, msg, sizeof msg);
    if (err == APP_ENOTFOUND) {
        j0_error(resp, 404, "submission not found");
        return;
    }
    if (err != APP_OK) {
        j0_error(resp, 500, msg[0] ? msg : app_strerror(err));
        return;
    }
    j0_limits l;
    j0_limits_get(c, &l);
    err = j0_render(&l, &row, &f, q.base64, &resp->body);
    hist_j0_row_free(&row);
    if (err == APP_EUTF8)
        j0_error(resp, 400,
                 "some attributes for this submission cannot be converted to UTF-8, use "
                 "base64_encoded=true query parameter");
    else if (err != APP_OK)
        j0_render_failed(resp, err);
    else
        j0_ok_json(resp, 200);
}

/* GET /submissions/batch?tokens=a,b */
static void j0_batch_show(const conf *c, hist *h, const http_req *req, http_resp *resp)
{
    j0_query q;
    j0_fields f;
    if (!j0_query_parse(req, &q, resp) || !j0_query_fields(&q, &f, resp))
        return;
    /* Ruby: tokens.to_s.strip.split(",") (trailing empty pieces dropped). */
    char *s = q.tokens;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
        s[--len] = '\0';
    while (len > 0 && s[len - 1] == ',')
        s[--len] = '\0';
    const char *tokens[J0_MAX_BATCH];
    size_t n = 0;
    for (char *p = s; len > 0 && p != NULL; n++) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (n < J0_MAX_BATCH)
            tokens[n] = p;
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (n > J0_MAX_BATCH) {
        j0_error(resp, 400, "number of submissions in a batch should be less than or equal to 20");
        return;
    }
    if (n == 0) {
        j0_error(resp, 400, "there should be at least one submission in a batch");
        return;
    }
    hist *db = j0_store(c, h, false, resp);
    if (db == NULL)
        return;
    j0_limits l;
    j0_limits_get(c, &l);
    sbuf *out = &resp->body;
    app_err err = sbuf_puts(out, "{\"submissions\":[");
    for (size_t i = 0; i < n && err == APP_OK; i++) {
        if (i > 0)
            err = sbuf_putc(out, ',');
        hist_j0_row row;
        char msg[APP_ERRMSG_LEN] = "";
        app_err one = err == APP_OK ? j0_load(c, db, tokens[i], &row, msg, sizeof msg) : err;
        if (one == APP_ENOTFOUND) {
            err = sbuf_puts(out, "null");
        } else if (one != APP_OK) {
            j0_error(resp, 500, msg[0] ? msg : app_strerror(one));
            return;
        } else {
            err = j0_render(&l, &row, &f, q.base64, out);
            hist_j0_row_free(&row);
        }
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "]}");
    if (err == APP_EUTF8)
        j0_error(resp, 400,
                 "some attributes for one or more submissions cannot be converted to UTF-8, use "
                 "base64_encoded=true query parameter");
    else if (err != APP_OK)
        j0_render_failed(resp, err);
    else
        j0_ok_json(resp, 200);
}

static void j0_language_json(sbuf *out, size_t i, bool detail)
{
    sbuf_printf(out, "{\"id\":%d,\"name\":\"%s\"", j0_languages[i].id, j0_languages[i].name);
    if (detail)
        sbuf_puts(out, ",\"is_archived\":false,\"source_file\":\"script.py\",\"compile_cmd\":null,"
                       "\"run_cmd\":\"/usr/bin/python3 script.py\"");
    sbuf_putc(out, '}');
}

static void j0_languages_list(http_resp *resp, bool all)
{
    sbuf_putc(&resp->body, '[');
    for (size_t i = 0; i < J0_NLANGUAGES; i++) {
        if (i > 0)
            sbuf_putc(&resp->body, ',');
        sbuf_printf(&resp->body, "{\"id\":%d,\"name\":\"%s\"%s}", j0_languages[i].id,
                    j0_languages[i].name, all ? ",\"is_archived\":false" : "");
    }
    sbuf_putc(&resp->body, ']');
    j0_ok_json(resp, 200);
}

static void j0_language_show(const char *id, http_resp *resp)
{
    char *end;
    errno = 0;
    long n = strtol(id, &end, 10);
    for (size_t i = 0; *id != '\0' && *end == '\0' && errno == 0 && i < J0_NLANGUAGES; i++)
        if (j0_languages[i].id == n) {
            j0_language_json(&resp->body, i, true);
            j0_ok_json(resp, 200);
            return;
        }
    j0_error(resp, 404, "language not found");
}

static void j0_statuses(http_resp *resp)
{
    sbuf_putc(&resp->body, '[');
    for (int i = 1; i <= JZ_STATUS_MAX; i++)
        sbuf_printf(&resp->body, "%s{\"id\":%d,\"description\":\"%s\"}", i > 1 ? "," : "", i,
                    jz_status_description(i));
    sbuf_putc(&resp->body, ']');
    j0_ok_json(resp, 200);
}

static void j0_about(const conf *c, http_resp *resp)
{
    const char *home = c->public_url ? c->public_url : "";
    sbuf_puts(&resp->body, "{\"version\":\"" J0_VERSION "\",\"homepage\":");
    jsonw_string(&resp->body, home, strlen(home));
    sbuf_puts(&resp->body, ",\"source_code\":\"\",\"maintainer\":\"pysandbox: a Judge0-compatible "
                           "API over a jailed native CPython (Python only)\"}");
    j0_ok_json(resp, 200);
}

/* Judge0's /config_info keys, in its order, with our real values. */
static void j0_config_info(const conf *c, http_resp *resp)
{
    j0_limits l;
    j0_limits_get(c, &l);
    char cpu[32], max_cpu[32], extra[32], max_extra[32], wall[32], max_wall[32];
    j0_decimal(l.cpu_time, cpu, sizeof cpu);
    j0_decimal(l.max_cpu_time, max_cpu, sizeof max_cpu);
    j0_decimal(l.cpu_extra, extra, sizeof extra);
    j0_decimal(l.max_cpu_extra, max_extra, sizeof max_extra);
    j0_decimal(l.wall_time, wall, sizeof wall);
    j0_decimal(l.max_wall_time, max_wall, sizeof max_wall);
    sbuf_printf(&resp->body,
                "{\"maintenance_mode\":false,\"enable_wait_result\":true,"
                "\"enable_compiler_options\":false,\"allowed_languages_for_compile_options\":[],"
                "\"enable_command_line_arguments\":false,\"enable_submission_delete\":false,"
                "\"enable_callbacks\":false,\"callbacks_max_tries\":3,\"callbacks_timeout\":5.0,"
                "\"enable_additional_files\":false,\"max_queue_size\":%d,"
                "\"cpu_time_limit\":%s,\"max_cpu_time_limit\":%s,\"cpu_extra_time\":%s,"
                "\"max_cpu_extra_time\":%s,\"wall_time_limit\":%s,\"max_wall_time_limit\":%s,"
                "\"memory_limit\":%ld,\"max_memory_limit\":%ld,\"stack_limit\":%ld,"
                "\"max_stack_limit\":%ld,\"max_processes_and_or_threads\":%ld,"
                "\"max_max_processes_and_or_threads\":%ld,"
                "\"enable_per_process_and_thread_time_limit\":false,"
                "\"allow_enable_per_process_and_thread_time_limit\":false,"
                "\"enable_per_process_and_thread_memory_limit\":false,"
                "\"allow_enable_per_process_and_thread_memory_limit\":false,"
                "\"max_file_size\":%ld,\"max_max_file_size\":%ld,\"number_of_runs\":%ld,"
                "\"max_number_of_runs\":%ld,\"redirect_stderr_to_stdout\":false,"
                "\"max_extract_size\":0,\"enable_batched_submissions\":true,"
                "\"max_submission_batch_size\":%d,\"submission_cache_duration\":0.0,"
                "\"use_docs_as_homepage\":false,\"allow_enable_network\":false,"
                "\"enable_network\":false}",
                J0_MAX_QUEUE, cpu, max_cpu, extra, max_extra, wall, max_wall, l.memory,
                l.max_memory, l.stack, l.max_stack, l.procs, l.max_procs, l.file_size,
                l.max_file_size, l.runs, l.max_runs, J0_MAX_BATCH);
    j0_ok_json(resp, 200);
}

/* A flat string map in the spirit of Judge0's (lscpu + free -h). */
static void j0_system_info(http_resp *resp)
{
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.machine, sizeof u.machine, "unknown");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    sbuf_puts(&resp->body, "{\"Architecture\":");
    jsonw_string(&resp->body, u.machine, strlen(u.machine));
    sbuf_printf(&resp->body, ",\"CPU(s)\":\"%ld\",\"Mem\":\"%.1fG\"}", cpus,
                mem / (1024.0 * 1024 * 1024));
    j0_ok_json(resp, 200);
}

static void j0_text(http_resp *resp, const char *text)
{
    sbuf_puts(&resp->body, text);
    http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8");
    http_resp_header(resp, "Cache-Control", "no-store");
}

static void j0_method_not_allowed(http_resp *resp, const char *allow)
{
    j0_error(resp, 405, "method not allowed");
    http_resp_header(resp, "Allow", allow);
}

void j0api_handle(const conf *c, hist *db, const http_req *req, http_resp *resp)
{
    http_resp_reset(resp);
    const char *path = req->path + strlen("/judge0");
    char p[256];
    size_t n = strlen(path);
    if (n >= sizeof p) {
        j0_error(resp, 404, "no such Judge0 route");
        return;
    }
    memcpy(p, path, n + 1);
    if (n > 1 && p[n - 1] == '/') /* Rails ignores one trailing slash */
        p[--n] = '\0';
    const char *m = req->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    bool post = strcmp(m, "POST") == 0;

    if (strcmp(p, "/") == 0) {
        if (get)
            j0_text(resp, "");
        else
            j0_method_not_allowed(resp, "GET, HEAD");
    } else if (strcmp(p, "/submissions") == 0) {
        if (post)
            j0_create(c, db, req, resp);
        else if (get)
            j0_empty(resp, 403); /* listing needs X-Auth-User, which we do not issue */
        else
            j0_method_not_allowed(resp, "GET, HEAD, POST");
    } else if (strcmp(p, "/submissions/batch") == 0) {
        if (post)
            j0_batch_create(c, db, req, resp);
        else if (get)
            j0_batch_show(c, db, req, resp);
        else
            j0_method_not_allowed(resp, "GET, HEAD, POST");
    } else if (strncmp(p, "/submissions/", 13) == 0 && strchr(p + 13, '/') == NULL) {
        if (get)
            j0_show(c, db, p + 13, req, resp);
        else if (strcmp(m, "DELETE") == 0)
            j0_empty(resp, 403); /* deleting needs X-Auth-User, which we do not issue */
        else
            j0_method_not_allowed(resp, "GET, HEAD, DELETE");
    } else if (strcmp(p, "/languages") == 0 || strcmp(p, "/languages/all") == 0) {
        if (get)
            j0_languages_list(resp, p[10] == '/');
        else
            j0_method_not_allowed(resp, "GET, HEAD");
    } else if (strncmp(p, "/languages/", 11) == 0 && strchr(p + 11, '/') == NULL) {
        if (get)
            j0_language_show(p + 11, resp);
        else
            j0_method_not_allowed(resp, "GET, HEAD");
    } else if (strcmp(p, "/statuses") == 0 || strcmp(p, "/about") == 0 ||
               strcmp(p, "/config_info") == 0 || strcmp(p, "/system_info") == 0 ||
               strcmp(p, "/version") == 0) {
        if (!get)
            j0_method_not_allowed(resp, "GET, HEAD");
        else if (strcmp(p, "/statuses") == 0)
            j0_statuses(resp);
        else if (strcmp(p, "/about") == 0)
            j0_about(c, resp);
        else if (strcmp(p, "/config_info") == 0)
            j0_config_info(c, resp);
        else if (strcmp(p, "/system_info") == 0)
            j0_system_info(resp);
        else
            j0_text(resp, J0_VERSION);
    } else if (strcmp(p, "/authenticate") == 0 || strcmp(p, "/authorize") == 0) {
        if (!post)
            j0_method_not_allowed(resp, "POST");
        else
            j0_empty(resp, strcmp(p, "/authenticate") == 0 ? 200 : 403); /* auth off; no authz */
    } else {
        j0_error(resp, 404, "no such Judge0 route");
    }
}
