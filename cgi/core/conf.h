/*
 * conf.h - service settings, read once at start-up from the environment.
 *
 * Every setting has an environment variable, a default and a validity
 * rule; the README's settings table lists them.  conf_load() takes a
 * lookup function instead of calling getenv() itself so unit tests can
 * feed it any environment.  An invalid value is a start-up error naming
 * the variable, never a silently used default.
 */
#ifndef PYSANDBOX_CONF_H
#define PYSANDBOX_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* Default cap on request bodies for page endpoints (10 MiB). */
#define CONF_DEFAULT_MAX_BODY (10u * 1024 * 1024)
/* Largest PYSANDBOX_MAX_BODY_BYTES accepted (64 MiB). */
#define CONF_MAX_MAX_BODY (64u * 1024 * 1024)
/* Longest single setting value accepted. */
#define CONF_MAX_VALUE 4096
/* Default and largest PYSANDBOX_EXECUTION_RETENTION (seconds). */
#define CONF_DEFAULT_EXECUTION_RETENTION_S 3600
#define CONF_MAX_EXECUTION_RETENTION_S (30 * 86400)
/* Most origins PYSANDBOX_FRAME_ANCESTORS (or PYSANDBOX_JUDGE0_CORS_ORIGINS) may list. */
#define CONF_MAX_ORIGINS 16

