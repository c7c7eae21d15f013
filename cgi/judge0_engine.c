/* judge0_engine.c - placeholder until the Judge0 engine lands. */
#include "judge0_engine.h"

#include <stdio.h>

bool jeng_configured(const conf *c)
{
    return c->judge0_url != NULL;
}

app_err jeng_run(const conf *c, const native_job *job, int cancel_fd, sbuf *out, char *msg,
                 size_t msglen)
{
    (void)c;
    (void)job;
    (void)cancel_fd;
    (void)out;
    snprintf(msg, msglen, "the Judge0 engine is not built yet");
    return APP_EUNAVAIL;
}
