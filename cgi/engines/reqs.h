/*
 * reqs.h - the "requirements" object of execution requests.
 *
 * Callers describe what a run needs; the router (and the native engine,
 * for the limits) read it.  Every field is optional:
 *
 *   maxExecutionTime (s, > 0)   maxMemoryUsage (MB, > 0)   dataSize (MB, >= 0)
 *   cpuIntensive, networkAccess, fileSystemAccess, fallbackAllowed,
 *   concurrent, debug (booleans; debug: trace the run step by step, which
 *   only the native engine does)       securityLevel: low | medium | high
 *   packages: [names]           outputFormat: json | text | html
 *   preferredEngine: auto | browser | native | judge0
 *
 * Unknown fields, wrong types and unknown values are refused with a
 * message naming them.
 */
#ifndef PYSANDBOX_REQS_H
#define PYSANDBOX_REQS_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* Most package names one request may list, and the longest name. */
#define REQS_MAX_PACKAGES 32
#define REQS_MAX_PACKAGE_NAME 64

typedef enum reqs_engine { ENGINE_AUTO, ENGINE_BROWSER, ENGINE_NATIVE, ENGINE_JUDGE0 } reqs_engine;
typedef enum reqs_level { LEVEL_UNSET, LEVEL_LOW, LEVEL_MEDIUM, LEVEL_HIGH } reqs_level;
typedef enum reqs_format { FORMAT_JSON, FORMAT_TEXT, FORMAT_HTML } reqs_format;

typedef struct reqs {
    double max_time_s;    /* wall time (maxExecutionTime); 0: not given */
    double max_cpu_s;     /* CPU time of the whole run (maxCpuTime); 0: not given */
    double max_memory_mb; /* 0: not given */
    double data_size_mb;  /* -1: not given */
    bool cpu_intensive, network_access, file_system_access, concurrent;
    bool debug;            /* step tracing: the result gains steps (native engine only) */
    bool insights;         /* the result gains insights: findings about the data (every engine;
                            * requirements.insights, and always for batch-analyze) */
    bool fallback_allowed; /* default true */
    reqs_level security_level;
    reqs_format output_format;
    reqs_engine preferred_engine;
    size_t npackages;
    char packages[REQS_MAX_PACKAGES][REQS_MAX_PACKAGE_NAME + 1];
} reqs;

/* Fills *r with the defaults (nothing required, fallback allowed, auto). */
void reqs_init(reqs *r);

/*
 * Decodes a requirements object (JSON text that js_validate accepted; JSON
 * null means none).  Returns APP_OK, or APP_EFIELD with a message naming the
 * field and the problem.
 */
APP_MUST_CHECK app_err reqs_decode(const char *json, size_t len, reqs *r, char *msg, size_t msglen);

/* Returns "auto", "browser", "native" or "judge0". */
const char *reqs_engine_name(reqs_engine e);

#endif
