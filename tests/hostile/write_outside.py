# ATTACK: write, create, modify, rename, chmod or delete files outside the
# job's private /tmp: in /, /etc, /usr/lib, /usr/share, /dev, /proc, on the
# host's Python stdlib (append to this.py), the synthetic /etc files, the
# device nodes, and on host canary files whose host paths come in `data`
# (a host temp dir, the service's run folder and the repository's run/).
# MUST HAPPEN: every attempt fails (EROFS / EACCES / EPERM / ENOENT); the test
# checks on the host that the canaries, /etc/passwd and this.py are byte-for-
# byte unchanged and that no file named with the token appeared anywhere.
import errno
import os

token = data["token"]
attempts = {}


def attempt(name, fn):
    try:
        fn()
        attempts[name] = "SUCCEEDED"
    except OSError as exc:
        attempts[name] = errno.errorcode.get(exc.errno, str(exc.errno))


def create(path):
    def fn():
        with open(path, "w") as f:
            f.write("pwned " + token)
    return fn


def append(path):
    def fn():
        with open(path, "a") as f:
            f.write("\n# pwned " + token + "\n")
    return fn


for d in ["/", "/etc", "/usr", "/usr/lib", "/usr/share", "/usr/lib/python3", "/dev", "/proc",
          "/proc/self", "/lib", "/lib64"]:
    attempt(f"create {d}", create(os.path.join(d, f"pwned-{token}")))
    attempt(f"mkdir {d}", lambda d=d: os.mkdir(os.path.join(d, f"pwneddir-{token}")))
for path in ["/etc/passwd", "/etc/hosts", "/etc/ld.so.cache", "/usr/lib/python3.11/this.py",
             "/usr/share/zoneinfo/Etc/UTC"]:
    attempt(f"append {path}", append(path))
    attempt(f"chmod {path}", lambda p=path: os.chmod(p, 0o777))
    attempt(f"unlink {path}", lambda p=path: os.unlink(p))
    attempt(f"rename {path}", lambda p=path: os.rename(p, p + ".moved"))
    attempt(f"utime {path}", lambda p=path: os.utime(p, (0, 0)))
attempt("symlink /etc", lambda: os.symlink("/tmp", f"/etc/link-{token}"))
attempt("link into /usr/lib", lambda: os.link("/etc/passwd", f"/usr/lib/link-{token}"))
attempt("chmod /dev/null", lambda: os.chmod("/dev/null", 0o600))
attempt("chown /tmp", lambda: os.chown("/tmp", 0, 0))
attempt("mknod /tmp/sda", lambda: os.mknod("/tmp/sda", 0o600 | 0o060000, os.makedev(8, 0)))
attempt("mknod /dev/mem", lambda: os.mknod("/dev/mem2", 0o600 | 0o020000, os.makedev(1, 1)))
for path in data["canaries"]:
    attempt(f"append canary {path}", append(path))
    attempt(f"create beside canary {path}", create(os.path.join(os.path.dirname(path), f"pwned-{token}")))
    attempt(f"unlink canary {path}", lambda p=path: os.unlink(p))
# A control: /tmp is writable.
attempt("create /tmp (allowed)", create(f"/tmp/ok-{token}"))
print("\n".join(f"{k}: {v}" for k, v in sorted(attempts.items())))
__result__ = attempts
