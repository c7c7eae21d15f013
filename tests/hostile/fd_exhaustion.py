# ATTACK: exhaust file descriptors (open /dev/null and socketpairs until
# refused), try to raise RLIMIT_NOFILE past its hard limit, then wait so the
# test can count the process's descriptors from the host.
# MUST HAPPEN: open fails with EMFILE once 100 descriptors are open
# (0-3 included); setrlimit is refused; the job still finishes normally.
import errno
import os
import resource
import socket

held = []
failure = None
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError as exc:
    failure = errno.errorcode.get(exc.errno)
opened = len(held)
for fd in held[-10:]:
    os.close(fd)
del held[-10:]
pairs = 0
try:
    while True:
        held.extend(s.detach() for s in socket.socketpair())
        pairs += 1
except OSError as exc:
    pair_failure = errno.errorcode.get(exc.errno)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    raise_result = "SUCCEEDED"
except ValueError as exc:
    raise_result = f"ValueError: {exc}"
report = {"opened": opened, "failure": failure, "socketpairs": pairs, "pair_failure": pair_failure,
          "raise_nofile": raise_result, "limit": resource.getrlimit(resource.RLIMIT_NOFILE)}
print(report, flush=True)
os.close(held.pop())  # one free descriptor for the ready file
wait_until_released(data["token"])  # prelude.py
__result__ = report
