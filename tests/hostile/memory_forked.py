# ATTACK: dodge the per-process memory limit (RLIMIT_DATA) by forking: four
# processes each hold ~100 MiB, together far more than the job's limit.
# MUST HAPPEN: the job's memory cgroup (all its processes together) stops it:
# status "memory_limit", host-measured peak within the limit plus slack.
import os
import time

children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        hog = []
        try:
            for _ in range(100):
                hog.append(bytearray(1 << 20))
            time.sleep(30)
        finally:
            os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("all children finished (the cgroup must have stopped them first)")
