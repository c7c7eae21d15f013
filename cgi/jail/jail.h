/*
 * jail.h - the OS jail around one native execution.
 *
 * A jailed child is cloned by the zygote with new user, PID, mount,
 * network, IPC and UTS namespaces (JAIL_CLONE_FLAGS).  The parent side
 * writes its ID maps (jail_write_id_maps) and moves it into its slot's
 * cgroups; the child then calls jail_enter(), which applies every
 * remaining layer in one fixed, audited order, seccomp last:
 *
 *   1 die with the supervisor          8 rlimits (server maxima)
 *   2 file descriptors: 0 /dev/null,   9 drop privileges: no capabilities,
 *     1/2 output pipes, 3 channel,        locked securebits
 *     4 init status; nothing else     10 no_new_privs
 *   3 inside uid/gid                  11 Landlock scope: no abstract unix
 *   4 cgroup namespace                   socket or signal outside the jail
 *   5 minimal read-only root          12 seccomp-bpf filters
 *     (private inodes: overlays,      13 split: PID 1 stays a small init
 *     own device nodes)                  (reaps, reports the runner's status
 *   6 hostname                           on fd 4), PID 2 runs the job
 *   7 session, signals, umask, cwd
 *
 * The network namespace (the jail's own, or with Landlock scoping one
 * empty namespace the zygote made for all jails) has no interface up; IPC and UTS
 * namespaces need nothing more.  Per-job limits are applied later, when the
 * job arrives, with jail_job_limits() (they can only be lowered).  Nothing
 * here is a Python-level restriction: the child is treated as arbitrary
 * native code.  See docs/design/engine-jail.md.
 */
#ifndef PYSANDBOX_JAIL_H
#define PYSANDBOX_JAIL_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "app.h"
#include "xproto.h"

