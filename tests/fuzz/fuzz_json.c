/* fuzz_json.c - libFuzzer target for the strict JSON scanner (jscan.c).
 *
 * Properties checked on every input: validation never crashes or reads out
 * of bounds; every accepted document can be walked to its leaves; every
 * accepted string decodes to valid UTF-8 without passing its raw length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "utf8.h"

static void walk(const char *doc, js_span v, int depth)
{
    if (depth > JS_MAX_DEPTH + 1)
        abort();
    if (v.type == JS_STRING) {
        sbuf b;
        sbuf_init(&b, v.len);
        if (js_string_decode(doc, v, &b, NULL) != APP_OK)
            abort(); /* decoded text is never longer than its spelling */
        if (!utf8_valid(sbuf_str(&b), b.len, NULL))
            abort();
        sbuf_free(&b);
        return;
    }
    if (v.type != JS_ARRAY && v.type != JS_OBJECT)
        return;
    js_iter it;
    js_iter_init(&it, doc, v);
    js_span key, child;
    while (js_iter_next(&it, &key, &child)) {
        if (child.off < v.off || child.off + child.len > v.off + v.len)
            abort();
        if (v.type == JS_OBJECT)
            walk(doc, key, depth + 1);
        walk(doc, child, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exact-size heap block so ASan sees any overread. */
    char *doc = malloc(size ? size : 1);
    if (doc == NULL)
        return 0;
    memcpy(doc, data, size);
    js_span root;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(doc, size, &root, msg, sizeof msg) == APP_OK) {
        if (root.off + root.len > size)
            abort();
        walk(doc, root, 0);
    } else if (msg[0] == '\0') {
        abort(); /* every refusal explains itself */
    }
    free(doc);
    return 0;
}
