/* hist.c - the SQLite store. */
#include "hist.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hist-int.h"
#include "jsonw.h"

/* Each entry moves the schema from version i to i + 1; never edit one that
 * has shipped, append a new one. */
static const char *const migrations[] = {
    "CREATE TABLE executions ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at REAL NOT NULL,"
    "  engine TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  success INTEGER NOT NULL,"
    "  wall_ms REAL, exec_ms REAL,"
    "  code_bytes INTEGER, data_bytes INTEGER, output_bytes INTEGER,"
    "  source TEXT NOT NULL,"
    "  fallback INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT, code TEXT, data TEXT);"
    "CREATE INDEX executions_engine_time ON executions(engine, created_at);"
    "CREATE INDEX executions_time ON executions(created_at);"
    "CREATE TABLE handoffs ("
    "  token TEXT PRIMARY KEY,"
    "  created_at REAL NOT NULL, expires_at REAL NOT NULL,"
    "  code TEXT NOT NULL, data TEXT NOT NULL, requirements TEXT);"
    "CREATE TABLE benchmark_runs ("
    "  id TEXT PRIMARY KEY,"
    "  created_at REAL NOT NULL, finished_at REAL,"
    "  suite TEXT NOT NULL, iterations INTEGER NOT NULL, engines TEXT NOT NULL,"
    "  source TEXT NOT NULL, status TEXT NOT NULL,"
    "  total INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT, summary TEXT);"
    "CREATE INDEX benchmark_runs_time ON benchmark_runs(created_at);"
    "CREATE TABLE benchmark_results ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES benchmark_runs(id) ON DELETE CASCADE,"
    "  created_at REAL NOT NULL,"
    "  case_name TEXT NOT NULL, engine TEXT NOT NULL, iteration INTEGER NOT NULL,"
    "  status TEXT NOT NULL, wall_ms REAL, exec_ms REAL);"
    "CREATE INDEX benchmark_results_run ON benchmark_results(run_id);"
    "CREATE TABLE judge0_submissions ("
    "  token TEXT PRIMARY KEY,"
    "  created_at REAL NOT NULL, finished_at REAL,"
    "  language_id INTEGER NOT NULL,"
    "  request TEXT NOT NULL,"  /* the submission's fields as JSON; source_code, stdin and
                                    expected_output inside it as one-line base64 */
    "  status_id INTEGER NOT NULL,"
    "  result TEXT);"           /* the finished submission's fields as JSON */
    "CREATE INDEX judge0_submissions_time ON judge0_submissions(created_at);",
    /* 2: the process running a server benchmark, so a dead one is noticed. */
    "ALTER TABLE benchmark_runs ADD COLUMN task_pid INTEGER;",
    /* 3: asynchronous executions (hist_run.c).  code, data and requirements
     * only until the run ends; bytes is what the row's texts take, for the
     * store's cap. */
    "CREATE TABLE async_executions ("
    "  id TEXT PRIMARY KEY,"
    "  client INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created_at REAL NOT NULL, started_at REAL, finished_at REAL,"
    "  task_pid INTEGER,"
    "  code TEXT, data TEXT, requirements TEXT,"
    "  result TEXT, error_code TEXT, error_message TEXT,"
    "  bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX async_executions_status ON async_executions(status, client);"
    "CREATE INDEX async_executions_finished ON async_executions(finished_at);",
    /* 4: an asynchronous execution's output as its task stores it, one row
     * per chunk numbered from 1 in the order written (the events' ids);
     * what each stream stored and whether some was left out past its cap;
     * the stateful sandbox it runs in, if any. */
    "ALTER TABLE async_executions ADD COLUMN sandbox TEXT;"
    "ALTER TABLE async_executions ADD COLUMN chunks INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE async_executions ADD COLUMN out_bytes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE async_executions ADD COLUMN err_bytes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE async_executions ADD COLUMN out_truncated INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE async_executions ADD COLUMN err_truncated INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE async_execution_output ("
    "  run_id TEXT NOT NULL REFERENCES async_executions(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  stderr INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (run_id, seq)) WITHOUT ROWID;",
    /* 5: sessions of the MCP endpoint (hist_mcp.c). */
    "CREATE TABLE mcp_sessions ("
    "  id TEXT PRIMARY KEY,"
    "  version TEXT NOT NULL,"
    "  created_at REAL NOT NULL, last_used REAL NOT NULL);"
    "CREATE INDEX mcp_sessions_used ON mcp_sessions(last_used);",
    /* 6: the agent database's query log (hist_db.c): row_count -1 for a
     * failed request, outcome "ok" or the error's type. */
    "CREATE TABLE db_queries ("
    "  id INTEGER PRIMARY KEY,"
    "  at REAL NOT NULL,"
    "  sandbox TEXT,"
    "  origin TEXT NOT NULL,"
    "  op TEXT NOT NULL,"
    "  query TEXT, params TEXT,"
    "  row_count INTEGER NOT NULL,"
    "  truncated INTEGER NOT NULL DEFAULT 0,"
    "  duration_ms REAL,"
    "  outcome TEXT NOT NULL,"
    "  message TEXT);"
    "CREATE INDEX db_queries_sandbox ON db_queries(sandbox, id);",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

double hist_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

app_err hist_db_fail(hist *h, char *msg, size_t msglen, const char *what)
{
    snprintf(msg, msglen, "database: %s: %s", what, h && h->db ? sqlite3_errmsg(h->db) : "no handle");
    return APP_EDB;
}

app_err hist_exec(hist *h, const char *sql, char *msg, size_t msglen)
{
    char *err = NULL;
    if (sqlite3_exec(h->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        snprintf(msg, msglen, "database: %s", err ? err : "error");
        sqlite3_free(err);
        return APP_EDB;
    }
    return APP_OK;
}

/* The schema version the database says it has (PRAGMA user_version); 0
 * when it cannot be read (a new file). */
static int schema_version(hist *h)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return version;
}

app_err hist_open(const char *path, hist **out, char *msg, size_t msglen)
{
    app_err err = APP_EDB;
    hist *h = calloc(1, sizeof *h);
    if (h == NULL)
        return APP_ENOMEM;
    if (sqlite3_open_v2(path, &h->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        err = hist_db_fail(h, msg, msglen, path);
        goto out;
    }
    /* Several processes write: wait for each other rather than fail. */
    sqlite3_busy_timeout(h->db, 10000);
    /* Values we store can be large, but never unbounded. */
    sqlite3_limit(h->db, SQLITE_LIMIT_LENGTH, HIST_MAX_TEXT + 1024);
    if ((err = hist_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           "PRAGMA foreign_keys=ON;",
                        msg, msglen)) != APP_OK)
        goto out;
    /* Most opens find the schema current: a read says so without the
     * write lock (which would queue behind, and block, every writer). */
    if (schema_version(h) == NMIGRATIONS) {
        *out = h;
        return APP_OK;
    }
    /* Migrate under an exclusive lock so two starting workers do not both do it. */
    if ((err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen)) != APP_OK)
        goto out;
    int version = schema_version(h);
    if (version > NMIGRATIONS) {
        app_ignore(hist_exec(h, "ROLLBACK", msg, msglen)); /* msg is overwritten: the schema says why */
        snprintf(msg, msglen, "database %s has schema %d, newer than this build (%d)", path,
                 version, NMIGRATIONS);
        err = APP_EDB;
        goto out;
    }
    for (int v = version; v < NMIGRATIONS; v++) {
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version=%d", v + 1);
        if ((err = hist_exec(h, migrations[v], msg, msglen)) != APP_OK ||
            (err = hist_exec(h, set, msg, msglen)) != APP_OK) {
            char ignored[APP_ERRMSG_LEN];
            app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
            goto out;
        }
    }
    if ((err = hist_exec(h, "COMMIT", msg, msglen)) != APP_OK)
        goto out;
    *out = h;
    h = NULL;
    err = APP_OK;
out:
    hist_close(h);
    return err;
}

