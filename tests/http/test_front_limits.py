"""nginx in front of the service under abuse: connection floods and its own errors.

nginx answers some requests itself, before the FastCGI service sees them
(a malformed request line, headers or URI too large, too many requests in
progress from one client): those answers carry the service's JSON error
shape too.  A client holding thousands of idle connections (slowloris) must
not make the service unreachable for others, and nginx drops connections
that send no request within its header timeout.
"""

import json
import os
import resource
import socket
import subprocess
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


class RunFolderFull(unittest.TestCase):
    """nginx buffers large request bodies in the run folder, and logs and the
    store write there: when it fills up, large requests fail with the JSON
    error and /api/health says so, instead of failing quietly."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("a small filesystem for the run folder can only be mounted by root")
        self.svc = Service()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400m,mode=0755", "tmpfs",
                        self.svc.run_dir], check=True)
        self.addCleanup(self.unmount)
        self.svc.start()

    def unmount(self):
        self.svc.stop()
        subprocess.run(["umount", "-l", self.svc.run_dir], check=False)
        os.rmdir(self.svc.run_dir)

    def health(self):
        status, _, body = self.svc.get("/api/health")
        self.assertEqual(status, 200)
        return json.loads(body)

    def test_large_bodies_fail_in_json_and_health_says_why(self):
        h = self.health()
        self.assertEqual((h["status"], h["runFolder"]["lowSpace"]), ("ok", False), h)
        # Fill the folder to 16 MiB short of full.
        filler = os.path.join(self.svc.run_dir, "filler")
        st = os.statvfs(self.svc.run_dir)
        with open(filler, "wb") as f:
            left = st.f_bavail * st.f_frsize - 16 * 1024 * 1024
            chunk = b"\0" * (1 << 20)
            while left > 0:
                left -= f.write(chunk[:min(len(chunk), left)])
        h = self.health()
        self.assertEqual((h["status"], h["runFolder"]["lowSpace"]), ("degraded", True), h)
        self.assertLess(h["runFolder"]["freeBytes"], h["runFolder"]["minFreeBytes"])
        # A 40 MiB body cannot be buffered: a JSON 500, not nginx's page.
        big = json.dumps({"code": "print(len(data))", "data": "x" * (40 << 20)})
        status, headers, body = self.svc.post_json("/api/python/execute", raw=big)
        self.assertEqual(status, 500, body[:200])
        self.assertTrue(headers["content-type"].startswith("application/json"), headers)
        self.assertEqual(json.loads(body)["error"]["code"], "internal")
        # Small requests are still served, and health recovers with space.
        status, _, body = self.svc.post_json("/api/python/execute", {"code": "print(1)"})
        self.assertEqual((status, json.loads(body)["output"]), (200, "1\n"))
        os.unlink(filler)
        h = self.health()
        self.assertEqual((h["status"], h["runFolder"]["lowSpace"]), ("ok", False), h)


if __name__ == "__main__":
    unittest.main()
