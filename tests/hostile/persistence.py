# ATTACK: leave something behind for the next jobs (possibly another user's)
# to find: files in /tmp and /dev/shm, a SysV shared-memory segment and
# semaphore set under a known key.  Run once with data {"mode": "plant"},
# then several times with {"mode": "look"}, so that later jobs land on the
# same slots (same outside uid) as the planting one.
# MUST HAPPEN: every job starts from an empty /tmp and /dev/shm and an empty
# IPC namespace: no "look" job finds any trace.
import ctypes
import os
import zlib

libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
token = data["token"]
key = zlib.crc32(token.encode()) & 0x7FFFFFFF
if data["mode"] == "plant":
    for d in ("/tmp", "/dev/shm"):
        with open(f"{d}/{token}", "w") as f:
            f.write(token)
    print("planted", libc.shmget(key, 4096, IPC_CREAT | 0o666) >= 0,
          libc.semget(key, 1, IPC_CREAT | 0o666) >= 0)
__result__ = {
    "tmp": sorted(os.listdir("/tmp")),
    "shm": sorted(os.listdir("/dev/shm")),
    "sysv_shm": libc.shmget(key, 0, 0) >= 0,
    "sysv_sem": libc.semget(key, 0, 0) >= 0,
}
