/*
 * body.h - one view of a request body's top-level fields, whatever its
 * encoding.
 *
 * Endpoints accept a JSON object (application/json) and, where a plain HTML
 * form must be able to post, the same fields form-encoded
 * (application/x-www-form-urlencoded; a field that holds JSON, such as
 * "data", is then JSON text inside the form value).  body_decode()
 * validates the encoding once (a "form" body that starts with '{' is JSON
 * sent by `curl -d`); the typed getters then check each field and
 * name it in their error message.  JSON field values are never rebuilt:
 * body_json() returns the exact bytes the client sent.
 */
#ifndef PYSANDBOX_BODY_H
#define PYSANDBOX_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "jscan.h"

/* Most top-level fields a body may carry. */
#define BODY_MAX_FIELDS 64

typedef struct body body;

/*
 * Decodes len bytes of body text sent with content_type.  data must stay
 * alive (and unchanged) as long as the returned body: JSON field values
 * point into it.  An empty body decodes to no fields.
 * Returns APP_OK and *out (free with body_free); APP_EMEDIA for other
 * content types; APP_EJSON / APP_EUTF8 / APP_EFIELD / APP_ETOOBIG /
 * APP_ENOMEM with a sentence in msg.
 */
APP_MUST_CHECK app_err body_decode(const char *content_type, const char *data, size_t len, body **out, char *msg,
                    size_t msglen);

/* Frees a body. NULL-safe. */
void body_free(body *b);

/* Returns true when the body came form-encoded. */
bool body_is_form(const body *b);

/* Returns true when the field is present (JSON null counts as present). */
bool body_has(const body *b, const char *name);

/* APP_EFIELD "unknown field 'x'" when the body has a field not in names. */
APP_MUST_CHECK app_err body_only(const body *b, const char *const *names, size_t count, char *msg, size_t msglen);

/*
 * Gets a string field as a malloc()ed, NUL-terminated copy in *out (NULL
 * when absent or JSON null) and its length in *len.  Errors (APP_EFIELD):
 * not a string, contains NUL (from \u0000), longer than max bytes
 * (APP_ETOOBIG).  The caller frees *out.
 */
APP_MUST_CHECK app_err body_string(const body *b, const char *name, size_t max, char **out, size_t *len, char *msg,
                    size_t msglen);

/*
 * Gets a field as JSON text: *text and *len point at the exact bytes sent (for
 * form bodies, at the form value, which is validated as JSON here) and
 * *type is its JSON type.  Valid until body_free().  Returns APP_ENOTFOUND
 * when the field is absent; APP_EJSON/APP_EUTF8 for a form value that is
 * not JSON; APP_ETOOBIG beyond max bytes.
 */
APP_MUST_CHECK app_err body_json(const body *b, const char *name, size_t max, const char **text, size_t *len,
                  js_type *type, char *msg, size_t msglen);

#endif
