# ATTACK: corrupt the result channel (fd 3, a unix socket to the supervisor):
# write garbage, including a length prefix that claims 4 GiB, then let the
# harness append its real result frame after it.
# MUST HAPPEN: the supervisor rejects the stream as malformed: status "error"
# with an EngineError, the job's own stdout is still returned, and the
# service keeps working (same executor, health ok).
import os

os.write(3, b"\xff\xff\xff\xff" + b"garbage\x00\xfe{\"status\":" * 100)
print("garbage written")
