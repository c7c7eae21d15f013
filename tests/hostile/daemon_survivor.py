# ATTACK: leave a daemon behind: double fork + setsid, the grandchild ignores
# SIGHUP/SIGTERM, keeps the output pipes open and sleeps for a minute, while
# the job itself returns at once.
# MUST HAPPEN: the job finishes promptly with status "ok" (completion is the
# exit of the jail's PID 1, not EOF on the pipes), and the daemon dies with
# the job's PID namespace: no survivor on the host afterwards.
import os
import signal
import time

pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        print("daemon still alive after a minute (it must not be)", flush=True)
        os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
print("daemon started")
