/* sandbox.c - stateful sandboxes: records, requests, expiry. */
#include "sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "child.h"
#include "client.h"
#include "dblink.h"
#include "hview.h"
#include "jsonw.h"

/* Cap of a list, status or history answer: 256 sandboxes of a few hundred
 * bytes, or 50 history entries of two excerpts escaped up to 6x. */
#define SBX_ANSWER_MAX (256u * 1024)

typedef struct sbx_entry {
    time_t at;            /* wall clock, when it started */
    double duration_ms;
    char status[24];
    char code[SBX_EXCERPT + 1];
    char output[SBX_EXCERPT + 1];
} sbx_entry;

typedef enum sbx_state { SBX_READY, SBX_BUSY, SBX_DEAD } sbx_state;

struct sandbox {
    char id[XP_SANDBOX_ID_LEN + 1];
    char user[XP_SANDBOX_USER_LEN];
    child *ch;            /* the held child; NULL once dead */
    sbx_state state;
    unsigned memory_mb, wall_ms, idle_s, life_s;
    time_t created_at, last_used_at; /* wall clock, for the answers */
    uint64_t last_used_ms, expires_ms, dead_ms; /* monotonic */
    unsigned executions, successes;
    double exec_ms_total;
    char dead_why[128];
    sbx_entry history[SBX_HISTORY];
    unsigned nhistory, history_next;
    char pending_code[SBX_EXCERPT + 1]; /* the running execution's code excerpt */
    double pending_started_ms;
    time_t pending_at;
    sandbox *next;
};

const char *sandbox_id(const sandbox *s)
{
    return s->id;
}

static void iso_time(time_t t, char out[24])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 24, "1970-01-01T00:00:00Z");
}

