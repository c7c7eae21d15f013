/* judge0_engine.c - the remote Judge0 engine: our harness, run by Judge0. */
#include "judge0_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"
#include "hview.h"
#include "jscan.h"
#include "judge0.h"
#include "result.h"
#include "xproto.h"

/* Time allowed on top of the job's wall limit before we stop waiting:
 * Judge0's queue, isolate's set-up, cpu_extra_time, and the polling
 * granularity (Judge0 caches a GET for 1 s). */
#define JENG_MARGIN_MS 10000u
/* Largest harness.py we read (it is ~15 KB; this only bounds a mistake). */
#define JENG_MAX_HARNESS (1024u * 1024)
/* Judge0 refuses (422) a wall_time_limit below 1 s, a memory_limit below
 * 2048 KB, and by default a cpu_time_limit above 15 s (MAX_CPU_TIME_LIMIT):
 * our requests stay inside those bounds. */
#define JENG_MIN_WALL_S 1.0
#define JENG_MAX_CPU_S 15.0
#define JENG_MIN_MEMORY_KB 2048u
/* Cap on the decoded output/stderr we re-encode (Judge0's whole answer is
 * at most JZ_MAX_RESPONSE, so this is never the binding limit). */
#define JENG_MAX_TEXT (2u * JZ_MAX_RESPONSE)
/* Cap on the driver's stdin ({"code", "data"} as JSON): base64 makes it a
 * third larger, and jz_run() refuses requests over 16 MiB. */
#define JENG_MAX_STDIN (11u * 1024 * 1024)
/* Bytes of Judge0's own message or compile output quoted in an error. */
#define JENG_QUOTE 4096

bool jeng_configured(const conf *c)
{
    return c->judge0_url != NULL;
}

/* The driver appended to harness.py.  It must run on Judge0's Python 3.8.
 * The result goes out with os.write after a marker line that carries a
 * per-job nonce, so what user code printed straight to fd 1 (os.write, C
 * extensions) stays before it; os._exit then skips waiting for threads
 * the user left running, as the native engine answers once the result is
 * complete. */
static const char driver_fmt[] =
    "\n\n# ---- pysandbox: Judge0 driver, appended by judge0_engine.c ----\n"
    "def _pysandbox_judge0_main():\n"
    "    import os\n"
    "    job = json.loads(sys.stdin.buffer.read().decode(\"utf-8\"))\n"
    "    extra = {\"insights\": True} if job.get(\"insights\") else {}\n"
    "    text = run_json(job[\"code\"], job[\"data\"], True, **extra)\n"
    "    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):\n"
    "        try:\n"
    "            stream.flush()\n"
    "        except Exception:\n"
    "            pass\n"
    "    data = b\"\\n%s\\n\" + text.encode(\"utf-8\", \"replace\") + b\"\\n\"\n"
    "    while data:\n"
    "        data = data[os.write(1, data):]\n"
    "    os._exit(0)\n"
    "\n"
    "\n"
    "if __name__ == \"__main__\":\n"
    "    _pysandbox_judge0_main()\n";

