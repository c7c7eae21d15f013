# ATTACK: an infinite pure-Python loop that never returns and never prints.
# MUST HAPPEN: the supervisor's wall clock stops it at maxExecutionTime:
#   status "timeout" (TimeoutError), the job's PID namespace is killed, no
#   process is left behind, and other jobs are served while it spins.
while True:
    pass
