/* conf.c - service settings from the environment. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PYODIDE_VERSION
#error "PYODIDE_VERSION must be defined by the build"
#endif

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

bool conf_parse_size(const char *s, size_t *out)
{
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return false;
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024ull;
    else if (*end == 'M' || *end == 'm')
        mult = 1024ull * 1024;
    else if (*end == 'G' || *end == 'g')
        mult = 1024ull * 1024 * 1024;
    if (mult != 1)
        end++;
    if (*end != '\0' || v > SIZE_MAX / mult)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

/* An origin: scheme "http" or "https", host of [A-Za-z0-9.-] or a bracketed
 * IPv6 literal, optional :port; nothing else (no path, no quotes, no ';'),
 * so it can be pasted into a CSP header and compared with event.origin. */
static bool origin_valid(const char *o, size_t n)
{
    size_t i;
    if (n > 8 && strncmp(o, "https://", 8) == 0)
        i = 8;
    else if (n > 7 && strncmp(o, "http://", 7) == 0)
        i = 7;
    else
        return false;
    size_t host = i;
    if (o[i] == '[') {
        while (i < n && o[i] != ']') {
            if (!isxdigit((unsigned char)o[i]) && o[i] != ':' && o[i] != '[')
                return false;
            i++;
        }
        if (i >= n)
            return false;
        i++;
    } else {
        while (i < n && (isalnum((unsigned char)o[i]) || o[i] == '.' || o[i] == '-'))
            i++;
    }
    if (i == host)
        return false;
    if (i < n && o[i] == ':') {
        size_t p = ++i;
        while (i < n && isdigit((unsigned char)o[i]))
            i++;
        if (i == p || i - p > 5)
            return false;
    }
    return i == n;
}

/* The next space-separated word of *p (advanced past it) with its length
 * in *n, or NULL at the end. */
static const char *next_word(const char **p, size_t *n)
{
    const char *s = *p + strspn(*p, " ");
    if (*s == '\0')
        return NULL;
    *n = strcspn(s, " ");
    *p = s + *n;
    return s;
}

/* PYSANDBOX_FRAME_ANCESTORS: space-separated list of 'self', 'none' or origins. */
static bool frame_ancestors_valid(const char *v, char *msg, size_t msglen)
{
    size_t count = 0, n;
    bool none = false;
    const char *p = v, *start;
    while ((start = next_word(&p, &n)) != NULL) {
        count++;
        if (n == 6 && strncmp(start, "'none'", 6) == 0) {
            none = true;
        } else if (!(n == 6 && strncmp(start, "'self'", 6) == 0) && !origin_valid(start, n)) {
            snprintf(msg, msglen,
                     "PYSANDBOX_FRAME_ANCESTORS: '%.*s' is not 'self', 'none' or an origin "
                     "like https://app.example.com:8443",
                     (int)(n > 200 ? 200 : n), start);
            return false;
        }
    }
    if (count == 0) {
        snprintf(msg, msglen, "PYSANDBOX_FRAME_ANCESTORS is empty (use 'none' to forbid framing)");
        return false;
    }
    if (none && count > 1) {
        snprintf(msg, msglen, "PYSANDBOX_FRAME_ANCESTORS: 'none' cannot be combined with others");
        return false;
    }
    if (count > CONF_MAX_ORIGINS) {
        snprintf(msg, msglen, "PYSANDBOX_FRAME_ANCESTORS lists more than %d entries",
                 CONF_MAX_ORIGINS);
        return false;
    }
    return true;
}

