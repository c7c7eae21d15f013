# ATTACK: bypass the seccomp filter through the x32 ABI: the same syscall
# numbers with bit 30 set (nr | 0x40000000) reach a second syscall table on
# x86-64 kernels with x32 support.  Here: getpid via the x32 table.
# MUST HAPPEN: the filter kills the whole process (SECCOMP_RET_KILL_PROCESS):
# status "killed" with SIGSYS, nothing printed after "before".
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
print("before", flush=True)
r = libc.syscall(ctypes.c_long(39 | 0x40000000))
print(f"x32 getpid returned {r} (it must not return)", flush=True)
