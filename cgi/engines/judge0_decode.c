/* judge0_decode.c - Judge0's submission objects and status ids, decoded. */
#include "judge0_decode.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "jscan.h"

/* As Judge0 names them (GET /statuses). */
static const char *const status_descriptions[JZ_STATUS_MAX + 1] = {
    "",
    "In Queue",
    "Processing",
    "Accepted",
    "Wrong Answer",
    "Time Limit Exceeded",
    "Compilation Error",
    "Runtime Error (SIGSEGV)",
    "Runtime Error (SIGXFSZ)",
    "Runtime Error (SIGFPE)",
    "Runtime Error (SIGABRT)",
    "Runtime Error (NZEC)",
    "Runtime Error (Other)",
    "Internal Error",
    "Exec Format Error",
};

const char *jz_status_description(int id)
{
    return id >= 1 && id <= JZ_STATUS_MAX ? status_descriptions[id] : "";
}

/* ---- the submission decoder -------------------------------------------------- */

void jz_result_init(jz_result *r)
{
    memset(r, 0, sizeof *r);
    sbuf_init(&r->stdout_text, JZ_MAX_RESPONSE);
    sbuf_init(&r->stderr_text, JZ_MAX_RESPONSE);
    sbuf_init(&r->compile_output, JZ_MAX_RESPONSE);
    sbuf_init(&r->message, JZ_MAX_RESPONSE);
}

void jz_result_free(jz_result *r)
{
    if (r == NULL)
        return;
    sbuf_free(&r->stdout_text);
    sbuf_free(&r->stderr_text);
    sbuf_free(&r->compile_output);
    sbuf_free(&r->message);
}

/* Clears what a previous decode left, keeping the buffers' memory. */
static void result_clear(jz_result *r)
{
    r->token[0] = '\0';
    r->status_id = 0;
    r->status_description[0] = '\0';
    sbuf_reset(&r->stdout_text);
    sbuf_reset(&r->stderr_text);
    sbuf_reset(&r->compile_output);
    sbuf_reset(&r->message);
    r->has_time = r->has_wall_time = r->has_memory = r->has_exit_code = r->has_exit_signal = false;
    r->time_s = r->wall_time_s = 0;
    r->memory_kb = 0;
    r->exit_code = r->exit_signal = 0;
}

