/* jail.c - the OS jail around one native execution (see jail.h for the order). */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/capability.h>
#include <linux/securebits.h>
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
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sysfilter.h"

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

/* The character devices a jail gets, by name under /dev. */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom"};
#define JAIL_NDEV (sizeof dev_nodes / sizeof dev_nodes[0])

/* dir/name (the slot's own node) or /dev/name. */
static void dev_source(const jail_spec *s, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", s->dev_dir != NULL ? s->dev_dir : "/dev", name);
}

/* 2. fd 0 is /dev/null (the slot's own), 1 and 2 the output pipes, 3 the
 * request channel, 4 the init's status pipe, nothing else: the zygote's
 * control socket and any other inherited descriptor must not reach user
 * code. */
static bool jail_fds(const jail_spec *s, const jail_io *io, char *err, size_t errlen)
{
    char null_path[PATH_MAX];
    dev_source(s, "null", null_path, sizeof null_path);
    int null = open(null_path, O_RDWR | O_CLOEXEC);
    if (null < 0)
        return FAIL(null_path);
    int src[5] = {null, io->stdout_fd, io->stderr_fd, io->channel_fd, io->status_fd};
    int high[5];
    for (int i = 0; i < 5; i++) { /* above 9, so no dup2 below clobbers a source */
        high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
        if (high[i] < 0)
            return FAIL("dup descriptor");
    }
    for (int i = 0; i < 5; i++)
        if (dup2(high[i], i) != i)
            return FAIL("dup2");
    if (syscall(SYS_close_range, 5u, ~0u, 0u) != 0) {
        for (int fd = 5; fd < 65536; fd++)
            close(fd);
    }
    return true;
}

/* 3. The inside uid/gid (the only ones mapped).  The user namespace still
 * grants capabilities here, which the mounts below need; they are dropped
 * explicitly in step 9 (no execve will do it for us). */
static bool jail_ids(char *err, size_t errlen)
{
    if (setresgid(JAIL_INSIDE_ID, JAIL_INSIDE_ID, JAIL_INSIDE_ID) != 0)
        return FAIL("setresgid");
    if (setresuid(JAIL_INSIDE_ID, JAIL_INSIDE_ID, JAIL_INSIDE_ID) != 0)
        return FAIL("setresuid");
    return true;
}

/* 4. A cgroup namespace rooted at the slot's cgroups (the zygote moved us
 * there before letting us run): /proc/self/cgroup shows "/", not the host's
 * cgroup tree and the supervisor's pid. */
static bool jail_cgroup_ns(char *err, size_t errlen)
{
    if (unshare(CLONE_NEWCGROUP) != 0)
        return FAIL("unshare(CLONE_NEWCGROUP)");
    return true;
}

/*
 * A read-only overlay of the host directory src at dst (relative to the
 * new root).  The files are the host's, but their inodes belong to this
 * mount alone, so advisory locks and inotify watches on them are invisible
 * to other jails and to the host; a bind mount would share the host's
 * inodes and make them a channel.  An overlay without an upper layer needs
 * two lower ones: the second is the new root's empty tmp directory (its
 * own tmpfs covers it later; the overlay keeps the directory underneath).
 */
static bool ro_layer_flags(const char *src, const char *dst, unsigned long extra, char *err,
                           size_t errlen)
{
    /* "tmp" relative to the new root (the cwd here): the jail's mountinfo
     * then shows no host path of ours in the options. */
    char opts[PATH_MAX + 64];
    int n = snprintf(opts, sizeof opts, "lowerdir=%s:tmp", src);
    if (n < 0 || (size_t)n >= sizeof opts) {
        errno = ENAMETOOLONG;
        return FAIL(dst);
    }
    if (mount("overlay", dst, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV | extra, opts) != 0)
        return FAIL(dst);
    return true;
}

