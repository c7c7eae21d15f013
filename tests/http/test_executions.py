"""Asynchronous executions: POST /api/python/executions, GET and DELETE .../{id},
GET .../{id}/events, and runs in a stateful sandbox (sandbox_id).

That output is stored and sent while a run still runs is shown without
timing anything, as tests/http/test_live.py does: the program prints, then
waits until the test removes a file in its jail's /tmp."""

import concurrent.futures
import http.client
import json
import os
import re
import signal
import time
import unittest

from tests.http.service import ROOT, Service
from tests.http.service import wait_for as wait_until
from tests.http.test_live import jail_holding, release

svc = None
RUNS = "/api/python/executions"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# One more than the per-client cap kept in cgi/front/arun.h (ARUN_CLIENT_MAX_ACTIVE).
CLIENT_MAX_ACTIVE = 8
PRELUDE = open(os.path.join(ROOT, "tests", "hostile", "prelude.py")).read()


def held_program(token, before="print('start', flush=True)", after="print('end')"):
    """A program that runs `before`, then waits until the test releases it."""
    return f"{PRELUDE}\n{before}\nwait_until_released('{token}')\n{after}"


class Events:
    """GET .../{id}/events, read one event (or heartbeat) at a time."""

    def __init__(self, run_id, last_event_id=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=60)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", f"{RUNS}/{run_id}/events", headers=headers)
        self.resp = self.conn.getresponse()

    def next(self):
        """(id, name, data) of the next event, ("", "heartbeat", None) for a
        heartbeat comment, or None at the end of the stream."""
        fields = {}
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\n")
            if line == ": hb":
                return ("", "heartbeat", None)
            if line == "":
                if fields:
                    return (fields["id"], fields["event"], json.loads(fields["data"]))
                continue
            name, _, value = line.partition(": ")
            fields[name] = value

    def all(self):
        out = []
        while (ev := self.next()) is not None:
            out.append(ev)
        return out

    def close(self):
        self.conn.close()


def setUpModule():
    global svc
    svc = Service().start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()


def submit(body, source="127.0.0.1"):
    status, headers, raw = svc.post_json(RUNS, body, source=source)
    return status, headers, json.loads(raw)


def status_of(run_id, source="127.0.0.1"):
    status, _, raw = svc.get(f"{RUNS}/{run_id}", source=source)
    return status, json.loads(raw)


def wait_for(run_id, statuses=("completed", "failed", "cancelled"), seconds=90, service=None):
    deadline = time.monotonic() + seconds
    while True:
        st, _, raw = (service or svc).get(f"{RUNS}/{run_id}")
        r = json.loads(raw)
        if st != 200 or r["status"] in statuses or time.monotonic() > deadline:
            return st, r
        time.sleep(0.2)


def jobs_running():
    return json.loads(svc.get("/api/python/health")[2])["jobs"]["running"]


def task_pids(run_id):
    """Processes running the task of run_id: named "run-" and the id's first
    11 characters (cgi/front/arun.c's task_name)."""
    want = f"run-{run_id[:11]}\n"
    found = []
    for p in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read() == want:
                    found.append(int(p))
        except OSError:
            continue
    return found


