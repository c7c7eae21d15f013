# ATTACK: read host secrets through the filesystem: /etc/shadow, /root,
# /home, /var, /run, the repository and its run/ folder, the service's run
# folder and a host canary file (their host paths come in `data`), host
# /etc/passwd, and the environment and command line of PID 1 and of this
# process (after making itself dumpable so /proc/self is readable).
# MUST HAPPEN: none of the host paths exist in the jail; /etc/passwd is the
# synthetic one; the canary's content and the service's secret never appear
# in the answer (checked by the test on the host side).
import ctypes
import errno
import os

# Make /proc/self/* (and so /proc/1/*: the job is PID 1) readable to ourselves.
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
report = {"readable": {}, "errors": {}}


def try_read(path):
    try:
        if os.path.isdir(path):
            report["readable"][path] = sorted(os.listdir(path))[:50]
        else:
            with open(path, "rb") as f:
                report["readable"][path] = f.read(65536).decode("utf-8", "replace")
    except OSError as exc:
        report["errors"][path] = errno.errorcode.get(exc.errno, str(exc.errno))


for path in ["/etc/shadow", "/etc/gshadow", "/root", "/home", "/var", "/run", "/srv", "/work",
             "/etc/ssh", "/etc/passwd", "/etc/group", "/etc/hostname", "/proc/1/environ",
             "/proc/self/environ", "/proc/1/cmdline", "/proc/self/cmdline"] + data["host_paths"]:
    try_read(path)
print(sorted(report["errors"].items()))
__result__ = report