static bool ro_layer(const char *src, const char *dst, char *err, size_t errlen)
{
    return ro_layer_flags(src, dst, 0, err, errlen);
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
 * zoneinfo and matplotlib's data (and /usr/bin, no-exec, below).  Nothing
 * of /home, /root, /etc, /var, /run, the service's files or other jails is
 * mounted. */
static const char *const ro_layers[] = {"/usr/lib", "/usr/share", NULL};

/* The device nodes, opened (O_PATH) while the host's tree is still
 * reachable: the slot's directory is hidden once the root tmpfs covers it. */
static bool open_dev_sources(const jail_spec *s, int fds[JAIL_NDEV], char *err, size_t errlen)
{
    for (size_t i = 0; i < JAIL_NDEV; i++)
        fds[i] = -1;
    for (size_t i = 0; i < JAIL_NDEV; i++) {
        char path[PATH_MAX];
        dev_source(s, dev_nodes[i], path, sizeof path);
        fds[i] = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fds[i] < 0)
            return FAIL(path);
    }
    return true;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static bool jail_dev(const int dev_fds[JAIL_NDEV], bool with_proc, char *err, size_t errlen)
{
    if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755") != 0)
        return FAIL("mount /dev");
    for (size_t i = 0; i < JAIL_NDEV; i++) {
        char src[64], here[32];
        snprintf(src, sizeof src, "/proc/self/fd/%d", dev_fds[i]);
        snprintf(here, sizeof here, "dev/%s", dev_nodes[i]);
        int fd = open(here, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0)
            return FAIL(here);
        close(fd);
        if (mount(src, here, NULL, MS_BIND, NULL) != 0)
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

/* The host's /etc/ld.so.cache, read once by jail_prepare(): each jail gets
 * a private copy rather than the host's inode. */
static char *ldso_cache;
static size_t ldso_cache_len;

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
        /* Where Debian's requests and ssl look for authorities: present, so
         * an https request fails where every request does, at connect()
         * (no network), not earlier with a misleading "no CA bundle". */
        {"etc/ssl/certs/ca-certificates.crt", "# no network in the sandbox, so no authorities\n"},
    };
    static const char *const dirs[] = {"etc/ssl", "etc/ssl/certs", NULL};
    if (!make_dirs(dirs, err, errlen))
        return false;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!write_file(files[i].path, files[i].text, O_CREAT | O_TRUNC))
            return FAIL(files[i].path);
    if (symlink("/usr/share/zoneinfo/Etc/UTC", "etc/localtime") != 0)
        return FAIL("etc/localtime");
    /* Debian resolves libblas/liblapack (and others) through symlinks there;
     * it holds nothing but symlinks. */
    if (access("/etc/alternatives", F_OK) == 0 &&
        (mkdir("etc/alternatives", 0755) != 0 ||
         !ro_layer("/etc/alternatives", "etc/alternatives", err, errlen)))
        return false;
    /* dlopen() by soname (ctypes.CDLL("libm.so.6")) needs the loader cache. */
    if (ldso_cache != NULL) {
        int fd = open("etc/ld.so.cache", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            return FAIL("etc/ld.so.cache");
        bool ok = write(fd, ldso_cache, ldso_cache_len) == (ssize_t)ldso_cache_len;
        int saved = errno;
        close(fd);
        errno = saved;
        if (!ok)
            return FAIL("write etc/ld.so.cache");
    }
    return true;
}

/* 5. A root made of a small tmpfs holding read-only overlays of the host's
 * runtime, private /etc, /tmp, /dev and /dev/shm, a fresh /proc, then
 * pivot_root (not chroot, which capabilities could escape) and the root
 * itself made read-only. */
static bool jail_mounts(const jail_spec *s, char *err, size_t errlen)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return FAIL("make / private"); /* nothing may propagate back to the host */
    int dev_fds[JAIL_NDEV];
    bool ok = open_dev_sources(s, dev_fds, err, errlen);
    char opts[96];
    snprintf(opts, sizeof opts, "size=%zuk,nr_inodes=256,mode=755", 1024 + ldso_cache_len / 1024);
    if (ok && mount("tmpfs", s->root_dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
        ok = FAIL("mount root tmpfs");
    if (ok && chdir(s->root_dir) != 0)
        ok = FAIL("chdir root");
    static const char *const dirs[] = {"usr", "usr/lib", "usr/share", "usr/bin", "etc",
                                       "dev", "tmp", "proc", NULL};
    ok = ok && make_dirs(dirs, err, errlen);
    if (ok && symlink("usr/lib", "lib") != 0)
        ok = FAIL("symlink lib");
    if (ok && access("/usr/lib64", F_OK) == 0) {
        ok = mkdir("usr/lib64", 0755) == 0 ? ro_layer("/usr/lib64", "usr/lib64", err, errlen)
                                            : FAIL("mkdir usr/lib64");
        if (ok && symlink("usr/lib64", "lib64") != 0)
            ok = FAIL("symlink lib64");
    }
    for (const char *const *l = ro_layers; ok && *l != NULL; l++)
        ok = ro_layer(*l, *l + 1, err, errlen);
    /* Programs are there to be seen (sys.executable is /usr/bin/python3),
     * not run: no-exec on top of seccomp's refusal of execve. */
    ok = ok && ro_layer_flags("/usr/bin", "usr/bin", MS_NOEXEC, err, errlen);
    ok = ok && jail_etc(err, errlen) && jail_dev(dev_fds, s->mount_proc, err, errlen);
    close_all(dev_fds, JAIL_NDEV);
    if (!ok)
        return false;
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
    /* fd 0 was opened by its host path (step 2); the same node through the
     * jail's own /dev names no host path in /proc/self/fd/0. */
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0)
        return FAIL("open /dev/null");
    bool moved = dup2(null_fd, 0) == 0;
    close(null_fd);
    return moved || FAIL("dup2 /dev/null");
}

/* 6. */
static bool jail_hostname(char *err, size_t errlen)
{
    if (sethostname("sandbox", 7) != 0)
        return FAIL("sethostname");
    return true;
}

/* 7. A new session (no controlling terminal, so no TIOCSTI into anyone's
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

/* 8. Server maxima as hard limits; a job can only lower them. */
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
    if (s->max_nproc > 0 && !set_limit(RLIMIT_NPROC, s->max_nproc + JAIL_INIT_TASKS,
                                        s->max_nproc + JAIL_INIT_TASKS))
        return FAIL("RLIMIT_NPROC");
    if (!set_limit(RLIMIT_CPU, s->max_cpu_s, (rlim_t)s->max_cpu_s + 1))
        return FAIL("RLIMIT_CPU");
    if (s->max_data > 0 && !set_limit(RLIMIT_DATA, s->max_data, s->max_data))
        return FAIL("RLIMIT_DATA");
    if (setpriority(PRIO_PROCESS, 0, 10) != 0)
        return FAIL("setpriority");
    return true;
}

