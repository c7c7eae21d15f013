/*
 * dbbroker_main.c - pysandbox-dbbroker: runs jailed programs' database
 * queries against the agent's database, read-only.
 *
 * Started by the executor (dblink.h) with the same environment as itself
 * and N connected sockets as fds 3 .. 3+N-1:
 *
 *   pysandbox-dbbroker N
 *
 * One thread per socket, each with its own database connection (dbq.h),
 * opened on first use and again after the server went away.  A request is
 * a dbw_hdr (filled by the executor: trusted) and the request's JSON
 * (written by a jailed program or an API client: hostile, decoded by
 * dbw_decode); the answer is a u32 length and the JSON object dbq_serve()
 * writes.  After answering, each query is written to the service's store
 * (hist_db.h): where it came from, its text, its parameters' shape (their
 * values only with PYSANDBOX_STORE_CODE=1), rows, duration and outcome.
 *
 * The broker never sees a jail's memory or files; the jails never see the
 * database, its file or its credentials.  It exits when the executor
 * closes a socket (the executor is stopping or restarting it).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conf.h"
#include "dbq.h"
#include "dbwire.h"
#include "hist.h"
#include "hist_db.h"
#include "jsonw.h"
#include "sbuf.h"
#include "xproto.h"

/* Most connections (threads) the executor may give. */
#define BROKER_MAX_CONNECTIONS 64
/* Memory the broker may use (RLIMIT_DATA): its threads' answers, the
 * database libraries' buffers. */
#define BROKER_MEMORY_LIMIT (2048ull * 1024 * 1024)
/* Bytes of the parameters' shape (or values) kept in the log. */
#define BROKER_LOG_PARAMS_MAX (16u * 1024)

static conf settings;

static void broker_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void broker_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pysandbox-dbbroker: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *type_name(dbw_type t)
{
    switch (t) {
    case DBW_NULL:
        return "null";
    case DBW_BOOL:
        return "bool";
    case DBW_INT:
        return "int";
    case DBW_REAL:
        return "float";
    case DBW_TEXT:
        return "text";
    }
    return "?";
}

static APP_MUST_CHECK app_err put_param(sbuf *b, const dbw_param *p, bool values)
{
    if (!values)
        return sbuf_printf(b, "\"%s\"", type_name(p->type));
    switch (p->type) {
    case DBW_NULL:
        return sbuf_puts(b, "null");
    case DBW_BOOL:
        return sbuf_puts(b, p->i ? "true" : "false");
    case DBW_INT:
        return dbq_put_int(b, p->i);
    case DBW_REAL:
        return dbq_put_real(b, p->r);
    case DBW_TEXT:
        return jsonw_string(b, p->text, p->len);
    }
    return APP_EINTERNAL;
}

/* The parameters as the log keeps them: {"id":"int"} / ["int"], or the
 * values themselves when the service stores code.  NULL when none. */
static const char *params_for_log(const dbw_request *req, sbuf *b)
{
    if (req->nparams == 0)
        return NULL;
    app_err e = sbuf_putc(b, req->named ? '{' : '[');
    for (size_t i = 0; i < req->nparams && e == APP_OK; i++) {
        if (i > 0)
            e = sbuf_putc(b, ',');
        if (e == APP_OK && req->named) {
            e = jsonw_string(b, req->params[i].name, strlen(req->params[i].name));
            if (e == APP_OK)
                e = sbuf_putc(b, ':');
        }
        if (e == APP_OK)
            e = put_param(b, &req->params[i], settings.store_code);
    }
    if (e == APP_OK)
        e = sbuf_putc(b, req->named ? '}' : ']');
    return e == APP_OK ? b->data : "\"(too large to keep)\"";
}

static void log_query(hist **h, const dbw_hdr *hdr, const dbq_outcome *o)
{
    char msg[APP_ERRMSG_LEN];
    if (*h == NULL && hist_open(settings.db_path, h, msg, sizeof msg) != APP_OK) {
        broker_log("cannot open the store to log a query: %s", msg);
        return;
    }
    char sandbox[XP_SANDBOX_ID_LEN + 1] = "";
    if (hdr->sandbox[0] != '\0')
        snprintf(sandbox, sizeof sandbox, "%.*s", XP_SANDBOX_ID_LEN, hdr->sandbox);
    sbuf params;
    sbuf_init(&params, BROKER_LOG_PARAMS_MAX);
    const dbw_request *req = &o->req;
    hist_db_entry e = {
        .sandbox = sandbox[0] ? sandbox : NULL,
        .origin = hdr->origin == DBW_FROM_API ? "api" : "jail",
        .op = dbw_op_name(req->op), /* a malformed request logs as a query */
        .query = req->op == DBW_SCHEMA ? req->table : req->sql,
        .query_len = req->op == DBW_SCHEMA && req->table ? strlen(req->table) : req->sql_len,
        .params = o->decoded ? params_for_log(req, &params) : NULL,
        .rows = o->rows,
        .truncated = o->truncated,
        .duration_ms = o->duration_ms,
        .outcome = o->err == DBQ_OK ? "ok" : dbq_err_type(o->err),
        .message = o->message[0] ? o->message : NULL,
    };
    if (hist_db_log(*h, &e, msg, sizeof msg) != APP_OK)
        broker_log("cannot log a query: %s", msg);
    sbuf_free(&params);
}