class LifecycleTests(unittest.TestCase):
    def test_submit_then_poll_until_completed(self):
        st, headers, r = submit({"code": "print(sum(r['x'] for r in data))\n__result__ = {'n': len(data)}",
                                 "data": [{"x": 1}, {"x": 2.5}]})
        self.assertEqual(st, 202, r)
        self.assertRegex(r["id"], r"^[0-9a-f]{32}$")
        self.assertEqual(r["status"], "queued")
        self.assertEqual(r["statusUrl"], f"{RUNS}/{r['id']}")
        self.assertEqual(headers["location"], f"{RUNS}/{r['id']}")
        self.assertEqual(headers["retry-after"], "1")
        st, done = wait_for(r["id"])
        self.assertEqual((st, done["status"], done["error"]), (200, "completed", None), done)
        res = done["result"]
        self.assertEqual((res["success"], res["status"], res["output"]), (True, "ok", "3.5\n"))
        self.assertEqual(res["result"], {"n": 2})
        self.assertEqual(res["engine"], "native")
        for k in ("createdAt", "startedAt", "finishedAt"):
            self.assertRegex(done[k], ISO)
        self.assertLessEqual(done["createdAt"], done["startedAt"])
        self.assertLessEqual(done["startedAt"], done["finishedAt"])

    def test_a_failing_program_is_completed_with_its_error(self):
        _, _, r = submit({"code": "raise ValueError('nope')"})
        st, done = wait_for(r["id"])
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["result"]["status"], "error")
        self.assertEqual(done["result"]["error"]["type"], "ValueError")

    def test_requirements_travel_with_the_run(self):
        _, _, r = submit({"code": "import time\ntime.sleep(5)", "requirements": {"maxExecutionTime": 1}})
        _, done = wait_for(r["id"])
        self.assertEqual((done["status"], done["result"]["status"]), ("completed", "timeout"))

    def test_limits_the_engine_refuses_are_refused_at_once(self):
        st, _, r = submit({"code": "1", "requirements": {"maxExecutionTime": 100000}})
        ref_st, _, ref = svc.post_json("/api/python/execute",
                                       {"code": "1", "requirements": {"maxExecutionTime": 100000}})
        self.assertEqual((st, r["error"]["code"]), (ref_st, json.loads(ref)["error"]["code"]))
        self.assertGreaterEqual(st, 400)

    def test_cancel_kills_the_task_and_the_jailed_job(self):
        _, _, r = submit({"code": "import time\ntime.sleep(30)\nprint('not cancelled')"})
        rid = r["id"]
        deadline = time.monotonic() + 30
        while jobs_running() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(status_of(rid)[1]["status"], "running")
        self.assertEqual(len(task_pids(rid)), 1)
        st, headers, raw = svc.request("DELETE", f"{RUNS}/{rid}")
        body = json.loads(raw)
        self.assertEqual((st, body["status"], body["error"]["code"]), (202, "cancelled", "cancelled"))
        deadline = time.monotonic() + 10
        while (jobs_running() > 0 or task_pids(rid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(jobs_running(), 0)
        self.assertEqual(task_pids(rid), [])
        st, r = status_of(rid)
        self.assertEqual((st, r["status"], r["result"]), (200, "cancelled", None))
        self.assertRegex(r["finishedAt"], ISO)
        # Cancelled is final: a second DELETE conflicts.
        st, _, raw = svc.request("DELETE", f"{RUNS}/{rid}")
        self.assertEqual(st, 409)
        self.assertIn("cancelled", json.loads(raw)["error"]["message"])

    def test_a_run_whose_task_died_is_failed_as_lost(self):
        _, _, r = submit({"code": "import time\ntime.sleep(30)"})
        rid = r["id"]
        deadline = time.monotonic() + 30
        while status_of(rid)[1]["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(len(task_pids(rid)), 1)
        for pid in task_pids(rid):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while task_pids(rid) and time.monotonic() < deadline:
            time.sleep(0.1)
        st, r = status_of(rid)
        self.assertEqual((st, r["status"], r["error"]["code"]), (200, "failed", "lost"), r)
        self.assertIn("the run was lost", r["error"]["message"])
        deadline = time.monotonic() + 10
        while jobs_running() > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(jobs_running(), 0)

    def test_cancel_at_once_never_runs_it(self):
        _, _, r = submit({"code": "import time\ntime.sleep(30)"})
        st, _, raw = svc.request("DELETE", f"{RUNS}/{r['id']}")
        self.assertEqual((st, json.loads(raw)["status"]), (202, "cancelled"))
        deadline = time.monotonic() + 10
        while task_pids(r["id"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(task_pids(r["id"]), [])
        self.assertEqual(status_of(r["id"])[1]["status"], "cancelled")

    def test_delete_of_a_finished_run_conflicts(self):
        _, _, r = submit({"code": "print(1)"})
        wait_for(r["id"])
        st, _, raw = svc.request("DELETE", f"{RUNS}/{r['id']}")
        err = json.loads(raw)["error"]
        self.assertEqual((st, err["code"]), (409, "conflict"))
        self.assertIn("completed", err["message"])
        self.assertEqual(status_of(r["id"])[1]["status"], "completed")


def needs_root(test):
    return unittest.skipIf(os.geteuid() != 0, "finding a jail's /tmp from the host needs root")(test)


class OutputSoFarTests(unittest.TestCase):
    @needs_root
    def test_output_written_so_far_is_visible_while_the_run_runs(self):
        token = "so-far-" + os.urandom(4).hex()
        _, _, r = submit({"code": held_program(
            token, before="import sys\nprint('start', flush=True)\nsys.stderr.write('warn\\n')")})
        pid = jail_holding(token)  # the program waits: it has not ended
        try:
            st, now = wait_until(lambda: (lambda a: a if a[1]["stderr"] else None)(status_of(r["id"])),
                               30, "the stored output")
            self.assertEqual((st, now["status"]), (200, "running"))
            self.assertEqual((now["output"], now["stderr"]), ("start\n", "warn\n"))
            self.assertEqual(now["truncated"], {"stdout": False, "stderr": False})
            self.assertIsNone(now["result"])
        finally:
            release(pid, token)
        _, done = wait_for(r["id"])
        self.assertEqual(done["status"], "completed")
        self.assertEqual((done["output"], done["stderr"]), (done["result"]["output"], "warn\n"))
        self.assertEqual(done["output"], "start\nend\n")

    def test_a_stream_past_its_cap_is_kept_to_the_cap_and_marked_truncated(self):
        _, _, r = submit({"code": "import sys\nsys.stdout.write('x' * (1024 * 1024 + 10))"})
        _, done = wait_for(r["id"])
        self.assertEqual(done["result"]["status"], "output_limit")
        self.assertEqual(len(done["output"]), 1024 * 1024)
        self.assertEqual(done["truncated"], {"stdout": True, "stderr": False})

    def test_many_small_writes_are_stored_in_fewer_chunks(self):
        _, _, r = submit({"code": "import sys\nfor i in range(2000):\n"
                                  "    sys.stdout.write(f'{i}\\n'); sys.stdout.flush()"})
        _, done = wait_for(r["id"])
        self.assertEqual(done["output"], "".join(f"{i}\n" for i in range(2000)))
        ev = Events(r["id"])
        chunks = [e for e in ev.all() if e[1] == "stdout"]
        ev.close()
        # 2000 flushed writes; batching (cgi/front/runout.h) stores far fewer chunks.
        self.assertLess(len(chunks), 200)
        self.assertEqual("".join(d for _, _, d in chunks), done["output"])


class EventsTests(unittest.TestCase):
    def test_an_ended_run_replays_every_event_then_ends(self):
        _, _, r = submit({"code": "import sys\nprint('one', flush=True)\n"
                                  "sys.stderr.write('two\\n'); sys.stderr.flush()\n"
                                  "print('three')\n__result__ = 3"})
        _, done = wait_for(r["id"])
        ev = Events(r["id"])
        self.assertEqual(ev.resp.status, 200)
        self.assertTrue(ev.resp.getheader("content-type").startswith("text/event-stream"))
        events = ev.all()
        ev.close()
        ids = [int(i) for i, _, _ in events]
        self.assertEqual(ids, list(range(1, len(events) + 1)))
        self.assertEqual(events[-1][1], "result")
        self.assertEqual(events[-1][2], done["result"])
        self.assertEqual("".join(d for _, n, d in events if n == "stdout"), "one\nthree\n")
        self.assertEqual("".join(d for _, n, d in events if n == "stderr"), "two\n")

    def test_last_event_id_gives_only_the_later_events(self):
        _, _, r = submit({"code": "import sys\nfor i in range(5):\n"
                                  "    print(i, flush=True); sys.stderr.write(f'e{i}\\n'); "
                                  "sys.stderr.flush()"})
        wait_for(r["id"])
        ev = Events(r["id"])
        everything = ev.all()
        ev.close()
        self.assertGreater(len(everything), 2)
        for seen in range(len(everything)):
            ev = Events(r["id"], last_event_id=seen)
            rest = ev.all()
            ev.close()
            self.assertEqual(rest, everything[seen:], seen)

    def test_a_reconnect_after_the_last_event_is_told_to_stop(self):
        _, _, r = submit({"code": "print(1)"})
        wait_for(r["id"])
        ev = Events(r["id"])
        last = ev.all()[-1]
        ev.close()
        self.assertEqual(last[1], "result")
        for after in (int(last[0]), int(last[0]) + 5):
            ev = Events(r["id"], last_event_id=after)
            self.assertEqual(ev.resp.status, 204)  # EventSource stops reconnecting
            self.assertEqual(ev.resp.read(), b"")
            ev.close()

    @needs_root
    def test_events_follow_a_running_run_and_a_reconnect_resumes(self):
        token = "events-" + os.urandom(4).hex()
        _, _, r = submit({"code": held_program(token)})
        ev = Events(r["id"])
        first = ev.next()
        self.assertEqual(first[1], "stdout")
        self.assertTrue("start\n".startswith(first[2]))
        pid = jail_holding(token)  # still running: the event came before the end
        self.assertEqual(status_of(r["id"])[1]["status"], "running")
        ev.close()  # a client that leaves does not end the run
        release(pid, token)
        again = Events(r["id"], last_event_id=first[0])
        rest = again.all()
        again.close()
        self.assertEqual([n for _, n, _ in rest][-1], "result")
        self.assertEqual(first[2] + "".join(d for _, n, d in rest if n == "stdout"), "start\nend\n")
        self.assertGreater(int(rest[0][0]), int(first[0]))

    @needs_root
    def test_a_quiet_run_gets_heartbeats(self):
        token = "hb-" + os.urandom(4).hex()
        _, _, r = submit({"code": held_program(token, before="print('waiting', flush=True)")})
        ev = Events(r["id"])
        seen = ""
        while seen != "waiting\n":  # print may write the text and its newline apart
            name, data = ev.next()[1:]
            self.assertEqual(name, "stdout")
            seen += data
        pid = jail_holding(token)
        try:
            # Nothing happens until the release: the next thing sent is a
            # heartbeat (ARUN_EVENTS_HEARTBEAT_MS, 15 s).
            self.assertEqual(ev.next(), ("", "heartbeat", None))
        finally:
            release(pid, token)
        self.assertEqual([n for _, n, _ in ev.all()][-1], "result")
        ev.close()

    def test_a_cancelled_run_ends_with_an_error_event(self):
        _, _, r = submit({"code": "import time\nprint('x', flush=True)\ntime.sleep(30)"})
        wait_until(lambda: status_of(r["id"])[1]["output"] == "x\n", 30, "the first output")
        self.assertEqual(svc.request("DELETE", f"{RUNS}/{r['id']}")[0], 202)
        ev = Events(r["id"])
        events = ev.all()
        ev.close()
        self.assertEqual("".join(d for _, n, d in events if n == "stdout"), "x\n")
        self.assertEqual(events[-1][1], "error")
        self.assertEqual(events[-1][2]["error"]["code"], "cancelled")

    def test_unknown_runs_bad_ids_and_methods(self):
        st, _, raw = svc.get(f"{RUNS}/{'0' * 32}/events")
        self.assertEqual((st, json.loads(raw)["error"]["code"]), (404, "not_found"))
        st, _, raw = svc.get(f"{RUNS}/xyz/events")
        self.assertEqual(st, 404)
        _, _, r = submit({"code": "print(1)"})
        st, headers, _ = svc.request("POST", f"{RUNS}/{r['id']}/events", "{}")
        self.assertEqual((st, headers["allow"]), (405, "GET"))
        st, _, raw = svc.get(f"{RUNS}/{r['id']}/events", headers={"Last-Event-ID": "abc"})
        self.assertEqual((st, json.loads(raw)["error"]["code"]), (400, "invalid_field"))
        st, _, _ = svc.get(f"{RUNS}/{r['id']}/other")
        self.assertEqual(st, 404)


class SandboxTests(unittest.TestCase):
    def make_sandbox(self):
        st, _, raw = svc.post_json("/sandbox/create", {})
        self.assertEqual(st, 201, raw)
        sid = json.loads(raw)["sandbox_id"]
        self.addCleanup(svc.request, "DELETE", f"/sandbox/{sid}")
        return sid

    def sync(self, sid, code):
        st, _, raw = svc.post_json(f"/sandbox/{sid}/execute", {"code": code})
        return st, json.loads(raw)

    def test_state_is_shared_with_the_sandbox_both_ways(self):
        sid = self.make_sandbox()
        self.assertEqual(self.sync(sid, "x = 41")[0], 200)
        _, _, r = submit({"code": "x += 1\nprint(x)", "sandbox_id": sid})
        _, done = wait_for(r["id"])
        self.assertEqual((done["status"], done["sandboxId"]), ("completed", sid))
        self.assertEqual(done["result"]["output"], "42\n")
        self.assertEqual(done["result"]["metadata"]["sandbox"]["sandbox_id"], sid)
        _, _, r = submit({"code": "y = x * 2", "sandbox_id": sid})
        self.assertEqual(wait_for(r["id"])[1]["status"], "completed")
        st, answer = self.sync(sid, "print(x, y)")
        self.assertEqual((st, answer["output"]), (200, "42 84\n"))

    def test_data_rebinds_and_its_absence_keeps_it(self):
        sid = self.make_sandbox()
        _, _, r = submit({"code": "print(len(data))", "data": [1, 2, 3], "sandbox_id": sid})
        self.assertEqual(wait_for(r["id"])[1]["result"]["output"], "3\n")
        _, _, r = submit({"code": "print(len(data))", "sandbox_id": sid})
        self.assertEqual(wait_for(r["id"])[1]["result"]["output"], "3\n")

    def test_unknown_and_malformed_sandboxes_are_refused_as_the_sandbox_endpoint_refuses(self):
        sid = self.make_sandbox()
        self.assertEqual(svc.request("DELETE", f"/sandbox/{sid}")[0], 200)
        for bad in (sid, "0" * 32, "nope", "0" * 31):
            st, _, r = submit({"code": "1", "sandbox_id": bad})
            ref_st, ref = self.sync(bad, "1")
            self.assertEqual((st, r["error"]["code"]), (ref_st, ref["error"]["code"]), bad)
            self.assertIn(st, (404, 410), bad)

    def test_requirements_do_not_go_with_a_sandbox(self):
        sid = self.make_sandbox()
        st, _, r = submit({"code": "1", "sandbox_id": sid, "requirements": {"maxExecutionTime": 5}})
        self.assertEqual((st, r["error"]["code"]), (400, "invalid_field"))

    @needs_root
    def test_a_busy_sandbox_fails_the_run_as_its_endpoint_would_answer(self):
        sid = self.make_sandbox()
        token = "busy-" + os.urandom(4).hex()
        held = concurrent.futures.ThreadPoolExecutor(1).submit(
            self.sync, sid, held_program(token, before="", after=""))
        pid = jail_holding(token)  # the sandbox is executing
        try:
            ref_st, ref = self.sync(sid, "1")
            _, _, r = submit({"code": "1", "sandbox_id": sid})
            _, done = wait_for(r["id"])
        finally:
            release(pid, token)
        self.assertEqual(held.result()[0], 200)
        self.assertEqual(ref_st, 409)
        self.assertEqual((done["status"], done["error"]["code"]), ("failed", ref["error"]["code"]))


class AddressingTests(unittest.TestCase):
    def test_unknown_and_malformed_ids_are_404(self):
        for path in ("0" * 32, "0" * 31, "0" * 33, "A" * 32, "g" * 32, "", "x/y",
                     "0" * 32 + "/", "%2e%2e", "0" * 200):
            for method in ("GET", "DELETE"):
                st, _, raw = svc.request(method, f"{RUNS}/{path}")
                self.assertEqual(st, 404, (method, path, raw))
                self.assertEqual(json.loads(raw)["error"]["code"], "not_found")

    def test_wrong_methods_are_405_with_allow(self):
        st, headers, _ = svc.request("PUT", f"{RUNS}/{'0' * 32}", "{}")
        self.assertEqual((st, headers["allow"]), (405, "GET, HEAD, DELETE"))
        st, headers, _ = svc.request("POST", f"{RUNS}/{'0' * 32}", "{}")
        self.assertEqual(st, 405)
        st, headers, _ = svc.get(RUNS)
        self.assertEqual((st, headers["allow"]), (405, "POST"))

    def test_bad_bodies_are_refused_as_execute_refuses_them(self):
        bodies = ["{", "[]", '{"data": []}', '{"code": 1}', '{"code": "1", "extra": 2}',
                  '{"code": "1", "requirements": {"preferredEngine": "browser"}}']
        for raw in bodies:
            st, _, got = svc.post_json(RUNS, raw=raw)
            ref_st, _, ref = svc.post_json("/api/python/execute", raw=raw)
            self.assertEqual(st, ref_st, raw)
            self.assertEqual(st // 100, 4, raw)
            self.assertEqual(json.loads(got)["error"]["code"], json.loads(ref)["error"]["code"])

    def test_a_run_is_visible_from_every_worker(self):
        _, _, r = submit({"code": "print('seen')"})
        wait_for(r["id"])

        # 12 at once, from 12 client addresses (one client may have 8
        # requests in progress): they are served by different workers.
        def read(i):
            return status_of(r["id"], source=f"127.0.0.{20 + i % 12}")
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(read, range(48)))
        bad = [(st, a) for st, a in answers
               if not (st == 200 and a["status"] == "completed" and a["result"]["output"] == "seen\n")]
        self.assertEqual(bad, [])


class ClientCapTests(unittest.TestCase):
    def test_one_client_may_have_eight_runs_in_progress(self):
        source = "127.0.0.5"
        ids = []
        try:
            for _ in range(CLIENT_MAX_ACTIVE):
                st, _, r = submit({"code": "import time\ntime.sleep(30)"}, source=source)
                self.assertEqual(st, 202, r)
                ids.append(r["id"])
            st, headers, r = submit({"code": "print(1)"}, source=source)
            self.assertEqual((st, r["error"]["code"]), (429, "client_limit"))
            self.assertIn("retry-after", headers)
            # Another client is not affected.
            st, _, other = submit({"code": "print(2)"}, source="127.0.0.6")
            self.assertEqual(st, 202)
            self.assertEqual(wait_for(other["id"])[1]["result"]["output"], "2\n")
            # Ending one run frees a place.
            self.assertEqual(svc.request("DELETE", f"{RUNS}/{ids.pop()}")[0], 202)
            st, _, r = submit({"code": "print(3)"}, source=source)
            self.assertEqual(st, 202)
            ids.append(r["id"])
        finally:
            for rid in ids:
                svc.request("DELETE", f"{RUNS}/{rid}")
        deadline = time.monotonic() + 15
        while jobs_running() > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(jobs_running(), 0)


class RetentionTests(unittest.TestCase):
    def test_ended_runs_are_deleted_after_the_retention(self):
        short = Service(env={"PYSANDBOX_EXECUTION_RETENTION": "3"}).start()
        try:
            st, _, raw = short.post_json(RUNS, {"code": "print(1)"})
            rid = json.loads(raw)["id"]
            st, r = wait_for(rid, service=short)
            self.assertEqual((st, r["status"]), (200, "completed"))
            time.sleep(4)
            st, _, raw = short.get(f"{RUNS}/{rid}")
            self.assertEqual(st, 404)
            self.assertIn("3 s", json.loads(raw)["error"]["message"])
        finally:
            short.stop()


if __name__ == "__main__":
    unittest.main()
