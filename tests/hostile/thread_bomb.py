# ATTACK: thread bomb: start threads until the system refuses.
# MUST HAPPEN: thread creation fails (RuntimeError from EAGAIN) before 10
# tasks exist; the job then finishes normally (status "ok") and its
# sleeping threads do not keep it alive.
import threading
import time

started = 0
failure = None
try:
    for _ in range(10000):
        threading.Thread(target=time.sleep, args=(60,), daemon=False).start()
        started += 1
except RuntimeError as exc:
    failure = str(exc)
print(f"threads started: {started}; failure: {failure}")
__result__ = {"started": started, "failure": failure}
