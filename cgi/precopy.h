/*
 * precopy.h - copying the warm interpreter's hot memory into a jailed child
 * in bulk, before its job, instead of page by page as the job writes it.
 *
 * A child cloned from the zygote shares all of the zygote's memory
 * copy-on-write.  CPython writes the reference count of every object it
 * touches, so a job's first steps copy hundreds of pages (a pandas
 * describe(): ~2,000), each in its own page fault.  On hosts where a page
 * fault is expensive (paravirtualised VMs: every fault and every TLB flush
 * traps to the hypervisor, 15-80 us each) those faults are most of a job's
 * cost, while copying a 2 MiB block with memcpy costs about as much as 20
 * faults.
 *
 * So the zygote measures, once, which parts of its writable memory a
 * representative job writes (pc_plan_measure: a probe child runs the job
 * and reads which of its pages became its own in /proc/self/pagemap), and
 * each child copies the blocks where that happened often enough
 * (pc_apply: a fresh private mapping, memcpy, mremap over the original),
 * before it reports ready.  The copy is an optimisation only: a block that
 * is not copied is still copied on write by the kernel, as before.
 *
 * Ownership: a pc_plan is static storage owned by this module; the zygote
 * measures it once, children inherit it read-only.
 */
#ifndef PYSANDBOX_PRECOPY_H
#define PYSANDBOX_PRECOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* The largest number of blocks a plan holds (each at most PC_BLOCK bytes). */
#define PC_MAX_BLOCKS 128
/* Block size: one huge page, so a copied block is one mapping entry. */
#define PC_BLOCK ((size_t)2 << 20)
/* A block is copied when the probe wrote at least 1/PC_MIN_SHARE of its
 * pages (one page in 16: 32 of a full block's 512). */
#define PC_MIN_SHARE 16u

typedef struct pc_range {
    uintptr_t start, end;
} pc_range;

typedef struct pc_stats {
    size_t blocks;         /* blocks in the plan */
    size_t bytes;          /* their total size */
    size_t probe_pages;    /* pages the probe copied on write, in all candidates */
    size_t planned_pages;  /* of those, in the planned blocks */
    double probe_ms;       /* the probe's own run, for the record */
} pc_stats;

/*
 * In the zygote: forks a probe child that runs probe(arg) (a representative
 * job, which must not depend on anything after it) and reports which
 * writable private pages it copied; plans the blocks to copy.  Ranges in
 * exclude (n_exclude of them: stacks that are in use when pc_apply runs)
 * are never planned.  On failure the plan is empty and err says why.
 */
app_err pc_plan_measure(void (*probe)(void *), void *arg, const pc_range *exclude,
                        size_t n_exclude, pc_stats *stats, char *err, size_t errlen);

/* The planned bytes (0 when nothing was planned). */
size_t pc_plan_bytes(void);

/*
 * In a child: copies every planned block into fresh private memory at the
 * same address.  Touches no memory of the plan's blocks while it moves
 * them (only memcpy reads them).  Returns the bytes copied; stops at the
 * first block whose copy fails (the block keeps its copy-on-write pages).
 */
size_t pc_apply(void);

/* Whether the plan copies the page at addr (for tests and diagnostics). */
bool pc_planned(uintptr_t addr);

#endif
