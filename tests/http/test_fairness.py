"""One client cannot starve the others.

Every request to the service holds one of its FastCGI workers until it is
answered, and every native job one of the executor's slots.  So one client
may have only its share of each in progress (nginx's per-client limit,
PYSANDBOX_CLIENT_MAX_REQUESTS; the executor's, PYSANDBOX_CLIENT_MAX_JOBS):
beyond, 429 in JSON with Retry-After, at once.  Health is answered by
workers of its own, so it never waits behind executions, even when honest
clients together hold every ordinary worker.

Clients are told apart by address: the tests connect from several loopback
addresses (127.0.0.x), as different hosts would.
"""

import json
import socket
import threading
import time
import unittest

from tests.http.service import Service

svc = None
SLEEP_S = 8   # long enough to hold slots and workers while the probes run
WORKERS = 16  # ordinary FastCGI workers (the default, set explicitly)
CLIENT_MAX_REQUESTS = 8  # nginx's per-client limit (the default, set explicitly)


def setUpModule():
    global svc
    svc = Service(env={"PYSANDBOX_WORKERS": str(WORKERS),
                       "PYSANDBOX_CLIENT_MAX_REQUESTS": str(CLIENT_MAX_REQUESTS)}).start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()


def sleeper_body(seconds):
    return {"code": f"import time\ntime.sleep({seconds})\nprint('slept')",
            "requirements": {"maxExecutionTime": seconds + 20}}


class Outcome:
    """One request sent from a thread: its status, headers, JSON body and
    the moment it was answered (time.monotonic())."""

    def __init__(self, method, path, body=None, source="127.0.0.1"):
        self.status = self.headers = self.body = self.error = None
        self.answered_at = None

        def run():
            try:
                if body is None:
                    st, hd, raw = svc.request(method, path, timeout=120, source=source)
                else:
                    st, hd, raw = svc.post_json(path, body, timeout=120, source=source)
                self.status, self.headers = st, hd
                self.body = json.loads(raw)
            except Exception as e:  # reported by the test that reads it
                self.error = e
            self.answered_at = time.monotonic()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait(self):
        self.thread.join(180)
        if self.error is not None:
            raise self.error
        return self


class hold_requests:
    """Holds one request per headers dict from source, in progress: its
    body still arriving (nginx counts a request from its headers on)."""

    def __init__(self, service, source, header_sets):
        self.service, self.source, self.header_sets = service, source, header_sets
        self.held = [None] * len(header_sets)

    def open(self, i):
        c = socket.create_connection(("127.0.0.1", self.service.port), timeout=10,
                                     source_address=(self.source, 0))
        lines = "".join(f"{k}: {v}\r\n" for k, v in self.header_sets[i].items())
        c.sendall(b"POST /api/python/execute HTTP/1.1\r\nHost: x\r\n" + lines.encode() +
                  b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        c.setblocking(False)
        self.held[i] = c

    def refresh(self):
        """nginx reads connections in no fixed order: a probe sent after the
        held requests may be counted before one of them, which is then
        refused.  Replaces any held request that got an answer."""
        for i, c in enumerate(self.held):
            try:
                answered = c.recv(1, socket.MSG_PEEK) is not None
            except BlockingIOError:
                answered = False
            except OSError:
                answered = True
            if answered:
                c.close()
                self.open(i)

    def __enter__(self):
        for i in range(len(self.header_sets)):
            self.open(i)
        return self

    def __exit__(self, *exc):
        for c in self.held:
            c.close()


def refused_or_served(service, held, source, headers):
    """GET of an unknown /api/ route (a 404 from a FastCGI worker) until it
    is refused, for a few seconds: nginx may not have read the held
    requests' headers yet.  Returns the last (status, headers, body)."""
    deadline = time.monotonic() + 8
    while True:
        answer = service.get("/api/no-such-route", headers, source=source)
        if answer[0] != 404 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)
        held.refresh()


