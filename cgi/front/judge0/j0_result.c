/* j0_result.c - an engine result mapped to Judge0's fields (see j0_result.h). */
#include "j0_result.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "jscan.h"
#include "jsonw.h"
#include "utf8.h"
#include "xproto.h"

static bool rstrip_char(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '\0';
}

/*
 * Appends s normalised the way Judge0 compares outputs (isolate_job.rb,
 * strip): split on "\n", right-strip every line, join with "\n", then
 * right-strip the whole.  out's cap must be at least n.
 */
static APP_MUST_CHECK app_err normalise(const char *s, size_t n, sbuf *out)
{
    size_t start = 0;
    app_err err = APP_OK;
    for (;;) {
        const char *nl = memchr(s + start, '\n', n - start);
        size_t end = nl != NULL ? (size_t)(nl - s) : n;
        size_t e = end;
        while (e > start && rstrip_char(s[e - 1]))
            e--;
        if (start > 0)
            err = sbuf_putc(out, '\n');
        if (err == APP_OK)
            err = sbuf_append(out, s + start, e - start);
        if (err != APP_OK || nl == NULL)
            break;
        start = end + 1;
    }
    while (err == APP_OK && out->len > 0 && rstrip_char(out->data[out->len - 1]))
        out->data[--out->len] = '\0';
    return err;
}

/* Judge0's Accepted test: expected and actual equal after normalise.
 * Returns 1 equal, 0 different, -1 out of memory. */
int j0res_output_matches(const char *expected, size_t elen, const char *actual, size_t alen)
{
    sbuf a, b;
    sbuf_init(&a, elen + 1);
    sbuf_init(&b, alen + 1);
    int rc = -1;
    if (normalise(expected, elen, &a) == APP_OK && normalise(actual, alen, &b) == APP_OK)
        rc = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    sbuf_free(&a);
    sbuf_free(&b);
    return rc;
}

void j0res_init(j0res_outcome *o)
{
    memset(o, 0, sizeof *o);
    sbuf_init(&o->out, 2 * J0_MAX_STREAM);
    sbuf_init(&o->err, J0_MAX_STREAM);
}

void j0res_free(j0res_outcome *o)
{
    if (o == NULL)
        return;
    sbuf_free(&o->out);
    sbuf_free(&o->err);
}

