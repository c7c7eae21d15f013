/*
 * mcp.h - the Model Context Protocol endpoint (POST /mcp): the Streamable
 * HTTP transport, JSON-RPC 2.0, and the tools an agent calls through it.
 *
 * Every request is one JSON-RPC message in a POST, answered with one JSON
 * body (the server never opens an SSE stream: GET answers 405, which the
 * transport allows).  `initialize` makes a session (its id in the
 * Mcp-Session-Id header, kept in the store so that any worker answers for
 * it); every later request names it, DELETE ends it.  The tools
 * (run_python, create_sandbox, sandbox_execute, delete_sandbox, db_query,
 * db_schema) are sub-requests to the service's own endpoints, made through the callback
 * the caller gives, so they keep every limit, the per-client fairness and
 * the statistics of the HTTP API; their answers become structured content
 * (the result schema, charts without their bytes) with the same JSON as
 * text, plus one image per chart.
 *
 * Nothing here allocates what outlives a call; the response is written
 * into the caller's http_resp.
 */
#ifndef PYSANDBOX_MCP_H
#define PYSANDBOX_MCP_H

#include "app.h"
#include "hist.h"
#include "http.h"
#include "native.h"

/* The protocol version answered to a client that asks for one we do not
 * speak (the newest we do); the others are listed in mcp.c. */
#define MCP_PROTOCOL_LATEST "2025-06-18"
/* A session unused this long is gone (404: the client starts another). */
#define MCP_SESSION_IDLE_S 3600
/* Sessions kept at once; a new one past this ends the least recently used. */
#define MCP_MAX_SESSIONS 1000
/* Largest request: a tool call carries code and data, as a run does. */
#define MCP_MAX_BODY NATIVE_MAX_BODY

/* The database tools without a sandbox_id are sub-requests to
 * MCP_DB_PATH "/query" (POST) and MCP_DB_PATH "/schema" (GET, ?table=),
 * which the callback answers as /sandbox/{id}/database/query and /schema
 * for no sandbox (the database a one-shot run sees).  No HTTP route
 * leads there: only a tool reaches it. */
#define MCP_DB_PATH "/mcp/database"

/* Runs one sub-request through the service's routes (and MCP_DB_PATH's);
 * always leaves a complete response (status, headers, body) in resp. */
typedef void (*mcp_subrequest_fn)(void *ctx, const http_req *req, http_resp *resp);

typedef struct mcp_env {
    hist *db;                     /* the store (sessions); borrowed */
    mcp_subrequest_fn subrequest; /* how a tool reaches the endpoints */
    void *ctx;                    /* passed to subrequest */
} mcp_env;

/* Serves one request to /mcp (any method).  Always leaves a complete
 * response in resp: JSON-RPC answers and errors, 202 for notifications,
 * 405 / 403 / 400 / 404 as the transport says. */
void mcp_serve(const mcp_env *env, const http_req *req, http_resp *resp);

#endif
