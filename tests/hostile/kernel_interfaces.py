# ATTACK: reach kernel interfaces with a history of exploits, each with
# arguments the kernel itself would accept from an unprivileged process:
# bpf (array map create, socket-filter program load), userfaultfd (with
# UFFD_USER_MODE_ONLY, allowed unprivileged), io_uring_setup (io_uring ops
# bypass seccomp), perf_event_open (software clock on itself), plus
# /dev/userfaultfd.  Then it waits so the test can list its descriptors from
# the host.
# MUST HAPPEN: every call fails with EPERM and the host sees no bpf-map,
# bpf-prog, userfaultfd, io_uring or perf_event descriptor in the process.
import ctypes
import errno
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}


def sc(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    results[name] = f"SUCCEEDED (fd {r})" if r >= 0 else errno.errorcode.get(ctypes.get_errno())


# bpf(BPF_MAP_CREATE, {BPF_MAP_TYPE_ARRAY, key 4, value 8, max 1})
attr = (ctypes.c_uint32 * 32)(2, 4, 8, 1)
sc("bpf MAP_CREATE", 321, 0, ctypes.addressof(attr), ctypes.sizeof(attr))
# bpf(BPF_PROG_LOAD, socket filter "r0 = 0; exit")
insns = (ctypes.c_uint64 * 2)(0x00000000000000B7, 0x0000000000000095)
lic = ctypes.create_string_buffer(b"GPL")
pattr = (ctypes.c_uint64 * 16)()
ctypes.memmove(pattr, (ctypes.c_uint32 * 2)(1, 2), 8)  # prog_type SOCKET_FILTER, insn_cnt 2
pattr[1] = ctypes.addressof(insns)
pattr[2] = ctypes.addressof(lic)
sc("bpf PROG_LOAD", 321, 5, ctypes.addressof(pattr), ctypes.sizeof(pattr))
sc("userfaultfd(USER_MODE_ONLY)", 323, 0x80000 | 1)
params = (ctypes.c_uint32 * 30)()
sc("io_uring_setup", 425, 8, ctypes.addressof(params))
sc("io_uring_enter", 426, 0, 1, 0, 0, 0, 0)
sc("io_uring_register", 427, 0, 0, 0, 0)
# perf_event_attr: type PERF_TYPE_SOFTWARE (1), size 128, config CPU_CLOCK (0)
pe = (ctypes.c_uint32 * 32)(1, 128)
sc("perf_event_open(self)", 298, ctypes.addressof(pe), 0, -1, -1, 0)
try:
    os.open("/dev/userfaultfd", os.O_RDWR)
    results["/dev/userfaultfd"] = "SUCCEEDED"
except OSError as exc:
    results["/dev/userfaultfd"] = errno.errorcode.get(exc.errno)
print("\n".join(f"{k}: {v}" for k, v in sorted(results.items())))
wait_until_released(data["token"])  # prelude.py
__result__ = results