/* 9. No capabilities in any set, none obtainable again. */
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

/* 10. */
static bool jail_no_new_privs(char *err, size_t errlen)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return FAIL("PR_SET_NO_NEW_PRIVS");
    return true;
}

/* Reads the host's loader cache for jail_etc(), up to JAIL_LDSO_CACHE_MAX. */
static APP_MUST_CHECK app_err load_ldso_cache(char *err, size_t errlen)
{
    int fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return APP_OK; /* none on this host: dlopen by soname searches the default paths */
    app_err result = APP_EJAIL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > JAIL_LDSO_CACHE_MAX) {
        snprintf(err, errlen, "jail: /etc/ld.so.cache is empty or larger than %u bytes",
                 JAIL_LDSO_CACHE_MAX);
        goto out;
    }
    free(ldso_cache);
    ldso_cache = malloc((size_t)st.st_size);
    if (ldso_cache == NULL || read(fd, ldso_cache, (size_t)st.st_size) != st.st_size) {
        snprintf(err, errlen, "jail: reading /etc/ld.so.cache failed");
        free(ldso_cache);
        ldso_cache = NULL;
        goto out;
    }
    ldso_cache_len = (size_t)st.st_size;
    result = APP_OK;
out:
    close(fd);
    return result;
}

/* The runner's stack: mapped once in the zygote (so the jobs' RLIMIT_DATA
 * baseline includes it) and inherited, untouched, by every child. */
static char *runner_stack;
static size_t runner_stack_len;
#define RUNNER_GUARD (64u * 1024)

static APP_MUST_CHECK app_err map_runner_stack(char *err, size_t errlen)
{
    if (runner_stack != NULL)
        return APP_OK;
    size_t len = ((size_t)JAIL_RUNNER_STACK_MB << 20) + RUNNER_GUARD;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "jail: mapping the runner's stack failed: %s", strerror(errno));
        return APP_EJAIL;
    }
    /* Overflow faults (SIGSEGV) instead of running into other memory. */
    if (mprotect(p, RUNNER_GUARD, PROT_NONE) != 0) {
        munmap(p, len);
        snprintf(err, errlen, "jail: guarding the runner's stack failed: %s", strerror(errno));
        return APP_EJAIL;
    }
    runner_stack = p;
    runner_stack_len = len;
    return APP_OK;
}

/* --- 13. the init and the runner -----------------------------------------
 *
 * clone(CLONE_NEWPID) made us PID 1 of the jail, and the kernel shields
 * PID 1 from every signal it has no handler for, even one it sends itself:
 * RLIMIT_CPU's SIGXCPU, abort()'s SIGABRT or kill(getpid(), SIGTERM)
 * would be dropped and the job misreported.  So PID 1 stays a small init
 * that reaps and reports, and the job runs in PID 2, the runner, where
 * signals act as everywhere else.  When the runner ends, the init writes
 * its wait status on fd 4 and exits, and the kernel kills whatever else
 * is left in the namespace.
 *
 * The runner is made with CLONE_VM: sharing the warm interpreter's memory
 * costs nothing, where a fork would copy its page tables for every job.
 * The price is discipline in the init: it keeps the original stack, and it
 * makes system calls without glibc, whose wrappers write errno (thread-
 * local storage the runner shares) -- it touches no memory but its own
 * stack.  The runner can still write to the init's memory, and gains
 * nothing by it: the init has the same credentials, namespaces and
 * filters, and all it could forge is the runner's own exit status.
 * (PR_SET_DUMPABLE would not help either: dumpability belongs to the
 * shared memory.)
 */
