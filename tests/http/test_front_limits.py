"""nginx in front of the service under abuse: connection floods and its own errors.

nginx answers some requests itself, before the FastCGI service sees them
(a malformed request line, headers or URI too large, too many requests in
progress from one client): those answers carry the service's JSON error
shape too.  A client holding thousands of idle connections (slowloris) must
not make the service unreachable for others, and nginx drops connections
that send no request within its header timeout.
"""

import json
import resource
import socket
import time
import unittest

from tests.http.service import Service

svc = None
FLOOD = 2100          # idle connections from one address (the probe that found the hole used 2,100)
HEADER_TIMEOUT = 10   # client_header_timeout in nginx/nginx.conf.in


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


def raw_request(data, source="127.0.0.1", timeout=10):
    """Sends bytes, returns (status line, headers text, body)."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", svc.port))
    try:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got:
                head, _, body = got.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    finally:
        s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], "\r\n".join(lines[1:]).lower(), body


class NginxErrorsAreJson(unittest.TestCase):
    def check(self, data, status, code):
        line, headers, body = raw_request(data)
        self.assertTrue(line.startswith(f"HTTP/1.1 {status} "), line)
        self.assertIn("content-type: application/json", headers)
        self.assertEqual(json.loads(body)["error"]["code"], code)

    def test_malformed_request_line(self):
        self.check(b"GARBAGE\r\n\r\n", 400, "bad_request")

    def test_malformed_header(self):
        self.check(b"GET /api/python/health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400,
                   "bad_request")

    def test_headers_too_large(self):
        self.check(b"GET /api/python/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                   b"\r\n\r\n", 400, "bad_request")

    def test_uri_too_long(self):
        self.check(b"GET /api/python/health?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                   "uri_too_long")

    def test_the_service_s_own_errors_pass_unchanged(self):
        status, headers, body = svc.post_json("/api/python/execute", raw="{not json")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["code"], "invalid_json")


class ConnectionFlood(unittest.TestCase):
    def test_idle_connections_from_one_client_do_not_lock_others_out(self):
        # This process needs a descriptor per connection; many hosts start
        # with a soft limit of 1,024.  Raise it to the hard limit, which
        # tools/service gives nginx too.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = FLOOD + 200
        if hard != resource.RLIM_INFINITY and hard < need:
            self.skipTest(f"the open-file hard limit here is {hard}: a {FLOOD}-connection flood "
                          "cannot be opened (nor served by nginx)")
        if soft != resource.RLIM_INFINITY and soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need * 2, hard), hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        flood = []
        try:
            for _ in range(FLOOD):
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.settimeout(5)
                s.connect(("127.0.0.1", svc.port))
                s.sendall(b"GET /api/python/health HTTP/1.1\r\nHost: x\r\n")  # and never ends
                flood.append(s)
            started = time.monotonic()
            # Meanwhile another client is served: a static file, health, a job.
            line, _, _ = raw_request(b"GET /static/harness.py HTTP/1.1\r\nHost: x\r\n"
                                     b"Connection: close\r\n\r\n")
            self.assertTrue(line.startswith("HTTP/1.1 200"), line)
            status, _, body = svc.get("/api/python/health")
            self.assertIn(status, (200, 503))
            status, _, body = svc.post_json("/api/python/execute", {"code": "print(1)"})
            self.assertEqual((status, json.loads(body)["output"]), (200, "1\n"))
            # nginx drops the flood once its header timeout has passed.
            time.sleep(max(0.0, HEADER_TIMEOUT + 3 - (time.monotonic() - started)))
            closed = 0
            for s in flood:
                try:
                    s.settimeout(0.05)
                    closed += s.recv(1) == b""
                except ConnectionResetError:
                    closed += 1
                except socket.timeout:
                    pass
            self.assertGreaterEqual(closed, FLOOD * 0.99)
        finally:
            for s in flood:
                s.close()


if __name__ == "__main__":
    unittest.main()
