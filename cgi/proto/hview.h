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
    js_span insights;                     /* the findings about the data */
    bool has_insights;                    /* an array */
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

/* What hv_put_insights and hv_put_charts keep of the findings and of each
 * chart's data, whatever the program claims (web/harness.py MAX_INSIGHTS and
 * its chart caps are smaller): at most HV_MAX_INSIGHTS findings; a member
 * whose JSON text passes its cap is dropped from its entry (a finding then
 * without kind or message is dropped whole). */
#define HV_MAX_INSIGHTS 50u
#define HV_MAX_INSIGHT_KIND 64u
#define HV_MAX_INSIGHT_TEXT (4u * 1024)      /* a finding's message; its columns together */
#define HV_MAX_INSIGHT_EVIDENCE (16u * 1024) /* a finding's evidence object */
#define HV_MAX_CHART_DATA (2u * 1024 * 1024) /* a chart's "chart" object (its data) */

/* Fills *v from the len bytes at doc (doc may be NULL: v->valid is false).
 * Never fails: anything malformed just leaves v->valid false. */
void hv_read(const char *doc, size_t len, hv_view *v);

/* Appends v's error object with only its schema members of the right types
 * (type, message, traceback: strings; line: number; missingModule: string),
 * or null when there is none.  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_error(sbuf *out, const char *doc, const hv_view *v);

/* Appends v's charts as an array, keeping only objects with "format": "png"
 * and string "data", each with only format, data, width, height and chart
 * (an object: the figure's data, copied as it is when under
 * HV_MAX_CHART_DATA and free of numbers a double cannot hold).
 * Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_charts(sbuf *out, const char *doc, const hv_view *v);

/* Appends v's debug_info as {logs: [{level, message, line, t, truncated}],
 * variables: {name: {type, repr, size, truncated}}, logs_truncated,
 * variables_truncated}, each member only with its type and under the caps
 * above.  Call only when v->has_debug_info.  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_debug_info(sbuf *out, const char *doc, const hv_view *v);

/* Appends v's insights as an array of findings {kind, columns, message,
 * score, evidence}: objects with a string kind and message and string
 * columns, each with only those members of their types under the caps
 * above (evidence copied as it is), at most HV_MAX_INSIGHTS ([] when there
 * are none).  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_insights(sbuf *out, const char *doc, const hv_view *v);

/* Appends "steps":[{step, line_number, line_code, event, variables: {name:
 * repr}}],"steps_truncated":b under the caps above (an absent steps array
 * gives []).  Returns APP_OK or out's error. */
APP_MUST_CHECK app_err hv_put_steps(sbuf *out, const char *doc, const hv_view *v);

/* A JSON number token (len bytes at text) as a finite double in *out: false
 * when it is not one or does not fit a double (1e999). */
bool hv_finite_number(const char *text, size_t len, double *out);

/* Whether the JSON text (valid JSON) holds a number that is not finite as a
 * double (1e999): the harness never writes one (allow_nan=False), a program
 * that forges its result frame may.  Integers of any size are exact JSON and
 * pass.  A linear scan of the numbers outside strings. */
bool hv_has_nonfinite(const char *json, size_t len);

/* What statistics keep of an answer in the shared schema (any of our
 * engines'): *status gets its status text as it stands ("error" when it is
 * missing or does not fit in slen), *exec_ms its executionTime (-1 when
 * missing), *output_bytes (when not NULL) the JSON length of its output (0
 * when missing).  Never fails. */
void hv_summary(const char *json, size_t len, char *status, size_t slen, double *exec_ms,
                size_t *output_bytes);

#endif
