/* fuzz_j0api.c - libFuzzer target for the Judge0-compatible API's decoders.
 *
 * The first byte picks what the rest is fed to: a submission body (plain or
 * base64, as a client sends it), a `fields=` list, base64 text, an engine
 * result mapped to Judge0's fields, or the headers of a cross-origin or
 * authenticated request (Origin, Access-Control-Request-Headers,
 * X-Auth-Token, query, separated by newlines).  Properties: no crash or
 * overread; a decoded submission re-encodes to valid JSON; validation
 * messages are bounded; no answer header holds CR or LF; only a configured
 * token authenticates. */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "hist.h"
#include "http.h"
#include "j0_http.h"
#include "j0_request.h"
#include "j0_result.h"
#include "j0_tables.h"
#include "jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t n = size - 1;
    char *text = malloc(n + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    conf c;
    memset(&c, 0, sizeof c);
    c.max_wall_ms = 30000;
    c.max_memory_mb = 512;
    c.queue_timeout_ms = 10000;
    j0tab_limits l;
    j0tab_limits_get(&c, &l);
    char msg[APP_ERRMSG_LEN];
    if (sel % 8 == 7) { /* request headers */
        char *part[4] = {text, "", "", ""};
        for (int i = 1; i < 4; i++) {
            char *nl = strchr(part[i - 1], '\n');
            if (nl == NULL)
                break;
            *nl = '\0';
            part[i] = nl + 1;
        }
        c.judge0_cors_origins = (sel & 8) ? "*" : "https://a.example http://127.0.0.1:9";
        c.judge0_auth_tokens = "tok-one  tok2";
        http_req req = {.method = "OPTIONS", .path = "/judge0/languages", .query = part[3],
                        .origin = part[0], .cors_method = "GET", .cors_headers = part[1],
                        .auth_token = part[2]};
        http_resp resp;
        http_resp_init(&resp);
        j0http_preflight(&c, &req, &resp);
        j0http_cors(&c, &req, &resp);
        if (resp.headers.len > 0 && (memchr(resp.headers.data, '\0', resp.headers.len) != NULL))
            abort();
        for (size_t i = 0; i + 1 < resp.headers.len; i++) /* lines end in CRLF, nowhere else */
            if ((resp.headers.data[i] == '\r') != (resp.headers.data[i + 1] == '\n'))
                abort();
        bool ok = j0http_authenticated(&c, &req);
        bool listed = strcmp(part[2], "tok-one") == 0 || strcmp(part[2], "tok2") == 0;
        if (part[2][0] != '\0' && ok != listed)
            abort();
        http_resp_free(&resp);
        free(text);
        return 0;
    }
    switch (sel % 4) {
    case 0: { /* a submission body */
        js_span root;
        if (js_validate(text, n, &root, msg, sizeof msg) == APP_OK) {
            j0req r;
            j0req_errs e;
            memset(&e, 0, sizeof e);
            j0req_init(&r, &l);
            if (j0req_decode_create(&l, text, root, (sel & 4) != 0, &r, &e) == APP_OK && e.n == 0) {
                sbuf stored;
                sbuf_init(&stored, HIST_MAX_TEXT);
                if (j0req_store_json(&r, &stored) == APP_OK &&
                    js_validate(stored.data, stored.len, &root, msg, sizeof msg) != APP_OK)
                    abort(); /* what we store must read back */
                sbuf_free(&stored);
            }
            if (e.n > J0_MAX_ERRS)
                abort();
            j0req_free(&r);
        }
        break;
    }
    case 1: { /* ?fields= */
        j0tab_fields f;
        app_ignore(j0tab_fields_parse(text, &f, msg, sizeof msg)); /* refusing is fine; crashing is not */
        break;
    }
    case 2: { /* base64 from a client */
        sbuf out;
        sbuf_init(&out, n + 1);
        /* Ruby's decode64 never refuses content; n bytes decode to at most 3n/4. */
        if (b64_decode(text, n, B64_LENIENT, &out) != APP_OK || out.len > n / 4 * 3 + 2)
            abort();
        sbuf_free(&out);
        break;
    }
    default: { /* an engine result (untrusted: written by a jailed program) */
        j0req r;
        j0req_init(&r, &l);
        j0res_outcome o;
        j0res_init(&o);
        app_ignore(j0res_map(text, n, &r, &o)); /* any outcome, as long as it is sound below */
        sbuf out;
        sbuf_init(&out, HIST_MAX_TEXT);
        js_span root;
        if (j0res_json(&o, &out) == APP_OK &&
            js_validate(out.data, out.len, &root, msg, sizeof msg) != APP_OK)
            abort();
        sbuf_free(&out);
        j0res_free(&o);
        j0req_free(&r);
        break;
    }
    }
    free(text);
    return 0;
}