/* Up to SBX_EXCERPT bytes of s, cut at a UTF-8 character boundary. */
static void excerpt(char out[SBX_EXCERPT + 1], const char *s, size_t n)
{
    if (n > SBX_EXCERPT) {
        n = SBX_EXCERPT;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

bool sandbox_init(executor *ex)
{
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return false;
    snprintf(ex->sandbox_boot, sizeof ex->sandbox_boot, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    return true;
}

static bool new_id(const executor *ex, char id[XP_SANDBOX_ID_LEN + 1])
{
    unsigned char r[12];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return false;
    int n = snprintf(id, XP_SANDBOX_ID_LEN + 1, "%s", ex->sandbox_boot);
    for (size_t i = 0; i < sizeof r; i++)
        n += snprintf(id + n, (size_t)(XP_SANDBOX_ID_LEN + 1 - n), "%02x", r[i]);
    return n == XP_SANDBOX_ID_LEN;
}

unsigned sandbox_live(const executor *ex)
{
    return ex->sbx_live;
}

static sandbox *find(const executor *ex, const char *id)
{
    for (sandbox *s = ex->sandboxes; s != NULL; s = s->next)
        if (memcmp(s->id, id, XP_SANDBOX_ID_LEN) == 0)
            return s;
    return NULL;
}

static void unlink_record(executor *ex, sandbox *s)
{
    for (sandbox **pp = &ex->sandboxes; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    free(s);
}

/* Ends s's jail (if alive) and forgets s: its id answers 404 from now on. */
static void remove_sandbox(executor *ex, sandbox *s)
{
    if (s->state != SBX_DEAD)
        ex->sbx_live--;
    if (s->ch != NULL) {
        s->ch->sbx = NULL;
        child_kill(s->ch, RES_ENDED);
    }
    unlink_record(ex, s);
}

static void mark_dead(executor *ex, sandbox *s, const char *why)
{
    if (s->ch != NULL)
        s->ch->sbx = NULL;
    s->ch = NULL;
    if (s->state != SBX_DEAD)
        ex->sbx_live--;
    s->state = SBX_DEAD;
    s->dead_ms = ex_now_ms();
    snprintf(s->dead_why, sizeof s->dead_why, "%s", why);
    /* Bounded: the oldest dead record goes first. */
    unsigned dead = 0;
    sandbox *oldest = NULL;
    for (sandbox *o = ex->sandboxes; o != NULL; o = o->next)
        if (o->state == SBX_DEAD) {
            dead++;
            if (oldest == NULL || o->dead_ms < oldest->dead_ms)
                oldest = o;
        }
    if (dead > SBX_MAX_DEAD && oldest != NULL)
        unlink_record(ex, oldest);
}

/* --- answers ---------------------------------------------------------------- */

static const char *state_name(sbx_state st)
{
    return st == SBX_READY ? "ready" : st == SBX_BUSY ? "busy" : "dead";
}

/* The members every description has, without braces. */
static APP_MUST_CHECK app_err put_common(const executor *ex, const sandbox *s, sbuf *out)
{
    char created[24], used[24], expires[24];
    iso_time(s->created_at, created);
    iso_time(s->last_used_at, used);
    iso_time(s->created_at + (time_t)s->life_s, expires);
    app_err err = sbuf_printf(out,
                              "\"sandbox_id\":\"%s\",\"status\":\"%s\",\"created_at\":\"%s\","
                              "\"last_used_at\":\"%s\",\"expires_at\":\"%s\",\"executions\":%u,"
                              "\"user_id\":",
                              s->id, state_name(s->state), created, used, expires, s->executions);
    if (err == APP_OK)
        err = s->user[0] ? jsonw_string(out, s->user, strnlen(s->user, sizeof s->user))
                         : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_printf(out,
                          ",\"limits\":{\"max_execution_time\":%.3f,\"max_memory_mb\":%u,"
                          "\"idle_timeout\":%u,\"lifetime\":%u}",
                          s->wall_ms / 1000.0, s->memory_mb, s->idle_s, s->life_s);
    (void)ex;
    return err;
}

static APP_MUST_CHECK app_err put_status(const executor *ex, const sandbox *s, sbuf *out)
{
    app_err err = sbuf_putc(out, '{');
    if (err == APP_OK)
        err = put_common(ex, s, out);
    if (err == APP_OK && s->state == SBX_DEAD)
        err = sbuf_puts(out, ",\"state_lost\":true,\"reason\":");
    if (err == APP_OK && s->state == SBX_DEAD)
        err = jsonw_string(out, s->dead_why, strlen(s->dead_why));
    if (err == APP_OK && s->state != SBX_DEAD) {
        cg_usage use = {0};
        if (ex->cg != NULL && s->ch != NULL)
            cg_read_usage(ex->cg, s->ch->slot, &use);
        uint64_t now = ex_now_ms();
        err = sbuf_printf(out, ",\"state_lost\":false,\"idle_seconds\":%.1f,\"memory_peak_bytes\":",
                          (now - s->last_used_ms) / 1000.0);
        if (err == APP_OK)
            err = use.peak_bytes > 0 ? sbuf_printf(out, "%llu", (unsigned long long)use.peak_bytes)
                                     : sbuf_puts(out, "null");
    }
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

static APP_MUST_CHECK app_err put_history(const sandbox *s, sbuf *out)
{
    app_err err = sbuf_printf(out, "{\"sandbox_id\":\"%s\",\"executions\":%u,\"kept\":%u,\"history\":[",
                              s->id, s->executions, s->nhistory);
    unsigned first = (s->history_next + SBX_HISTORY - s->nhistory) % SBX_HISTORY;
    for (unsigned i = 0; i < s->nhistory && err == APP_OK; i++) {
        const sbx_entry *e = &s->history[(first + i) % SBX_HISTORY];
        char at[24];
        iso_time(e->at, at);
        err = sbuf_printf(out,
                          "%s{\"execution\":%u,\"started_at\":\"%s\",\"status\":\"%s\","
                          "\"duration_ms\":%.3f,\"code\":",
                          i ? "," : "", s->executions - s->nhistory + i + 1, at, e->status,
                          e->duration_ms);
        if (err == APP_OK)
            err = jsonw_string(out, e->code, strlen(e->code));
        if (err == APP_OK)
            err = sbuf_puts(out, ",\"output\":");
        if (err == APP_OK)
            err = jsonw_string(out, e->output, strlen(e->output));
        if (err == APP_OK)
            err = sbuf_putc(out, '}');
    }
    return err == APP_OK ? sbuf_puts(out, "]}") : err;
}

static APP_MUST_CHECK app_err put_list(const executor *ex, sbuf *out)
{
    app_err err = sbuf_puts(out, "{\"sandboxes\":[");
    bool first = true;
    for (const sandbox *s = ex->sandboxes; s != NULL && err == APP_OK; s = s->next) {
        err = sbuf_puts(out, first ? "{" : ",{");
        if (err == APP_OK)
            err = put_common(ex, s, out);
        if (err == APP_OK)
            err = sbuf_putc(out, '}');
        first = false;
    }
    double rate = ex->sbx_executions ? (double)ex->sbx_successes / ex->sbx_executions : 0;
    double avg = ex->sbx_executions ? ex->sbx_exec_ms_total / ex->sbx_executions : 0;
    if (err == APP_OK)
        err = sbuf_printf(out,
                          "],\"statistics\":{\"active_sandboxes\":%u,\"total_sandboxes\":%llu,"
                          "\"total_executions\":%llu,\"success_rate\":%.4f,"
                          "\"average_execution_time\":%.3f,\"max_sandboxes\":%u}}",
                          sandbox_live(ex), (unsigned long long)ex->sbx_created,
                          (unsigned long long)ex->sbx_executions, rate, avg, ex->c.max_sandboxes);
    return err;
}

/* Answers cl with what put wrote, or with an error when it did not fit. */
static void reply_built(executor *ex, client *cl, app_err err, sbuf *b)
{
    if (err == APP_OK)
        client_reply(ex, cl, APP_OK, sbuf_str(b), b->len);
    else
        client_error(ex, cl, APP_EINTERNAL, "the sandbox answer could not be written");
    sbuf_free(b);
}

/* The record cl names, or NULL after answering 404 or 410 (dead records
 * are returned: the caller decides). */
static sandbox *lookup(executor *ex, client *cl)
{
    sandbox *s = find(ex, cl->hdr.sandbox);
    if (s != NULL)
        return s;
    if (memcmp(cl->hdr.sandbox, ex->sandbox_boot, 8) != 0)
        client_error(ex, cl, APP_EENDED,
                     "this sandbox ended when the native engine restarted; its state is lost");
    else
        client_error(ex, cl, APP_ENOTFOUND, "no such sandbox (never made, deleted, or expired)");
    return NULL;
}

static void answer_dead(executor *ex, client *cl, const sandbox *s)
{
    char msg[APP_ERRMSG_LEN];
    snprintf(msg, sizeof msg, "this sandbox has ended (%s); its state is lost", s->dead_why);
    client_error(ex, cl, APP_EENDED, msg);
}

static void start_execution(executor *ex, client *cl, sandbox *s)
{
    if (s->state == SBX_DEAD) {
        answer_dead(ex, cl, s);
        return;
    }
    if (s->state == SBX_BUSY) {
        client_error(ex, cl, APP_ECONFLICT,
                     "this sandbox is running another execution; one runs at a time");
        return;
    }
    xp_req_hdr *payload = (xp_req_hdr *)cl->payload;
    excerpt(s->pending_code, cl->payload + sizeof *payload, payload->code_len);
    /* The sandbox's own limits, whatever the request said. */
    cl->hdr.wall_ms = payload->wall_ms = s->wall_ms;
    cl->hdr.memory_mb = payload->memory_mb = s->memory_mb;
    /* /debug traces; an execution may ask for findings about its data */
    payload->flags = XP_FLAG_SANDBOX | (payload->flags & (XP_FLAG_TRACE | XP_FLAG_INSIGHTS));
    if ((cl->hdr.flags & (XP_FLAG_STREAM | XP_FLAG_TRACE)) == (XP_FLAG_STREAM | XP_FLAG_TRACE))
        payload->flags |= XP_FLAG_STEPS; /* ... and streams its steps as they happen */
    payload->client = 0;
    memset(payload->sandbox, 0, sizeof payload->sandbox);
    s->state = SBX_BUSY;
    s->pending_started_ms = ex_now_ms_f();
    s->pending_at = time(NULL);
    child_start_job(ex, cl, s->ch);
}

bool sandbox_on_request(executor *ex, client *cl)
{
    sbuf b;
    app_err err;
    sandbox *s;
    switch (cl->hdr.op) {
    case XP_OP_SANDBOX_LIST:
        sbuf_init(&b, SBX_ANSWER_MAX);
        reply_built(ex, cl, put_list(ex, &b), &b);
        return true;
    case XP_OP_SANDBOX_STATUS:
    case XP_OP_SANDBOX_HISTORY:
        if ((s = lookup(ex, cl)) == NULL)
            return true;
        sbuf_init(&b, SBX_ANSWER_MAX);
        err = cl->hdr.op == XP_OP_SANDBOX_STATUS ? put_status(ex, s, &b) : put_history(s, &b);
        reply_built(ex, cl, err, &b);
        return true;
    case XP_OP_SANDBOX_DELETE:
        if ((s = lookup(ex, cl)) == NULL)
            return true;
        remove_sandbox(ex, s);
        client_reply(ex, cl, APP_OK, "{\"deleted\":true}", 16);
        return true;
    case XP_OP_SANDBOX_CREATE:
        if (ex->c.max_sandboxes == 0 || sandbox_live(ex) >= ex->c.max_sandboxes) {
            char msg[APP_ERRMSG_LEN];
            snprintf(msg, sizeof msg,
                     "%u sandboxes are alive, the most this server keeps "
                     "(PYSANDBOX_MAX_SANDBOXES); delete one or retry later",
                     ex->c.max_sandboxes);
            client_error(ex, cl, APP_EBUSY, msg);
            return true;
        }
        /* Made by an empty job in a pooled child, under the sandbox's limits;
         * the child keeps its interpreter afterwards. */
        xp_req_hdr *payload = (xp_req_hdr *)cl->payload;
        payload->op = XP_OP_JOB;
        payload->flags = XP_FLAG_SANDBOX;
        payload->idle_s = 0;
        memset(payload->user, 0, sizeof payload->user);
        return false;
    case XP_OP_DB:
        if (cl->hdr.sandbox[0] != '\0') {
            if ((s = lookup(ex, cl)) == NULL)
                return true;
            if (s->state == SBX_DEAD) {
                answer_dead(ex, cl, s);
                return true;
            }
        }
        dblink_submit_client(ex, cl);
        return true;
    case XP_OP_JOB:
        if (cl->hdr.sandbox[0] == '\0')
            return false;
        if ((s = lookup(ex, cl)) != NULL)
            start_execution(ex, cl, s);
        return true;
    default:
        return false;
    }
}

void sandbox_created(executor *ex, child *ch, client *cl, const char *json, size_t len)
{
    char status[24] = "";
    double exec_ms;
    hv_summary(json, len, status, sizeof status, &exec_ms, NULL);
    sandbox *s = calloc(1, sizeof *s);
    if (strcmp(status, "ok") != 0 || s == NULL || !new_id(ex, s->id)) {
        free(s);
        child_kill(ch, RES_ENDED);
        client_error(ex, cl, APP_EJAIL, "the sandbox's interpreter could not be prepared");
        return;
    }
    memcpy(s->user, cl->hdr.user, sizeof s->user);
    s->user[sizeof s->user - 1] = '\0';
    s->ch = ch;
    s->state = SBX_READY;
    s->memory_mb = cl->hdr.memory_mb;
    s->wall_ms = cl->hdr.wall_ms;
    s->idle_s = cl->hdr.idle_s;
    s->life_s = cl->hdr.life_s;
    s->created_at = s->last_used_at = time(NULL);
    s->last_used_ms = ex_now_ms();
    s->expires_ms = s->last_used_ms + (uint64_t)s->life_s * 1000;
    s->next = ex->sandboxes;
    ex->sandboxes = s;
    ch->sbx = s;
    ex->sbx_created++;
    ex->sbx_live++;
    sbuf b;
    sbuf_init(&b, SBX_ANSWER_MAX);
    reply_built(ex, cl, put_status(ex, s, &b), &b);
}

void sandbox_executed(executor *ex, child *ch, const char *json, size_t len, bool state_lost)
{
    sandbox *s = ch->sbx;
    if (s == NULL)
        return;
    char status[24] = "error";
    double exec_ms = 0;
    if (json != NULL)
        hv_summary(json, len, status, sizeof status, &exec_ms, NULL);
    sbx_entry *e = &s->history[s->history_next];
    s->history_next = (s->history_next + 1) % SBX_HISTORY;
    if (s->nhistory < SBX_HISTORY)
        s->nhistory++;
    e->at = s->pending_at;
    e->duration_ms = ex_now_ms_f() - s->pending_started_ms;
    snprintf(e->status, sizeof e->status, "%s", status);
    memcpy(e->code, s->pending_code, sizeof e->code);
    excerpt(e->output, ch->out_buf.data != NULL ? ch->out_buf.data : "", ch->out_buf.len);
    s->executions++;
    ex->sbx_executions++;
    if (strcmp(status, "ok") == 0) {
        s->successes++;
        ex->sbx_successes++;
    }
    s->exec_ms_total += exec_ms > 0 ? exec_ms : e->duration_ms;
    ex->sbx_exec_ms_total += exec_ms > 0 ? exec_ms : e->duration_ms;
    s->last_used_at = time(NULL);
    s->last_used_ms = ex_now_ms();
    if (state_lost)
        mark_dead(ex, s, strcmp(status, "timeout") == 0        ? "an execution passed its time limit"
                         : strcmp(status, "memory_limit") == 0 ? "an execution passed its memory limit"
                                                               : "its interpreter ended");
    else
        s->state = SBX_READY;
}

void sandbox_child_lost(executor *ex, child *ch)
{
    if (ch->sbx != NULL)
        mark_dead(ex, ch->sbx, "its interpreter ended between executions");
}

uint64_t sandbox_next_deadline(const executor *ex)
{
    uint64_t next = UINT64_MAX;
    for (const sandbox *s = ex->sandboxes; s != NULL; s = s->next) {
        uint64_t at = s->state == SBX_DEAD ? s->dead_ms + SBX_DEAD_KEEP_S * 1000ull
                      : s->state == SBX_READY
                          ? s->last_used_ms + (uint64_t)s->idle_s * 1000 < s->expires_ms
                                ? s->last_used_ms + (uint64_t)s->idle_s * 1000
                                : s->expires_ms
                          : UINT64_MAX; /* busy: its execution's own deadline ends it */
        if (at < next)
            next = at;
    }
    return next;
}

void sandbox_expire(executor *ex, uint64_t now)
{
    sandbox *s = ex->sandboxes;
    while (s != NULL) {
        sandbox *next = s->next;
        bool idle = s->state == SBX_READY && now >= s->last_used_ms + (uint64_t)s->idle_s * 1000;
        bool old = s->state == SBX_READY && now >= s->expires_ms;
        bool forgotten = s->state == SBX_DEAD && now >= s->dead_ms + SBX_DEAD_KEEP_S * 1000ull;
        if (idle || old || forgotten)
            remove_sandbox(ex, s);
        s = next;
    }
}

void sandbox_free_all(executor *ex)
{
    while (ex->sandboxes != NULL) {
        sandbox *s = ex->sandboxes;
        ex->sandboxes = s->next;
        if (s->ch != NULL)
            s->ch->sbx = NULL;
        free(s);
    }
    ex->sbx_live = 0;
}