void hist_close(hist *h)
{
    if (h == NULL)
        return;
    sqlite3_close_v2(h->db);
    free(h);
}

int hist_watch(hist *h)
{
    const char *db = sqlite3_db_filename(h->db, "main");
    char wal[4200];
    if (db == NULL || db[0] == '\0' || snprintf(wal, sizeof wal, "%s-wal", db) >= (int)sizeof wal)
        return -1;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && inotify_add_watch(fd, wal, IN_MODIFY) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void hist_watch_drain(int fd)
{
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(fd, events, sizeof events) > 0)
        ;
}

app_err hist_random_hex(char *buf, size_t n)
{
    unsigned char raw[64];
    if (n > sizeof raw || getrandom(raw, n, 0) != (ssize_t)n)
        return APP_EIO;
    for (size_t i = 0; i < n; i++)
        snprintf(buf + 2 * i, 3, "%02x", raw[i]);
    return APP_OK;
}

app_err hist_prepare(hist *h, const char *sql, const char *what, sqlite3_stmt **st, char *msg,
                     size_t msglen)
{
    if (sqlite3_prepare_v2(h->db, sql, -1, st, NULL) == SQLITE_OK)
        return APP_OK;
    char where[64];
    snprintf(where, sizeof where, "prepare%s%s", what[0] ? " " : "", what);
    return hist_db_fail(h, msg, msglen, where);
}

