/* j0_tables.c - Judge0's tables, limits and Rails spellings (see j0_tables.h). */
#include "j0_tables.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hist.h"

/* The interpreter the jail runs (Debian 12's CPython). */
#define J0_PYTHON_NAME "Python (3.11.2)"

static const struct {
    int id;
    const char *name;
} j0_languages[] = {{71, J0_PYTHON_NAME}, {92, J0_PYTHON_NAME}};
#define J0_NLANGUAGES (sizeof j0_languages / sizeof j0_languages[0])

static const char *const j0_field_names[J0_F_COUNT] = {
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

size_t j0tab_language_count(void)
{
    return J0_NLANGUAGES;
}

int j0tab_language_id(size_t i)
{
    return j0_languages[i].id;
}

const char *j0tab_language_name(long id)
{
    for (size_t i = 0; i < J0_NLANGUAGES; i++)
        if (j0_languages[i].id == id)
            return j0_languages[i].name;
    return NULL;
}

const char *j0tab_field_name(unsigned f)
{
    return j0_field_names[f];
}

void j0tab_limits_get(const conf *c, j0tab_limits *l)
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
    l->max_stack = J0_JUDGE0_MAX_STACK_KB;
    l->stack = (long)XP_STACK_MB * 1024; /* RLIMIT_STACK in the jail */
    l->max_procs = J0_JUDGE0_MAX_PROCS;
    l->procs = XP_DEFAULT_NPROC; /* the jail's process and thread limit */
    l->max_file_size = J0_JUDGE0_MAX_FILE_KB;
    l->file_size = J0_JUDGE0_FILE_KB; /* RLIMIT_FSIZE is XP_MAX_FILE_MB: see judge0-api.md */
    l->runs = 1;
    l->max_runs = J0_MAX_RUNS;
}

/* Writes v the way Rails prints a decimal column: "5.0", "0.012", "2.5"
 * (three decimals at most, trailing zeros dropped, at least one kept). */
void j0tab_decimal(double v, char *buf, size_t len)
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
void j0tab_iso_time(double t, char *buf, size_t len)
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

double j0tab_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const enum j0_field j0_default_fields[] = {J0_F_TOKEN,   J0_F_TIME,   J0_F_MEMORY,
                                                  J0_F_STDOUT,  J0_F_STDERR, J0_F_COMPILE_OUTPUT,
                                                  J0_F_MESSAGE, J0_F_STATUS};

/*
 * Parses a `fields` query value as Judge0 does (split on ',', names taken
 * as given, no trimming).  NULL or "" selects the default eight; "*" all.
 * Returns APP_OK, or APP_EFIELD with Judge0's exact error text in msg:
 * "invalid fields: [a, b]".
 */
app_err j0tab_fields_parse(const char *s, j0tab_fields *f, char *msg, size_t msglen)
{
    f->n = 0;
    bool seen[J0_F_COUNT] = {false};
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
            while (i < J0_F_COUNT &&
                   (strlen(j0_field_names[i]) != len || memcmp(j0_field_names[i], p, len) != 0))
                i++;
            if (i == J0_F_COUNT) {
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
        for (size_t i = 0; i < J0_F_COUNT; i++)
            f->list[i] = (unsigned char)i;
        f->n = J0_F_COUNT;
    } else if (f->n == 0) {
        for (size_t i = 0; i < sizeof j0_default_fields / sizeof j0_default_fields[0]; i++)
            f->list[i] = (unsigned char)j0_default_fields[i];
        f->n = sizeof j0_default_fields / sizeof j0_default_fields[0];
    }
    return APP_OK;
}

/* Makes a UUID v4 (what Judge0's SecureRandom.uuid gives and judge0-python
 * validates) from 16 random bytes.  token: J0_TOKEN_LEN + 1 bytes. */
app_err j0tab_new_token(char *token)
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