static long raw_syscall(long nr, long a, long b, long c, long d)
{
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
#else
#error "the jail's init needs raw system calls for this architecture"
#endif
}

static _Noreturn void init_exit(long code)
{
    for (;;)
        raw_syscall(SYS_exit_group, code, 0, 0, 0);
}

/* The init's life after the split: already filtered (step 11 comes after
 * the filters), it only waits for its children and reports. */
static _Noreturn void init_main(long runner)
{
    /* The runner has its own copies of fds 0-3: without ours, the output
     * pipes reach EOF as soon as the runner is done with them. */
    raw_syscall(SYS_close_range, 0, 3, 0, 0);
    for (;;) {
        int status = 0;
        long pid = raw_syscall(SYS_wait4, -1, (long)&status, __WALL, 0);
        if (pid == runner) {
            jail_init_report r = {JAIL_INIT_MAGIC, status};
            raw_syscall(SYS_write, 4, (long)&r, sizeof r, 0);
            init_exit(0);
        }
        if (pid == -ECHILD)
            init_exit(JAIL_INIT_EXIT_LOST);
    }
}

typedef struct runner_start {
    void (*fn)(void *, const char *);
    void *arg;
} runner_start;

static int runner_entry(void *p)
{
    const runner_start *rs = p; /* on the init's stack, which stays put */
    close(4);                   /* the status pipe is the init's */
    rs->fn(rs->arg, NULL);
    _exit(127); /* the runner must not return */
}

/* 13. The split: the runner inherits the filters (and everything else). */
static bool jail_split(const jail_spec *s, const runner_start *rs, char *err, size_t errlen)
{
    int flags = CLONE_VM | SIGCHLD | (s->tid_cache != NULL ? CLONE_CHILD_SETTID : 0);
    /* The kernel stores the runner's tid in glibc's cache (shared memory),
     * so raise() and pthread_kill() in the runner address the runner. */
    pid_t pid = clone(runner_entry, runner_stack + runner_stack_len, flags, (void *)rs, NULL, NULL,
                      s->tid_cache);
    if (pid < 0)
        return FAIL("clone the runner");
    init_main(pid);
}

/* 11. Landlock scoping (ABI 6+): no abstract unix socket or signal outside
 * this jail's own domain.  It is what lets jails share one empty network
 * namespace (abstract socket names live per network namespace) instead of
 * paying for a new one each.  A ruleset that handles no file or network
 * access and only scopes is valid since ABI 6. */
struct jail_landlock_attr {
    uint64_t handled_access_fs, handled_access_net, scoped;
};
#define JAIL_LANDLOCK_SCOPE_ABSTRACT_UNIX (1ull << 0)
#define JAIL_LANDLOCK_SCOPE_SIGNAL (1ull << 1)
#define JAIL_SYS_landlock_create_ruleset 444
#define JAIL_SYS_landlock_restrict_self 446

int jail_landlock_abi(void)
{
    long abi = syscall(JAIL_SYS_landlock_create_ruleset, NULL, 0, 1u /* ..._VERSION */);
    return abi < 0 ? 0 : (int)abi;
}

static bool jail_landlock(const jail_spec *s, char *err, size_t errlen)
{
    if (!s->scope_unix)
        return true;
    struct jail_landlock_attr attr = {0, 0,
                                      JAIL_LANDLOCK_SCOPE_ABSTRACT_UNIX | JAIL_LANDLOCK_SCOPE_SIGNAL};
    int fd = (int)syscall(JAIL_SYS_landlock_create_ruleset, &attr, sizeof attr, 0u);
    if (fd < 0)
        return FAIL("landlock_create_ruleset");
    bool ok = syscall(JAIL_SYS_landlock_restrict_self, fd, 0u) == 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok || FAIL("landlock_restrict_self");
}

/* 12. Last for the jail's own code: from here on the process can only do
 * what the filters allow.  Installed once, before the split, so the
 * runner is filtered from its first instruction (sysfilter.h: the filters,
 * and the handler of the one syscall the jail answers itself). */
