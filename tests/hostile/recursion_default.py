# ATTACK: unbounded recursion with the default recursion limit.
# MUST HAPPEN: Python raises RecursionError, which is reported as an ordinary
# error (status "error", error.type "RecursionError", with a traceback);
# the interpreter does not crash.
def down(n):
    return down(n + 1) + 1


down(0)
