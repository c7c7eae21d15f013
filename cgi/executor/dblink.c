/* dblink.c - the executor's link to the database broker. */
#include "dblink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "client.h"
#include "dbwire.h"
#include "jsonw.h"
#include "sandbox.h"

/* A broker that dies within this time of starting is restarted only after it. */
#define DBL_BACKOFF_MS 2000u
/* Longest answer frame accepted from the broker (its JSON and the length word). */
#define DBL_MAX_FRAME (DBW_MAX_ANSWER + 4u)

typedef struct dbreq {
    struct dbreq *next;
    child *ch;  /* a jailed program's request, or NULL */
    client *cl; /* the front's, or NULL; both NULL: nobody waits any more */
    char sandbox[XP_SANDBOX_ID_LEN];
    char *frame; /* From malloc(): dbw_hdr + JSON */
    size_t len;
} dbreq;

typedef struct dbconn {
    ex_src ev;
    int fd;     /* -1 while the broker is down */
    dbreq *req; /* in flight, or NULL */
    size_t woff;
    sbuf in; /* u32 length + JSON */
} dbconn;

struct dblink {
    bool configured;
    const char *kind; /* "sqlite" or "postgresql" */
    char broker_path[PATH_MAX];
    pid_t pid;                       /* 0 when not running */
    uint64_t started_ms, restart_ms; /* restart_ms: UINT64_MAX when not due */
    dbconn conn[DBW_BROKER_CONNECTIONS];
    dbreq *head, *tail; /* waiting for a connection */
    uint64_t queries, failures;
};

static int fcntl_dupfd_high(int fd)
{
    return fcntl(fd, F_DUPFD, 3 + (int)DBW_BROKER_CONNECTIONS);
}

static int fcntl_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* --- answers made here ------------------------------------------------------------- */

static void dbl_deliver(executor *ex, dbreq *r, const char *json, size_t n)
{
    if (r->ch != NULL)
        child_db_answer(ex, r->ch, json, n);
    else if (r->cl != NULL)
        client_reply(ex, r->cl, APP_OK, json, n);
}

static void dbl_deliver_error(executor *ex, dbreq *r, const char *type, const char *message)
{
    sbuf b;
    sbuf_init(&b, 1024);
    app_err e = sbuf_printf(&b, "{\"ok\":false,\"error\":{\"type\":\"%s\",\"message\":", type);
    if (e == APP_OK)
        e = jsonw_string(&b, message, strlen(message));
    if (e == APP_OK)
        e = sbuf_puts(&b, "}}");
    if (e == APP_OK)
        dbl_deliver(ex, r, b.data, b.len);
    else if (r->ch != NULL)
        child_kill(r->ch, RES_NO_RESULT); /* it would wait for an answer forever */
    else if (r->cl != NULL)
        client_error(ex, r->cl, APP_ENOMEM, "out of memory");
    sbuf_free(&b);
}

static void dbreq_free(dbreq *r)
{
    if (r != NULL)
        free(r->frame);
    free(r);
}

/* --- the broker process ------------------------------------------------------------ */

static void dbl_close_conn(executor *ex, dbconn *c)
{
    ex_close_fd(ex, &c->fd);
    sbuf_reset(&c->in);
    c->woff = 0;
}

/* Fails every request in flight or queued (the broker is gone). */
static void dbl_fail_all(executor *ex, const char *why)
{
    dblink *d = ex->db;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++) {
        dbreq *r = d->conn[i].req;
        d->conn[i].req = NULL;
        if (r != NULL) {
            d->failures++;
            dbl_deliver_error(ex, r, "DatabaseUnavailable", why);
            dbreq_free(r);
        }
    }
    while (d->head != NULL) {
        dbreq *r = d->head;
        d->head = r->next;
        d->failures++;
        dbl_deliver_error(ex, r, "DatabaseUnavailable", why);
        dbreq_free(r);
    }
    d->tail = NULL;
}