typedef struct conf {
    char *templates_dir;             /* PYSANDBOX_TEMPLATES_DIR; From malloc() */
    char *web_dir;                   /* PYSANDBOX_WEB_DIR (harness.py lives here); From malloc() */
    char *pyodide_url;               /* where the core files are served: "/pyodide/<version>/" */
    char *pyodide_dir; /* PYSANDBOX_PYODIDE_DIR: the files served at pyodide_url; From malloc() */
    char *package_url;               /* PYSANDBOX_PYODIDE_PACKAGE_URL; From malloc() */
    char *frame_ancestors;           /* PYSANDBOX_FRAME_ANCESTORS, CSP syntax; From malloc() */
    char *executor_socket;           /* PYSANDBOX_EXECUTOR_SOCKET; From malloc() */
    size_t max_body;                 /* PYSANDBOX_MAX_BODY_BYTES */
    unsigned pyodide_load_timeout_s; /* PYSANDBOX_PYODIDE_LOAD_TIMEOUT */
    char *run_dir;              /* PYSANDBOX_RUN_DIR (sockets, caches); From malloc() */
    /* Native engine (executor) settings. */
    unsigned max_wall_ms;       /* PYSANDBOX_MAX_WALL_TIME (seconds) * 1000 */
    unsigned max_memory_mb;     /* PYSANDBOX_MAX_MEMORY_MB */
    unsigned pool_size;         /* PYSANDBOX_POOL_SIZE: jailed children kept ready */
    unsigned max_jobs;          /* PYSANDBOX_MAX_JOBS: jobs running at once */
    unsigned client_max_jobs;   /* PYSANDBOX_CLIENT_MAX_JOBS: one client's jobs running or queued */
    unsigned max_streams;       /* PYSANDBOX_MAX_STREAMS: streamed one-shot jobs running at once,
                                   beside max_jobs (0: they share max_jobs) */
    unsigned stream_heartbeat_ms; /* PYSANDBOX_STREAM_HEARTBEAT (seconds) * 1000: longest silence
                                     on a live-output stream before a heartbeat comment */
    unsigned queue_timeout_ms;  /* PYSANDBOX_QUEUE_TIMEOUT (seconds) * 1000 */
    unsigned jail_uid_base;     /* PYSANDBOX_JAIL_UID_BASE: first outside uid/gid of the slots */
    unsigned jail_tmp_mb;       /* PYSANDBOX_JAIL_TMP_MB: size of each jail's /tmp */
    unsigned precopy;           /* PYSANDBOX_PRECOPY: 1 = pooled children pre-copy hot memory */
    /* Sandboxes (stateful sessions on the native engine). */
    unsigned max_sandboxes;     /* PYSANDBOX_MAX_SANDBOXES: live at once */
    unsigned sandbox_memory_mb; /* PYSANDBOX_SANDBOX_MEMORY_MB: default (and most) for a life */
    unsigned sandbox_idle_s;    /* PYSANDBOX_SANDBOX_IDLE_TIMEOUT: default (and most), seconds */
    unsigned sandbox_life_s;    /* PYSANDBOX_SANDBOX_LIFETIME: default (and most), seconds */
    /* Store and router. */
    char *db_path;              /* PYSANDBOX_DB; From malloc() */
    bool store_code;            /* PYSANDBOX_STORE_CODE=1: keep code and data with executions */
    char *public_url;           /* PYSANDBOX_PUBLIC_URL for links, or NULL: from the Host header */
    unsigned stats_window_s;    /* PYSANDBOX_STATS_WINDOW (seconds) */
    unsigned execution_retention_s; /* PYSANDBOX_EXECUTION_RETENTION: seconds an ended
                                       asynchronous execution is kept */
    /* The agent's database (read-only, through the broker: dbwire.h). */
    char *agent_db;             /* PYSANDBOX_AGENT_DB: a SQLite file's path or a postgresql://
                                   URL; NULL when not configured; From malloc() */
    unsigned agent_db_max_rows; /* PYSANDBOX_AGENT_DB_MAX_ROWS (10000): rows one answer holds */
    unsigned agent_db_timeout_ms; /* PYSANDBOX_AGENT_DB_TIMEOUT (seconds, 5) * 1000 */
    /* Judge0 engine (remote). */
    char *judge0_url;           /* JUDGE0_API_URL, or NULL when not configured; From malloc() */
    char *judge0_key;           /* JUDGE0_API_KEY, or NULL */
    unsigned judge0_language_id; /* JUDGE0_LANGUAGE_ID (71) */
    unsigned judge0_max_wall_ms; /* JUDGE0_MAX_WALL_TIME (seconds) * 1000 */
    unsigned judge0_max_memory_mb; /* JUDGE0_MAX_MEMORY_MB */
    char *judge0_packages;      /* JUDGE0_PACKAGES: space-separated importable packages, or "" */
    /* The Judge0-compatible API (/judge0/). */
    char *judge0_cors_origins;  /* PYSANDBOX_JUDGE0_CORS_ORIGINS: "*" (default, as Judge0 CE),
                                   "" (no CORS headers: set to 'none'), or space-separated
                                   origins; From malloc() */
    char *judge0_auth_tokens;   /* PYSANDBOX_JUDGE0_AUTH_TOKEN: whitespace-separated tokens one of
                                   which X-Auth-Token must carry, or NULL (no authentication, the
                                   default, as Judge0 CE); From malloc() */
} conf;

/* Returns the value of an environment variable or NULL; ctx is passed through. */
typedef const char *(*conf_lookup)(const char *name, void *ctx);

/*
 * Fills *c from the variables lookup() returns (NULL lookup: getenv).
 * root is the project directory used to derive default paths.
 * Returns APP_OK, APP_ECONFIG with a sentence naming the variable in msg,
 * or APP_ENOMEM.  On any return *c is safe to pass to conf_free().
 */
APP_MUST_CHECK app_err conf_load(conf *c, const char *root, conf_lookup lookup, void *ctx, char *msg,
                  size_t msglen);

/* Frees the strings *c owns. NULL-safe. */
void conf_free(conf *c);

/*
 * Returns true when origin (e.g. "https://app.example:8443") may frame our
 * pages and talk to them with postMessage, according to frame_ancestors.
 * "'self'" entries are ignored here: same-origin parents are checked by the
 * page itself.
 */
bool conf_origin_allowed(const conf *c, const char *origin);

/* True when word is one of list's space-separated words (NULL list: none). */
bool conf_list_has(const char *list, const char *word);

/* Parses a decimal size with optional K/M/G suffix (powers of 1024) into
 * *out. Returns false on junk or overflow. */
bool conf_parse_size(const char *s, size_t *out);

#endif
