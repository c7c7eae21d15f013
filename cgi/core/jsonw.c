/* jsonw.c - JSON string literals for answers built in capped buffers. */
#include "jsonw.h"

#include <math.h>
#include <time.h>

#include "utf8.h"

app_err jsonw_string(sbuf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    app_err err = sbuf_putc(out, '"');
    size_t run = 0;
    size_t i = 0;
    while (i < n && err == APP_OK) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* Messages may hold truncated user text: never emit invalid UTF-8. */
            unsigned cp;
            size_t len = utf8_decode((const unsigned char *)s + i, n - i, &cp);
            if (len > 0) {
                i += len;
                continue;
            }
            err = sbuf_append(out, s + run, i - run);
            if (err == APP_OK)
                err = sbuf_puts(out, "\\ufffd");
            run = ++i;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        err = sbuf_append(out, s + run, i - run);
        run = ++i;
        if (err != APP_OK)
            break;
        switch (c) {
        case '"':
            err = sbuf_puts(out, "\\\"");
            break;
        case '\\':
            err = sbuf_puts(out, "\\\\");
            break;
        case '\n':
            err = sbuf_puts(out, "\\n");
            break;
        case '\r':
            err = sbuf_puts(out, "\\r");
            break;
        case '\t':
            err = sbuf_puts(out, "\\t");
            break;
        default: {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            err = sbuf_append(out, esc, 6);
        }
        }
    }
    if (err == APP_OK)
        err = sbuf_append(out, s + run, n - run);
    if (err == APP_OK)
        err = sbuf_putc(out, '"');
    return err;
}

app_err jsonw_iso_time(sbuf *out, double t)
{
    if (!isfinite(t) || t < 0)
        return sbuf_puts(out, "null");
    time_t secs = (time_t)t;
    int ms = (int)((t - (double)secs) * 1000.0);
    if (ms > 999)
        ms = 999;
    struct tm tm;
    char text[32];
    if (gmtime_r(&secs, &tm) == NULL || strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return sbuf_puts(out, "null");
    return sbuf_printf(out, "\"%s.%03dZ\"", text, ms);
}
