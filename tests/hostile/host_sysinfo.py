# ATTACK: read the host through sysinfo(2), which no namespace covers: its
# uptime, load averages, RAM and the number of processes on the whole host
# (a number other jobs change: a channel between concurrent jobs).  Then
# hand it a pointer it may not write (NULL, a read-only page) and call it
# from a second thread.
# MUST HAPPEN: the jail answers for itself: uptime since the jail was made,
# loads 0, one process, the job's memory limit as total RAM (what glibc's
# sysconf(_SC_PHYS_PAGES) and os.sysconf report too), free RAM below it;
# bad pointers give EFAULT and the program goes on.
import ctypes
import errno
import mmap
import os
import threading


class Sysinfo(ctypes.Structure):
    _fields_ = [("uptime", ctypes.c_long), ("loads", ctypes.c_ulong * 3),
                ("totalram", ctypes.c_ulong), ("freeram", ctypes.c_ulong),
                ("sharedram", ctypes.c_ulong), ("bufferram", ctypes.c_ulong),
                ("totalswap", ctypes.c_ulong), ("freeswap", ctypes.c_ulong),
                ("procs", ctypes.c_ushort), ("pad", ctypes.c_ushort),
                ("totalhigh", ctypes.c_ulong), ("freehigh", ctypes.c_ulong),
                ("mem_unit", ctypes.c_uint), ("_f", ctypes.c_char * 8)]


libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_sysinfo = 99


def call(address):
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(SYS_sysinfo), ctypes.c_void_p(address))
    return "ok" if rc == 0 else errno.errorcode.get(ctypes.get_errno(), str(rc))


info = Sysinfo()
report = {"call": call(ctypes.addressof(info))}
report.update(uptime=info.uptime, loads=list(info.loads), totalram=info.totalram * info.mem_unit,
              freeram=info.freeram * info.mem_unit, procs=info.procs,
              totalswap=info.totalswap)
report["sysconf_bytes"] = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
report["null"] = call(0)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
read_only = libc.mmap(None, mmap.PAGESIZE, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
report["read_only"] = call(read_only)
report["unmapped"] = call(4096)  # page 1 is never mapped
threaded = {}
other = Sysinfo()  # kept alive: the kernel (or the jail) writes into it
t = threading.Thread(target=lambda: threaded.update(call=call(ctypes.addressof(other)),
                                                     procs=other.procs))
t.start()
t.join()
report["thread"] = threaded
report["still_running"] = True
print(report)
__result__ = report
