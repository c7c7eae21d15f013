/*
 * xproto.h - the wire protocol between the FastCGI front and the executor.
 *
 * One request per connection on the executor's unix socket:
 *
 *   front -> executor   xp_req_hdr (little-endian, fixed size), then
 *                       code_len bytes of UTF-8 Python source, then
 *                       data_len bytes of JSON text (the user's data)
 *   executor -> front   xp_resp_hdr (16 bytes), then json_len bytes: the
 *                       complete result object in the shared schema
 *
 * op XP_OP_STATUS asks for the executor's health instead; its answer is a
 * JSON object in the same response frame.  The executor closes the
 * connection after answering.  Closing it early from the front cancels the
 * job (its jailed child is killed).
 *
 * The same header (with op XP_OP_JOB) carries a job from the supervisor to
 * a jailed child over the child's channel; the child answers with a u32
 * length and the harness's JSON.  Everything a child sends is untrusted.
 */
#ifndef PYSANDBOX_XPROTO_H
#define PYSANDBOX_XPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

#define XP_MAGIC_REQ 0x31585350u  /* "PSX1" */
#define XP_MAGIC_RESP 0x31525350u /* "PSR1" */

/* Job flags. */
#define XP_FLAG_PROGRAM 1u /* run as a plain program: the data bytes are its stdin */
#define XP_FLAG_SANDBOX 2u /* executor -> child only: keep the interpreter and its globals
                            * after the job, and wait for the next one (a sandbox) */
#define XP_FLAG_STREAM 4u  /* front -> executor only: send the job's stdout and stderr as
                            * they come (XP_FRAME_STDOUT / _STDERR frames), then the answer */
#define XP_FLAG_TRACE 8u   /* run the code under the harness's step tracer (harness.run's
                            * trace): the answer gains steps */
#define XP_FLAG_STEPS 16u  /* executor -> child only, with XP_FLAG_TRACE: also write each
                            * step on the channel as it happens (a step frame), for a
                            * streamed job's XP_FRAME_STEP frames */
#define XP_FLAG_INSIGHTS 32u /* the answer gains "insights": the harness's findings about the
                              * job's data (harness.run's insights) */
