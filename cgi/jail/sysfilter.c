/* sysfilter.c - the jail's seccomp filters and its answer to sysinfo(2). */
#include "sysfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/ucontext.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* sysinfo(2) is answered by a SIGSYS handler in the jail (see answer_sysinfo);
 * the handler reads the syscall's registers, so it is per architecture. */
#if defined(__x86_64__)
#define SYSINFO_EMULATED 1
#else
#define SYSINFO_EMULATED 0
#endif

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS from SECCOMP_RET_TRAP */
#endif

/* --- seccomp ---------------------------------------------------------------
 *
 * An allowlist built from every syscall libseccomp knows for the native
 * architecture, minus the ones below, which fail with EPERM.  Syscalls
 * unknown at build time (newer kernels) fail with ENOSYS; other
 * architectures' syscall tables (i386, x32) kill the process.  Some
 * syscalls are allowed only with safe arguments (see add_argument_rules).
 */
static const char *const denied_syscalls[] = {
    /* running programs, inspecting or controlling other processes */
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "process_madvise", "process_mrelease",
    /* namespaces and mounts */
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    /* kernel modules, kexec, reboot, swap, accounting, quotas */
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
    /* file watches: nothing a job needs, and a watch on anything shared with
     * the host would see the host's activity */
    "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    /* the jail's Landlock domain is final */
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    /* kernel keyrings (persistent across jobs), bpf, userfaultfd, io_uring, perf */
    "add_key", "request_key", "keyctl", "bpf", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "perf_event_open",
    /* clocks and host identity */
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "syslog",
    /* credentials: the jail's ids are final */
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
    "setfsgid", "capset",
    /* legacy, hardware and NUMA interfaces with a history of kernel bugs */
    "uselib", "personality", "modify_ldt", "iopl", "ioperm", "lookup_dcookie", "name_to_handle_at",
    "open_by_handle_at", "fanotify_init", "mbind", "set_mempolicy", "set_mempolicy_home_node",
    "migrate_pages", "move_pages", "vmsplice", "vhangup", "create_module", "get_kernel_syms",
    "query_module", "_sysctl", "ustat", "sysfs", "afs_syscall", "tuxcall", "security", "nfsservctl",
    NULL,
};

/* Syscalls whose allow rules carry argument conditions.  (ioctl's refused
 * commands are in the second filter: libseccomp drops conditional rules of
 * a syscall that also has an unconditional one.) */
static const char *const argument_checked[] = {"clone", "clone3", "fork", "vfork", "socket",
                                               "socketpair", NULL};

static bool in_list(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

#define NS_FLAGS                                                                                   \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
     CLONE_NEWCGROUP)

static int add_argument_rules(scmp_filter_ctx ctx, bool deny_fork)
{
    int rc = 0;
    /* clone: never with a namespace flag; in deny_fork mode only threads. */
    static const unsigned long ns_flags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                             CLONE_NEWCGROUP};
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
    if (rc == 0 && deny_fork) {
        /* Threads, and processes sharing the caller's memory (the jail's
         * runner is one): neither adds memory that per-process limits miss. */
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS | CLONE_THREAD, CLONE_THREAD));
        if (rc == 0)
            rc = seccomp_rule_add(
                ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS | CLONE_THREAD | CLONE_VM, CLONE_VM));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_VM, 0));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fork), 0);
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(vfork), 0);
    } else if (rc == 0) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fork), 0);
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(vfork), 0);
    }
    /* clone3 gets no rule: it hides its flags in memory the filter cannot
     * read, so it takes the default action, ENOSYS, and glibc falls back
     * to clone.  (libseccomp refuses a rule equal to the default action.) */
    /* Sockets: AF_UNIX only (socketpair, asyncio's self-pipe).  The network
     * namespace has no interface anyway; this also keeps rare families from
     * auto-loading kernel modules. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
                              SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1,
                              SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    return rc;
}

/* The second filter: everything the first allows, except ioctl's terminal
 * injection commands TIOCSTI and TIOCLINUX.  The kernel runs every filter
 * and keeps the strictest answer, so EPERM here wins over the first
 * filter's ALLOW.  It reads the command as 32 bits: compare only those. */
static int add_ioctl_rules(scmp_filter_ctx ctx)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
    return rc;
}

/* A compiled filter, built once in the zygote and inherited by children. */
typedef struct bpf_prog {
    struct sock_filter *code;
    unsigned short len;
} bpf_prog;

static bpf_prog main_filter, ioctl_filter;
static bool filter_deny_fork;
static bool filters_built;

