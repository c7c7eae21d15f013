# ATTACK: reach the network: TCP and UDP to listeners the test opened on the
# host's 127.0.0.1 (ports in `data`), IPv6, DNS through getaddrinfo, raw IP,
# AF_PACKET, netlink (routing, audit, uevents), AF_VSOCK (host<->VM),
# AF_ALG (kernel crypto), AF_KEY, AF_XDP, Bluetooth, CAN, TIPC, RDS, and
# socketpair() with a non-unix family.
# MUST HAPPEN: socket() fails with EAFNOSUPPORT for every family but AF_UNIX;
# getaddrinfo resolves nothing outside /etc/hosts; the host listeners see no
# connection and no datagram.
import errno
import socket

report = {}


def attempt(name, fn):
    try:
        r = fn()
        report[name] = "SUCCEEDED" + ("" if r is None else f" {r!r}")
    except socket.gaierror as exc:
        report[name] = f"gaierror {exc.errno}"
    except OSError as exc:
        report[name] = errno.errorcode.get(exc.errno, str(exc.errno))


def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("127.0.0.1", data["tcp_port"]))
    s.sendall(b"pwned")


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"pwned", ("127.0.0.1", data["udp_port"]))


def tcp6():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("::1", data["tcp_port"]))


families = {
    "AF_INET stream": (2, 1, 0), "AF_INET dgram": (2, 2, 0), "AF_INET raw icmp": (2, 3, 1),
    "AF_INET raw tcp": (2, 3, 6), "AF_INET6 stream": (10, 1, 0), "AF_INET6 dgram": (10, 2, 0),
    "AF_INET6 raw": (10, 3, 58), "AF_PACKET raw": (17, 3, 0x0300), "AF_PACKET dgram": (17, 2, 0x0300),
    "AF_NETLINK route": (16, 3, 0), "AF_NETLINK audit": (16, 3, 9),
    "AF_NETLINK uevent": (16, 2, 15), "AF_VSOCK stream": (40, 1, 0), "AF_VSOCK dgram": (40, 2, 0),
    "AF_ALG": (38, 5, 0), "AF_KEY": (15, 3, 2), "AF_XDP": (44, 3, 0), "AF_BLUETOOTH": (31, 3, 1),
    "AF_CAN": (29, 3, 1), "AF_TIPC": (30, 5, 0), "AF_RDS": (21, 5, 0), "AF_NFC": (39, 2, 0),
    "AF_QIPCRTR": (42, 2, 0), "AF_MCTP": (45, 2, 0), "AF_SMC": (43, 1, 0), "AF_LLC": (26, 2, 0),
}
for name, (fam, typ, proto) in families.items():
    attempt(f"socket {name}", lambda f=fam, t=typ, p=proto: socket.socket(f, t, p) and None)
attempt("socketpair AF_INET", lambda: socket.socketpair(socket.AF_INET) and None)
attempt("connect tcp 127.0.0.1", tcp)
attempt("sendto udp 127.0.0.1", udp)
attempt("connect tcp6 ::1", tcp6)
attempt("getaddrinfo example.com", lambda: socket.getaddrinfo("example.com", 80))
attempt("getaddrinfo pypi.org", lambda: socket.getaddrinfo("pypi.org", 443, socket.AF_INET))
attempt("gethostbyname debian.org", lambda: socket.gethostbyname("debian.org"))
attempt("socket AF_UNIX (allowed)", lambda: socket.socket(socket.AF_UNIX).close())
print("\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
__result__ = report
