/* pkgs.c - which Python packages each engine can import. */
#include "pkgs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "jscan.h"
#include "sbuf.h"

struct pk_set {
    char **names; /* From malloc(): normalised, sorted when sorted is true */
    size_t n, cap;
    bool sorted;
};

/* Largest lockfile read (the 0.29 lockfile is ~120 KB). */
#define PK_MAX_LOCKFILE (8u * 1024 * 1024)

app_err pk_set_new(pk_set **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? APP_OK : APP_ENOMEM;
}

void pk_set_free(pk_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s);
}

static void normalise(const char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)in[i]);
        out[i] = c == '-' || c == '.' ? '_' : c;
    }
    out[len] = '\0';
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_set(const pk_set *cs)
{
    pk_set *s = (pk_set *)cs; /* sorting is not an observable change */
    if (s->sorted || s->n == 0) /* qsort(NULL, 0) is undefined behaviour */
        return;
    qsort(s->names, s->n, sizeof *s->names, cmp_names);
    size_t w = 0;
    for (size_t r = 0; r < s->n; r++) {
        if (w > 0 && strcmp(s->names[w - 1], s->names[r]) == 0) {
            free(s->names[r]);
            continue;
        }
        s->names[w++] = s->names[r];
    }
    s->n = w;
    s->sorted = true;
}

app_err pk_add(pk_set *s, const char *name, size_t len)
{
    if (len == 0 || len > PK_NAME_MAX)
        return APP_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **p = realloc(s->names, cap * sizeof *p);
        if (p == NULL)
            return APP_ENOMEM;
        s->names = p;
        s->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return APP_ENOMEM;
    normalise(name, len, copy);
    s->names[s->n++] = copy;
    s->sorted = false;
    return APP_OK;
}

app_err pk_add_list(pk_set *s, const char *text)
{
    const char *p = text;
    app_err err = APP_OK;
    while (err == APP_OK && *p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != ',')
            p++;
        err = pk_add(s, start, (size_t)(p - start));
    }
    return err;
}

app_err pk_add_set(pk_set *s, const pk_set *other)
{
    app_err err = APP_OK;
    for (size_t i = 0; i < other->n && err == APP_OK; i++)
        err = pk_add(s, other->names[i], strlen(other->names[i]));
    return err;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

app_err pk_add_dir(pk_set *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return APP_OK;
    app_err err = APP_OK;
    struct dirent *e;
    while (err == APP_OK && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (n[0] == '.' || (n[0] == '_' && n[1] == '_')) /* dotfiles, __pycache__ */
            continue;
        size_t len;
        if (ends_with(n, ".py")) {
            len = strlen(n) - 3;
        } else if (ends_with(n, ".so")) {
            len = strcspn(n, "."); /* numpy.cpython-311-x86_64-linux-gnu.so -> numpy */
        } else if (ends_with(n, ".dist-info") || ends_with(n, ".egg-info")) {
            len = strcspn(n, "-"); /* Pillow-9.4.0.egg-info -> pillow */
        } else if (strchr(n, '.') == NULL) {
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, n);
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
            len = strlen(n);
        } else {
            continue;
        }
        err = pk_add(s, n, len);
    }
    closedir(d);
    return err;
}

app_err pk_add_builtins(pk_set *s)
{
    /* sys.builtin_module_names of Debian 12's CPython 3.11, without the
     * private (_x) ones nobody names as a requirement. */
    return pk_add_list(s, "array atexit binascii builtins cmath errno faulthandler fcntl gc grp "
                          "itertools marshal math posix pwd pyexpat select spwd sys syslog time "
                          "unicodedata zlib");
}

static APP_MUST_CHECK app_err read_file(const char *path, sbuf *out, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
        return APP_EIO;
    }
    char buf[65536];
    size_t n;
    app_err err = APP_OK;
    while (err == APP_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        err = sbuf_append(out, buf, n);
    fclose(f);
    if (err == APP_ETOOBIG)
        snprintf(msg, msglen, "%s is larger than %u bytes", path, PK_MAX_LOCKFILE);
    return err;
}

