/* judge0.c - client for a Judge0 CE server (libcurl). */
#include "judge0.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "b64.h"
#include "form.h"
#include "jsonw.h"
#include "jscan.h"

/* Largest request body we send (source and stdin as base64, plus the
 * limits).  Past it jz_run() refuses with APP_ETOOBIG before calling
 * Judge0: no public Judge0 takes bodies this large anyway. */
#define JZ_MAX_REQUEST (16u * 1024 * 1024)
/* Longest URL we build: the configured base plus a path and query. */
#define JZ_MAX_URL 8192
/* Polling backoff: the first GET after this long, doubling up to the max.
 * Judge0 caches a GET for 1 s, so polling faster than that buys nothing
 * once the submission has been running a while. */
#define JZ_POLL_FIRST_MS 100u
#define JZ_POLL_MAX_MS 1000u
/* Bytes of an error body quoted in a message. */
#define JZ_QUOTE_MAX 200

/* Fields asked for on every poll (all the decoder knows). */
#define JZ_FIELDS                                                                                  \
    "token,status,stdout,stderr,compile_output,message,time,wall_time,memory,"                     \
    "exit_code,exit_signal"

struct jz_client {
    char *url; /* base URL without trailing '/'; From malloc() */
    int language_id;
    struct curl_slist *headers; /* From curl_slist_append() */
    CURL *easy;                 /* one handle, so the polls reuse the create's connection */
    CURLM *multi;               /* drives easy, so we can watch cancel_fd while it runs */
    unsigned connect_ms, call_ms;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- authentication ------------------------------------------------------------ */

/* Splits url into its scheme and lower-cased host (no port). */
static APP_MUST_CHECK app_err url_parts(const char *url, char *scheme, size_t slen, char *host, size_t hlen,
                         bool *has_extra, char *msg, size_t msglen)
{
    app_err err = APP_ECONFIG;
    char *s = NULL, *h = NULL, *q = NULL, *f = NULL;
    CURLU *u = curl_url();
    if (u == NULL) {
        snprintf(msg, msglen, "out of memory parsing the Judge0 URL");
        return APP_ENOMEM;
    }
    if (url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        snprintf(msg, msglen, "JUDGE0_API_URL is not a valid URL");
        goto out;
    }
    if (strcasecmp(s, "http") != 0 && strcasecmp(s, "https") != 0) {
        snprintf(msg, msglen, "JUDGE0_API_URL must be an http or https URL");
        goto out;
    }
    if (strlen(s) >= slen || strlen(h) >= hlen || h[0] == '\0') {
        snprintf(msg, msglen, "JUDGE0_API_URL has an invalid host");
        goto out;
    }
    snprintf(scheme, slen, "%s", s);
    for (size_t i = 0; h[i] != '\0'; i++)
        host[i] = (char)tolower((unsigned char)h[i]);
    host[strlen(h)] = '\0';
    *has_extra = curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_FRAGMENT, &f, 0) == CURLUE_OK;
    err = APP_OK;
out:
    curl_free(s);
    curl_free(h);
    curl_free(q);
    curl_free(f);
    curl_url_cleanup(u);
    return err;
}

static bool is_rapidapi_host(const char *host)
{
    static const char suffix[] = ".rapidapi.com";
    size_t n = strlen(host), m = sizeof suffix - 1;
    if (strcmp(host, suffix + 1) == 0)
        return true;
    return n > m && strcmp(host + n - m, suffix) == 0;
}

app_err jz_auth_headers(const jz_config *cfg, sbuf *out, char *msg, size_t msglen)
{
    char scheme[16], host[256];
    bool extra = false;
    app_err err =
        url_parts(cfg->url, scheme, sizeof scheme, host, sizeof host, &extra, msg, msglen);
    if (err != APP_OK)
        return err;
    if (cfg->key == NULL || cfg->key[0] == '\0')
        return APP_OK;
    if (strpbrk(cfg->key, "\r\n") != NULL) {
        snprintf(msg, msglen, "JUDGE0_API_KEY must be one line");
        return APP_ECONFIG;
    }
    /* RapidAPI's gateway wants its own key header and the host it routes
     * on; a self-hosted Judge0 checks AUTHN_HEADER, X-Auth-Token by default. */
    if (is_rapidapi_host(host))
        return sbuf_printf(out, "X-RapidAPI-Key: %s\nX-RapidAPI-Host: %s\n", cfg->key, host);
    return sbuf_printf(out, "X-Auth-Token: %s\n", cfg->key);
}

