/* analysis.c - the Python programs batch-analyze runs. */
#include "analysis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

static const char *const ana_types[] = {"descriptive", "correlation", "comprehensive", "text"};
#define ANA_NTYPES (sizeof ana_types / sizeof ana_types[0])

struct ana_set {
    char *programs[ANA_NTYPES]; /* From malloc() */
    size_t lens[ANA_NTYPES];
};

void ana_free(ana_set *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < ANA_NTYPES; i++)
        free(a->programs[i]);
    free(a);
}

app_err ana_load(const char *templates_dir, ana_set **out, char *msg, size_t msglen)
{
    app_err err = APP_OK;
    ana_set *a = NULL;
    char *lib = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/analysis/analysis.py", templates_dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
        return APP_EIO;
    }
    lib = malloc(ANA_MAX_FILE + 1);
    a = calloc(1, sizeof *a);
    if (lib == NULL || a == NULL) {
        err = APP_ENOMEM;
        goto out;
    }
    size_t n = fread(lib, 1, ANA_MAX_FILE + 1, f);
    if (ferror(f) || n > ANA_MAX_FILE) {
        snprintf(msg, msglen, "%s is unreadable or larger than %u bytes", path, ANA_MAX_FILE);
        err = n > ANA_MAX_FILE ? APP_ETOOBIG : APP_EIO;
        goto out;
    }
    for (size_t i = 0; i < ANA_NTYPES; i++) {
        sbuf b;
        sbuf_init(&b, ANA_MAX_FILE + 256);
        err = sbuf_append(&b, lib, n);
        if (err == APP_OK)
            err = sbuf_printf(&b, "\n\n__result__ = run_analysis(data, \"%s\")\n", ana_types[i]);
        if (err != APP_OK) {
            sbuf_free(&b);
            goto out;
        }
        a->programs[i] = sbuf_detach(&b, &a->lens[i]);
        if (a->programs[i] == NULL) {
            err = APP_ENOMEM;
            goto out;
        }
    }
    *out = a;
    a = NULL;
out:
    fclose(f);
    free(lib);
    ana_free(a);
    return err;
}

const char *ana_program(const ana_set *a, const char *type, size_t *len)
{
    for (size_t i = 0; i < ANA_NTYPES; i++) {
        if (strcmp(type, ana_types[i]) == 0) {
            *len = a->lens[i];
            return a->programs[i];
        }
    }
    return NULL;
}

const char *ana_type_list(void)
{
    return "descriptive, correlation, comprehensive, text";
}
