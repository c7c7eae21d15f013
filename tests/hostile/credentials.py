# ATTACK: become root or regain privileges: setuid(0), setgid(0),
# setgroups([0]), setresuid/setresgid, setfsuid, capset with every
# capability, raise ambient caps, clear securebits and no_new_privs, raise
# rlimits (NOFILE, NPROC, CPU, DATA) past their hard limits, lower the nice
# value, real-time scheduling (SCHED_FIFO), protect itself from the OOM
# killer (oom_score_adj -1000).  Then it waits so the test can inspect the
# process from the host.
# MUST HAPPEN: every attempt fails; the host sees the process running as the
# slot's unprivileged outside uid, with no capabilities, no_new_privs,
# seccomp mode 2, nice >= 10, SCHED_OTHER and oom_score_adj >= 0.
import ctypes
import errno
import os
import resource

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
report = {}


def attempt(name, fn):
    try:
        r = fn()
        report[name] = "SUCCEEDED" if r is None or r == 0 else f"returned {r}"
    except (OSError, ValueError) as exc:
        report[name] = errno.errorcode.get(getattr(exc, "errno", None) or 0, type(exc).__name__)


def raw(nr, *args):
    def fn():
        ctypes.set_errno(0)
        r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
        if r < 0:
            raise OSError(ctypes.get_errno(), "syscall")
        return r
    return fn


attempt("setuid(0)", lambda: os.setuid(0))
attempt("setgid(0)", lambda: os.setgid(0))
attempt("setgroups([0])", lambda: os.setgroups([0]))
attempt("setresuid(0,0,0)", lambda: os.setresuid(0, 0, 0))
attempt("setresgid(0,0,0)", lambda: os.setresgid(0, 0, 0))
attempt("setreuid(1000,1000)", lambda: os.setreuid(1000, 1000))
attempt("setfsuid(0)", raw(122, 0))
hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
caps = (ctypes.c_uint32 * 6)(*([0xFFFFFFFF] * 6))
attempt("capset(all)", raw(126, ctypes.addressof(hdr), ctypes.addressof(caps)))
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 47, 2, 28, 38
attempt("ambient raise CAP_SYS_ADMIN", raw(157, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 21, 0, 0))
attempt("clear securebits", raw(157, PR_SET_SECUREBITS, 0, 0, 0, 0))
attempt("no_new_privs off", raw(157, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0))
for name in ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_CORE"):
    res = getattr(resource, name)
    attempt(f"raise {name}", lambda r=res: resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
attempt("setpriority -5", lambda: os.setpriority(os.PRIO_PROCESS, 0, -5))
attempt("SCHED_FIFO", lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)))
attempt("SCHED_RR", lambda: os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1)))


def oom_adj():
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("-1000")


attempt("oom_score_adj -1000", oom_adj)
report["uid/gid inside"] = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]
with open("/proc/self/status") as f:
    report["status"] = {k: v.strip() for k, v in (l.split(":", 1) for l in f)
                        if k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")}
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
wait_until_released(data["token"])  # prelude.py
__result__ = report
