/* fuzz_mcp.c - libFuzzer target for the MCP endpoint (mcp.c).
 *
 * The first byte picks the method and whether the request names a live
 * session; the rest is the body, and what follows its first NUL byte is
 * what the tools' sub-request answers (status 200 or 400 by the first
 * byte's top bit).  Properties: every answer is complete (a status and a
 * body that is valid UTF-8 and, unless empty, a JSON object), whatever the
 * client and the sub-request sent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hist_mcp.h"
#include "jscan.h"
#include "mcp.h"
#include "utf8.h"

static hist *db;
static char session[HIST_MCP_ID_LEN + 1];
static const char *sub_answer;
static size_t sub_answer_len;
static int sub_status;

static void fake_subrequest(void *ctx, const http_req *req, http_resp *resp)
{
    (void)ctx;
    (void)req;
    http_resp_reset(resp);
    resp->status = sub_status;
    if (sbuf_append(&resp->body, sub_answer, sub_answer_len) != APP_OK)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[64], msg[APP_ERRMSG_LEN];
    snprintf(path, sizeof path, "/tmp/fuzz_mcp.%d.db", (int)getpid());
    unlink(path);
    if (hist_open(path, &db, msg, sizeof msg) != APP_OK ||
        hist_mcp_open(db, MCP_PROTOCOL_LATEST, MCP_SESSION_IDLE_S, MCP_MAX_SESSIONS, session, msg,
                      sizeof msg) != APP_OK) {
        fprintf(stderr, "fuzz_mcp: %s\n", msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"POST", "POST", "DELETE", "GET"};
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t n = size - 1;
    char *body = malloc(n + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 1, n);
    body[n] = '\0';
    size_t body_len = strlen(body); /* the sub-request's answer follows the NUL */
    sub_answer = body_len < n ? body + body_len + 1 : "";
    sub_answer_len = body_len < n ? n - body_len - 1 : 0;
    sub_status = (sel & 0x80) ? 400 : 200;
    const char *method = methods[sel & 3];
    /* Never end the one live session: the next inputs need it. */
    bool live = (sel & 4) != 0 && strcmp(method, "DELETE") != 0;
    http_req req = {.method = method,
                    .path = "/mcp",
                    .query = "",
                    .content_type = (sel & 8) ? "text/plain" : "application/json",
                    .host = "localhost",
                    .scheme = "http",
                    .remote_addr = "127.0.0.1",
                    .body = body,
                    .body_len = body_len,
                    .cancel_fd = -1,
                    .accept = "application/json",
                    .origin = (sel & 16) ? "http://localhost" : "",
                    .mcp_session = live ? session : "",
                    .mcp_protocol = (sel & 32) ? "2025-03-26" : ""};
    http_resp resp;
    http_resp_init(&resp);
    mcp_env env = {.db = db, .subrequest = fake_subrequest, .ctx = NULL};
    mcp_serve(&env, &req, &resp);
    if (resp.status < 200 || resp.status > 599)
        abort();
    if (!utf8_valid(resp.body.data, resp.body.len, NULL))
        abort();
    /* (An embedded tool answer may nest as deep as the validator allows,
     * and the envelope adds levels: only answers without one are parsed.) */
    if (resp.body.len > 0 && sub_answer_len == 0) {
        js_span root;
        char msg[APP_ERRMSG_LEN];
        if (js_validate(resp.body.data, resp.body.len, &root, msg, sizeof msg) != APP_OK ||
            root.type != JS_OBJECT)
            abort();
    }
    http_resp_free(&resp);
    free(body);
    return 0;
}
