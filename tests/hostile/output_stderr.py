# ATTACK: flood stderr without end, straight to fd 2 (os.write, no Python
# buffering), while stdout stays small.
# MUST HAPPEN: status "output_limit" with the stderr flag: stderr truncated to
# exactly 1 MiB, metadata.truncated.stderr true, stdout untouched ("start").
import os

print("start", flush=True)
block = b"e" * 65536
while True:
    os.write(2, block)
