/* native.c - the jailed native engine, as the FastCGI front sees it. */
#include "native.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dbwire.h"
#include "xclient.h"
#include "xproto.h"

/* A limit in seconds as whole milliseconds, checked against the
 * engine's minimum and this server's maximum; name is the request field. */
static APP_MUST_CHECK app_err seconds_limit(const char *name, double s, unsigned max_ms,
                                            unsigned *ms_out, char *msg, size_t msglen)
{
    double ms = ceil(s * 1000.0);
    if (ms > max_ms) {
        snprintf(msg, msglen, "%s %.3g s is more than this server's native engine allows (%.3g s)",
                 name, s, max_ms / 1000.0);
        return APP_EREFUSED;
    }
    if (ms < XP_MIN_WALL_MS) {
        snprintf(msg, msglen, "%s must be at least %.1f s", name, XP_MIN_WALL_MS / 1000.0);
        return APP_EFIELD;
    }
    *ms_out = (unsigned)ms;
    return APP_OK;
}

app_err native_limits(const conf *c, const reqs *r, native_job *job, char *msg, size_t msglen)
{
    if (r->network_access) {
        snprintf(msg, msglen, "the native engine has no network access (networkAccess: true)");
        return APP_EREFUSED;
    }
    job->wall_ms = XP_DEFAULT_WALL_MS < c->max_wall_ms ? XP_DEFAULT_WALL_MS : c->max_wall_ms;
    job->cpu_ms = 0;
    job->memory_mb =
        XP_DEFAULT_MEMORY_MB < c->max_memory_mb ? XP_DEFAULT_MEMORY_MB : c->max_memory_mb;
    app_err err = APP_OK;
    if (r->max_time_s > 0)
        err = seconds_limit("maxExecutionTime", r->max_time_s, c->max_wall_ms, &job->wall_ms, msg,
                            msglen);
    if (err == APP_OK && r->max_cpu_s > 0)
        err = seconds_limit("maxCpuTime", r->max_cpu_s, c->max_wall_ms, &job->cpu_ms, msg, msglen);
    if (err != APP_OK)
        return err;
    if (r->max_memory_mb > 0) {
        double mb = ceil(r->max_memory_mb);
        if (mb > c->max_memory_mb) {
            snprintf(msg, msglen,
                     "maxMemoryUsage %.0f MB is more than this server's native engine allows "
                     "(%u MB)",
                     mb, c->max_memory_mb);
            return APP_EREFUSED;
        }
        if (mb < XP_MIN_MEMORY_MB) {
            snprintf(msg, msglen, "maxMemoryUsage must be at least %u MB", XP_MIN_MEMORY_MB);
            return APP_EFIELD;
        }
        job->memory_mb = (unsigned)mb;
    }
    return APP_OK;
}

app_err native_run(const conf *c, const native_job *job, int cancel_fd, sbuf *out, char *msg,
                   size_t msglen)
{
    if (job->code_len > XP_MAX_CODE || job->data_len > XP_MAX_DATA) {
        snprintf(msg, msglen, "%s is larger than %u bytes",
                 job->code_len > XP_MAX_CODE ? "code" : "data",
                 job->code_len > XP_MAX_CODE ? XP_MAX_CODE : XP_MAX_DATA);
        return APP_ETOOBIG;
    }
    xp_req_hdr h;
    xp_req_init(&h, XP_OP_JOB);
    h.wall_ms = job->wall_ms;
    h.cpu_ms = job->cpu_ms;
    h.memory_mb = job->memory_mb;
    h.code_len = (uint32_t)job->code_len;
    h.data_len = job->data_len;
    h.flags = (job->program ? XP_FLAG_PROGRAM : 0) | (job->trace ? XP_FLAG_TRACE : 0) |
              (job->insights ? XP_FLAG_INSIGHTS : 0) |
              (job->program && job->merge_stderr ? XP_FLAG_MERGE_STDERR : 0);
    h.client = job->client;
    if (job->sandbox != NULL)
        memcpy(h.sandbox, job->sandbox, sizeof h.sandbox);
    unsigned timeout = job->wall_ms + c->queue_timeout_ms + XC_MARGIN_MS;
    if (job->on_output != NULL)
        h.flags |= XP_FLAG_STREAM;
    return xc_request(c->executor_socket, &h, job->code, job->data, timeout, cancel_fd,
                      job->on_output, job->output_ctx, c->stream_heartbeat_ms, out, msg, msglen);
}

app_err native_status(const conf *c, sbuf *out, char *msg, size_t msglen)
{
    xp_req_hdr h;
    xp_req_init(&h, XP_OP_STATUS);
    return xc_request(c->executor_socket, &h, NULL, NULL, XC_MARGIN_MS, -1, NULL, NULL, 0, out,
                      msg, msglen);
}

app_err native_sandbox(const conf *c, unsigned op, const char *id, const native_sandbox_spec *spec,
                       uint64_t client, sbuf *out, char *msg, size_t msglen)
{
    xp_req_hdr h;
    xp_req_init(&h, op);
    h.client = client;
    unsigned timeout = XC_MARGIN_MS;
    if (id != NULL)
        memcpy(h.sandbox, id, sizeof h.sandbox);
    if (spec != NULL) {
        h.wall_ms = spec->wall_ms;
        h.memory_mb = spec->memory_mb;
        h.idle_s = spec->idle_s;
        h.life_s = spec->life_s;
        if (spec->user != NULL)
            snprintf(h.user, sizeof h.user, "%s", spec->user);
        timeout = spec->wall_ms + c->queue_timeout_ms + XC_MARGIN_MS; /* made by a pooled job */
    }
    return xc_request(c->executor_socket, &h, NULL, NULL, timeout, -1, NULL, NULL, 0, out, msg,
                      msglen);
}

app_err native_db(const conf *c, const char *sandbox_id, const char *json, size_t len,
                  uint64_t client, sbuf *out, char *msg, size_t msglen)
{
    if (len == 0 || len > DBW_MAX_REQUEST) {
        snprintf(msg, msglen, "a database request is 1 to %u bytes of JSON", DBW_MAX_REQUEST);
        return len == 0 ? APP_EFIELD : APP_ETOOBIG;
    }
    if (sandbox_id != NULL &&
        !xp_sandbox_id_ok(sandbox_id, strnlen(sandbox_id, XP_SANDBOX_ID_LEN + 1))) {
        snprintf(msg, msglen, "no such sandbox (never made, deleted, or expired)");
        return APP_ENOTFOUND;
    }
    xp_req_hdr h;
    xp_req_init(&h, XP_OP_DB);
    h.code_len = (uint32_t)len; /* the request travels as the job's code (dbwire.h) */
    h.data_len = 0;
    h.client = client;
    if (sandbox_id != NULL)
        memcpy(h.sandbox, sandbox_id, sizeof h.sandbox);
    unsigned timeout = c->agent_db_timeout_ms + c->queue_timeout_ms + XC_MARGIN_MS;
    return xc_request(c->executor_socket, &h, json, NULL, timeout, -1, NULL, NULL, 0, out, msg,
                      msglen);
}
