/* test_precopy.c - the pre-copy plans and their application: the pages a
 * probe writes are planned (each once, in the first plan that has them),
 * excluded ranges never are, and applying a plan in a child makes exactly
 * those pages its own while keeping every byte. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "precopy.h"
#include "unit.h"

#define PAGE 4096u
#define PAGES 1024u

static unsigned char *region; /* PAGES patterned pages */

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 131u + (i >> 12) * 7u);
}

/* Core probe: every 4th page of the first half. */
static void core_probe(void *arg)
{
    (void)arg;
    for (size_t p = 0; p < PAGES / 2; p += 4)
        region[p * PAGE] ^= 0xff;
}

/* Data probe: the core probe's pages and every 8th of the second half. */
static void data_probe(void *arg)
{
    core_probe(arg);
    for (size_t p = PAGES / 2; p < PAGES; p += 8)
        region[p * PAGE + 1] ^= 0xff;
}

static int setup(void **state)
{
    (void)state;
    region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < PAGES * PAGE; i++)
        region[i] = pattern(i);
    return 0;
}

static bool page_is_exclusive(size_t page)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t e = 0;
    uintptr_t a = (uintptr_t)(region + page * PAGE);
    bool ok = fd >= 0 && pread(fd, &e, sizeof e, (off_t)(a / PAGE * sizeof e)) == 8;
    if (fd >= 0)
        close(fd);
    return ok && (e & (1ull << 63)) && (e & (1ull << 56));
}

static bool planned(pc_kind k, size_t page)
{
    return pc_planned(k, (uintptr_t)(region + page * PAGE));
}

static void measure_both(const pc_range *exclude, size_t n_exclude)
{
    pc_stats st;
    char err[256];
    assert_int_equal(pc_plan_measure(PC_CORE, core_probe, NULL, exclude, n_exclude, &st, err,
                                     sizeof err), APP_OK);
    assert_true(n_exclude > 0 || st.pages >= PAGES / 8);
    assert_int_equal(pc_plan_measure(PC_DATA, data_probe, NULL, exclude, n_exclude, &st, err,
                                     sizeof err), APP_OK);
}

static void the_pages_a_probe_writes_are_planned_once(void **state)
{
    (void)state;
    measure_both(NULL, 0);
    for (size_t p = 0; p < PAGES; p++) {
        bool core = p < PAGES / 2 && p % 4 == 0, data = p >= PAGES / 2 && p % 8 == 0;
        if (planned(PC_CORE, p) != core || planned(PC_DATA, p) != data)
            fail_msg("page %zu: core %d data %d", p, planned(PC_CORE, p), planned(PC_DATA, p));
    }
    assert_true(pc_plan_bytes(PC_DATA) >= PAGES / 16 * PAGE);
    /* The probes ran in children: our memory is as it was. */
    for (size_t i = 0; i < PAGES * PAGE; i++)
        if (region[i] != pattern(i))
            fail_msg("byte %zu changed in the parent", i);
}

static void excluded_ranges_are_never_planned(void **state)
{
    (void)state;
    pc_range ex = {(uintptr_t)region, (uintptr_t)(region + 64 * PAGE)};
    measure_both(&ex, 1);
    /* Exclusions count in 2 MiB pieces (precopy.c): the pieces they touch
     * are left out whole, the others are planned as usual. */
    for (size_t p = 0; p < 64; p++)
        assert_false(planned(PC_CORE, p));
    assert_true(planned(PC_DATA, PAGES - 8));
    measure_both(NULL, 0);
}

/* In a child, as a pooled child would: applying the core plan makes those
 * pages its own and no others, keeps every byte, leaves the parent alone. */
static void applying_a_plan_copies_exactly_its_pages(void **state)
{
    (void)state;
    measure_both(NULL, 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (page_is_exclusive(8))
            _exit(10); /* shared with the parent before */
        if (pc_apply(PC_CORE) != pc_plan_bytes(PC_CORE) || pc_plan_bytes(PC_CORE) == 0)
            _exit(11);
        for (size_t p = 0; p < PAGES; p++)
            if (page_is_exclusive(p) != (p < PAGES / 2 && p % 4 == 0))
                _exit(12);
        if (pc_apply(PC_DATA) != pc_plan_bytes(PC_DATA) || !page_is_exclusive(PAGES / 2 + 8))
            _exit(13);
        for (size_t i = 0; i < PAGES * PAGE; i++)
            if (region[i] != pattern(i))
                _exit(14);
        memset(region, 0, PAGES * PAGE); /* the child's own now */
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    for (size_t i = 0; i < PAGES * PAGE; i++)
        if (region[i] != pattern(i))
            fail_msg("byte %zu changed in the parent", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_pages_a_probe_writes_are_planned_once),
        cmocka_unit_test(excluded_ranges_are_never_planned),
        cmocka_unit_test(applying_a_plan_copies_exactly_its_pages),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
