/* jail.c - the OS jail around one native execution (see jail.h for the order). */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* Every step logs the function, the source line and errno, like nsjail's PLOG_E. */
static bool step_failed(char *err, size_t errlen, const char *fn, int line, const char *what)
{
    snprintf(err, errlen, "jail: %s (jail.c:%d %s): %s", what, line, fn, strerror(errno));
    return false;
}
#define FAIL(what) step_failed(err, errlen, __func__, __LINE__, (what))

static bool write_file(const char *path, const char *text, int flags)
{
    int fd = open(path, flags | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

app_err jail_write_id_maps(pid_t pid, uid_t outside_uid, gid_t outside_gid, char *err,
                           size_t errlen)
{
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    if (!write_file(path, "deny", 0))
        return FAIL("write setgroups"), APP_EJAIL;
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
    snprintf(map, sizeof map, "%d %u 1\n", JAIL_INSIDE_ID, (unsigned)outside_uid);
    if (!write_file(path, map, 0))
        return FAIL("write uid_map"), APP_EJAIL;
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
    snprintf(map, sizeof map, "%d %u 1\n", JAIL_INSIDE_ID, (unsigned)outside_gid);
    if (!write_file(path, map, 0))
        return FAIL("write gid_map"), APP_EJAIL;
    return APP_OK;
}

/* 1. If the supervisor dies, so does the jail (the channel EOF also ends it). */
static bool jail_die_with_parent(char *err, size_t errlen)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return FAIL("PR_SET_PDEATHSIG");
    return true;
}

/* 2. fd 0 is /dev/null, 1 and 2 the output pipes, 3 the request channel,
 * nothing else: the zygote's control socket and any other inherited
 * descriptor must not reach user code. */
static bool jail_fds(int out, int errfd, int chan, char *err, size_t errlen)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        return FAIL("open /dev/null");
    int src[4] = {null, out, errfd, chan};
    int high[4];
    for (int i = 0; i < 4; i++) { /* above 9, so no dup2 below clobbers a source */
        high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
        if (high[i] < 0)
            return FAIL("dup descriptor");
    }
    for (int i = 0; i < 4; i++)
        if (dup2(high[i], i) != i)
            return FAIL("dup2");
    if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
        for (int fd = 4; fd < 65536; fd++)
            close(fd);
    }
    return true;
}

/* 3. The inside uid/gid (the only ones mapped).  The user namespace still
 * grants capabilities here, which the mounts below need; they are dropped
 * explicitly in step 8 (no execve will do it for us). */
static bool jail_ids(char *err, size_t errlen)
{
    if (setresgid(JAIL_INSIDE_ID, JAIL_INSIDE_ID, JAIL_INSIDE_ID) != 0)
        return FAIL("setresgid");
    if (setresuid(JAIL_INSIDE_ID, JAIL_INSIDE_ID, JAIL_INSIDE_ID) != 0)
        return FAIL("setresuid");
    return true;
}

/* Bind src read-only at dst, keeping the flags the kernel locked on the
 * source mount (a user namespace may not clear them: nsjail remountPt). */
static bool bind_ro(const char *src, const char *dst, char *err, size_t errlen)
{
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
        return FAIL(dst);
    struct statvfs sv;
    if (statvfs(dst, &sv) != 0)
        return FAIL("statvfs");
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        flags |= MS_RELATIME;
    if (mount(NULL, dst, NULL, flags, NULL) != 0)
        return FAIL(dst);
    return true;
}

static bool make_dirs(const char *const *dirs, char *err, size_t errlen)
{
    for (; *dirs != NULL; dirs++)
        if (mkdir(*dirs, 0755) != 0 && errno != EEXIST)
            return FAIL(*dirs);
    return true;
}

/* Host paths visible (read-only) in the jail: the Python runtime, the
 * libraries of its extension modules, and shared data such as fonts,
 * zoneinfo and matplotlib's data.  Nothing of /home, /root, /etc, /var,
 * /run, the service's files or other jails is mounted. */
static const char *const ro_binds[] = {"/usr/lib", "/usr/share", NULL};

