/* precopy.c - copying, before a job, the warm interpreter's pages jobs write. */
#include "precopy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#define PAGE ((uintptr_t)4096)
/* Candidate ranges the probe examines: every writable private mapping (the
 * warm interpreter has ~150), cut in 2 MiB pieces. */
#define PC_MAX_CANDIDATES 4096
#define PC_PIECE ((uintptr_t)2 << 20)
/* Larger writable mappings are reservations (a sanitizer's shadow memory),
 * not an interpreter's objects: never candidates. */
#define PC_MAX_MAPPING ((uintptr_t)1 << 30)
/* /proc/self/pagemap: one 64-bit entry per page. */
#define PM_PRESENT (1ull << 63)
#define PM_EXCLUSIVE (1ull << 56) /* mapped by this process only */

static pc_range cands[PC_MAX_CANDIDATES];
static size_t n_cands, n_cand_pages;

static pc_range plans[PC_KINDS][PC_MAX_RUNS];
static size_t n_runs[PC_KINDS];
static size_t plan_pages[PC_KINDS];

static bool overlaps(uintptr_t s, uintptr_t e, const pc_range *ex, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s < ex[i].end && ex[i].start < e)
            return true;
    return false;
}

/* Every writable private mapping, in pieces, minus the excluded ones. */
static APP_MUST_CHECK app_err find_candidates(const pc_range *exclude, size_t n_exclude, char *err,
                               size_t errlen)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL) {
        snprintf(err, errlen, "precopy: /proc/self/maps: %s", strerror(errno));
        return APP_EIO;
    }
    char line[512];
    n_cands = n_cand_pages = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        uintptr_t lo, hi;
        char perms[8], path[256] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*u %255s", &lo, &hi, perms, path) < 3)
            continue;
        if (strcmp(perms, "rw-p") != 0 || (path[0] == '[' && strcmp(path, "[heap]") != 0) ||
            hi - lo > PC_MAX_MAPPING)
            continue;
        for (uintptr_t w = lo & ~(PC_PIECE - 1); w < hi && n_cands < PC_MAX_CANDIDATES;
             w += PC_PIECE) {
            uintptr_t start = w < lo ? lo : w, end = w + PC_PIECE > hi ? hi : w + PC_PIECE;
            if (overlaps(start, end, exclude, n_exclude))
                continue;
            cands[n_cands++] = (pc_range){start, end};
            n_cand_pages += (end - start) / PAGE;
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

/* The probe child: which candidate pages, present and shared before the
 * job, are its own after it.  Writes a bitmap, one bit per candidate page
 * in order. */
static _Noreturn void probe_child(int out, void (*probe)(void *), void *arg)
{
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t *before = malloc(n_cand_pages * sizeof *before + 1);
    uint64_t *after = malloc(n_cand_pages * sizeof *after + 1);
    unsigned char *bits = calloc(n_cand_pages / 8 + 1, 1);
    if (pm < 0 || before == NULL || after == NULL || bits == NULL)
        _exit(2);
    for (size_t i = 0, k = 0; i < n_cands; k += (cands[i].end - cands[i].start) / PAGE, i++)
        if (!read_entries(pm, cands[i].start, cands[i].end, before + k))
            _exit(3);
    probe(arg);
    for (size_t i = 0, k = 0; i < n_cands; i++) {
        size_t n = (cands[i].end - cands[i].start) / PAGE;
        if (!read_entries(pm, cands[i].start, cands[i].end, after + k))
            _exit(3);
        for (size_t p = 0; p < n; p++, k++)
            if ((before[k] & PM_PRESENT) && !(before[k] & PM_EXCLUSIVE) &&
                (after[k] & PM_PRESENT) && (after[k] & PM_EXCLUSIVE))
                bits[k / 8] |= (unsigned char)(1u << (k % 8));
    }
    size_t len = n_cand_pages / 8 + 1;
    _exit(write(out, bits, len) == (ssize_t)len ? 0 : 4);
}

/* Runs the probe in a child and reads its bitmap into bits. */
static APP_MUST_CHECK app_err run_probe(void (*probe)(void *), void *arg, unsigned char *bits, double *ms,
                         char *err, size_t errlen)
{
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
    size_t want = n_cand_pages / 8 + 1, got = 0;
    while (got < want) {
        ssize_t r = read(p[0], bits + got, want - got);
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
    *ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (got != want || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "precopy: the probe failed (wait status %d)", status);
        return APP_EINTERNAL;
    }
    return APP_OK;
}

app_err pc_plan_measure(pc_kind kind, void (*probe)(void *), void *arg, const pc_range *exclude,
                        size_t n_exclude, pc_stats *stats, char *err, size_t errlen)
{
    *stats = (pc_stats){0};
    n_runs[kind] = plan_pages[kind] = 0;
    app_err e = find_candidates(exclude, n_exclude, err, errlen);
    if (e != APP_OK)
        return e;
    unsigned char *bits = calloc(n_cand_pages / 8 + 1, 1);
    if (bits == NULL) {
        snprintf(err, errlen, "precopy: out of memory");
        return APP_ENOMEM;
    }
    e = run_probe(probe, arg, bits, &stats->probe_ms, err, errlen);
    for (size_t i = 0, k = 0; e == APP_OK && i < n_cands; i++) {
        for (uintptr_t a = cands[i].start; a < cands[i].end; a += PAGE, k++) {
            if (!(bits[k / 8] & (1u << (k % 8))))
                continue;
            bool other = false;
            for (int o = 0; o < PC_KINDS && !other; o++)
                other = o != (int)kind && pc_planned((pc_kind)o, a);
            if (other)
                continue;
            pc_range *last = n_runs[kind] > 0 ? &plans[kind][n_runs[kind] - 1] : NULL;
            if (last != NULL && last->end == a)
                last->end = a + PAGE;
            else if (n_runs[kind] < PC_MAX_RUNS)
                plans[kind][n_runs[kind]++] = (pc_range){a, a + PAGE};
            else
                continue;
            plan_pages[kind]++;
        }
    }
    free(bits);
    stats->pages = plan_pages[kind];
    stats->runs = n_runs[kind];
    return e;
}

size_t pc_plan_bytes(pc_kind kind)
{
    return plan_pages[kind] * PAGE;
}

size_t pc_apply(pc_kind kind)
{
    size_t done = 0;
    for (size_t i = 0; i < n_runs[kind]; i++) {
        const pc_range *r = &plans[kind][i];
        if (madvise((void *)r->start, r->end - r->start, MADV_POPULATE_WRITE) == 0)
            done += r->end - r->start;
    }
    return done;
}

bool pc_planned(pc_kind kind, uintptr_t addr)
{
    /* Runs are in address order within a mapping, and mappings in order. */
    size_t lo = 0, hi = n_runs[kind];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (plans[kind][mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n_runs[kind] && plans[kind][lo].start <= addr;
}
