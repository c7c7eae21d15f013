/* reqs.c - the "requirements" object of execution requests. */
#include "reqs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"
#include "sbuf.h"

void reqs_init(reqs *r)
{
    memset(r, 0, sizeof *r);
    r->data_size_mb = -1;
    r->fallback_allowed = true;
    r->output_format = FORMAT_JSON;
    r->preferred_engine = ENGINE_AUTO;
}

const char *reqs_engine_name(reqs_engine e)
{
    switch (e) {
    case ENGINE_BROWSER:
        return "browser";
    case ENGINE_NATIVE:
        return "native";
    case ENGINE_JUDGE0:
        return "judge0";
    case ENGINE_AUTO:
        break;
    }
    return "auto";
}

static APP_MUST_CHECK app_err want_type(const char *name, js_span v, js_type t, char *msg, size_t msglen)
{
    if (v.type == t)
        return APP_OK;
    snprintf(msg, msglen, "requirements.%s must be %s%s, not %s", name,
             t == JS_ARRAY ? "an " : "a ", js_type_name(t), js_type_name(v.type));
    return APP_EFIELD;
}

static APP_MUST_CHECK app_err positive(const char *doc, const char *name, js_span v, bool zero_ok, double *out,
                        char *msg, size_t msglen)
{
    app_err err = want_type(name, v, JS_NUMBER, msg, msglen);
    if (err != APP_OK)
        return err;
    double d = js_number(doc, v);
    if (!isfinite(d) || d < 0 || (!zero_ok && d == 0) || d > 1e9) {
        snprintf(msg, msglen, "requirements.%s must be a %s number", name,
                 zero_ok ? "non-negative" : "positive");
        return APP_EFIELD;
    }
    *out = d;
    return APP_OK;
}

/* Decodes a short enumerated string and finds it in values; returns its index. */
static APP_MUST_CHECK app_err choice(const char *doc, const char *name, js_span v, const char *const *values,
                      int *out, char *msg, size_t msglen)
{
    app_err err = want_type(name, v, JS_STRING, msg, msglen);
    if (err != APP_OK)
        return err;
    for (int i = 0; values[i] != NULL; i++) {
        if (js_string_equals(doc, v, values[i])) {
            *out = i;
            return APP_OK;
        }
    }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; values[i] != NULL && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", values[i]);
    snprintf(msg, msglen, "requirements.%s must be one of: %s", name, list);
    return APP_EFIELD;
}

static bool package_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > REQS_MAX_PACKAGE_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static APP_MUST_CHECK app_err packages(const char *doc, js_span v, reqs *r, char *msg, size_t msglen)
{
    app_err err = want_type("packages", v, JS_ARRAY, msg, msglen);
    if (err != APP_OK)
        return err;
    js_iter it;
    js_iter_init(&it, doc, v);
    js_span el;
    while (js_iter_next(&it, NULL, &el)) {
        if (r->npackages == REQS_MAX_PACKAGES) {
            snprintf(msg, msglen, "requirements.packages lists more than %d names",
                     REQS_MAX_PACKAGES);
            return APP_EFIELD;
        }
        sbuf name;
        sbuf_init(&name, REQS_MAX_PACKAGE_NAME);
        bool nul = false;
        err = el.type == JS_STRING ? js_string_decode(doc, el, &name, &nul) : APP_EFIELD;
        if (err != APP_OK || nul || !package_name_ok(sbuf_str(&name), name.len)) {
            sbuf_free(&name);
            snprintf(msg, msglen,
                     "requirements.packages[%zu] must be a package name (letters, digits, _ - .)",
                     r->npackages);
            return APP_EFIELD;
        }
        memcpy(r->packages[r->npackages++], sbuf_str(&name), name.len + 1);
        sbuf_free(&name);
    }
    return APP_OK;
}

app_err reqs_decode(const char *doc, size_t len, reqs *r, char *msg, size_t msglen)
{
    static const char *const levels[] = {"low", "medium", "high", NULL};
    static const char *const formats[] = {"json", "text", "html", NULL};
    static const char *const engines[] = {"auto", "browser", "native", "judge0", NULL};
    static const char *const bools[] = {"cpuIntensive", "networkAccess", "fileSystemAccess",
                                        "fallbackAllowed", "concurrent", "debug",
                                        "insights"};
    reqs_init(r);
    js_span root;
    app_err err = js_validate(doc, len, &root, msg, msglen);
    if (err != APP_OK)
        return err;
    if (root.type == JS_NULL)
        return APP_OK;
    if (root.type != JS_OBJECT) {
        snprintf(msg, msglen, "requirements must be an object, not %s", js_type_name(root.type));
        return APP_EFIELD;
    }
    bool *bool_fields[] = {&r->cpu_intensive, &r->network_access, &r->file_system_access,
                           &r->fallback_allowed, &r->concurrent, &r->debug,
                           &r->insights};
    js_iter it;
    js_iter_init(&it, doc, root);
    js_span k, v;
    while (js_iter_next(&it, &k, &v)) {
        int idx = -1;
        for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
            if (js_string_equals(doc, k, bools[i]))
                idx = (int)i;
        if (idx >= 0) {
            err = want_type(bools[idx], v, JS_BOOL, msg, msglen);
            if (err == APP_OK)
                *bool_fields[idx] = js_bool(doc, v);
        } else if (js_string_equals(doc, k, "maxExecutionTime")) {
            err = positive(doc, "maxExecutionTime", v, false, &r->max_time_s, msg, msglen);
        } else if (js_string_equals(doc, k, "maxMemoryUsage")) {
            err = positive(doc, "maxMemoryUsage", v, false, &r->max_memory_mb, msg, msglen);
        } else if (js_string_equals(doc, k, "maxCpuTime")) {
            err = positive(doc, "maxCpuTime", v, false, &r->max_cpu_s, msg, msglen);
        } else if (js_string_equals(doc, k, "dataSize")) {
            err = positive(doc, "dataSize", v, true, &r->data_size_mb, msg, msglen);
        } else if (js_string_equals(doc, k, "securityLevel")) {
            int i = 0;
            err = choice(doc, "securityLevel", v, levels, &i, msg, msglen);
            r->security_level = (reqs_level)(i + 1);
        } else if (js_string_equals(doc, k, "outputFormat")) {
            int i = 0;
            err = choice(doc, "outputFormat", v, formats, &i, msg, msglen);
            r->output_format = (reqs_format)i;
        } else if (js_string_equals(doc, k, "preferredEngine")) {
            int i = 0;
            err = choice(doc, "preferredEngine", v, engines, &i, msg, msglen);
            r->preferred_engine = (reqs_engine)i;
        } else if (js_string_equals(doc, k, "packages")) {
            err = packages(doc, v, r, msg, msglen);
        } else {
            sbuf name;
            sbuf_init(&name, 64);
            /* A name over 64 bytes is quoted empty: the message stays short. */
            app_ignore(js_string_decode(doc, k, &name, NULL));
            snprintf(msg, msglen, "unknown field requirements.%.64s", sbuf_str(&name));
            sbuf_free(&name);
            err = APP_EFIELD;
        }
        if (err != APP_OK)
            return err;
    }
    return APP_OK;
}