bool jz_token_valid(const char *s, size_t n)
{
    if (n == 0 || n > JZ_MAX_TOKEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

static APP_MUST_CHECK app_err malformed(char *msg, size_t msglen, const char *field, const char *what)
{
    snprintf(msg, msglen, "Judge0's submission has a malformed \"%s\": %s", field, what);
    return APP_EUPSTREAM;
}

/* Parses a decimal spelled as JSON spells numbers; strtod alone would also
 * take "inf", "0x1p3" and leading blanks. */
static bool parse_decimal(const char *s, double *out)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    if (!isdigit((unsigned char)*p))
        return false;
    for (const char *q = s; *q != '\0'; q++)
        if (strchr("0123456789.-+eE", *q) == NULL)
            return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* Reads a number Judge0 may send as a JSON number or a decimal string
 * ("0.282", Rails decimals); null leaves *has false. */
static APP_MUST_CHECK app_err get_number(const char *doc, js_span v, const char *field, bool *has, double *out,
                          char *msg, size_t msglen)
{
    *has = false;
    if (v.type == JS_NULL)
        return APP_OK;
    double d;
    if (v.type == JS_NUMBER) {
        d = js_number(doc, v);
        if (!isfinite(d))
            return malformed(msg, msglen, field, "the number is out of range");
    } else if (v.type == JS_STRING) {
        sbuf text;
        sbuf_init(&text, JZ_MAX_SCALAR);
        app_err err = js_string_decode(doc, v, &text, NULL);
        bool ok = err == APP_OK && parse_decimal(sbuf_str(&text), &d);
        sbuf_free(&text);
        if (err == APP_ENOMEM)
            return err;
        if (!ok)
            return malformed(msg, msglen, field, "expected a number or a decimal string");
    } else {
        return malformed(msg, msglen, field, "expected a number");
    }
    *has = true;
    *out = d;
    return APP_OK;
}

static APP_MUST_CHECK app_err get_integer(const char *doc, js_span v, const char *field, double lo, double hi,
                           bool *has, long *out, char *msg, size_t msglen)
{
    double d = 0;
    app_err err = get_number(doc, v, field, has, &d, msg, msglen);
    if (err != APP_OK || !*has)
        return err;
    if (d != floor(d) || d < lo || d > hi) {
        *has = false;
        return malformed(msg, msglen, field, "expected an integer in range");
    }
    *out = (long)d;
    return APP_OK;
}

/* Decodes a text field: null stays empty; base64 text is first unescaped
 * as a JSON string (its line breaks arrive as "\n"), then decoded. */
static APP_MUST_CHECK app_err get_text(const char *doc, js_span v, bool base64, const char *field, sbuf *dst,
                        char *msg, size_t msglen)
{
    sbuf_reset(dst);
    if (v.type == JS_NULL)
        return APP_OK;
    if (v.type != JS_STRING)
        return malformed(msg, msglen, field, "expected a string or null");
    if (!base64) {
        app_err err = js_string_decode(doc, v, dst, NULL);
        if (err == APP_ETOOBIG)
            return malformed(msg, msglen, field, "the text is too large");
        return err;
    }
    sbuf raw;
    sbuf_init(&raw, JZ_MAX_RESPONSE);
    app_err err = js_string_decode(doc, v, &raw, NULL);
    if (err == APP_OK) {
        err = b64_decode(raw.data != NULL ? raw.data : "", raw.len, B64_STRICT, dst);
        if (err == APP_EFIELD)
            err = malformed(msg, msglen, field, "invalid base64");
        else if (err == APP_ETOOBIG)
            err = malformed(msg, msglen, field, "the text is too large");
    } else if (err == APP_ETOOBIG) {
        err = malformed(msg, msglen, field, "the text is too large");
    }
    sbuf_free(&raw);
    return err;
}

static APP_MUST_CHECK app_err get_status(const char *doc, js_span v, jz_result *r, char *msg, size_t msglen)
{
    if (v.type == JS_NULL)
        return APP_OK;
    if (v.type != JS_OBJECT)
        return malformed(msg, msglen, "status", "expected an object {id, description}");
    js_iter it;
    js_iter_init(&it, doc, v);
    js_span k, m;
    bool has_id = false;
    long id = 0;
    while (js_iter_next(&it, &k, &m)) {
        if (js_string_equals(doc, k, "id")) {
            app_err err = get_integer(doc, m, "status.id", 1, 14, &has_id, &id, msg, msglen);
            if (err != APP_OK)
                return err;
        } else if (js_string_equals(doc, k, "description")) {
            if (m.type == JS_NULL)
                continue;
            if (m.type != JS_STRING)
                return malformed(msg, msglen, "status.description", "expected a string");
            sbuf text;
            sbuf_init(&text, JZ_MAX_SCALAR);
            app_err err = js_string_decode(doc, m, &text, NULL);
            if (err == APP_OK || err == APP_ETOOBIG)
                snprintf(r->status_description, sizeof r->status_description, "%s",
                         sbuf_str(&text));
            sbuf_free(&text);
            if (err == APP_ENOMEM)
                return err;
        }
    }
    if (!has_id)
        return malformed(msg, msglen, "status.id", "missing: expected an integer from 1 to 14");
    r->status_id = (int)id;
    return APP_OK;
}

app_err jz_decode_submission(const char *json, size_t len, bool base64, jz_result *r, char *msg,
                             size_t msglen)
{
    result_clear(r);
    js_span root;
    char detail[APP_ERRMSG_LEN];
    if (js_validate(json, len, &root, detail, sizeof detail) != APP_OK) {
        snprintf(msg, msglen, "Judge0's answer is not valid JSON (%s)", detail);
        return APP_EUPSTREAM;
    }
    if (root.type != JS_OBJECT) {
        snprintf(msg, msglen, "Judge0's answer is a JSON %s, not a submission object",
                 js_type_name(root.type));
        return APP_EUPSTREAM;
    }
    js_iter it;
    js_iter_init(&it, json, root);
    js_span k, v;
    app_err err = APP_OK;
    bool has_status = false;
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        long n = 0;
        bool has = false;
        if (js_string_equals(json, k, "token")) {
            r->token[0] = '\0';
            if (v.type == JS_NULL)
                continue;
            if (v.type != JS_STRING || v.len - 2 > JZ_MAX_TOKEN ||
                !jz_token_valid(json + v.off + 1, v.len - 2))
                err = malformed(msg, msglen, "token", "expected a short [A-Za-z0-9-] string");
            else
                snprintf(r->token, sizeof r->token, "%.*s", (int)(v.len - 2), json + v.off + 1);
        } else if (js_string_equals(json, k, "status")) {
            err = get_status(json, v, r, msg, msglen);
            has_status = r->status_id != 0;
        } else if (js_string_equals(json, k, "status_id")) {
            /* Only when asked for by name; "status" wins when both are sent. */
            err = get_integer(json, v, "status_id", 1, 14, &has, &n, msg, msglen);
            if (err == APP_OK && has && !has_status)
                r->status_id = (int)n;
        } else if (js_string_equals(json, k, "stdout")) {
            err = get_text(json, v, base64, "stdout", &r->stdout_text, msg, msglen);
        } else if (js_string_equals(json, k, "stderr")) {
            err = get_text(json, v, base64, "stderr", &r->stderr_text, msg, msglen);
        } else if (js_string_equals(json, k, "compile_output")) {
            err = get_text(json, v, base64, "compile_output", &r->compile_output, msg, msglen);
        } else if (js_string_equals(json, k, "message")) {
            err = get_text(json, v, base64, "message", &r->message, msg, msglen);
        } else if (js_string_equals(json, k, "time")) {
            err = get_number(json, v, "time", &r->has_time, &r->time_s, msg, msglen);
            if (err == APP_OK && r->has_time && r->time_s < 0)
                err = malformed(msg, msglen, "time", "negative");
        } else if (js_string_equals(json, k, "wall_time")) {
            err = get_number(json, v, "wall_time", &r->has_wall_time, &r->wall_time_s, msg, msglen);
            if (err == APP_OK && r->has_wall_time && r->wall_time_s < 0)
                err = malformed(msg, msglen, "wall_time", "negative");
        } else if (js_string_equals(json, k, "memory")) {
            err =
                get_integer(json, v, "memory", 0, 1e15, &r->has_memory, &r->memory_kb, msg, msglen);
        } else if (js_string_equals(json, k, "exit_code")) {
            err = get_integer(json, v, "exit_code", -2147483647.0, 2147483647.0, &r->has_exit_code,
                              &n, msg, msglen);
            r->exit_code = (int)n;
        } else if (js_string_equals(json, k, "exit_signal")) {
            err =
                get_integer(json, v, "exit_signal", 0, 1024, &r->has_exit_signal, &n, msg, msglen);
            r->exit_signal = (int)n;
        }
        /* Anything else (created_at, language, ...) is not ours to read. */
    }
    if (err != APP_OK)
        result_clear(r);
    if (err == APP_ENOMEM)
        snprintf(msg, msglen, "out of memory decoding Judge0's answer");
    return err;
}
