/*
 * dbwire.c - decoding the database requests a jailed program writes.
 */
#include "dbwire.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "sbuf.h"

_Static_assert(DBW_MAX_REQUEST <= XP_MAX_CODE, "an API request travels as a job's code");
_Static_assert(DBW_MAX_REQUEST <= XP_CHILD_FRAME_LEN, "a request's length fits its frame word");
_Static_assert(sizeof(dbw_hdr) == 48, "dbw_hdr has no padding");

const char *dbw_op_name(dbw_op op)
{
    switch (op) {
    case DBW_QUERY:
        return "query";
    case DBW_TABLES:
        return "tables";
    case DBW_SCHEMA:
        return "schema";
    }
    return "?";
}

void dbw_request_free(dbw_request *req)
{
    if (req == NULL)
        return;
    free(req->sql);
    free(req->table);
    for (size_t i = 0; i < req->nparams; i++) {
        free(req->params[i].name);
        free(req->params[i].text);
    }
    free(req->params);
    memset(req, 0, sizeof *req);
}

/* Decodes string span s into a fresh NUL-terminated block of at most cap
 * bytes; *has_nul reports a decoded NUL. */
static APP_MUST_CHECK app_err take_string(const char *doc, js_span s, size_t cap, char **out,
                                          size_t *len, bool *has_nul)
{
    sbuf b;
    sbuf_init(&b, cap);
    app_err e = js_string_decode(doc, s, &b, has_nul);
    if (e != APP_OK) {
        sbuf_free(&b);
        return e;
    }
    *out = sbuf_detach(&b, len);
    return *out != NULL ? APP_OK : APP_ENOMEM;
}

/* A JSON number's text is an integer when it has no fraction or exponent
 * and fits int64_t; anything else is a double. */
static APP_MUST_CHECK app_err take_number(const char *doc, js_span v, dbw_param *p)
{
    const char *t = doc + v.off;
    bool integral = memchr(t, '.', v.len) == NULL && memchr(t, 'e', v.len) == NULL &&
                    memchr(t, 'E', v.len) == NULL;
    if (integral && v.len < 32) {
        char buf[32];
        memcpy(buf, t, v.len);
        buf[v.len] = '\0';
        char *end;
        errno = 0;
        long long n = strtoll(buf, &end, 10);
        if (errno == 0 && *end == '\0') {
            p->type = DBW_INT;
            p->i = n;
            return APP_OK;
        }
    }
    p->type = DBW_REAL;
    p->r = js_number(doc, v);
    return isfinite(p->r) ? APP_OK : APP_EFIELD;
}

