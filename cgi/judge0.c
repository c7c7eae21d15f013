/* judge0.c - placeholder until the Judge0 client lands. */
#include "judge0.h"

#include <stdio.h>
#include <string.h>

void jz_result_init(jz_result *r)
{
    memset(r, 0, sizeof *r);
    sbuf_init(&r->stdout_text, JZ_MAX_RESPONSE);
    sbuf_init(&r->stderr_text, JZ_MAX_RESPONSE);
    sbuf_init(&r->compile_output, JZ_MAX_RESPONSE);
    sbuf_init(&r->message, JZ_MAX_RESPONSE);
}

void jz_result_free(jz_result *r)
{
    if (r == NULL)
        return;
    sbuf_free(&r->stdout_text);
    sbuf_free(&r->stderr_text);
    sbuf_free(&r->compile_output);
    sbuf_free(&r->message);
}
