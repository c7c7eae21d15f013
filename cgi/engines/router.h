/*
 * router.h - choosing the engine for a run.  A pure function: everything it
 * needs is in its arguments, so every rule is unit-tested.
 *
 * The rules (docs/design/router.md states them for users):
 *  1. An engine that cannot meet the requirements is excluded, with the
 *     reason: unavailable; maxExecutionTime, maxMemoryUsage or dataSize
 *     above its limits; a needed package it lacks (requirements.packages
 *     plus the modules the code imports); networkAccess (no engine offers
 *     it); securityLevel high excludes remote engines (Judge0), since the
 *     code and data would leave this service; the browser engine needs a
 *     browser: the caller is the sandbox page (client: "page"), or asked
 *     for it (preferredEngine: "browser", then it gets a sandbox link).
 *  2. preferredEngine, if not auto and eligible, goes first.  If it is not
 *     eligible, the run is refused unless fallbackAllowed (default true).
 *  3. For the sandbox page the browser goes next, unless cpuIntensive.
 *  4. The rest follow by performance score (below), remote engines
 *     weighted 0.8 so that a local engine wins when they are close.
 * Nothing eligible: refused, with every engine's reason.
 *
 * Performance score (0-100) of an engine over the statistics window:
 *   R = 1 - engine failures / attempts   (1 with no history)
 *   S = 1000 / (1000 + p50 wall ms)      (1 with no history)
 *   score = round(100 * R * S)
 * "Engine failures" are the engine's own (unavailable, crashed, 5xx,
 * quota), never the user's code failing.
 */
#ifndef PYSANDBOX_ROUTER_H
#define PYSANDBOX_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "pkgs.h"
#include "reqs.h"

typedef enum rt_engine { RT_BROWSER, RT_NATIVE, RT_JUDGE0, RT_NENGINES } rt_engine;

/* What the router knows about one engine. */
typedef struct rt_engine_info {
    bool available;
    char reason[APP_ERRMSG_LEN]; /* why not available */
    double max_time_s;      /* longest run it accepts; 0 = no limit */
    double max_memory_mb;   /* 0 = no limit */
    double max_data_mb;     /* 0 = no limit */
    bool remote;            /* code and data leave this service */
    const pk_set *packages; /* importable names (stdlib included); NULL = unknown, assume yes */
    double score;           /* performance score 0-100 */
} rt_engine_info;

typedef struct rt_input {
    const reqs *r;
    bool caller_is_page;    /* the sandbox page asks: it runs the browser engine itself */
    char (*imports)[PK_NAME_MAX + 1]; /* modules the code imports */
    size_t nimports;
    double data_mb;         /* size of the data sent with the run */
} rt_input;

typedef struct rt_decision {
    size_t n;                     /* candidates, in the order to try; 0 = refused */
    rt_engine order[RT_NENGINES];
    char because[512];            /* why order[0] was chosen, or why the run is refused */
    char excluded[RT_NENGINES][256]; /* per engine: why it is not eligible, "" if eligible */
} rt_decision;

/* Decides; never fails. */
void rt_route(const rt_input *in, const rt_engine_info info[RT_NENGINES], rt_decision *d);

/* The performance score from statistics (see above); count 0 gives 100. */
double rt_score(long attempts, double engine_failure_rate, double p50_ms);

/* "browser", "native", "judge0". */
const char *rt_engine_name(rt_engine e);

#endif