/* ---- the client ------------------------------------------------------------------ */

void jz_client_free(jz_client *c)
{
    if (c == NULL)
        return;
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c);
}

void jz_client_set_timeouts(jz_client *c, unsigned connect_ms, unsigned call_ms)
{
    if (connect_ms > 0)
        c->connect_ms = connect_ms;
    if (call_ms > 0)
        c->call_ms = call_ms;
}

static bool add_header(jz_client *c, const char *line)
{
    struct curl_slist *n = curl_slist_append(c->headers, line);
    if (n == NULL)
        return false;
    c->headers = n;
    return true;
}

/* Collects at most JZ_MAX_RESPONSE bytes; returning short makes libcurl
 * abort the transfer (CURLE_WRITE_ERROR). */
typedef struct sink {
    sbuf *body;
    bool too_big;
} sink;

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    app_err err = sbuf_append(s->body, p, n);
    if (err == APP_OK)
        return n;
    s->too_big = err == APP_ETOOBIG;
    return 0;
}

app_err jz_client_new(const jz_config *cfg, jz_client **out, char *msg, size_t msglen)
{
    *out = NULL;
    jz_client *c = NULL;
    sbuf auth;
    sbuf_init(&auth, 4 * 4096);
    char scheme[16], host[256];
    bool extra = false;
    app_err err =
        url_parts(cfg->url, scheme, sizeof scheme, host, sizeof host, &extra, msg, msglen);
    if (err != APP_OK)
        goto out;
    err = APP_ECONFIG;
    if (extra || strlen(cfg->url) > JZ_MAX_URL / 2) {
        snprintf(msg, msglen, "JUDGE0_API_URL must be a base URL without a query or fragment");
        goto out;
    }
    if (cfg->language_id < 1) {
        snprintf(msg, msglen, "JUDGE0_LANGUAGE_ID must be a positive integer");
        goto out;
    }
    if ((err = jz_auth_headers(cfg, &auth, msg, msglen)) != APP_OK)
        goto out;
    err = APP_ENOMEM;
    snprintf(msg, msglen, "out of memory creating the Judge0 client");
    c = calloc(1, sizeof *c);
    if (c == NULL || (c->url = strdup(cfg->url)) == NULL)
        goto out;
    size_t n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    c->language_id = cfg->language_id;
    c->connect_ms = JZ_CONNECT_TIMEOUT_MS;
    c->call_ms = JZ_CALL_TIMEOUT_MS;
    /* "Expect:" turns off 100-continue on large bodies, which costs a
     * second against servers that never answer it. */
    if (!add_header(c, "Accept: application/json") ||
        !add_header(c, "Content-Type: application/json") || !add_header(c, "Expect:"))
        goto out;
    for (const char *line = sbuf_str(&auth); *line != '\0';) {
        const char *nl = strchr(line, '\n'); /* jz_auth_headers ends every line with '\n' */
        char *one = strndup(line, (size_t)(nl - line));
        bool ok = one != NULL && add_header(c, one);
        free(one);
        if (!ok)
            goto out;
        line = nl + 1;
    }
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (c->easy == NULL || c->multi == NULL)
        goto out;
    CURL *e = c->easy;
    /* Redirects are not followed (and never to other schemes): Judge0 does
     * not redirect, and a redirect would resend the key elsewhere. */
    if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JZ_MAX_RESPONSE) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "pysandbox-judge0-client") != CURLE_OK) {
        snprintf(msg, msglen, "libcurl lacks a feature the Judge0 client needs");
        err = APP_ECONFIG;
        goto out;
    }
    *out = c;
    c = NULL;
    err = APP_OK;
    msg[0] = '\0';
out:
    jz_client_free(c);
    sbuf_free(&auth);
    return err;
}

/* True when cancel_fd reports that the HTTP client went away (any
 * readiness: nginx sends nothing more after the request, see xclient.c). */
