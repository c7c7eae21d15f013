# ATTACK: reach host services over unix sockets: the abstract socket the test
# listens on in the host's network namespace (name in `data`), the service's
# own executor.sock / fcgi.sock and common host sockets by path (/dev/log,
# /run/...), and offer an abstract listener of its own for the host to reach.
# MUST HAPPEN: every connect fails (ECONNREFUSED for abstract names: the jail
# has its own network namespace; ENOENT for paths: not in the jail); the
# host's listener accepts nothing and the host cannot connect to the jail's.
import errno
import os
import socket

report = {}


def connect(addr, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_UNIX, kind)
    s.settimeout(2)
    try:
        s.connect(addr)
        s.sendall(b"pwned")
        return "SUCCEEDED"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    finally:
        s.close()


report["abstract host listener"] = connect("\0" + data["host_abstract"])
for path in data["host_paths"] + ["/dev/log", "/run/systemd/journal/socket", "/run/dbus/system_bus_socket",
                                  "/var/run/docker.sock", "/run/nscd/socket"]:
    report[f"path {path}"] = connect(path)
    report[f"dgram {path}"] = connect(path, socket.SOCK_DGRAM)

# Our own abstract listener: the host side tries to reach it while we wait.
own = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
own.bind("\0" + data["jail_abstract"])
own.listen(5)
own.setblocking(False)
report["self-connect (control)"] = connect("\0" + data["jail_abstract"])
wait_until_released(data["token"])  # prelude.py
accepted = 0
while True:
    try:
        own.accept()
        accepted += 1
    except BlockingIOError:
        break
report["accepted by jail listener"] = accepted
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
__result__ = report
