# ATTACK: inject keystrokes into a terminal with ioctl(TIOCSTI) (and
# TIOCLINUX) on every descriptor, also with garbage in the upper 32 bits of
# the command (the kernel only looks at the lower 32); and look for a
# terminal to attack at all (/dev/tty, /dev/ptmx, /dev/console, /dev/pts).
# MUST HAPPEN: the filter refuses TIOCSTI/TIOCLINUX with EPERM whatever the
# descriptor (a plain pipe would have said ENOTTY); no terminal device exists
# in the jail; the job has no controlling terminal.
import ctypes
import errno
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
TIOCSTI, TIOCLINUX, TIOCGWINSZ = 0x5412, 0x541C, 0x5413
report = {}
char = ctypes.c_char(b"x")
for fd in (0, 1, 2, 3):
    for name, cmd in (("TIOCSTI", TIOCSTI), ("TIOCSTI high bits", TIOCSTI | (1 << 32)),
                      ("TIOCLINUX", TIOCLINUX), ("TIOCGWINSZ (control)", TIOCGWINSZ)):
        ctypes.set_errno(0)
        r = libc.syscall(ctypes.c_long(16), ctypes.c_long(fd), ctypes.c_ulong(cmd), ctypes.byref(char))
        report[f"fd {fd} {name}"] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())
for path in ("/dev/tty", "/dev/ptmx", "/dev/console", "/dev/pts", "/dev/tty0", "/dev/vcs"):
    report[path] = os.path.exists(path)
try:
    os.open("/dev/tty", os.O_RDWR)
    report["open /dev/tty"] = "SUCCEEDED"
except OSError as exc:
    report["open /dev/tty"] = errno.errorcode.get(exc.errno)
print(report)
__result__ = report
