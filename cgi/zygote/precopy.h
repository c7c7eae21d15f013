/*
 * precopy.h - copying, before a job, the warm interpreter's pages that jobs
 * write, in a few system calls instead of one page fault per page.
 *
 * A child cloned from the zygote shares all of the zygote's memory
 * copy-on-write.  CPython writes the reference count of every object it
 * touches, so a child's first steps copy hundreds of pages (its first
 * Python call ~280, a print(1) job ~450, a pandas describe() ~2,000), each
 * in its own page fault.  On hosts where a page fault is expensive
 * (paravirtualised VMs: every fault and every TLB flush traps to the
 * hypervisor, 15-80 us each here) those faults were most of a job's cost,
 * while madvise(MADV_POPULATE_WRITE) copies the same pages for about 5 us
 * each, without a fault.
 *
 * So the zygote measures, once, which of its writable private pages a
 * representative job writes (pc_plan_measure: a probe child runs the job
 * and reads in /proc/self/pagemap which of its pages became its own), for
 * two plans: PC_CORE, what any job writes (a print(1) probe: the
 * interpreter waking up, the harness), and PC_DATA, what a pandas job writes
 * beyond that.  A child applies the plans before it reports ready
 * (pc_apply).  It is an optimisation only: a page no plan names is still
 * copied on write by the kernel, as before, and a plan that could not be
 * measured is empty.
 *
 * Ownership: the plans are static storage owned by this module; the zygote
 * measures them once, children inherit them read-only.
 */
#ifndef PYSANDBOX_PRECOPY_H
#define PYSANDBOX_PRECOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

typedef enum pc_kind {
    PC_CORE, /* written by every job: applied by every child */
    PC_DATA, /* written by a pandas job beyond PC_CORE: applied while the machine has CPU to spare */
    PC_KINDS
} pc_kind;

/* Runs of consecutive pages a plan holds at most (a pandas probe needs
 * about 1,000); pages beyond are left to copy-on-write. */
#define PC_MAX_RUNS 8192

typedef struct pc_range {
    uintptr_t start, end;
} pc_range;

typedef struct pc_stats {
    size_t pages;    /* pages in the plan */
    size_t runs;     /* runs of consecutive pages (one madvise each) */
    double probe_ms; /* the probe child's life, for the record */
} pc_stats;

/*
 * In the zygote: forks a probe child that runs probe(arg) (a representative
 * job) and reads which writable private pages it copied; plans them as
 * kind, leaving out pages other kinds already plan and pages in exclude
 * (n_exclude ranges: stacks in use when pc_apply runs).  On failure the
 * plan is empty and err says why.
 */
APP_MUST_CHECK app_err pc_plan_measure(pc_kind kind, void (*probe)(void *), void *arg, const pc_range *exclude,
                        size_t n_exclude, pc_stats *stats, char *err, size_t errlen);

/* The bytes a plan copies (0 when empty). */
size_t pc_plan_bytes(pc_kind kind);

/*
 * In a child: copies every page of the plan (MADV_POPULATE_WRITE, one call
 * per run).  Returns the bytes copied; a run the kernel refuses (older than
 * Linux 5.14: EINVAL) is left to copy-on-write.
 */
size_t pc_apply(pc_kind kind);

/* Whether a plan names the page at addr (for tests and diagnostics). */
bool pc_planned(pc_kind kind, uintptr_t addr);

#endif