static bool jail_dev(bool with_proc, char *err, size_t errlen)
{
    if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755") != 0)
        return FAIL("mount /dev");
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom"};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        char host[32], here[32];
        snprintf(host, sizeof host, "/dev/%s", nodes[i]);
        snprintf(here, sizeof here, "dev/%s", nodes[i]);
        int fd = open(here, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0)
            return FAIL(here);
        close(fd);
        if (mount(host, here, NULL, MS_BIND, NULL) != 0)
            return FAIL(here);
    }
    if (with_proc) {
        static const char *const links[][2] = {{"/proc/self/fd", "dev/fd"},
                                               {"/proc/self/fd/0", "dev/stdin"},
                                               {"/proc/self/fd/1", "dev/stdout"},
                                               {"/proc/self/fd/2", "dev/stderr"}};
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
            if (symlink(links[i][0], links[i][1]) != 0)
                return FAIL(links[i][1]);
    }
    if (mkdir("dev/shm", 01777) != 0)
        return FAIL("mkdir dev/shm");
    char opts[64];
    snprintf(opts, sizeof opts, "size=%um,nr_inodes=256,mode=1777", JAIL_SHM_MB);
    if (mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) != 0)
        return FAIL("mount /dev/shm");
    return true;
}

static bool jail_etc(char *err, size_t errlen)
{
    static const struct {
        const char *path, *text;
    } files[] = {
        {"etc/passwd", "sandbox:x:1000:1000:sandbox:/tmp:/nonexistent\n"},
        {"etc/group", "sandbox:x:1000:\n"},
        {"etc/hostname", "sandbox\n"},
        {"etc/hosts", "127.0.0.1 localhost sandbox\n::1 localhost\n"},
        {"etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!write_file(files[i].path, files[i].text, O_CREAT | O_TRUNC))
            return FAIL(files[i].path);
    if (symlink("/usr/share/zoneinfo/Etc/UTC", "etc/localtime") != 0)
        return FAIL("etc/localtime");
    /* Debian resolves libblas/liblapack (and others) through symlinks there;
     * it holds nothing but symlinks. */
    if (access("/etc/alternatives", F_OK) == 0 &&
        (mkdir("etc/alternatives", 0755) != 0 ||
         !bind_ro("/etc/alternatives", "etc/alternatives", err, errlen)))
        return false;
    /* dlopen() by soname (ctypes.CDLL("libm.so.6")) needs the loader cache. */
    if (access("/etc/ld.so.cache", R_OK) == 0) {
        int fd = open("etc/ld.so.cache", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            return FAIL("etc/ld.so.cache");
        close(fd);
        if (!bind_ro("/etc/ld.so.cache", "etc/ld.so.cache", err, errlen))
            return false;
    }
    return true;
}

/* 4. A root made of a small tmpfs holding read-only binds, private /tmp,
 * /dev and /dev/shm, a fresh /proc, then pivot_root (not chroot, which
 * capabilities could escape) and the root itself made read-only. */
static bool jail_mounts(const jail_spec *s, char *err, size_t errlen)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return FAIL("make / private"); /* nothing may propagate back to the host */
    if (mount("tmpfs", s->root_dir, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=1m,nr_inodes=256,mode=755") != 0)
        return FAIL("mount root tmpfs");
    if (chdir(s->root_dir) != 0)
        return FAIL("chdir root");
    static const char *const dirs[] = {"usr", "usr/lib", "usr/share", "etc",
                                       "dev", "tmp", "proc", NULL};
    if (!make_dirs(dirs, err, errlen))
        return false;
    if (symlink("usr/lib", "lib") != 0)
        return FAIL("symlink lib");
    if (access("/usr/lib64", F_OK) == 0) {
        if (mkdir("usr/lib64", 0755) != 0 || !bind_ro("/usr/lib64", "usr/lib64", err, errlen))
            return false;
        if (symlink("usr/lib64", "lib64") != 0)
            return FAIL("symlink lib64");
    }
    for (const char *const *b = ro_binds; *b != NULL; b++)
        if (!bind_ro(*b, *b + 1, err, errlen))
            return false;
    if (!jail_etc(err, errlen) || !jail_dev(s->mount_proc, err, errlen))
        return false;
    char opts[96];
    snprintf(opts, sizeof opts, "size=%um,nr_inodes=%u,mode=1777", s->tmp_mb, JAIL_TMP_INODES);
    if (mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) != 0)
        return FAIL("mount /tmp");
    /* Mounted from inside the new PID namespace, so it shows only the jail. */
    if (s->mount_proc &&
        mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") != 0)
        return FAIL("mount /proc");
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        return FAIL("pivot_root");
    if (umount2(".", MNT_DETACH) != 0)
        return FAIL("detach old root");
    if (chdir("/") != 0)
        return FAIL("chdir /");
    if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
              NULL) != 0)
        return FAIL("remount /dev read-only");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        return FAIL("remount / read-only");
    return true;
}

/* 5. */
static bool jail_hostname(char *err, size_t errlen)
{
    if (sethostname("sandbox", 7) != 0)
        return FAIL("sethostname");
    return true;
}

/* 6. A new session (no controlling terminal, so no TIOCSTI into anyone's
 * tty, and no signals to the service's process group), default signal
 * handling, and two deliberate exceptions: SIGPIPE and SIGXFSZ are
 * ignored, so writing to a closed pipe or past RLIMIT_FSIZE raises an
 * OSError in Python instead of killing the interpreter silently. */
static bool jail_session(char *err, size_t errlen)
{
    if (setsid() < 0)
        return FAIL("setsid");
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
        return FAIL("sigprocmask");
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL); /* EINVAL for the reserved RT signals is fine */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    umask(077);
    if (chdir("/tmp") != 0)
        return FAIL("chdir /tmp");
    return true;
}

static bool set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = {soft, hard};
    return setrlimit(resource, &rl) == 0;
}

