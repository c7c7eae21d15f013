/* sbuf.c - growable byte buffer with a hard cap. */
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(sbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void sbuf_free(sbuf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sbuf_reset(sbuf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for at least need bytes (plus the NUL) without passing max. */
static APP_MUST_CHECK app_err sbuf_reserve(sbuf *b, size_t need)
{
    if (need > b->max)
        return APP_ETOOBIG;
    if (need <= b->cap && b->data != NULL)
        return APP_OK;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max;
    char *p = realloc(b->data, cap + 1);
    if (p == NULL)
        return APP_ENOMEM;
    b->data = p;
    b->cap = cap;
    return APP_OK;
}

app_err sbuf_append(sbuf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return APP_ETOOBIG;
    app_err err = sbuf_reserve(b, b->len + n);
    if (err != APP_OK)
        return err;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return APP_OK;
}

app_err sbuf_puts(sbuf *b, const char *s)
{
    return sbuf_append(b, s, strlen(s));
}

app_err sbuf_putc(sbuf *b, char c)
{
    return sbuf_append(b, &c, 1);
}

app_err sbuf_vprintf(sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return APP_EINTERNAL;
    size_t need = (size_t)n;
    if (need > b->max || b->len > b->max - need)
        return APP_ETOOBIG;
    app_err err = sbuf_reserve(b, b->len + need);
    if (err != APP_OK)
        return err;
    vsnprintf(b->data + b->len, need + 1, fmt, ap);
    b->len += need;
    return APP_OK;
}

app_err sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    app_err err = sbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

char *sbuf_detach(sbuf *b, size_t *len_out)
{
    char *p = b->data;
    size_t len = b->len;
    if (p == NULL) {
        p = malloc(1);
        if (p == NULL)
            return NULL;
        p[0] = '\0';
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    if (len_out != NULL)
        *len_out = len;
    return p;
}

const char *sbuf_str(const sbuf *b)
{
    return b->data != NULL ? b->data : "";
}
