/* hist_mcp.c - MCP sessions in the store (see hist_mcp.h). */
#include "hist_mcp.h"

#include <stdio.h>
#include <string.h>

#include "hist-int.h"

/* The purge and the insert of hist_mcp_open, inside its transaction. */
static APP_MUST_CHECK app_err open_locked(hist *h, const char *id, const char *version,
                                          double idle_s, long max_sessions, char *msg,
                                          size_t msglen)
{
    double now = hist_now_s();
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h, "DELETE FROM mcp_sessions WHERE last_used < ?", "purge", &st,
                               msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_double(st, 1, now - idle_s);
    if ((err = hist_step_done(h, st, "purge", msg, msglen)) != APP_OK)
        return err;
    /* Keep max_sessions - 1, the most recently used: with the new one, the cap. */
    err = hist_prepare(h,
                       "DELETE FROM mcp_sessions WHERE id NOT IN (SELECT id FROM mcp_sessions "
                       "ORDER BY last_used DESC LIMIT ?)",
                       "cap", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_int64(st, 1, max_sessions > 1 ? max_sessions - 1 : 0);
    if ((err = hist_step_done(h, st, "cap", msg, msglen)) != APP_OK)
        return err;
    err = hist_prepare(h,
                       "INSERT INTO mcp_sessions (id, version, created_at, last_used) "
                       "VALUES (?, ?, ?, ?)",
                       "insert", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    hist_bind_str(st, 2, version);
    sqlite3_bind_double(st, 3, now);
    sqlite3_bind_double(st, 4, now);
    return hist_step_done(h, st, "insert", msg, msglen);
}

app_err hist_mcp_open(hist *h, const char *version, double idle_s, long max_sessions,
                      char id[HIST_MCP_ID_LEN + 1], char *msg, size_t msglen)
{
    if (strlen(version) > HIST_MCP_VERSION_LEN) {
        snprintf(msg, msglen, "protocol version longer than %d bytes", HIST_MCP_VERSION_LEN);
        return APP_EFIELD;
    }
    char fresh[HIST_MCP_ID_LEN + 1];
    if (hist_random_hex(fresh, HIST_MCP_ID_LEN / 2) != APP_OK) {
        snprintf(msg, msglen, "no randomness for a session id");
        return APP_EIO;
    }
    app_err err = hist_exec(h, "BEGIN IMMEDIATE", msg, msglen);
    if (err != APP_OK)
        return err;
    err = open_locked(h, fresh, version, idle_s, max_sessions, msg, msglen);
    if (err == APP_OK)
        err = hist_exec(h, "COMMIT", msg, msglen);
    if (err != APP_OK) { /* a refused COMMIT leaves the transaction open too */
        char ignored[APP_ERRMSG_LEN];
        app_ignore(hist_exec(h, "ROLLBACK", ignored, sizeof ignored)); /* the first error tells */
        return err;
    }
    memcpy(id, fresh, sizeof fresh);
    return APP_OK;
}

app_err hist_mcp_touch(hist *h, const char *id, double idle_s,
                       char version[HIST_MCP_VERSION_LEN + 1], char *msg, size_t msglen)
{
    double now = hist_now_s();
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h,
                               "UPDATE mcp_sessions SET last_used = ? WHERE id = ? AND "
                               "last_used >= ? RETURNING version",
                               "touch", &st, msg, msglen);
    if (err != APP_OK)
        return err;
    sqlite3_bind_double(st, 1, now);
    hist_bind_str(st, 2, id);
    sqlite3_bind_double(st, 3, now - idle_s);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(version, HIST_MCP_VERSION_LEN + 1, "%s", v != NULL ? (const char *)v : "");
        rc = sqlite3_step(st);
        err = rc == SQLITE_DONE ? APP_OK : hist_db_fail(h, msg, msglen, "touch");
    } else if (rc == SQLITE_DONE) {
        snprintf(msg, msglen, "no such MCP session (it ended, or was unused for %.0f s)", idle_s);
        err = APP_ENOTFOUND;
    } else {
        err = hist_db_fail(h, msg, msglen, "touch");
    }
    sqlite3_finalize(st);
    return err;
}

app_err hist_mcp_close(hist *h, const char *id, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    app_err err = hist_prepare(h, "DELETE FROM mcp_sessions WHERE id = ?", "close", &st, msg,
                               msglen);
    if (err != APP_OK)
        return err;
    hist_bind_str(st, 1, id);
    if ((err = hist_step_done(h, st, "close", msg, msglen)) != APP_OK)
        return err;
    if (sqlite3_changes(h->db) == 0) {
        snprintf(msg, msglen, "no such MCP session");
        return APP_ENOTFOUND;
    }
    return APP_OK;
}
