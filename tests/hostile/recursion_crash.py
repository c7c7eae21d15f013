# ATTACK: crash the interpreter: lift the recursion limit and recurse through
# C code (list(map(...)) at each level) until the 8 MiB C stack overflows.
# MUST HAPPEN: the jailed interpreter dies of SIGSEGV; the answer says status
# "killed" (a Crash, signal SIGSEGV) and the service, the zygote and the pool
# are unaffected.
import sys

sys.setrecursionlimit(10**6)


def down(n):
    return list(map(down, [n + 1]))


print("recursing", flush=True)
down(0)
