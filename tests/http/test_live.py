"""Live output: a run's stdout and stderr as Server-Sent Events while it runs.

POST /api/python/execute, /api/insights/python-execution and
/sandbox/{id}/execute with `Accept: text/event-stream` answer events
(stdout, stderr, then one result) through real nginx and FastCGI.  That
output arrives before the run ends is shown without timing anything: the
program prints, then waits until the test removes a file in its jail's /tmp
(the hostile suite's prelude), and the test reads the event while it waits.
"""

import http.client
import json
import os
import time
import unittest

from tests.http.service import ROOT, Service, wait_for

svc = None
PRELUDE = open(os.path.join(ROOT, "tests", "hostile", "prelude.py")).read()


def setUpModule():
    global svc
    if os.geteuid() != 0:
        raise unittest.SkipTest("finding a jail's /tmp from the host needs root")
    svc = Service().start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()


class Stream:
    """One SSE request; events are read one at a time."""

    def __init__(self, path, body):
        self.conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=60)
        self.conn.request("POST", path, json.dumps(body),
                          {"Content-Type": "application/json", "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()

    def next_event(self):
        name, data = None, []
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\n")
            if line == "":
                if name is not None:
                    return name, json.loads("\n".join(data))
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    def stdout_until(self, text):
        """Reads stdout events until what they add up to ends with text."""
        seen = ""
        while not seen.endswith(text):
            name, data = self.next_event()
            if name == "stdout":
                seen += data
        return seen

    def all_events(self):
        out = []
        while (ev := self.next_event()) is not None:
            out.append(ev)
        return out

    def close(self):
        self.conn.close()


def jail_holding(token):
    """The host pid of a jailed process whose /tmp holds <token>.ready."""
    def look():
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if os.path.exists(f"/proc/{pid}/root/tmp/{token}.ready"):
                return pid
        return None
    return wait_for(look, 30, f"a jail holding /tmp/{token}.ready")


def release(pid, token):
    os.unlink(f"/proc/{pid}/root/tmp/{token}.ready")


def health():
    return json.loads(svc.get("/api/python/health")[2])


class LiveTests(unittest.TestCase):
    def test_events_arrive_in_order_and_add_up_to_the_answer(self):
        s = Stream("/api/python/execute", {"code": "import sys\nprint('one')\n"
                                                   "sys.stderr.write('two\\n')\nprint('three')\n"
                                                   "__result__ = {'n': 3}"})
        self.assertEqual(s.resp.status, 200)
        self.assertTrue(s.resp.getheader("content-type").startswith("text/event-stream"))
        self.assertEqual(s.resp.getheader("cache-control"), "no-store")
        events = s.all_events()
        names = [n for n, _ in events]
        self.assertEqual(names[-1], "result")
        self.assertEqual(names.count("result"), 1)
        self.assertTrue(set(names[:-1]) <= {"stdout", "stderr"}, names)
        result = events[-1][1]
        self.assertEqual(result["result"], {"n": 3})
        self.assertEqual("".join(d for n, d in events if n == "stdout"), result["output"])
        self.assertEqual("".join(d for n, d in events if n == "stderr"), result["stderr"])
        self.assertEqual(result["output"], "one\nthree\n")
        self.assertEqual(result["stderr"], "two\n")
        # Each stream's events come in the order written (between the two
        # pipes, in the order the engine read them: see docs/design/live-output.md).
        stdout = [d for n, d in events if n == "stdout"]
        self.assertLess("".join(stdout).index("one"), "".join(stdout).index("three"))

    def test_output_arrives_while_the_program_still_runs(self):
        token = "live-" + os.urandom(4).hex()
        code = PRELUDE + f"\nprint('start', flush=True)\nwait_until_released('{token}')\nprint('end')"
        s = Stream("/api/python/execute", {"code": code, "requirements": {"maxExecutionTime": 30}})
        self.assertEqual(s.stdout_until("start\n"), "start\n")
        pid = jail_holding(token)  # the program is still waiting: no result yet
        self.assertGreaterEqual(health()["jobs"]["running"], 1)
        release(pid, token)
        rest = s.all_events()
        self.assertEqual(rest[-1][0], "result")
        self.assertEqual(rest[-1][1]["output"], "start\nend\n")

    def test_a_client_that_goes_away_kills_the_run(self):
        s = Stream("/api/python/execute", {"code": "import time\nprint('x', flush=True)\n"
                                                   "time.sleep(25)",
                                           "requirements": {"maxExecutionTime": 30}})
        self.assertEqual(s.stdout_until("x\n"), "x\n")
        self.assertGreaterEqual(health()["jobs"]["running"], 1)
        s.close()
        wait_for(lambda: health()["jobs"]["running"] == 0, 30, "the abandoned job to be killed")

    def test_characters_are_never_split_between_events(self):
        s = Stream("/api/python/execute", {"code": "import sys\nfor _ in range(40):\n"
                                                   "    sys.stdout.write('é' * 3001 + '→')\n"})
        events = s.all_events()
        chunks = [d for n, d in events if n == "stdout"]
        self.assertNotIn("\ufffd", "".join(chunks))
        self.assertEqual("".join(chunks), events[-1][1]["output"])
        self.assertEqual(events[-1][1]["output"], ("é" * 3001 + "→") * 40)

    def test_the_router_streams_the_native_engine(self):
        events = Stream("/api/insights/python-execution",
                        {"code": "import pandas\nprint('routed')"}).all_events()
        self.assertEqual(events[-1][0], "result")
        self.assertEqual(events[-1][1]["engine"], "native")
        self.assertIn("attempts", events[-1][1]["metadata"])
        self.assertEqual("".join(d for n, d in events if n == "stdout"), "routed\n")

    def test_a_sandbox_streams_and_keeps_its_state(self):
        st, _, raw = svc.post_json("/sandbox/create", {})
        sid = json.loads(raw)["sandbox_id"]
        Stream(f"/sandbox/{sid}/execute", {"code": "x = 41"}).all_events()
        events = Stream(f"/sandbox/{sid}/execute", {"code": "print(x + 1)"}).all_events()
        self.assertEqual("".join(d for n, d in events if n == "stdout"), "42\n")
        self.assertEqual(events[-1][1]["metadata"]["sandbox"]["state_lost"], False)
        # A run that gets no answer ends with an error event.
        events = Stream(f"/sandbox/{sid[:8]}{'0' * 24}/execute", {"code": "1"}).all_events()
        self.assertEqual(events, [("error", {"error": {"code": "not_found",
                                                       "message": events[0][1]["error"]["message"]}})])

    def test_without_the_header_nothing_changes(self):
        st, headers, raw = svc.post_json("/api/python/execute", {"code": "print(1)"})
        self.assertEqual(st, 200)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertEqual(json.loads(raw)["output"], "1\n")


if __name__ == "__main__":
    unittest.main()
