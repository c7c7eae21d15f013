/*
 * insights.h - decoding the "insights" page requests.
 *
 * POST /api/insights/python-sandbox takes {code, data, analysisType};
 * POST /api/insights/batch-analyze takes {data | documents, analysisType}.
 * Both arrive as JSON or as a form.  These functions check every field
 * (type, size, UTF-8, the shape of data) and produce a page_input; they
 * know nothing of HTTP beyond the decoded body.
 */
#ifndef PYSANDBOX_INSIGHTS_H
#define PYSANDBOX_INSIGHTS_H

#include <stddef.h>

#include "analysis.h"
#include "app.h"
#include "body.h"
#include "page.h"

/* Largest Python source accepted in a request (1 MiB). */
#define INS_MAX_CODE (1024u * 1024)
/* Longest analysisType accepted. */
#define INS_MAX_TYPE 64

/* The code shown when the sandbox page is opened without any. */
extern const char ins_default_code[];

/* Owned results of decoding; free with ins_request_free(). */
typedef struct ins_request {
    char *code; /* From malloc(), or NULL when the program is generated */
    size_t code_len;
    char *analysis_type; /* From malloc(), or NULL */
    page_input page;     /* borrows from this struct, the body and the ana_set */
} ins_request;

/*
 * Decodes a python-sandbox request.  data must be an array of objects
 * (absent: []).  Returns APP_OK, or APP_EFIELD / APP_ETOOBIG / APP_EJSON /
 * APP_EUTF8 / APP_ENOMEM with a sentence in msg.  *r borrows from b.
 */
APP_MUST_CHECK app_err ins_decode_sandbox(const body *b, ins_request *r, char *msg, size_t msglen);

/*
 * Decodes a batch-analyze request.  Exactly one of data (array of objects)
 * and documents (array of strings or objects) is required; analysisType
 * defaults to "descriptive" and must name a program in a.  *r borrows from
 * b and a.
 */
APP_MUST_CHECK app_err ins_decode_batch(const body *b, const ana_set *a, ins_request *r, char *msg, size_t msglen);

/* Frees what *r owns. NULL-safe. */
void ins_request_free(ins_request *r);

#endif
