# ATTACK: rebuild the jail from inside: mount a tmpfs over /usr/lib, remount
# / read-write, unmount /proc, unshare new user/mount/net namespaces (a new
# user namespace would hand back every capability), setns into the jail's
# own namespaces, chroot, pivot_root, clone() with CLONE_NEW* flags, and the
# new mount API (fsopen, open_tree, move_mount, mount_setattr).
# MUST HAPPEN: every call fails with EPERM (seccomp; ENOSYS is accepted only
# for clone3); the mount table the job sees is unchanged; no process was
# created by the clone attempts.
import ctypes
import errno
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}


def sc(name, nr, *args):
    ctypes.set_errno(0)
    conv = [a if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    r = libc.syscall(ctypes.c_long(nr), *conv)
    if r == 0 and name.startswith("clone"):
        os._exit(0)  # a child was created (it must not be): leave at once
    results[name] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())


CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x10000000, 0x20000000, 0x40000000, 0x2000000
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
SIGCHLD = 17
before = open("/proc/self/mountinfo").read()
os.mkdir("/tmp/mnt")
sc("mount tmpfs /usr/lib", 165, b"tmpfs", b"/usr/lib", b"tmpfs", 0, 0)
sc("mount tmpfs /tmp/mnt", 165, b"tmpfs", b"/tmp/mnt", b"tmpfs", 0, 0)
sc("remount / rw", 165, 0, b"/", 0, MS_REMOUNT | MS_BIND, 0)
sc("bind /proc over /tmp/mnt", 165, b"/proc", b"/tmp/mnt", 0, MS_BIND, 0)
sc("umount2 /proc", 166, b"/proc", 2)
for flag_name, flag in (("NEWUSER", CLONE_NEWUSER), ("NEWNS", CLONE_NEWNS), ("NEWNET", CLONE_NEWNET),
                        ("NEWPID", CLONE_NEWPID), ("NEWIPC", CLONE_NEWIPC), ("NEWUTS", CLONE_NEWUTS),
                        ("NEWCGROUP", CLONE_NEWCGROUP)):
    sc(f"unshare {flag_name}", 272, flag)
    sc(f"clone {flag_name}", 56, flag | SIGCHLD, 0, 0, 0, 0)
for ns in ("mnt", "net", "user", "pid", "uts", "ipc"):
    fd = os.open(f"/proc/self/ns/{ns}", os.O_RDONLY)
    sc(f"setns {ns}", 308, fd, 0)
    os.close(fd)
sc("chroot /tmp", 161, b"/tmp")
os.mkdir("/tmp/old")
sc("pivot_root", 155, b"/tmp", b"/tmp/old")
sc("fsopen tmpfs", 430, b"tmpfs", 0)
sc("open_tree /usr/lib", 428, -100, b"/usr/lib", 1)  # OPEN_TREE_CLONE
sc("move_mount", 429, -100, b"/tmp", -100, b"/tmp/mnt", 0)
sc("mount_setattr", 442, -100, b"/", 0, 0, 0)
sc("fspick /", 433, -100, b"/", 0)
sc("clone3", 435, 0, 0)
results["mountinfo unchanged"] = open("/proc/self/mountinfo").read() == before
results["processes in /proc"] = sorted(p for p in os.listdir("/proc") if p.isdigit())
print("\n".join(f"{k}: {v}" for k, v in sorted(results.items())))
__result__ = results
