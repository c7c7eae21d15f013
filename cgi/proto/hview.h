/*
 * hview.h - a validated view of the harness's JSON answer.
 *
 * web/harness.py ends every run by writing one JSON object in the shared
 * schema ({status, output?, stderr?, error, result, charts, executionTime,
 * limits, exitCode?, debug_info?, steps?, steps_truncated?}).  Both server engines receive it from a process that
 * ran user code (the native engine's jailed child over its channel; Judge0
 * in the program's stdout), so it is untrusted: hv_read keeps only known
 * members of the expected types, as spans into the caller's text, and
 * hv_put_error / hv_put_charts copy only the schema's members of the error
 * object and of each chart.  Nothing here allocates; the spans live as long
 * as the document they point into.
 */
#ifndef PYSANDBOX_HVIEW_H
#define PYSANDBOX_HVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "jscan.h"
#include "sbuf.h"

typedef struct hv_view {
    bool valid;      /* a JSON object whose status is one of the schema's */
    char status[16]; /* ok | error | timeout | memory_limit | output_limit | killed */
    js_span output, stderr_text, error, result, charts, exec_time;
    bool has_output, has_stderr;          /* strings */
    bool has_error;                       /* an object (null leaves it false) */
    bool has_result;                      /* any JSON value */
    bool has_charts;                      /* an array */
    bool has_exec_time;                   /* a number */
    bool out_trunc, err_trunc, res_trunc; /* limits.*Truncated */
    unsigned charts_dropped;              /* limits.chartsDropped, 0 if absurd */
    bool has_exit_code;                   /* exitCode in 0..255 (program mode) */
    int exit_code;
    js_span debug_info, steps;            /* debug helpers' and the tracer's output */
    bool has_debug_info;                  /* an object */
    bool has_steps;                       /* an array */
    bool steps_truncated;                 /* steps_truncated is true */
} hv_view;

/* What hv_put_debug_info and hv_put_steps keep of the program's debug
 * output, whatever it claims: the harness's own caps (web/harness.py
 * DEBUG_MAX_LOGS, DEBUG_MAX_VARIABLES, TRACE_MAX_STEPS,
 * TRACE_MAX_STEP_VARIABLES) again, since a program can forge its frame.
 * Entries past a count cap are dropped and the matching *_truncated flag
 * set; a string member longer than its byte cap (JSON text, escapes
 * included) is dropped from its entry. */
#define HV_MAX_DEBUG_LOGS 1000u
#define HV_MAX_DEBUG_VARIABLES 100u
#define HV_MAX_STEPS 1000u
#define HV_MAX_STEP_VARIABLES 20u
#define HV_MAX_NAME_BYTES 1024u         /* a variable's name */
#define HV_MAX_DEBUG_TEXT (64u * 1024)  /* a log message, an inspected repr (10,000 / 1,000 chars) */
#define HV_MAX_STEP_TEXT (2u * 1024)    /* a step's line and each variable's repr (200 chars) */

/* Fills *v from the len bytes at doc (doc may be NULL: v->valid is false).
 * Never fails: anything malformed just leaves v->valid false. */
void hv_read(const char *doc, size_t len, hv_view *v);

/* Appends v's error object with only its schema members of the right types
 * (type, message, traceback: strings; line: number; missingModule: string),
 * or null when there is none.  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_error(sbuf *out, const char *doc, const hv_view *v);

/* Appends v's charts as an array, keeping only objects with "format": "png"
 * and string "data", each with only format, data, width and height.
 * Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_charts(sbuf *out, const char *doc, const hv_view *v);

/* Appends v's debug_info as {logs: [{level, message, line, t, truncated}],
 * variables: {name: {type, repr, size, truncated}}, logs_truncated,
 * variables_truncated}, each member only with its type and under the caps
 * above.  Call only when v->has_debug_info.  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_debug_info(sbuf *out, const char *doc, const hv_view *v);

/* Appends "steps":[{step, line_number, line_code, event, variables: {name:
 * repr}}],"steps_truncated":b under the caps above (an absent steps array
 * gives []).  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_steps(sbuf *out, const char *doc, const hv_view *v);

/* What statistics keep of an answer in the shared schema (any of our
 * engines'): *status gets its status text as it stands ("error" when it is
 * missing or does not fit in slen), *exec_ms its executionTime (-1 when
 * missing), *output_bytes (when not NULL) the JSON length of its output (0
 * when missing).  Never fails. */
void hv_summary(const char *json, size_t len, char *status, size_t slen, double *exec_ms,
                size_t *output_bytes);

#endif
