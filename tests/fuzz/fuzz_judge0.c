/* fuzz_judge0.c - libFuzzer target for the Judge0 response decoder (judge0.c).
 *
 * The first byte picks the mode (bit 0: base64 text fields or plain); the
 * rest is the body of GET /submissions/{token}.  Properties checked on
 * every input: decoding never crashes or reads out of bounds; a refusal
 * always explains itself and leaves nothing half-decoded; an accepted
 * submission has a status id from 0 to 14 and a token of [A-Za-z0-9-].
 * (The base64 reader itself has its own target, fuzz_b64.) */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "judge0.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool base64 = (data[0] & 1) != 0;
    /* Copy into an exact-size heap block so ASan sees any overread. */
    size_t n = size - 1;
    char *doc = malloc(n ? n : 1);
    if (doc == NULL)
        return 0;
    memcpy(doc, data + 1, n);
    jz_result r;
    jz_result_init(&r);
    char msg[APP_ERRMSG_LEN] = "";
    app_err err = jz_decode_submission(doc, n, base64, &r, msg, sizeof msg);
    if (err == APP_OK) {
        if (r.status_id < 0 || r.status_id > 14)
            abort();
        for (const char *p = r.token; *p != '\0'; p++)
            if (!isalnum((unsigned char)*p) && *p != '-')
                abort();
        if (r.has_time && !(r.time_s >= 0))
            abort();
    } else {
        if (msg[0] == '\0' || r.status_id != 0 || r.stdout_text.len != 0 || r.token[0] != '\0')
            abort();
    }
    jz_result_free(&r);
    free(doc);
    return 0;
}