app_err hist_step_done(hist *h, sqlite3_stmt *st, const char *what, char *msg, size_t msglen)
{
    app_err err = sqlite3_step(st) == SQLITE_DONE ? APP_OK : hist_db_fail(h, msg, msglen, what);
    sqlite3_finalize(st);
    return err;
}

int hist_bind_text(sqlite3_stmt *st, int i, const char *s, size_t n)
{
    return s ? sqlite3_bind_text64(st, i, s, n, SQLITE_TRANSIENT, SQLITE_UTF8)
             : sqlite3_bind_null(st, i);
}

int hist_bind_str(sqlite3_stmt *st, int i, const char *s)
{
    return hist_bind_text(st, i, s, s ? strlen(s) : 0);
}

app_err hist_record(hist *h, const hist_execution *e, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = APP_OK;
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO executions (created_at, engine, status, success, wall_ms, "
                           "exec_ms, code_bytes, data_bytes, output_bytes, source, fallback, error, "
                           "code, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare insert execution");
    sqlite3_bind_double(st, 1, hist_now_s());
    hist_bind_str(st, 2, e->engine);
    hist_bind_str(st, 3, e->status);
    sqlite3_bind_int(st, 4, e->success);
    sqlite3_bind_double(st, 5, e->wall_ms);
    if (e->exec_ms >= 0)
        sqlite3_bind_double(st, 6, e->exec_ms);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)e->code_bytes);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)e->data_bytes);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)e->output_bytes);
    hist_bind_str(st, 10, e->source);
    sqlite3_bind_int(st, 11, e->fallback);
    hist_bind_str(st, 12, e->error);
    hist_bind_str(st, 13, e->code);
    hist_bind_str(st, 14, e->data);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = hist_db_fail(h, msg, msglen, "insert execution");
    sqlite3_finalize(st);
    return err;
}