static bool jail_seccomp(char *err, size_t errlen)
{
    const char *what = NULL;
    return sysf_install(&what) || FAIL(what);
}

app_err jail_make_devices(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return FAIL(dir), APP_EJAIL;
    for (size_t i = 0; i < JAIL_NDEV; i++) {
        char host[32], path[PATH_MAX];
        snprintf(host, sizeof host, "/dev/%s", dev_nodes[i]);
        snprintf(path, sizeof path, "%s/%s", dir, dev_nodes[i]);
        struct stat hs, st;
        if (stat(host, &hs) != 0 || !S_ISCHR(hs.st_mode))
            return FAIL(host), APP_EJAIL;
        if (lstat(path, &st) == 0 && (!S_ISCHR(st.st_mode) || st.st_rdev != hs.st_rdev) &&
            unlink(path) != 0)
            return FAIL(path), APP_EJAIL;
        if (mknod(path, S_IFCHR | 0666, hs.st_rdev) != 0 && errno != EEXIST)
            return FAIL(path), APP_EJAIL;
        if (chmod(path, 0666) != 0) /* mknod honours the umask */
            return FAIL(path), APP_EJAIL;
    }
    char null_path[PATH_MAX];
    snprintf(null_path, sizeof null_path, "%s/null", dir);
    int fd = open(null_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return FAIL(null_path), APP_EJAIL; /* e.g. EACCES: a nodev filesystem */
    bool ok = write(fd, "", 1) == 1;
    close(fd);
    if (!ok)
        return FAIL(null_path), APP_EJAIL;
    return APP_OK;
}

app_err jail_prepare(const jail_spec *spec, char *err, size_t errlen)
{
    if (strpbrk(spec->root_dir, ",:\\") != NULL) {
        snprintf(err, errlen, "jail: the root directory %s must not contain ',', ':' or '\\'",
                 spec->root_dir);
        return APP_EJAIL;
    }
    app_err e = sysf_build(spec->deny_fork, err, errlen);
    if (e == APP_OK)
        e = load_ldso_cache(err, errlen);
    if (e == APP_OK)
        e = map_runner_stack(err, errlen);
    return e;
}

app_err jail_enter(const jail_spec *spec, const jail_io *io, void (*runner)(void *, const char *),
                   void *arg, char *err, size_t errlen)
{
    if (!sysf_built_for(spec->deny_fork) || runner_stack == NULL) {
        snprintf(err, errlen, "jail: jail_prepare() was not called for this spec");
        return APP_EINTERNAL;
    }
    runner_start rs = {runner, arg};
    bool ok = jail_die_with_parent(err, errlen) && jail_fds(spec, io, err, errlen) &&
              jail_ids(err, errlen) && jail_cgroup_ns(err, errlen) &&
              jail_mounts(spec, err, errlen) && jail_hostname(err, errlen) &&
              jail_session(err, errlen) && jail_rlimits(spec, err, errlen) &&
              jail_drop_caps(err, errlen) && jail_no_new_privs(err, errlen) &&
              jail_landlock(spec, err, errlen) && jail_seccomp(err, errlen) &&
              jail_split(spec, &rs, err, errlen);
    (void)ok; /* jail_split() returns only on failure */
    return APP_EJAIL;
}

void jail_runner_stack(uintptr_t *start, uintptr_t *end)
{
    *start = (uintptr_t)runner_stack;
    *end = (uintptr_t)runner_stack + runner_stack_len;
}

app_err jail_job_limits(const jail_job *job, char *err, size_t errlen)
{
    if (!set_limit(RLIMIT_CPU, job->cpu_s, (rlim_t)job->cpu_s + 1))
        return FAIL("job RLIMIT_CPU"), APP_EJAIL;
    if (!set_limit(RLIMIT_NOFILE, job->nofile, job->nofile))
        return FAIL("job RLIMIT_NOFILE"), APP_EJAIL;
    if (job->nproc > 0 && !set_limit(RLIMIT_NPROC, job->nproc + JAIL_INIT_TASKS,
                                      job->nproc + JAIL_INIT_TASKS))
        return FAIL("job RLIMIT_NPROC"), APP_EJAIL;
    sysf_job_memory(job->memory);
    if (job->data > 0 && !set_limit(RLIMIT_DATA, job->data, job->data))
        return FAIL("job RLIMIT_DATA"), APP_EJAIL;
    return APP_OK;
}

const char *jail_denied_syscalls_json(void)
{
    return sysf_denied_json();
}

const char *jail_emulated_syscalls_json(void)
{
    return sysf_emulated_json();
}
