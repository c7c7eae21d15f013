/*
 * fcgi_main.c - pysandbox-fcgi: the FastCGI adapter around service.c.
 *
 * The master opens the FastCGI socket, forks PYSANDBOX_WORKERS workers and
 * restarts any that die.  With PYSANDBOX_FCGI_CONTROL_SOCKET it also opens
 * a second socket served by FCGI_CONTROL_WORKERS workers of their own:
 * nginx sends the health endpoints there, so that they never wait behind
 * user work holding every ordinary worker.  With PYSANDBOX_FCGI_STREAM_SOCKET
 * a third socket is served by PYSANDBOX_STREAM_WORKERS workers: nginx sends
 * requests that ask for live output (Accept: text/event-stream) there, so
 * that watched runs, which hold their worker for as long as they run, do
 * not take the workers short requests need.  An idle worker costs a few
 * hundred KiB of its own (docs/PERFORMANCE.md).  Each worker is single-threaded: it accepts one
 * request, turns the FastCGI params into an http_req, reads the body only
 * if the route's cap allows it, calls svc_handle() and writes the
 * http_resp.  This is the only file that includes fcgiapp.h.
 *
 * Environment: PYSANDBOX_ROOT (project directory), PYSANDBOX_FCGI_SOCKET
 * (unix socket path), PYSANDBOX_FCGI_CONTROL_SOCKET (optional), PYSANDBOX_WORKERS
 * (1..256, default 16), PYSANDBOX_FCGI_STREAM_SOCKET (optional),
 * PYSANDBOX_STREAM_WORKERS (1..1024, default 72), plus the settings conf.c reads.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arun.h"
#include "bench.h"
#include "bg.h"
#include "conf.h"
#include "http.h"
#include "j0api.h"
#include "runpool.h"
#include "service.h"

#define FCGI_DEFAULT_WORKERS 16
#define FCGI_MAX_WORKERS 256
#define FCGI_BACKLOG 256
/* Workers of the control socket (health, liveness): each answer is quick. */
#define FCGI_CONTROL_WORKERS 2
/* Workers of the stream socket: PYSANDBOX_MAX_STREAMS' default (64) and a
 * few for streams waiting for an executor slot or finishing. */
#define FCGI_DEFAULT_STREAM_WORKERS 72
#define FCGI_MAX_STREAM_WORKERS 1024

typedef struct worker {
    pid_t pid;
    time_t started;
    int sock; /* the listening socket it serves */
} worker;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char *param(FCGX_Request *r, const char *name)
{
    const char *v = FCGX_GetParam(name, r->envp);
    return v != NULL ? v : "";
}

static void write_response(FCGX_Request *r, const http_resp *resp, int head_only)
{
    FCGX_FPrintF(r->out, "Status: %d %s\r\n", resp->status, http_reason(resp->status));
    if (resp->headers.len > 0)
        FCGX_PutStr(resp->headers.data, (int)resp->headers.len, r->out);
    if (!resp->has_type)
        FCGX_FPrintF(r->out, "Content-Type: text/plain; charset=utf-8\r\n");
    FCGX_FPrintF(r->out, "\r\n");
    if (!head_only && resp->body.len > 0)
        FCGX_PutStr(resp->body.data, (int)resp->body.len, r->out);
}

/* Parses CONTENT_LENGTH; returns -1 for anything but a plain decimal. */
static long long content_length(const char *v)
{
    if (v[0] == '\0')
        return 0;
    long long n = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || n > (1LL << 40))
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n;
}

/* http_stream over FastCGI: every write is flushed to nginx at once (the
 * answer sends X-Accel-Buffering: no, so nginx relays it at once too). */
static bool stream_begin(void *ctx, const http_resp *resp)
{
    FCGX_Request *r = ctx;
    write_response(r, resp, 1);
    return FCGX_FFlush(r->out) == 0 && FCGX_GetError(r->out) == 0;
}

static bool stream_write(void *ctx, const char *bytes, size_t n)
{
    FCGX_Request *r = ctx;
    if (n > 0 && FCGX_PutStr(bytes, (int)n, r->out) != (int)n)
        return false;
    return FCGX_FFlush(r->out) == 0 && FCGX_GetError(r->out) == 0;
}

