/*
 * hist_mcp.h - sessions of the MCP endpoint (POST /mcp) in the SQLite
 * store (table mcp_sessions).
 *
 * A session is made by an `initialize` request and named by the
 * Mcp-Session-Id header of every later request; it lives in the store so
 * that any FastCGI worker answers for it.  A session unused for idle_s
 * seconds is gone (as one ended by DELETE): its id then answers
 * APP_ENOTFOUND, which the transport turns into 404 (the client starts a
 * new one).  Every function takes a handle from hist_open(); failures are
 * APP_EDB with "database: <what>: <sqlite's message>" in msg.
 */
#ifndef PYSANDBOX_HIST_MCP_H
#define PYSANDBOX_HIST_MCP_H

#include <stddef.h>

#include "app.h"
#include "hist.h"

/* An id is 32 lowercase hex characters (16 random bytes). */
#define HIST_MCP_ID_LEN 32
/* The longest protocol version string kept with a session. */
#define HIST_MCP_VERSION_LEN 32

/* Stores a new session speaking protocol version `version` (at most
 * HIST_MCP_VERSION_LEN bytes), after deleting the sessions idle for more
 * than idle_s; with max_sessions or more left, the least recently used
 * go.  Writes its id (NUL-terminated) to id. */
APP_MUST_CHECK app_err hist_mcp_open(hist *h, const char *version, double idle_s,
                                     long max_sessions, char id[HIST_MCP_ID_LEN + 1], char *msg,
                                     size_t msglen);

/* Marks session id used now and writes its protocol version to version.
 * APP_ENOTFOUND if there is no such session or it was idle for more than
 * idle_s. */
APP_MUST_CHECK app_err hist_mcp_touch(hist *h, const char *id, double idle_s,
                                      char version[HIST_MCP_VERSION_LEN + 1], char *msg,
                                      size_t msglen);

/* Ends session id.  APP_ENOTFOUND if there is none. */
APP_MUST_CHECK app_err hist_mcp_close(hist *h, const char *id, char *msg, size_t msglen);

#endif
