/* fuzz_service.c - libFuzzer target for the whole HTTP service (service.c).
 *
 * The first byte picks method, path and content type; the rest is the body.
 * Properties: every response is complete (status set, body valid UTF-8);
 * errors are JSON; and a rendered page never holds more "</script" than
 * the template itself, whatever the user sent (the XSS invariant). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "service.h"
#include "utf8.h"

static conf cfg;
static svc *service;
static size_t template_closers;

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char msg[APP_ERRMSG_LEN];
    const char *root = getenv("PYSANDBOX_ROOT");
    char pyodide[4096];
    /* The lockfile of the unit-test data stands for a Pyodide download. */
    snprintf(pyodide, sizeof pyodide, "%s/tests/unit/data/pyodide-dist", root ? root : ".");
    setenv("PYSANDBOX_PYODIDE_DIR", pyodide, 0);
    if (root == NULL || conf_load(&cfg, root, NULL, NULL, msg, sizeof msg) != APP_OK ||
        svc_new(&cfg, &service, msg, sizeof msg) != APP_OK) {
        fprintf(stderr, "fuzz_service: set PYSANDBOX_ROOT (%s)\n", root ? msg : "unset");
        abort();
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/templates/sandbox.html", root);
    FILE *f = fopen(path, "rb");
    static char tbuf[1 << 18];
    size_t n = f ? fread(tbuf, 1, sizeof tbuf - 1, f) : 0;
    if (f)
        fclose(f);
    tbuf[n] = '\0';
    template_closers = count(tbuf, "</script");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/api/insights/python-sandbox",
                                        "/api/insights/batch-analyze", "/api/health", "/api/x"};
    static const char *const methods[] = {"POST", "GET", "PUT", "HEAD"};
    static const char *const ctypes[] = {"application/json", "application/x-www-form-urlencoded",
                                         "text/plain", ""};
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t n = size - 1;
    char *body = malloc(n + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 1, n);
    body[n] = '\0';
    http_req req = {
        .method = methods[(sel >> 4) & 3 ? (sel >> 4) & 3 : 0],
        .path = paths[sel & 3],
        .query = "",
        .content_type = ctypes[(sel >> 2) & 3],
        .host = "localhost",
        .scheme = "http",
        .remote_addr = "127.0.0.1",
        .body = body,
        .body_len = n,
        .cancel_fd = -1,
    };
    if ((sel & 0xC0) == 0)
        req.method = "POST";
    http_resp resp;
    http_resp_init(&resp);
    svc_handle(service, &req, &resp);
    const char *out = sbuf_str(&resp.body);
    if (resp.status < 200 || resp.status > 599 || !utf8_valid(out, resp.body.len, NULL))
        abort();
    if (resp.status >= 400 && strncmp(out, "{\"error\":{\"code\":", 17) != 0)
        abort();
    if (resp.status == 200 && strstr(sbuf_str(&resp.headers), "text/html") != NULL &&
        count(out, "</script") != template_closers)
        abort();
    http_resp_free(&resp);
    free(body);
    return 0;
}
