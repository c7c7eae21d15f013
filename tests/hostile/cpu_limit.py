# ATTACK: run into the CPU-time limit (RLIMIT_CPU) instead of the wall
# clock: lower the soft limit to 1 s and the hard one to 2 s (a job may
# lower its limits) and burn CPU inside C (regex backtracking).
# MUST HAPPEN: the kernel stops it after 1-2 s of CPU, long before the wall
# limit; the answer is the CPU-limit timeout the engine describes (status
# "timeout", SIGXCPU: "used more CPU time than its limit"), not a crash.
import re
import resource

resource.setrlimit(resource.RLIMIT_CPU, (1, 2))
print("burning", flush=True)
re.match(r"(a+)+$", "a" * 40 + "b")
print("finished (it must not)")