static void dbl_start(executor *ex)
{
    dblink *d = ex->db;
    int pairs[DBW_BROKER_CONNECTIONS][2];
    unsigned made = 0;
    for (; made < DBW_BROKER_CONNECTIONS; made++)
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[made]) != 0)
            break;
    pid_t pid = made == DBW_BROKER_CONNECTIONS ? fork() : -1;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* it must not outlive the executor */
        /* Its ends become fds 3..; dup first to fds above them all, so no
         * dup2 overwrites an end still to be moved. */
        int high[DBW_BROKER_CONNECTIONS];
        for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++)
            if ((high[i] = fcntl_dupfd_high(pairs[i][1])) < 0)
                _exit(126);
        for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++)
            if (dup2(high[i], 3 + (int)i) != 3 + (int)i)
                _exit(126);
        char count[16];
        snprintf(count, sizeof count, "%u", DBW_BROKER_CONNECTIONS);
        execl(d->broker_path, "pysandbox-dbbroker", count, (char *)NULL);
        _exit(127);
    }
    int fork_errno = errno;
    for (unsigned i = 0; i < made; i++) {
        close(pairs[i][1]);
        if (pid < 0)
            close(pairs[i][0]);
    }
    if (pid < 0) {
        ex_note_error(ex, "starting the database broker: %s", strerror(fork_errno));
        d->restart_ms = ex_now_ms() + DBL_BACKOFF_MS;
        return;
    }
    d->pid = pid;
    d->started_ms = ex_now_ms();
    d->restart_ms = UINT64_MAX;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++) {
        dbconn *c = &d->conn[i];
        c->fd = pairs[i][0];
        c->ev = (ex_src){SRC_DB, c};
        if (fcntl_nonblock(c->fd) != 0)
            ex_note_error(ex, "database link: %s", strerror(errno));
        ex_watch(ex, c->fd, EPOLLIN, &c->ev);
    }
}

bool dblink_init(executor *ex)
{
    dblink *d = calloc(1, sizeof *d);
    if (d == NULL)
        return false;
    ex->db = d;
    d->restart_ms = UINT64_MAX;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++) {
        d->conn[i].fd = -1;
        sbuf_init(&d->conn[i].in, DBL_MAX_FRAME);
    }
    d->configured = ex->c.agent_db != NULL;
    if (!d->configured)
        return true;
    d->kind = strncmp(ex->c.agent_db, "postgres", 8) == 0 ? "postgresql" : "sqlite";
    const char *slash = strrchr(ex->zygote_path, '/');
    snprintf(d->broker_path, sizeof d->broker_path, "%.*spysandbox-dbbroker",
             slash ? (int)(slash - ex->zygote_path + 1) : 0, ex->zygote_path);
    dbl_start(ex);
    return true;
}

void dblink_stop(executor *ex)
{
    dblink *d = ex->db;
    if (d == NULL)
        return;
    if (d->pid > 0)
        kill(d->pid, SIGKILL);
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++) {
        dbl_close_conn(ex, &d->conn[i]);
        dbreq_free(d->conn[i].req);
        sbuf_free(&d->conn[i].in);
    }
    while (d->head != NULL) {
        dbreq *r = d->head;
        d->head = r->next;
        dbreq_free(r);
    }
    free(d);
    ex->db = NULL;
}

bool dblink_reaped(executor *ex, pid_t pid, int status)
{
    dblink *d = ex->db;
    if (d == NULL || pid != d->pid || pid <= 0)
        return false;
    ex_note_error(ex, "the database broker %d exited (%s %d)", (int)pid,
                  WIFSIGNALED(status) ? "signal" : "status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    d->pid = 0;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++)
        dbl_close_conn(ex, &d->conn[i]);
    dbl_fail_all(ex, "the database broker stopped; it is being restarted: retry");
    uint64_t lived = ex_now_ms() - d->started_ms;
    d->restart_ms = ex_now_ms() + (lived < DBL_BACKOFF_MS ? DBL_BACKOFF_MS : 0);
    return true;
}

uint64_t dblink_next_wakeup(const executor *ex)
{
    return ex->db != NULL ? ex->db->restart_ms : UINT64_MAX;
}

void dblink_on_timer(executor *ex, uint64_t now)
{
    dblink *d = ex->db;
    if (d != NULL && d->configured && d->pid == 0 && now >= d->restart_ms && !ex->stopping)
        dbl_start(ex);
}

/* --- requests ------------------------------------------------------------------------ */

static void dbl_send(executor *ex, dbconn *c);

/* Hands queued requests to free connections. */
static void dbl_dispatch(executor *ex)
{
    dblink *d = ex->db;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS && d->head != NULL; i++) {
        dbconn *c = &d->conn[i];
        if (c->fd < 0 || c->req != NULL)
            continue;
        dbreq *r = d->head;
        d->head = r->next;
        if (d->head == NULL)
            d->tail = NULL;
        r->next = NULL;
        c->req = r;
        c->woff = 0;
        sbuf_reset(&c->in);
        dbl_send(ex, c);
    }
}

