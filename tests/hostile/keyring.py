# ATTACK: use the kernel keyrings, which are not namespaced per jail and
# persist across jobs of the same outside uid: add_key into the session and
# user keyrings, keyctl (get/join keyrings, search), request_key.
# MUST HAPPEN: every call fails with EPERM (seccomp); the host's /proc/keys
# shows no key with the job's description.
import ctypes
import errno

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = {}
desc = ("pysb-" + data["token"]).encode()


def sc(name, nr, *args):
    ctypes.set_errno(0)
    conv = [a if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    r = libc.syscall(ctypes.c_long(nr), *conv)
    results[name] = f"SUCCEEDED ({r})" if r >= 0 else errno.errorcode.get(ctypes.get_errno())


KEY_SPEC_SESSION, KEY_SPEC_USER = -3, -4
sc("add_key session", 248, b"user", desc, b"secret", 6, KEY_SPEC_SESSION)
sc("add_key user", 248, b"user", desc, b"secret", 6, KEY_SPEC_USER)
sc("keyctl GET_KEYRING_ID user", 250, 0, KEY_SPEC_USER, 1)
sc("keyctl JOIN_SESSION_KEYRING", 250, 1, desc)
sc("keyctl SEARCH", 250, 10, KEY_SPEC_USER, b"user", desc, 0)
sc("request_key", 249, b"user", desc, 0, 0)
print("\n".join(f"{k}: {v}" for k, v in sorted(results.items())))
__result__ = results
