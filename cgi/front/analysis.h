/*
 * analysis.h - the Python programs batch-analyze runs on posted data.
 *
 * Each analysis type ("descriptive", "correlation", "comprehensive",
 * "text") is the shared library templates/analysis/analysis.py followed by
 * one call naming the type.  The programs use only the standard library so
 * they run in the browser engine offline.  They are read once at start-up.
 */
#ifndef PYSANDBOX_ANALYSIS_H
#define PYSANDBOX_ANALYSIS_H

#include <stddef.h>

#include "app.h"

typedef struct ana_set ana_set;

/* Largest analysis library file accepted. */
#define ANA_MAX_FILE (128u * 1024)

/* Reads templates_dir/analysis/analysis.py. Returns APP_OK and *out (free
 * with ana_free), or APP_EIO/APP_ETOOBIG/APP_ENOMEM with a sentence in msg. */
APP_MUST_CHECK app_err ana_load(const char *templates_dir, ana_set **out, char *msg, size_t msglen);

/* Frees the set. NULL-safe. */
void ana_free(ana_set *a);

/* Returns the program for an analysis type (static until ana_free), or NULL
 * when the type is unknown.  *len receives its length. */
const char *ana_program(const ana_set *a, const char *type, size_t *len);

/* Returns the accepted type names as one string: "descriptive, correlation, ...". */
const char *ana_type_list(void);

#endif
