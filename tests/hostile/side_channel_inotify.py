# ATTACK: watch files the jail shares with the host (/dev/null, files of the
# read-only /usr/lib and /usr/share binds, /etc/ld.so.cache) with inotify,
# to observe what the host and other jobs do (which modules they import,
# when they run) or to receive signals from another job.
# The job sets the watches, tells the host it is ready, and after "go"
# reports the events it received; the test opens those files on the host in
# between.
# MUST HAPPEN: no event caused by the host reaches the job (0 events), or
# inotify is refused altogether.
import ctypes
import errno
import os

libc = ctypes.CDLL(None, use_errno=True)
FILES = [b"/dev/null", b"/usr/share/zoneinfo/Etc/UTC", b"/usr/lib/python3.11/this.py", b"/etc/ld.so.cache"]
report = {}
fd = libc.inotify_init1(os.O_NONBLOCK)
report["inotify_init1"] = "ok" if fd >= 0 else errno.errorcode.get(ctypes.get_errno())
watches = {}
if fd >= 0:
    for path in FILES:
        wd = libc.inotify_add_watch(fd, path, 0xFFF)  # IN_ALL_EVENTS
        if wd >= 0:
            watches[wd] = path.decode()
        else:
            report[f"watch {path.decode()}"] = errno.errorcode.get(ctypes.get_errno())
wait_until_released(data["token"])  # prelude.py
events = {}
if fd >= 0:
    try:
        buf = os.read(fd, 65536)
    except BlockingIOError:
        buf = b""
    pos = 0
    while pos + 16 <= len(buf):
        wd, mask, _, length = (int.from_bytes(buf[pos + i:pos + i + 4], "little") for i in (0, 4, 8, 12))
        events[watches.get(wd, str(wd))] = events.get(watches.get(wd, str(wd)), 0) + 1
        pos += 16 + length
report["watches"] = sorted(watches.values())
report["events"] = events
print(report)
__result__ = report
