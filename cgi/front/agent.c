/* agent.c - help, examples and templates for agents (agent.h). */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"
#include "jsonw.h"
#include "native.h"
#include "sbuf.h"
#include "xproto.h"

/* Reads the file at path into out (at most AGENT_MAX_FILE bytes). */
static APP_MUST_CHECK app_err read_capped(const char *path, sbuf *out, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(msg, msglen, "cannot read %s: %s", path, strerror(errno));
        return errno == ENOENT ? APP_ENOTFOUND : APP_EIO;
    }
    char buf[8192];
    size_t n;
    app_err err = APP_OK;
    while (err == APP_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        err = sbuf_append(out, buf, n);
    if (err == APP_OK && ferror(f))
        err = APP_EIO;
    fclose(f);
    if (err != APP_OK)
        snprintf(msg, msglen, "cannot read %s: %s", path, app_strerror(err));
    return err;
}

static APP_MUST_CHECK app_err json_headers(http_resp *resp)
{
    resp->status = 200;
    app_err err = http_resp_header(resp, "Content-Type", "application/json; charset=utf-8");
    return err == APP_OK ? http_resp_header(resp, "Cache-Control", "no-store") : err;
}

/* APP_OK when the sandbox exists (the executor's errors otherwise). */
static APP_MUST_CHECK app_err sandbox_exists(const conf *c, const char *id, char *msg,
                                             size_t msglen)
{
    sbuf scratch;
    sbuf_init(&scratch, 64u * 1024);
    app_err err = native_sandbox(c, XP_OP_SANDBOX_STATUS, id, NULL, 0, &scratch, msg, msglen);
    sbuf_free(&scratch);
    return err;
}

/* Where the build put agent-help.json: beside our own program. */
static APP_MUST_CHECK app_err help_path(char *out, size_t len, char *msg, size_t msglen)
{
    char self[PATH_MAX];
    app_err err = bg_own_program(self, sizeof self, msg, msglen);
    if (err != APP_OK)
        return err;
    char *slash = strrchr(self, '/');
    snprintf(out, len, "%.*s/agent-help.json", slash ? (int)(slash - self) : 1, slash ? self : ".");
    return APP_OK;
}

app_err agent_help(const conf *c, const char *id, const char *what, http_resp *resp, char *msg,
                   size_t msglen)
{
    bool functions = strcmp(what, "functions") == 0;
    if (!functions && strcmp(what, "examples") != 0) {
        snprintf(msg, msglen, "no such help: use help/functions or help/examples");
        return APP_ENOTFOUND;
    }
    app_err err = sandbox_exists(c, id, msg, msglen);
    char path[PATH_MAX + 32];
    if (err == APP_OK && functions)
        err = help_path(path, sizeof path, msg, msglen);
    else if (err == APP_OK)
        snprintf(path, sizeof path, "%s/agent/examples.json", c->templates_dir);
    sbuf file;
    sbuf_init(&file, AGENT_MAX_FILE);
    if (err == APP_OK && (err = read_capped(path, &file, msg, msglen)) == APP_ENOTFOUND)
        err = APP_EINTERNAL; /* a file of our own is missing: the install is broken */
    sbuf_reset(&resp->body);
    if (err == APP_OK)
        err = sbuf_printf(&resp->body, "{\"sandbox_id\":\"%s\",", id);
    if (err == APP_OK && functions) /* {"functions": [...]} : its members go on */
        err = file.len > 0 && file.data[0] == '{'
                  ? sbuf_append(&resp->body, file.data + 1, file.len - 1)
                  : APP_EINTERNAL;
    else if (err == APP_OK)
        err = sbuf_printf(&resp->body, "\"examples\":%s}\n", sbuf_str(&file));
    sbuf_free(&file);
    return err == APP_OK ? json_headers(resp) : err;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > AGENT_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* The first line of the module docstring at the top of a template. */
static void description_of(const char *code, char *out, size_t len)
{
    out[0] = '\0';
    if (strncmp(code, "\"\"\"", 3) != 0)
        return;
    const char *start = code + 3, *end = strpbrk(start, "\n\"");
    size_t n = end ? (size_t)(end - start) : strlen(start);
    snprintf(out, len, "%.*s", (int)n, start);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static APP_MUST_CHECK app_err list_templates(const conf *c, http_resp *resp, char *msg,
                                             size_t msglen)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/agent/templates", c->templates_dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(msg, msglen, "cannot read %s: %s", dir, strerror(errno));
        return APP_EINTERNAL;
    }
    char *names[AGENT_MAX_TEMPLATES];
    size_t n = 0;
    struct dirent *e;
    app_err err = APP_OK;
    while (err == APP_OK && n < AGENT_MAX_TEMPLATES && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".py") != 0 || !name_ok(e->d_name, len - 3))
            continue;
        if ((names[n] = strndup(e->d_name, len - 3)) == NULL)
            err = APP_ENOMEM;
        else
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], compare_names);
    sbuf_reset(&resp->body);
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "{\"templates\":[");
    for (size_t i = 0; i < n && err == APP_OK; i++) {
        char path[PATH_MAX + AGENT_MAX_NAME + 8], description[256];
        sbuf code;
        sbuf_init(&code, AGENT_MAX_FILE);
        snprintf(path, sizeof path, "%s/%s.py", dir, names[i]);
        err = read_capped(path, &code, msg, msglen);
        description_of(sbuf_str(&code), description, sizeof description);
        if (err == APP_OK)
            err = sbuf_printf(&resp->body, "%s{\"name\":\"%s\",\"description\":", i ? "," : "",
                              names[i]);
        if (err == APP_OK)
            err = jsonw_string(&resp->body, description, strlen(description));
        if (err == APP_OK)
            err = sbuf_putc(&resp->body, '}');
        sbuf_free(&code);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "]}\n");
    return err == APP_OK ? json_headers(resp) : err;
}

app_err agent_templates(const conf *c, const char *id, const char *name, http_resp *resp, char *msg,
                        size_t msglen)
{
    if (id == NULL)
        return list_templates(c, resp, msg, msglen);
    if (!name_ok(name, strlen(name))) {
        snprintf(msg, msglen, "no such template (GET /sandbox/templates lists them)");
        return APP_ENOTFOUND;
    }
    app_err err = sandbox_exists(c, id, msg, msglen);
    char path[PATH_MAX + AGENT_MAX_NAME + 32], description[256];
    snprintf(path, sizeof path, "%s/agent/templates/%s.py", c->templates_dir, name);
    sbuf code;
    sbuf_init(&code, AGENT_MAX_FILE);
    if (err == APP_OK && (err = read_capped(path, &code, msg, msglen)) == APP_ENOTFOUND)
        snprintf(msg, msglen, "no such template (GET /sandbox/templates lists them)");
    description_of(sbuf_str(&code), description, sizeof description);
    sbuf_reset(&resp->body);
    if (err == APP_OK)
        err = sbuf_printf(&resp->body,
                          "{\"sandbox_id\":\"%s\",\"name\":\"%s\",\"description\":", id, name);
    if (err == APP_OK)
        err = jsonw_string(&resp->body, description, strlen(description));
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, ",\"code\":");
    if (err == APP_OK)
        err = jsonw_string(&resp->body, code.data ? code.data : "", code.len);
    if (err == APP_OK)
        err = sbuf_puts(&resp->body, "}\n");
    sbuf_free(&code);
    return err == APP_OK ? json_headers(resp) : err;
}
