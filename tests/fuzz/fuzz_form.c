/* fuzz_form.c - libFuzzer target for the form/query decoder (form.c).
 * Every pair handed to the callback must be valid UTF-8 and no longer than
 * the input; errors must come with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "utf8.h"

static size_t input_size;

static APP_MUST_CHECK app_err check_pair(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen,
                          char *msg, size_t msglen)
{
    (void)ctx;
    (void)msg;
    (void)msglen;
    if (nlen + vlen > input_size || name[nlen] != '\0' || value[vlen] != '\0')
        abort();
    if (!utf8_valid(name, nlen, NULL) || !utf8_valid(value, vlen, NULL))
        abort();
    return APP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    input_size = size;
    char msg[APP_ERRMSG_LEN];
    app_err e = form_parse(in, size, check_pair, NULL, msg, sizeof msg);
    if (e != APP_OK && e != APP_ENOMEM && msg[0] == '\0')
        abort();
    free(in);
    return 0;
}