#define XP_FLAG_MERGE_STDERR 64u /* with XP_FLAG_PROGRAM only: the program's stderr is its
                                  * stdout's pipe, so both are one stream in the order
                                  * written (Judge0's redirect_stderr_to_stdout) */

/* The kinds of response frame (xp_resp_hdr.kind).  A job asked with
 * XP_FLAG_STREAM gets any number of output frames (json_len raw bytes of
 * the job's stdout or stderr, in the order written, err 0) before the one
 * XP_FRAME_RESULT; every other request gets the result frame only. */
enum xp_frame { XP_FRAME_RESULT = 0, XP_FRAME_STDOUT = 1, XP_FRAME_STDERR = 2, XP_FRAME_STEP = 3 };
/* An XP_FRAME_STEP frame (a traced, streamed job's): one step's JSON object,
 * as the answer's steps hold them (filtered by the executor: hview.h). */

enum xp_op {
    XP_OP_JOB = 1,    /* run code with data under the given limits; in sandbox
                       * (the id) when it is not empty */
    XP_OP_STATUS = 2, /* report health, pool and jail layers */
    XP_OP_SANDBOX_CREATE = 3, /* make a sandbox: memory_mb for its life, wall_ms per
                               * execution, idle_s and life_s; answers its description */
    XP_OP_SANDBOX_DELETE = 4, /* end sandbox now */
    XP_OP_SANDBOX_STATUS = 5, /* describe sandbox */
    XP_OP_SANDBOX_HISTORY = 6, /* its last executions */
    XP_OP_SANDBOX_LIST = 7,   /* every sandbox, and the statistics of all */
    XP_OP_DB = 8, /* a database request (the code bytes: its JSON, dbwire.h) for sandbox
                   * (all zero: none); answers the broker's JSON ({"ok": ...}) with APP_OK,
                   * or APP_ENOTFOUND / APP_EENDED (the sandbox), APP_ECONFLICT (a query of
                   * the sandbox's is in flight), APP_EUNAVAIL (no database configured, or
                   * the broker is down) */
};

/* The word before each frame a child writes on its channel: the length of
 * what follows, with XP_CHILD_FRAME_DB set for a database request
 * (dbwire.h; at most DBW_MAX_REQUEST bytes) and clear for the result (the
 * harness's JSON, at most XP_MAX_CHILD_RESULT bytes, the last frame of a
 * job).  The executor answers a database request with a u32 length and
 * the broker's JSON on the channel. */
#define XP_CHILD_FRAME_DB 0x80000000u
/* ... and XP_CHILD_FRAME_STEP for one traced step's JSON (XP_FLAG_STEPS; at
 * most XP_MAX_STEP_FRAME bytes), which the executor relays and reads on. */
#define XP_CHILD_FRAME_STEP 0x40000000u
#define XP_CHILD_FRAME_LEN 0x3fffffffu
#define XP_MAX_STEP_FRAME (64u * 1024)

/* A sandbox id: XP_SANDBOX_ID_LEN hex digits, the first 8 naming the
 * executor that made it (so an id from before a restart is told apart from
 * one that never existed). */
#define XP_SANDBOX_ID_LEN 32
/* Longest user_id a sandbox keeps. */
#define XP_SANDBOX_USER_LEN 64

/* Per-request limits and their defaults and server maxima.  A request may
 * set wall time and memory up to the executor's maxima (which default to
 * the defaults, so by default requests can only lower them). */
#define XP_DEFAULT_WALL_MS 30000u
#define XP_DEFAULT_MEMORY_MB 512u
#define XP_DEFAULT_NOFILE 100u
#define XP_DEFAULT_NPROC 10u
/* Captured stdout and stderr, each; past it the job is stopped (output_limit). */
#define XP_MAX_STREAM_BYTES (1024u * 1024)
/* Python source accepted in one job. */
#define XP_MAX_CODE (1024u * 1024)
/* JSON data accepted in one job. */
#define XP_MAX_DATA (50u * 1024 * 1024)
/* A harness result (JSON, charts included) a child may send back. */
#define XP_MAX_CHILD_RESULT (48u * 1024 * 1024)
/* A complete response the front accepts from the executor. */
#define XP_MAX_RESPONSE (XP_MAX_CHILD_RESULT + 8u * XP_MAX_STREAM_BYTES + 64u * 1024)
/* Smallest wall-time and memory limits a request may ask for. */
#define XP_MIN_WALL_MS 100u
#define XP_MIN_MEMORY_MB 32u
/* Fixed per-process limits of every job (the jail sets them; the
 * Judge0-compatible API reports them): largest file the job may write
 * (RLIMIT_FSIZE; writes past it fail with EFBIG) and the stack of each
 * process (RLIMIT_STACK). */
#define XP_MAX_FILE_MB 16u
#define XP_STACK_MB 8u

typedef struct xp_req_hdr {
    uint32_t magic;     /* XP_MAGIC_REQ */
    uint32_t op;        /* enum xp_op */
    uint32_t wall_ms;   /* wall-clock limit */
    uint32_t cpu_ms;    /* CPU-time limit of the whole jail (every process and thread);
                         * 0: none beyond the wall-clock limit */
    uint32_t memory_mb; /* memory limit */
    uint32_t nofile;    /* open files */
    uint32_t nproc;     /* processes and threads */
    uint32_t flags;     /* XP_FLAG_* */
    uint32_t code_len;
    uint32_t reserved;  /* 0 (keeps data_len aligned without hidden padding) */
    uint64_t data_len;
    uint64_t client;    /* xp_client_key() of the job's HTTP client; 0: none (the
                         * service's own work); always 0 towards a jailed child */
    uint32_t idle_s;    /* XP_OP_SANDBOX_CREATE: idle timeout; towards a child: 0 */
    uint32_t life_s;    /* XP_OP_SANDBOX_CREATE: lifetime; towards a child: its CPU budget */
    char sandbox[XP_SANDBOX_ID_LEN]; /* the sandbox (hex, not NUL-terminated); all
                                      * zero bytes: none */
    char user[XP_SANDBOX_USER_LEN];  /* XP_OP_SANDBOX_CREATE: the caller's user_id (UTF-8,
                                      * NUL-padded); else zero */
} xp_req_hdr;

typedef struct xp_resp_hdr {
    uint32_t magic;    /* XP_MAGIC_RESP */
    uint32_t err;      /* app_err: APP_OK, or why there is no result */
    uint32_t json_len; /* bytes that follow: JSON, or an output chunk */
    uint32_t kind;     /* enum xp_frame */
} xp_resp_hdr;

/*
 * RLIMIT_CPU (soft, seconds) of a job's processes: the kernel's own
 * backstop, per process and in whole seconds, never below the limit it
 * backs.  The executor enforces cpu_ms for the jail as a whole from the
 * cgroup's CPU counter, earlier and exactly; without cgroups this is the
 * only CPU limit.
 */
uint32_t xp_job_rlimit_cpu_s(uint32_t wall_ms, uint32_t cpu_ms);

/* Fills a job header with the default limits. */
void xp_req_init(xp_req_hdr *h, uint32_t op);

/*
 * The key under which the executor counts a client's jobs in progress
 * (PYSANDBOX_CLIENT_MAX_JOBS): a 64-bit hash of its identity (the client
 * address nginx reports), never 0; 0 for an empty or NULL identity.
 */
uint64_t xp_client_key(const char *identity);

/*
 * Checks a received request header against the protocol and the maxima
 * (max_wall_ms, max_memory_mb).  Returns APP_OK, APP_EUPSTREAM for a
 * malformed header (bad magic/op/reserved fields), APP_ETOOBIG when
 * code_len or data_len pass their caps, APP_EFIELD when a limit is out of
 * range; msg says which.
 */
APP_MUST_CHECK app_err xp_req_check(const xp_req_hdr *h, uint32_t max_wall_ms, uint32_t max_memory_mb, char *msg,
                     size_t msglen);

/* Checks a received response header; APP_OK or APP_EUPSTREAM with msg. */
APP_MUST_CHECK app_err xp_resp_check(const xp_resp_hdr *h, char *msg, size_t msglen);

/* Whether the n bytes at s are a well-formed sandbox id (lower-case hex). */
bool xp_sandbox_id_ok(const char *s, size_t n);

/* Reads/writes exactly n bytes on a blocking fd, retrying on EINTR.
 * Return 0 on success, -1 on error or early EOF (errno set; 0 for EOF). */
int xp_read_full(int fd, void *buf, size_t n);
int xp_write_full(int fd, const void *buf, size_t n);

#endif
