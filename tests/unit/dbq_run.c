/*
 * dbq_run.c - serves one database request against a database, for tests.
 *
 *   dbq_run TARGET [MAX_ROWS MAX_BYTES TIMEOUT_MS] < request.json
 *
 * Opens TARGET (a SQLite file or a postgresql:// URL) as the broker does,
 * reads the request JSON (dbwire.h) from stdin, and prints the broker's
 * answer object on stdout (tests/http/test_dbq.py).  Exits 0 whenever an
 * answer was printed, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbq.h"
#include "dbwire.h"
#include "sbuf.h"

static unsigned arg_or(int argc, char **argv, int i, unsigned def)
{
    return argc > i ? (unsigned)strtoul(argv[i], NULL, 10) : def;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 5) {
        fprintf(stderr, "usage: dbq_run TARGET [MAX_ROWS MAX_BYTES TIMEOUT_MS] < request.json\n");
        return 2;
    }
    dbq_limits lim = {
        .max_rows = arg_or(argc, argv, 2, DBW_DEFAULT_MAX_ROWS),
        .max_bytes = arg_or(argc, argv, 3, DBW_DEFAULT_MAX_ROW_BYTES),
        .timeout_ms = arg_or(argc, argv, 4, DBW_DEFAULT_TIMEOUT_MS),
    };
    sbuf in;
    sbuf_init(&in, DBW_MAX_REQUEST + 1);
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        if (sbuf_append(&in, buf, (size_t)n) != APP_OK)
            break; /* over the cap: what was read is served, and refused as too big */
    dbq_err oerr = DBQ_OK;
    char msg[APP_ERRMSG_LEN] = "";
    dbq *q = dbq_open(argv[1], &oerr, msg, sizeof msg);
    sbuf out;
    sbuf_init(&out, DBW_MAX_ANSWER);
    dbq_outcome o;
    app_err e = dbq_serve(q, msg, in.data ? in.data : "", in.len, &lim, &out, &o);
    if (e == APP_OK)
        printf("%s\n", sbuf_str(&out));
    dbq_outcome_free(&o);
    dbq_free(q);
    sbuf_free(&in);
    sbuf_free(&out);
    return e == APP_OK ? 0 : 1;
}