static void dbl_submit(executor *ex, dbreq *r)
{
    dblink *d = ex->db;
    if (!d->configured) {
        dbl_deliver_error(ex, r, "DatabaseNotConfigured",
                          "no database is configured: set PYSANDBOX_AGENT_DB");
        dbreq_free(r);
        return;
    }
    if (d->pid == 0) {
        d->failures++;
        dbl_deliver_error(ex, r, "DatabaseUnavailable",
                          "the database broker is restarting: retry in a few seconds");
        dbreq_free(r);
        return;
    }
    d->queries++;
    if (d->tail != NULL)
        d->tail->next = r;
    else
        d->head = r;
    d->tail = r;
    dbl_dispatch(ex);
}

static dbreq *dbl_request(const char *sandbox_hex, enum dbw_origin origin, const char *json,
                          size_t n)
{
    dbreq *r = calloc(1, sizeof *r);
    if (r == NULL || (r->frame = malloc(sizeof(dbw_hdr) + n)) == NULL) {
        free(r);
        return NULL;
    }
    dbw_hdr h = {.magic = DBW_MAGIC, .len = (uint32_t)n, .origin = origin};
    if (sandbox_hex != NULL && sandbox_hex[0] != '\0') {
        memcpy(h.sandbox, sandbox_hex, sizeof h.sandbox);
        memcpy(r->sandbox, sandbox_hex, sizeof r->sandbox);
    }
    memcpy(r->frame, &h, sizeof h);
    memcpy(r->frame + sizeof h, json, n);
    r->len = sizeof h + n;
    return r;
}

void dblink_submit_child(executor *ex, child *ch, const char *json, size_t n)
{
    const char *id = ch->sbx != NULL ? sandbox_id(ch->sbx) : NULL;
    dbreq *r = dbl_request(id, DBW_FROM_JAIL, json, n);
    if (r == NULL) {
        child_kill(ch, RES_NO_RESULT);
        return;
    }
    r->ch = ch;
    dbl_submit(ex, r);
}

void dblink_submit_client(executor *ex, client *cl)
{
    const xp_req_hdr *h = &cl->hdr;
    if (h->sandbox[0] != '\0' && dblink_sandbox_busy(ex, h->sandbox)) {
        client_error(ex, cl, APP_ECONFLICT,
                     "this sandbox has a database query in progress; one runs at a time");
        return;
    }
    dbreq *r = dbl_request(h->sandbox, DBW_FROM_API, cl->payload + sizeof(xp_req_hdr), h->code_len);
    if (r == NULL) {
        client_error(ex, cl, APP_ENOMEM, "out of memory");
        return;
    }
    r->cl = cl;
    cl->state = CL_RUNNING;
    ex_rewatch(ex, cl->fd, EPOLLRDHUP, &cl->ev); /* only notice the front going away */
    dbl_submit(ex, r);
}

