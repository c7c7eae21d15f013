# ATTACK: memory bomb through numpy: one huge allocation (16 GiB) and then a
# stepwise growth of touched arrays.
# MUST HAPPEN: status "memory_limit"; numpy's MemoryError comes from
# RLIMIT_DATA or the cgroup kills the job; the host's memory is not exhausted.
import numpy as np

try:
    huge = np.ones(1 << 31, dtype=np.float64)  # 16 GiB
    print("16 GiB allocated (it must not)")
except MemoryError as exc:
    print("huge allocation refused:", type(exc).__name__)
arrays = []
while True:
    arrays.append(np.ones(16 << 20 >> 3))  # 16 MiB each, written
