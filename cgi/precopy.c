/* precopy.c - copying the warm interpreter's hot memory into a child in bulk. */
#include "precopy.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE ((uintptr_t)4096)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
/* Candidate blocks examined by the probe: every writable private mapping
 * cut at huge-page boundaries (the warm interpreter has ~150 such pieces). */
#define PC_MAX_CANDIDATES 4096
/* Larger writable mappings are reservations (a sanitizer's shadow memory),
 * not an interpreter's objects: never candidates. */
#define PC_MAX_MAPPING ((uintptr_t)1 << 30)
/* /proc/self/pagemap: one 64-bit entry per page. */
#define PM_PRESENT (1ull << 63)
#define PM_EXCLUSIVE (1ull << 56) /* mapped by this process only */

typedef struct candidate {
    uintptr_t start, end;
    bool file;            /* a file's private mapping (.data): absent pages are not zeros */
    uint32_t written;     /* pages the probe copied on write */
} candidate;

/* The plan: blocks, and within each the runs of pages present in the
 * zygote (absent pages of anonymous memory read as zeros, which a fresh
 * mapping gives for free; reading them would fault each in). */
typedef struct block {
    uintptr_t start, end;
    uint32_t first_run, n_runs;
} block;
#define PC_MAX_RUNS 4096

static block plan[PC_MAX_BLOCKS];
static size_t n_plan;
static pc_range runs[PC_MAX_RUNS];
static size_t n_runs;
static size_t plan_bytes;

static candidate cands[PC_MAX_CANDIDATES];
static size_t n_cands;

static bool overlaps(uintptr_t s, uintptr_t e, const pc_range *ex, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s < ex[i].end && ex[i].start < e)
            return true;
    return false;
}

/* Every writable private mapping, cut into blocks at huge-page boundaries. */
static app_err find_candidates(const pc_range *exclude, size_t n_exclude, char *err,
                               size_t errlen)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL) {
        snprintf(err, errlen, "precopy: /proc/self/maps: %s", strerror(errno));
        return APP_EIO;
    }
    char line[512];
    n_cands = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        uintptr_t lo, hi;
        char perms[8], path[256] = "";
        unsigned long inode;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %255s", &lo, &hi, perms, &inode, path) < 4)
            continue;
        if (strcmp(perms, "rw-p") != 0 || (path[0] == '[' && strcmp(path, "[heap]") != 0) ||
            hi - lo > PC_MAX_MAPPING)
            continue;
        for (uintptr_t w = lo & ~(PC_BLOCK - 1); w < hi; w += PC_BLOCK) {
            uintptr_t start = w < lo ? lo : w, end = w + PC_BLOCK > hi ? hi : w + PC_BLOCK;
            if (overlaps(start, end, exclude, n_exclude))
                continue;
            if (n_cands == PC_MAX_CANDIDATES)
                break;
            cands[n_cands++] = (candidate){start, end, inode != 0, 0};
        }
    }
    fclose(f);
    return APP_OK;
}

static bool read_entries(int fd, uintptr_t start, uintptr_t end, uint64_t *out)
{
    size_t n = (end - start) / PAGE, done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)(out + done), (n - done) * sizeof *out,
                          (off_t)((start / PAGE + done) * sizeof *out));
        if (r <= 0)
            return false;
        done += (size_t)r / sizeof *out;
    }
    return true;
}

/* The probe child: which candidate pages, present before the job, are its
 * own (copied on write) after it.  Writes one uint32_t per candidate. */
static _Noreturn void probe_child(int out, void (*probe)(void *), void *arg)
{
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    size_t total = 0;
    for (size_t i = 0; i < n_cands; i++)
        total += (cands[i].end - cands[i].start) / PAGE;
    uint64_t *before = malloc(total * sizeof *before);
    uint64_t *after = malloc(total * sizeof *after);
    uint32_t *written = calloc(n_cands ? n_cands : 1, sizeof *written);
    if (pm < 0 || before == NULL || after == NULL || written == NULL)
        _exit(2);
    size_t k = 0;
    for (size_t i = 0; i < n_cands; k += (cands[i].end - cands[i].start) / PAGE, i++)
        if (!read_entries(pm, cands[i].start, cands[i].end, before + k))
            _exit(3);
    probe(arg);
    k = 0;
    for (size_t i = 0; i < n_cands; i++) {
        size_t n = (cands[i].end - cands[i].start) / PAGE;
        if (!read_entries(pm, cands[i].start, cands[i].end, after + k))
            _exit(3);
        for (size_t p = 0; p < n; p++)
            if ((before[k + p] & PM_PRESENT) && (before[k + p] & PM_EXCLUSIVE) == 0 &&
                (after[k + p] & PM_PRESENT) && (after[k + p] & PM_EXCLUSIVE))
                written[i]++;
        k += n;
    }
    size_t len = n_cands * sizeof *written;
    _exit(write(out, written, len) == (ssize_t)len ? 0 : 4);
}

