# ATTACK: two jobs running at the same time try to see or reach each other.
# Run twice in parallel with data {"me": A, "other": B} and {"me": B, "other": A}.
# Each leaves traces under its own name: a /tmp file, a /dev/shm file, a SysV
# shared-memory segment, a SysV semaphore set and an abstract unix socket
# listener, then waits until the host says "go" (removes its ready file: the
# host holds both jobs at that point, so they overlap for sure), then looks
# for the other's traces.
# It also binds a pathname socket in its /tmp, reads the kernel's list of
# unix sockets (/proc/self/net/unix) and tries to bind the other's abstract name.
# MUST HAPPEN: each job sees its own traces (control) and none of the
# other's: separate /tmp, /dev/shm, IPC namespace and network namespace (no
# socket name of the other's in /proc/self/net/unix; its abstract name is free
# to bind, nobody can squat it).
import ctypes
import errno
import os
import socket
import zlib

libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT, IPC_EXCL = 0o1000, 0o2000
me, other = data["me"], data["other"]


def key(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


with open(f"/tmp/{me}.file", "w") as f:
    f.write(me)
with open(f"/dev/shm/{me}.file", "w") as f:
    f.write(me)
shmid = libc.shmget(key(me), 4096, IPC_CREAT | IPC_EXCL | 0o666)
semid = libc.semget(key(me), 1, IPC_CREAT | IPC_EXCL | 0o666)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind("\0pysb-" + me)
listener.listen(5)
path_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
path_listener.bind(f"/tmp/{me}.sock")
path_listener.listen(5)


def unix_table_mentions(name):
    with open("/proc/self/net/unix") as f:
        table = f.read()
    return {"abstract": "@pysb-" + name in table, "path": f"/tmp/{name}.sock" in table}


def squat(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind("\0pysb-" + name)
        return "bound"
    except OSError as exc:
        return errno.errorcode.get(exc.errno)
    finally:
        s.close()


def probe(name):
    out = {}
    out["tmp"] = os.path.exists(f"/tmp/{name}.file")
    out["shm_file"] = os.path.exists(f"/dev/shm/{name}.file")
    ctypes.set_errno(0)
    out["sysv_shm"] = libc.shmget(key(name), 0, 0) >= 0
    out["sysv_sem"] = libc.semget(key(name), 0, 0) >= 0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect("\0pysb-" + name)
        out["abstract_socket"] = True
    except OSError as exc:
        out["abstract_socket"] = False
        out["abstract_errno"] = errno.errorcode.get(exc.errno)
    finally:
        s.close()
    out["proc_net_unix"] = unix_table_mentions(name)
    return out


wait_until_released(me)  # prelude.py
report = {"own": probe(me), "other": probe(other), "squat_other": squat(other),
          "squat_own": squat(me), "shmid": shmid, "semid": semid,
          "tmp_listing": sorted(os.listdir("/tmp")), "shm_listing": sorted(os.listdir("/dev/shm"))}
print(report)
__result__ = report