/* A hostile query can make a database library hold a huge value whole
 * (libpq receives a row entire before it can be capped): the broker's
 * memory is bounded, so such a query fails there instead of the host.
 * Not under AddressSanitizer, whose shadow memory the limit would count. */
static void limit_memory(void)
{
#ifndef __SANITIZE_ADDRESS__
    struct rlimit r = {.rlim_cur = BROKER_MEMORY_LIMIT, .rlim_max = BROKER_MEMORY_LIMIT};
    if (setrlimit(RLIMIT_DATA, &r) != 0)
        broker_log("RLIMIT_DATA: %s", strerror(errno));
#endif
}

static bool header_ok(const dbw_hdr *h)
{
    if (h->magic != DBW_MAGIC || h->len > DBW_MAX_REQUEST || h->reserved != 0 ||
        (h->origin != DBW_FROM_JAIL && h->origin != DBW_FROM_API))
        return false;
    return h->sandbox[0] == '\0' || xp_sandbox_id_ok(h->sandbox, sizeof h->sandbox);
}

/* One connection: requests in, answers out, until the executor closes it. */
static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    dbq *q = NULL;
    hist *store = NULL;
    char why[APP_ERRMSG_LEN] = "";
    dbq_limits lim = {
        .max_rows = settings.agent_db_max_rows,
        .max_bytes = DBW_DEFAULT_MAX_ROW_BYTES,
        .timeout_ms = settings.agent_db_timeout_ms,
    };
    char *json = malloc(DBW_MAX_REQUEST);
    sbuf out;
    sbuf_init(&out, DBW_MAX_ANSWER);
    if (json == NULL) {
        broker_log("out of memory");
        exit(1);
    }
    for (;;) {
        dbw_hdr h;
        if (xp_read_full(fd, &h, sizeof h) != 0)
            _exit(0); /* the executor closed it: stopping (other threads may be mid-query) */
        if (!header_ok(&h) || xp_read_full(fd, json, h.len) != 0) {
            broker_log("malformed request from the executor");
            _exit(3);
        }
        if (q != NULL && !dbq_usable(q)) {
            dbq_free(q);
            q = NULL;
        }
        if (q == NULL) {
            dbq_err oerr;
            q = dbq_open(settings.agent_db, &oerr, why, sizeof why);
            if (q == NULL)
                broker_log("%s", why);
        }
        dbq_outcome o;
        sbuf_reset(&out);
        app_err e = dbq_serve(q, why, json, h.len, &lim, &out, &o);
        uint32_t len = (uint32_t)out.len;
        if (e != APP_OK || xp_write_full(fd, &len, 4) != 0 ||
            xp_write_full(fd, out.data, out.len) != 0) {
            broker_log("cannot answer the executor: %s",
                       e != APP_OK ? app_strerror(e) : strerror(errno));
            exit(1);
        }
        log_query(&store, &h, &o);
        dbq_outcome_free(&o);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long n = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (n < 1 || n > BROKER_MAX_CONNECTIONS || end == NULL || *end != '\0') {
        fprintf(stderr, "usage: pysandbox-dbbroker N (started by pysandbox-executor)\n");
        return 2;
    }
    const char *root = getenv("PYSANDBOX_ROOT");
    char msg[APP_ERRMSG_LEN];
    if (root == NULL || conf_load(&settings, root, NULL, NULL, msg, sizeof msg) != APP_OK) {
        broker_log("%s", root == NULL ? "PYSANDBOX_ROOT must be set" : msg);
        return 2;
    }
    if (settings.agent_db == NULL) {
        broker_log("PYSANDBOX_AGENT_DB is not set");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Nothing it runs may gain privileges (it runs no program anyway). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        broker_log("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    limit_memory();
    pthread_t threads[BROKER_MAX_CONNECTIONS];
    for (int i = 1; i < (int)n; i++) {
        int rc = pthread_create(&threads[i], NULL, serve, (void *)(intptr_t)(3 + i));
        if (rc != 0) {
            broker_log("pthread_create: %s", strerror(rc));
            return 1;
        }
    }
    serve((void *)(intptr_t)3);
    return 0;
}
