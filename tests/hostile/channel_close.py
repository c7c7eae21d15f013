# ATTACK: close the result channel (fd 3) and the output pipes, so the
# supervisor never gets a result, then keep running briefly.
# MUST HAPPEN: the job ends without a result: status "error" (the
# interpreter exited before producing a result), not a hang until the wall
# limit and not a crash of the service.
import os
import time

os.close(3)
time.sleep(0.2)
os.close(1)
