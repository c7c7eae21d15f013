/*
 * dbwire.h - what crosses to and from the database broker.
 *
 * A program asks for a query from inside its jail (the harness's
 * db_query, db_tables, db_schema) by writing a database frame on its
 * channel (fd 3): a u32 word XP_CHILD_FRAME_DB | n, then n bytes of JSON
 *
 *   {"op": "query", "sql": "...", "params": {"name": value, ...} | [value, ...] | null}
 *   {"op": "tables"}
 *   {"op": "schema", "table": "users"}
 *
 * (values: null, booleans, numbers, strings).  The executor does not read
 * the JSON: it checks the length against DBW_MAX_REQUEST, stops reading the
 * channel, and relays the bytes to the broker behind a dbw_hdr that it
 * fills itself (which sandbox, which limits).  The broker decodes them
 * with dbw_decode(), which trusts nothing, runs the query and answers a
 * u32 length and a JSON object:
 *
 *   {"ok": true, ...the members dbq.h lists..., "duration_ms": x}
 *   {"ok": false, "error": {"type": "DatabaseReadOnly", "message": "..."}}
 *
 * which the executor writes back on the channel as it came (a u32 length,
 * then the JSON), and reads the channel again.  So a program has at most
 * one query in flight, whatever it writes.  The same request JSON comes
 * from the front (POST /sandbox/{id}/database/query) as an XP_OP_DB job.
 */
#ifndef PYSANDBOX_DBWIRE_H
#define PYSANDBOX_DBWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "xproto.h"

/* Limits (documented in the README's limits table). */
#define DBW_MAX_REQUEST (1024u * 1024)               /* bytes of one request's JSON */
#define DBW_MAX_SQL (256u * 1024)                    /* bytes of its SQL text */
#define DBW_MAX_PARAMS 1000u                         /* parameters of one query */
#define DBW_MAX_NAME 64u                             /* bytes of a parameter's or a table's name */
#define DBW_MAX_ANSWER (16u * 1024 * 1024)           /* bytes of one answer */
#define DBW_DEFAULT_MAX_ROWS 10000u                  /* rows of one answer; more: truncated */
#define DBW_DEFAULT_MAX_ROW_BYTES (8u * 1024 * 1024) /* bytes of its rows; more: truncated */
#define DBW_DEFAULT_TIMEOUT_MS 5000u                 /* time one query may run */
#define DBW_MAX_QUERIES_PER_JOB 10000u               /* queries one execution may make */
#define DBW_BROKER_CONNECTIONS 8u                    /* queries the broker runs at once */

#define DBW_MAGIC 0x31424450u /* "PDB1" */

/* What the executor puts before a request it relays to the broker. */
typedef struct dbw_hdr {
    uint32_t magic;                  /* DBW_MAGIC */
    uint32_t len;                    /* bytes of request JSON that follow */
    uint32_t origin;                 /* enum dbw_origin */
    uint32_t reserved;               /* 0 */
    char sandbox[XP_SANDBOX_ID_LEN]; /* hex, or all zero bytes: a one-shot run */
} dbw_hdr;

enum dbw_origin { DBW_FROM_JAIL = 0, DBW_FROM_API = 1 };

typedef enum dbw_op { DBW_QUERY, DBW_TABLES, DBW_SCHEMA } dbw_op;

typedef enum dbw_type { DBW_NULL, DBW_BOOL, DBW_INT, DBW_REAL, DBW_TEXT } dbw_type;

typedef struct dbw_param {
    char *name; /* From malloc(): the name without its ':' (named), or NULL (positional) */
    dbw_type type;
    int64_t i;  /* DBW_INT; DBW_BOOL: 0 or 1 */
    double r;   /* DBW_REAL */
    char *text; /* From malloc(), NUL-terminated: DBW_TEXT (may hold NUL: see len) */
    size_t len; /* DBW_TEXT: bytes */
} dbw_param;

typedef struct dbw_request {
    dbw_op op;
    char *sql; /* From malloc(), NUL-terminated: DBW_QUERY; valid UTF-8, no NUL */
    size_t sql_len;
    char *table;       /* From malloc(): DBW_SCHEMA */
    dbw_param *params; /* From malloc(); nparams entries */
    size_t nparams;
    bool named; /* params came as an object */
} dbw_request;

/*
 * Decodes a request's JSON (n bytes at json).  Returns APP_OK and fills
 * *req (free with dbw_request_free, also after an error); APP_EJSON /
 * APP_EUTF8 for text that is not JSON, APP_EFIELD for a wrong shape, an
 * unknown op or member, a value of the wrong type, APP_ETOOBIG past a cap.
 * msg gets a sentence for the user.
 */
APP_MUST_CHECK app_err dbw_decode(const char *json, size_t n, dbw_request *req, char *msg,
                                  size_t msglen);

/* Frees what dbw_decode() allocated and zeroes *req. NULL-safe. */
void dbw_request_free(dbw_request *req);

/* "query", "tables", "schema". */
const char *dbw_op_name(dbw_op op);

#endif
