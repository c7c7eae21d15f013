/*
 * http.h - the HTTP request/response model the library sees.
 *
 * The FastCGI glue (fcgi_main.c) fills an http_req from FastCGI params and
 * writes an http_resp back; everything else works on these two structs and
 * never sees a FastCGI type, so handlers can be unit-tested and fuzzed
 * without nginx.  This is also the one place where an app_err becomes an
 * HTTP status (http_status_for) and where JSON error bodies are written.
 */
#ifndef PYSANDBOX_HTTP_H
#define PYSANDBOX_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "jsonw.h"
#include "sbuf.h"

/* Cap on a response body we build (pages embed up to the request body cap,
 * execution results up to their own caps; this is the outer bound). */
#define HTTP_MAX_RESPONSE (96u * 1024 * 1024)
/* Retry-After (seconds) on the 429 and 503 error answers: capacity and
 * restarts are about seconds, not minutes. */
#define HTTP_RETRY_AFTER_S 2
/* Cap on the response header block. */
#define HTTP_MAX_HEADERS (16u * 1024)

typedef struct http_resp http_resp;

/*
 * A response sent in pieces (Server-Sent Events), when the glue can: begin
 * sends resp's status and headers at once, each write sends bytes at once
 * (flushed).  Both return false when the client has gone away.  Provided by
 * fcgi_main.c; NULL in http_req where streaming is not possible (tests).
 */
typedef struct http_stream {
    bool (*begin)(void *ctx, const http_resp *resp);
    bool (*write)(void *ctx, const char *bytes, size_t n);
    void *ctx;
} http_stream;

typedef struct http_req {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* decoded path without the query, e.g. "/api/x" */
    const char *query;        /* raw query string without '?', "" if none */
    const char *content_type; /* "" if none */
    const char *host;         /* Host header value, "" if none */
    const char *scheme;       /* "http" or "https" */
    const char *remote_addr;  /* "" if unknown */
    const char *body;         /* request body, NUL-terminated; may contain NULs */
    size_t body_len;
    int cancel_fd;            /* readable once the client has gone away; -1 if unknown */
    const char *accept;       /* Accept header value, "" if none */
    const char *last_event_id; /* Last-Event-ID header value (SSE reconnects), "" or NULL if none */
    const char *origin;        /* Origin header value, "" or NULL if none */
    const char *mcp_session;   /* Mcp-Session-Id header value (mcp.h), "" or NULL if none */
    const char *mcp_protocol;  /* MCP-Protocol-Version header value, "" or NULL if none */
    const char *auth_token;    /* X-Auth-Token header value (Judge0 API), "" or NULL if none */
    const char *tokens;        /* `tokens` header value (Judge0 batch GET), "" or NULL if none */
    const char *cors_method;   /* Access-Control-Request-Method (a preflight), "" or NULL if none */
    const char *cors_headers;  /* Access-Control-Request-Headers, "" or NULL if none */
    const http_stream *stream; /* how to send a response in pieces, or NULL */
} http_req;

struct http_resp {
    int status;   /* 200 unless set */
    sbuf headers; /* "Name: value\r\n" lines, without Status */
    sbuf body;
    int has_type; /* a Content-Type header was added */
    int streamed; /* sent already, in pieces (http_stream): nothing more to write */
};

/* Prepares an empty 200 response. Free with http_resp_free(). */
void http_resp_init(http_resp *r);

/* Releases the buffers. NULL-safe. */
void http_resp_free(http_resp *r);

/* Drops everything added so far (headers and body) and sets status 200. */
void http_resp_reset(http_resp *r);

/*
 * Adds a header line.  Names and values containing CR, LF or NUL are
 * refused (APP_EINTERNAL): header values never carry unchecked input, and
 * this is the backstop.  Returns APP_OK, APP_ETOOBIG or APP_ENOMEM.
 */
APP_MUST_CHECK app_err http_resp_header(http_resp *r, const char *name, const char *value);

/* Returns the HTTP status for an error: the single mapping in the project. */
int http_status_for(app_err err);

/* Returns the reason phrase for a status ("Not Found"). */
const char *http_reason(int status);

/*
 * Replaces the response with a JSON error:
 *   {"error": {"code": app_errcode(err), "message": message}}
 * with the status from http_status_for(err).  message NULL means
 * app_strerror(err).  Always leaves a well-formed response.
 */
void http_resp_error(http_resp *r, app_err err, const char *message);

/* Same, with one more member in the error object: detail_name (a fixed
 * name) with detail_json (a JSON value, e.g. the engines tried). */
void http_resp_error_detail(http_resp *r, app_err err, const char *message,
                            const char *detail_name, const char *detail_json);

/* Same, with the status given explicitly (e.g. 404 for an unknown route). */
void http_resp_error_status(http_resp *r, int status, app_err err, const char *message);

#endif
