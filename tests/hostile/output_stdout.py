# ATTACK: flood stdout without end (64 KiB writes) to exhaust the service's
# memory or the response.
# MUST HAPPEN: the supervisor stops the job once stdout passes 1 MiB: status
# "output_limit", stdout truncated to exactly 1 MiB, metadata.truncated.stdout
# true (stderr false), long before the wall limit.
import sys

block = "x" * 65536
while True:
    sys.stdout.write(block)
