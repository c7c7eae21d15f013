/* page.c - the sandbox HTML page. */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "tmpl.h"

static const char *const page_vars[] = {"config", "input", "data"};

struct page {
    const conf *conf; /* borrowed */
    tmpl *t;
    tmpl *stats;      /* the statistics page */
    char *config_json; /* From malloc(): the page's static configuration */
    size_t config_len;
};

/* The configuration object the page script reads; built once. */
static APP_MUST_CHECK app_err build_config(const conf *c, sbuf *out)
{
    app_err err = sbuf_puts(out, "{\"pyodideUrl\":");
    if (err == APP_OK)
        err = jsonw_string(out, c->pyodide_url, strlen(c->pyodide_url));
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"packageUrl\":");
    if (err == APP_OK)
        err = jsonw_string(out, c->package_url, strlen(c->package_url));
    if (err == APP_OK)
        err = sbuf_printf(out,
                          ",\"pyodideVersion\":\"%s\",\"harnessUrl\":\"/static/harness.py\","
                          "\"workerUrl\":\"/static/worker.js\",\"loadTimeoutMs\":%u,"
                          "\"allowedParentOrigins\":[",
                          PYODIDE_VERSION, c->pyodide_load_timeout_s * 1000u);
    /* Origins from frame-ancestors (validated at start-up: no quotes in them). */
    const char *p = c->frame_ancestors;
    bool first = true;
    while (err == APP_OK && *p != '\0') {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ' ')
            p++;
        if (p > start && start[0] != '\'') {
            if (!first)
                err = sbuf_putc(out, ',');
            if (err == APP_OK)
                err = jsonw_string(out, start, (size_t)(p - start));
            first = false;
        }
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "]}");
    return err;
}

app_err page_new(const conf *c, page **out, char *msg, size_t msglen)
{
    app_err err;
    page *p = calloc(1, sizeof *p);
    if (p == NULL)
        return APP_ENOMEM;
    p->conf = c;
    char path[4200];
    snprintf(path, sizeof path, "%s/sandbox.html", c->templates_dir);
    err = tmpl_load(path, page_vars, sizeof page_vars / sizeof page_vars[0], &p->t, msg, msglen);
    if (err != APP_OK)
        goto out;
    snprintf(path, sizeof path, "%s/stats.html", c->templates_dir);
    err = tmpl_load(path, page_vars, 1, &p->stats, msg, msglen);
    if (err != APP_OK)
        goto out;
    sbuf cfg;
    sbuf_init(&cfg, 64 * 1024);
    err = build_config(c, &cfg);
    if (err != APP_OK) {
        sbuf_free(&cfg);
        goto out;
    }
    p->config_json = sbuf_detach(&cfg, &p->config_len);
    if (p->config_json == NULL) {
        err = APP_ENOMEM;
        goto out;
    }
    *out = p;
    p = NULL;
out:
    page_free(p);
    return err;
}

void page_free(page *p)
{
    if (p == NULL)
        return;
    tmpl_free(p->t);
    tmpl_free(p->stats);
    free(p->config_json);
    free(p);
}

/* Origin part of an absolute URL ("https://cdn.example/x/" -> "https://cdn.example"),
 * or 0 when url is a same-origin path. */
static size_t url_origin_len(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (url[0] == '/' || scheme == NULL)
        return 0;
    const char *slash = strchr(scheme + 3, '/');
    return slash != NULL ? (size_t)(slash - url) : strlen(url);
}

app_err page_security_headers(const conf *c, http_resp *resp)
{
    char csp[8192];
    size_t olen = url_origin_len(c->package_url);
    int n = snprintf(csp, sizeof csp,
                     "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; "
                     "worker-src 'self'; connect-src 'self'%s%.*s; img-src 'self' data: blob:; "
                     "style-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
                     "frame-ancestors %s",
                     olen > 0 ? " " : "", (int)olen, c->package_url, c->frame_ancestors);
    if (n < 0 || (size_t)n >= sizeof csp)
        return APP_EINTERNAL;
    app_err err = http_resp_header(resp, "Content-Security-Policy", csp);
    if (err == APP_OK)
        err = http_resp_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cross-Origin-Embedder-Policy", "require-corp");
    /* Lets cross-origin-isolated parents listed in frame-ancestors embed us;
     * frame-ancestors still decides who may frame the page at all. */
    if (err == APP_OK)
        err = http_resp_header(resp, "Cross-Origin-Resource-Policy", "cross-origin");
    if (err == APP_OK)
        err = http_resp_header(resp, "Cache-Control", "no-store");
    if (err == APP_OK)
        err = http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    if (err == APP_OK)
        err = http_resp_header(resp, "Referrer-Policy", "no-referrer");
    return err;
}

app_err page_render_stats(const page *p, http_resp *resp)
{
    tmpl_var vars[] = {{"config", p->config_json, p->config_len}};
    http_resp_reset(resp);
    app_err err = tmpl_render(p->stats, vars, 1, &resp->body);
    if (err == APP_OK)
        err = http_resp_header(resp, "Content-Type", "text/html; charset=utf-8");
    if (err == APP_OK)
        err = page_security_headers(p->conf, resp);
    return err;
}

app_err page_render(const page *p, const page_input *in, http_resp *resp)
{
    sbuf input;
    sbuf_init(&input, in->code_len * 6 + 1024);
    app_err err = sbuf_puts(&input, "{\"code\":");
    if (err == APP_OK)
        err = jsonw_string(&input, in->code, in->code_len);
    if (err == APP_OK)
        err = sbuf_puts(&input, ",\"analysisType\":");
    if (err == APP_OK)
        err = in->analysis_type != NULL
                  ? jsonw_string(&input, in->analysis_type, strlen(in->analysis_type))
                  : sbuf_puts(&input, "null");
    if (err == APP_OK)
        err = sbuf_printf(&input, ",\"autorun\":%s,\"insights\":%s}", in->autorun ? "true" : "false",
                          in->analysis_type != NULL ? "true" : "false"); /* a report has findings */
    if (err == APP_OK) {
        tmpl_var vars[] = {
            {"config", p->config_json, p->config_len},
            {"input", input.data, input.len},
            {"data", in->data, in->data_len},
        };
        http_resp_reset(resp);
        err = tmpl_render(p->t, vars, sizeof vars / sizeof vars[0], &resp->body);
    }
    sbuf_free(&input);
    if (err == APP_OK)
        err = http_resp_header(resp, "Content-Type", "text/html; charset=utf-8");
    if (err == APP_OK)
        err = page_security_headers(p->conf, resp);
    return err;
}
