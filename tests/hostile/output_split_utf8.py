# ATTACK: make the 1 MiB stdout cap cut a multi-byte UTF-8 character in half
# (one ASCII byte, then endless 2-byte "é"), hoping for invalid JSON.
# MUST HAPPEN: status "output_limit"; the response is valid JSON; the kept
# stdout is at most 1 MiB of UTF-8 and holds no half character but maybe a
# final U+FFFD.
import os

os.write(1, b"a")
block = "é".encode() * 32768
while True:
    os.write(1, block)
