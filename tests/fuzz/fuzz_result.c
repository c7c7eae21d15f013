/* fuzz_result.c - libFuzzer target for the answer composer (result.c), whose
 * input is written by a jailed process running user code.  The first bytes
 * pick the supervisor's side (verdict, exit status, OOM); the rest is split
 * into the child's JSON and its stdout.  Whatever they hold, the answer must
 * be valid JSON and UTF-8, and its status one of the schema's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "result.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    res_parts p = {
        .verdict = (res_verdict)(data[0] % (RES_ENDED + 1)),
        .exited = (data[1] & 1) != 0,
        .exit_code = data[2],
        .exit_signal = data[2] % 65,
        .oom_killed = (data[1] & 2) != 0,
        .traced = (data[1] & 8) != 0, /* the child's steps are copied (hv_put_steps) */
        .insights = (data[1] & 16) != 0, /* its findings are copied (hv_put_insights) */
        .raw_streams = (data[1] & 32) != 0, /* a program's bytes in metadata.rawOutput */
        .cpu_limit_ms = (data[1] & 64) != 0 ? 1500 : 0,
        .wall_limit_ms = 3000,
        .memory_limit_mb = 128,
        .stream_cap = 1 << 20,
    };
    size_t rest = size - 4, split = rest ? data[3] % (rest + 1) : 0;
    p.child_json = (data[1] & 4) ? NULL : (const char *)data + 4;
    p.child_len = p.child_json ? split : 0;
    p.out = (const char *)data + 4 + split;
    p.out_len = rest - split;
    p.err = p.out + p.out_len / 2; /* stderr: the second half of the same bytes */
    p.err_len = p.out_len - p.out_len / 2;
    sbuf out;
    sbuf_init(&out, 64u << 20);
    if (res_compose(&p, &out) != APP_OK)
        abort();
    js_span root;
    char msg[APP_ERRMSG_LEN];
    if (js_validate(out.data, out.len, &root, msg, sizeof msg) != APP_OK || root.type != JS_OBJECT)
        abort();
    if (!utf8_valid(out.data, out.len, NULL))
        abort();
    /* The answer opens with {"success":...,"status":"<status>", */
    static const char *const statuses[] = {"ok", "error", "timeout", "memory_limit",
                                           "output_limit", "killed"};
    const char *st = strstr(out.data, ",\"status\":\"");
    bool known = false;
    for (size_t i = 0; st != NULL && i < sizeof statuses / sizeof statuses[0]; i++) {
        size_t n = strlen(statuses[i]);
        known = known || (strncmp(st + 11, statuses[i], n) == 0 && st[11 + n] == '"');
    }
    if (!known)
        abort();
    sbuf_free(&out);
    return 0;
}
