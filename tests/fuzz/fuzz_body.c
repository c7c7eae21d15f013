/* fuzz_body.c - libFuzzer target for request bodies (body.c + insights.c).
 * The first byte picks the encoding; the rest is the body.  Decoding and
 * every getter the endpoints use must fail cleanly or produce UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "insights.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *ctype =
        data[0] & 1 ? "application/x-www-form-urlencoded" : "application/json; charset=utf-8";
    size_t n = size - 1;
    char *text = malloc(n + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    body *b = NULL;
    char msg[APP_ERRMSG_LEN];
    if (body_decode(ctype, text, n, &b, msg, sizeof msg) == APP_OK) {
        char *s = NULL;
        size_t len;
        if (body_string(b, "code", INS_MAX_CODE, &s, &len, msg, sizeof msg) == APP_OK && s != NULL) {
            if (!utf8_valid(s, len, NULL) || memchr(s, '\0', len) != NULL)
                abort();
        }
        free(s);
        const char *json;
        js_type type;
        if (body_json(b, "data", n, &json, &len, &type, msg, sizeof msg) == APP_OK) {
            js_span root;
            if (js_validate(json, len, &root, msg, sizeof msg) != APP_OK)
                abort(); /* what body_json returns is always valid JSON */
        }
        ins_request r;
        if (ins_decode_sandbox(b, &r, msg, sizeof msg) == APP_OK) {
            js_span root;
            if (js_validate(r.page.data, r.page.data_len, &root, msg, sizeof msg) != APP_OK ||
                root.type != JS_ARRAY)
                abort();
        }
        ins_request_free(&r);
        body_free(b);
    }
    free(text);
    return 0;
}
