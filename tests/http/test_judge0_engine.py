"""The Judge0 engine through the router, against Judge0s on loopback.

Two kinds of Judge0 are used, both on 127.0.0.1 (no real Judge0 is
reachable from here):
  - tests/fakes/judge0_fake.py, which runs the submitted Python with the
    system interpreter and misbehaves on request (the API key selects how);
  - this service's own Judge0-compatible API (/judge0/), so our Judge0
    client is checked against our Judge0 server end to end.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from tests.http.service import ROOT, Service

RUN = "/api/insights/python-execution"


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


class FakeJudge0:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pysb-j0fake-")
        port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "requests.log")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "fakes", "judge0_fake.py"), "--port", "0",
             "--port-file", port_file, "--log-file", self.log])
        deadline = time.time() + 15
        while not (port := read_text(port_file)):
            if time.time() > deadline:
                raise RuntimeError("the fake Judge0 did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}"

    def requests(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


fake = None


def setUpModule():
    global fake
    fake = FakeJudge0()


def tearDownModule():
    fake.stop()


def post(svc, body):
    status, _, raw = svc.post_json(RUN, body, timeout=120)
    return status, json.loads(raw)


class HealthyJudge0Tests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"JUDGE0_API_URL": fake.url, "JUDGE0_MAX_WALL_TIME": "60"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_preferred_judge0_runs_the_harness_there(self):
        status, r = post(self.svc, {"code": "import sys\nprint(sys.version_info[:2] >= (3, 8))\n"
                                            "__result__ = sum(row['x'] for row in data)",
                                    "data": [{"x": 1.5}, {"x": 2}],
                                    "requirements": {"preferredEngine": "judge0"}})
        self.assertEqual((status, r["engine"], r["status"]), (200, "judge0", "ok"), r)
        self.assertEqual((r["output"], r["result"]), ("True\n", 3.5))
        self.assertEqual(r["metadata"]["attempts"][0]["engine"], "judge0")
        self.assertIn("token", r["metadata"]["judge0"])
        create = [q for q in fake.requests() if q["method"] == "POST"][-1]
        self.assertIn("base64_encoded=true", create["path"])
        self.assertIn("wait=false", create["path"])

    def test_user_errors_on_judge0_are_results_not_failures(self):
        _, r = post(self.svc, {"code": "x = 1 / 0", "requirements": {"preferredEngine": "judge0"}})
        self.assertEqual((r["engine"], r["status"]), ("judge0", "error"))
        self.assertEqual(r["error"]["type"], "ZeroDivisionError")
        self.assertFalse(r["metadata"]["fallbackUsed"])

    def test_runs_longer_than_native_allows_go_to_judge0(self):
        _, r = post(self.svc, {"code": "print('long')", "requirements": {"maxExecutionTime": 45}})
        self.assertEqual(r["engine"], "judge0", r.get("metadata"))
        self.assertIn("judge0", r["metadata"]["selectedBecause"])

    def test_high_security_never_sends_code_to_judge0(self):
        before = len(fake.requests())
        _, r = post(self.svc, {"code": "print(1)", "requirements": {"securityLevel": "high",
                                                                     "preferredEngine": "judge0"}})
        self.assertEqual(r["engine"], "native")
        self.assertIn("securityLevel high", r["metadata"]["selectedBecause"])
        self.assertEqual(len(fake.requests()), before)

    def test_packages_judge0_lacks_stay_local(self):
        _, r = post(self.svc, {"code": "import pandas\nprint(1)",
                               "requirements": {"preferredEngine": "judge0"}})
        self.assertEqual(r["engine"], "native")
        self.assertIn("pandas", r["metadata"]["selectedBecause"])


class FailingJudge0Tests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The fake answers 503 ("queue is full") to every create.
        cls.svc = Service(env={"JUDGE0_API_URL": fake.url, "JUDGE0_API_KEY": "e503"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_an_unavailable_judge0_falls_back_to_native(self):
        status, r = post(self.svc, {"code": "print('fell back')",
                                    "requirements": {"preferredEngine": "judge0"}})
        self.assertEqual((status, r["engine"], r["output"]), (200, "native", "fell back\n"))
        md = r["metadata"]
        attempts = [(a["engine"], a["status"]) for a in md["attempts"]]
        if md["fallbackUsed"]:
            self.assertEqual(attempts, [("judge0", "unavailable"), ("native", "ok")])
            self.assertIn("503", md["attempts"][0]["error"] + "queue is full")
        else:
            # This worker saw Judge0 fail moments ago and left it out.
            self.assertIn("failed", md["selectedBecause"])

    def test_without_fallback_the_failure_is_reported(self):
        status, r = post(self.svc, {"code": "print(1)",
                                    "requirements": {"preferredEngine": "judge0",
                                                     "fallbackAllowed": False}})
        self.assertIn(status, (422, 503))
        if status == 503:
            self.assertEqual([a["engine"] for a in r["error"]["attempts"]], ["judge0"])
        else:  # the worker already knows Judge0 is failing
            self.assertIn("fallbackAllowed is false", r["error"]["message"])

    def test_statistics_record_the_engine_failures(self):
        post(self.svc, {"code": "print(1)", "requirements": {"preferredEngine": "judge0"}})
        status, _, raw = self.svc.get(RUN + "?window=1h")
        j = json.loads(raw)["engines"]["judge0"]
        self.assertGreaterEqual(j["count"], 1)
        self.assertGreater(j["engineFailureRate"], 0)
        self.assertLess(j["performanceScore"], 100)
        self.assertTrue(j["lastError"])


class RefusedCredentialsTests(unittest.TestCase):
    def test_401_says_the_credentials_were_refused_and_falls_back(self):
        svc = Service(env={"JUDGE0_API_URL": fake.url, "JUDGE0_API_KEY": "e401"}).start()
        try:
            status, r = post(svc, {"code": "print(2)", "requirements": {"preferredEngine": "judge0"}})
            self.assertEqual((status, r["engine"]), (200, "native"))
            first = r["metadata"]["attempts"][0]
            self.assertEqual((first["engine"], first["status"]), ("judge0", "engine_error"))
            self.assertIn("credentials", first["error"])
        finally:
            svc.stop()


class OwnJudge0ApiTests(unittest.TestCase):
    """Our Judge0 client against our Judge0-compatible server, on loopback."""

    def test_the_judge0_engine_works_against_our_own_judge0_api(self):
        svc = Service(env={"JUDGE0_PACKAGES": "numpy pandas"})
        svc.env["JUDGE0_API_URL"] = f"http://127.0.0.1:{svc.port}/judge0"
        svc.start()
        try:
            status, r = post(svc, {"code": "import pandas as pd\nprint(len(data))\n"
                                           "__result__ = pd.DataFrame(data)['v'].sum()",
                                   "data": [{"v": 2}, {"v": 5}],
                                   "requirements": {"preferredEngine": "judge0",
                                                    "fallbackAllowed": False}})
            self.assertEqual((status, r["engine"], r["status"]), (200, "judge0", "ok"), r)
            self.assertEqual((r["output"], r["result"]), ("2\n", 7))
            token = r["metadata"]["judge0"]["token"]
            st, _, raw = svc.get(f"/judge0/submissions/{token}?base64_encoded=true&fields=status")
            self.assertEqual(json.loads(raw)["status"]["id"], 3)
        finally:
            svc.stop()


if __name__ == "__main__":
    unittest.main()