/* Exports ctx as BPF into *prog.  Returns 0 or a negative errno-style code. */
static int export_filter(scmp_filter_ctx ctx, bpf_prog *prog)
{
    int rc = -EIO;
    int memfd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (memfd < 0)
        return -errno;
    if (seccomp_export_bpf(ctx, memfd) != 0)
        goto out;
    off_t size = lseek(memfd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
        goto out;
    free(prog->code);
    prog->len = 0;
    prog->code = malloc((size_t)size);
    if (prog->code == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (pread(memfd, prog->code, (size_t)size, 0) != size)
        goto out;
    prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    rc = 0;
out:
    close(memfd);
    return rc;
}

/* A filter context with our common attributes: foreign architectures kill
 * the process, no_new_privs is set explicitly in step 10. */
static scmp_filter_ctx new_filter(uint32_t default_action)
{
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (ctx == NULL)
        return NULL;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0) { /* binary search, not a chain */
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

app_err sysf_build(bool deny_fork, char *err, size_t errlen)
{
    scmp_filter_ctx ctx = new_filter(SCMP_ACT_ERRNO(ENOSYS));
    scmp_filter_ctx ioctl_ctx = new_filter(SCMP_ACT_ALLOW);
    int rc = ctx != NULL && ioctl_ctx != NULL ? 0 : -ENOMEM;
    for (int nr = 0; nr < 1024 && rc == 0; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name == NULL)
            continue;
        if (in_list(denied_syscalls, name))
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        else if (SYSINFO_EMULATED && nr == SYS_sysinfo)
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
        else if (!in_list(argument_checked, name))
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        free(name);
    }
    if (rc == 0)
        rc = add_argument_rules(ctx, deny_fork);
    if (rc == 0)
        rc = add_ioctl_rules(ioctl_ctx);
    if (rc == 0)
        rc = export_filter(ctx, &main_filter);
    if (rc == 0)
        rc = export_filter(ioctl_ctx, &ioctl_filter);
    seccomp_release(ctx);
    seccomp_release(ioctl_ctx);
    if (rc != 0) {
        snprintf(err, errlen, "jail: building the seccomp filters failed: %s", strerror(-rc));
        return APP_EJAIL;
    }
    filter_deny_fork = deny_fork;
    filters_built = true;
    return APP_OK;
}

/* --- sysinfo(2), answered for the jail --------------------------------------
 *
 * sysinfo() is not namespaced: it reports the host's uptime, load, RAM and
 * number of processes (a number other jobs change: a channel between
 * them).  The filter traps it (SECCOMP_RET_TRAP: the kernel never runs it)
 * and this SIGSYS handler answers for the jail: uptime since the jail was
 * made, no load, the job's memory limit as the RAM (glibc's
 * sysconf(_SC_PHYS_PAGES) reads it, so libraries that size themselves by
 * RAM see the jail's), what the process does not use of it as free, one
 * process.  A job that replaces the handler only loses sysinfo() itself.
 * The answer is written as the kernel would (EFAULT for memory the job
 * may not write: checked by reading /dev/zero into it).
 */
static struct timespec jail_born;          /* CLOCK_MONOTONIC when the jail was entered */
static volatile size_t jail_memory_bytes;  /* the job's memory limit (sysf_job_memory) */

#if SYSINFO_EMULATED
/* Resident bytes of this process, or 0 (async-signal-safe: open/read only). */
static size_t resident_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strchr(buf, ' '); /* size, then resident (pages) */
    size_t pages = 0;
    for (p = p != NULL ? p + 1 : buf + n; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (size_t)(*p - '0');
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void answer_sysinfo(int sig, siginfo_t *si, void *uc_)
{
    (void)sig;
    ucontext_t *uc = uc_;
    greg_t *regs = uc->uc_mcontext.gregs;
    if (si->si_code != SYS_SECCOMP || si->si_syscall != SYS_sysinfo)
        return; /* a SIGSYS someone sent: nothing to answer */
    int saved = errno;
    struct sysinfo *out = (struct sysinfo *)regs[REG_RDI];
    long rc = -EFAULT;
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zero >= 0) {
        if (read(zero, out, sizeof *out) == (ssize_t)sizeof *out) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            size_t total = jail_memory_bytes;
            if (total == 0) {
                struct rlimit rl;
                total = getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                            ? (size_t)rl.rlim_cur
                            : 0;
            }
            size_t used = resident_bytes();
            out->uptime = now.tv_sec - jail_born.tv_sec;
            out->totalram = total;
            out->freeram = used < total ? total - used : 0;
            out->procs = 1;
            out->mem_unit = 1;
            rc = 0;
        }
        close(zero);
    } else {
        rc = -errno;
    }
    regs[REG_RAX] = rc;
    errno = saved;
}
#endif

bool sysf_built_for(bool deny_fork)
{
    return filters_built && filter_deny_fork == deny_fork;
}

bool sysf_install(const char **what)
{
#if SYSINFO_EMULATED
    struct sigaction sa = {.sa_sigaction = answer_sysinfo, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    if (clock_gettime(CLOCK_MONOTONIC, &jail_born) != 0 || sigaction(SIGSYS, &sa, NULL) != 0) {
        *what = "SIGSYS handler for sysinfo";
        return false;
    }
#endif
    struct sock_fprog main_prog = {main_filter.len, main_filter.code};
    struct sock_fprog ioctl_prog = {ioctl_filter.len, ioctl_filter.code};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &main_prog) != 0) {
        *what = "install seccomp filter";
        return false;
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &ioctl_prog) != 0) {
        *what = "install ioctl filter";
        return false;
    }
    return true;
}

void sysf_job_memory(size_t bytes)
{
    jail_memory_bytes = bytes;
}

const char *sysf_denied_json(void)
{
    static char json[4096];
    if (json[0] == '\0') {
        size_t used = 0;
        json[used++] = '[';
        for (const char *const *p = denied_syscalls; *p != NULL; p++)
            used += (size_t)snprintf(json + used, sizeof json - used, "%s\"%s\"",
                                     p == denied_syscalls ? "" : ",", *p);
        snprintf(json + used, sizeof json - used, "]");
    }
    return json;
}

const char *sysf_emulated_json(void)
{
    return SYSINFO_EMULATED ? "[\"sysinfo\"]" : "[]";
}