static bool cancelled(int cancel_fd)
{
    if (cancel_fd < 0)
        return false;
    struct pollfd p = {cancel_fd, POLLIN | POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && p.revents != 0;
}

/* Sleeps until `until`, watching cancel_fd. Returns false when cancelled. */
static bool nap(int cancel_fd, long long until)
{
    for (;;) {
        long long left = until - now_ms();
        if (left <= 0)
            return true;
        struct pollfd p = {cancel_fd, POLLIN | POLLRDHUP, 0};
        int n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR)
            return !cancelled(cancel_fd);
        if (n > 0 && p.revents != 0)
            return false;
    }
}

typedef struct reply {
    long status;
    char media[64]; /* lower-cased media type, "" when absent */
    sbuf body;
} reply;

/* Performs one HTTP call, bounded by the per-call timeout and the overall
 * deadline, watching cancel_fd.  A reply with any HTTP status is APP_OK. */
static APP_MUST_CHECK app_err call(jz_client *c, const char *url, const sbuf *post, long long deadline,
                    int cancel_fd, reply *rep, char *msg, size_t msglen)
{
    long long left = deadline - now_ms();
    if (left <= 0) {
        snprintf(msg, msglen, "the deadline passed before Judge0 finished the submission");
        return APP_ETIMEOUT;
    }
    bool deadline_bound = left < (long long)c->call_ms;
    long limit = deadline_bound ? (long)left : (long)c->call_ms;
    long connect = (long)c->connect_ms < limit ? (long)c->connect_ms : limit;
    char errbuf[CURL_ERROR_SIZE] = "";
    sink s = {&rep->body, false};
    CURL *e = c->easy;
    sbuf_reset(&rep->body);
    rep->status = 0;
    rep->media[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (post != NULL) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post->data != NULL ? post->data : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post->len);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, limit);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        snprintf(msg, msglen, "libcurl could not start the request");
        return APP_EINTERNAL;
    }
    app_err err = APP_OK;
    CURLcode res = CURLE_OK;
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK) {
            snprintf(msg, msglen, "libcurl failed: %s", curl_multi_strerror(mc));
            err = APP_EINTERNAL;
            goto out;
        }
        if (running == 0)
            break;
        if (cancelled(cancel_fd)) {
            snprintf(msg, msglen, "the request was cancelled");
            err = APP_EIO;
            goto out;
        }
        struct curl_waitfd extra = {cancel_fd, CURL_WAIT_POLLIN, 0};
        mc = curl_multi_poll(c->multi, cancel_fd >= 0 ? &extra : NULL, cancel_fd >= 0 ? 1 : 0, 1000,
                             NULL);
        if (mc != CURLM_OK) {
            snprintf(msg, msglen, "libcurl failed: %s", curl_multi_strerror(mc));
            err = APP_EINTERNAL;
            goto out;
        }
    }
    int queued = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &queued)) != NULL)
        if (m->msg == CURLMSG_DONE && m->easy_handle == e)
            res = m->data.result;
    errbuf[sizeof errbuf - 1] = '\0';
    const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res);
    switch (res) {
    case CURLE_OK:
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        err = s.too_big || res == CURLE_FILESIZE_EXCEEDED ? APP_EUPSTREAM : APP_ENOMEM;
        if (err == APP_EUPSTREAM)
            snprintf(msg, msglen, "Judge0's response is too large (over %u bytes)",
                     JZ_MAX_RESPONSE);
        else
            snprintf(msg, msglen, "out of memory reading Judge0's response");
        goto out;
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t pre = 0;
        curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
        if (pre == 0 && !deadline_bound && connect < limit) {
            /* Never connected: the host does not answer at all. */
            snprintf(msg, msglen, "could not connect to Judge0 within %ld ms", connect);
            err = APP_EUNAVAIL;
        } else if (deadline_bound) {
            snprintf(msg, msglen, "the deadline passed before Judge0 finished the submission");
            err = APP_ETIMEOUT;
        } else {
            snprintf(msg, msglen, "Judge0 did not answer a request within %ld ms", limit);
            err = APP_ETIMEOUT;
        }
        goto out;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(msg, msglen, "Judge0 is unreachable: %s", why);
        err = APP_EUNAVAIL;
        goto out;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        snprintf(msg, msglen, "JUDGE0_API_URL cannot be used: %s", why);
        err = APP_ECONFIG;
        goto out;
    case CURLE_OUT_OF_MEMORY:
        snprintf(msg, msglen, "out of memory talking to Judge0");
        err = APP_ENOMEM;
        goto out;
    default:
        snprintf(msg, msglen, "talking to Judge0 failed: %s", why);
        err = APP_EUPSTREAM;
        goto out;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &rep->status);
    char *ctype = NULL;
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype);
    if (ctype != NULL)
        form_media_type(ctype, rep->media, sizeof rep->media);
