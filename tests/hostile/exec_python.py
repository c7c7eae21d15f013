# ATTACK: start programs the Python way: os.system, subprocess.run of the
# dynamic loader, os.execv, os.posix_spawn, pty.spawn and os.openpty,
# multiprocessing's "spawn" start method (which re-executes sys.executable).
# MUST HAPPEN: each one fails with a PermissionError saying that running
# other programs is not available in the sandbox (os.openpty: no /dev/ptmx),
# nothing is executed (no "ld.so --version" banner in the output), the job
# ends normally.
import multiprocessing
import os
import pty
import subprocess

LDSO = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
report = {}


def attempt(name, fn):
    try:
        report[name] = f"returned {fn()!r}"
    except BaseException as exc:  # multiprocessing may raise odd types
        report[name] = f"{type(exc).__name__}: {exc}"


attempt("os.system", lambda: os.system(LDSO + " --version"))
attempt("subprocess.run", lambda: subprocess.run([LDSO, "--version"], capture_output=True).returncode)
attempt("subprocess shell", lambda: subprocess.run("echo hi", shell=True).returncode)
attempt("os.posix_spawn", lambda: os.waitpid(os.posix_spawn(LDSO, [LDSO, "--version"], {}), 0))
attempt("os.openpty", os.openpty)
attempt("pty.spawn", lambda: pty.spawn([LDSO, "--version"]))


def spawn_process():
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=print, args=("spawned child ran (it must not)",))
    p.start()
    p.join(5)
    return p.exitcode


attempt("multiprocessing spawn", spawn_process)
attempt("os.execv", lambda: os.execv(LDSO, [LDSO, "--version"]))
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
__result__ = report