/* The wall_ms at quantile q of an engine's window (rank ceil(q * n) - 1). */
static double quantile(hist *h, const char *engine, double since, long count, double q)
{
    sqlite3_stmt *st = NULL;
    double v = 0;
    long offset = (long)ceil(q * (double)count) - 1;
    if (offset < 0)
        offset = 0;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT wall_ms FROM executions WHERE engine = ? AND created_at >= ? AND "
                           "wall_ms IS NOT NULL ORDER BY wall_ms LIMIT 1 OFFSET ?",
                           -1, &st, NULL) == SQLITE_OK) {
        hist_bind_str(st, 1, engine);
        sqlite3_bind_double(st, 2, since);
        sqlite3_bind_int64(st, 3, offset);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

app_err hist_engine_stats_get(hist *h, const char *engine, long window_s, hist_engine_stats *s,
                              char *msg, size_t msglen)
{
    memset(s, 0, sizeof *s);
    double since = hist_now_s() - (double)window_s;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT count(*), sum(status = 'ok'), "
                           "sum(status IN ('engine_error', 'unavailable')), avg(wall_ms) "
                           "FROM executions WHERE engine = ? AND created_at >= ?",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare stats");
    hist_bind_str(st, 1, engine);
    sqlite3_bind_double(st, 2, since);
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->count = sqlite3_column_int64(st, 0);
        if (s->count > 0) {
            s->success_rate = sqlite3_column_double(st, 1) / (double)s->count;
            s->engine_failure_rate = sqlite3_column_double(st, 2) / (double)s->count;
            s->avg_ms = sqlite3_column_double(st, 3);
        }
    }
    sqlite3_finalize(st);
    if (s->count > 0) {
        s->p50_ms = quantile(h, engine, since, s->count, 0.50);
        s->p95_ms = quantile(h, engine, since, s->count, 0.95);
    }
    if (sqlite3_prepare_v2(h->db,
                           "SELECT error FROM executions WHERE engine = ? AND error IS NOT NULL "
                           "ORDER BY created_at DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare last error");
    hist_bind_str(st, 1, engine);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(s->last_error, sizeof s->last_error, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
    return APP_OK;
}

app_err hist_timeseries_json(hist *h, long window_s, long bucket_s, sbuf *out, char *msg,
                             size_t msglen)
{
    sqlite3_stmt *st = NULL;
    if (bucket_s < 1)
        bucket_s = 1;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT CAST(created_at / ?1 AS INTEGER) * ?1 AS t, engine, count(*), "
                           "sum(status = 'ok'), avg(wall_ms) FROM executions "
                           "WHERE created_at >= ?2 GROUP BY t, engine ORDER BY t, engine",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare time series");
    sqlite3_bind_int64(st, 1, bucket_s);
    sqlite3_bind_double(st, 2, hist_now_s() - (double)window_s);
    app_err err = sbuf_putc(out, '[');
    bool first = true;
    while (err == APP_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *engine = (const char *)sqlite3_column_text(st, 1);
        err = sbuf_printf(out, "%s{\"t\":%lld,\"engine\":", first ? "" : ",",
                          (long long)sqlite3_column_int64(st, 0));
        if (err == APP_OK)
            err = jsonw_string(out, engine ? engine : "", engine ? strlen(engine) : 0);
        if (err == APP_OK)
            err = sbuf_printf(out, ",\"count\":%lld,\"ok\":%lld,\"avgMs\":%.3f}",
                              (long long)sqlite3_column_int64(st, 2),
                              (long long)sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4));
        first = false;
    }
    sqlite3_finalize(st);
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

app_err hist_handoff_create(hist *h, const char *code, size_t code_len, const char *data,
                            size_t data_len, const char *requirements, char token[33], char *msg,
                            size_t msglen)
{
    if (hist_random_hex(token, 16) != APP_OK) {
        snprintf(msg, msglen, "no randomness for a link token");
        return APP_EIO;
    }
    double now = hist_now_s();
    sqlite3_stmt *st = NULL;
    app_err err = APP_OK;
    if (sqlite3_prepare_v2(h->db, "DELETE FROM handoffs WHERE expires_at < ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_double(st, 1, now);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO handoffs (token, created_at, expires_at, code, data, "
                           "requirements) VALUES (?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare hand-off");
    hist_bind_str(st, 1, token);
    sqlite3_bind_double(st, 2, now);
    sqlite3_bind_double(st, 3, now + HIST_HANDOFF_TTL_S);
    hist_bind_text(st, 4, code, code_len);
    hist_bind_text(st, 5, data, data_len);
    hist_bind_str(st, 6, requirements);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = hist_db_fail(h, msg, msglen, "insert hand-off");
    sqlite3_finalize(st);
    return err;
}

app_err hist_handoff_get(hist *h, const char *token, sbuf *code, sbuf *data, char *msg,
                         size_t msglen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT code, data FROM handoffs WHERE token = ? AND expires_at >= ?", -1,
                           &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare hand-off lookup");
    hist_bind_str(st, 1, token);
    sqlite3_bind_double(st, 2, hist_now_s());
    app_err err = APP_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        err = sbuf_append(code, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (err == APP_OK)
            err = sbuf_append(data, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
    } else {
        snprintf(msg, msglen, "this sandbox link is unknown or has expired (links last %d minutes)",
                 HIST_HANDOFF_TTL_S / 60);
    }
    sqlite3_finalize(st);
    return err;
}

app_err hist_bench_create(hist *h, const char *suite, int iterations, const char *engines_json,
                          const char *source, int total, char id[33], char *msg, size_t msglen)
{
    if (hist_random_hex(id, 16) != APP_OK)
        return APP_EIO;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO benchmark_runs (id, created_at, suite, iterations, engines, "
                           "source, status, total) VALUES (?,?,?,?,?,?,'running',?)",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare benchmark run");
    hist_bind_str(st, 1, id);
    sqlite3_bind_double(st, 2, hist_now_s());
    hist_bind_str(st, 3, suite);
    sqlite3_bind_int(st, 4, iterations);
    hist_bind_str(st, 5, engines_json);
    hist_bind_str(st, 6, source);
    sqlite3_bind_int(st, 7, total);
    app_err err = sqlite3_step(st) == SQLITE_DONE ? APP_OK : hist_db_fail(h, msg, msglen, "insert run");
    sqlite3_finalize(st);
    return err;
}

app_err hist_bench_result(hist *h, const char *run_id, const char *case_name, const char *engine,
                          int iteration, const char *status, double wall_ms, double exec_ms,
                          char *msg, size_t msglen)
{
    app_err err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO benchmark_results (run_id, created_at, case_name, engine, "
                           "iteration, status, wall_ms, exec_ms) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) == SQLITE_OK) {
        hist_bind_str(st, 1, run_id);
        sqlite3_bind_double(st, 2, hist_now_s());
        hist_bind_str(st, 3, case_name);
        hist_bind_str(st, 4, engine);
        sqlite3_bind_int(st, 5, iteration);
        hist_bind_str(st, 6, status);
        sqlite3_bind_double(st, 7, wall_ms);
        if (exec_ms >= 0)
            sqlite3_bind_double(st, 8, exec_ms);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = hist_db_fail(h, msg, msglen, "insert benchmark result");
    } else {
        err = hist_db_fail(h, msg, msglen, "prepare benchmark result");
    }
    sqlite3_finalize(st);
    if (err == APP_OK &&
        sqlite3_prepare_v2(h->db, "UPDATE benchmark_runs SET done = done + 1 WHERE id = ?", -1,
                           &st, NULL) == SQLITE_OK) {
        hist_bind_str(st, 1, run_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = hist_db_fail(h, msg, msglen, "update progress");
        sqlite3_finalize(st);
    }
    if (err == APP_OK)
        err = hist_exec(h, "COMMIT", msg, msglen);
    if (err != APP_OK) { /* a refused COMMIT leaves the transaction open too */
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
    }
    return err;
}

app_err hist_bench_finish(hist *h, const char *run_id, bool ok, const char *summary_json,
                          const char *error, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "UPDATE benchmark_runs SET status = ?, finished_at = ?, summary = ?, "
                           "error = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare finish");
    hist_bind_str(st, 1, ok ? "done" : "failed");
    sqlite3_bind_double(st, 2, hist_now_s());
    hist_bind_str(st, 3, summary_json);
    hist_bind_str(st, 4, error);
    hist_bind_str(st, 5, run_id);
    app_err err = sqlite3_step(st) == SQLITE_DONE ? APP_OK : hist_db_fail(h, msg, msglen, "finish run");
    sqlite3_finalize(st);
    return err;
}

/* Appends one benchmark_runs row (columns as selected below) as JSON. */
static APP_MUST_CHECK app_err run_json(sqlite3_stmt *st, sbuf *out)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *suite = (const char *)sqlite3_column_text(st, 3);
    const char *engines = (const char *)sqlite3_column_text(st, 5);
    const char *source = (const char *)sqlite3_column_text(st, 6);
    const char *status = (const char *)sqlite3_column_text(st, 7);
    const char *error = (const char *)sqlite3_column_text(st, 10);
    const char *summary = (const char *)sqlite3_column_text(st, 11);
    int total = sqlite3_column_int(st, 8), done = sqlite3_column_int(st, 9);
    app_err err = sbuf_puts(out, "{\"id\":");
    if (err == APP_OK)
        err = jsonw_string(out, id ? id : "", id ? strlen(id) : 0);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"suite\":");
    if (err == APP_OK)
        err = jsonw_string(out, suite ? suite : "", suite ? strlen(suite) : 0);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"createdAt\":%.3f,\"finishedAt\":", sqlite3_column_double(st, 1));
    if (err == APP_OK)
        err = sqlite3_column_type(st, 2) == SQLITE_NULL
                  ? sbuf_puts(out, "null")
                  : sbuf_printf(out, "%.3f", sqlite3_column_double(st, 2));
    /* engines and summary were written by us as JSON; stored as-is. */
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"iterations\":%d,\"engines\":%s,\"source\":",
                          sqlite3_column_int(st, 4), engines ? engines : "[]");
    if (err == APP_OK)
        err = jsonw_string(out, source ? source : "", source ? strlen(source) : 0);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"status\":");
    if (err == APP_OK)
        err = jsonw_string(out, status ? status : "", status ? strlen(status) : 0);
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"done\":%d,\"total\":%d,\"progress\":%.3f,\"error\":", done,
                          total, total > 0 ? (double)done / total : 0.0);
    if (err == APP_OK)
        err = error ? jsonw_string(out, error, strlen(error)) : sbuf_puts(out, "null");
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"summary\":%s}", summary ? summary : "null");
    return err;
}

