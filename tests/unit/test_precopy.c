/* test_precopy.c - the pre-copy plan and its copy: the blocks a probe
 * writes often enough are planned, others are not, and a copy keeps every
 * byte while making the pages the child's own. */
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
#define BLOCKS 4

static unsigned char *region; /* BLOCKS huge-page-aligned blocks, patterned */

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 131u + (i >> 12) * 7u);
}

/* The probe: many pages of block 0 and 1, one page of block 2, nothing of 3. */
static void probe(void *arg)
{
    (void)arg;
    for (size_t p = 0; p < PC_BLOCK / PAGE; p += 4) {
        region[p * PAGE] ^= 0xff;
        region[PC_BLOCK + p * PAGE + 1] ^= 0xff;
    }
    region[2 * PC_BLOCK + 5 * PAGE] ^= 0xff;
}

static int setup(void **state)
{
    (void)state;
    size_t len = BLOCKS * PC_BLOCK;
    unsigned char *m = mmap(NULL, len + PC_BLOCK, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    region = (unsigned char *)(((uintptr_t)m + PC_BLOCK - 1) & ~(uintptr_t)(PC_BLOCK - 1));
    for (size_t i = 0; i < len; i++)
        region[i] = pattern(i);
    return 0;
}

static bool page_is_exclusive(const void *addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t e = 0;
    bool ok = fd >= 0 && pread(fd, &e, sizeof e, (off_t)((uintptr_t)addr / PAGE * sizeof e)) == 8;
    if (fd >= 0)
        close(fd);
    return ok && (e & (1ull << 63)) && (e & (1ull << 56));
}

static void the_blocks_the_probe_writes_often_are_planned(void **state)
{
    (void)state;
    pc_stats st;
    char err[256];
    assert_int_equal(pc_plan_measure(probe, NULL, NULL, 0, &st, err, sizeof err), APP_OK);
    assert_true(pc_planned((uintptr_t)region));
    assert_true(pc_planned((uintptr_t)region + PC_BLOCK + 77 * PAGE));
    assert_false(pc_planned((uintptr_t)region + 2 * PC_BLOCK));
    assert_false(pc_planned((uintptr_t)region + 3 * PC_BLOCK));
    assert_true(st.blocks >= 2);
    assert_true(st.planned_pages >= 2 * (PC_BLOCK / PAGE / 4));
    assert_true(st.bytes >= 2 * PC_BLOCK);
    assert_int_equal(pc_plan_bytes(), st.bytes);
    /* The probe ran in a child: our memory is as it was. */
    for (size_t i = 0; i < BLOCKS * PC_BLOCK; i++)
        if (region[i] != pattern(i))
            fail_msg("byte %zu changed in the parent", i);
}

static void excluded_ranges_are_never_planned(void **state)
{
    (void)state;
    pc_stats st;
    char err[256];
    pc_range ex = {(uintptr_t)region + PC_BLOCK, (uintptr_t)region + PC_BLOCK + PAGE};
    assert_int_equal(pc_plan_measure(probe, NULL, &ex, 1, &st, err, sizeof err), APP_OK);
    assert_true(pc_planned((uintptr_t)region));
    assert_false(pc_planned((uintptr_t)region + PC_BLOCK + 77 * PAGE));
}

/* In a child (as a pooled child would): the copy keeps every byte, makes the
 * planned pages the child's own, and leaves the parent's memory alone. */
static void a_copy_keeps_every_byte_and_owns_its_pages(void **state)
{
    (void)state;
    pc_stats st;
    char err[256];
    assert_int_equal(pc_plan_measure(probe, NULL, NULL, 0, &st, err, sizeof err), APP_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (page_is_exclusive(region + 9 * PAGE))
            _exit(10); /* shared with the parent before the copy */
        size_t copied = pc_apply();
        if (copied < 2 * PC_BLOCK)
            _exit(11);
        for (size_t i = 0; i < BLOCKS * PC_BLOCK; i++)
            if (region[i] != pattern(i))
                _exit(12);
        if (!page_is_exclusive(region + 9 * PAGE) ||
            !page_is_exclusive(region + PC_BLOCK + 300 * PAGE))
            _exit(13);
        memset(region, 0, 2 * PC_BLOCK); /* the child's own now */
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    for (size_t i = 0; i < BLOCKS * PC_BLOCK; i++)
        if (region[i] != pattern(i))
            fail_msg("byte %zu changed in the parent", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_blocks_the_probe_writes_often_are_planned),
        cmocka_unit_test(excluded_ranges_are_never_planned),
        cmocka_unit_test(a_copy_keeps_every_byte_and_owns_its_pages),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