static void make_marker(char *buf, size_t len)
{
    unsigned char nonce[16];
    if (getrandom(nonce, sizeof nonce, GRND_NONBLOCK) != (ssize_t)sizeof nonce) {
        /* Uniqueness only keeps ordinary output from looking like the
         * marker; it is not a secret (user code can read the driver). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_nsec ^
                               ((unsigned long long)ts.tv_sec << 20) ^ (unsigned long long)getpid();
        for (size_t i = 0; i < sizeof nonce; i++)
            nonce[i] = (unsigned char)(x >> (i % 8 * 8));
    }
    size_t n = (size_t)snprintf(buf, len, "--pysandbox-judge0-result-");
    for (size_t i = 0; i < sizeof nonce && n + 3 < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%02x", nonce[i]);
    snprintf(buf + n, len - n, "--");
}

static APP_MUST_CHECK app_err read_harness(const conf *c, sbuf *src, char *msg, size_t msglen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/harness.py", c->web_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot read the harness %s: %s", path, strerror(errno));
        return APP_ECONFIG;
    }
    app_err err = APP_OK;
    char chunk[16384];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(msg, msglen, "cannot read the harness %s: %s", path, strerror(errno));
            err = APP_ECONFIG;
            break;
        }
        if (r == 0)
            break;
        if ((err = sbuf_append(src, chunk, (size_t)r)) != APP_OK) {
            snprintf(msg, msglen, "the harness %s is larger than %u bytes", path, JENG_MAX_HARNESS);
            err = APP_ECONFIG;
            break;
        }
    }
    close(fd);
    return err;
}

/* Finds the last "\n<marker>\n" in stdout: *prefix_len gets the bytes
 * before it, *json and *json_len the line after it. */
static bool find_marker(const sbuf *so, const char *marker, size_t *prefix_len, const char **json,
                        size_t *json_len)
{
    char needle[128];
    int nl = snprintf(needle, sizeof needle, "\n%s\n", marker);
    const char *hay = sbuf_str(so), *found = NULL;
    size_t n = so->len;
    for (const char *p = hay; p + nl <= hay + n;) {
        const char *q = memmem(p, (size_t)(hay + n - p), needle, (size_t)nl);
        if (q == NULL)
            break;
        found = q;
        p = q + 1;
    }
    if (found == NULL)
        return false;
    *prefix_len = (size_t)(found - hay);
    *json = found + nl;
    const char *end = memchr(*json, '\n', (size_t)(hay + n - *json));
    *json_len = (size_t)((end != NULL ? end : hay + n) - *json);
    return true;
}

/* How the job ended, in our terms, when the harness did not say. */
typedef struct verdict {
    const char *status;
    const char *etype; /* NULL: the harness's error (or null) */
    char message[JENG_QUOTE + 256];
} verdict;

static void quote(const sbuf *b, char *buf, size_t len)
{
    /* First JENG_QUOTE bytes; jsonw_string later repairs any UTF-8
     * sequence this cuts. */
    snprintf(buf, len, "%.*s", (int)(b->len < JENG_QUOTE ? b->len : JENG_QUOTE), sbuf_str(b));
}

static void judge0_verdict(const jz_result *r, const native_job *job, double wall_s, verdict *v)
{
    char jmsg[JENG_QUOTE + 1], sigbuf[32];
    quote(&r->message, jmsg, sizeof jmsg);
    int sig = r->has_exit_signal && r->exit_signal > 0 ? r->exit_signal : 0;
    switch (r->status_id) {
    case 3:
    case 4:
        /* It ended cleanly without printing a result: user code called
         * os._exit(0).  Like the native engine: finished, nothing to report. */
        v->status = "ok";
        v->etype = NULL;
        return;
    case 5:
        v->status = "timeout";
        v->etype = "TimeoutError";
        snprintf(
            v->message, sizeof v->message,
            "the program ran longer than the %.1f s time limit and was stopped by Judge0%s%s%s",
            wall_s, jmsg[0] ? " (" : "", jmsg, jmsg[0] ? ")" : "");
        return;
    case 6:
        v->status = "error";
        v->etype = "CompilationError";
        quote(&r->compile_output, jmsg, sizeof jmsg);
        snprintf(v->message, sizeof v->message, "Judge0 could not compile the program: %s", jmsg);
        return;
    case 8:
        /* stdout is a file in isolate: RLIMIT_FSIZE (max_file_size) stopped it. */
        v->status = "output_limit";
        v->etype = "OutputLimitExceeded";
        snprintf(v->message, sizeof v->message,
                 "the output passed Judge0's file-size limit and the program was stopped "
                 "(SIGXFSZ; output truncated)");
        return;
    case 7:
    case 9:
    case 10:
        if (sig == 0)
            sig = r->status_id == 7 ? 11 : r->status_id == 9 ? 8 : 6;
        /* fall through */
    case 12:
        if (sig != 0) {
            v->status = "killed";
            v->etype = "Crash";
            snprintf(v->message, sizeof v->message,
                     "the interpreter was killed by %s on Judge0 before producing a result",
                     res_signal_name(sig, sigbuf, sizeof sigbuf));
            return;
        }
        v->status = "error";
        v->etype = "RuntimeError";
        snprintf(v->message, sizeof v->message, "Judge0 reported a runtime error: %s",
                 jmsg[0] ? jmsg : "(no detail)");
        return;
    default: /* 11, NZEC, without a result */
        if (r->has_exit_code && r->exit_code == 137) {
            /* 128 + SIGKILL: how the memory cgroup's kill surfaces in
             * Judge0, which has no memory-limit status (judge0/judge0#298). */
            v->status = "memory_limit";
            v->etype = "MemoryError";
            snprintf(v->message, sizeof v->message,
                     "the interpreter was killed (exit status 137), most likely for passing the "
                     "%u MB memory limit",
                     job->memory_mb);
            return;
        }
        v->status = "error";
        v->etype = "SystemExit";
        snprintf(v->message, sizeof v->message,
                 "the interpreter exited with status %d before producing a result%s%s",
                 r->has_exit_code ? r->exit_code : 1, jmsg[0] ? ": " : "", jmsg);
        return;
    }
}

static APP_MUST_CHECK app_err put_opt_number(sbuf *out, bool has, double v)
{
    return has ? sbuf_printf(out, "%.3f", v) : sbuf_puts(out, "null");
}

typedef struct limits {
    double wall_s, cpu_s;
    unsigned memory_kb;
} limits;

/* Appends the answer in the shared schema for a finished submission. */
static APP_MUST_CHECK app_err compose(const jz_result *r, const native_job *job, const limits *lim,
                       const char *marker, sbuf *out)
{
    sbuf output, errtext;
    sbuf_init(&output, JENG_MAX_TEXT);
    sbuf_init(&errtext, JENG_MAX_TEXT);
    hv_view h;
    memset(&h, 0, sizeof h);
    verdict v = {.status = "error", .etype = NULL, .message = ""};
    const char *doc = NULL, *json = NULL;
    size_t prefix = 0, json_len = 0;
    bool marked = find_marker(&r->stdout_text, marker, &prefix, &json, &json_len);
    int id = r->status_id;
    app_err err = APP_OK;

    if (marked && (id == 3 || id == 4 || id == 11)) {
        hv_read(json, json_len, &h);
        doc = json;
        if (h.valid) {
            v.status = h.status;
        } else {
            v.etype = "EngineError";
            snprintf(v.message, sizeof v.message, "Judge0 returned a malformed harness result");
        }
    } else {
        judge0_verdict(r, job, lim->wall_s, &v);
    }
    /* output: what reached fd 1 directly, then what the harness captured;
     * stderr: the harness's, then fd 2's (warnings, the driver's own
     * traceback). */
    err = sbuf_append(&output, sbuf_str(&r->stdout_text), marked ? prefix : r->stdout_text.len);
    if (err == APP_OK && h.valid && h.has_output)
        err = js_string_decode(doc, h.output, &output, NULL);
    if (err == APP_OK && h.valid && h.has_stderr)
        err = js_string_decode(doc, h.stderr_text, &errtext, NULL);
    if (err == APP_OK)
        err = sbuf_append(&errtext, sbuf_str(&r->stderr_text), r->stderr_text.len);
    if (err != APP_OK)
        goto out;

    bool ok = strcmp(v.status, "ok") == 0 && v.etype == NULL;
    err = sbuf_printf(out, "{\"success\":%s,\"status\":\"%s\",\"output\":", ok ? "true" : "false",
                      v.status);
    if (err == APP_OK)
        err = jsonw_string(out, sbuf_str(&output), output.len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"stderr\":");
    if (err == APP_OK)
        err = jsonw_string(out, sbuf_str(&errtext), errtext.len);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"error\":");
    if (err == APP_OK) {
        if (v.etype != NULL)
            err = res_put_error(out, v.etype, v.message);
        else
            err = h.valid ? hv_put_error(out, doc, &h) : sbuf_puts(out, "null");
    }
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"result\":");
    if (err == APP_OK)
        err = h.valid && h.has_result ? sbuf_append(out, doc + h.result.off, h.result.len)
                                      : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"charts\":");
    if (err == APP_OK)
        err = h.valid ? hv_put_charts(out, doc, &h) : sbuf_puts(out, "[]");
    if (err == APP_OK && job->insights)
        err = sbuf_puts(out, ",\"insights\":");
    if (err == APP_OK && job->insights) {
        hv_view none = {0};
        err = hv_put_insights(out, doc, h.valid ? &h : &none);
    }
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"executionTime\":");
    if (err == APP_OK) {
        if (h.valid && h.has_exec_time)
            err = sbuf_append(out, doc + h.exec_time.off, h.exec_time.len);
        else
            err = sbuf_printf(out, "%.3f",
                              1000.0 * (r->has_wall_time ? r->wall_time_s
                                        : r->has_time    ? r->time_s
                                                         : 0.0));
    }
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"engine\":\"judge0\",\"metadata\":{\"judge0\":{\"token\":");
    if (err == APP_OK)
        err = jsonw_string(out, r->token, strlen(r->token));
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"statusId\":%d,\"status\":", id);
    if (err == APP_OK) {
        const char *d = r->status_description[0] != '\0' ? r->status_description
                                                         : jz_status_description(id);
        err = jsonw_string(out, d, strlen(d));
    }
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"time\":");
    if (err == APP_OK)
        err = put_opt_number(out, r->has_time, r->time_s);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"wallTime\":");
    if (err == APP_OK)
        err = put_opt_number(out, r->has_wall_time, r->wall_time_s);
    if (err == APP_OK)
        err = r->has_memory ? sbuf_printf(out, ",\"memoryKb\":%ld", r->memory_kb)
                            : sbuf_puts(out, ",\"memoryKb\":null");
    if (err == APP_OK)
        err = r->has_exit_code ? sbuf_printf(out, ",\"exitCode\":%d", r->exit_code)
                               : sbuf_puts(out, ",\"exitCode\":null");
    if (err == APP_OK)
        err = r->has_exit_signal ? sbuf_printf(out, ",\"exitSignal\":%d", r->exit_signal)
                                 : sbuf_puts(out, ",\"exitSignal\":null");
    if (err == APP_OK)
        err = sbuf_printf(out,
                          "},\"limits\":{\"wallTimeMs\":%.0f,\"cpuTimeMs\":%.0f,\"memoryMb\":%u},"
                          "\"truncated\":{\"stdout\":%s,\"stderr\":%s,\"result\":%s},"
                          "\"chartsDropped\":%u}}\n",
                          lim->wall_s * 1000.0, lim->cpu_s * 1000.0, lim->memory_kb / 1024,
                          h.out_trunc || id == 8 ? "true" : "false", h.err_trunc ? "true" : "false",
                          h.res_trunc ? "true" : "false", h.charts_dropped);
