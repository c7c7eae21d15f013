/* j0api.c - placeholder until the Judge0-compatible API lands. */
#include "j0api.h"

void j0api_handle(const conf *c, hist *db, const http_req *req, http_resp *resp)
{
    (void)c;
    (void)db;
    (void)req;
    http_resp_error(resp, APP_ENOTFOUND, "the Judge0-compatible API is not built yet");
}

app_err j0api_task(const conf *c, const char *token)
{
    (void)c;
    (void)token;
    return APP_EUNAVAIL;
}
