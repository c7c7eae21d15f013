/* result.c - composing a native execution's answer in the shared schema. */
#include "result.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "hview.h"
#include "jsonw.h"
#include "utf8.h"
#include "xproto.h"
#include "zygote.h"

const char *res_signal_name(int sig, char *buf, size_t len)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"},
                 {SIGBUS, "SIGBUS"},   {SIGILL, "SIGILL"},   {SIGFPE, "SIGFPE"},
                 {SIGSYS, "SIGSYS"},   {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
                 {SIGTERM, "SIGTERM"}, {SIGPIPE, "SIGPIPE"}, {SIGINT, "SIGINT"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, len, "signal %d", sig);
    return buf;
}

app_err res_put_error(sbuf *out, const char *type, const char *message)
{
    app_err err = sbuf_puts(out, "{\"type\":");
    if (err == APP_OK)
        err = jsonw_string(out, type, strlen(type));
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"message\":");
    if (err == APP_OK)
        err = jsonw_string(out, message, strlen(message));
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"traceback\":\"\"}");
    return err;
}

/* Signals that mean the process failed by itself: a fault, or abort(). */
static bool is_fault(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
           sig == SIGTRAP;
}

/* What of the answer is kept when the whole does not fit the response cap:
 * the documented order in which parts are given up. */
typedef enum res_keep {
    KEEP_ALL,
    DROP_CHARTS, /* charts go first: the largest, and a rerun can ask for fewer */
    DROP_RESULT, /* then __result__ */
    CUT_STREAMS, /* then stdout and stderr are cut to RES_CUT_STREAM_BYTES each */
} res_keep;
#define RES_CUT_STREAM_BYTES (64u * 1024)

static APP_MUST_CHECK app_err compose(const res_parts *p, sbuf *out, res_keep keep);

/* A program's stream that is not UTF-8, byte for byte: "rawOutput":{...}, */
static APP_MUST_CHECK app_err put_raw_streams(sbuf *out, const char *o, size_t o_len, const char *e,
                                              size_t e_len)
{
    const char *names[2] = {"stdout", "stderr"};
    const char *bytes[2] = {o ? o : "", e ? e : ""};
    size_t lens[2] = {o_len, e_len};
    bool raw[2] = {!utf8_valid(bytes[0], lens[0], NULL), !utf8_valid(bytes[1], lens[1], NULL)};
    if (!raw[0] && !raw[1])
        return APP_OK;
    app_err err = sbuf_puts(out, "\"rawOutput\":{");
    for (int i = 0; i < 2 && err == APP_OK; i++) {
        if (!raw[i])
            continue;
        err = sbuf_printf(out, "%s\"%s\":\"", i == 1 && raw[0] ? "," : "", names[i]);
        if (err == APP_OK)
            err = b64_encode(bytes[i], lens[i], B64_ONE_LINE, out);
        if (err == APP_OK)
            err = sbuf_putc(out, '"');
    }
    return err == APP_OK ? sbuf_puts(out, "},") : err;
}

app_err res_compose(const res_parts *p, sbuf *out)
{
    size_t start = out->len;
    app_err err = APP_ETOOBIG;
    for (res_keep keep = KEEP_ALL; keep <= CUT_STREAMS && err == APP_ETOOBIG; keep++) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
        err = compose(p, out, keep);
    }
    return err;
}

