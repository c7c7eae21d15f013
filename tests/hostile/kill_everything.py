# ATTACK: kill whatever can be reached: kill(-1, SIGKILL) (every process the
# caller may signal), its process group, its parent, PID 1, and the host pids
# of the executor, the zygote, the FastCGI front and nginx (from `data`), with
# SIGKILL, SIGSTOP and SIGTERM; also pidfd_open/pidfd_send_signal on them.
# MUST HAPPEN: none of the host processes is affected (the test checks they
# are alive with the same start time and the service still answers); inside
# the jail the host pids do not exist (ESRCH); the parent is the jail's init
# (PID 1), which ignores the signals (a namespace's init only gets signals
# it handles).  The group signal is SIGTERM with a handler, so the job
# survives its own process group being signalled and can report.
import ctypes
import errno
import os
import signal

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
report = {"ppid": os.getppid()}


def attempt(name, fn):
    try:
        fn()
        report[name] = "delivered"
    except OSError as exc:
        report[name] = errno.errorcode.get(exc.errno)


terms = []
signal.signal(signal.SIGTERM, lambda *_: terms.append(1))
attempt("kill(-1, SIGKILL)", lambda: os.kill(-1, signal.SIGKILL))
attempt("killpg(0, SIGTERM)", lambda: os.killpg(0, signal.SIGTERM))
attempt("kill(ppid, SIGKILL)", lambda: os.kill(os.getppid(), signal.SIGKILL))
report["SIGTERMs received"] = len(terms)
for name, pid in sorted(data["host_pids"].items()):
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
        attempt(f"kill({name} {pid}, {sig.name})", lambda p=pid, s=sig: os.kill(p, s))
    ctypes.set_errno(0)
    pidfd = libc.syscall(ctypes.c_long(434), ctypes.c_long(pid), ctypes.c_long(0))
    report[f"pidfd_open({name})"] = "SUCCEEDED" if pidfd >= 0 else errno.errorcode.get(ctypes.get_errno())
    if pidfd >= 0:
        r = libc.syscall(ctypes.c_long(424), ctypes.c_long(pidfd), ctypes.c_long(9), None, ctypes.c_long(0))
        report[f"pidfd_send_signal({name})"] = "delivered" if r == 0 else errno.errorcode.get(ctypes.get_errno())
attempt("kill(1, SIGKILL) (the init ignores it)", lambda: os.kill(1, signal.SIGKILL))
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
__result__ = report
