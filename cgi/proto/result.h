/*
 * result.h - composing a native execution's answer in the shared schema.
 *
 * The supervisor knows how the job ended (exit status, its own verdicts:
 * timeout, output limit, client gone), holds the captured stdout and stderr
 * bytes, and may have received the harness's JSON from the child.  That
 * JSON was written by a process running user code, so it is untrusted: it
 * is read through hview.h, which keeps only the expected members of the
 * expected types and drops anything else.  The answer is
 *
 *   {success, status, output, stderr, error, result, charts, executionTime,
 *    insights?, debug_info?, steps?, steps_truncated?,
 *    engine: "native", metadata: {limits, resources, truncated, exit}}
 *
 * debug_info only when the harness sent one (the program used the debug
 * helpers), steps and steps_truncated only when the job was traced
 * (XP_FLAG_TRACE), both filtered by hv_put_debug_info / hv_put_steps;
 * insights only when the job asked for them (XP_FLAG_INSIGHTS), filtered by
 * hv_put_insights.  output and stderr are JSON text, in which bytes that are
 * not UTF-8 read U+FFFD; for a program's run (raw_streams) the exact bytes
 * of such a stream also go in metadata.rawOutput {stdout?, stderr?} as
 * one-line base64, for the Judge0-compatible API.
 *
 * with status one of ok | error | timeout | memory_limit | output_limit |
 * killed.
 */
#ifndef PYSANDBOX_RESULT_H
#define PYSANDBOX_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "sbuf.h"

/* What the supervisor itself decided about the job. */
typedef enum res_verdict {
    RES_EXITED = 0,     /* the child ended on its own */
    RES_TIMEOUT,        /* the wall-time limit expired: the jail was killed */
    RES_CPU_TIMEOUT,    /* the jail used more CPU time than its limit: killed */
    RES_STDOUT_LIMIT,   /* stdout passed its cap: killed */
    RES_STDERR_LIMIT,   /* stderr passed its cap: killed */
    RES_RESULT_LIMIT,   /* the result passed its cap: killed */
    RES_NO_RESULT,      /* the child broke the channel protocol */
    RES_OOM,            /* the OOM killer acted in the jail's cgroup: the jail was killed */
    RES_ENDED,          /* its sandbox was deleted or expired: the jail was killed */
} res_verdict;

typedef struct res_parts {
    const char *child_json; /* the harness's JSON, or NULL */
    size_t child_len;
    const char *out;        /* captured stdout bytes (any bytes) */
    size_t out_len;
    const char *err;        /* captured stderr bytes */
    size_t err_len;
    res_verdict verdict;
    bool exited;            /* exit_code is valid */
    int exit_code;
    int exit_signal;        /* when !exited */
    bool oom_killed;        /* the memory cgroup killed a task */
    /* limits the job ran under */
    unsigned wall_limit_ms, memory_limit_mb, nofile, nproc;
    unsigned cpu_limit_ms;      /* the jail's CPU-time limit; 0: none beyond the wall time */
    size_t stream_cap;
    /* measurements */
    double wall_ms, queue_ms, cpu_ms;
    uint64_t peak_memory_bytes; /* 0 if unknown */
    /* a sandbox's execution: metadata.sandbox {sandbox_id, state_lost} */
    const char *sandbox_id;     /* XP_SANDBOX_ID_LEN hex digits, or NULL: a one-shot job */
    bool sandbox_state_lost;    /* the sandbox's interpreter ended with this execution */
    bool traced;                /* the job asked for step tracing: the answer carries steps */
    bool insights;              /* the job asked for findings: the answer carries insights */
    bool raw_streams;           /* a program's run (XP_FLAG_PROGRAM): a stream that is not
                                 * UTF-8 also goes in metadata.rawOutput, as base64 */
} res_parts;

/*
 * Appends the answer for p to out.  Never fails on content (malformed child
 * JSON becomes an "error" answer that says so).  When the whole answer does
 * not fit out's cap, it gives parts up in this order until it fits: the
 * charts, then the result (debug_info and steps with it), then all but 64 KiB of stdout and of stderr; the
 * answer then says status "output_limit", error OutputLimitExceeded, and
 * metadata.truncated {stdout, stderr, result, charts} say what went.  A
 * program therefore cannot make its answer fail.  Numbers the program sent
 * are copied only when finite.  Returns APP_ETOOBIG or APP_ENOMEM only when
 * out cannot hold even that.
 */
APP_MUST_CHECK app_err res_compose(const res_parts *p, sbuf *out);

/* Appends an engine-side error object in the shared schema:
 * {"type": type, "message": message, "traceback": ""}.  Returns APP_OK or
 * out's error. */
APP_MUST_CHECK app_err res_put_error(sbuf *out, const char *type, const char *message);

/* Returns the name of a signal ("SIGKILL"), or "signal N" in buf. */
const char *res_signal_name(int sig, char *buf, size_t len);

#endif
