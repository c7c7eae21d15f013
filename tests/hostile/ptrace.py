# ATTACK: inspect or control other processes: ptrace(TRACEME), PTRACE_ATTACH
# and PTRACE_SEIZE on its own child and on the executor's host pid (from
# `data`), process_vm_readv / process_vm_writev, pidfd_getfd, kcmp (all via
# ctypes, so no Python-level guard is involved).
# MUST HAPPEN: every call fails with EPERM (seccomp); the child is never
# traced (TracerPid 0).
import ctypes
import errno
import os
import signal
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
report = {}


def sc(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    report[name] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())


PTRACE_TRACEME, PTRACE_PEEKDATA, PTRACE_ATTACH, PTRACE_SEIZE = 0, 2, 16, 0x4206
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
ctypes.set_errno(0)
r = libc.ptrace(ctypes.c_long(PTRACE_ATTACH), ctypes.c_long(child), None, None)
report["libc.ptrace(ATTACH, child)"] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())
sc("ptrace(TRACEME)", 101, PTRACE_TRACEME, 0, 0, 0)
sc("ptrace(SEIZE, child)", 101, PTRACE_SEIZE, child, 0, 0)
sc("ptrace(PEEKDATA, child)", 101, PTRACE_PEEKDATA, child, 0, 0)
sc("ptrace(ATTACH, executor host pid)", 101, PTRACE_ATTACH, data["executor_pid"], 0, 0)
buf = ctypes.create_string_buffer(64)
iov = (ctypes.c_void_p * 2)(ctypes.cast(buf, ctypes.c_void_p), 64)
sc("process_vm_readv(child)", 310, child, ctypes.addressof(iov), 1, ctypes.addressof(iov), 1, 0)
sc("process_vm_writev(child)", 311, child, ctypes.addressof(iov), 1, ctypes.addressof(iov), 1, 0)
pidfd = libc.syscall(ctypes.c_long(434), ctypes.c_long(child), ctypes.c_long(0))  # pidfd_open
report["pidfd_open(child) (allowed)"] = "SUCCEEDED" if pidfd >= 0 else errno.errorcode.get(ctypes.get_errno())
sc("pidfd_getfd(child, 3)", 438, pidfd, 3, 0)
sc("kcmp(self, child)", 312, os.getpid(), child, 0, 0, 0)
with open(f"/proc/{child}/status") as f:
    report["child TracerPid"] = [l.split()[1] for l in f if l.startswith("TracerPid")][0]
os.kill(child, signal.SIGKILL)
os.waitpid(child, 0)
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
__result__ = report
