/*
 * judge0.h - client for a Judge0 CE server (libcurl); the decoder of its
 * submission objects is judge0_decode.h.
 *
 * jz_run() creates a submission with base64_encoded=true&wait=false, then
 * polls GET /submissions/{token}?base64_encoded=true&fields=... with
 * backoff until the status id is past 2 (In Queue, Processing) or the
 * deadline passes.  Authentication: JUDGE0_API_KEY is sent as X-Auth-Token
 * to self-hosted servers, and as X-RapidAPI-Key plus X-RapidAPI-Host to
 * RapidAPI hosts (*.rapidapi.com).  Every HTTP call has connect and total
 * timeouts and a response size cap.
 */
#ifndef PYSANDBOX_JUDGE0_H
#define PYSANDBOX_JUDGE0_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "judge0_decode.h"
#include "sbuf.h"

/* Connect timeout and per-call total timeout. */
#define JZ_CONNECT_TIMEOUT_MS 3000u
#define JZ_CALL_TIMEOUT_MS 15000u

typedef struct jz_config {
    const char *url;       /* base URL without trailing '/', e.g. http://127.0.0.1:2358 */
    const char *key;       /* NULL: no authentication header */
    int language_id;       /* e.g. 71 */
} jz_config;

/* One submission to create. Limits of 0 mean the server's defaults. */
typedef struct jz_submission {
    const char *source;
    size_t source_len;
    const char *stdin_text;
    size_t stdin_len;
    double cpu_time_limit_s;
    double wall_time_limit_s;
    unsigned memory_limit_kb;
} jz_submission;

/*
 * Appends the authentication header lines the client sends for cfg to out,
 * each as "Name: value\n": nothing without a key; "X-RapidAPI-Key" and
 * "X-RapidAPI-Host: <host>" when the URL's host is rapidapi.com or ends
 * with ".rapidapi.com" (case-insensitive); "X-Auth-Token" otherwise.
 * Returns APP_OK, APP_ECONFIG (URL that is not http(s), key with CR or
 * LF) with msg, or APP_ENOMEM / APP_ETOOBIG from out.
 */
APP_MUST_CHECK app_err jz_auth_headers(const jz_config *cfg, sbuf *out, char *msg, size_t msglen);

typedef struct jz_client jz_client;

/* Returns APP_OK and *out (free with jz_client_free), or APP_ECONFIG
 * (URL not http(s) or with a query or fragment, language_id < 1, bad key)
 * or APP_ENOMEM, with msg. */
APP_MUST_CHECK app_err jz_client_new(const jz_config *cfg, jz_client **out, char *msg, size_t msglen);
/* Frees the client and its connections. NULL-safe. */
void jz_client_free(jz_client *c);

/* Overrides JZ_CONNECT_TIMEOUT_MS and JZ_CALL_TIMEOUT_MS for this client
 * (0 keeps a value); tests use it to reach the per-call timeout quickly. */
void jz_client_set_timeouts(jz_client *c, unsigned connect_ms, unsigned call_ms);

/*
 * Runs a submission to completion within deadline_ms (overall), watching
 * cancel_fd (or -1) like xc_request does.  On APP_OK *r holds the finished
 * submission (any status id 3..14).  Errors, each with msg:
 *   APP_ECONFIG   401/403 (credentials refused) or a bad URL
 *   APP_EBUSY     429 (quota / rate limit): transient
 *   APP_EUNAVAIL  503, connection refused, DNS failure: transient
 *   APP_ETIMEOUT  the deadline passed while queued or polling
 *   APP_EUPSTREAM any other status, malformed body, oversize body
 *   APP_EIO       cancelled (the client went away)
 *   APP_ETOOBIG   the request body would pass 16 MiB
 *   APP_ENOMEM, APP_EINTERNAL
 */
APP_MUST_CHECK app_err jz_run(jz_client *c, const jz_submission *s, unsigned deadline_ms, int cancel_fd,
               jz_result *r, char *msg, size_t msglen);

#endif
