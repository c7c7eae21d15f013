/* router.c - choosing the engine for a run. */
#include "router.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Remote engines count this much of their score when ranked. */
#define RT_REMOTE_WEIGHT 0.8

const char *rt_engine_name(rt_engine e)
{
    switch (e) {
    case RT_BROWSER:
        return "browser";
    case RT_NATIVE:
        return "native";
    case RT_JUDGE0:
        return "judge0";
    case RT_NENGINES:
        break;
    }
    return "unknown";
}

double rt_score(long attempts, double engine_failure_rate, double p50_ms)
{
    if (attempts <= 0)
        return 100;
    double r = 1.0 - engine_failure_rate;
    double s = 1000.0 / (1000.0 + (p50_ms > 0 ? p50_ms : 0));
    return round(100.0 * (r < 0 ? 0 : r) * s);
}

/* Writes why engine e cannot run this, or leaves why[0] == '\0'. */
static void check(rt_engine e, const rt_input *in, const rt_engine_info *info, char *why, size_t n)
{
    const reqs *r = in->r;
    why[0] = '\0';
    if (!info->available) {
        snprintf(why, n, "unavailable: %.200s", info->reason);
    } else if (r->network_access) {
        snprintf(why, n, "it has no network access");
    } else if (r->debug && e != RT_NATIVE) {
        snprintf(why, n, "step tracing (requirements.debug) runs on the native engine only");
    } else if (e == RT_BROWSER && !in->caller_is_page && r->preferred_engine != ENGINE_BROWSER) {
        snprintf(why, n, "the caller runs no browser (send client: \"page\", or preferredEngine: "
                         "\"browser\" for a sandbox link)");
    } else if (info->remote && r->security_level == LEVEL_HIGH) {
        snprintf(why, n, "securityLevel high keeps code and data on this service");
    } else if (info->max_time_s > 0 && r->max_time_s > info->max_time_s) {
        snprintf(why, n, "maxExecutionTime %g s is above its limit of %g s", r->max_time_s,
                 info->max_time_s);
    } else if (info->max_memory_mb > 0 && r->max_memory_mb > info->max_memory_mb) {
        snprintf(why, n, "maxMemoryUsage %g MB is above its limit of %g MB", r->max_memory_mb,
                 info->max_memory_mb);
    } else if (info->max_data_mb > 0 &&
               (r->data_size_mb > info->max_data_mb || in->data_mb > info->max_data_mb)) {
        snprintf(why, n, "the data is larger than its limit of %g MB", info->max_data_mb);
    } else if (info->packages != NULL) {
        for (size_t i = 0; i < r->npackages && why[0] == '\0'; i++)
            if (!pk_has(info->packages, r->packages[i]))
                snprintf(why, n, "package '%s' is not available there", r->packages[i]);
        for (size_t i = 0; i < in->nimports && why[0] == '\0'; i++)
            if (!pk_has(info->packages, in->imports[i]))
                snprintf(why, n, "the code imports '%s', which is not available there",
                         in->imports[i]);
    }
}

void rt_route(const rt_input *in, const rt_engine_info info[RT_NENGINES], rt_decision *d)
{
    memset(d, 0, sizeof *d);
    bool eligible[RT_NENGINES];
    for (int e = 0; e < RT_NENGINES; e++) {
        check((rt_engine)e, in, &info[e], d->excluded[e], sizeof d->excluded[e]);
        eligible[e] = d->excluded[e][0] == '\0';
    }
    const reqs *r = in->r;
    bool taken[RT_NENGINES] = {false};
    char first_reason[sizeof d->because] = "";

    /* Rule 2: the preferred engine. */
    if (r->preferred_engine != ENGINE_AUTO) {
        rt_engine p = r->preferred_engine == ENGINE_BROWSER  ? RT_BROWSER
                      : r->preferred_engine == ENGINE_NATIVE ? RT_NATIVE
                                                             : RT_JUDGE0;
        if (eligible[p]) {
            d->order[d->n++] = p;
            taken[p] = true;
            snprintf(first_reason, sizeof first_reason,
                     "preferredEngine %s was requested and can meet the requirements",
                     rt_engine_name(p));
        } else if (!r->fallback_allowed) {
            snprintf(d->because, sizeof d->because,
                     "preferredEngine %s cannot run this (%s) and fallbackAllowed is false",
                     rt_engine_name(p), d->excluded[p]);
            return;
        } else {
            snprintf(first_reason, sizeof first_reason, "preferredEngine %s was not used: %s",
                     rt_engine_name(p), d->excluded[p]);
        }
        if (!r->fallback_allowed && d->n == 1)
            goto done; /* nothing else may be tried */
    }
    /* Rule 3: the page runs Python itself unless the work is CPU-heavy. */
    if (in->caller_is_page && eligible[RT_BROWSER] && !taken[RT_BROWSER] && !r->cpu_intensive) {
        d->order[d->n++] = RT_BROWSER;
        taken[RT_BROWSER] = true;
        if (d->n == 1)
            snprintf(first_reason + strlen(first_reason), sizeof first_reason - strlen(first_reason),
                     "%sthe page can run it in the browser, with no server resources",
                     first_reason[0] ? "; " : "");
    }
    /* Rule 4: the rest by weighted score (stable: native before judge0 before
     * browser); CPU-heavy work tries every server engine before the browser,
     * whatever the scores, since a busy tab is the cost rule 3 avoids. */
    static const rt_engine rest[] = {RT_NATIVE, RT_JUDGE0, RT_BROWSER};
    for (;;) {
        int best = -1;
        double best_score = -1;
        bool server_left = (eligible[RT_NATIVE] && !taken[RT_NATIVE]) ||
                           (eligible[RT_JUDGE0] && !taken[RT_JUDGE0]);
        for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
            rt_engine e = rest[i];
            if (!eligible[e] || taken[e])
                continue;
            if (e == RT_BROWSER && r->cpu_intensive && server_left)
                continue;
            double s = info[e].score * (info[e].remote ? RT_REMOTE_WEIGHT : 1.0);
            if (s > best_score) {
                best_score = s;
                best = (int)e;
            }
        }
        if (best < 0)
            break;
        if (d->n == 0) {
            snprintf(first_reason + strlen(first_reason), sizeof first_reason - strlen(first_reason),
                     "%s%s can meet the requirements and has the best performance score (%.0f)",
                     first_reason[0] ? "; " : "", rt_engine_name((rt_engine)best),
                     info[best].score);
        }
        d->order[d->n++] = (rt_engine)best;
        taken[best] = true;
    }
done:
    if (d->n == 0) {
        size_t used = (size_t)snprintf(d->because, sizeof d->because,
                                       "no engine can run this:");
        for (int e = 0; e < RT_NENGINES && used < sizeof d->because; e++)
            used += (size_t)snprintf(d->because + used, sizeof d->because - used, " %s: %s;",
                                     rt_engine_name((rt_engine)e), d->excluded[e]);
        return;
    }
    snprintf(d->because, sizeof d->because, "%s", first_reason);
}
