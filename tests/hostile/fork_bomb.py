# ATTACK: the classic fork bomb: every process forks forever and ignores
# the errors (EAGAIN) it gets once the limit is reached.
# MUST HAPPEN: the pids cgroup / RLIMIT_NPROC keep the job at no more than
# 10 tasks (host-side count), the wall clock stops it ("timeout"), every
# process dies with the job's PID namespace, and other jobs are served
# meanwhile.
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