class OneClientCannotStarveOthers(unittest.TestCase):
    def test_sixteen_sleepers_from_one_client(self):
        health = json.loads(svc.get("/api/python/health")[2])
        client_max_jobs = health["limits"]["clientMaxJobs"]
        refused_before = health["jobs"]["refusedOverClientShare"]
        self.assertLess(client_max_jobs, 16)

        sleepers = [Outcome("POST", "/api/python/execute", sleeper_body(SLEEP_S), "127.0.0.2")
                    for _ in range(16)]
        # The client's share is taken within moments; everything beyond it
        # is refused at once (each refusal answers, the accepted ones sleep).
        deadline = time.monotonic() + 60
        while (sum(s.answered_at is not None for s in sleepers) < 16 - client_max_jobs
               and time.monotonic() < deadline):
            time.sleep(0.05)

        # Another client is served while the sleepers still sleep.
        other = Outcome("POST", "/api/python/execute",
                        {"code": "print(1)"}, "127.0.0.3").wait()
        probe = Outcome("GET", "/api/python/health", None, "127.0.0.3").wait()
        pending_then = sum(s.answered_at is None for s in sleepers)

        for s in sleepers:
            s.wait()
        self.assertEqual((other.status, other.body.get("output")), (200, "1\n"), other.body)
        self.assertEqual(probe.status, 200)
        self.assertGreater(pending_then, 0, "the sleepers had finished before the other client "
                           "was served: nothing was checked")
        first_sleeper_done = min(s.answered_at for s in sleepers if s.status == 200)
        self.assertLess(other.answered_at, first_sleeper_done)

        accepted = [s for s in sleepers if s.status == 200]
        refused = [s for s in sleepers if s.status == 429]
        self.assertEqual(len(accepted) + len(refused), 16,
                         [(s.status, s.body) for s in sleepers])
        self.assertGreaterEqual(len(accepted), 1)
        self.assertLessEqual(len(accepted), client_max_jobs)
        for s in accepted:
            self.assertEqual(s.body["output"], "slept\n")
        for s in refused:
            self.assertIn(s.body["error"]["code"], ("too_many_requests", "client_limit"))
            self.assertGreaterEqual(int(s.headers["retry-after"]), 1)
        # The executor's limit took part: of 16 requests, more than its
        # share got past nginx (whose own limit is tested below).
        codes = {s.body["error"]["code"] for s in refused}
        self.assertIn("client_limit", codes)
        after = json.loads(svc.get("/api/python/health")[2])
        self.assertGreater(after["jobs"]["refusedOverClientShare"], refused_before)

    def test_nginx_caps_one_client_s_requests_in_progress(self):
        with hold_requests(svc, "127.0.0.7", [{}] * CLIENT_MAX_REQUESTS) as held:
            status, headers, raw = refused_or_served(svc, held, "127.0.0.7", {})
            self.assertEqual(status, 429, raw)
            self.assertEqual(json.loads(raw)["error"]["code"], "too_many_requests")
            self.assertGreaterEqual(int(headers["retry-after"]), 1)
            # Other clients, and this one's health checks, are served.
            self.assertEqual(svc.get("/api/no-such-route", source="127.0.0.8")[0], 404)
            self.assertEqual(svc.get("/api/python/health", source="127.0.0.7")[0], 200)

    def test_the_router_answers_429_for_a_client_over_its_share_and_stays_healthy(self):
        client_max_jobs = json.loads(svc.get("/api/python/health")[2])["limits"]["clientMaxJobs"]
        body = dict(sleeper_body(SLEEP_S), requirements={"maxExecutionTime": SLEEP_S + 20,
                                                         "preferredEngine": "native",
                                                         "fallbackAllowed": True})
        # A job is answered before its child has exited, and counts as
        # running until then: wait for the earlier tests' children to go, so
        # that "running" below counts only the held jobs.
        deadline = time.monotonic() + 30
        while json.loads(svc.get("/api/python/health")[2])["jobs"]["running"] > 0:
            self.assertLess(time.monotonic(), deadline, "earlier jobs never ended")
            time.sleep(0.05)
        held = [Outcome("POST", "/api/insights/python-execution", body, "127.0.0.4")
                for _ in range(client_max_jobs)]
        deadline = time.monotonic() + 30
        while json.loads(svc.get("/api/python/health")[2])["jobs"]["running"] < client_max_jobs:
            self.assertLess(time.monotonic(), deadline, "the held jobs never started")
            time.sleep(0.05)
        over = Outcome("POST", "/api/insights/python-execution",
                       {"code": "print(2)", "requirements": {"preferredEngine": "native"}},
                       "127.0.0.4").wait()
        self.assertEqual(over.status, 429, over.body)
        self.assertEqual(over.body["error"]["code"], "client_limit")
        self.assertGreaterEqual(int(over.headers["retry-after"]), 1)
        # Not an engine failure: another client is routed to native at once
        # (a failure would make this worker try the engine last, or refuse).
        other = Outcome("POST", "/api/insights/python-execution",
                        {"code": "print(3)", "requirements": {"preferredEngine": "native"}},
                        "127.0.0.5").wait()
        self.assertEqual(other.status, 200, other.body)
        self.assertEqual((other.body["engine"], other.body["output"]), ("native", "3\n"))
        for h in held:
            self.assertEqual(h.wait().status, 200, h.body)


