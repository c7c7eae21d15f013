/* xproto.c - front <-> executor wire protocol helpers. */
#include "xproto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(xp_req_hdr) == 56 + 8 + XP_SANDBOX_ID_LEN + XP_SANDBOX_USER_LEN,
               "xp_req_hdr is a wire format");
_Static_assert(sizeof(xp_resp_hdr) == 16, "xp_resp_hdr is a wire format");

void xp_req_init(xp_req_hdr *h, uint32_t op)
{
    memset(h, 0, sizeof *h);
    h->magic = XP_MAGIC_REQ;
    h->op = op;
    h->wall_ms = XP_DEFAULT_WALL_MS;
    h->memory_mb = XP_DEFAULT_MEMORY_MB;
    h->nofile = XP_DEFAULT_NOFILE;
    h->nproc = XP_DEFAULT_NPROC;
}

uint32_t xp_job_rlimit_cpu_s(uint32_t wall_ms, uint32_t cpu_ms)
{
    uint32_t ms = cpu_ms > 0 ? cpu_ms : wall_ms;
    return ms / 1000 + (ms % 1000 != 0);
}

uint64_t xp_client_key(const char *identity)
{
    if (identity == NULL || identity[0] == '\0')
        return 0;
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)identity; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h != 0 ? h : 1;
}

app_err xp_req_check(const xp_req_hdr *h, uint32_t max_wall_ms, uint32_t max_memory_mb, char *msg,
                     size_t msglen)
{
    if (h->magic != XP_MAGIC_REQ || h->op < XP_OP_JOB || h->op > XP_OP_DB || h->reserved != 0 ||
        (h->flags & ~(XP_FLAG_PROGRAM | XP_FLAG_STREAM | XP_FLAG_TRACE | XP_FLAG_INSIGHTS |
                      XP_FLAG_MERGE_STDERR)) != 0 ||
        ((h->flags & XP_FLAG_MERGE_STDERR) != 0 && (h->flags & XP_FLAG_PROGRAM) == 0)) {
        snprintf(msg, msglen, "malformed executor request header");
        return APP_EUPSTREAM;
    }
    bool names_sandbox = h->sandbox[0] != '\0';
    if (names_sandbox && !xp_sandbox_id_ok(h->sandbox, sizeof h->sandbox)) {
        snprintf(msg, msglen, "malformed sandbox id");
        return APP_EUPSTREAM;
    }
    if (h->op == XP_OP_STATUS || h->op == XP_OP_SANDBOX_LIST)
        return h->code_len == 0 && h->data_len == 0 && !names_sandbox ? APP_OK : APP_EUPSTREAM;
    if (h->op == XP_OP_SANDBOX_DELETE || h->op == XP_OP_SANDBOX_STATUS ||
        h->op == XP_OP_SANDBOX_HISTORY)
        return h->code_len == 0 && h->data_len == 0 && names_sandbox ? APP_OK : APP_EUPSTREAM;
    if (h->op == XP_OP_DB) /* its JSON is the broker's to check (dbwire.h) */
        return h->code_len > 0 && h->code_len <= XP_MAX_CODE && h->data_len == 0 ? APP_OK
                                                                                  : APP_EUPSTREAM;
    if (h->op == XP_OP_SANDBOX_CREATE &&
        (names_sandbox || h->code_len != 0 || h->data_len != 0 || h->idle_s == 0 ||
         h->life_s == 0 || memchr(h->user, '\0', sizeof h->user) == NULL)) {
        snprintf(msg, msglen, "malformed sandbox request");
        return APP_EUPSTREAM;
    }
    if (names_sandbox && (h->flags & XP_FLAG_PROGRAM) != 0) {
        snprintf(msg, msglen, "a sandbox runs code, not programs");
        return APP_EUPSTREAM;
    }
    if (h->code_len > XP_MAX_CODE) {
        snprintf(msg, msglen, "code is larger than %u bytes", XP_MAX_CODE);
        return APP_ETOOBIG;
    }
    if (h->data_len > XP_MAX_DATA) {
        snprintf(msg, msglen, "data is larger than %u bytes", XP_MAX_DATA);
        return APP_ETOOBIG;
    }
    if (h->wall_ms < XP_MIN_WALL_MS || h->wall_ms > max_wall_ms) {
        snprintf(msg, msglen, "wall-time limit must be %u..%u ms", XP_MIN_WALL_MS, max_wall_ms);
        return APP_EFIELD;
    }
    if (h->cpu_ms != 0 && (h->cpu_ms < XP_MIN_WALL_MS || h->cpu_ms > max_wall_ms)) {
        snprintf(msg, msglen, "CPU-time limit must be 0 (none) or %u..%u ms", XP_MIN_WALL_MS,
                 max_wall_ms);
        return APP_EFIELD;
    }
    if (h->memory_mb < XP_MIN_MEMORY_MB || h->memory_mb > max_memory_mb) {
        snprintf(msg, msglen, "memory limit must be %u..%u MB", XP_MIN_MEMORY_MB, max_memory_mb);
        return APP_EFIELD;
    }
    if (h->nofile < 16 || h->nofile > XP_DEFAULT_NOFILE || h->nproc < 1 ||
        h->nproc > XP_DEFAULT_NPROC) {
        snprintf(msg, msglen, "open-file or process limit out of range");
        return APP_EFIELD;
    }
    return APP_OK;
}

app_err xp_resp_check(const xp_resp_hdr *h, char *msg, size_t msglen)
{
    if (h->magic != XP_MAGIC_RESP || h->kind > XP_FRAME_STEP ||
        (h->kind != XP_FRAME_RESULT && (h->err != APP_OK || h->json_len > XP_MAX_STREAM_BYTES)) ||
        h->err >= APP_ERR_COUNT_ ||
        h->json_len > XP_MAX_RESPONSE) {
        snprintf(msg, msglen, "malformed executor response header");
        return APP_EUPSTREAM;
    }
    return APP_OK;
}

int xp_read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int xp_write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

bool xp_sandbox_id_ok(const char *s, size_t n)
{
    if (n != XP_SANDBOX_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}
