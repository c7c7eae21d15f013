/* form.c - application/x-www-form-urlencoded decoder. */
#include "form.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes src[0..n) into dst; returns the decoded length or -1 on a bad escape. */
static long decode(const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '+') {
            dst[o++] = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return -1;
            int hi = hexdigit(src[i + 1]), lo = hexdigit(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[o++] = c;
        }
    }
    dst[o] = '\0';
    return (long)o;
}

app_err form_parse(const char *p, size_t n, form_cb cb, void *ctx, char *msg, size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    /* Decoded text is never longer than the input: one scratch block holds
     * a pair's name and value. */
    char *scratch = malloc(n + 2);
    if (scratch == NULL)
        return APP_ENOMEM;
    app_err err = APP_OK;
    size_t fields = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && p[i] != '&')
            i++;
        size_t end = i;
        if (i < n)
            i++; /* skip '&' */
        if (end == start)
            continue; /* empty segment: "a=1&&b=2" */
        if (++fields > FORM_MAX_FIELDS) {
            snprintf(msg, msglen, "more than %d form fields", FORM_MAX_FIELDS);
            err = APP_ETOOBIG;
            goto out;
        }
        const char *eq = memchr(p + start, '=', end - start);
        size_t name_raw = eq != NULL ? (size_t)(eq - (p + start)) : end - start;
        const char *vsrc = eq != NULL ? eq + 1 : p + end;
        size_t value_raw = eq != NULL ? (size_t)(p + end - vsrc) : 0;

        char *name = scratch;
        long nlen = decode(p + start, name_raw, name);
        char *value = name + nlen + 1;
        long vlen = nlen < 0 ? -1 : decode(vsrc, value_raw, value);
        if (nlen < 0 || vlen < 0) {
            snprintf(msg, msglen, "malformed %%-escape in form field %zu", fields);
            err = APP_EFIELD;
            goto out;
        }
        if (!utf8_valid(name, (size_t)nlen, NULL) || !utf8_valid(value, (size_t)vlen, NULL)) {
            snprintf(msg, msglen, "form field %zu is not valid UTF-8", fields);
            err = APP_EUTF8;
            goto out;
        }
        err = cb(ctx, name, (size_t)nlen, value, (size_t)vlen, msg, msglen);
        if (err != APP_OK)
            goto out;
    }
out:
    free(scratch);
    return err;
}

const char *form_media_type(const char *content_type, char *buf, size_t buflen)
{
    size_t i = 0;
    const char *p = content_type != NULL ? content_type : "";
    while (*p == ' ')
        p++;
    while (*p != '\0' && *p != ';' && *p != ' ' && i + 1 < buflen)
        buf[i++] = (char)tolower((unsigned char)*p++);
    buf[i] = '\0';
    return buf;
}
