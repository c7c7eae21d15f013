# ATTACK: run another program through libc via ctypes: system(), execv() of
# the dynamic loader (which is executable and present in the read-only
# /usr/lib, so only seccomp stands in the way), a raw execve syscall, and
# execveat/fexecve of a memfd copy of the loader.  If any exec worked,
# "ld.so --version" would print its banner ("stable release version").
# MUST HAPPEN: every exec fails (EPERM from seccomp; system() reports 127),
# the job itself carries on, and no banner appears in the output.
import ctypes
import errno
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
LDSO = b"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
report = {"loader present": os.access(LDSO, os.X_OK)}
report["system()"] = libc.system(LDSO + b" --version")
argv = (ctypes.c_char_p * 3)(LDSO, b"--version", None)
envp = (ctypes.c_char_p * 1)(None)
ctypes.set_errno(0)
libc.execv(LDSO, argv)
report["execv(loader)"] = errno.errorcode.get(ctypes.get_errno())
ctypes.set_errno(0)
libc.syscall(ctypes.c_long(59), LDSO, argv, envp)
report["syscall(execve)"] = errno.errorcode.get(ctypes.get_errno())
memfd = os.memfd_create("x")
with open(LDSO, "rb") as f:
    os.write(memfd, f.read())
ctypes.set_errno(0)
libc.syscall(ctypes.c_long(322), memfd, b"", argv, envp, ctypes.c_long(0x1000))  # AT_EMPTY_PATH
report["execveat(memfd)"] = errno.errorcode.get(ctypes.get_errno())
ctypes.set_errno(0)
libc.fexecve(memfd, argv, envp)
report["fexecve(memfd)"] = errno.errorcode.get(ctypes.get_errno())
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
__result__ = report
