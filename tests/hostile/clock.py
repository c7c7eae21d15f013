# ATTACK: move the host's clock: clock_settime(CLOCK_REALTIME, +1 h),
# settimeofday(-1 day), adjtimex with a huge offset, clock_adjtime, and
# stime-like variants through ctypes.
# MUST HAPPEN: every call fails with EPERM; the test checks on the host that
# the wall clock did not jump relative to the monotonic clock.
import ctypes
import errno
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}


def sc(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    results[name] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())


now = int(time.time())
ts = (ctypes.c_long * 2)(now + 3600, 0)
sc("clock_settime(REALTIME, +1h)", 227, 0, ctypes.addressof(ts))
tv = (ctypes.c_long * 2)(now - 86400, 0)
sc("settimeofday(-1 day)", 164, ctypes.addressof(tv), 0)
# struct timex: modes ADJ_OFFSET|ADJ_SETOFFSET (0x0101), huge offset
timex = (ctypes.c_long * 26)()
ctypes.memmove(timex, (ctypes.c_uint32 * 1)(0x0101), 4)
timex[1] = 10**6
timex[8] = now + 7200  # .time.tv_sec for ADJ_SETOFFSET
sc("adjtimex(+offset)", 159, ctypes.addressof(timex))
sc("clock_adjtime(REALTIME)", 305, 0, ctypes.addressof(timex))
sc("clock_settime(TAI)", 227, 11, ctypes.addressof(ts))
results["time after"] = abs(time.time() - now) < 60
print("\n".join(f"{k}: {v}" for k, v in sorted(results.items())))
__result__ = results
