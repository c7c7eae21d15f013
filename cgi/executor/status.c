/* status.c - the executor's health report as JSON. */
#include "status.h"

#include <string.h>
#include <unistd.h>

#include "dblink.h"
#include "jail.h"
#include "jsonw.h"
#include "xproto.h"

/* One word for the whole engine: starting, unavailable, degraded or ok. */
static const char *status_word(const executor *ex)
{
    return !ex->zygote_ready                               ? "starting"
           : ex->spawn_failures >= EX_MAX_SPAWN_FAILURES   ? "unavailable"
           : cg_mode_of(ex->cg) == CG_NONE || !ex->per_slot_uid ? "degraded"
                                                           : "ok";
}

/* The pool of children, the jobs and the spawns, with their counters. */
static APP_MUST_CHECK app_err status_put_counts(const executor *ex, sbuf *b)
{
    return sbuf_printf(
        b,
        "\"pool\":{\"ready\":%u,\"starting\":%u,\"target\":%u},"
        "\"jobs\":{\"running\":%u,\"queued\":%u,\"maxRunning\":%u,\"streamsRunning\":%u,"
        "\"maxStreams\":%u,\"completed\":%llu,"
        "\"failed\":%llu,\"refusedOverClientShare\":%llu},\"spawns\":{\"total\":%llu,"
        "\"failed\":%llu,\"precopied\":%llu},",
        ex->n_idle, ex->n_starting, ex->c.pool_size, ex->n_running, ex->n_queued, ex->c.max_jobs,
        ex->n_stream_running, ex->c.max_streams,
        (unsigned long long)ex->jobs_done, (unsigned long long)ex->jobs_failed,
        (unsigned long long)ex->jobs_refused_client, (unsigned long long)ex->spawns,
        (unsigned long long)ex->spawn_errors, (unsigned long long)ex->spawns_precopied);
}

/* The jail's layers: namespaces, filesystem, seccomp, ids, rlimits, cgroups. */
static APP_MUST_CHECK app_err status_put_jail(const executor *ex, sbuf *b)
{
    app_err err = sbuf_printf(
        b,
        "\"jail\":{\"namespaces\":[\"user\",\"pid\",\"mount\",\"network\",\"ipc\",\"uts\","
        "\"cgroup\"],"
        "\"network\":\"none: an empty namespace of its own, AF_UNIX sockets only\","
        "\"filesystem\":\"read-only root: overlays of /usr/lib, /usr/share, /usr/bin (no-exec); "
        "private /tmp (%u MB), /dev/shm, minimal /dev and /etc\",\"proc\":\"%s\","
        "\"init\":\"PID 1 reaps and reports; the job runs as PID 2\","
        "\"seccomp\":{\"mode\":\"allowlist\",\"denied\":%s,\"emulated\":%s},\"noNewPrivs\":true,"
        "\"capabilities\":\"none\",\"outsideIds\":",
        ex->c.jail_tmp_mb, ex->mount_proc ? "fresh procfs (subset=pid)" : "none",
        jail_denied_syscalls_json(), jail_emulated_syscalls_json());
    if (err == APP_OK)
        err = ex->per_slot_uid
                  ? sbuf_printf(b, "\"one unprivileged uid/gid per slot: %u-%u\",",
                                ex->c.jail_uid_base, ex->c.jail_uid_base + ex->nslots - 1)
                  : sbuf_printf(b,
                                "\"the service's own uid %u (not root: per-slot uids need root)\",",
                                (unsigned)getuid());
    if (err == APP_OK)
        err = sbuf_printf(b,
                          "\"rlimits\":[\"RLIMIT_CPU\",\"RLIMIT_DATA\",\"RLIMIT_FSIZE\","
                          "\"RLIMIT_NOFILE\",\"RLIMIT_STACK\",\"RLIMIT_CORE\",\"RLIMIT_MEMLOCK\"%s],"
                          "\"cgroup\":%s,",
                          ex->per_slot_uid ? ",\"RLIMIT_NPROC\"" : "", cg_describe_json(ex->cg));
    if (err == APP_OK)
        err = sbuf_puts(b, "\"cgroupNote\":");
    if (err == APP_OK)
        err = jsonw_string(b, ex->cg_why, strlen(ex->cg_why));
    if (err == APP_OK)
        err = sbuf_printf(b, ",\"forkAllowed\":%s},", ex->deny_fork ? "false" : "true");
    return err;
}

/* The limits a job runs under, and the server's maxima. */
static APP_MUST_CHECK app_err status_put_limits(const executor *ex, sbuf *b)
{
    return sbuf_printf(
        b,
        "\"limits\":{\"defaultWallTimeMs\":%u,\"maxWallTimeMs\":%u,\"defaultMemoryMb\":%u,"
        "\"maxMemoryMb\":%u,\"openFiles\":%u,\"processes\":%u,\"stdoutBytes\":%u,"
        "\"stderrBytes\":%u,\"codeBytes\":%u,\"dataBytes\":%u,\"tmpMb\":%u,"
        "\"fileSizeMb\":%u,\"clientMaxJobs\":%u},",
        XP_DEFAULT_WALL_MS < ex->c.max_wall_ms ? XP_DEFAULT_WALL_MS : ex->c.max_wall_ms,
        ex->c.max_wall_ms,
        XP_DEFAULT_MEMORY_MB < ex->c.max_memory_mb ? XP_DEFAULT_MEMORY_MB : ex->c.max_memory_mb,
        ex->c.max_memory_mb, XP_DEFAULT_NOFILE, XP_DEFAULT_NPROC, XP_MAX_STREAM_BYTES,
        XP_MAX_STREAM_BYTES, XP_MAX_CODE, XP_MAX_DATA, ex->c.jail_tmp_mb, JAIL_MAX_FILE_MB,
        ex->c.client_max_jobs);
}

app_err status_json(const executor *ex, sbuf *b)
{
    app_err err = sbuf_printf(b, "{\"status\":\"%s\",\"engine\":\"native\",\"interpreter\":%s,",
                              status_word(ex), ex->zygote_info[0] ? ex->zygote_info : "null");
    if (err == APP_OK)
        err = status_put_counts(ex, b);
    if (err == APP_OK)
        err = status_put_jail(ex, b);
    if (err == APP_OK)
        err = status_put_limits(ex, b);
    if (err == APP_OK)
        err = sbuf_printf(b,
                          "\"sandboxes\":{\"alive\":%u,\"max\":%u,\"created\":%llu,"
                          "\"executions\":%llu}",
                          ex->sbx_live, ex->c.max_sandboxes, (unsigned long long)ex->sbx_created,
                          (unsigned long long)ex->sbx_executions);
    if (err == APP_OK)
        err = sbuf_putc(b, ',');
    if (err == APP_OK)
        err = dblink_status_json(ex, b);
    if (err == APP_OK)
        err = sbuf_puts(b, ",\"lastError\":");
    if (err == APP_OK)
        err = ex->last_error[0] ? jsonw_string(b, ex->last_error, strlen(ex->last_error))
                                : sbuf_puts(b, "null");
    if (err == APP_OK)
        err = sbuf_puts(b, "}");
    return err;
}
