/* tmpl.c - HTML templates with context-aware escaping. */
#include "tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum slot_kind { SLOT_HTML, SLOT_JSON } slot_kind;

typedef struct slot {
    size_t text_off; /* literal text before the placeholder */
    size_t text_len;
    slot_kind kind;
    size_t var; /* index into the declared names */
} slot;

struct tmpl {
    char *text; /* From malloc(): the template file */
    size_t len;
    slot slots[TMPL_MAX_SLOTS];
    size_t nslots;
    size_t tail_off;          /* literal text after the last placeholder */
    const char *const *names; /* borrowed: the caller's static list */
    size_t nnames;
};

app_err tmpl_escape_html(sbuf *out, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        app_err err = sbuf_append(out, s + run, i - run);
        if (err == APP_OK)
            err = sbuf_puts(out, rep);
        if (err != APP_OK)
            return err;
        run = i + 1;
    }
    return sbuf_append(out, s + run, n - run);
}

app_err tmpl_escape_script_json(sbuf *out, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        size_t skip = 1;
        unsigned char c = (unsigned char)s[i];
        if (c == '<') {
            rep = "\\u003c";
        } else if (c == '>') {
            rep = "\\u003e";
        } else if (c == '&') {
            rep = "\\u0026";
        } else if (c == 0xE2 && n - i >= 3 && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            rep = (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
            skip = 3;
        } else {
            continue;
        }
        app_err err = sbuf_append(out, s + run, i - run);
        if (err == APP_OK)
            err = sbuf_puts(out, rep);
        if (err != APP_OK)
            return err;
        i += skip - 1;
        run = i + 1;
    }
    return sbuf_append(out, s + run, n - run);
}

app_err tmpl_parse(const char *text, size_t len, const char *const *names, size_t count, tmpl **out,
                   char *msg, size_t msglen)
{
    app_err err = APP_OK;
    tmpl *t = calloc(1, sizeof *t);
    if (t == NULL)
        return APP_ENOMEM;
    t->text = malloc(len + 1);
    if (t->text == NULL) {
        err = APP_ENOMEM;
        goto out;
    }
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->len = len;
    t->names = names;
    t->nnames = count;

    size_t pos = 0;
    for (;;) {
        const char *open = strstr(t->text + pos, "{{");
        if (open == NULL)
            break;
        size_t at = (size_t)(open - t->text);
        const char *close = strstr(open + 2, "}}");
        if (close == NULL) {
            snprintf(msg, msglen, "unclosed '{{' at byte %zu", at);
            err = APP_ECONFIG;
            goto out;
        }
        if (t->nslots == TMPL_MAX_SLOTS) {
            snprintf(msg, msglen, "more than %d placeholders", TMPL_MAX_SLOTS);
            err = APP_ETOOBIG;
            goto out;
        }
        slot *sl = &t->slots[t->nslots];
        const char *spec = open + 2;
        size_t speclen = (size_t)(close - spec);
        const char *name;
        if (speclen > 5 && strncmp(spec, "html:", 5) == 0) {
            sl->kind = SLOT_HTML;
            name = spec + 5;
        } else if (speclen > 5 && strncmp(spec, "json:", 5) == 0) {
            sl->kind = SLOT_JSON;
            name = spec + 5;
        } else {
            snprintf(msg, msglen, "placeholder at byte %zu must be {{html:name}} or {{json:name}}",
                     at);
            err = APP_ECONFIG;
            goto out;
        }
        size_t namelen = (size_t)(close - name);
        size_t v;
        for (v = 0; v < count; v++)
            if (strlen(names[v]) == namelen && strncmp(names[v], name, namelen) == 0)
                break;
        if (v == count) {
            snprintf(msg, msglen, "unknown template variable '%.*s'",
                     (int)(namelen > 64 ? 64 : namelen), name);
            err = APP_ECONFIG;
            goto out;
        }
        sl->var = v;
        sl->text_off = pos;
        sl->text_len = at - pos;
        t->nslots++;
        pos = (size_t)(close - t->text) + 2;
    }
    t->tail_off = pos;
    *out = t;
    t = NULL;
out:
    tmpl_free(t);
    return err;
}

app_err tmpl_load(const char *path, const char *const *names, size_t count, tmpl **out, char *msg,
                  size_t msglen)
{
    app_err err = APP_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(msg, msglen, "cannot open template %s: %s", path, strerror(errno));
        return APP_EIO;
    }
    buf = malloc(TMPL_MAX_FILE + 1);
    if (buf == NULL) {
        err = APP_ENOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, TMPL_MAX_FILE + 1, f);
    if (ferror(f)) {
        snprintf(msg, msglen, "cannot read template %s", path);
        err = APP_EIO;
        goto out;
    }
    if (n > TMPL_MAX_FILE) {
        snprintf(msg, msglen, "template %s is larger than %u bytes", path, TMPL_MAX_FILE);
        err = APP_ETOOBIG;
        goto out;
    }
    char detail[APP_ERRMSG_LEN] = "";
    err = tmpl_parse(buf, n, names, count, out, detail, sizeof detail);
    if (err != APP_OK)
        snprintf(msg, msglen, "template %s: %s", path, detail);
out:
    free(buf);
    fclose(f);
    return err;
}

void tmpl_free(tmpl *t)
{
    if (t == NULL)
        return;
    free(t->text);
    free(t);
}

app_err tmpl_render(const tmpl *t, const tmpl_var *vars, size_t nvars, sbuf *out)
{
    for (size_t i = 0; i < t->nslots; i++) {
        const slot *sl = &t->slots[i];
        const char *name = t->names[sl->var];
        const tmpl_var *v = NULL;
        for (size_t j = 0; j < nvars; j++)
            if (strcmp(vars[j].name, name) == 0)
                v = &vars[j];
        if (v == NULL)
            return APP_EINTERNAL;
        app_err err = sbuf_append(out, t->text + sl->text_off, sl->text_len);
        if (err == APP_OK)
            err = sl->kind == SLOT_HTML ? tmpl_escape_html(out, v->value, v->len)
                                        : tmpl_escape_script_json(out, v->value, v->len);
        if (err != APP_OK)
            return err;
    }
    return sbuf_append(out, t->text + t->tail_off, t->len - t->tail_off);
}
