/* fuzz_b64.c - libFuzzer target for the base64 module (b64.c).
 * Properties: every input round-trips through both layouts and both
 * readings; any text the strict reading accepts, the lenient reading
 * decodes to the same bytes; a refusal leaves the buffer unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

#define FUZZ_CAP (1u << 20)

static void round_trip(const uint8_t *data, size_t size, b64_layout layout, b64_reading reading)
{
    sbuf enc, dec;
    sbuf_init(&enc, FUZZ_CAP);
    sbuf_init(&dec, FUZZ_CAP);
    if (b64_encode(data, size, layout, &enc) != APP_OK)
        abort();
    if (b64_decode(enc.data ? enc.data : "", enc.len, reading, &dec) != APP_OK)
        abort();
    if (dec.len != size || (size > 0 && memcmp(dec.data, data, size) != 0))
        abort();
    sbuf_free(&enc);
    sbuf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    round_trip(data, size, B64_ONE_LINE, B64_STRICT);
    round_trip(data, size, B64_MIME, B64_STRICT);
    round_trip(data, size, B64_MIME, B64_LENIENT);

    sbuf strict, lenient;
    sbuf_init(&strict, FUZZ_CAP);
    sbuf_init(&lenient, FUZZ_CAP);
    if (sbuf_puts(&strict, "keep") != APP_OK)
        abort();
    app_err e = b64_decode((const char *)data, size, B64_STRICT, &strict);
    if (e != APP_OK && e != APP_EFIELD)
        abort();
    if (e == APP_EFIELD && strcmp(sbuf_str(&strict), "keep") != 0)
        abort();
    if (b64_decode((const char *)data, size, B64_LENIENT, &lenient) != APP_OK)
        abort();
    if (e == APP_OK &&
        (strict.len - 4 != lenient.len || memcmp(strict.data + 4, sbuf_str(&lenient), lenient.len) != 0))
        abort();
    sbuf_free(&strict);
    sbuf_free(&lenient);
    return 0;
}