/* Adds candidate c to the plan with its runs of pages present here (in the
 * zygote); a file mapping only when all of it is present. */
static bool plan_block(int pm, const candidate *c)
{
    size_t n = (c->end - c->start) / PAGE;
    uint64_t entries[PC_BLOCK / 4096];
    if (n_plan == PC_MAX_BLOCKS || !read_entries(pm, c->start, c->end, entries))
        return false;
    size_t first = n_runs, present = 0;
    for (size_t p = 0; p < n; p++) {
        if (!(entries[p] & PM_PRESENT))
            continue;
        present++;
        uintptr_t a = c->start + p * PAGE;
        if (n_runs > first && runs[n_runs - 1].end == a) {
            runs[n_runs - 1].end = a + PAGE;
        } else {
            if (n_runs == PC_MAX_RUNS) {
                n_runs = first;
                return false;
            }
            runs[n_runs++] = (pc_range){a, a + PAGE};
        }
    }
    if (present == 0 || (c->file && present != n)) {
        n_runs = first;
        return false;
    }
    plan[n_plan++] = (block){c->start, c->end, (uint32_t)first, (uint32_t)(n_runs - first)};
    plan_bytes += c->end - c->start;
    return true;
}

app_err pc_plan_measure(void (*probe)(void *), void *arg, const pc_range *exclude,
                        size_t n_exclude, pc_stats *stats, char *err, size_t errlen)
{
    *stats = (pc_stats){0};
    n_plan = n_runs = plan_bytes = 0;
    app_err e = find_candidates(exclude, n_exclude, err, errlen);
    if (e != APP_OK)
        return e;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "precopy: pipe: %s", strerror(errno));
        return APP_EIO;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        probe_child(p[1], probe, arg);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        snprintf(err, errlen, "precopy: fork: %s", strerror(errno));
        return APP_EIO;
    }
    uint32_t *written = calloc(n_cands ? n_cands : 1, sizeof *written);
    size_t want = n_cands * sizeof *written, got = 0;
    while (written != NULL && got < want) {
        ssize_t r = read(p[0], (char *)written + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stats->probe_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (written == NULL || got != want || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(written);
        snprintf(err, errlen, "precopy: the probe failed (status %d)", status);
        return APP_EINTERNAL;
    }
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) {
        free(written);
        snprintf(err, errlen, "precopy: /proc/self/pagemap: %s", strerror(errno));
        return APP_EIO;
    }
    for (size_t i = 0; i < n_cands; i++) {
        size_t pages = (cands[i].end - cands[i].start) / PAGE;
        stats->probe_pages += written[i];
        /* Small pieces (a library's .data) count against a whole block:
         * each copied piece is one more mapping in every child. */
        size_t share = pages < PC_BLOCK / PAGE ? PC_BLOCK / PAGE : pages;
        if (written[i] == 0 || written[i] * PC_MIN_SHARE < share)
            continue;
        if (plan_block(pm, &cands[i]))
            stats->planned_pages += written[i];
    }
    close(pm);
    free(written);
    stats->blocks = n_plan;
    stats->bytes = plan_bytes;
    return APP_OK;
}

size_t pc_plan_bytes(void)
{
    return plan_bytes;
}

/* One block: fresh memory (a huge page when the block is one), the present
 * runs copied in, then moved over the original in one step. */
static bool copy_block(const block *b)
{
    size_t len = b->end - b->start;
    bool huge = len == PC_BLOCK && (b->start & (PC_BLOCK - 1)) == 0;
    size_t span = huge ? len + PC_BLOCK : len;
    char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED)
        return false;
    char *dst = m;
    if (huge) {
        dst = (char *)(((uintptr_t)m + PC_BLOCK - 1) & ~(uintptr_t)(PC_BLOCK - 1));
        if (dst > m)
            munmap(m, (size_t)(dst - m));
        if (dst + len < m + span)
            munmap(dst + len, (size_t)(m + span - (dst + len)));
        madvise(dst, len, MADV_HUGEPAGE);
    }
    /* Allocated in one call, not in one page fault per page (4 KiB) or
     * block (huge page); older kernels (EINVAL) fault them in as memcpy
     * writes. */
    (void)madvise(dst, len, MADV_POPULATE_WRITE);
    for (uint32_t r = b->first_run; r < b->first_run + b->n_runs; r++)
        memcpy(dst + (runs[r].start - b->start), (const void *)runs[r].start,
               runs[r].end - runs[r].start);
    if (mremap(dst, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)b->start) == MAP_FAILED) {
        munmap(dst, len);
        return false;
    }
    return true;
}

size_t pc_apply(void)
{
    size_t done = 0;
    for (size_t i = 0; i < n_plan; i++) {
        if (!copy_block(&plan[i]))
            break;
        done += plan[i].end - plan[i].start;
    }
    return done;
}


bool pc_planned(uintptr_t addr)
{
    for (size_t i = 0; i < n_plan; i++)
        if (plan[i].start <= addr && addr < plan[i].end)
            return true;
    return false;
}
