/* body.c - top-level fields of JSON and form-encoded request bodies. */
#include "body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "http.h"
#include "sbuf.h"

typedef struct field {
    char *name;       /* From malloc(): decoded field name */
    const char *text; /* JSON body: points into the caller's data; form: == own */
    size_t len;
    js_type type; /* JSON body: the value's type; form: JS_STRING (raw text) */
    char *own;    /* form bodies: From malloc(): the decoded value */
} field;

struct body {
    bool form;
    size_t n;
    field f[BODY_MAX_FIELDS];
};

void body_free(body *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->f[i].name);
        free(b->f[i].own);
    }
    free(b);
}

static field *find(const body *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->f[i].name, name) == 0)
            return (field *)&b->f[i];
    return NULL;
}

/* Names in messages are user text: quote at most 64 bytes of them. */
#define NAME_FMT "'%.64s'"

static APP_MUST_CHECK app_err add_field(body *b, char *name, char *msg, size_t msglen, field **out)
{
    if (find(b, name) != NULL) {
        snprintf(msg, msglen, "field " NAME_FMT " appears more than once", name);
        free(name);
        return APP_EFIELD;
    }
    if (b->n == BODY_MAX_FIELDS) {
        snprintf(msg, msglen, "more than %d fields", BODY_MAX_FIELDS);
        free(name);
        return APP_ETOOBIG;
    }
    field *f = &b->f[b->n++];
    memset(f, 0, sizeof *f);
    f->name = name;
    *out = f;
    return APP_OK;
}

static APP_MUST_CHECK app_err form_field(void *ctx, const char *name, size_t name_len, const char *value,
                          size_t value_len, char *msg, size_t msglen)
{
    body *b = ctx;
    char *n = malloc(name_len + 1);
    char *v = malloc(value_len + 1);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return APP_ENOMEM;
    }
    memcpy(n, name, name_len + 1);
    memcpy(v, value, value_len + 1);
    field *f;
    app_err err = add_field(b, n, msg, msglen, &f);
    if (err != APP_OK) {
        free(v);
        return err;
    }
    f->own = v;
    f->text = v;
    f->len = value_len;
    f->type = JS_STRING;
    return APP_OK;
}

static APP_MUST_CHECK app_err json_fields(body *b, const char *data, size_t len, char *msg, size_t msglen)
{
    js_span root;
    app_err err = js_validate(data, len, &root, msg, msglen);
    if (err != APP_OK)
        return err;
    if (root.type != JS_OBJECT) {
        snprintf(msg, msglen, "the body must be a JSON object, not %s", js_type_name(root.type));
        return APP_EFIELD;
    }
    js_iter it;
    js_iter_init(&it, data, root);
    js_span key, value;
    while (js_iter_next(&it, &key, &value)) {
        sbuf name;
        sbuf_init(&name, 256);
        bool nul = false;
        err = js_string_decode(data, key, &name, &nul);
        if (err == APP_ETOOBIG || nul) {
            sbuf_free(&name);
            snprintf(msg, msglen, "a field name is longer than 256 bytes or holds NUL");
            return APP_EFIELD;
        }
        if (err != APP_OK) {
            sbuf_free(&name);
            return err;
        }
        char *n = sbuf_detach(&name, NULL);
        if (n == NULL)
            return APP_ENOMEM;
        field *f;
        err = add_field(b, n, msg, msglen, &f);
        if (err != APP_OK)
            return err;
        f->text = data + value.off;
        f->len = value.len;
        f->type = value.type;
    }
    return APP_OK;
}

