# ATTACK: flood the result channel (fd 3) with 64 MiB to exhaust the
# supervisor's memory.
# MUST HAPPEN: the supervisor stops reading at its result cap and kills the
# job: status "output_limit" (ResultTooLarge), metadata.truncated.result true,
# the service keeps working.
import os

block = b"\x00" * (1 << 20)
for _ in range(64):
    os.write(3, block)
print("flood finished (the supervisor must have stopped it)")