/* PYSANDBOX_JUDGE0_CORS_ORIGINS: "*", "none", or space-separated origins. */
static bool cors_origins_valid(const char *v, char *msg, size_t msglen)
{
    if (strcmp(v, "*") == 0 || strcmp(v, "none") == 0)
        return true;
    size_t count = 0, n;
    const char *p = v, *start;
    while ((start = next_word(&p, &n)) != NULL) {
        if (!origin_valid(start, n)) {
            snprintf(msg, msglen,
                     "PYSANDBOX_JUDGE0_CORS_ORIGINS: '%.*s' is not an origin like "
                     "https://ide.example.com (or use '*' or 'none' alone)",
                     (int)(n > 200 ? 200 : n), start);
            return false;
        }
        count++;
    }
    if (count == 0 || count > CONF_MAX_ORIGINS) {
        snprintf(msg, msglen,
                 "PYSANDBOX_JUDGE0_CORS_ORIGINS must be '*', 'none' or 1 to %d origins",
                 CONF_MAX_ORIGINS);
        return false;
    }
    return true;
}

/* A URL we hand to the browser: a same-origin path or an http(s) URL, ending
 * in '/', with no characters that could break out of an attribute or header. */
static bool base_url_valid(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || v[n - 1] != '/')
        return false;
    if (v[0] != '/' && strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
        return false;
    if (v[0] == '/' && v[1] == '/')
        return false; /* scheme-relative: ambiguous */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\;,`{}|^", ch) != NULL)
            return false;
    }
    return true;
}

static APP_MUST_CHECK app_err dup_setting(char **dst, const char *value)
{
    *dst = strdup(value);
    return *dst == NULL ? APP_ENOMEM : APP_OK;
}

static APP_MUST_CHECK app_err path_setting(char **dst, const char *value, const char *root, const char *rel)
{
    if (value != NULL)
        return dup_setting(dst, value);
    size_t n = strlen(root) + strlen(rel) + 2;
    *dst = malloc(n);
    if (*dst == NULL)
        return APP_ENOMEM;
    snprintf(*dst, n, "%s/%s", root, rel);
    return APP_OK;
}

app_err conf_load(conf *c, const char *root, conf_lookup lookup, void *ctx, char *msg,
                  size_t msglen)
{
    memset(c, 0, sizeof *c);
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (lookup == NULL)
        lookup = env_lookup;

    static const char *const names[] = {
        "PYSANDBOX_TEMPLATES_DIR",        "PYSANDBOX_WEB_DIR",
        "PYSANDBOX_PYODIDE_PACKAGE_URL",  "PYSANDBOX_FRAME_ANCESTORS",
        "PYSANDBOX_EXECUTOR_SOCKET",      "PYSANDBOX_MAX_BODY_BYTES",
        "PYSANDBOX_PYODIDE_LOAD_TIMEOUT", "PYSANDBOX_RUN_DIR",
        "PYSANDBOX_MAX_WALL_TIME",     "PYSANDBOX_MAX_MEMORY_MB",
        "PYSANDBOX_POOL_SIZE",         "PYSANDBOX_MAX_JOBS",
        "PYSANDBOX_MAX_STREAMS",       "PYSANDBOX_STREAM_HEARTBEAT",
        "PYSANDBOX_QUEUE_TIMEOUT",     "PYSANDBOX_JAIL_UID_BASE",
        "PYSANDBOX_JAIL_TMP_MB",       "PYSANDBOX_PRECOPY",           "PYSANDBOX_DB",
        "PYSANDBOX_PYODIDE_DIR",
        "PYSANDBOX_STORE_CODE",        "PYSANDBOX_PUBLIC_URL",
        "PYSANDBOX_STATS_WINDOW",      "JUDGE0_API_URL",
        "JUDGE0_API_KEY",              "JUDGE0_LANGUAGE_ID",
        "JUDGE0_MAX_WALL_TIME",        "JUDGE0_MAX_MEMORY_MB",
        "JUDGE0_PACKAGES",             "PYSANDBOX_JUDGE0_CORS_ORIGINS",
        "PYSANDBOX_JUDGE0_AUTH_TOKEN",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = lookup(names[i], ctx);
        if (v != NULL && strlen(v) > CONF_MAX_VALUE) {
            snprintf(msg, msglen, "%s is longer than %d bytes", names[i], CONF_MAX_VALUE);
            return APP_ECONFIG;
        }
    }

    app_err err;
    if ((err = path_setting(&c->templates_dir, lookup("PYSANDBOX_TEMPLATES_DIR", ctx), root,
                            "templates")) != APP_OK ||
        (err = path_setting(&c->web_dir, lookup("PYSANDBOX_WEB_DIR", ctx), root, "web")) !=
            APP_OK ||
        (err = path_setting(&c->run_dir, lookup("PYSANDBOX_RUN_DIR", ctx), root, "run")) !=
            APP_OK ||
        (err = path_setting(&c->executor_socket, lookup("PYSANDBOX_EXECUTOR_SOCKET", ctx),
                            c->run_dir, "executor.sock")) != APP_OK ||
        (err = dup_setting(&c->pyodide_url, "/pyodide/" PYODIDE_VERSION "/")) != APP_OK ||
        (err = path_setting(&c->pyodide_dir, lookup("PYSANDBOX_PYODIDE_DIR", ctx), root,
                            "pyodide/dist/" PYODIDE_VERSION)) != APP_OK)
        return err;

    const char *pkg = lookup("PYSANDBOX_PYODIDE_PACKAGE_URL", ctx);
    if (pkg == NULL || pkg[0] == '\0')
        pkg = c->pyodide_url;
    if (!base_url_valid(pkg)) {
        snprintf(msg, msglen,
                 "PYSANDBOX_PYODIDE_PACKAGE_URL must be a path starting with '/' or an http(s) "
                 "URL, ending with '/', without quotes, spaces or ';'");
        return APP_ECONFIG;
    }
    if ((err = dup_setting(&c->package_url, pkg)) != APP_OK)
        return err;

    const char *fa = lookup("PYSANDBOX_FRAME_ANCESTORS", ctx);
    if (fa == NULL)
        fa = "'self'";
    if (!frame_ancestors_valid(fa, msg, msglen))
        return APP_ECONFIG;
    if ((err = dup_setting(&c->frame_ancestors, fa)) != APP_OK)
        return err;

    c->max_body = CONF_DEFAULT_MAX_BODY;
    const char *mb = lookup("PYSANDBOX_MAX_BODY_BYTES", ctx);
    if (mb != NULL && (!conf_parse_size(mb, &c->max_body) || c->max_body == 0 ||
                       c->max_body > CONF_MAX_MAX_BODY)) {
        snprintf(msg, msglen,
                 "PYSANDBOX_MAX_BODY_BYTES must be a size between 1 and %u bytes (K/M suffixes "
                 "allowed)",
                 CONF_MAX_MAX_BODY);
        return APP_ECONFIG;
    }

    c->pyodide_load_timeout_s = 60;
    const char *lt = lookup("PYSANDBOX_PYODIDE_LOAD_TIMEOUT", ctx);
    if (lt != NULL) {
        size_t v;
        if (!conf_parse_size(lt, &v) || v < 1 || v > 600) {
            snprintf(msg, msglen, "PYSANDBOX_PYODIDE_LOAD_TIMEOUT must be 1..600 seconds");
            return APP_ECONFIG;
        }
        c->pyodide_load_timeout_s = (unsigned)v;
    }

    static const struct {
        const char *name;
        unsigned def, min, max, scale;
        size_t off;
    } nums[] = {
        {"PYSANDBOX_MAX_WALL_TIME", 30, 1, 3600, 1000, offsetof(conf, max_wall_ms)},
        {"PYSANDBOX_MAX_MEMORY_MB", 512, 64, 65536, 1, offsetof(conf, max_memory_mb)},
        {"PYSANDBOX_POOL_SIZE", 4, 1, 64, 1, offsetof(conf, pool_size)},
        {"PYSANDBOX_MAX_JOBS", 8, 1, 256, 1, offsetof(conf, max_jobs)},
        {"PYSANDBOX_CLIENT_MAX_JOBS", 4, 1, 256, 1, offsetof(conf, client_max_jobs)},
        {"PYSANDBOX_MAX_STREAMS", 64, 0, 1024, 1, offsetof(conf, max_streams)},
        {"PYSANDBOX_STREAM_HEARTBEAT", 15, 1, 300, 1000, offsetof(conf, stream_heartbeat_ms)},
        {"PYSANDBOX_QUEUE_TIMEOUT", 10, 1, 600, 1000, offsetof(conf, queue_timeout_ms)},
        {"PYSANDBOX_JAIL_UID_BASE", 1500000000u, 100000u, 4000000000u, 1,
         offsetof(conf, jail_uid_base)},
        {"PYSANDBOX_JAIL_TMP_MB", 64, 1, 4096, 1, offsetof(conf, jail_tmp_mb)},
        {"PYSANDBOX_PRECOPY", 1, 0, 1, 1, offsetof(conf, precopy)},
        {"PYSANDBOX_MAX_SANDBOXES", 32, 0, 256, 1, offsetof(conf, max_sandboxes)},
        {"PYSANDBOX_SANDBOX_MEMORY_MB", 256, 32, 65536, 1, offsetof(conf, sandbox_memory_mb)},
        {"PYSANDBOX_SANDBOX_IDLE_TIMEOUT", 900, 1, 86400, 1, offsetof(conf, sandbox_idle_s)},
        {"PYSANDBOX_SANDBOX_LIFETIME", 3600, 1, 7 * 86400, 1, offsetof(conf, sandbox_life_s)},
        {"PYSANDBOX_STATS_WINDOW", 86400, 60, 90 * 86400, 1, offsetof(conf, stats_window_s)},
        {"PYSANDBOX_EXECUTION_RETENTION", CONF_DEFAULT_EXECUTION_RETENTION_S, 1,
         CONF_MAX_EXECUTION_RETENTION_S, 1, offsetof(conf, execution_retention_s)},
        {"PYSANDBOX_AGENT_DB_MAX_ROWS", 10000, 1, 1000000, 1, offsetof(conf, agent_db_max_rows)},
        {"PYSANDBOX_AGENT_DB_TIMEOUT", 5, 1, 300, 1000, offsetof(conf, agent_db_timeout_ms)},
        {"JUDGE0_LANGUAGE_ID", 71, 1, 10000, 1, offsetof(conf, judge0_language_id)},
        {"JUDGE0_MAX_WALL_TIME", 20, 1, 3600, 1000, offsetof(conf, judge0_max_wall_ms)},
        {"JUDGE0_MAX_MEMORY_MB", 256, 16, 65536, 1, offsetof(conf, judge0_max_memory_mb)},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        unsigned *field = (unsigned *)((char *)c + nums[i].off);
        const char *v = lookup(nums[i].name, ctx);
        size_t n = nums[i].def;
        if (v != NULL && (!conf_parse_size(v, &n) || n < nums[i].min || n > nums[i].max)) {
            snprintf(msg, msglen, "%s must be a number from %u to %u", nums[i].name, nums[i].min,
                     nums[i].max);
            return APP_ECONFIG;
        }
        *field = (unsigned)n * nums[i].scale;
    }

    if ((err = path_setting(&c->db_path, lookup("PYSANDBOX_DB", ctx), c->run_dir,
                            "pysandbox.db")) != APP_OK)
        return err;
    const char *sc = lookup("PYSANDBOX_STORE_CODE", ctx);
    if (sc != NULL && strcmp(sc, "0") != 0 && strcmp(sc, "1") != 0) {
        snprintf(msg, msglen, "PYSANDBOX_STORE_CODE must be 0 or 1");
        return APP_ECONFIG;
    }
    c->store_code = sc != NULL && strcmp(sc, "1") == 0;
    const char *pu = lookup("PYSANDBOX_PUBLIC_URL", ctx);
    if (pu != NULL && pu[0] != '\0') {
        if (!base_url_valid(pu) || pu[0] == '/') {
            snprintf(msg, msglen,
                     "PYSANDBOX_PUBLIC_URL must be an http(s) URL ending with '/', e.g. "
                     "https://sandbox.example.com/");
            return APP_ECONFIG;
        }
        if ((err = dup_setting(&c->public_url, pu)) != APP_OK)
            return err;
    }
    const char *ju = lookup("JUDGE0_API_URL", ctx);
    if (ju != NULL && ju[0] != '\0') {
        if ((strncmp(ju, "http://", 7) != 0 && strncmp(ju, "https://", 8) != 0) ||
            strpbrk(ju, " \"'<>\\") != NULL) {
            snprintf(msg, msglen, "JUDGE0_API_URL must be an http(s) URL");
            return APP_ECONFIG;
        }
        if ((err = dup_setting(&c->judge0_url, ju)) != APP_OK)
            return err;
        size_t n = strlen(c->judge0_url);
        while (n > 0 && c->judge0_url[n - 1] == '/')
            c->judge0_url[--n] = '\0'; /* paths are appended with their own '/' */
    }
    const char *jk = lookup("JUDGE0_API_KEY", ctx);
    if (jk != NULL && jk[0] != '\0') {
        if (strpbrk(jk, "\r\n") != NULL) {
            snprintf(msg, msglen, "JUDGE0_API_KEY must be one line");
            return APP_ECONFIG;
        }
        if ((err = dup_setting(&c->judge0_key, jk)) != APP_OK)
            return err;
    }
    const char *ad = lookup("PYSANDBOX_AGENT_DB", ctx);
    if (ad != NULL && ad[0] != '\0') {
        if (strpbrk(ad, "\r\n") != NULL || strcmp(ad, c->db_path) == 0) {
            snprintf(msg, msglen, "PYSANDBOX_AGENT_DB must be one line naming a SQLite file or a "
                                  "postgresql:// URL, and not the service's own store");
            return APP_ECONFIG;
        }
        if ((err = dup_setting(&c->agent_db, ad)) != APP_OK)
            return err;
    }
    const char *jp = lookup("JUDGE0_PACKAGES", ctx);
    if ((err = dup_setting(&c->judge0_packages, jp ? jp : "")) != APP_OK)
        return err;
    const char *jc = lookup("PYSANDBOX_JUDGE0_CORS_ORIGINS", ctx);
    if (jc == NULL)
        jc = "*";
    if (!cors_origins_valid(jc, msg, msglen))
        return APP_ECONFIG;
    if ((err = dup_setting(&c->judge0_cors_origins, strcmp(jc, "none") == 0 ? "" : jc)) != APP_OK)
        return err;
    const char *jt = lookup("PYSANDBOX_JUDGE0_AUTH_TOKEN", ctx);
    if (jt != NULL && jt[strspn(jt, " \t")] != '\0') {
        for (const char *q = jt; *q != '\0'; q++) {
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                snprintf(msg, msglen, "PYSANDBOX_JUDGE0_AUTH_TOKEN holds a control character: "
                                      "tokens are printable text separated by spaces");
                return APP_ECONFIG;
            }
        }
        if ((err = dup_setting(&c->judge0_auth_tokens, jt)) != APP_OK)
            return err;
    }
    return APP_OK;
}

void conf_free(conf *c)
{
    if (c == NULL)
        return;
    free(c->templates_dir);
    free(c->web_dir);
    free(c->pyodide_url);
    free(c->pyodide_dir);
    free(c->package_url);
    free(c->frame_ancestors);
    free(c->executor_socket);
    free(c->run_dir);
    free(c->db_path);
    free(c->public_url);
    free(c->judge0_url);
    free(c->judge0_key);
    free(c->judge0_packages);
    free(c->agent_db);
    free(c->judge0_cors_origins);
    free(c->judge0_auth_tokens);
    memset(c, 0, sizeof *c);
}

bool conf_list_has(const char *list, const char *word)
{
    size_t wlen = strlen(word), n;
    const char *p = list ? list : "", *start;
    while ((start = next_word(&p, &n)) != NULL)
        if (n == wlen && strncmp(start, word, n) == 0)
            return true;
    return false;
}

bool conf_origin_allowed(const conf *c, const char *origin)
{
    return origin[0] != '\'' && conf_list_has(c->frame_ancestors, origin);
}
