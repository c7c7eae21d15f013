# ATTACK: use advisory locks on files every jail reads from the host (the
# runtime under /usr/lib, /etc/ld.so.cache, /dev/null: with bind mounts they
# would be the host's own inodes) as a channel between concurrent jobs, and
# to interfere with host processes.
# data["role"] == "hold": take exclusive flock()s and a POSIX read lock,
# then wait until the host says "go".
# data["role"] == "probe": try the same locks without blocking and report
# whether someone else holds them.
# MUST HAPPEN: a job's locks are invisible to other jobs and to the host
# (the prober gets every lock; the host's own flock succeeds).
import errno
import fcntl
import os

FILES = ["/usr/lib/python3.11/this.py", "/etc/ld.so.cache", "/dev/null"]
report = {}
handles = [open(p, "rb") for p in FILES]
for path, f in zip(FILES, handles):
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        report[f"flock {path}"] = "got it"
    except OSError as exc:
        report[f"flock {path}"] = errno.errorcode.get(exc.errno)
try:
    fcntl.lockf(handles[0], fcntl.LOCK_SH | fcntl.LOCK_NB)
    report["posix read lock this.py"] = "got it"
except OSError as exc:
    report["posix read lock this.py"] = errno.errorcode.get(exc.errno)
if data["role"] == "hold":
    wait_until_released(data["token"])  # prelude.py
print(report)
__result__ = report
