/* fuzz_j0api.c - libFuzzer target for the Judge0-compatible API's decoders.
 *
 * The first byte picks what the rest is fed to: a submission body (plain or
 * base64, as a client sends it), a `fields=` list, base64 text, or an
 * engine result mapped to Judge0's fields.  Properties: no crash or
 * overread; a decoded submission re-encodes to valid JSON; validation
 * messages are bounded. */
#include <stdint.h>

#include "../../cgi/front/judge0/j0api.c"

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
    j0_limits l;
    j0_limits_get(&c, &l);
    char msg[APP_ERRMSG_LEN];
    switch (sel % 4) {
    case 0: { /* a submission body */
        js_span root;
        if (js_validate(text, n, &root, msg, sizeof msg) == APP_OK) {
            j0_req r;
            j0_errs e;
            memset(&e, 0, sizeof e);
            j0_req_init(&r, &l);
            unsigned mode = J0_CREATE | ((sel & 4) ? J0_BASE64 : 0);
            if (j0_req_decode(&l, text, root, mode, &r, &e) == APP_OK && e.n == 0) {
                sbuf stored;
                sbuf_init(&stored, HIST_MAX_TEXT);
                if (j0_req_store_json(&r, &stored) == APP_OK &&
                    js_validate(stored.data, stored.len, &root, msg, sizeof msg) != APP_OK)
                    abort(); /* what we store must read back */
                sbuf_free(&stored);
            }
            if (e.n > J0_MAX_ERRS)
                abort();
            j0_req_free(&r);
        }
        break;
    }
    case 1: { /* ?fields= */
        j0_fields f;
        j0_fields_parse(text, &f, msg, sizeof msg);
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
        j0_req r;
        j0_req_init(&r, &l);
        j0_outcome o;
        j0_outcome_init(&o);
        j0_map_result(text, n, &r, &o);
        sbuf out;
        sbuf_init(&out, HIST_MAX_TEXT);
        js_span root;
        if (j0_outcome_json(&o, &out) == APP_OK &&
            js_validate(out.data, out.len, &root, msg, sizeof msg) != APP_OK)
            abort();
        sbuf_free(&out);
        j0_outcome_free(&o);
        j0_req_free(&r);
        break;
    }
    }
    free(text);
    return 0;
}
