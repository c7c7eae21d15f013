/*
 * tmpl.h - HTML templates with context-aware escaping.
 *
 * A template is an HTML file from templates/ with placeholders that name
 * both a variable and the escaping its context needs:
 *
 *   {{html:name}}  text or a quoted attribute value: & < > " ' escaped
 *   {{json:name}}  inside <script type="application/json">: the value must
 *                  be valid JSON text; < > & U+2028 U+2029 become \uXXXX
 *                  escapes, so no "</script", "<!--" or "<script" can form
 *                  and the JSON still parses to the same value.
 *
 * Templates are parsed once at start-up; an unknown placeholder kind or a
 * variable the caller did not declare is a start-up error, not a request-time
 * surprise.  Rendering never fails on content, only on the output cap.
 */
#ifndef PYSANDBOX_TMPL_H
#define PYSANDBOX_TMPL_H

#include <stddef.h>

#include "app.h"
#include "sbuf.h"

/* Largest template file accepted at start-up. */
#define TMPL_MAX_FILE (256u * 1024)
/* Most placeholders one template may hold. */
#define TMPL_MAX_SLOTS 64

typedef struct tmpl tmpl;

/* One variable offered to tmpl_render(): value is len bytes, not copied. */
typedef struct tmpl_var {
    const char *name;
    const char *value;
    size_t len;
} tmpl_var;

/*
 * Parses the template file at path.  names (count entries) lists the
 * variables the caller will provide; any other placeholder is an error.
 * Returns APP_OK and a new template in *out (free with tmpl_free), or
 * APP_EIO / APP_ECONFIG / APP_ETOOBIG / APP_ENOMEM with a sentence in msg.
 */
APP_MUST_CHECK app_err tmpl_load(const char *path, const char *const *names, size_t count, tmpl **out, char *msg,
                  size_t msglen);

/* Same, from a string in memory (used by tests); text is copied. */
APP_MUST_CHECK app_err tmpl_parse(const char *text, size_t len, const char *const *names, size_t count, tmpl **out,
                   char *msg, size_t msglen);

/* Frees a template. NULL-safe. */
void tmpl_free(tmpl *t);

/*
 * Appends the rendered template to out.  vars must provide every variable
 * the template uses (APP_EINTERNAL otherwise).  Returns APP_OK,
 * APP_ETOOBIG when out's cap is reached, APP_ENOMEM.
 */
APP_MUST_CHECK app_err tmpl_render(const tmpl *t, const tmpl_var *vars, size_t nvars, sbuf *out);

/* Appends s (n bytes) HTML-escaped for text and quoted attributes. */
APP_MUST_CHECK app_err tmpl_escape_html(sbuf *out, const char *s, size_t n);

/* Appends JSON text s (n bytes) escaped for a <script type="application/json">
 * element, as described above. */
APP_MUST_CHECK app_err tmpl_escape_script_json(sbuf *out, const char *s, size_t n);

#endif
