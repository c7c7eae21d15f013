/* j0_request.c - a Judge0 submission's request: decoded, validated, stored (see j0_request.h). */
#include "j0_request.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "jsonw.h"
#include "native.h"
#include "utf8.h"

void j0req_init(j0req *r, const j0tab_limits *l)
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

void j0req_free(j0req *r)
{
    if (r == NULL)
        return;
    sbuf_free(&r->source);
    sbuf_free(&r->input);
    sbuf_free(&r->expected);
}

static void err_add(j0req_errs *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_add(j0req_errs *e, const char *field, const char *fmt, ...)
{
    if (e->n >= J0_MAX_ERRS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->e[e->n].msg, sizeof e->e[e->n].msg, fmt, ap);
    va_end(ap);
    e->e[e->n++].field = field;
}

app_err j0req_errs_json(const j0req_errs *e, sbuf *out)
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

/* Request members we read (Judge0's permitted params), as the attributes
 * they set (whose names they share); others are ignored as Rails'
 * params.permit ignores them. */
static const enum j0_field key_fields[K_COUNT] = {
    J0_F_SOURCE_CODE,     J0_F_LANGUAGE_ID,      J0_F_STDIN,
    J0_F_EXPECTED_OUTPUT, J0_F_NUMBER_OF_RUNS,   J0_F_CPU_TIME_LIMIT,
    J0_F_CPU_EXTRA_TIME,  J0_F_WALL_TIME_LIMIT,  J0_F_MEMORY_LIMIT,
    J0_F_STACK_LIMIT,     J0_F_MAX_PROCESSES,    J0_F_PP_TIME,
    J0_F_PP_MEMORY,       J0_F_MAX_FILE_SIZE,    J0_F_REDIRECT,
    J0_F_ENABLE_NETWORK,  J0_F_COMPILER_OPTIONS, J0_F_COMMAND_LINE_ARGUMENTS,
    J0_F_CALLBACK_URL,    J0_F_ADDITIONAL_FILES,
};

static const char *key_name(enum j0_key k)
{
    return j0tab_field_name(key_fields[k]);
}

/* True when the validated string span s is exactly name; keys without
 * escapes (all real ones) are compared in place without allocating. */
static bool key_is(const char *doc, js_span s, const char *name)
{
    size_t n = strlen(name);
    if (s.len < 2 || s.len - 2 < n)
        return false;
    if (memchr(doc + s.off + 1, '\\', s.len - 2) == NULL)
        return s.len - 2 == n && memcmp(doc + s.off + 1, name, n) == 0;
    return js_string_equals(doc, s, name);
}

/* Finds a member of an object span (the last one wins, as in Rails). */
bool j0req_member(const char *doc, js_span obj, const char *name, js_span *out)
{
    if (obj.type != JS_OBJECT)
        return false;
    js_iter it;
    js_iter_init(&it, doc, obj);
    js_span k, v;
    bool found = false;
    while (js_iter_next(&it, &k, &v))
        if (key_is(doc, k, name)) {
            *out = v;
            found = true;
        }
    return found;
}

/* Ruby's blank?: empty or only whitespace. */
static bool blank(const char *s, size_t n)
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
static APP_MUST_CHECK app_err scalar_text(const char *doc, js_span v, sbuf *out, bool *present)
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
static j0_num number(const char *doc, js_span v, double *out)
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
        if (blank(s, b.len)) {
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
static int boolean(const char *doc, js_span v)
{
    static const char *const falsy[] = {"0", "f", "F", "false", "FALSE", "off", "OFF"};
    if (v.type == JS_BOOL)
        return js_bool(doc, v);
    if (v.type == JS_NUMBER)
        return js_number(doc, v) != 0.0;
    if (v.type != JS_STRING || blank(doc + v.off + 1, v.len - 2))
        return -1; /* blank (escapes are never blank: close enough) */
    for (size_t i = 0; i < sizeof falsy / sizeof falsy[0]; i++)
        if (key_is(doc, v, falsy[i]))
            return 0;
    return 1;
}

/* Checks a numeric field against [min, max] (min exclusive when gt) with
 * Rails' numericality messages; int_max prints max as an integer. */
static void check_range(j0req_errs *e, const char *field, j0_num st, double v, double min, bool gt,
                        double max, bool int_max)
{
    if (st == NUM_NAN) {
        err_add(e, field, "is not a number");
    } else if (st == NUM_OK && (gt ? v <= min : v < min)) {
        err_add(e, field, "must be greater than%s %.0f", gt ? "" : " or equal to", min);
    } else if (st == NUM_OK && v > max) {
        char buf[32];
        if (int_max)
            snprintf(buf, sizeof buf, "%.0f", max);
        else
            j0tab_decimal(max, buf, sizeof buf);
        err_add(e, field, "must be less than or equal to %s", buf);
    }
}

/* Decodes a byte field (source_code, stdin, expected_output) into dst. */
static APP_MUST_CHECK app_err bytes_field(const char *doc, js_span v, bool b64, sbuf *dst, bool *present,
                           bool *too_long)
{
    sbuf text;
    sbuf_init(&text, NATIVE_MAX_BODY);
    app_err err = scalar_text(doc, v, &text, present);
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

/* --- decoding ------------------------------------------------------------------ */

/* The numeric members, with Rails' numericality options. */
static const struct {
    enum j0_key key;
    bool integer, gt; /* integer column; min exclusive */
    double min;
} nums[] = {
    {K_RUNS, true, true, 0},   {K_CPU, false, false, 0},      {K_EXTRA, false, false, 0},
    {K_WALL, false, false, 1}, {K_MEMORY, true, false, 2048}, {K_STACK, true, false, 0},
    {K_PROCS, true, true, 0},  {K_FILE_SIZE, true, false, 0},
};
#define NNUMS (sizeof nums / sizeof nums[0])

/* The byte members and where they go. */
static const enum j0_key byte_keys[3] = {K_SOURCE, K_STDIN, K_EXPECTED};

/* What one pass over a submission object found, before validation. */
typedef struct scan {
    js_span v[K_COUNT];
    bool given[K_COUNT];
    bool too_long[3];   /* per byte_keys: past its cap */
    char lang_text[40]; /* language_id as the error message shows it */
    bool lang_blank, lang_known;
    j0_num nst[NNUMS]; /* per nums */
    double nval[NNUMS];
} scan;

/* Collects the permitted members of root (the last of a name wins). */
static void scan_members(const char *doc, js_span root, scan *s)
{
    memset(s, 0, sizeof *s);
    s->lang_blank = true;
    if (root.type != JS_OBJECT)
        return;
    js_iter it;
    js_iter_init(&it, doc, root);
    js_span k, val;
    while (js_iter_next(&it, &k, &val))
        for (size_t i = 0; i < K_COUNT; i++)
            if (key_is(doc, k, key_name(i))) {
                s->v[i] = val;
                s->given[i] = true;
            }
}

/* The byte fields: decoded (base64 when b64) when decode, else only
 * whether each is given and not null. */
static APP_MUST_CHECK app_err read_bytes(const char *doc, scan *s, bool decode, bool b64, j0req *r)
{
    sbuf *dst[3] = {&r->source, &r->input, &r->expected};
    bool *has[3] = {&r->has_source, &r->has_input, &r->has_expected};
    app_err err = APP_OK;
    for (int i = 0; i < 3 && err == APP_OK; i++) {
        if (!s->given[byte_keys[i]])
            continue;
        if (decode)
            err = bytes_field(doc, s->v[byte_keys[i]], b64, dst[i], has[i], &s->too_long[i]);
        else
            *has[i] = s->v[byte_keys[i]].type != JS_NULL;
    }
    return err;
}

/* language_id: integer column (71.9 -> 71, "71" -> 71). */
static void read_language(const char *doc, scan *s, j0req *r)
{
    if (!s->given[K_LANGUAGE])
        return;
    js_span lv = s->v[K_LANGUAGE];
    double d = 0;
    j0_num st = NUM_ABSENT;
    if (lv.type == JS_NUMBER) {
        d = js_number(doc, lv);
        st = isfinite(d) ? NUM_OK : NUM_NAN;
    } else if (lv.type == JS_BOOL) {
        d = js_bool(doc, lv);
        st = NUM_OK;
    } else if (lv.type == JS_STRING) {
        st = number(doc, lv, &d);
    }
    s->lang_blank = st == NUM_ABSENT;
    if (st == NUM_OK && fabs(d) < 1e15) {
        r->language_id = (long)trunc(d);
        snprintf(s->lang_text, sizeof s->lang_text, "%ld", r->language_id);
        s->lang_known = j0tab_language_name(r->language_id) != NULL;
    } else if (!s->lang_blank) {
        sbuf b;
        sbuf_init(&b, 32);
        /* Only for the message: past 32 bytes the text is cut short, and
         * what did fit is what it shows. */
        app_err ignored = lv.type == JS_STRING
                              ? js_string_decode(doc, lv, &b, NULL)
                              : sbuf_append(&b, doc + lv.off, lv.len < 32 ? lv.len : 32);
        (void)ignored;
        snprintf(s->lang_text, sizeof s->lang_text, "%s", sbuf_str(&b));
        sbuf_free(&b);
    }
}

/* The numeric members that are numbers; the others keep r's defaults
 * (their state in s->nst says why, for validation). */
static void read_numbers(const char *doc, scan *s, j0req *r)
{
    for (size_t i = 0; i < NNUMS; i++) {
        s->nst[i] =
            s->given[nums[i].key] ? number(doc, s->v[nums[i].key], &s->nval[i]) : NUM_ABSENT;
        if (s->nst[i] != NUM_OK)
            continue;
        double v = s->nval[i];
        switch (nums[i].key) {
        case K_RUNS:
            r->number_of_runs = (long)fmin(fmax(trunc(v), -1e9), 1e9);
            break;
        case K_CPU:
            r->cpu_time_limit = v;
            break;
        case K_EXTRA:
            r->cpu_extra_time = v;
            break;
        case K_WALL:
            r->wall_time_limit = v;
            break;
        case K_MEMORY:
            r->memory_limit = (long)fmin(fmax(trunc(v), -1e12), 1e12);
            break;
        case K_STACK:
            r->stack_limit = (long)fmin(fmax(trunc(v), -1e12), 1e12);
            break;
        case K_PROCS:
            r->max_processes = (long)fmin(fmax(trunc(v), -1e12), 1e12);
            break;
        default:
            r->max_file_size = (long)fmin(fmax(trunc(v), -1e12), 1e12);
            break;
        }
    }
}

/* The boolean members that are not blank. */
static void read_booleans(const char *doc, const scan *s, j0req *r)
{
    const enum j0_key bkeys[4] = {K_PP_TIME, K_PP_MEMORY, K_REDIRECT, K_NETWORK};
    bool *bdst[4] = {&r->pp_time, &r->pp_memory, &r->redirect, &r->network};
    for (int i = 0; i < 4; i++) {
        int b = s->given[bkeys[i]] ? boolean(doc, s->v[bkeys[i]]) : -1;
        if (b >= 0)
            *bdst[i] = b == 1;
    }
}

/* Collects Judge0's validation errors for the decoded r, in the order of
 * its Submission model.  Returns APP_OK or APP_ENOMEM. */
static APP_MUST_CHECK app_err validate(const j0tab_limits *l, const char *doc, const scan *s, const j0req *r,
                        j0req_errs *e)
{
    const double maxes[NNUMS] = {(double)l->max_runs,   l->max_cpu_time,
                                 l->max_cpu_extra,      l->max_wall_time,
                                 (double)l->max_memory, (double)l->max_stack,
                                 (double)l->max_procs,  (double)l->max_file_size};
    const char *src = r->source.data ? r->source.data : "";
    if (!r->has_source || blank(src, r->source.len)) {
        if (!s->too_long[0])
            err_add(e, "source_code", "can't be blank");
    }
    if (s->too_long[0])
        err_add(e, "source_code", "is too long (maximum is %u bytes)", J0_MAX_SOURCE);
    else if (r->has_source &&
             (!utf8_valid(src, r->source.len, NULL) || memchr(src, '\0', r->source.len) != NULL))
        err_add(e, "source_code", "must be UTF-8 text without NUL bytes");
    if (s->too_long[1])
        err_add(e, "stdin", "is too long (maximum is %u bytes)", J0_MAX_INPUT);
    if (s->too_long[2])
        err_add(e, "expected_output", "is too long (maximum is %u bytes)", J0_MAX_EXPECTED);
    if (s->lang_blank)
        err_add(e, "language_id", "can't be blank");
    for (size_t i = 0; i < NNUMS; i++)
        check_range(e, key_name(nums[i].key), s->nst[i], s->nval[i], nums[i].min, nums[i].gt,
                    maxes[i], nums[i].integer);
    if (r->pp_time)
        err_add(e, key_name(K_PP_TIME), "this option cannot be enabled");
    if (r->pp_memory)
        err_add(e, key_name(K_PP_MEMORY), "this option cannot be enabled");

    /* Strings we cannot honour: Judge0's "not allowed" messages, as a Judge0
     * configured without them answers.  compiler_options and
     * command_line_arguments also keep their 512-character limit. */
    static const struct {
        enum j0_key key;
        const char *refusal;
    } strs[] = {
        {K_COMPILER_OPTIONS, "setting compiler options is not allowed"}, /* as config_info */
        {K_ARGS, "setting command line arguments is not allowed"},
        {K_CALLBACK, "setting callback is not allowed"},
        {K_FILES, "setting additional files is not allowed"},
    };
    bool refused[4] = {false};
    app_err err = APP_OK;
    for (size_t i = 0; i < 4 && err == APP_OK; i++) {
        if (!s->given[strs[i].key])
            continue;
        sbuf t;
        sbuf_init(&t, NATIVE_MAX_BODY);
        bool present;
        err = scalar_text(doc, s->v[strs[i].key], &t, &present);
        if (err == APP_OK && present &&
            (strs[i].key == K_COMPILER_OPTIONS || strs[i].key == K_ARGS)) {
            size_t chars = 0; /* Rails counts characters */
            for (size_t k = 0; k < t.len; k++)
                chars += ((unsigned char)t.data[k] & 0xC0) != 0x80;
            if (chars > 512)
                err_add(e, key_name(strs[i].key), "is too long (maximum is 512 characters)");
        }
        refused[i] = err == APP_OK && present && !blank(t.data ? t.data : "", t.len);
        sbuf_free(&t);
    }
    if (err != APP_OK)
        return err;
    if (!s->lang_known) /* Judge0 says this even when the id is blank */
        err_add(e, "language_id", "language with id %s doesn't exist", s->lang_text);
    for (size_t i = 0; i < 4; i++)
        if (refused[i])
            err_add(e, key_name(strs[i].key), "%s", strs[i].refusal);
    if (r->network)
        err_add(e, "enable_network", "enabling network is not allowed");
    return APP_OK;
}

/* Reads every member of root into r (no validation); s keeps what
 * validation needs.  Byte fields: see read_bytes. */
static APP_MUST_CHECK app_err read_all(const char *doc, js_span root, bool bytes, bool b64, scan *s, j0req *r)
{
    scan_members(doc, root, s);
    app_err err = read_bytes(doc, s, bytes, b64, r);
    if (err != APP_OK)
        return err;
    read_language(doc, s, r);
    read_numbers(doc, s, r);
    read_booleans(doc, s, r);
    return APP_OK;
}

app_err j0req_decode_create(const j0tab_limits *l, const char *doc, js_span root, bool b64,
                            j0req *r, j0req_errs *e)
{
    scan s;
    app_err err = read_all(doc, root, true, b64, &s, r);
    if (err == APP_OK)
        err = validate(l, doc, &s, r, e);
    /* What the jail applies, where it is stricter than the value asked
     * for: the submission then echoes the applied value. */
    if (r->stack_limit > l->stack)
        r->stack_limit = l->stack;
    if (r->max_processes > l->procs)
        r->max_processes = l->procs;
    return err;
}

app_err j0req_decode_stored(const char *doc, js_span root, bool bytes, j0req *r)
{
    scan s;
    return read_all(doc, root, bytes, true, &s, r); /* we store the bytes in base64 */
}

/*
 * Appends the canonical stored form of r: a Judge0 request object with the
 * byte fields in base64 (one line) and every default filled in.  Decoding
 * it with j0req_decode_stored() gives r back.
 */
app_err j0req_store_json(const j0req *r, sbuf *out)
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

/* A time limit in seconds as engine milliseconds, within its range. */
static unsigned engine_ms(const conf *c, double seconds)
{
    double ms = ceil(seconds * 1000.0);
    if (ms < XP_MIN_WALL_MS)
        ms = XP_MIN_WALL_MS;
    if (ms > c->max_wall_ms)
        ms = c->max_wall_ms;
    return (unsigned)ms;
}

void j0req_job_limits(const conf *c, const j0req *r, unsigned *wall_ms, unsigned *cpu_ms,
                      unsigned *memory_mb)
{
    *wall_ms = engine_ms(c, r->wall_time_limit);
    *cpu_ms = r->cpu_time_limit > 0 ? engine_ms(c, r->cpu_time_limit + r->cpu_extra_time) : 0;
    double mb = ceil((double)r->memory_limit / 1024.0);
    if (mb < XP_MIN_MEMORY_MB)
        mb = XP_MIN_MEMORY_MB;
    if (mb > c->max_memory_mb)
        mb = c->max_memory_mb;
    *memory_mb = (unsigned)mb;
}