#define RUN_COLUMNS                                                                                \
    "id, created_at, finished_at, suite, iterations, engines, source, status, total, done, "      \
    "error, summary"

app_err hist_bench_set_pid(hist *h, const char *run_id, long pid, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "UPDATE benchmark_runs SET task_pid = ? WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare task pid");
    sqlite3_bind_int64(st, 1, pid);
    hist_bind_str(st, 2, run_id);
    app_err err = sqlite3_step(st) == SQLITE_DONE ? APP_OK : hist_db_fail(h, msg, msglen, "task pid");
    sqlite3_finalize(st);
    return err;
}

void hist_bench_reap(hist *h)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT id, task_pid, created_at FROM benchmark_runs WHERE status = "
                           "'running' AND source = 'server'",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    char dead[16][33];
    const char *why[16];
    int n = 0;
    double now = hist_now_s();
    while (n < 16 && sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        bool has_pid = sqlite3_column_type(st, 1) != SQLITE_NULL;
        long pid = (long)sqlite3_column_int64(st, 1);
        double age = now - sqlite3_column_double(st, 2);
        const char *reason = NULL;
        if (!has_pid && age > HIST_TASK_START_S)
            reason = "the benchmark task never started";
        else if (has_pid && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            reason = "the benchmark task died before finishing";
        if (reason != NULL && id != NULL) {
            snprintf(dead[n], sizeof dead[n], "%s", id);
            why[n++] = reason;
        }
    }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        char msg[APP_ERRMSG_LEN];
        /* Best effort: a run left open is found again by the next reap. */
        app_ignore(hist_bench_finish(h, dead[i], false, NULL, why[i], msg, sizeof msg));
    }
}

