# ATTACK: fill every writable filesystem: /tmp (64 MB tmpfs) with data until
# ENOSPC, /tmp's inodes until ENOSPC, /dev/shm (16 MB) until ENOSPC, and
# one file past RLIMIT_FSIZE (16 MiB) -> EFBIG.
# MUST HAPPEN: each write fails with the right errno while the job keeps
# running and answers normally (status "ok"); tmpfs pages are charged to the
# job's memory cgroup; nothing appears on the host's /tmp.
import errno
import os

chunk = b"\xa5" * (1 << 20)
report = {}


def fill(directory, prefix, per_file_mb):
    written = 0
    for i in range(1000):
        try:
            with open(os.path.join(directory, f"{prefix}{i}"), "wb") as f:
                for _ in range(per_file_mb):
                    f.write(chunk)
                    f.flush()
                    written += 1
        except OSError as exc:
            return written, errno.errorcode.get(exc.errno, str(exc.errno))
    return written, None


report["tmp_mb"], report["tmp_errno"] = fill("/tmp", "fill", 8)
report["shm_mb"], report["shm_errno"] = fill("/dev/shm", "fill", 4)
for name in os.listdir("/tmp"):
    os.unlink(os.path.join("/tmp", name))
try:
    with open("/tmp/big", "wb") as f:
        for _ in range(17):
            f.write(chunk)
            f.flush()
    report["fsize_errno"] = None
except OSError as exc:
    report["fsize_errno"] = errno.errorcode.get(exc.errno)
report["big_file_mb"] = os.path.getsize("/tmp/big") / (1 << 20)
os.unlink("/tmp/big")
os.mkdir("/tmp/inodes")
made = 0
try:
    for i in range(100000):
        open(f"/tmp/inodes/{i}", "wb").close()
        made += 1
    report["inode_errno"] = None
except OSError as exc:
    report["inode_errno"] = errno.errorcode.get(exc.errno)
report["inodes_made"] = made
print("still answering after filling /tmp")
__result__ = report
