/*
 * dbq_run.c - serves one database request against a database, for tests.
 *
 *   dbq_run TARGET [MAX_ROWS MAX_BYTES TIMEOUT_MS] < request.json
 *   dbq_run --lines TARGET [MAX_ROWS MAX_BYTES TIMEOUT_MS]
 *
 * Opens TARGET (a SQLite file or a postgresql:// URL) as the broker does,
 * reads the request JSON (dbwire.h) from stdin, and prints the broker's
 * answer object on stdout (tests/http/test_dbq.py).  With --lines, one
 * request per line, each answered on its line at once, all on the one
 * connection (as a broker thread serves them: what one request leaves in
 * the session is what the next would see).  Exits 0 whenever answers were
 * printed, 2 on bad usage.
 */
#include <stdbool.h>
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

static int serve_lines(dbq *q, const char *why, const dbq_limits *lim)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    sbuf out;
    sbuf_init(&out, DBW_MAX_ANSWER);
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, stdin)) > 0) {
        dbq_outcome o;
        sbuf_reset(&out);
        if (dbq_serve(q, why, line, (size_t)(line[n - 1] == '\n' ? n - 1 : n), lim, &out, &o) !=
            APP_OK)
            rc = 1;
        else if (printf("%s\n", sbuf_str(&out)) < 0 || fflush(stdout) != 0)
            rc = 1;
        dbq_outcome_free(&o);
    }
    free(line);
    sbuf_free(&out);
    return rc;
}

int main(int argc, char **argv)
{
    bool lines = argc > 1 && strcmp(argv[1], "--lines") == 0;
    if (lines) {
        argc--;
        argv++;
    }
    if (argc != 2 && argc != 5) {
        fprintf(stderr, "usage: dbq_run [--lines] TARGET [MAX_ROWS MAX_BYTES TIMEOUT_MS] "
                        "< request(s)\n");
        return 2;
    }
    dbq_limits lim = {
        .max_rows = arg_or(argc, argv, 2, DBW_DEFAULT_MAX_ROWS),
        .max_bytes = arg_or(argc, argv, 3, DBW_DEFAULT_MAX_ROW_BYTES),
        .timeout_ms = arg_or(argc, argv, 4, DBW_DEFAULT_TIMEOUT_MS),
    };
    if (lines) {
        dbq_err oerr = DBQ_OK;
        char why[APP_ERRMSG_LEN] = "";
        dbq *q = dbq_open(argv[1], &oerr, why, sizeof why);
        int rc = serve_lines(q, why, &lim);
        dbq_free(q);
        return rc;
    }
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