app_err pk_add_pyodide_lockfile(pk_set *s, const char *lockfile, const char *dist_dir,
                                pk_set *missing_stdlib, char *msg, size_t msglen)
{
    sbuf text;
    sbuf_init(&text, PK_MAX_LOCKFILE);
    cJSON *root = NULL;
    app_err err = read_file(lockfile, &text, msg, msglen);
    if (err != APP_OK)
        goto out;
    js_span span;
    if ((err = js_validate(text.data, text.len, &span, msg, msglen)) != APP_OK)
        goto out;
    root = cJSON_ParseWithLength(text.data, text.len);
    const cJSON *packages = cJSON_GetObjectItemCaseSensitive(root, "packages");
    if (!cJSON_IsObject(packages)) {
        snprintf(msg, msglen, "%s has no \"packages\" object", lockfile);
        err = APP_EJSON;
        goto out;
    }
    const cJSON *pkg;
    cJSON_ArrayForEach(pkg, packages)
    {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(pkg, "file_name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(pkg, "package_type");
        const cJSON *imports = cJSON_GetObjectItemCaseSensitive(pkg, "imports");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(pkg, "name");
        bool present = true;
        if (dist_dir != NULL) {
            char path[4096];
            present = cJSON_IsString(file) && strchr(file->valuestring, '/') == NULL &&
                      snprintf(path, sizeof path, "%s/%s", dist_dir, file->valuestring) > 0 &&
                      access(path, R_OK) == 0;
        }
        pk_set *target = present ? s : missing_stdlib;
        bool stdlib = cJSON_IsString(type) && strcmp(type->valuestring, "cpython_module") == 0;
        if (target == NULL || (!present && !stdlib))
            continue;
        if (cJSON_IsString(name))
            err = pk_add(target, name->valuestring, strlen(name->valuestring));
        const cJSON *imp;
        cJSON_ArrayForEach(imp, imports)
        {
            if (err == APP_OK && cJSON_IsString(imp))
                err = pk_add(target, imp->valuestring, strlen(imp->valuestring));
        }
        if (err != APP_OK)
            goto out;
    }
out:
    cJSON_Delete(root);
    sbuf_free(&text);
    return err;
}

bool pk_has(const pk_set *s, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > PK_NAME_MAX)
        return false;
    char key[PK_NAME_MAX + 1];
    normalise(name, len, key);
    sort_set(s);
    if (s->n == 0) /* bsearch(NULL, 0) is undefined behaviour too */
        return false;
    const char *k = key;
    return bsearch(&k, s->names, s->n, sizeof *s->names, cmp_names) != NULL;
}

size_t pk_count(const pk_set *s)
{
    sort_set(s);
    return s->n;
}

void pk_remove_set(pk_set *s, const pk_set *other)
{
    sort_set(s);
    size_t w = 0;
    for (size_t r = 0; r < s->n; r++) {
        if (pk_has(other, s->names[r])) {
            free(s->names[r]);
            continue;
        }
        s->names[w++] = s->names[r];
    }
    s->n = w;
}

app_err pk_to_json(const pk_set *s, sbuf *out)
{
    sort_set(s);
    app_err err = sbuf_putc(out, '[');
    for (size_t i = 0; i < s->n && err == APP_OK; i++)
        err = sbuf_printf(out, "%s\"%s\"", i ? "," : "", s->names[i]); /* names are [a-z0-9_] */
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* Copies the identifier at p (stopping at '.', ',', space...) into names if new. */
static size_t add_name(const char *p, const char *end, char names[][PK_NAME_MAX + 1], size_t n,
                       size_t max)
{
    size_t len = 0;
    while (p + len < end && ident_char(p[len]))
        len++;
    if (len == 0 || len > PK_NAME_MAX || n >= max)
        return n;
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], p, len) == 0)
            return n;
    memcpy(names[n], p, len);
    names[n][len] = '\0';
    return n + 1;
}

static const char *skip_spaces(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

size_t pk_scan_imports(const char *code, size_t len, char names[][PK_NAME_MAX + 1], size_t max)
{
    size_t n = 0;
    const char *p = code, *end = code + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        const char *q = skip_spaces(p, eol);
        if (eol - q > 7 && strncmp(q, "import", 6) == 0 && (q[6] == ' ' || q[6] == '\t')) {
            /* import a.b as c, d */
            q += 7;
            while (q < eol) {
                q = skip_spaces(q, eol);
                n = add_name(q, eol, names, n, max);
                const char *comma = memchr(q, ',', (size_t)(eol - q));
                const char *stop = memchr(q, ';', (size_t)(eol - q));
                if (comma == NULL || (stop != NULL && stop < comma))
                    break;
                q = comma + 1;
            }
        } else if (eol - q > 5 && strncmp(q, "from", 4) == 0 && (q[4] == ' ' || q[4] == '\t')) {
            q = skip_spaces(q + 5, eol);
            if (q < eol && *q != '.') /* relative imports name no package */
                n = add_name(q, eol, names, n, max);
        }
        p = eol + 1;
    }
    return n;
}
