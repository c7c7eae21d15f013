# ATTACK: survey the host through /proc: list every process, look up the
# host pids of the executor, zygote, FastCGI front and nginx (from `data`),
# and read the host-wide files (/proc/sys, kcore, kallsyms, sysrq-trigger,
# net, mounts of other processes, meminfo).
# MUST HAPPEN: /proc lists only the jail's own processes (the init as PID 1,
# itself as PID 2 and the child it forked); no host pid is visible; host-wide
# files are absent (procfs mounted with subset=pid).
import os
import time

child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
report = {
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "child": child,
    "proc_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "proc_entries": sorted(p for p in os.listdir("/proc") if not p.isdigit()),
    "host_pids_visible": [p for p in data["host_pids"] if os.path.exists(f"/proc/{p}")
                          and p not in (1, os.getpid(), child)],
    "host_files": {},
}
for name in ("sys/kernel/core_pattern", "kcore", "kallsyms", "sysrq-trigger", "net/tcp", "meminfo",
             "modules", "keys", "sys/kernel/hostname", "1/root/etc", "mounts"):
    path = "/proc/" + name
    try:
        if os.path.isdir(path):
            report["host_files"][name] = sorted(os.listdir(path))[:20]
        else:
            with open(path, "rb") as f:
                report["host_files"][name] = f.read(200).decode("utf-8", "replace")
    except OSError as exc:
        report["host_files"][name] = type(exc).__name__
os.kill(child, 9)
os.waitpid(child, 0)
print(report)
__result__ = report
