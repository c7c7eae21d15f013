# ATTACK: block inside C for a very long time without using CPU: libc's
# sleep() via ctypes (no Python signal check can interrupt it), and with
# RLIMIT_CPU useless because no CPU time is spent.
# MUST HAPPEN: status "timeout" at the wall limit (not the CPU limit).
import ctypes

libc = ctypes.CDLL(None)
libc.sleep(3600)
print("slept an hour (it must not)")
