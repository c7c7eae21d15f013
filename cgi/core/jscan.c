/* jscan.c - strict JSON validator and span scanner. */
#include "jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct scanner {
    const unsigned char *p;
    size_t n;
    size_t pos;
    app_err err;
    char *msg;
    size_t msglen;
} scanner;

static bool fail(scanner *s, app_err err, const char *what)
{
    if (s->err == APP_OK) {
        s->err = err;
        if (s->msg != NULL && s->msglen > 0) {
            if (s->pos >= s->n)
                snprintf(s->msg, s->msglen, "malformed JSON: %s at end of input", what);
            else
                snprintf(s->msg, s->msglen, "malformed JSON at byte %zu: %s", s->pos, what);
        }
    }
    return false;
}

static void skip_ws(scanner *s)
{
    while (s->pos < s->n) {
        unsigned char c = s->p[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        s->pos++;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u" at s->pos; returns -1 if malformed. */
static long read_hex4(scanner *s)
{
    if (s->n - s->pos < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s->p[s->pos + (size_t)i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    s->pos += 4;
    return v;
}

static bool scan_string(scanner *s)
{
    s->pos++; /* opening quote */
    for (;;) {
        if (s->pos >= s->n)
            return fail(s, APP_EJSON, "unterminated string");
        unsigned char c = s->p[s->pos];
        if (c == '"') {
            s->pos++;
            return true;
        }
        if (c < 0x20)
            return fail(s, APP_EJSON, "control character inside a string (escape it)");
        if (c == '\\') {
            s->pos++;
            if (s->pos >= s->n)
                return fail(s, APP_EJSON, "unterminated escape");
            c = s->p[s->pos];
            if (c == 'u') {
                s->pos++;
                long u = read_hex4(s);
                if (u < 0)
                    return fail(s, APP_EJSON, "\\u must be followed by four hex digits");
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return fail(s, APP_EJSON, "lone low surrogate in \\u escape");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (s->n - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
                        return fail(s, APP_EJSON, "lone high surrogate in \\u escape");
                    s->pos += 2;
                    long lo = read_hex4(s);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(s, APP_EJSON, "high surrogate not followed by a low surrogate");
                }
                continue;
            }
            if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
                return fail(s, APP_EJSON, "invalid escape sequence");
            s->pos++;
            continue;
        }
        if (c < 0x80) {
            s->pos++;
            continue;
        }
        unsigned cp;
        size_t len = utf8_decode(s->p + s->pos, s->n - s->pos, &cp);
        if (len == 0)
            return fail(s, APP_EUTF8, "invalid UTF-8 byte");
        s->pos += len;
    }
}

static bool scan_digits(scanner *s)
{
    size_t start = s->pos;
    while (s->pos < s->n && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
        s->pos++;
    return s->pos > start;
}

static bool scan_number(scanner *s)
{
    if (s->p[s->pos] == '-')
        s->pos++;
    if (s->pos >= s->n)
        return fail(s, APP_EJSON, "digit expected");
    if (s->p[s->pos] == '0') {
        s->pos++;
    } else if (!scan_digits(s)) {
        return fail(s, APP_EJSON, "digit expected");
    }
    if (s->pos < s->n && s->p[s->pos] == '.') {
        s->pos++;
        if (!scan_digits(s))
            return fail(s, APP_EJSON, "digit expected after decimal point");
    }
    if (s->pos < s->n && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
        s->pos++;
        if (s->pos < s->n && (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
            s->pos++;
        if (!scan_digits(s))
            return fail(s, APP_EJSON, "digit expected in exponent");
    }
    return true;
}

static bool scan_literal(scanner *s, const char *word)
{
    size_t len = strlen(word);
    if (s->n - s->pos < len || memcmp(s->p + s->pos, word, len) != 0)
        return fail(s, APP_EJSON, "unexpected character");
    s->pos += len;
    return true;
}

static bool scan_value(scanner *s, int depth, js_span *out);

static bool scan_container(scanner *s, int depth, bool object)
{
    if (depth >= JS_MAX_DEPTH)
        return fail(s, APP_EJSON, "nested too deeply");
    char close = object ? '}' : ']';
    s->pos++; /* opening bracket */
    skip_ws(s);
    if (s->pos < s->n && s->p[s->pos] == (unsigned char)close) {
        s->pos++;
        return true;
    }
    for (;;) {
        if (object) {
            skip_ws(s);
            if (s->pos >= s->n || s->p[s->pos] != '"')
                return fail(s, APP_EJSON, "expected a string key");
            if (!scan_string(s))
                return false;
            skip_ws(s);
            if (s->pos >= s->n || s->p[s->pos] != ':')
                return fail(s, APP_EJSON, "expected ':' after key");
            s->pos++;
        }
        js_span ignored;
        if (!scan_value(s, depth + 1, &ignored))
            return false;
        skip_ws(s);
        if (s->pos >= s->n)
            return fail(s, APP_EJSON, object ? "expected ',' or '}'" : "expected ',' or ']'");
        unsigned char c = s->p[s->pos];
        if (c == ',') {
            s->pos++;
            continue;
        }
        if (c == (unsigned char)close) {
            s->pos++;
            return true;
        }
        return fail(s, APP_EJSON, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool scan_value(scanner *s, int depth, js_span *out)
{
    skip_ws(s);
    if (s->pos >= s->n)
        return fail(s, APP_EJSON, "value expected");
    size_t start = s->pos;
    unsigned char c = s->p[s->pos];
    bool ok;
    js_type type;
    switch (c) {
    case '{':
        type = JS_OBJECT;
        ok = scan_container(s, depth, true);
        break;
    case '[':
        type = JS_ARRAY;
        ok = scan_container(s, depth, false);
        break;
    case '"':
        type = JS_STRING;
        ok = scan_string(s);
        break;
    case 't':
        type = JS_BOOL;
        ok = scan_literal(s, "true");
        break;
    case 'f':
        type = JS_BOOL;
        ok = scan_literal(s, "false");
        break;
    case 'n':
        type = JS_NULL;
        ok = scan_literal(s, "null");
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            type = JS_NUMBER;
            ok = scan_number(s);
        } else if (c >= 0x80 &&
                   !utf8_valid(s->p + s->pos, s->n - s->pos > 4 ? 4 : s->n - s->pos, NULL)) {
            return fail(s, APP_EUTF8, "invalid UTF-8 byte");
        } else if (c == ']' || c == '}' || c == ',' || c == ':') {
            return fail(s, APP_EJSON, "value expected");
        } else {
            return fail(s, APP_EJSON, "unexpected character");
        }
    }
    if (!ok)
        return false;
    out->type = type;
    out->off = start;
    out->len = s->pos - start;
    return true;
}

app_err js_validate(const char *doc, size_t n, js_span *root, char *msg, size_t msglen)
{
    scanner s = {(const unsigned char *)doc, n, 0, APP_OK, msg, msglen};
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    /* Invalid UTF-8 anywhere (even between tokens) is reported as such. */
    size_t bad;
    if (!utf8_valid(doc, n, &bad)) {
        s.pos = bad;
        fail(&s, APP_EUTF8, "invalid UTF-8 byte");
        return s.err;
    }
    skip_ws(&s);
    if (s.pos >= n) {
        fail(&s, APP_EJSON, "the body is empty");
        return s.err;
    }
    if (!scan_value(&s, 0, root))
        return s.err;
    skip_ws(&s);
    if (s.pos != n) {
        fail(&s, APP_EJSON, "unexpected data after the JSON value");
        return s.err;
    }
    return APP_OK;
}

const char *js_type_name(js_type t)
{
    switch (t) {
    case JS_NULL:
        return "null";
    case JS_BOOL:
        return "boolean";
    case JS_NUMBER:
        return "number";
    case JS_STRING:
        return "string";
    case JS_ARRAY:
        return "array";
    case JS_OBJECT:
        return "object";
    }
    return "unknown";
}

/* Iteration over validated bytes: only structure needs tracking. */

static size_t iter_skip_ws(const char *d, size_t pos, size_t end)
{
    while (pos < end && (d[pos] == ' ' || d[pos] == '\t' || d[pos] == '\n' || d[pos] == '\r'))
        pos++;
    return pos;
}

/* Returns the offset just past the string starting at pos. */
static size_t iter_skip_string(const char *d, size_t pos)
{
    pos++;
    while (d[pos] != '"') {
        if (d[pos] == '\\')
            pos++;
        pos++;
    }
    return pos + 1;
}

/* Returns the type of the value at pos and stores its end in *after. */
static js_type iter_skip_value(const char *d, size_t pos, size_t *after)
{
    char c = d[pos];
    if (c == '"') {
        *after = iter_skip_string(d, pos);
        return JS_STRING;
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        do {
            char x = d[pos];
            if (x == '"') {
                pos = iter_skip_string(d, pos);
                continue;
            }
            if (x == '{' || x == '[')
                depth++;
            else if (x == '}' || x == ']')
                depth--;
            pos++;
        } while (depth > 0);
        *after = pos;
        return c == '{' ? JS_OBJECT : JS_ARRAY;
    }
    js_type t = c == 't' || c == 'f' ? JS_BOOL : c == 'n' ? JS_NULL : JS_NUMBER;
    while (d[pos] != ',' && d[pos] != '}' && d[pos] != ']' && d[pos] != ' ' && d[pos] != '\t' &&
           d[pos] != '\n' && d[pos] != '\r' && d[pos] != '\0')
        pos++;
    *after = pos;
    return t;
}

void js_iter_init(js_iter *it, const char *doc, js_span container)
{
    it->doc = doc;
    it->object = container.type == JS_OBJECT;
    if (container.type != JS_OBJECT && container.type != JS_ARRAY) {
        it->pos = it->end = 0;
        return;
    }
    it->pos = container.off + 1;
    it->end = container.off + container.len - 1;
}

bool js_iter_next(js_iter *it, js_span *key, js_span *value)
{
    const char *d = it->doc;
    size_t pos = iter_skip_ws(d, it->pos, it->end);
    if (pos < it->end && d[pos] == ',')
        pos = iter_skip_ws(d, pos + 1, it->end);
    if (pos >= it->end)
        return false;
    if (it->object) {
        size_t kend = iter_skip_string(d, pos);
        if (key != NULL) {
            key->type = JS_STRING;
            key->off = pos;
            key->len = kend - pos;
        }
        pos = iter_skip_ws(d, kend, it->end);
        pos = iter_skip_ws(d, pos + 1, it->end); /* past ':' */
    }
    size_t after;
    value->type = iter_skip_value(d, pos, &after);
    value->off = pos;
    value->len = after - pos;
    it->pos = after;
    return true;
}

app_err js_string_decode(const char *doc, js_span s, sbuf *out, bool *has_nul)
{
    const unsigned char *p = (const unsigned char *)doc + s.off + 1;
    const unsigned char *end = (const unsigned char *)doc + s.off + s.len - 1;
    bool nul = false;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p != '\\')
            p++;
        app_err err = sbuf_append(out, run, (size_t)(p - run));
        if (err != APP_OK)
            return err;
        if (p >= end)
            break;
        p++; /* backslash */
        unsigned char c = *p++;
        unsigned char buf[4];
        size_t blen = 1;
        switch (c) {
        case 'b':
            buf[0] = '\b';
            break;
        case 'f':
            buf[0] = '\f';
            break;
        case 'n':
            buf[0] = '\n';
            break;
        case 'r':
            buf[0] = '\r';
            break;
        case 't':
            buf[0] = '\t';
            break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++)
                cp = cp * 16 + (unsigned)hexval(*p++);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = 0;
                p += 2; /* "\u" */
                for (int i = 0; i < 4; i++)
                    lo = lo * 16 + (unsigned)hexval(*p++);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0)
                nul = true;
            blen = utf8_encode(cp, buf);
            break;
        }
        default: /* '"', '\\', '/' */
            buf[0] = c;
            break;
        }
        err = sbuf_append(out, buf, blen);
        if (err != APP_OK)
            return err;
    }
    if (has_nul != NULL)
        *has_nul = nul;
    return APP_OK;
}

bool js_string_equals(const char *doc, js_span s, const char *name)
{
    size_t nlen = strlen(name);
    /* Fast path: no escapes, compare raw bytes. */
    if (s.len == nlen + 2 && memchr(doc + s.off, '\\', s.len) == NULL)
        return memcmp(doc + s.off + 1, name, nlen) == 0;
    if (memchr(doc + s.off, '\\', s.len) == NULL)
        return false;
    sbuf b;
    sbuf_init(&b, nlen + 8);
    bool nul = false;
    bool eq = js_string_decode(doc, s, &b, &nul) == APP_OK && !nul && b.len == nlen &&
              memcmp(sbuf_str(&b), name, nlen) == 0;
    sbuf_free(&b);
    return eq;
}

double js_number(const char *doc, js_span s)
{
    char buf[64];
    if (s.len >= sizeof buf) {
        /* Very long spellings (e.g. 1e-9999 with many digits) still parse. */
        char *tmp = malloc(s.len + 1);
        if (tmp == NULL)
            return 0.0;
        memcpy(tmp, doc + s.off, s.len);
        tmp[s.len] = '\0';
        double v = strtod(tmp, NULL);
        free(tmp);
        return v;
    }
    memcpy(buf, doc + s.off, s.len);
    buf[s.len] = '\0';
    return strtod(buf, NULL);
}

bool js_bool(const char *doc, js_span s)
{
    return doc[s.off] == 't';
}