/* 7. Server maxima as hard limits; a job can only lower them. */
static bool jail_rlimits(const jail_spec *s, char *err, size_t errlen)
{
    if (!set_limit(RLIMIT_CORE, 0, 0))
        return FAIL("RLIMIT_CORE");
    if (!set_limit(RLIMIT_MEMLOCK, 0, 0))
        return FAIL("RLIMIT_MEMLOCK");
    if (!set_limit(RLIMIT_MSGQUEUE, 0, 0))
        return FAIL("RLIMIT_MSGQUEUE");
    if (!set_limit(RLIMIT_RTPRIO, 0, 0))
        return FAIL("RLIMIT_RTPRIO");
    if (!set_limit(RLIMIT_STACK, (rlim_t)JAIL_STACK_MB << 20, (rlim_t)JAIL_STACK_MB << 20))
        return FAIL("RLIMIT_STACK");
    if (!set_limit(RLIMIT_FSIZE, (rlim_t)JAIL_MAX_FILE_MB << 20, (rlim_t)JAIL_MAX_FILE_MB << 20))
        return FAIL("RLIMIT_FSIZE");
    if (!set_limit(RLIMIT_NOFILE, s->max_nofile, s->max_nofile))
        return FAIL("RLIMIT_NOFILE");
    if (s->max_nproc > 0 && !set_limit(RLIMIT_NPROC, s->max_nproc, s->max_nproc))
        return FAIL("RLIMIT_NPROC");
    if (!set_limit(RLIMIT_CPU, s->max_cpu_s, (rlim_t)s->max_cpu_s + 1))
        return FAIL("RLIMIT_CPU");
    if (s->max_data > 0 && !set_limit(RLIMIT_DATA, s->max_data, s->max_data))
        return FAIL("RLIMIT_DATA");
    if (setpriority(PRIO_PROCESS, 0, 10) != 0)
        return FAIL("setpriority");
    return true;
}

/* 8. No capabilities in any set, none obtainable again. */
static bool jail_drop_caps(char *err, size_t errlen)
{
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL)
                break; /* past the kernel's last capability */
            return FAIL("PR_CAPBSET_DROP");
        }
    }
    if (prctl(PR_SET_SECUREBITS,
              SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
              0, 0, 0) != 0)
        return FAIL("PR_SET_SECUREBITS");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        return FAIL("PR_CAP_AMBIENT_CLEAR_ALL");
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) != 0)
        return FAIL("capset");
    if (syscall(SYS_capget, &hdr, data) != 0)
        return FAIL("capget");
    for (int i = 0; i < 2; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            errno = EPERM;
            return FAIL("capabilities still present after dropping");
        }
    }
    return true;
}

/* 9. */
static bool jail_no_new_privs(char *err, size_t errlen)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return FAIL("PR_SET_NO_NEW_PRIVS");
    return true;
}

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

