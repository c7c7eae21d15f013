/* present.c - an answer in the shared schema as plain text or an HTML page. */
#include "present.h"

#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tmpl.h"

app_err present_text(const char *json, size_t len, sbuf *out)
{
    cJSON *r = cJSON_ParseWithLength(json, len);
    if (r == NULL)
        return APP_EUPSTREAM;
    const char *o = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "output"));
    const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "stderr"));
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(r, "error");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(r, "result");
    app_err err = sbuf_puts(out, o ? o : "");
    if (err == APP_OK && e && e[0])
        err = sbuf_printf(out, "--- stderr ---\n%s", e);
    if (err == APP_OK && cJSON_IsObject(error)) {
        const char *tb = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "traceback"));
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "message"));
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "type"));
        err = tb && tb[0] ? sbuf_printf(out, "--- error ---\n%s", tb)
                          : sbuf_printf(out, "--- error ---\n%s: %s\n", t ? t : "Error", m ? m : "");
    }
    if (err == APP_OK && result != NULL && !cJSON_IsNull(result)) {
        char *text = cJSON_Print(result);
        err = text ? sbuf_printf(out, "--- result ---\n%s\n", text) : APP_ENOMEM;
        cJSON_free(text);
    }
    cJSON_Delete(r);
    return err;
}

static APP_MUST_CHECK app_err html_section(sbuf *out, const char *title, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return APP_OK;
    app_err err = sbuf_printf(out, "<h2>%s</h2>\n<pre>", title);
    if (err == APP_OK)
        err = tmpl_escape_html(out, text, strlen(text));
    return err == APP_OK ? sbuf_puts(out, "</pre>\n") : err;
}

static bool base64_text(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '+' || *s == '/' || *s == '='))
            return false;
    return true;
}

app_err present_html(const char *json, size_t len, sbuf *out)
{
    cJSON *r = cJSON_ParseWithLength(json, len);
    if (r == NULL)
        return APP_EUPSTREAM;
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "status"));
    const char *engine = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "engine"));
    app_err err = sbuf_puts(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                 "<title>Python result</title></head><body>\n<p>Status: ");
    if (err == APP_OK)
        err = tmpl_escape_html(out, status ? status : "?", strlen(status ? status : "?"));
    if (err == APP_OK)
        err = sbuf_puts(out, " (engine ");
    if (err == APP_OK)
        err = tmpl_escape_html(out, engine ? engine : "?", strlen(engine ? engine : "?"));
    if (err == APP_OK)
        err = sbuf_puts(out, ")</p>\n");
    if (err == APP_OK)
        err = html_section(out, "Output",
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "output")));
    if (err == APP_OK)
        err = html_section(out, "Errors",
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "stderr")));
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(r, "error");
    if (err == APP_OK && cJSON_IsObject(error))
        err = html_section(out, "Exception",
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "traceback")));
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(r, "result");
    if (err == APP_OK && result != NULL && !cJSON_IsNull(result)) {
        char *text = cJSON_Print(result);
        err = text ? html_section(out, "Result", text) : APP_ENOMEM;
        cJSON_free(text);
    }
    const cJSON *chart;
    cJSON_ArrayForEach(chart, cJSON_GetObjectItemCaseSensitive(r, "charts"))
    {
        const char *data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(chart, "data"));
        if (err == APP_OK && data != NULL && base64_text(data))
            err = sbuf_printf(out, "<p><img alt=\"chart\" src=\"data:image/png;base64,%s\"></p>\n",
                              data);
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "</body></html>\n");
    cJSON_Delete(r);
    return err;
}
