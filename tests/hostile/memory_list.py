# ATTACK: memory bomb with plain Python objects: grow a list of 1 MiB
# bytearrays (touched, so really resident) forever.
# MUST HAPPEN: the job is stopped at its memory limit: status "memory_limit"
# (RLIMIT_DATA -> MemoryError, or the cgroup's OOM kill), the peak memory the
# host measured stays within the limit plus the jail's slack.
hog = []
while True:
    hog.append(bytearray(1 << 20))
