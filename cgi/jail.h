/*
 * jail.h - the OS jail around one native execution.
 *
 * A jailed child is cloned by the zygote with new user, PID, mount,
 * network, IPC and UTS namespaces (JAIL_CLONE_FLAGS).  The parent side
 * writes its ID maps (jail_write_id_maps); the child then calls
 * jail_enter(), which applies every remaining layer in one fixed, audited
 * order, seccomp last:
 *
 *   1 die with the supervisor         6 session, signals, umask, cwd
 *   2 file descriptors: 0 /dev/null,  7 rlimits (server maxima)
 *     1/2 output pipes, 3 channel;    8 drop privileges: inside uid/gid,
 *     everything else closed             no capabilities, locked securebits
 *   3 inside uid/gid                  9 no_new_privs
 *   4 minimal read-only root          10 seccomp-bpf filter
 *   5 hostname
 *
 * The network namespace is left without any interface up; IPC and UTS
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
#include <sys/types.h>

#include "app.h"

#define JAIL_CLONE_FLAGS                                                                           \
    (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* The uid and gid the user's code sees inside the jail. */
#define JAIL_INSIDE_ID 1000
/* Default size of the private /tmp, and of /dev/shm. */
#define JAIL_DEFAULT_TMP_MB 64u
#define JAIL_SHM_MB 16u
/* Largest file the job may write (RLIMIT_FSIZE); writes past it fail with EFBIG. */
#define JAIL_MAX_FILE_MB 16u
/* Inodes in /tmp. */
#define JAIL_TMP_INODES 4096u
/* Stack size of each process (RLIMIT_STACK). */
#define JAIL_STACK_MB 8u

typedef struct jail_spec {
    const char *root_dir; /* empty directory, reachable by every slot uid, to build the root on */
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
} jail_job;

/*
 * Parent side, right after clone: writes "deny" to setgroups, then maps
 * inside JAIL_INSIDE_ID to outside_uid/outside_gid (nothing else is
 * mapped: in particular not root).  Returns APP_OK or APP_EJAIL with err.
 */
app_err jail_write_id_maps(pid_t pid, uid_t outside_uid, gid_t outside_gid, char *err,
                           size_t errlen);

/* Zygote side, once at start-up: builds the seccomp filter for spec so each
 * child only installs it.  Returns APP_OK or APP_EJAIL with err. */
app_err jail_prepare(const jail_spec *spec, char *err, size_t errlen);

/*
 * Child side: applies layers 1-10 above.  stdout_fd, stderr_fd and
 * channel_fd become fds 1, 2 and 3; every other descriptor is closed.
 * Returns APP_OK with the process fully jailed, or APP_EJAIL with the
 * failing step, the source line and strerror(errno) in err; the caller
 * must then exit without running any user code.
 */
app_err jail_enter(const jail_spec *spec, int stdout_fd, int stderr_fd, int channel_fd, char *err,
                   size_t errlen);

/* Child side, once the job is known: lowers rlimits to the job's values. */
app_err jail_job_limits(const jail_job *job, char *err, size_t errlen);

/* Returns a static JSON array naming the syscalls the filter refuses. */
const char *jail_denied_syscalls_json(void);

#endif