app_err hist_bench_get_json(hist *h, const char *run_id, sbuf *out, char *msg, size_t msglen)
{
    hist_bench_reap(h);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "SELECT " RUN_COLUMNS " FROM benchmark_runs WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare run");
    hist_bind_str(st, 1, run_id);
    app_err err = APP_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW)
        err = run_json(st, out);
    else
        snprintf(msg, msglen, "no benchmark run with that id");
    sqlite3_finalize(st);
    return err;
}

app_err hist_bench_history_json(hist *h, int page, int per_page, sbuf *out, char *msg,
                                size_t msglen)
{
    hist_bench_reap(h);
    sqlite3_stmt *st = NULL;
    long long total = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT count(*) FROM benchmark_runs", -1, &st, NULL) !=
        SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare count");
    if (sqlite3_step(st) == SQLITE_ROW)
        total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(h->db,
                           "SELECT " RUN_COLUMNS
                           " FROM benchmark_runs ORDER BY created_at DESC LIMIT ? OFFSET ?",
                           -1, &st, NULL) != SQLITE_OK)
        return hist_db_fail(h, msg, msglen, "prepare history");
    sqlite3_bind_int(st, 1, per_page);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(page - 1) * per_page);
    app_err err = sbuf_puts(out, "{\"history\":[");
    bool first = true;
    while (err == APP_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (!first)
            err = sbuf_putc(out, ',');
        if (err == APP_OK)
            err = run_json(st, out);
        first = false;
    }
    sqlite3_finalize(st);
    if (err == APP_OK)
        err = sbuf_printf(out, "],\"page\":%d,\"perPage\":%d,\"total\":%lld}", page, per_page,
                          total);
    return err;
}

