/*
 * agent.h - help for agents writing code for a sandbox: the helpers a run
 * finds, runnable examples, and starting programs.
 *
 *   GET /sandbox/{id}/help/functions  {sandbox_id, functions: [{name, kind,
 *                                      signature, doc, awaitable?}]}
 *   GET /sandbox/{id}/help/examples   {sandbox_id, examples: [{name, title, code,
 *                                      data?, requires?, expect}]}
 *   GET /sandbox/templates            {templates: [{name, description}]}
 *   GET /sandbox/{id}/templates/{name} {sandbox_id, name, description, code}
 *
 * The functions are written at build time from the harness itself
 * (tools/harness-help runs web/harness.py's describe_helpers() into
 * agent-help.json beside the front's program), so the list cannot drift
 * from what a run finds.  Examples are templates_dir/agent/examples.json
 * (each with the output it is expected to give: the tests run them all),
 * templates templates_dir/agent/templates/NAME.py (the description is the
 * first line of the module's docstring).  The {id} routes check that the
 * sandbox exists (404/410 as the other sandbox routes).
 */
#ifndef PYSANDBOX_AGENT_H
#define PYSANDBOX_AGENT_H

#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "http.h"

/* Largest help, examples or template file served. */
#define AGENT_MAX_FILE (256u * 1024)
/* Longest template name: [a-z0-9_], at most this many bytes. */
#define AGENT_MAX_NAME 64u
/* Most templates listed. */
#define AGENT_MAX_TEMPLATES 100u

/* GET /sandbox/{id}/help/functions or .../examples (what: "functions" or
 * "examples") into resp. */
APP_MUST_CHECK app_err agent_help(const conf *c, const char *id, const char *what, http_resp *resp,
                                  char *msg, size_t msglen);

/* GET /sandbox/templates (id NULL) or /sandbox/{id}/templates/{name}. */
APP_MUST_CHECK app_err agent_templates(const conf *c, const char *id, const char *name,
                                       http_resp *resp, char *msg, size_t msglen);

#endif