/* Turns an engine failure (no result at all) into Internal Error. */
void j0res_internal(j0res_outcome *o, const char *what, const char *detail)
{
    o->status_id = J0_ST_INTERNAL;
    o->has_exit_code = o->has_exit_signal = o->has_times = o->has_memory = false;
    sbuf_reset(&o->out);
    sbuf_reset(&o->err);
    snprintf(o->message, sizeof o->message, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

static int signal_number(const char *name)
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
static void short_string(const char *doc, js_span obj, const char *name, char *buf, size_t len)
{
    js_span v;
    buf[0] = '\0';
    if (!j0req_member(doc, obj, name, &v) || v.type != JS_STRING)
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

static bool number_member(const char *doc, js_span obj, const char *name, double *out)
{
    js_span v;
    if (!j0req_member(doc, obj, name, &v) || v.type != JS_NUMBER)
        return false;
    *out = js_number(doc, v);
    return isfinite(*out);
}

static int signal_status(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return J0_ST_SIGSEGV;
    case SIGXFSZ:
        return J0_ST_SIGXFSZ;
    case SIGFPE:
        return J0_ST_SIGFPE;
    case SIGABRT:
        return J0_ST_SIGABRT;
    default:
        return J0_ST_OTHER;
    }
}

/*
 * Maps the engine's result JSON (shared schema, program mode) for request r
 * to Judge0's fields; see docs/design/judge0-api.md for the table.  o must
 * come from j0res_init().  Never fails on content: a result we cannot
 * read becomes Internal Error.  Returns APP_OK or APP_ENOMEM.
 */
app_err j0res_map(const char *doc, size_t len, const j0req *r, j0res_outcome *o)
{
    js_span root, v, meta, exit_obj, res, error;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(doc, len, &root, msg, sizeof msg) != APP_OK || root.type != JS_OBJECT) {
        j0res_internal(o, "the native engine sent a malformed result", msg);
        return APP_OK;
    }
    char status[16], etype[64], emsg[256], sig_name[32] = "";
    short_string(doc, root, "status", status, sizeof status);
    snprintf(o->engine_status, sizeof o->engine_status, "%s", status);
    etype[0] = emsg[0] = '\0';
    if (j0req_member(doc, root, "error", &error) && error.type == JS_OBJECT) {
        short_string(doc, error, "type", etype, sizeof etype);
        short_string(doc, error, "message", emsg, sizeof emsg);
    }
    /* The supervisor's own members (metadata.{rawOutput, exit, limits, resources}). */
    bool has_meta = j0req_member(doc, root, "metadata", &meta);
    const char *names[2] = {"output", "stderr"};
    sbuf *dst[2] = {&o->out, &o->err};
    for (int i = 0; i < 2; i++) {
        if (!j0req_member(doc, root, names[i], &v) || v.type != JS_STRING)
            continue;
        app_err err = js_string_decode(doc, v, dst[i], NULL);
        if (err == APP_ENOMEM)
            return err;
        if (err != APP_OK) {
            j0res_internal(o, "the program's output was larger than the API can carry", "");
            return APP_OK;
        }
    }
    /* A stream that is not UTF-8 comes byte for byte in metadata.rawOutput
     * (output and stderr above read U+FFFD there). */
    js_span raw;
    if (has_meta && j0req_member(doc, meta, "rawOutput", &raw)) {
        const char *raw_names[2] = {"stdout", "stderr"};
        for (int i = 0; i < 2; i++) {
            if (!j0req_member(doc, raw, raw_names[i], &v) || v.type != JS_STRING)
                continue;
            sbuf text;
            sbuf_init(&text, XP_MAX_RESPONSE);
            sbuf_reset(dst[i]);
            app_err err = js_string_decode(doc, v, &text, NULL);
            if (err == APP_OK)
                err = b64_decode(text.data ? text.data : "", text.len, B64_STRICT, dst[i]);
            sbuf_free(&text);
            if (err == APP_ENOMEM)
                return err;
            if (err != APP_OK) {
                j0res_internal(o, "the native engine sent malformed raw output", "");
                return APP_OK;
            }
        }
    }
    bool has_code = false;
    int code = 0, sig = 0;
    double d;
    if (has_meta && j0req_member(doc, meta, "exit", &exit_obj)) {
        if (number_member(doc, exit_obj, "code", &d) && d >= -255 && d <= 255) {
            has_code = true;
            code = (int)d;
        }
        short_string(doc, exit_obj, "signal", sig_name, sizeof sig_name);
        sig = sig_name[0] ? signal_number(sig_name) : 0;
    }
    double cpu_limit_ms = 0; /* the engine's CPU-time limit of the jail; 0: none */
    js_span lim;
    if (has_meta && j0req_member(doc, meta, "limits", &lim) &&
        (!number_member(doc, lim, "cpuTimeMs", &cpu_limit_ms) || cpu_limit_ms < 0))
        cpu_limit_ms = 0;
    if (has_meta && j0req_member(doc, meta, "resources", &res)) {
        double cpu = 0, wall = 0;
        o->has_times =
            number_member(doc, res, "cpuMs", &cpu) && number_member(doc, res, "wallMs", &wall);
        o->time_s = cpu / 1000.0;
        o->wall_s = wall / 1000.0;
        if (number_member(doc, res, "peakMemoryKb", &d) && d >= 0 && d < 1e15) {
            o->has_memory = true;
            o->memory_kb = (long)d;
        }
    }

    if (sig == 0 && strcmp(etype, "KeyboardInterrupt") == 0)
        sig = SIGINT;                    /* what an uncaught KeyboardInterrupt ends CPython with */
    /* redirect_stderr_to_stdout: the jail wrote both to one pipe, so stderr
     * is empty here; anything there still follows stdout. */
    if (r->redirect && o->err.len > 0) {
        if (sbuf_append(&o->out, o->err.data, o->err.len) == APP_ENOMEM)
            return APP_ENOMEM;
        sbuf_reset(&o->err);
    }

    bool ran = false; /* finished on its own: Accepted/Wrong Answer/NZEC territory */
    if (strcmp(status, "timeout") == 0) {
        o->status_id = J0_ST_TLE;
        o->has_exit_code = o->has_exit_signal = true;
        o->exit_code = 0;
        o->exit_signal = sig ? sig : SIGKILL;
        /* Which limit stopped it: the engine stops a jail for CPU time only
         * once it has used its CPU-time limit (cpu_time_limit +
         * cpu_extra_time, j0req_job_limits), and a process's RLIMIT_CPU
         * only later; otherwise it was the wall clock. */
        bool cpu = cpu_limit_ms > 0 && o->has_times && o->time_s * 1000.0 >= cpu_limit_ms;
        snprintf(o->message, sizeof o->message, "Time limit exceeded%s",
                 cpu ? "" : " (wall clock)");
    } else if (strcmp(status, "output_limit") == 0) {
        o->status_id = J0_ST_SIGXFSZ;
        o->has_exit_code = o->has_exit_signal = true;
        o->exit_code = 0;
        o->exit_signal = SIGXFSZ;
        snprintf(o->message, sizeof o->message, "Output limit exceeded: %s",
                 emsg[0] ? emsg : "the program wrote too much");
    } else if (strcmp(status, "memory_limit") == 0) {
        o->status_id = J0_ST_NZEC;
        o->has_exit_code = true;
        o->exit_code = has_code && code != 0 ? code : 137;
        snprintf(o->message, sizeof o->message,
                 "Exited with error status %d (memory limit exceeded)", o->exit_code);
    } else if (sig != 0) {
        o->status_id = signal_status(sig);
        o->has_exit_code = o->has_exit_signal = true;
        o->exit_code = 0;
        o->exit_signal = sig;
        snprintf(o->message, sizeof o->message, "Caught fatal signal %d", sig);
    } else if (strcmp(etype, "EngineError") == 0 || !has_code ||
               (strcmp(status, "ok") != 0 && strcmp(status, "error") != 0 && code == 0)) {
        char detail[300];
        snprintf(detail, sizeof detail, "%s%s%s", status, emsg[0] ? ": " : "", emsg);
        j0res_internal(o, "the native engine could not run the program", detail);
        return APP_OK;
    } else if (code != 0) {
        o->status_id = J0_ST_NZEC;
        o->has_exit_code = true;
        o->exit_code = code;
        snprintf(o->message, sizeof o->message, "Exited with error status %d", code);
        ran = true;
    } else {
        o->status_id = J0_ST_ACCEPTED;
        o->has_exit_code = true;
        o->exit_code = 0;
        ran = true;
    }
    if (ran && o->has_times) { /* isolate reports TO when the CPU limit was passed at all */
        if (r->cpu_time_limit > 0 && o->time_s > r->cpu_time_limit) {
            o->status_id = J0_ST_TLE;
            snprintf(o->message, sizeof o->message, "Time limit exceeded");
        } else if (o->wall_s > r->wall_time_limit) {
            o->status_id = J0_ST_TLE;
            snprintf(o->message, sizeof o->message, "Time limit exceeded (wall clock)");
        }
    }
    if (o->status_id == J0_ST_ACCEPTED && r->has_expected) {
        int eq = j0res_output_matches(r->expected.data ? r->expected.data : "", r->expected.len,
                                      o->out.data ? o->out.data : "", o->out.len);
        if (eq < 0)
            return APP_ENOMEM;
        if (!eq)
            o->status_id = J0_ST_WRONG;
    }
    return APP_OK;
}

/* A stream as a stored member: "name":"text" (null when empty) when it is
 * UTF-8, else "name":null,"name_base64":"..." so its bytes are kept. */
static APP_MUST_CHECK app_err put_stream(sbuf *out, const char *name, const sbuf *bytes)
{
    const char *p = bytes->data ? bytes->data : "";
    bool text = utf8_valid(p, bytes->len, NULL);
    app_err err = sbuf_printf(out, "\"%s\":", name);
    if (err == APP_OK)
        err = bytes->len == 0 ? sbuf_puts(out, "null")
              : text          ? jsonw_string(out, p, bytes->len)
                              : sbuf_printf(out, "null,\"%s" J0RES_BASE64_SUFFIX "\":\"", name);
    if (err == APP_OK && bytes->len > 0 && !text)
        err = b64_encode(p, bytes->len, B64_ONE_LINE, out);
    if (err == APP_OK && bytes->len > 0 && !text)
        err = sbuf_putc(out, '"');
    return err;
}

/* Appends the stored result object: the Judge0 fields a run sets. */
app_err j0res_json(const j0res_outcome *o, sbuf *out)
{
    char t[32], w[32];
    app_err err = sbuf_putc(out, '{');
    if (err == APP_OK)
        err = put_stream(out, "stdout", &o->out);
    if (err == APP_OK)
        err = sbuf_putc(out, ',');
    if (err == APP_OK)
        err = put_stream(out, "stderr", &o->err);
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
    j0tab_decimal(o->time_s, t, sizeof t);
    j0tab_decimal(o->wall_s, w, sizeof w);
    if (err == APP_OK)
        err = o->has_times ? sbuf_printf(out, ",\"time\":\"%s\",\"wall_time\":\"%s\"", t, w)
                           : sbuf_puts(out, ",\"time\":null,\"wall_time\":null");
    if (err == APP_OK)
        err = o->has_memory ? sbuf_printf(out, ",\"memory\":%ld}", o->memory_kb)
                            : sbuf_puts(out, ",\"memory\":null}");
    return err;
}