#define JAIL_CLONE_FLAGS                                                                           \
    (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* The uid and gid the user's code sees inside the jail. */
#define JAIL_INSIDE_ID 1000
/* Default size of the private /tmp, and of /dev/shm. */
#define JAIL_DEFAULT_TMP_MB 64u
#define JAIL_SHM_MB 16u
/* Largest file the job may write (RLIMIT_FSIZE); writes past it fail with EFBIG. */
#define JAIL_MAX_FILE_MB XP_MAX_FILE_MB
/* Inodes in /tmp. */
#define JAIL_TMP_INODES 4096u
/* Stack size of each process (RLIMIT_STACK). */
#define JAIL_STACK_MB XP_STACK_MB

typedef struct jail_spec {
    const char *root_dir; /* directory, reachable by every slot uid, to build the root on (its
                           * host contents are hidden); no ',', ':' or '\\' (it is named in
                           * overlay mount options) */
    const char *dev_dir;  /* directory holding this slot's own null, zero, full, random and
                           * urandom nodes (see jail_make_devices), or NULL for the host's */
    int *tid_cache;       /* glibc's cached tid of the main thread, or NULL (see zygote_main.c) */
    bool scope_unix;      /* apply Landlock scoping (needs jail_landlock_abi() >= 6) */
    unsigned tmp_mb;      /* size of /tmp */
    bool mount_proc;      /* mount a fresh procfs (subset=pid) at /proc */
    bool deny_fork;       /* seccomp refuses new processes (no per-jail process limit exists) */
    /* Server maxima applied as hard rlimits before any job exists. */
    unsigned max_cpu_s;   /* RLIMIT_CPU */
    unsigned max_nofile;  /* RLIMIT_NOFILE */
    unsigned max_nproc;   /* RLIMIT_NPROC; 0 = leave unset (shared outside uid) */
    size_t max_data;      /* RLIMIT_DATA in bytes; 0 = unlimited */
} jail_spec;

/* Limits one job asks for; applied in the child with jail_job_limits(). */
typedef struct jail_job {
    unsigned cpu_s;  /* RLIMIT_CPU soft (hard = soft + 1, so SIGXCPU comes first) */
    unsigned nofile; /* RLIMIT_NOFILE */
    unsigned nproc;  /* RLIMIT_NPROC; 0 = leave as is */
    size_t data;     /* RLIMIT_DATA; 0 = leave as is */
    size_t memory;   /* the job's memory limit: the RAM sysinfo() reports in the jail */
} jail_job;

/*
 * Parent side, right after clone: writes "deny" to setgroups, then maps
 * inside JAIL_INSIDE_ID to outside_uid/outside_gid (nothing else is
 * mapped: in particular not root).  Returns APP_OK or APP_EJAIL with err.
 */
APP_MUST_CHECK app_err jail_write_id_maps(pid_t pid, uid_t outside_uid, gid_t outside_gid, char *err,
                           size_t errlen);

/* Zygote side, once at start-up: builds the seccomp filters for spec,
 * reads /etc/ld.so.cache (each jail gets a private copy) and maps the
 * runner's stack, so each child only installs, writes and uses them.
 * Returns APP_OK or APP_EJAIL with err. */
APP_MUST_CHECK app_err jail_prepare(const jail_spec *spec, char *err, size_t errlen);

/* The descriptors a child is given; they become fds 1, 2, 3 and 4. */
typedef struct jail_io {
    int stdout_fd, stderr_fd; /* write ends of the output pipes */
    int channel_fd;           /* the request/result channel */
    int status_fd;            /* write end of the init's status pipe */
} jail_io;

/* What the jail's init writes on fd 4 when the runner ends: its wait
 * status, as waitpid() reports it.  Nothing is written when the init
 * itself is killed (a timeout, the OOM killer, the supervisor). */
#define JAIL_INIT_MAGIC 0x504a4931u /* "PJI1" */
typedef struct jail_init_report {
    uint32_t magic;
    int32_t wait_status;
} jail_init_report;

/* The runner's C stack (the init keeps the original one). */
#define JAIL_RUNNER_STACK_MB JAIL_STACK_MB
/* Tasks the jail uses besides the job's own: the init.  Process limits
 * (RLIMIT_NPROC, the pids cgroup) add it so a job keeps its full count. */
#define JAIL_INIT_TASKS 1u
/* Exit codes of the init when it could not do its job (no report on fd 4). */
#define JAIL_INIT_EXIT_UNFILTERED 118 /* installing its seccomp filters failed */
#define JAIL_INIT_EXIT_LOST 119       /* it has no child left, yet never reaped the runner */
/* Largest /etc/ld.so.cache copied into a jail (Debian's is about 40 KiB). */
#define JAIL_LDSO_CACHE_MAX (4u << 20)

/*
 * Child side: applies layers 1-12 above.  Does not return on success: the
 * calling process stays PID 1 as the init, and a new process (PID 2,
 * sharing its memory) calls runner(arg, NULL) once fully jailed, or
 * runner(arg, message) if its own last step failed, in which case it must
 * report the message and exit without running user code; runner must not
 * return.  Returns APP_EJAIL with the failing step, the source line and
 * strerror(errno) in err (APP_EINTERNAL: jail_prepare() was not called for
 * spec); the caller must then exit without running any user code.
 */
APP_MUST_CHECK app_err jail_enter(const jail_spec *spec, const jail_io *io, void (*runner)(void *, const char *),
                   void *arg, char *err, size_t errlen);

/*
 * Zygote side (root on the host): creates dir (mode 0755) holding fresh
 * character devices null, zero, full, random and urandom with the host's
 * numbers, so a jail bind-mounts inodes no other jail or host process
 * uses (advisory locks and inotify watches on the host's /dev/null would
 * be a channel).  Verifies that dir/null can be opened and written (the
 * filesystem may be mounted nodev).  Returns APP_OK, or APP_EJAIL with
 * err; the caller may then fall back to the host's nodes.
 */
APP_MUST_CHECK app_err jail_make_devices(const char *dir, char *err, size_t errlen);

/* Child side, once the job is known: lowers rlimits to the job's values. */
/* Where the runner's stack is (in use while the runner runs; see pc_apply). */
void jail_runner_stack(uintptr_t *start, uintptr_t *end);

APP_MUST_CHECK app_err jail_job_limits(const jail_job *job, char *err, size_t errlen);

/* The kernel's Landlock ABI version, 0 when Landlock is missing or off.
 * Scoping of abstract unix sockets and signals needs 6. */
int jail_landlock_abi(void);

/* Returns a static JSON array naming the syscalls the filter refuses. */
const char *jail_denied_syscalls_json(void);

/* Returns a static JSON array naming the syscalls the jail answers itself
 * (trapped by the filter, answered with the jail's own view). */
const char *jail_emulated_syscalls_json(void);

#endif
