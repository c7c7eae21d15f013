# ATTACK: burn every core at once from several threads that release the GIL
# (numpy sorts), so CPU time grows faster than wall time.
# MUST HAPPEN: the job is stopped by its limits (status "timeout": wall clock
# or the per-process RLIMIT_CPU backstop, whichever comes first); no thread
# survives and the service keeps answering.
import threading

import numpy as np


def burn():
    a = np.random.default_rng(1).random(2_000_000)
    while True:
        np.sort(a)


for _ in range(4):
    threading.Thread(target=burn, daemon=True).start()
burn()
