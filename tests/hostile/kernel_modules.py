# ATTACK: load or unload kernel code: init_module with an ELF-looking
# buffer, finit_module on a file descriptor, delete_module of a common
# module, kexec_load / kexec_file_load, and auto-loading modules by asking
# for rare socket families.
# MUST HAPPEN: every call fails with EPERM (seccomp) and the host's module
# list (/sys/module) is unchanged.
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
    results[name] = "SUCCEEDED" if r >= 0 else errno.errorcode.get(ctypes.get_errno())


image = ctypes.create_string_buffer(b"\x7fELF\x02\x01\x01" + b"\0" * 4089)
sc("init_module", 175, ctypes.addressof(image), 4096, b"")
fd = os.open("/usr/lib/python3.11/this.py", os.O_RDONLY)
sc("finit_module", 313, fd, b"", 0)
sc("kexec_file_load", 320, fd, fd, 0, b"", 0)
os.close(fd)
sc("kexec_load", 246, 0, 0, 0, 0)
for mod in (b"ext4", b"overlay", b"nf_tables", b"pysb_fake"):
    sc(f"delete_module {mod.decode()}", 176, mod, 0o4000)  # O_NONBLOCK
import socket
for fam in (6, 9, 19, 32, 33, 35, 36, 37, 41):  # families whose modules a kernel could load
    try:
        socket.socket(fam, socket.SOCK_DGRAM)
        results[f"socket family {fam}"] = "SUCCEEDED"
    except OSError as exc:
        results[f"socket family {fam}"] = errno.errorcode.get(exc.errno)
print("\n".join(f"{k}: {v}" for k, v in sorted(results.items())))
__result__ = results
