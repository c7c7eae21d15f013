/*
 * page.h - the sandbox HTML page: template, embedded input, security headers.
 *
 * Every HTML response that runs Python in the browser is this one page
 * (templates/sandbox.html) with different input: empty for GET, the
 * posted code and data for POST, a generated analysis with autorun for
 * batch-analyze (whose input also says insights: true, so every engine's
 * result carries findings about the data).  User input is embedded only through tmpl's {{json:}}
 * escaping inside <script type="application/json"> elements; the page's
 * own scripts are static files, so the CSP allows no inline script.
 * page_render() also sets the headers every such page needs: CSP with
 * frame-ancestors and 'wasm-unsafe-eval', COOP/COEP for SharedArrayBuffer,
 * and Cache-Control: no-store because the page embeds user data.
 */
#ifndef PYSANDBOX_PAGE_H
#define PYSANDBOX_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "http.h"

typedef struct page page;

/* What one rendered page carries. Strings are borrowed for the call. */
typedef struct page_input {
    const char *code; /* Python source, UTF-8 without NUL */
    size_t code_len;
    const char *data; /* JSON text exactly as posted; "[]" when none */
    size_t data_len;
    const char *analysis_type; /* NULL unless batch-analyze */
    bool autorun;              /* run as soon as Python is ready */
} page_input;

/* Loads the page template named by c->templates_dir. c is borrowed and must
 * outlive the page. Returns APP_OK and *out, or an error with msg. */
APP_MUST_CHECK app_err page_new(const conf *c, page **out, char *msg, size_t msglen);

/* Frees the page. NULL-safe. */
void page_free(page *p);

/* Renders the page for in into resp (status 200, headers, body).
 * Returns APP_OK, APP_ETOOBIG, APP_ENOMEM. */
APP_MUST_CHECK app_err page_render(const page *p, const page_input *in, http_resp *resp);

/* Renders the statistics page (templates/stats.html; it embeds only the
 * page configuration). Returns APP_OK, APP_ETOOBIG, APP_ENOMEM. */
APP_MUST_CHECK app_err page_render_stats(const page *p, http_resp *resp);

/* Adds the security headers of an HTML page (CSP, COOP/COEP/CORP, no-store,
 * nosniff, referrer policy) to resp. */
APP_MUST_CHECK app_err page_security_headers(const conf *c, http_resp *resp);

#endif