static APP_MUST_CHECK app_err compose(const res_parts *p, sbuf *out, res_keep keep)
{
    hv_view v;
    hv_read(p->child_json, p->child_len, &v);
    const char *doc = p->child_json;
    size_t out_len = p->out_len, err_len = p->err_len;
    if (keep >= CUT_STREAMS) {
        out_len = out_len > RES_CUT_STREAM_BYTES ? RES_CUT_STREAM_BYTES : out_len;
        err_len = err_len > RES_CUT_STREAM_BYTES ? RES_CUT_STREAM_BYTES : err_len;
    }

    /* The supervisor's own verdicts win over whatever the child said. */
    const char *status;
    char message[APP_ERRMSG_LEN] = "";
    const char *etype = NULL;
    char sigbuf[32];
    /* Memory first: a jail whose processes the OOM killer picked off one by
     * one may run on into its wall-time limit, and the cause is the memory. */
    if (p->verdict == RES_OOM || p->oom_killed) {
        status = "memory_limit";
        etype = "MemoryError";
        snprintf(message, sizeof message,
                 "the program exceeded the %u MB memory limit and was stopped", p->memory_limit_mb);
    } else if (p->verdict == RES_TIMEOUT) {
        status = "timeout";
        etype = "TimeoutError";
        snprintf(message, sizeof message,
                 "the program ran longer than the %.1f s wall-time limit and was stopped",
                 p->wall_limit_ms / 1000.0);
    } else if (p->verdict == RES_CPU_TIMEOUT) {
        status = "timeout";
        etype = "TimeoutError";
        snprintf(message, sizeof message,
                 "the program used more than its %.1f s of CPU time and was stopped",
                 p->cpu_limit_ms / 1000.0);
    } else if (p->verdict == RES_STDOUT_LIMIT || p->verdict == RES_STDERR_LIMIT) {
        status = "output_limit";
        etype = "OutputLimitExceeded";
        snprintf(message, sizeof message,
                 "%s passed the %zu-byte limit and the program was stopped (output truncated)",
                 p->verdict == RES_STDOUT_LIMIT ? "stdout" : "stderr", p->stream_cap);
    } else if (p->verdict == RES_RESULT_LIMIT) {
        status = "output_limit";
        etype = "ResultTooLarge";
        snprintf(message, sizeof message, "the result and charts were larger than the limit");
    } else if (keep > KEEP_ALL) {
        status = "output_limit";
        etype = "OutputLimitExceeded";
        snprintf(message, sizeof message,
                 "the answer (output, stderr, result and charts together) was larger than the "
                 "%zu MiB limit: %s",
                 out->max >> 20,
                 keep == DROP_CHARTS   ? "the charts were dropped"
                 : keep == DROP_RESULT ? "the charts and the result were dropped"
                                       : "the charts and the result were dropped, the output cut");
    } else if (p->verdict == RES_ENDED) {
        status = "killed";
        etype = "SandboxEnded";
        snprintf(message, sizeof message,
                 "the sandbox was deleted or expired while this execution ran");
    } else if (v.valid) {
        status = v.status;
    } else if (p->child_json != NULL || p->verdict == RES_NO_RESULT) {
        status = "error";
        etype = "EngineError";
        snprintf(message, sizeof message,
                 "the jailed interpreter sent a malformed result (or ended the protocol early)");
    } else if (!p->exited && p->exit_signal == SIGXCPU) {
        status = "timeout";
        etype = "TimeoutError";
        snprintf(message, sizeof message,
                 "a process of the program used more CPU time than its %u s limit",
                 xp_job_rlimit_cpu_s(p->wall_limit_ms, p->cpu_limit_ms));
    } else if (!p->exited) {
        status = "killed";
        etype = p->exit_signal == SIGSYS   ? "SeccompViolation"
                : is_fault(p->exit_signal) ? "Crash"
                                           : "Signal";
        snprintf(message, sizeof message,
                 "the interpreter was killed by %s before producing a result%s",
                 res_signal_name(p->exit_signal, sigbuf, sizeof sigbuf),
                 p->exit_signal == SIGSEGV ? " (a crash: e.g. unbounded recursion or a C extension)"
                                           : "");
    } else if (p->exit_code == ZY_EXIT_NO_CHANNEL) {
        status = "error";
        etype = "ResultChannelClosed";
        snprintf(message, sizeof message,
                 "the program closed or damaged the result channel (fd 3), so its result could "
                 "not be delivered");
    } else if (p->exit_code != 0) {
        status = "error";
        etype = "SystemExit";
        snprintf(message, sizeof message,
                 "the interpreter exited with status %d before producing a result", p->exit_code);
    } else {
        status = "ok"; /* os._exit(0): finished, nothing to report */
    }

    app_err err = sbuf_printf(out, "{\"success\":%s,\"status\":\"%s\",\"output\":",
                              strcmp(status, "ok") == 0 ? "true" : "false", status);
    if (err == APP_OK)
        err = jsonw_string(out, p->out ? p->out : "", out_len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"stderr\":");
    if (err == APP_OK)
        err = jsonw_string(out, p->err ? p->err : "", err_len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"error\":");
    if (err == APP_OK) {
        err = etype != NULL ? res_put_error(out, etype, message) : hv_put_error(out, doc, &v);
    }
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"result\":");
    if (err == APP_OK)
        err = !(v.valid && v.has_result && keep < DROP_RESULT) ? sbuf_puts(out, "null")
              : hv_has_nonfinite(doc + v.result.off, v.result.len)
                  ? sbuf_puts(out, "{\"__type__\":\"error\",\"__repr__\":\"the result held a "
                                   "number JSON cannot represent\"}")
                  : sbuf_append(out, doc + v.result.off, v.result.len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"charts\":");
    if (err == APP_OK)
        err = v.valid && keep < DROP_CHARTS ? hv_put_charts(out, doc, &v) : sbuf_puts(out, "[]");
    /* Findings about the data, when asked: dropped with the result. */
    if (err == APP_OK && p->insights)
        err = sbuf_puts(out, ",\"insights\":");
    if (err == APP_OK && p->insights) {
        hv_view none = {0};
        err = hv_put_insights(out, doc, v.valid && keep < DROP_RESULT ? &v : &none);
    }
    /* The debug helpers' and the tracer's output goes with the result. */
    if (err == APP_OK && v.valid && v.has_debug_info && keep < DROP_RESULT)
        err = sbuf_puts(out, ",\"debug_info\":");
    if (err == APP_OK && v.valid && v.has_debug_info && keep < DROP_RESULT)
        err = hv_put_debug_info(out, doc, &v);
    if (err == APP_OK && p->traced)
        err = sbuf_putc(out, ',');
    if (err == APP_OK && p->traced) {
        hv_view none = {.steps_truncated = keep >= DROP_RESULT}; /* dropped for size: say so */
        err = hv_put_steps(out, doc, v.valid && keep < DROP_RESULT ? &v : &none);
    }
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"executionTime\":");
    double exec_ms;
    if (err == APP_OK)
        err = sbuf_printf(out, "%.3f",
                          v.valid && v.has_exec_time && p->verdict == RES_EXITED &&
                                  hv_finite_number(doc + v.exec_time.off, v.exec_time.len, &exec_ms)
                              ? exec_ms
                              : p->wall_ms);
    if (err == APP_OK)
        err =
            sbuf_printf(out, ",\"engine\":\"native\",\"metadata\":{\"limits\":{\"wallTimeMs\":%u,",
                        p->wall_limit_ms);
    if (err == APP_OK && p->cpu_limit_ms > 0)
        err = sbuf_printf(out, "\"cpuTimeMs\":%u,", p->cpu_limit_ms);
    if (err == APP_OK)
        err = sbuf_printf(
            out,
            "\"memoryMb\":%u,\"openFiles\":%u,\"processes\":%u,\"stdoutBytes\":%zu,"
            "\"stderrBytes\":%zu},"
            "\"resources\":{\"wallMs\":%.3f,\"queueMs\":%.3f,\"cpuMs\":%.3f,\"peakMemoryKb\":",
            p->memory_limit_mb, p->nofile, p->nproc, p->stream_cap, p->stream_cap, p->wall_ms,
            p->queue_ms, p->cpu_ms);
    if (err == APP_OK)
        err = p->peak_memory_bytes > 0
                  ? sbuf_printf(out, "%llu", (unsigned long long)(p->peak_memory_bytes / 1024))
                  : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_printf(
            out,
            "},\"truncated\":{\"stdout\":%s,\"stderr\":%s,\"result\":%s,"
            "\"charts\":%s},\"chartsDropped\":%u,",
            p->verdict == RES_STDOUT_LIMIT || out_len < p->out_len ? "true" : "false",
            p->verdict == RES_STDERR_LIMIT || err_len < p->err_len ? "true" : "false",
            v.res_trunc || p->verdict == RES_RESULT_LIMIT || keep >= DROP_RESULT ? "true" : "false",
            keep >= DROP_CHARTS ? "true" : "false", v.charts_dropped);
    if (err == APP_OK && p->sandbox_id != NULL)
        err =
            sbuf_printf(out, "\"sandbox\":{\"sandbox_id\":\"%.*s\",\"state_lost\":%s},",
                        XP_SANDBOX_ID_LEN, p->sandbox_id, p->sandbox_state_lost ? "true" : "false");
    if (err == APP_OK && p->raw_streams)
        err = put_raw_streams(out, p->out, out_len, p->err, err_len);
    if (err == APP_OK)
        err = sbuf_puts(out, "\"exit\":");
    if (err == APP_OK && v.valid && v.has_exit_code && p->exited && p->verdict == RES_EXITED)
        err = sbuf_printf(out, "{\"code\":%d}}}\n", v.exit_code); /* the program's own status */
    else if (err == APP_OK)
        err = p->exited ? sbuf_printf(out, "{\"code\":%d}}}\n", p->exit_code)
                        : sbuf_printf(out, "{\"signal\":\"%s\"}}}\n",
                                      res_signal_name(p->exit_signal, sigbuf, sizeof sigbuf));
    return err;
}
