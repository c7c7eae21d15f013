"""Streams do not starve the service.

A live-output request (Accept: text/event-stream) holds a FastCGI worker
and an executor slot for as long as its program runs.  Such requests go to
workers of their own (PYSANDBOX_STREAM_WORKERS, chosen by nginx from the
Accept header) and their jobs to slots of their own (PYSANDBOX_MAX_STREAMS),
so 64 watched runs from 64 clients leave short requests from others their
workers and slots.  A quiet stream gets a heartbeat comment every
PYSANDBOX_STREAM_HEARTBEAT seconds (1 here), so that proxies keep it open.
"""

import http.client
import json
import os
import threading
import unittest

from tests.http.service import ROOT, Service, wait_for

svc = None
STREAMS = 64
WALL_S = 300  # the streams' programs wait until the test has checked everything
PRELUDE = open(os.path.join(ROOT, "tests", "hostile", "prelude.py")).read()


def setUpModule():
    global svc
    # 64 jails started at once: the executor makes them one after the other,
    # so the last ones wait for a child longer than the default queue time
    # on a slow (sanitized) build.
    svc = Service(env={"PYSANDBOX_STREAM_HEARTBEAT": "1",
                       "PYSANDBOX_QUEUE_TIMEOUT": "120",
                       "PYSANDBOX_MAX_WALL_TIME": str(WALL_S)}).start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()


def health():
    return json.loads(svc.get("/api/python/health")[2])


class RawStream:
    """One SSE request from a given client address, read line by line on a
    thread: the lines so far, and whether a result or error event came."""

    def __init__(self, code, source, wall=WALL_S):
        self.lines, self.error, self.ended, self.status = [], None, False, None
        self.stdout = ""  # what its stdout events add up to
        self.started = threading.Event()  # its program printed "started"
        self.done = threading.Event()     # its answer ended
        self.conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=300,
                                               source_address=(source, 0))
        body = json.dumps({"code": code, "requirements": {"maxExecutionTime": wall}})
        self.thread = threading.Thread(target=self._read, args=(body,), daemon=True)
        self.thread.start()

    def _read(self, body):
        try:
            self.conn.request("POST", "/api/python/execute", body,
                              {"Content-Type": "application/json",
                               "Accept": "text/event-stream"})
            resp = self.conn.getresponse()
            self.status = resp.status
            while True:
                line = resp.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\n")
                self.lines.append(line)
                if line.startswith("data: ") and self.lines[-2:-1] == ["event: stdout"]:
                    self.stdout += json.loads(line[len("data: "):])
                    if "started" in self.stdout:
                        self.started.set()
                if line in ("event: result", "event: error"):
                    self.ended = True
        except Exception as e:  # reported by the test that reads it
            self.error = e
        self.done.set()

    def wait_started(self, seconds):
        """Whether the program printed "started" (else: the lines so far)."""
        wait_for(lambda: self.started.is_set() or self.done.is_set(), seconds,
                 "a stream's first output")
        return self.started.is_set()

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()


class StreamCapacity(unittest.TestCase):
    def test_sixty_four_streams_leave_short_requests_served(self):
        before = health()["jobs"]
        self.assertGreaterEqual(before["maxStreams"], STREAMS)
        code = f"import time\nprint('started', flush=True)\ntime.sleep({WALL_S - 10})"
        streams = [RawStream(code, f"127.0.1.{i + 1}") for i in range(STREAMS)]
        try:
            for s in streams:
                self.assertTrue(s.wait_started(180), (s.error, s.lines))
                self.assertEqual(s.status, 200)
            running = health()["jobs"]
            self.assertEqual(running["streamsRunning"], STREAMS, running)

            # Short requests from other clients, while every stream runs.
            for i in range(3):
                st, _, raw = svc.post_json("/api/python/execute", {"code": f"print({i})"},
                                           source="127.0.2.1")
                self.assertEqual((st, json.loads(raw)["output"]), (200, f"{i}\n"), raw)
            st, _, raw = svc.post_json("/api/insights/python-execution",
                                       {"code": "import pandas\nprint('routed')"},
                                       source="127.0.2.2")
            self.assertEqual((st, json.loads(raw)["engine"]), (200, "native"), raw)
            st, _, raw = svc.post_json("/sandbox/create", {}, source="127.0.2.3")
            self.assertEqual(st, 201, raw)
            sid = json.loads(raw)["sandbox_id"]
            st, _, raw = svc.post_json(f"/sandbox/{sid}/execute", {"code": "print(7)"},
                                       source="127.0.2.3")
            self.assertEqual((st, json.loads(raw)["output"]), (200, "7\n"), raw)
            self.assertEqual(svc.request("DELETE", f"/sandbox/{sid}")[0], 200)
            self.assertEqual(svc.get("/api/python/health", source="127.0.2.4")[0], 200)

            # ...and all of that while the streams were still running.
            self.assertEqual([s for s in streams if s.ended], [])
            self.assertEqual(health()["jobs"]["streamsRunning"], STREAMS)
        finally:
            for s in streams:
                s.close()
        # Closing a stream kills its run, and frees its slot.
        wait_for(lambda: health()["jobs"]["streamsRunning"] == 0, 60,
                 "the abandoned streams' jobs to be killed")


class Heartbeats(unittest.TestCase):
    def test_a_quiet_stream_gets_heartbeat_comments(self):
        if os.geteuid() != 0:
            self.skipTest("finding a jail's /tmp from the host needs root")
        token = "hb-" + os.urandom(4).hex()
        code = PRELUDE + f"\nprint('started', flush=True)\nwait_until_released('{token}')\n" \
                         "print('end')"
        s = RawStream(code, "127.0.3.1", wall=60)
        self.assertTrue(s.wait_started(60), (s.error, s.lines))

        def holder():
            for pid in filter(str.isdigit, os.listdir("/proc")):
                if os.path.exists(f"/proc/{pid}/root/tmp/{token}.ready"):
                    return pid
            return None
        pid = wait_for(holder, 30, "the jail holding the stream's program")
        # The program waits (prints nothing) until released: heartbeats come.
        wait_for(lambda: ": hb" in s.lines, 60, "a heartbeat on the quiet stream")
        self.assertFalse(s.ended)
        os.unlink(f"/proc/{pid}/root/tmp/{token}.ready")
        self.assertTrue(s.done.wait(60))
        self.assertTrue(s.ended)
        self.assertIn("event: result", s.lines)
        result = json.loads(s.lines[s.lines.index("event: result") + 1][len("data: "):])
        self.assertEqual(result["output"], "started\nend\n")
        s.close()


if __name__ == "__main__":
    unittest.main()