app_err body_decode(const char *content_type, const char *data, size_t len, body **out, char *msg,
                    size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    char media[64];
    form_media_type(content_type, media, sizeof media);
    bool form = strcmp(media, "application/x-www-form-urlencoded") == 0;
    bool json = strcmp(media, "application/json") == 0;
    /* `curl -d '{"code": ...}'` labels JSON as a form.  No form body starts
     * with '{' (browsers percent-encode it), so such a body is read as JSON. */
    size_t first = 0;
    while (first < len && (data[first] == ' ' || data[first] == '\n' || data[first] == '\r' ||
                           data[first] == '\t'))
        first++;
    if (form && first < len && data[first] == '{') {
        form = false;
        json = true;
    }
    if (!form && !json) {
        snprintf(msg, msglen,
                 "Content-Type must be application/json or application/x-www-form-urlencoded, "
                 "not '%.64s'",
                 media[0] != '\0' ? media : "(none)");
        return APP_EMEDIA;
    }
    body *b = calloc(1, sizeof *b);
    if (b == NULL)
        return APP_ENOMEM;
    b->form = form;
    app_err err = APP_OK;
    if (len > 0 || json)
        err = form ? form_parse(data, len, form_field, b, msg, msglen)
                   : json_fields(b, data, len, msg, msglen);
    if (err != APP_OK) {
        body_free(b);
        return err;
    }
    *out = b;
    return APP_OK;
}

bool body_is_form(const body *b)
{
    return b->form;
}

bool body_has(const body *b, const char *name)
{
    return find(b, name) != NULL;
}

app_err body_only(const body *b, const char *const *names, size_t count, char *msg, size_t msglen)
{
    for (size_t i = 0; i < b->n; i++) {
        size_t j;
        for (j = 0; j < count; j++)
            if (strcmp(b->f[i].name, names[j]) == 0)
                break;
        if (j == count) {
            snprintf(msg, msglen, "unknown field " NAME_FMT, b->f[i].name);
            return APP_EFIELD;
        }
    }
    return APP_OK;
}

app_err body_string(const body *b, const char *name, size_t max, char **out, size_t *len, char *msg,
                    size_t msglen)
{
    *out = NULL;
    *len = 0;
    field *f = find(b, name);
    if (f == NULL || (!b->form && f->type == JS_NULL))
        return APP_OK;
    if (!b->form && f->type != JS_STRING) {
        snprintf(msg, msglen, "field '%s' must be a string, not %s", name, js_type_name(f->type));
        return APP_EFIELD;
    }
    sbuf s;
    sbuf_init(&s, max);
    bool nul = false;
    app_err err =
        b->form ? sbuf_append(&s, f->text, f->len)
                : js_string_decode(f->text, (js_span){.type = JS_STRING, .off = 0, .len = f->len},
                                   &s, &nul);
    if (b->form)
        nul = memchr(f->text, '\0', f->len) != NULL;
    if (err == APP_ETOOBIG) {
        sbuf_free(&s);
        snprintf(msg, msglen, "field '%s' is longer than %zu bytes", name, max);
        return APP_ETOOBIG;
    }
    if (err != APP_OK) {
        sbuf_free(&s);
        return err;
    }
    if (nul) {
        sbuf_free(&s);
        snprintf(msg, msglen, "field '%s' contains a NUL character", name);
        return APP_EFIELD;
    }
    *out = sbuf_detach(&s, len);
    return *out == NULL ? APP_ENOMEM : APP_OK;
}

app_err body_json(const body *b, const char *name, size_t max, const char **text, size_t *len,
                  js_type *type, char *msg, size_t msglen)
{
    field *f = find(b, name);
    if (f == NULL)
        return APP_ENOTFOUND;
    if (f->len > max) {
        snprintf(msg, msglen, "field '%s' is larger than %zu bytes", name, max);
        return APP_ETOOBIG;
    }
    if (b->form) {
        js_span root;
        char detail[APP_ERRMSG_LEN];
        app_err err = js_validate(f->text, f->len, &root, detail, sizeof detail);
        if (err != APP_OK) {
            snprintf(msg, msglen, "field '%s': %s", name, detail);
            return err;
        }
        *text = f->text + root.off;
        *len = root.len;
        *type = root.type;
        return APP_OK;
    }
    *text = f->text;
    *len = f->len;
    *type = f->type;
    return APP_OK;
}
