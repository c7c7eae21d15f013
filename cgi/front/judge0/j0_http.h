/*
 * j0_http.h - the HTTP side of the Judge0-compatible API: Judge0's answer
 * shapes ({"error": ...}, empty 401/403 bodies, JSON with a newline) and
 * its query and body decoding (base64_encoded, wait, fields, tokens).
 *
 * Judge0 decides its own HTTP statuses (201 on create, 422 for validation,
 * 400 for bad fields, 503 queue full ...), so these set them explicitly
 * instead of going through http_status_for().  Every function that
 * returns false has already written the whole (error) answer.
 */
#ifndef PYSANDBOX_J0_HTTP_H
#define PYSANDBOX_J0_HTTP_H

#include <stdbool.h>

#include "app.h"
#include "conf.h"
#include "http.h"
#include "j0_tables.h"
#include "jscan.h"

/* Replaces the response with Judge0's error shape {"error": message}. */
void j0http_error(http_resp *resp, int status, const char *message);

/* Replaces the response with an empty-bodied answer, as Judge0 gives for 401/403. */
void j0http_empty(http_resp *resp, int status);

/* Fails the response after a body could not be built: 400 asking for less
 * when it was too large, else 500. */
void j0http_render_failed(http_resp *resp, app_err err);

/* Finishes a JSON body already in resp->body: a newline, the status and
 * JSON headers (or j0http_render_failed when the newline does not fit). */
void j0http_ok_json(http_resp *resp, int status);

/* Answers text as text/plain. */
void j0http_text(http_resp *resp, const char *text);

/* --- cross-origin requests and authentication (Judge0 CE's Rack::Cors and
 * SessionsController, configured by PYSANDBOX_JUDGE0_CORS_ORIGINS and
 * PYSANDBOX_JUDGE0_AUTH_TOKEN; see docs/design/judge0-api.md) --- */

/* Seconds a browser may cache a preflight's answer (rack-cors's default). */
#define J0_CORS_MAX_AGE "7200"
/* Longest Access-Control-Request-Headers echoed back; a longer one is not. */
#define J0_CORS_MAX_HEADERS 1024

/* True when req is a CORS preflight (OPTIONS with Access-Control-Request-Method). */
bool j0http_is_preflight(const http_req *req);

/* Answers a preflight: 200, empty, with the CORS headers when req's origin
 * may call us; else 404 as for any OPTIONS request (Judge0's router). */
void j0http_preflight(const conf *c, const http_req *req, http_resp *resp);

/* Adds the CORS headers to an answer when req's Origin may read it. */
void j0http_cors(const conf *c, const http_req *req, http_resp *resp);

/* True when authentication is off, or req carries one of the configured
 * tokens in X-Auth-Token (header, or a query parameter of that name, as
 * Judge0 accepts); compared in constant time. */
bool j0http_authenticated(const conf *c, const http_req *req);

/* The query parameters the API reads. */
typedef struct j0http_query {
    bool base64, wait; /* base64_encoded=true, wait=true (only "true" is true) */
    bool has_fields, has_tokens;
    char fields[J0_MAX_PARAM + 1];
    char tokens[J0_MAX_PARAM + 1];
} j0http_query;

/* Decodes the request's query into *q; on failure answers 400 and returns false. */
bool j0http_query_parse(const http_req *req, j0http_query *q, http_resp *resp);

/* Parses q's `fields`; on failure answers 400 {"error":"invalid fields: [..]"}. */
bool j0http_query_fields(const j0http_query *q, j0tab_fields *f, http_resp *resp);

/* Validates the body as JSON into *root; answers 400 and returns false when
 * it is not.  A body that is not application/json is not parsed
 * (Judge0/Rails): root is then null, which decodes as an empty object. */
bool j0http_body(const http_req *req, js_span *root, http_resp *resp);

#endif
