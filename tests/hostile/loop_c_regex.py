# ATTACK: a CPU-bound loop inside C code that never returns to the
# interpreter's eval loop: catastrophic backtracking in the `re` engine
# (2**40 steps).  A Python-level timeout (signal handler) could not stop it.
# MUST HAPPEN: status "timeout" at the wall limit; the service stays responsive.
import re

re.match(r"(a+)+$", "a" * 40 + "b")
print("regex finished (it must not)")
