/* hview.c - a validated view of the harness's JSON answer. */
#include "hview.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = {"ok",           "error",  "timeout", "memory_limit",
                                       "output_limit", "killed", NULL};

static void read_limits(const char *doc, js_span limits, hv_view *v)
{
    js_iter it;
    js_iter_init(&it, doc, limits);
    js_span k, val;
    while (js_iter_next(&it, &k, &val)) {
        bool b = val.type == JS_BOOL && js_bool(doc, val);
        if (js_string_equals(doc, k, "outputTruncated"))
            v->out_trunc = b;
        else if (js_string_equals(doc, k, "stderrTruncated"))
            v->err_trunc = b;
        else if (js_string_equals(doc, k, "resultTruncated"))
            v->res_trunc = b;
        else if (js_string_equals(doc, k, "chartsDropped") && val.type == JS_NUMBER) {
            double d = js_number(doc, val);
            v->charts_dropped = d > 0 && d < 1e6 ? (unsigned)d : 0;
        }
    }
}

void hv_read(const char *doc, size_t len, hv_view *v)
{
    memset(v, 0, sizeof *v);
    js_span root, k, val;
    char msg[APP_ERRMSG_LEN];
    if (doc == NULL || js_validate(doc, len, &root, msg, sizeof msg) != APP_OK ||
        root.type != JS_OBJECT)
        return;
    js_iter it;
    js_iter_init(&it, doc, root);
    while (js_iter_next(&it, &k, &val)) {
        if (js_string_equals(doc, k, "status") && val.type == JS_STRING) {
            for (const char *const *s = statuses; *s != NULL; s++)
                if (js_string_equals(doc, val, *s))
                    snprintf(v->status, sizeof v->status, "%s", *s);
        } else if (js_string_equals(doc, k, "output") && val.type == JS_STRING) {
            v->output = val;
            v->has_output = true;
        } else if (js_string_equals(doc, k, "stderr") && val.type == JS_STRING) {
            v->stderr_text = val;
            v->has_stderr = true;
        } else if (js_string_equals(doc, k, "error") && val.type == JS_OBJECT) {
            v->error = val;
            v->has_error = true;
        } else if (js_string_equals(doc, k, "result")) {
            v->result = val;
            v->has_result = true;
        } else if (js_string_equals(doc, k, "charts") && val.type == JS_ARRAY) {
            v->charts = val;
            v->has_charts = true;
        } else if (js_string_equals(doc, k, "executionTime") && val.type == JS_NUMBER) {
            v->exec_time = val;
            v->has_exec_time = true;
        } else if (js_string_equals(doc, k, "exitCode") && val.type == JS_NUMBER) {
            double d = js_number(doc, val);
            v->has_exit_code = d >= 0 && d <= 255;
            v->exit_code = v->has_exit_code ? (int)d : 0;
        } else if (js_string_equals(doc, k, "limits") && val.type == JS_OBJECT) {
            read_limits(doc, val, v);
        } else if (js_string_equals(doc, k, "debug_info") && val.type == JS_OBJECT) {
            v->debug_info = val;
            v->has_debug_info = true;
        } else if (js_string_equals(doc, k, "steps") && val.type == JS_ARRAY) {
            v->steps = val;
            v->has_steps = true;
        } else if (js_string_equals(doc, k, "insights") && val.type == JS_ARRAY) {
            v->insights = val;
            v->has_insights = true;
        } else if (js_string_equals(doc, k, "steps_truncated") && val.type == JS_BOOL) {
            v->steps_truncated = js_bool(doc, val);
        }
    }
    v->valid = v->status[0] != '\0';
}

/* A member an object may keep, the type it must have and, for a string,
 * object or array, its largest JSON text in bytes (0: the caller's cap). */
typedef struct member_rule {
    const char *name;
    js_type type;
    size_t max_bytes;
} member_rule;

