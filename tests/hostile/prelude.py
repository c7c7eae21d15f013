# PRELUDE, not an attack: shared code of the hostile programs.  The programs
# run in the jail as one code string, with no import path to this folder, so
# tests/http/test_hostile.py (`program(name)`) prepends this file's text to
# every program that calls one of its functions.  It defines nothing but
# functions, and their imports are local, so the program's globals only gain
# the functions' names.


def wait_until_released(token, seconds=30):
    """Readiness handshake: tells the host that this job is ready for a
    host-side inspection and waits until the host releases it.

    Creates /tmp/<token>.ready (closed, then renamed into place, so the host
    never sees it while it is an open descriptor), then polls every 10 ms
    until the file is gone: the test finds the job with
    find_paused_jail(token), inspects it, and release(pid, token) removes
    the file.  Gives up after `seconds`, so a job nobody releases still ends.  Needs one free descriptor (for the moment of the create)."""
    import os
    import time

    ready = f"/tmp/{token}.ready"
    open(f"/tmp/{token}.tmp", "w").close()
    os.rename(f"/tmp/{token}.tmp", ready)
    deadline = time.monotonic() + seconds
    while os.path.exists(ready) and time.monotonic() < deadline:
        time.sleep(0.01)
