/* http.c - response building and the one app_err -> HTTP status mapping. */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

void http_resp_init(http_resp *r)
{
    r->status = 200;
    sbuf_init(&r->headers, HTTP_MAX_HEADERS);
    sbuf_init(&r->body, HTTP_MAX_RESPONSE);
    r->has_type = 0;
    r->streamed = 0;
}

void http_resp_free(http_resp *r)
{
    if (r == NULL)
        return;
    sbuf_free(&r->headers);
    sbuf_free(&r->body);
}

void http_resp_reset(http_resp *r)
{
    r->status = 200;
    sbuf_reset(&r->headers);
    sbuf_reset(&r->body);
    r->has_type = 0;
}

static int header_safe(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

app_err http_resp_header(http_resp *r, const char *name, const char *value)
{
    if (!header_safe(name) || !header_safe(value) || name[0] == '\0')
        return APP_EINTERNAL;
    if (strcasecmp(name, "Content-Type") == 0)
        r->has_type = 1;
    return sbuf_printf(&r->headers, "%s: %s\r\n", name, value);
}

int http_status_for(app_err err)
{
    switch (err) {
    case APP_OK:
        return 200;
    case APP_EJSON:
    case APP_EFIELD:
    case APP_EUTF8:
        return 400;
    case APP_ENOTFOUND:
        return 404;
    case APP_EMETHOD:
        return 405;
    case APP_ECONFLICT:
        return 409;
    case APP_ETOOBIG:
        return 413;
    case APP_EMEDIA:
        return 415;
    case APP_EREFUSED:
        return 422;
    case APP_EBUSY:
    case APP_ECLIENT_LIMIT:
        return 429;
    case APP_EUPSTREAM:
        return 502;
    case APP_EUNAVAIL:
        return 503;
    case APP_ETIMEOUT:
        return 504;
    case APP_EGONE:
        return 499; /* nginx's code for a client that closed the connection */
    case APP_EENDED:
        return 410;
    case APP_ENOMEM:
    case APP_ECONFIG:
    case APP_EJAIL:
    case APP_EDB:
    case APP_EIO:
    case APP_EINTERNAL:
    case APP_ERR_COUNT_:
        break;
    }
    return 500;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

static void error_answer(http_resp *r, int status, app_err err, const char *message,
                         const char *detail_name, const char *detail_json)
{
    http_resp_reset(r);
    r->status = status;
    if (message == NULL || message[0] == '\0')
        message = app_strerror(err);
    app_err werr = sbuf_puts(&r->body, "{\"error\":{\"code\":");
    if (werr == APP_OK)
        werr = jsonw_string(&r->body, app_errcode(err), strlen(app_errcode(err)));
    if (werr == APP_OK)
        werr = sbuf_puts(&r->body, ",\"message\":");
    if (werr == APP_OK)
        werr = jsonw_string(&r->body, message, strlen(message));
    if (werr == APP_OK && detail_name != NULL)
        werr = sbuf_printf(&r->body, ",\"%s\":%s", detail_name, detail_json);
    if (werr == APP_OK)
        werr = sbuf_puts(&r->body, "}}\n");
    if (werr != APP_OK) {
        /* Only a message of kilobytes can get here: send the code alone. */
        sbuf_reset(&r->body);
        app_ignore(sbuf_printf(&r->body, "{\"error\":{\"code\":\"%s\"}}\n", app_errcode(err)));
    }
    /* Fixed names and values: these cannot fail but on memory, and the
     * status is sent regardless. */
    app_ignore(http_resp_header(r, "Content-Type", "application/json; charset=utf-8"));
    app_ignore(http_resp_header(r, "Cache-Control", "no-store"));
    app_ignore(http_resp_header(r, "X-Content-Type-Options", "nosniff"));
    if (status == 429 || status == 503) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", HTTP_RETRY_AFTER_S);
        app_ignore(http_resp_header(r, "Retry-After", secs));
    }
}

void http_resp_error_status(http_resp *r, int status, app_err err, const char *message)
{
    error_answer(r, status, err, message, NULL, NULL);
}

void http_resp_error_detail(http_resp *r, app_err err, const char *message,
                            const char *detail_name, const char *detail_json)
{
    error_answer(r, http_status_for(err), err, message, detail_name, detail_json);
}

void http_resp_error(http_resp *r, app_err err, const char *message)
{
    http_resp_error_status(r, http_status_for(err), err, message);
}