static const member_rule error_rules[] = {
    {"type", JS_STRING, 0}, {"message", JS_STRING, 0},       {"traceback", JS_STRING, 0},
    {"line", JS_NUMBER, 0}, {"missingModule", JS_STRING, 0}, {NULL, JS_NULL, 0}};
static const member_rule chart_rules[] = {{"format", JS_STRING, 0},
                                          {"data", JS_STRING, 0},
                                          {"width", JS_NUMBER, 0},
                                          {"height", JS_NUMBER, 0},
                                          {"chart", JS_OBJECT, HV_MAX_CHART_DATA},
                                          {NULL, JS_NULL, 0}};
static const member_rule insight_rules[] = {
    {"kind", JS_STRING, HV_MAX_INSIGHT_KIND},         {"columns", JS_ARRAY, HV_MAX_INSIGHT_TEXT},
    {"message", JS_STRING, HV_MAX_INSIGHT_TEXT},      {"score", JS_NUMBER, 0},
    {"evidence", JS_OBJECT, HV_MAX_INSIGHT_EVIDENCE}, {NULL, JS_NULL, 0}};

/* Copies the members of obj that the rules name, with the rules' types;
 * strings longer than max_text bytes (0: any) are left out. */
static APP_MUST_CHECK app_err put_capped(sbuf *out, const char *doc, js_span obj,
                                         const member_rule *rules, size_t max_text)
{
    app_err err = sbuf_putc(out, '{');
    js_iter it;
    js_iter_init(&it, doc, obj);
    js_span k, v;
    bool first = true;
    uint32_t seen = 0; /* rules already emitted: a repeated key is dropped */
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        const member_rule *r = rules;
        while (r->name != NULL && !(js_string_equals(doc, k, r->name) && v.type == r->type))
            r++;
        uint32_t bit = 1u << ((r - rules) & 31);
        bool nested = v.type == JS_OBJECT || v.type == JS_ARRAY;
        if (r->name == NULL || (seen & bit) ||
            (v.type == JS_NUMBER && !isfinite(js_number(doc, v))) ||
            (max_text > 0 && v.type == JS_STRING && v.len > max_text) ||
            (r->max_bytes > 0 && v.len > r->max_bytes) ||
            (nested && hv_has_nonfinite(doc + v.off, v.len)))
            continue;
        seen |= bit;
        if (!first)
            err = sbuf_putc(out, ',');
        if (err == APP_OK)
            err = sbuf_printf(out, "\"%s\":", r->name);
        if (err == APP_OK)
            err = sbuf_append(out, doc + v.off, v.len);
        first = false;
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

static APP_MUST_CHECK app_err put_filtered(sbuf *out, const char *doc, js_span obj,
                                           const member_rule *rules)
{
    return put_capped(out, doc, obj, rules, 0);
}

app_err hv_put_error(sbuf *out, const char *doc, const hv_view *v)
{
    return v->has_error ? put_filtered(out, doc, v->error, error_rules) : sbuf_puts(out, "null");
}

/* Whether a chart element looks like a chart: "format": "png", string data. */
static bool is_png_chart(const char *doc, js_span el)
{
    if (el.type != JS_OBJECT)
        return false;
    bool png = false, data = false;
    js_iter it;
    js_iter_init(&it, doc, el);
    js_span k, v;
    while (js_iter_next(&it, &k, &v)) {
        png |= js_string_equals(doc, k, "format") && v.type == JS_STRING &&
               js_string_equals(doc, v, "png");
        data |= js_string_equals(doc, k, "data") && v.type == JS_STRING;
    }
    return png && data;
}

app_err hv_put_charts(sbuf *out, const char *doc, const hv_view *v)
{
    app_err err = sbuf_putc(out, '[');
    if (!v->has_charts)
        return err == APP_OK ? sbuf_putc(out, ']') : err;
    js_iter it;
    js_iter_init(&it, doc, v->charts);
    js_span el;
    bool first = true;
    while (err == APP_OK && js_iter_next(&it, NULL, &el)) {
        if (!is_png_chart(doc, el))
            continue;
        if (!first)
            err = sbuf_putc(out, ',');
        if (err == APP_OK)
            err = put_filtered(out, doc, el, chart_rules);
        first = false;
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

static const member_rule log_rules[] = {{"level", JS_STRING, 0},   {"message", JS_STRING, 0},
                                        {"line", JS_NUMBER, 0},    {"t", JS_NUMBER, 0},
                                        {"truncated", JS_BOOL, 0}, {NULL, JS_NULL, 0}};
static const member_rule var_rules[] = {{"type", JS_STRING, 0},
                                        {"repr", JS_STRING, 0},
                                        {"size", JS_NUMBER, 0},
                                        {"truncated", JS_BOOL, 0},
                                        {NULL, JS_NULL, 0}};
static const member_rule step_rules[] = {{"step", JS_NUMBER, 0},
                                         {"line_number", JS_NUMBER, 0},
                                         {"line_code", JS_STRING, 0},
                                         {"event", JS_STRING, 0},
                                         {NULL, JS_NULL, 0}};

/* The most members put_map copies, whatever max asks. */
#define HV_MAX_MAP HV_MAX_DEBUG_VARIABLES

/* Appends obj as a map of at most max members: names up to
 * HV_MAX_NAME_BYTES; values strings up to max_text bytes (rules NULL) or
 * objects filtered by rules.  *cut tells whether members were left out for
 * the count cap. */
static APP_MUST_CHECK app_err put_map(sbuf *out, const char *doc, js_span obj, size_t max,
                                      const member_rule *rules, size_t max_text, bool *cut)
{
    js_span kept[HV_MAX_MAP]; /* names already copied: a repeated name is dropped */
    app_err err = sbuf_putc(out, '{');
    js_iter it;
    js_iter_init(&it, doc, obj);
    js_span k, v;
    size_t n = 0;
    max = max < HV_MAX_MAP ? max : HV_MAX_MAP;
    while (err == APP_OK && js_iter_next(&it, &k, &v)) {
        bool fits = rules == NULL ? v.type == JS_STRING && v.len <= max_text : v.type == JS_OBJECT;
        if (!fits || k.len > HV_MAX_NAME_BYTES)
            continue;
        if (n == max) {
            *cut = true;
            break;
        }
        bool repeated = false;
        for (size_t i = 0; i < n && !repeated; i++)
            repeated = kept[i].len == k.len && memcmp(doc + kept[i].off, doc + k.off, k.len) == 0;
        if (repeated)
            continue;
        kept[n] = k;
        err = n++ > 0 ? sbuf_putc(out, ',') : APP_OK;
        if (err == APP_OK)
            err = sbuf_append(out, doc + k.off, k.len);
        if (err == APP_OK)
            err = sbuf_putc(out, ':');
        if (err == APP_OK)
            err = rules == NULL ? sbuf_append(out, doc + v.off, v.len)
                                : put_capped(out, doc, v, rules, max_text);
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

/* Appends the objects of arr, at most max, each filtered by rules; with
 * map_name, each one's member of that name as put_map (strings). */
static APP_MUST_CHECK app_err put_entries(sbuf *out, const char *doc, js_span arr, size_t max,
                                          const member_rule *rules, size_t max_text,
                                          const char *map_name, size_t map_max, bool *cut)
{
    app_err err = sbuf_putc(out, '[');
    js_iter it;
    js_iter_init(&it, doc, arr);
    js_span el;
    size_t n = 0;
    while (err == APP_OK && js_iter_next(&it, NULL, &el)) {
        if (el.type != JS_OBJECT)
            continue;
        if (n == max) {
            *cut = true;
            break;
        }
        err = n++ > 0 ? sbuf_putc(out, ',') : APP_OK;
        if (err == APP_OK)
            err = put_capped(out, doc, el, rules, max_text);
        if (err != APP_OK || map_name == NULL)
            continue;
        /* put_capped closed the object: reopen it for the map member. */
        out->len--;
        bool have = false, map_cut = false;
        js_iter mit;
        js_iter_init(&mit, doc, el);
        js_span k, v;
        while (err == APP_OK && !have && js_iter_next(&mit, &k, &v)) {
            if (!js_string_equals(doc, k, map_name) || v.type != JS_OBJECT)
                continue;
            have = true;
            err =
                sbuf_printf(out, "%s\"%s\":", out->data[out->len - 1] == '{' ? "" : ",", map_name);
            if (err == APP_OK)
                err = put_map(out, doc, v, map_max, NULL, max_text, &map_cut);
        }
        if (err == APP_OK)
            err = sbuf_putc(out, '}');
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

/* The boolean member name of obj (false when absent or not a boolean). */
static bool member_true(const char *doc, js_span obj, const char *name)
{
    js_iter it;
    js_iter_init(&it, doc, obj);
    js_span k, v;
    while (js_iter_next(&it, &k, &v))
        if (js_string_equals(doc, k, name) && v.type == JS_BOOL)
            return js_bool(doc, v);
    return false;
}

app_err hv_put_debug_info(sbuf *out, const char *doc, const hv_view *v)
{
    bool logs_cut = member_true(doc, v->debug_info, "logs_truncated");
    bool vars_cut = member_true(doc, v->debug_info, "variables_truncated");
    js_span logs = {JS_ARRAY, 0, 0}, vars = {JS_OBJECT, 0, 0};
    bool have_logs = false, have_vars = false;
    js_iter it;
    js_iter_init(&it, doc, v->debug_info);
    js_span k, val;
    while (js_iter_next(&it, &k, &val)) {
        if (!have_logs && js_string_equals(doc, k, "logs") && val.type == JS_ARRAY) {
            logs = val;
            have_logs = true;
        } else if (!have_vars && js_string_equals(doc, k, "variables") && val.type == JS_OBJECT) {
            vars = val;
            have_vars = true;
        }
    }
    app_err err = sbuf_puts(out, "{\"logs\":");
    if (err == APP_OK)
        err = have_logs ? put_entries(out, doc, logs, HV_MAX_DEBUG_LOGS, log_rules,
                                      HV_MAX_DEBUG_TEXT, NULL, 0, &logs_cut)
                        : sbuf_puts(out, "[]");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"variables\":");
    if (err == APP_OK)
        err = have_vars ? put_map(out, doc, vars, HV_MAX_DEBUG_VARIABLES, var_rules,
                                  HV_MAX_DEBUG_TEXT, &vars_cut)
                        : sbuf_puts(out, "{}");
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"logs_truncated\":%s,\"variables_truncated\":%s}",
                          logs_cut ? "true" : "false", vars_cut ? "true" : "false");
    return err;
}

app_err hv_put_steps(sbuf *out, const char *doc, const hv_view *v)
{
    bool cut = v->steps_truncated;
    app_err err = sbuf_puts(out, "\"steps\":");
    if (err == APP_OK)
        err = v->has_steps ? put_entries(out, doc, v->steps, HV_MAX_STEPS, step_rules,
                                         HV_MAX_STEP_TEXT, "variables", HV_MAX_STEP_VARIABLES, &cut)
                           : sbuf_puts(out, "[]");
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"steps_truncated\":%s", cut ? "true" : "false");
    return err;
}

bool hv_finite_number(const char *text, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0' && isfinite(*out);
}

/* For a number token too long to convert whole: whether its magnitude
 * passes a double's (integer digits + exponent above 308). */
static bool long_number_overflows(const char *t, size_t len)
{
    size_t k = t[0] == '-', digits = 0;
    while (k < len && t[k] == '0')
        k++;
    for (; k < len && t[k] >= '0' && t[k] <= '9'; k++)
        digits++;
    while (k < len && t[k] != 'e' && t[k] != 'E')
        k++;
    long exp = 0;
    if (k < len) {
        bool neg = ++k < len && t[k] == '-';
        k += k < len && (t[k] == '-' || t[k] == '+');
        for (; k < len && t[k] >= '0' && t[k] <= '9' && exp < 100000; k++)
            exp = exp * 10 + (t[k] - '0');
        exp = neg ? -exp : exp;
    }
    return (long)digits + exp > 309;
}

bool hv_has_nonfinite(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            while (j < len && s[j] != '\0' && strchr("+-.eE0123456789", s[j]) != NULL)
                j++;
            /* Integers are exact in JSON whatever their size (Python's own
             * big ints pass through the harness): only fractions and
             * exponents can overflow a double. */
            bool integer = true;
            for (size_t k = i; k < j && integer; k++)
                integer = s[k] != '.' && s[k] != 'e' && s[k] != 'E';
            double d;
            if (!integer && (j - i < 64 ? !hv_finite_number(s + i, j - i, &d)
                                        : long_number_overflows(s + i, j - i)))
                return true;
            i = j - 1;
        }
    }
    return false;
}

/* Whether arr is an array of strings only. */
static bool all_strings(const char *doc, js_span arr)
{
    js_iter it;
    js_iter_init(&it, doc, arr);
    js_span el;
    while (js_iter_next(&it, NULL, &el))
        if (el.type != JS_STRING)
            return false;
    return true;
}

/* Whether a finding has what the schema requires: a kind, a message and
 * columns that are strings. */
static bool is_finding(const char *doc, js_span el)
{
    if (el.type != JS_OBJECT)
        return false;
    bool kind = false, message = false, columns = true;
    js_iter it;
    js_iter_init(&it, doc, el);
    js_span k, v;
    while (js_iter_next(&it, &k, &v)) {
        kind |= js_string_equals(doc, k, "kind") && v.type == JS_STRING;
        message |= js_string_equals(doc, k, "message") && v.type == JS_STRING;
        if (js_string_equals(doc, k, "columns"))
            columns = columns && v.type == JS_ARRAY && all_strings(doc, v);
    }
    return kind && message && columns;
}

app_err hv_put_insights(sbuf *out, const char *doc, const hv_view *v)
{
    app_err err = sbuf_putc(out, '[');
    if (!v->has_insights)
        return err == APP_OK ? sbuf_putc(out, ']') : err;
    js_iter it;
    js_iter_init(&it, doc, v->insights);
    js_span el;
    size_t n = 0;
    while (err == APP_OK && n < HV_MAX_INSIGHTS && js_iter_next(&it, NULL, &el)) {
        if (!is_finding(doc, el))
            continue;
        if (n++ > 0)
            err = sbuf_putc(out, ',');
        if (err == APP_OK)
            err = put_filtered(out, doc, el, insight_rules);
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

void hv_summary(const char *json, size_t len, char *status, size_t slen, double *exec_ms,
                size_t *output_bytes)
{
    js_span root, k, v;
    char msg[APP_ERRMSG_LEN];
    snprintf(status, slen, "error");
    *exec_ms = -1;
    if (output_bytes != NULL)
        *output_bytes = 0;
    if (js_validate(json, len, &root, msg, sizeof msg) != APP_OK || root.type != JS_OBJECT)
        return;
    js_iter it;
    js_iter_init(&it, json, root);
    while (js_iter_next(&it, &k, &v)) {
        if (js_string_equals(json, k, "status") && v.type == JS_STRING && v.len - 2 < slen)
            snprintf(status, slen, "%.*s", (int)(v.len - 2), json + v.off + 1);
        else if (js_string_equals(json, k, "executionTime") && v.type == JS_NUMBER)
            *exec_ms = js_number(json, v);
        else if (output_bytes != NULL && js_string_equals(json, k, "output") && v.type == JS_STRING)
            *output_bytes = v.len - 2;
    }
}