static void serve_one(svc *s, FCGX_Request *r)
{
    const http_stream stream = {stream_begin, stream_write, r};
    http_resp resp;
    http_resp_init(&resp);
    char *body_bytes = NULL;
    http_req req = {
        .method = param(r, "REQUEST_METHOD"),
        .path = param(r, "DOCUMENT_URI"),
        .query = param(r, "QUERY_STRING"),
        .content_type = param(r, "CONTENT_TYPE"),
        .host = param(r, "HTTP_HOST"),
        .scheme = param(r, "REQUEST_SCHEME"),
        .remote_addr = param(r, "REMOTE_ADDR"),
        .body = "",
        .body_len = 0,
        .cancel_fd = r->ipcFd,
        .accept = param(r, "HTTP_ACCEPT"),
        .last_event_id = param(r, "HTTP_LAST_EVENT_ID"),
        .origin = param(r, "HTTP_ORIGIN"),
        .mcp_session = param(r, "HTTP_MCP_SESSION_ID"),
        .mcp_protocol = param(r, "HTTP_MCP_PROTOCOL_VERSION"),
        .auth_token = param(r, "HTTP_X_AUTH_TOKEN"),
        .tokens = param(r, "HTTP_TOKENS"),
        .cors_method = param(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
        .cors_headers = param(r, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
        .stream = &stream,
    };
    int head_only = strcmp(req.method, "HEAD") == 0;
    long long clen = content_length(param(r, "CONTENT_LENGTH"));
    size_t cap = 0;
    app_err route = svc_body_limit(s, req.method, req.path, &cap);
    if (clen < 0) {
        http_resp_error(&resp, APP_EFIELD, "invalid Content-Length");
    } else if (route == APP_OK && (unsigned long long)clen > cap) {
        char msg[APP_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "the request body is larger than the %zu-byte limit", cap);
        http_resp_error(&resp, APP_ETOOBIG, msg);
    } else {
        /* Unknown routes and wrong methods read no body: svc_handle answers
         * 404/405 from the method and path alone. */
        size_t want = route == APP_OK ? (size_t)clen : 0;
        body_bytes = malloc(want + 1);
        if (body_bytes == NULL) {
            http_resp_error(&resp, APP_ENOMEM, NULL);
        } else {
            size_t got = 0;
            while (got < want) {
                size_t chunk = want - got > (1u << 20) ? (1u << 20) : want - got;
                int n = FCGX_GetStr(body_bytes + got, (int)chunk, r->in);
                if (n <= 0)
                    break;
                got += (size_t)n;
            }
            body_bytes[got] = '\0';
            /* Read up to the end of the FastCGI stdin stream (its empty
             * terminating record), so that from now on any readiness of the
             * connection means nginx closed it: the client went away. */
            char rest[4096];
            while (FCGX_GetStr(rest, sizeof rest, r->in) > 0)
                ;
            if (got < want) {
                http_resp_error(&resp, APP_EFIELD, "the request body ended early");
            } else {
                req.body = body_bytes;
                req.body_len = got;
                svc_handle(s, &req, &resp);
            }
        }
    }
    if (!resp.streamed)
        write_response(r, &resp, head_only);
    free(body_bytes);
    http_resp_free(&resp);
}

static int worker_loop(svc *s, int sock)
{
    FCGX_Request r;
    if (FCGX_InitRequest(&r, sock, 0) != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    while (!stop_requested && FCGX_Accept_r(&r) == 0) {
        serve_one(s, &r);
        FCGX_Finish_r(&r);
    }
    return 0;
}

/* Listens on a fresh unix socket at path; -1 (reported) on failure. */
static int open_socket(const char *path)
{
    unlink(path);
    mode_t old = umask(0); /* nginx workers may run as another user */
    int sock = FCGX_OpenSocket(path, FCGI_BACKLOG);
    umask(old);
    if (sock < 0)
        fprintf(stderr, "pysandbox-fcgi: cannot listen on %s: %s\n", path, strerror(errno));
    return sock;
}

static pid_t spawn_worker(svc *s, int sock)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        _exit(worker_loop(s, sock));
    }
    return pid;
}

/* The background tasks this program runs for bg_run_task() (see bg.h):
 * "benchmark" <run id>, "judge0" <submission token>.  (Asynchronous
 * executions run in the task pool instead: runpool.h.)  Returns the task
 * process's exit status. */
static int task_main(const conf *c, const char *name, const char *arg)
{
    if (!bg_arg_ok(arg))
        return 2;
    if (strcmp(name, "benchmark") == 0)
        return bench_task(c, arg) == APP_OK ? 0 : 1;
    if (strcmp(name, "judge0") == 0)
        return j0api_task(c, arg) == APP_OK ? 0 : 1;
    fprintf(stderr, "pysandbox-fcgi: unknown task %s\n", name);
    return 2;
}

int main(int argc, char **argv)
{
    const char *root = getenv("PYSANDBOX_ROOT");
    if (argc == 4 && strcmp(argv[1], "--task") == 0 && root != NULL) {
        /* A background task started by bg_run_task(): see bg.h. */
        conf tc;
        char tmsg[APP_ERRMSG_LEN];
        if (conf_load(&tc, root, NULL, NULL, tmsg, sizeof tmsg) != APP_OK) {
            fprintf(stderr, "pysandbox-fcgi --task: %s\n", tmsg);
            conf_free(&tc);
            return 2;
        }
        int rc = task_main(&tc, argv[2], argv[3]);
        conf_free(&tc);
        return rc;
    }
    const char *sock_path = getenv("PYSANDBOX_FCGI_SOCKET");
    const char *workers_env = getenv("PYSANDBOX_WORKERS");
    const char *control_path = getenv("PYSANDBOX_FCGI_CONTROL_SOCKET");
    if (control_path != NULL && control_path[0] == '\0')
        control_path = NULL;
    const char *stream_path = getenv("PYSANDBOX_FCGI_STREAM_SOCKET");
    if (stream_path != NULL && stream_path[0] == '\0')
        stream_path = NULL;
    const char *stream_workers_env = getenv("PYSANDBOX_STREAM_WORKERS");
    if (root == NULL || sock_path == NULL) {
        fprintf(stderr, "pysandbox-fcgi: PYSANDBOX_ROOT and PYSANDBOX_FCGI_SOCKET must be set\n");
        return 2;
    }
    size_t nworkers = FCGI_DEFAULT_WORKERS;
    if (workers_env != NULL &&
        (!conf_parse_size(workers_env, &nworkers) || nworkers < 1 || nworkers > FCGI_MAX_WORKERS)) {
        fprintf(stderr, "pysandbox-fcgi: PYSANDBOX_WORKERS must be 1..%d\n", FCGI_MAX_WORKERS);
        return 2;
    }
    size_t nstream = FCGI_DEFAULT_STREAM_WORKERS;
    if (stream_workers_env != NULL &&
        (!conf_parse_size(stream_workers_env, &nstream) || nstream < 1 ||
         nstream > FCGI_MAX_STREAM_WORKERS)) {
        fprintf(stderr, "pysandbox-fcgi: PYSANDBOX_STREAM_WORKERS must be 1..%d\n",
                FCGI_MAX_STREAM_WORKERS);
        return 2;
    }
    conf c;
    char msg[APP_ERRMSG_LEN];
    if (conf_load(&c, root, NULL, NULL, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "pysandbox-fcgi: %s\n", msg);
        conf_free(&c);
        return 2;
    }
    svc *s = NULL;
    if (svc_new(&c, &s, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "pysandbox-fcgi: %s\n", msg);
        conf_free(&c);
        return 2;
    }
    if (FCGX_Init() != 0) {
        fprintf(stderr, "pysandbox-fcgi: FCGX_Init failed\n");
        return 1;
    }
    int sock = open_socket(sock_path);
    int control_sock = control_path != NULL ? open_socket(control_path) : -1;
    int stream_sock = stream_path != NULL ? open_socket(stream_path) : -1;
    if (sock < 0 || (control_path != NULL && control_sock < 0) ||
        (stream_path != NULL && stream_sock < 0))
        return 1;

    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The pool that runs asynchronous executions: its pipe before any
     * worker exists (they inherit it), its spawner before the workers. */
    if (runpool_init(msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "pysandbox-fcgi: %s\n", msg);
        return 1;
    }
    pid_t pool = arun_pool_start(&c);
    time_t pool_started = time(NULL);

    size_t ncontrol = control_sock >= 0 ? FCGI_CONTROL_WORKERS : 0;
    if (stream_sock < 0)
        nstream = 0;
    size_t nall = nworkers + ncontrol + nstream;
    worker *w = calloc(nall, sizeof *w);
    if (w == NULL)
        return 1;
    for (size_t i = 0; i < nall; i++) {
        w[i].sock = i < nworkers ? sock : i < nworkers + ncontrol ? control_sock : stream_sock;
        w[i].pid = spawn_worker(s, w[i].sock);
        w[i].started = time(NULL);
    }
    fprintf(stderr, "pysandbox-fcgi: %zu workers on %s", nworkers, sock_path);
    if (control_sock >= 0)
        fprintf(stderr, ", %zu on %s", ncontrol, control_path);
    if (stream_sock >= 0)
        fprintf(stderr, ", %zu on %s", nstream, stream_path);
    fputc('\n', stderr);

    while (!stop_requested) {
        int status;
        pid_t dead = waitpid(-1, &status, 0);
        if (dead < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (dead == pool) {
            fprintf(stderr, "pysandbox-fcgi: task pool %d ended; restarting\n", (int)dead);
            if (time(NULL) - pool_started < 1)
                sleep(1); /* a pool that dies at once would otherwise spin */
            pool = stop_requested ? -1 : arun_pool_start(&c);
            pool_started = time(NULL);
            continue;
        }
        for (size_t i = 0; i < nall; i++) {
            if (w[i].pid != dead)
                continue;
            if (WIFSIGNALED(status))
                fprintf(stderr, "pysandbox-fcgi: worker %d killed by signal %d; restarting\n",
                        (int)dead, WTERMSIG(status));
            else
                fprintf(stderr, "pysandbox-fcgi: worker %d exited with %d; restarting\n", (int)dead,
                        WEXITSTATUS(status));
            if (time(NULL) - w[i].started < 1)
                sleep(1); /* a worker that dies at once would otherwise spin */
            if (stop_requested)
                break;
            w[i].pid = spawn_worker(s, w[i].sock);
            w[i].started = time(NULL);
        }
    }
    for (size_t i = 0; i < nall; i++)
        if (w[i].pid > 0)
            kill(w[i].pid, SIGTERM);
    if (pool > 0)
        kill(pool, SIGTERM);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    unlink(sock_path);
    if (control_path != NULL)
        unlink(control_path);
    if (stream_path != NULL)
        unlink(stream_path);
    free(w);
    svc_free(s);
    conf_free(&c);
    return 0;
}