void dblink_forget(executor *ex, const child *ch, const client *cl)
{
    dblink *d = ex->db;
    if (d == NULL)
        return;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++) {
        dbreq *r = d->conn[i].req;
        if (r != NULL && ((ch != NULL && r->ch == ch) || (cl != NULL && r->cl == cl))) {
            r->ch = NULL; /* the broker answers; nobody hears it */
            r->cl = NULL;
        }
    }
    dbreq **pp = &d->head;
    d->tail = NULL;
    while (*pp != NULL) {
        dbreq *r = *pp;
        if ((ch != NULL && r->ch == ch) || (cl != NULL && r->cl == cl)) {
            *pp = r->next;
            dbreq_free(r);
        } else {
            d->tail = r;
            pp = &r->next;
        }
    }
}

bool dblink_sandbox_busy(const executor *ex, const char *id)
{
    const dblink *d = ex->db;
    if (d == NULL)
        return false;
    for (unsigned i = 0; i < DBW_BROKER_CONNECTIONS; i++) {
        const dbreq *r = d->conn[i].req;
        if (r != NULL && (r->ch != NULL || r->cl != NULL) &&
            memcmp(r->sandbox, id, XP_SANDBOX_ID_LEN) == 0)
            return true;
    }
    for (const dbreq *r = d->head; r != NULL; r = r->next)
        if (memcmp(r->sandbox, id, XP_SANDBOX_ID_LEN) == 0)
            return true;
    return false;
}

/* --- the connections ----------------------------------------------------------------- */

static void dbl_send(executor *ex, dbconn *c)
{
    dbreq *r = c->req;
    while (r != NULL && c->woff < r->len) {
        ssize_t n = write(c->fd, r->frame + c->woff, r->len - c->woff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            ex_rewatch(ex, c->fd, EPOLLIN | EPOLLOUT, &c->ev);
            return;
        }
        if (n < 0) {
            ex_note_error(ex, "database link: %s", strerror(errno));
            if (ex->db->pid > 0)
                kill(ex->db->pid, SIGKILL); /* reaped and restarted; its requests fail */
            return;
        }
        c->woff += (size_t)n;
    }
    ex_rewatch(ex, c->fd, EPOLLIN, &c->ev);
}

/* The broker broke the frame format: it is not to be trusted any more. */
static void dbl_broken(executor *ex, const char *why)
{
    ex_note_error(ex, "the database broker %s; restarting it", why);
    if (ex->db->pid > 0)
        kill(ex->db->pid, SIGKILL);
}

static void dbl_receive(executor *ex, dbconn *c)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(c->fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            dbl_close_conn(ex, c); /* the broker is going; its exit is reaped */
            return;
        }
        if (c->req == NULL || sbuf_append(&c->in, tmp, (size_t)n) != APP_OK) {
            dbl_broken(ex, c->req == NULL ? "spoke unasked" : "sent too large an answer");
            return;
        }
    }
    uint32_t len;
    if (c->in.len < 4)
        return;
    memcpy(&len, c->in.data, 4);
    if (len > DBW_MAX_ANSWER) {
        dbl_broken(ex, "sent too large an answer");
        return;
    }
    if (c->in.len - 4 < len)
        return;
    if (c->in.len - 4 > len) {
        dbl_broken(ex, "sent more than one answer");
        return;
    }
    dbreq *r = c->req;
    c->req = NULL;
    dbl_deliver(ex, r, c->in.data + 4, len);
    dbreq_free(r);
    sbuf_reset(&c->in);
    dbl_dispatch(ex);
}

void dblink_on_event(executor *ex, void *conn, uint32_t events)
{
    dbconn *c = conn;
    if (c->fd >= 0 && (events & EPOLLOUT))
        dbl_send(ex, c);
    if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        dbl_receive(ex, c);
}

app_err dblink_status_json(const executor *ex, sbuf *out)
{
    const dblink *d = ex->db;
    if (d == NULL || !d->configured)
        return sbuf_puts(out, "\"database\":{\"configured\":false}");
    return sbuf_printf(out,
                       "\"database\":{\"configured\":true,\"kind\":\"%s\",\"broker\":\"%s\","
                       "\"queries\":%llu,\"failures\":%llu}",
                       d->kind, d->pid > 0 ? "running" : "restarting",
                       (unsigned long long)d->queries, (unsigned long long)d->failures);
}