/* Syscalls whose allow rules carry argument conditions. */
static const char *const argument_checked[] = {"clone", "clone3", "fork", "vfork", "socket",
                                               "socketpair", "ioctl", NULL};

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
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS | CLONE_THREAD, CLONE_THREAD));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
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
    /* ioctl: not TIOCSTI/TIOCLINUX (terminal injection); the kernel reads the
     * command as 32 bits, so compare only those. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
    return rc;
}

/* The compiled filter, built once in the zygote and inherited by children. */
static struct sock_filter *filter_code;
static unsigned short filter_len;
static bool filter_deny_fork;

static app_err build_filter(bool deny_fork, char *err, size_t errlen)
{
    app_err result = APP_EJAIL;
    int memfd = -1;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
    if (ctx == NULL) {
        snprintf(err, errlen, "jail: seccomp_init failed");
        return APP_EJAIL;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* set explicitly in step 9 */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* binary search, not a chain */
    for (int nr = 0; nr < 1024 && rc == 0; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name == NULL)
            continue;
        if (in_list(denied_syscalls, name))
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        else if (!in_list(argument_checked, name))
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        free(name);
    }
    if (rc == 0)
        rc = add_argument_rules(ctx, deny_fork);
    if (rc != 0) {
        snprintf(err, errlen, "jail: building the seccomp filter failed: %s", strerror(-rc));
        goto out;
    }
    memfd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (memfd < 0 || (rc = seccomp_export_bpf(ctx, memfd)) != 0) {
        snprintf(err, errlen, "jail: exporting the seccomp filter failed");
        goto out;
    }
    off_t size = lseek(memfd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        snprintf(err, errlen, "jail: the seccomp filter has an unexpected size");
        goto out;
    }
    free(filter_code);
    filter_code = malloc((size_t)size);
    if (filter_code == NULL || pread(memfd, filter_code, (size_t)size, 0) != size) {
        snprintf(err, errlen, "jail: reading the seccomp filter failed");
        goto out;
    }
    filter_len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    filter_deny_fork = deny_fork;
    result = APP_OK;
out:
    if (memfd >= 0)
        close(memfd);
    seccomp_release(ctx);
    return result;
}

/* 10. Last: from here on the process can only do what the filter allows. */
static bool jail_seccomp(const jail_spec *s, char *err, size_t errlen)
{
    if (filter_code == NULL || filter_deny_fork != s->deny_fork) {
        if (build_filter(s->deny_fork, err, errlen) != APP_OK)
            return false;
    }
    struct sock_fprog prog = {filter_len, filter_code};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return FAIL("install seccomp filter");
    return true;
}

app_err jail_prepare(const jail_spec *spec, char *err, size_t errlen)
{
    return build_filter(spec->deny_fork, err, errlen);
}

app_err jail_enter(const jail_spec *spec, int stdout_fd, int stderr_fd, int channel_fd, char *err,
                   size_t errlen)
{
    bool ok = jail_die_with_parent(err, errlen) &&
              jail_fds(stdout_fd, stderr_fd, channel_fd, err, errlen) && jail_ids(err, errlen) &&
              jail_mounts(spec, err, errlen) && jail_hostname(err, errlen) &&
              jail_session(err, errlen) && jail_rlimits(spec, err, errlen) &&
              jail_drop_caps(err, errlen) && jail_no_new_privs(err, errlen) &&
              jail_seccomp(spec, err, errlen);
    return ok ? APP_OK : APP_EJAIL;
}

app_err jail_job_limits(const jail_job *job, char *err, size_t errlen)
{
    if (!set_limit(RLIMIT_CPU, job->cpu_s, (rlim_t)job->cpu_s + 1))
        return FAIL("job RLIMIT_CPU"), APP_EJAIL;
    if (!set_limit(RLIMIT_NOFILE, job->nofile, job->nofile))
        return FAIL("job RLIMIT_NOFILE"), APP_EJAIL;
    if (job->nproc > 0 && !set_limit(RLIMIT_NPROC, job->nproc, job->nproc))
        return FAIL("job RLIMIT_NPROC"), APP_EJAIL;
    if (job->data > 0 && !set_limit(RLIMIT_DATA, job->data, job->data))
        return FAIL("job RLIMIT_DATA"), APP_EJAIL;
    return APP_OK;
}

const char *jail_denied_syscalls_json(void)
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