out:
    sbuf_free(&output);
    sbuf_free(&errtext);
    return err;
}

/* Appends the stdin the driver reads: {"code": <code>, "data": <data text>|null}. */
static APP_MUST_CHECK app_err build_stdin(const native_job *job, sbuf *in)
{
    app_err err = sbuf_puts(in, "{\"code\":");
    if (err == APP_OK)
        err = jsonw_string(in, job->code != NULL ? job->code : "", job->code_len);
    if (err == APP_OK)
        err = sbuf_puts(in, ",\"data\":");
    if (err == APP_OK)
        err = job->data_len > 0 ? jsonw_string(in, job->data, job->data_len)
                                : sbuf_puts(in, "null");
    if (err == APP_OK && job->insights)
        err = sbuf_puts(in, ",\"insights\":true");
    if (err == APP_OK)
        err = sbuf_putc(in, '}');
    return err;
}

app_err jeng_run(const conf *c, const native_job *job, int cancel_fd, sbuf *out, char *msg,
                 size_t msglen)
{
    if (!jeng_configured(c)) {
        snprintf(msg, msglen, "the Judge0 engine is not configured (JUDGE0_API_URL)");
        return APP_EUNAVAIL;
    }
    if (job->program) {
        snprintf(msg, msglen, "the Judge0 engine does not run programs (program mode)");
        return APP_EREFUSED;
    }
    if (job->wall_ms > c->judge0_max_wall_ms) {
        snprintf(msg, msglen,
                 "maxExecutionTime %.3g s is more than this server's Judge0 engine allows "
                 "(%.3g s)",
                 job->wall_ms / 1000.0, c->judge0_max_wall_ms / 1000.0);
        return APP_EREFUSED;
    }
    if (job->memory_mb > c->judge0_max_memory_mb) {
        snprintf(msg, msglen,
                 "maxMemoryUsage %u MB is more than this server's Judge0 engine allows (%u MB)",
                 job->memory_mb, c->judge0_max_memory_mb);
        return APP_EREFUSED;
    }
    if (job->code_len > XP_MAX_CODE) {
        snprintf(msg, msglen, "code is larger than %u bytes", XP_MAX_CODE);
        return APP_ETOOBIG;
    }

    /* 0 would mean Judge0's defaults; native_limits never leaves them 0. */
    limits lim = {0, 0, 0};
    if (job->wall_ms > 0) {
        lim.wall_s =
            job->wall_ms / 1000.0 < JENG_MIN_WALL_S ? JENG_MIN_WALL_S : job->wall_ms / 1000.0;
        lim.cpu_s = lim.wall_s > JENG_MAX_CPU_S ? JENG_MAX_CPU_S : lim.wall_s;
        if (job->cpu_ms > 0 && job->cpu_ms / 1000.0 < lim.cpu_s) /* maxCpuTime */
            lim.cpu_s = job->cpu_ms / 1000.0;
    }
    if (job->memory_mb > 0)
        lim.memory_kb = job->memory_mb * 1024u < JENG_MIN_MEMORY_KB ? JENG_MIN_MEMORY_KB
                                                                    : job->memory_mb * 1024u;

    jz_client *client = NULL;
    jz_result r;
    jz_result_init(&r);
    sbuf src, in;
    sbuf_init(&src, JENG_MAX_HARNESS + sizeof driver_fmt + 128);
    sbuf_init(&in, JENG_MAX_STDIN);
    char marker[96];
    make_marker(marker, sizeof marker);
    app_err err = read_harness(c, &src, msg, msglen);
    if (err != APP_OK)
        goto out;
    if ((err = sbuf_printf(&src, driver_fmt, marker)) != APP_OK ||
        (err = build_stdin(job, &in)) != APP_OK) {
        snprintf(msg, msglen,
                 err == APP_ETOOBIG ? "code and data are too large for the Judge0 engine (over "
                                      "%u bytes once encoded as JSON)"
                                    : "out of memory building the Judge0 job (%u)",
                 JENG_MAX_STDIN);
        goto out;
    }
    jz_config cfg = {
        .url = c->judge0_url, .key = c->judge0_key, .language_id = (int)c->judge0_language_id};
    if ((err = jz_client_new(&cfg, &client, msg, msglen)) != APP_OK)
        goto out;
    jz_submission s = {.source = src.data,
                       .source_len = src.len,
                       .stdin_text = in.data,
                       .stdin_len = in.len,
                       .cpu_time_limit_s = lim.cpu_s,
                       .wall_time_limit_s = lim.wall_s,
                       .memory_limit_kb = lim.memory_kb};
    unsigned wall_ms = job->wall_ms > 0 ? job->wall_ms : c->judge0_max_wall_ms;
    if ((err = jz_run(client, &s, wall_ms + JENG_MARGIN_MS, cancel_fd, &r, msg, msglen)) != APP_OK)
        goto out;
    if (r.status_id == 13 || r.status_id == 14) {
        /* Judge0's own failure, not the program's: the router may fall back. */
        char jmsg[161];
        snprintf(jmsg, sizeof jmsg, "%.*s", (int)(r.message.len < 160 ? r.message.len : 160),
                 sbuf_str(&r.message));
        for (char *p = jmsg; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                *p = ' ';
        snprintf(msg, msglen, "Judge0 failed to run the submission (%s)%s%s",
                 jz_status_description(r.status_id), jmsg[0] ? ": " : "", jmsg);
        err = APP_EUPSTREAM;
        goto out;
    }
    if ((err = compose(&r, job, &lim, marker, out)) != APP_OK)
        snprintf(msg, msglen, "the Judge0 engine's answer is too large");
out:
    jz_client_free(client);
    jz_result_free(&r);
    sbuf_free(&src);
    sbuf_free(&in);
    return err;
}
