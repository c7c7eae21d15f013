# ATTACK: call every syscall the engine says it denies, directly by number
# through ctypes' syscall() (the numbers come from the host's
# <asm/unistd_64.h> in `data["syscalls"]`), with all-zero arguments; plus a
# syscall number no kernel knows, and clone3 (whose flags seccomp cannot
# inspect).
# MUST HAPPEN: every listed syscall fails with EPERM from the filter (none
# reaches the kernel); unknown numbers and clone3 fail with ENOSYS; the job
# is not killed and ends normally.
import ctypes
import errno

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}
for name, nr in sorted(data["syscalls"].items()):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *([ctypes.c_long(0)] * 6))
    results[name] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())
for label, nr in (("unknown 1000", 1000), ("unknown 400", 400), ("clone3", 435)):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *([ctypes.c_long(0)] * 6))
    results[label] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())
print(" ".join(f"{k}={v}" for k, v in sorted(results.items())))
__result__ = results
