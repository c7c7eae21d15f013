/*
 * cgroup.h - per-slot control groups for the jailed children.
 *
 * The executor keeps one cgroup per concurrent slot under its own cgroup
 * and reuses it for each child that runs in that slot.  Where the host
 * allows it, they bound what per-process rlimits cannot: the memory of the
 * whole jail (all its processes, its /tmp pages, no swap) and its number
 * of tasks (processes and threads), and they measure CPU time and peak
 * memory.  cgroup v1 (memory, pids, cpuacct controllers) and v2 (a
 * delegated subtree with memory and pids enabled) are supported; when
 * neither is usable, cg_open() reports why and the engine runs with
 * rlimits only (the health endpoint says so).
 */
#ifndef PYSANDBOX_CGROUP_H
#define PYSANDBOX_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "app.h"

typedef enum cg_mode { CG_NONE, CG_V1, CG_V2 } cg_mode;

typedef struct cg cg;

/* What one job consumed, as far as the cgroup knows. */
typedef struct cg_usage {
    uint64_t cpu_ns;      /* CPU time of every task in the slot since the job started;
                           * 0 if unknown */
    uint64_t peak_bytes;  /* peak memory charged to the slot; 0 if unknown */
    bool oom_killed;      /* the memory limit killed a task */
} cg_usage;

/*
 * Creates nslots slot groups named <tag>-<pid>/slot-N under this process's
 * own cgroups.  Never fails for lack of cgroups: *out is always set (free
 * with cg_free) and cg_mode_of() tells what is active; the reason for
 * CG_NONE is written to why.  Returns APP_ENOMEM only.
 */
APP_MUST_CHECK app_err cg_open(const char *tag, unsigned nslots, cg **out, char *why, size_t whylen);

/* Removes the slot groups (they must be empty) and frees. NULL-safe. */
void cg_free(cg *c);

cg_mode cg_mode_of(const cg *c);

/* Static JSON describing the active layer: {"version": "v1", "controllers": [...]}. */
const char *cg_describe_json(const cg *c);

/* Sets a slot's memory limit (no swap beyond it) and task limit, and resets
 * its counters.  Call before a job starts in the slot. */
APP_MUST_CHECK app_err cg_limit_slot(cg *c, unsigned slot, uint64_t memory_bytes, unsigned max_tasks, char *err,
                      size_t errlen);

/*
 * The slot's cgroup.procs file of every active controller, open for
 * writing, so another process (the zygote) can move a child in by writing
 * its pid.  Stores at most max descriptors in fds; they stay owned by c
 * (send copies; do not close).  Returns how many, or -1 with err.
 */
int cg_procs_fds(cg *c, unsigned slot, int *fds, int max, char *err, size_t errlen);

/*
 * An eventfd (non-blocking) that becomes readable when the OOM killer acts
 * in the slot, or -1.  cgroup v1 only: under v2 the slot's
 * memory.oom.group makes the kernel kill the whole jail by itself.  The
 * caller reads 8 bytes to re-arm it; it stays owned by c.
 */
int cg_oom_fd(const cg *c, unsigned slot);

/* Whether the slot groups count CPU time (cg_cpu_ns() is meaningful). */
bool cg_measures_cpu(const cg *c);

/* CPU time of every task in the slot since cg_limit_slot(); 0 if unknown.
 * One read of one control file: cheap enough to watch a CPU limit with. */
uint64_t cg_cpu_ns(cg *c, unsigned slot);

/* Reads what the slot used since cg_limit_slot(). */
void cg_read_usage(cg *c, unsigned slot, cg_usage *u);

#endif
