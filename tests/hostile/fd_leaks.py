# ATTACK: look for descriptors leaked into the jail (the FastCGI listening
# socket, the executor's client connections, the zygote's control socket,
# nginx's sockets, other jobs' pipes): fstat every
# descriptor number up to 1023, then wait so the test can list the descriptors
# from the host.
# MUST HAPPEN: only 0 (/dev/null), 1 and 2 (write ends of pipes) and 3 (the
# job's unix stream channel) exist; the host confirms that the pipe ends
# belong to this job's executor, and that no socket the jail holds is held
# by any FastCGI, nginx or executor process.
import fcntl
import os
import socket
import stat

found = {}
for fd in range(0, 1024):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    kind = ("chr" if stat.S_ISCHR(st.st_mode) else "fifo" if stat.S_ISFIFO(st.st_mode)
            else "sock" if stat.S_ISSOCK(st.st_mode) else "reg" if stat.S_ISREG(st.st_mode)
            else "dir" if stat.S_ISDIR(st.st_mode) else "other")
    info = {"kind": kind, "rdev": [os.major(st.st_rdev), os.minor(st.st_rdev)],
            "accmode": fcntl.fcntl(fd, fcntl.F_GETFL) & 3}
    if kind == "sock":
        s = socket.socket(fileno=os.dup(fd))
        info["family"] = s.family.name
        info["type"] = s.type.name
        try:
            info["listening"] = bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        except OSError:
            info["listening"] = None
        s.close()
    found[str(fd)] = info
report = {"fstat": found}
print(report, flush=True)
wait_until_released(data["token"])  # prelude.py
__result__ = report
