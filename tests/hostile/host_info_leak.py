# ATTACK: learn about the host from the few per-process files /proc still
# shows: /proc/self/cgroup (host cgroup paths, with the executor's host pid
# in their names), /proc/self/cmdline and /proc/self/environ (inherited from
# the zygote: host paths of the repository and of the service's run folder),
# /proc/self/mountinfo, the links of its descriptors 0-3 and uname.
# MUST HAPPEN: nothing names a host pid or a host path: with a cgroup
# namespace every hierarchy reads "/"; the command line and environment hold
# no host path.
import ctypes
import os

ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, so /proc/self/environ is readable
report = {}
for name in ("cgroup", "mountinfo", "cmdline", "environ"):
    with open(f"/proc/self/{name}", "rb") as f:
        report[name] = f.read().decode("utf-8", "replace")
report["uname"] = list(os.uname())
report["fd_links"] = {str(fd): os.readlink(f"/proc/self/fd/{fd}") for fd in range(4)}
print(report["cgroup"])
__result__ = report