app_err hist_bench_server_run(hist *h, const char *run_id, char *suite, size_t suite_len,
                              int *iterations, char *engines, size_t engines_len, char *msg,
                              size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT suite, iterations, engines FROM benchmark_runs WHERE id = ? "
                               "AND status = 'running' AND source = 'server'",
                               "server run", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, run_id);
    err = APP_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        const char *e = (const char *)sqlite3_column_text(st, 2);
        /* A value that does not fit cannot name a suite or engines we know:
         * not found, rather than a cut-short name that might match one. */
        if (s != NULL && e != NULL && strlen(s) < suite_len && strlen(e) < engines_len) {
            snprintf(suite, suite_len, "%s", s);
            snprintf(engines, engines_len, "%s", e);
            *iterations = sqlite3_column_int(st, 1);
            err = APP_OK;
        }
    }
    sqlite3_finalize(st);
    return err;
}

int hist_bench_running_count(hist *h)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT count(*) FROM benchmark_runs WHERE status = 'running' AND "
                           "source = 'server'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

app_err hist_bench_results_each(hist *h, const char *run_id, hist_bench_row_fn fn, void *ctx,
                                char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "SELECT case_name, engine, status, wall_ms FROM benchmark_results "
                               "WHERE run_id = ? ORDER BY case_name, engine, status != 'ok', "
                               "wall_ms",
                               "benchmark results", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, run_id);
    /* A step error ends the rows like their end does: a summary of what
     * could be read is worth more than none. */
    while (err == APP_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *cn = (const char *)sqlite3_column_text(st, 0);
        const char *en = (const char *)sqlite3_column_text(st, 1);
        const char *status = (const char *)sqlite3_column_text(st, 2);
        if (cn == NULL || en == NULL) /* NOT NULL columns: never, but never crash on it */
            continue;
        err = fn(ctx, cn, en, status, sqlite3_column_double(st, 3));
    }
    sqlite3_finalize(st);
    return err;
}