class ClientIdentityBehindATrustedProxy(unittest.TestCase):
    """PYSANDBOX_TRUSTED_PROXIES: requests from those addresses are counted
    by the client address in PYSANDBOX_CLIENT_HEADER; anyone else's header
    is ignored (else a client could escape its limit by inventing one)."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"PYSANDBOX_CLIENT_MAX_REQUESTS": "2",
                               "PYSANDBOX_TRUSTED_PROXIES": "127.0.0.9",
                               "PYSANDBOX_CLIENT_HEADER": "X-Real-Client"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_the_trusted_proxy_s_clients_are_counted_apart(self):
        a = {"X-Real-Client": "10.1.1.1"}
        with hold_requests(self.svc, "127.0.0.9", [a, a]) as held:
            self.assertEqual(refused_or_served(self.svc, held, "127.0.0.9", a)[0], 429)
            self.assertEqual(self.svc.get("/api/no-such-route", {"X-Real-Client": "10.1.1.2"},
                                          source="127.0.0.9")[0], 404)

    def test_an_untrusted_client_s_header_is_ignored(self):
        with hold_requests(self.svc, "127.0.0.10", [{"X-Real-Client": "10.2.2.1"},
                                                     {"X-Real-Client": "10.2.2.2"}]) as held:
            status, _, raw = refused_or_served(self.svc, held, "127.0.0.10",
                                               {"X-Real-Client": "10.2.2.3"})
            self.assertEqual(status, 429, raw)

    def test_a_bad_setting_stops_the_start_with_a_clear_message(self):
        bad = Service(env={"PYSANDBOX_TRUSTED_PROXIES": "127.0.0.1; include /etc/passwd"})
        try:
            with self.assertRaises(Exception):
                bad.start()
            self.assertIn("is not an address or CIDR", bad.log("service.log"))
        finally:
            bad.stop()


class HealthNeverWaitsBehindWork(unittest.TestCase):
    def test_health_answers_while_every_ordinary_worker_is_busy(self):
        # Honest clients, each within its share, together hold every
        # ordinary FastCGI worker (16 by default): 4 clients x 4 jobs.
        started = time.monotonic()
        sleepers = [Outcome("POST", "/api/python/execute", sleeper_body(SLEEP_S), f"127.0.1.{c}")
                    for c in range(1, 5) for _ in range(4)]
        # Every sleeper is in the executor (running or queued), so each holds
        # an ordinary worker.
        deadline = time.monotonic() + 30
        while True:
            jobs = json.loads(svc.get("/api/python/health")[2])["jobs"]
            if jobs["running"] + jobs["queued"] == WORKERS:
                break
            self.assertLess(time.monotonic(), deadline, f"the sleepers never all started: {jobs}")
            time.sleep(0.05)
        ordinary = Outcome("GET", "/api/no-such-route", None, "127.0.0.6")
        health = Outcome("GET", "/api/python/health", None, "127.0.0.6").wait()
        liveness = Outcome("GET", "/api/health", None, "127.0.0.6").wait()
        ordinary.wait()
        for s in sleepers:
            s.wait()
        answered = [s.answered_at for s in sleepers if s.answered_at is not None]
        self.assertEqual(len(answered), 16)
        self.assertEqual(health.status, 200, health.body)
        self.assertEqual(liveness.status, 200, liveness.body)
        self.assertEqual(ordinary.status, 404)
        # Health came back before any sleeper; the ordinary request had to
        # wait for a worker, which no sleeper frees before its sleep ends.
        self.assertLess(max(health.answered_at, liveness.answered_at), min(answered))
        self.assertGreaterEqual(ordinary.answered_at - started, SLEEP_S)

if __name__ == "__main__":
    unittest.main()