out:
    curl_multi_remove_handle(c->multi, e);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    return err;
}

/* Appends a printable quote of an error body: the messages of a JSON
 * object ({"error": "..."} or Rails' {"field": ["msg", ...]}), else the
 * raw text; anything outside printable ASCII becomes '?'. */
static void quote_body(const reply *rep, char *buf, size_t buflen)
{
    sbuf q;
    sbuf_init(&q, JZ_QUOTE_MAX);
    const char *doc = rep->body.data != NULL ? rep->body.data : "";
    js_span root, k, v, el;
    char detail[APP_ERRMSG_LEN];
    if (js_validate(doc, rep->body.len, &root, detail, sizeof detail) == APP_OK &&
        root.type == JS_OBJECT) {
        /* The quote stops at the first piece that does not fit (JZ_QUOTE_MAX). */
        app_err err = APP_OK;
        js_iter it;
        js_iter_init(&it, doc, root);
        while (err == APP_OK && js_iter_next(&it, &k, &v)) {
            if (q.len > 0)
                err = sbuf_puts(&q, "; ");
            if (err == APP_OK && !js_string_equals(doc, k, "error")) {
                err = js_string_decode(doc, k, &q, NULL);
                if (err == APP_OK)
                    err = sbuf_puts(&q, ": ");
            }
            if (err == APP_OK && v.type == JS_STRING) {
                err = js_string_decode(doc, v, &q, NULL);
            } else if (err == APP_OK && v.type == JS_ARRAY) {
                js_iter ai;
                js_iter_init(&ai, doc, v);
                bool first = true;
                while (err == APP_OK && js_iter_next(&ai, NULL, &el)) {
                    if (el.type != JS_STRING)
                        continue;
                    if (!first)
                        err = sbuf_puts(&q, ", ");
                    if (err == APP_OK)
                        err = js_string_decode(doc, el, &q, NULL);
                    first = false;
                }
            }
        }
    } else if (sbuf_append(&q, doc, rep->body.len < JZ_QUOTE_MAX ? rep->body.len : JZ_QUOTE_MAX) !=
               APP_OK) {
        sbuf_reset(&q); /* only memory can fail here: no quote then */
    }
    size_t n = 0;
    for (size_t i = 0; i < q.len && n + 1 < buflen; i++) {
        unsigned char ch = (unsigned char)q.data[i];
        buf[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (buflen > 0)
        buf[n] = '\0';
    sbuf_free(&q);
}

/* Maps an HTTP status we did not expect to the header's app_err. */
static APP_MUST_CHECK app_err status_error(const reply *rep, const char *what, char *msg, size_t msglen)
{
    char quote[JZ_QUOTE_MAX + 1];
    quote_body(rep, quote, sizeof quote);
    const char *sep = quote[0] != '\0' ? ": " : "";
    switch (rep->status) {
    case 401:
    case 403:
        snprintf(msg, msglen,
                 "Judge0 refused our credentials (HTTP %ld on %s): check JUDGE0_API_KEY%s",
                 rep->status, what, rep->status == 403 ? " and the server's IP allow-list" : "");
        return APP_ECONFIG;
    case 429:
        snprintf(msg, msglen,
                 "Judge0 is rate-limiting us (HTTP 429 on %s): quota or rate limit "
                 "reached; retry later",
                 what);
        return APP_EBUSY;
    case 503:
        snprintf(msg, msglen, "Judge0 is unavailable (HTTP 503 on %s)%s%s", what, sep, quote);
        return APP_EUNAVAIL;
    case 422:
        snprintf(msg, msglen, "Judge0 refused the submission (HTTP 422)%s%s", sep, quote);
        return APP_EUPSTREAM;
    default:
        if (rep->status >= 300 && rep->status < 400)
            snprintf(msg, msglen,
                     "Judge0 answered %s with a redirect (HTTP %ld), which is not followed; set "
                     "JUDGE0_API_URL to the final address",
                     what, rep->status);
        else
            snprintf(msg, msglen, "Judge0 answered %s with HTTP %ld%s%s", what, rep->status, sep,
                     quote);
        return APP_EUPSTREAM;
    }
}

static bool media_is_json(const char *media)
{
    size_t n = strlen(media);
    return media[0] == '\0' || strcmp(media, "application/json") == 0 ||
           (n > 5 && strcmp(media + n - 5, "+json") == 0);
}

static APP_MUST_CHECK app_err build_create_body(const jz_client *c, const jz_submission *s, sbuf *b)
{
    app_err err = sbuf_puts(b, "{\"source_code\":\"");
    if (err == APP_OK)
        err = b64_encode(s->source != NULL ? s->source : "", s->source_len, B64_ONE_LINE, b);
    if (err == APP_OK)
        err = sbuf_puts(b, "\",\"stdin\":\"");
    if (err == APP_OK)
        err = b64_encode(s->stdin_text != NULL ? s->stdin_text : "", s->stdin_len, B64_ONE_LINE, b);
    if (err == APP_OK)
        err = sbuf_printf(b, "\",\"language_id\":%d", c->language_id);
    if (err == APP_OK && s->cpu_time_limit_s > 0)
        err = sbuf_printf(b, ",\"cpu_time_limit\":%.3f", s->cpu_time_limit_s);
    if (err == APP_OK && s->wall_time_limit_s > 0)
        err = sbuf_printf(b, ",\"wall_time_limit\":%.3f", s->wall_time_limit_s);
    if (err == APP_OK && s->memory_limit_kb > 0)
        err = sbuf_printf(b, ",\"memory_limit\":%u", s->memory_limit_kb);
    if (err == APP_OK)
        err = sbuf_putc(b, '}');
    return err;
}

/* Reads the token out of create's {"token": "..."} answer. */
static APP_MUST_CHECK app_err read_token(const reply *rep, char *token, size_t len, char *msg, size_t msglen)
{
    const char *doc = rep->body.data != NULL ? rep->body.data : "";
    js_span root, k, v;
    char detail[APP_ERRMSG_LEN];
    if (js_validate(doc, rep->body.len, &root, detail, sizeof detail) != APP_OK ||
        root.type != JS_OBJECT) {
        snprintf(msg, msglen, "Judge0's answer to the submission is not a JSON object");
        return APP_EUPSTREAM;
    }
    js_iter it;
    js_iter_init(&it, doc, root);
    token[0] = '\0';
    while (js_iter_next(&it, &k, &v)) {
        if (!js_string_equals(doc, k, "token"))
            continue;
        if (v.type != JS_STRING || v.len - 2 >= len || !jz_token_valid(doc + v.off + 1, v.len - 2)) {
            snprintf(msg, msglen,
                     "Judge0 sent a submission token that is not a short "
                     "[A-Za-z0-9-] string");
            return APP_EUPSTREAM;
        }
        snprintf(token, len, "%.*s", (int)(v.len - 2), doc + v.off + 1);
    }
    if (token[0] == '\0') {
        snprintf(msg, msglen, "Judge0's answer to the submission has no token");
        return APP_EUPSTREAM;
    }
    return APP_OK;
}

app_err jz_run(jz_client *c, const jz_submission *s, unsigned deadline_ms, int cancel_fd,
               jz_result *r, char *msg, size_t msglen)
{
    long long deadline = now_ms() + deadline_ms;
    sbuf body, url;
    reply rep = {0};
    sbuf_init(&body, JZ_MAX_REQUEST);
    sbuf_init(&url, JZ_MAX_URL);
    sbuf_init(&rep.body, JZ_MAX_RESPONSE);
    char token[JZ_MAX_TOKEN + 1];
    app_err err = build_create_body(c, s, &body);
    if (err != APP_OK) {
        snprintf(msg, msglen,
                 err == APP_ETOOBIG ? "the submission is too large for Judge0 (over %u bytes "
                                      "once encoded)"
                                    : "out of memory building the submission (%u)",
                 JZ_MAX_REQUEST);
        goto out;
    }
    if ((err = sbuf_printf(&url, "%s/submissions?base64_encoded=true&wait=false", c->url)) !=
        APP_OK) {
        snprintf(msg, msglen, "the Judge0 URL is too long");
        goto out;
    }
    if ((err = call(c, sbuf_str(&url), &body, deadline, cancel_fd, &rep, msg, msglen)) != APP_OK)
        goto out;
    if (rep.status != 201 && rep.status != 200) {
        err = status_error(&rep, "the submission", msg, msglen);
        goto out;
    }
    if (!media_is_json(rep.media)) {
        snprintf(msg, msglen, "Judge0 answered the submission with %s, not JSON", rep.media);
        err = APP_EUPSTREAM;
        goto out;
    }
    if ((err = read_token(&rep, token, sizeof token, msg, msglen)) != APP_OK)
        goto out;

    sbuf_reset(&url);
    if ((err = sbuf_printf(&url, "%s/submissions/%s?base64_encoded=true&fields=" JZ_FIELDS, c->url,
                           token)) != APP_OK) {
        snprintf(msg, msglen, "the Judge0 URL is too long");
        goto out;
    }
    unsigned backoff = JZ_POLL_FIRST_MS;
    /* A 429 or 503 while polling does not lose the submission: keep
     * polling (slowly) and report it only if the deadline passes. */
    app_err transient = APP_OK;
    char transient_msg[APP_ERRMSG_LEN] = "";
    int last_status = 1;
    for (;;) {
        long long wake = now_ms() + backoff;
        if (!nap(cancel_fd, wake < deadline ? wake : deadline)) {
            snprintf(msg, msglen, "the request was cancelled");
            err = APP_EIO;
            goto out;
        }
        if (now_ms() >= deadline) {
            if (transient != APP_OK) {
                snprintf(msg, msglen, "%s", transient_msg);
                err = transient;
            } else {
                snprintf(msg, msglen, "Judge0 did not finish submission %s within %u ms (still %s)",
                         token, deadline_ms, last_status == 2 ? "Processing" : "In Queue");
                err = APP_ETIMEOUT;
            }
            goto out;
        }
        backoff = backoff * 2 < JZ_POLL_MAX_MS ? backoff * 2 : JZ_POLL_MAX_MS;
        err = call(c, sbuf_str(&url), NULL, deadline, cancel_fd, &rep, msg, msglen);
        if (err == APP_EUNAVAIL) {
            transient = err;
            snprintf(transient_msg, sizeof transient_msg, "%s", msg);
            backoff = JZ_POLL_MAX_MS;
            continue;
        }
        if (err != APP_OK)
            goto out;
        if (rep.status == 429 || rep.status == 503) {
            transient = status_error(&rep, "a status poll", transient_msg, sizeof transient_msg);
            backoff = JZ_POLL_MAX_MS;
            continue;
        }
        if (rep.status != 200) {
            err = status_error(
                &rep, rep.status == 404 ? "a status poll (unknown token)" : "a status poll", msg,
                msglen);
            goto out;
        }
        if (!media_is_json(rep.media)) {
            snprintf(msg, msglen, "Judge0 answered a status poll with %s, not JSON", rep.media);
            err = APP_EUPSTREAM;
            goto out;
        }
        err = jz_decode_submission(rep.body.data != NULL ? rep.body.data : "", rep.body.len, true,
                                   r, msg, msglen);
        if (err != APP_OK)
            goto out;
        if (r->status_id == 0) {
            snprintf(msg, msglen, "Judge0's submission has no status");
            err = APP_EUPSTREAM;
            goto out;
        }
        if (r->status_id > 2)
            break;
        last_status = r->status_id;
    }
    if (r->token[0] == '\0')
        snprintf(r->token, sizeof r->token, "%s", token);
    err = APP_OK;
out:
    sbuf_free(&body);
    sbuf_free(&url);
    sbuf_free(&rep.body);
    return err;
}
