/*
 * pkgs.h - which Python packages each engine can import.
 *
 * The router needs to know whether an engine can run code that imports,
 * say, pandas.  A pk_set is a set of importable names, normalised (lower
 * case, '-' and '.' read as '_') so that distribution names such as
 * "scikit-learn" and import names such as "sklearn" can both be looked up.
 * Sets are built once at start-up from what is really installed: the
 * host's Python directories (the native engine binds exactly those), the
 * Pyodide lockfile plus the wheels actually served, a configured list for
 * Judge0.  pk_scan_imports() finds the top-level modules a program imports;
 * it reads import statements line by line (best effort: imports built at
 * run time are not seen, and the engine still reports a missing package).
 */
#ifndef PYSANDBOX_PKGS_H
#define PYSANDBOX_PKGS_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "sbuf.h"

/* Longest module name considered, and most names one program may import. */
#define PK_NAME_MAX 64
#define PK_MAX_IMPORTS 64

typedef struct pk_set pk_set;

/* Returns a new empty set in *out (free with pk_set_free). */
APP_MUST_CHECK app_err pk_set_new(pk_set **out);
void pk_set_free(pk_set *s);

/* Adds len bytes of name (normalised). Names longer than PK_NAME_MAX are ignored. */
APP_MUST_CHECK app_err pk_add(pk_set *s, const char *name, size_t len);

/* Adds every name in space-separated text. */
APP_MUST_CHECK app_err pk_add_list(pk_set *s, const char *text);

/* Adds every name of another set. */
APP_MUST_CHECK app_err pk_add_set(pk_set *s, const pk_set *other);

/* Adds the top-level modules found in a Python directory: packages
 * (directories), modules (*.py), extensions (*.so, tag stripped) and
 * distributions (*.dist-info, *.egg-info, version stripped).  A missing
 * directory adds nothing. */
APP_MUST_CHECK app_err pk_add_dir(pk_set *s, const char *dir);

/* Adds the interpreter's built-in modules (Debian's CPython 3.11). */
APP_MUST_CHECK app_err pk_add_builtins(pk_set *s);

/*
 * Adds the packages of a Pyodide lockfile (their names and import names).
 * With dist_dir set, only packages whose file is present there count (the
 * rest would fail to load); with dist_dir NULL (a remote package source),
 * all of them.  Unavailable standard-library modules that Pyodide
 * unvendors (sqlite3, ssl, lzma, ...) are added to *missing_stdlib (may be
 * NULL).  APP_EIO / APP_EJSON with msg on an unreadable lockfile.
 */
APP_MUST_CHECK app_err pk_add_pyodide_lockfile(pk_set *s, const char *lockfile, const char *dist_dir,
                                pk_set *missing_stdlib, char *msg, size_t msglen);

/* Returns true when name (any spelling, see above) is in the set. */
bool pk_has(const pk_set *s, const char *name);

/* Number of names. */
size_t pk_count(const pk_set *s);

/* Removes every name of other from s. */
void pk_remove_set(pk_set *s, const pk_set *other);

/* Appends the set as a JSON array of strings. */
APP_MUST_CHECK app_err pk_to_json(const pk_set *s, sbuf *out);

/*
 * Finds the top-level modules imported by code ("import a.b, c as d",
 * "from e.f import g"; not relative imports).  Writes up to max distinct
 * names to names and returns how many.
 */
size_t pk_scan_imports(const char *code, size_t len, char names[][PK_NAME_MAX + 1], size_t max);

#endif
