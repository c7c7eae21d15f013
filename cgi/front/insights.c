/* insights.c - decoding the insights page requests. */
#include "insights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char ins_default_code[] = "# `data` holds the rows posted with this page: a list of dicts.\n"
                                "print(f\"{len(data)} rows\")\n"
                                "if data:\n"
                                "    print(\"columns:\", sorted(data[0].keys()))\n"
                                "__result__ = {\"rows\": len(data)}\n";

void ins_request_free(ins_request *r)
{
    if (r == NULL)
        return;
    free(r->code);
    free(r->analysis_type);
    memset(r, 0, sizeof *r);
}

/* Checks that the array span holds only objects (or, when strings_ok, strings). */
static APP_MUST_CHECK app_err check_rows(const char *text, size_t len, js_type type, const char *field,
                          int strings_ok, char *msg, size_t msglen)
{
    const char *want = strings_ok ? "an array of objects or strings" : "an array of objects";
    if (type != JS_ARRAY) {
        snprintf(msg, msglen, "field '%s' must be %s, not %s", field, want, js_type_name(type));
        return APP_EFIELD;
    }
    js_iter it;
    js_iter_init(&it, text, (js_span){.type = JS_ARRAY, .off = 0, .len = len});
    js_span el;
    size_t i = 0;
    while (js_iter_next(&it, NULL, &el)) {
        if (el.type != JS_OBJECT && !(strings_ok && el.type == JS_STRING)) {
            snprintf(msg, msglen, "field '%s' must be %s; element %zu is %s", field, want, i,
                     js_type_name(el.type));
            return APP_EFIELD;
        }
        i++;
    }
    return APP_OK;
}

/* Fetches an optional array field as JSON text ("[]" when absent or null). */
static APP_MUST_CHECK app_err rows_field(const body *b, const char *field, int strings_ok, const char **text,
                          size_t *len, char *msg, size_t msglen)
{
    js_type type;
    app_err err = body_json(b, field, (size_t)-1, text, len, &type, msg, msglen);
    if (err == APP_ENOTFOUND || (err == APP_OK && type == JS_NULL)) {
        *text = "[]";
        *len = 2;
        return APP_OK;
    }
    if (err != APP_OK)
        return err;
    return check_rows(*text, *len, type, field, strings_ok, msg, msglen);
}

static APP_MUST_CHECK app_err analysis_type_field(const body *b, ins_request *r, char *msg, size_t msglen)
{
    size_t len;
    app_err err =
        body_string(b, "analysisType", INS_MAX_TYPE, &r->analysis_type, &len, msg, msglen);
    if (err == APP_ETOOBIG) {
        snprintf(msg, msglen, "field 'analysisType' is longer than %d bytes", INS_MAX_TYPE);
        return APP_EFIELD;
    }
    return err;
}

app_err ins_decode_sandbox(const body *b, ins_request *r, char *msg, size_t msglen)
{
    static const char *const known[] = {"code", "data", "analysisType"};
    memset(r, 0, sizeof *r);
    app_err err = body_only(b, known, 3, msg, msglen);
    if (err == APP_OK)
        err = body_string(b, "code", INS_MAX_CODE, &r->code, &r->code_len, msg, msglen);
    if (err == APP_OK)
        err = analysis_type_field(b, r, msg, msglen);
    if (err == APP_OK)
        err = rows_field(b, "data", 0, &r->page.data, &r->page.data_len, msg, msglen);
    if (err != APP_OK)
        return err;
    if (r->code != NULL) {
        r->page.code = r->code;
        r->page.code_len = r->code_len;
    } else {
        r->page.code = ins_default_code;
        r->page.code_len = strlen(ins_default_code);
    }
    r->page.analysis_type = r->analysis_type;
    r->page.autorun = false;
    return APP_OK;
}

app_err ins_decode_batch(const body *b, const ana_set *a, ins_request *r, char *msg, size_t msglen)
{
    static const char *const known[] = {"data", "documents", "analysisType"};
    memset(r, 0, sizeof *r);
    app_err err = body_only(b, known, 3, msg, msglen);
    if (err == APP_OK)
        err = analysis_type_field(b, r, msg, msglen);
    if (err != APP_OK)
        return err;
    bool has_data = body_has(b, "data"), has_docs = body_has(b, "documents");
    if (has_data == has_docs) {
        snprintf(msg, msglen, "send exactly one of 'data' (array of objects) and 'documents'");
        return APP_EFIELD;
    }
    err = has_data ? rows_field(b, "data", 0, &r->page.data, &r->page.data_len, msg, msglen)
                   : rows_field(b, "documents", 1, &r->page.data, &r->page.data_len, msg, msglen);
    if (err != APP_OK)
        return err;
    const char *type = r->analysis_type != NULL ? r->analysis_type : "descriptive";
    r->page.code = ana_program(a, type, &r->page.code_len);
    if (r->page.code == NULL) {
        snprintf(msg, msglen, "unknown analysisType '%.64s'; use one of: %s", type,
                 ana_type_list());
        return APP_EFIELD;
    }
    r->page.analysis_type = type;
    r->page.autorun = true;
    return APP_OK;
}
