"""Asynchronous executions: POST /api/python/executions, GET and DELETE .../{id}."""

import concurrent.futures
import json
import os
import re
import signal
import time
import unittest

from tests.http.service import Service

svc = None
RUNS = "/api/python/executions"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# One more than the per-client cap kept in cgi/front/arun.h (ARUN_CLIENT_MAX_ACTIVE).
CLIENT_MAX_ACTIVE = 8


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