static APP_MUST_CHECK app_err take_value(const char *doc, js_span v, dbw_param *p, char *msg,
                                         size_t msglen)
{
    switch (v.type) {
    case JS_NULL:
        p->type = DBW_NULL;
        return APP_OK;
    case JS_BOOL:
        p->type = DBW_BOOL;
        p->i = js_bool(doc, v) ? 1 : 0;
        return APP_OK;
    case JS_NUMBER:
        if (take_number(doc, v, p) != APP_OK) {
            snprintf(msg, msglen, "a parameter is a number out of range");
            return APP_EFIELD;
        }
        return APP_OK;
    case JS_STRING: {
        p->type = DBW_TEXT;
        app_err e = take_string(doc, v, DBW_MAX_REQUEST, &p->text, &p->len, NULL);
        if (e != APP_OK)
            snprintf(msg, msglen, "a parameter's text could not be read");
        return e;
    }
    case JS_ARRAY:
    case JS_OBJECT:
        break;
    }
    snprintf(msg, msglen, "parameter values must be null, booleans, numbers or strings, not %ss",
             js_type_name(v.type));
    return APP_EFIELD;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > DBW_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static APP_MUST_CHECK app_err take_params(const char *doc, js_span ps, dbw_request *req, char *msg,
                                          size_t msglen)
{
    if (ps.type == JS_NULL)
        return APP_OK;
    if (ps.type != JS_OBJECT && ps.type != JS_ARRAY) {
        snprintf(msg, msglen, "params must be an object (named), an array (positional) or null");
        return APP_EFIELD;
    }
    req->named = ps.type == JS_OBJECT;
    js_iter it;
    js_span key, v;
    size_t n = 0;
    js_iter_init(&it, doc, ps);
    while (js_iter_next(&it, &key, &v))
        n++;
    if (n > DBW_MAX_PARAMS) {
        snprintf(msg, msglen, "more than %u parameters", DBW_MAX_PARAMS);
        return APP_ETOOBIG;
    }
    if (n == 0) {
        req->named = false; /* no parameters: neither named nor positional */
        return APP_OK;
    }
    if ((req->params = calloc(n, sizeof *req->params)) == NULL)
        return APP_ENOMEM;
    js_iter_init(&it, doc, ps);
    while (js_iter_next(&it, &key, &v)) {
        dbw_param *p = &req->params[req->nparams++];
        if (req->named) {
            size_t len;
            bool nul = false;
            app_err e = take_string(doc, key, DBW_MAX_NAME + 1, &p->name, &len, &nul);
            if (e == APP_ENOMEM)
                return e;
            /* ":id" and "id" name the same parameter, as in sqlite3's Python module. */
            const char *bare = p->name != NULL && p->name[0] == ':' ? p->name + 1 : p->name;
            if (e != APP_OK || nul || !name_ok(bare, strlen(bare))) {
                snprintf(msg, msglen,
                         "parameter names are letters, digits and '_' (at most %u bytes)",
                         DBW_MAX_NAME);
                return APP_EFIELD;
            }
            if (bare != p->name)
                memmove(p->name, bare, strlen(bare) + 1);
            for (size_t k = 0; k + 1 < req->nparams; k++)
                if (strcmp(req->params[k].name, p->name) == 0) {
                    snprintf(msg, msglen, "parameter :%s is given twice", p->name);
                    return APP_EFIELD;
                }
        }
        app_err e = take_value(doc, v, p, msg, msglen);
        if (e != APP_OK)
            return e;
    }
    return APP_OK;
}

static APP_MUST_CHECK app_err decode_members(const char *json, js_span root, dbw_request *req,
                                             char *msg, size_t msglen)
{
    js_span key, v, op = {0}, sql = {0}, params = {.type = JS_NULL}, table = {0};
    bool have_op = false, have_sql = false, have_table = false;
    js_iter it;
    js_iter_init(&it, json, root);
    while (js_iter_next(&it, &key, &v)) {
        js_span *slot = js_string_equals(json, key, "op")       ? (have_op = true, &op)
                        : js_string_equals(json, key, "sql")    ? (have_sql = true, &sql)
                        : js_string_equals(json, key, "params") ? &params
                        : js_string_equals(json, key, "table")  ? (have_table = true, &table)
                                                                : NULL;
        if (slot == NULL) {
            snprintf(msg, msglen, "unknown member in a database request");
            return APP_EFIELD;
        }
        *slot = v;
    }
    if (!have_op || op.type != JS_STRING) {
        snprintf(msg, msglen, "a database request needs op: \"query\", \"tables\" or \"schema\"");
        return APP_EFIELD;
    }
    if (js_string_equals(json, op, "query")) {
        req->op = DBW_QUERY;
        if (!have_sql || sql.type != JS_STRING || have_table) {
            snprintf(msg, msglen, "a query needs sql (a string) and optional params");
            return APP_EFIELD;
        }
        bool nul = false;
        app_err e = take_string(json, sql, DBW_MAX_SQL, &req->sql, &req->sql_len, &nul);
        if (e == APP_ETOOBIG)
            snprintf(msg, msglen, "the SQL text is longer than %u bytes", DBW_MAX_SQL);
        if (e != APP_OK)
            return e;
        if (nul || req->sql_len == 0) {
            snprintf(msg, msglen, "the SQL text is empty or holds a NUL character");
            return APP_EFIELD;
        }
        return take_params(json, params, req, msg, msglen);
    }
    if (have_sql || params.type != JS_NULL) {
        snprintf(msg, msglen, "only a query takes sql and params");
        return APP_EFIELD;
    }
    if (js_string_equals(json, op, "tables")) {
        req->op = DBW_TABLES;
        if (!have_table)
            return APP_OK;
    } else if (js_string_equals(json, op, "schema")) {
        req->op = DBW_SCHEMA;
        size_t len;
        bool nul = false;
        if (have_table && table.type == JS_STRING) {
            app_err e = take_string(json, table, DBW_MAX_NAME * 4, &req->table, &len, &nul);
            if (e == APP_ENOMEM)
                return e;
            if (e == APP_OK && !nul && len > 0)
                return APP_OK;
        }
        snprintf(msg, msglen, "schema needs table: a name of at most %u bytes", DBW_MAX_NAME * 4);
        return APP_EFIELD;
    }
    snprintf(msg, msglen, "a database request's op is \"query\", \"tables\" or \"schema\"");
    return APP_EFIELD;
}

app_err dbw_decode(const char *json, size_t n, dbw_request *req, char *msg, size_t msglen)
{
    memset(req, 0, sizeof *req);
    if (n > DBW_MAX_REQUEST) {
        snprintf(msg, msglen, "a database request is larger than %u bytes", DBW_MAX_REQUEST);
        return APP_ETOOBIG;
    }
    js_span root;
    app_err e = js_validate(json, n, &root, msg, msglen);
    if (e != APP_OK)
        return e;
    if (root.type != JS_OBJECT) {
        snprintf(msg, msglen, "a database request is a JSON object");
        return APP_EFIELD;
    }
    e = decode_members(json, root, req, msg, msglen);
    if (e == APP_ENOMEM)
        snprintf(msg, msglen, "out of memory");
    return e;
}
