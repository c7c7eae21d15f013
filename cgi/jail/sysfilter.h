/*
 * sysfilter.h - which syscalls a jailed job may make, and the one the jail
 * answers itself.
 *
 * Two stacked seccomp-bpf filters (libseccomp, compiled once in the zygote
 * by sysf_build(), installed in each jail by sysf_install() as the last
 * step of jail.c's sequence): an allowlist of every syscall libseccomp
 * knows for the native architecture minus the denied ones (EPERM), with
 * argument rules for clone/socket, and a second filter refusing the
 * terminal-injection ioctls.  sysinfo(2), which no namespace covers, is
 * trapped and answered by a SIGSYS handler with the jail's own view.
 * The filters live in static storage for the life of the process.
 */
#ifndef PYSANDBOX_SYSFILTER_H
#define PYSANDBOX_SYSFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* Builds both filters (once per process; deny_fork: fork/vfork and plain
 * clone refused too).  APP_OK, or APP_EJAIL with err. */
APP_MUST_CHECK app_err sysf_build(bool deny_fork, char *err, size_t errlen);

/* Whether sysf_build() ran for this deny_fork. */
bool sysf_built_for(bool deny_fork);

/* Installs the sysinfo handler and both filters in this process.  Returns
 * false with *what naming the step (errno says why). */
bool sysf_install(const char **what);

/* The job's memory limit: the RAM sysinfo() reports in this jail. */
void sysf_job_memory(size_t bytes);

/* Static JSON arrays: the syscalls refused, the syscalls answered by the jail. */
const char *sysf_denied_json(void);
const char *sysf_emulated_json(void);

#endif
