"""The router endpoints: /api/insights/python-execution, .../report, python-benchmark."""

import concurrent.futures
import json
import re
import subprocess
import time
import unittest

from tests.http.service import MANY_CLIENTS_ON_ONE_ADDRESS, Service

svc = None
RUN = "/api/insights/python-execution"
REPORT = "/api/insights/python-execution/report"
BENCH = "/api/insights/python-benchmark"


def setUpModule():
    global svc
    svc = Service(env=MANY_CLIENTS_ON_ONE_ADDRESS).start()


def tearDownModule():
    svc.stop()


def run(body):
    status, headers, raw = svc.post_json(RUN, body)
    return status, headers, raw


def run_json(body):
    status, _, raw = run(body)
    return status, json.loads(raw)


def stats(window="1h"):
    status, _, raw = svc.get(f"{RUN}?window={window}")
    assert status == 200, raw
    return json.loads(raw)


class RoutingTests(unittest.TestCase):
    def test_api_callers_run_on_native_with_routing_metadata(self):
        status, r = run_json({"code": "import pandas as pd\nprint(pd.__name__)"})
        self.assertEqual(status, 200)
        self.assertEqual((r["engine"], r["status"], r["output"]), ("native", "ok", "pandas\n"))
        md = r["metadata"]
        self.assertFalse(md["fallbackUsed"])
        self.assertTrue(0 <= md["performanceScore"] <= 100)
        self.assertEqual([a["engine"] for a in md["attempts"]], ["native"])
        self.assertEqual(md["attempts"][0]["status"], "ok")
        self.assertIn("native", md["selectedBecause"])
        self.assertIn("resources", md)  # the engine's own metadata is kept

    def test_the_page_runs_stdlib_code_itself(self):
        status, r = run_json({"code": "import json\nprint(1)", "client": "page"})
        self.assertEqual((status, r["engine"], r["status"]), (200, "browser", "handoff"))
        self.assertNotIn("sandboxUrl", r)
        self.assertIn("browser", r["metadata"]["selectedBecause"])

    def test_the_page_sends_pandas_to_the_server(self):
        # The npm Pyodide release served here has no pandas wheel.
        status, r = run_json({"code": "import pandas\nprint(2)", "client": "page"})
        self.assertEqual((r["engine"], r["output"]), ("native", "2\n"))

    def test_cpu_intensive_page_runs_go_to_the_server(self):
        _, r = run_json({"code": "print(3)", "client": "page",
                         "requirements": {"cpuIntensive": True}})
        self.assertEqual(r["engine"], "native")

    def test_browser_preference_gives_a_working_sandbox_link(self):
        status, r = run_json({"code": "print('from a link')", "data": [{"k": 1.0}],
                              "requirements": {"preferredEngine": "browser"}})
        self.assertEqual((status, r["engine"], r["status"]), (200, "browser", "handoff"))
        url = r["sandboxUrl"]
        m = re.fullmatch(r"http://127\.0\.0\.1:\d+/(api/insights/python-sandbox\?run=[0-9a-f]{32})", url)
        self.assertIsNotNone(m, url)
        st, h, page = svc.get("/" + m.group(1))
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertIn(b'id="pysb-input">{"code":"print(\'from a link\')"', page)
        # byte for byte as posted (json.dumps wrote "1.0" with a space after ':')
        self.assertIn(b'id="pysb-data">[{"k": 1.0}]</script>', page)
        st, _, body = svc.get("/api/insights/python-sandbox?run=" + "0" * 32)
        self.assertEqual(st, 404)
        self.assertIn("expired", json.loads(body)["error"]["message"])

    def test_user_errors_never_fall_back(self):
        _, r = run_json({"code": "raise ValueError('mine')"})
        self.assertEqual((r["engine"], r["status"]), ("native", "error"))
        self.assertEqual(len(r["metadata"]["attempts"]), 1)
        self.assertFalse(r["metadata"]["fallbackUsed"])

    def test_refusals_name_every_engine(self):
        status, r = run_json({"code": "1", "requirements": {"networkAccess": True}})
        self.assertEqual(status, 422)
        self.assertEqual(r["error"]["code"], "refused")
        self.assertEqual(set(r["error"]["engines"]), {"browser", "native", "judge0"})
        self.assertIn("no network access", r["error"]["engines"]["native"])
        status, r = run_json({"code": "1", "requirements": {"maxExecutionTime": 99999}})
        self.assertEqual(status, 422)
        self.assertIn("above its limit", r["error"]["engines"]["native"])
        status, r = run_json({"code": "1", "requirements": {"preferredEngine": "judge0",
                                                             "fallbackAllowed": False}})
        self.assertEqual(status, 422)
        self.assertIn("fallbackAllowed is false", r["error"]["message"])

    def test_preferred_engine_not_usable_falls_back_with_a_reason(self):
        status, r = run_json({"code": "print(4)", "requirements": {"preferredEngine": "judge0"}})
        self.assertEqual((status, r["engine"]), (200, "native"))
        self.assertIn("preferredEngine judge0 was not used", r["metadata"]["selectedBecause"])

    def test_bad_requests_are_named(self):
        for body, text in [({"code": "1", "speed": 3}, "unknown field 'speed'"),
                           ({"code": "1", "client": "robot"}, "'client' must be"),
                           ({"code": "1", "requirements": {"outputFormat": "pdf"}}, "json, text, html"),
                           ({"data": []}, "'code' is required")]:
            status, r = run_json(body)
            self.assertEqual(status, 400, body)
            self.assertIn(text, r["error"]["message"])

    def test_output_formats(self):
        status, h, body = run({"code": "print('hi')\n__result__ = {'a': 1}",
                               "requirements": {"outputFormat": "text"}})
        self.assertTrue(h["content-type"].startswith("text/plain"))
        self.assertTrue(body.decode().startswith("hi\n--- result ---\n"))
        status, h, body = run({"code": "print('<b>x</b>')\nimport matplotlib.pyplot as plt\nplt.plot([1])",
                               "requirements": {"outputFormat": "html"}})
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertIn(b"&lt;b&gt;x&lt;/b&gt;", body)
        self.assertNotIn(b"<b>x</b>", body)
        self.assertIn(b'<img alt="chart" src="data:image/png;base64,', body)


class EngineRestartTests(unittest.TestCase):
    def test_a_restarting_engine_is_503_with_retry_after_never_422(self):
        # Four clients keep asking the router while the executor is killed
        # and restarted: while it is away they get 503 with Retry-After
        # (come back), never 422 (do not come back), and they are served
        # again as soon as it answers, not after a fixed back-off.
        import os
        import signal
        executors = svc.pids("pysandbox-executor")
        self.assertEqual(len(executors), 1)
        seen = []
        stop_at = [None]

        # The FastCGI workers remember the failure for 5 s (they try the
        # engine last meanwhile): the other tests of this module start clean.
        self.addCleanup(lambda: time.sleep(max(0.0, 5.5 - (time.monotonic() - max(
            (t for t, st, _, _ in seen if st != 200), default=0.0)))))

        def client():
            while True:
                started = time.monotonic()  # a request is judged by when it was sent
                status, headers, raw = run({"code": "print(1)",
                                            "requirements": {"cpuIntensive": True}})
                seen.append((started, status, headers.get("retry-after"), raw[:300]))
                if stop_at[0] is not None and time.monotonic() > stop_at[0]:
                    return

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client) for _ in range(4)]
            time.sleep(0.5)
            killed_at = time.monotonic()
            os.kill(executors[0], signal.SIGKILL)
            deadline = killed_at + 30
            while time.monotonic() < deadline:
                if any(t > killed_at + 0.2 and st == 200 for t, st, _, _ in list(seen)):
                    break
                time.sleep(0.1)
            stop_at[0] = time.monotonic() + 1.5
            for f in futures:
                f.result(timeout=60)
        after = [(t, st, ra, raw) for t, st, ra, raw in seen if t > killed_at]
        self.assertTrue(any(st == 200 for _, st, _, _ in after), "never served again")
        self.assertFalse([x for x in after if x[1] not in (200, 503)], after[:5])
        for _, st, ra, raw in after:
            if st == 503:
                self.assertEqual(ra, "2", raw)
        # Once served again, the next ones are served too (no back-off refusals).
        first_ok = min(t for t, st, _, _ in after if st == 200)
        self.assertEqual([st for t, st, _, _ in after if t > first_ok + 1.0 and st != 200], [])


class ReportAndStatsTests(unittest.TestCase):
    def test_browser_reports_feed_the_statistics(self):
        before = stats()["engines"]["browser"]["count"]
        for ms, status in [(12.5, "ok"), (30, "ok"), (8, "error")]:
            st, _, body = svc.post_json(REPORT, {"engine": "browser", "status": status,
                                                 "executionTime": ms, "codeBytes": 10})
            self.assertEqual(st, 201, body)
        b = stats()["engines"]["browser"]
        self.assertEqual(b["count"], before + 3)
        self.assertGreater(b["p50"], 0)
        self.assertLess(b["successRate"], 1.0)

    def test_runs_of_the_native_endpoint_feed_the_statistics(self):
        before = stats()["engines"]["native"]
        status, answer = svc.execute("print('counted')")
        self.assertEqual((status, answer["status"], answer["output"]), (200, "ok", "counted\n"))
        # The endpoint's own answer carries no routing metadata: it is the engine's.
        self.assertNotIn("attempts", answer["metadata"])
        after = stats()["engines"]["native"]
        self.assertEqual(after["count"], before["count"] + 1)
        # A refusal is not a run: nothing is recorded for it.
        st, _, body = svc.post_json("/api/python/execute",
                                    {"code": "print(1)", "requirements": {"maxExecutionTime": 100000}})
        self.assertEqual(st, 422, body)
        self.assertEqual(stats()["engines"]["native"]["count"], before["count"] + 1)

    def test_bad_reports_are_refused(self):
        for body, text in [({"engine": "native", "status": "ok"}, "must be \"browser\""),
                           ({"engine": "browser", "status": "great"}, "must be one of"),
                           ({"engine": "browser", "status": "ok", "executionTime": -1}, "from 0 to 1e9"),
                           ({"engine": "browser", "status": "ok", "secret": 1}, "unknown field")]:
            st, _, raw = svc.post_json(REPORT, body)
            self.assertEqual(st, 400, body)
            self.assertIn(text, json.loads(raw)["error"]["message"])

    def test_statistics_shape_and_windows(self):
        run_json({"code": "print(5)"})
        s = stats("1h")
        self.assertEqual(s["windowSeconds"], 3600)
        n = s["engines"]["native"]
        for key in ("available", "reason", "count", "successRate", "avgExecutionTime", "p50", "p95",
                    "lastError", "performanceScore"):
            self.assertIn(key, n)
        self.assertGreaterEqual(n["count"], 1)
        self.assertTrue(n["available"])
        self.assertFalse(s["engines"]["judge0"]["available"])
        self.assertIn("JUDGE0_API_URL", s["engines"]["judge0"]["reason"])
        self.assertIn(s["health"]["native"]["status"], ("ok", "degraded"))
        self.assertEqual(stats("7d")["windowSeconds"], 7 * 86400)
        st, _, body = svc.get(RUN + "?window=forever")
        self.assertEqual(st, 400)

    def test_time_series_for_the_charts(self):
        run_json({"code": "print(6)"})
        st, _, raw = svc.get(RUN + "?window=1h&series=5m")
        self.assertEqual(st, 200, raw)
        s = json.loads(raw)
        self.assertEqual(s["seriesBucketSeconds"], 300)
        native = [p for p in s["series"] if p["engine"] == "native"]
        self.assertGreaterEqual(sum(p["count"] for p in native), 1)
        self.assertTrue(all(p["t"] % 300 == 0 for p in s["series"]))
        st, _, _ = svc.get(RUN + "?window=7d&series=1s")  # too many buckets
        self.assertEqual(st, 400)

    def test_concurrent_workers_keep_the_store_intact(self):
        before = stats()["engines"]["native"]["count"]

        def one(i):
            return run_json({"code": f"print({i})"})[1]["output"]

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            outs = list(pool.map(one, range(60)))
        self.assertEqual(outs, [f"{i}\n" for i in range(60)])
        self.assertEqual(stats()["engines"]["native"]["count"], before + 60)
        check = subprocess.run(["sqlite3", f"{svc.run_dir}/pysandbox.db", "PRAGMA integrity_check;"],
                               capture_output=True, text=True, check=True)
        self.assertEqual(check.stdout.strip(), "ok")


class BenchmarkTests(unittest.TestCase):
    def test_a_server_run_reports_progress_and_a_summary(self):
        st, _, raw = svc.post_json(BENCH, {"suite": "hello", "iterations": 3})
        self.assertEqual(st, 202, raw)
        run_id = json.loads(raw)["id"]
        deadline = time.time() + 60
        seen_running = False
        while time.time() < deadline:
            st, _, raw = svc.get(f"{BENCH}?id={run_id}")
            r = json.loads(raw)
            if r["status"] == "running":
                seen_running = True
                self.assertTrue(0 <= r["progress"] <= 1)
            else:
                break
            time.sleep(0.2)
        self.assertEqual(r["status"], "done", r)
        self.assertEqual((r["done"], r["total"]), (3, 3))
        (case,) = r["summary"]
        self.assertEqual((case["case"], case["engine"], case["runs"], case["ok"]), ("hello", "native", 3, 3))
        self.assertGreater(case["p50Ms"], 0)
        self.assertTrue(seen_running or r["finishedAt"] is not None)

    def test_a_failed_run_names_its_cause(self):
        # An instance whose native engine cannot be reached: the run fails,
        # and its report says which case failed where, and why.
        down = Service(env={"PYSANDBOX_EXECUTOR_SOCKET": "/nonexistent/pysandbox-executor.sock"})
        down.start()
        try:
            st, _, raw = down.post_json(BENCH, {"suite": "hello", "iterations": 1})
            self.assertEqual(st, 202, raw)
            run_id = json.loads(raw)["id"]
            deadline = time.time() + 60
            while time.time() < deadline:
                r = json.loads(down.get(f"{BENCH}?id={run_id}")[2])
                if r["status"] != "running":
                    break
                time.sleep(0.2)
            self.assertEqual(r["status"], "failed", r)
            self.assertIn("the first failure: hello on native: ", r["error"])
            self.assertGreater(len(r["error"].split("hello on native: ", 1)[1]), 10, r["error"])
        finally:
            down.stop()

    def test_browser_results_are_stored(self):
        st, _, raw = svc.post_json(BENCH, {"source": "browser", "suite": "hello",
                                           "results": [{"case": "hello", "status": "ok", "wallMs": 4},
                                                       {"case": "hello", "status": "ok", "wallMs": 6},
                                                       {"case": "hello", "status": "error", "wallMs": 1}]})
        self.assertEqual(st, 201, raw)
        run_id = json.loads(raw)["id"]
        st, _, raw = svc.get(f"{BENCH}?perPage=50")
        hist = json.loads(raw)
        mine = [h for h in hist["history"] if h["id"] == run_id]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["source"], "browser")
        self.assertEqual(mine[0]["summary"][0]["ok"], 2)
        self.assertEqual(mine[0]["summary"][0]["p50Ms"], 4)
        created = [h["createdAt"] for h in hist["history"]]
        self.assertEqual(created, sorted(created, reverse=True))  # newest first

    def test_history_pages(self):
        for _ in range(3):
            svc.post_json(BENCH, {"source": "browser", "suite": "hello",
                                  "results": [{"case": "hello", "status": "ok", "wallMs": 1}]})
        st, _, raw = svc.get(f"{BENCH}?perPage=2&page=1")
        p1 = json.loads(raw)
        st, _, raw = svc.get(f"{BENCH}?perPage=2&page=2")
        p2 = json.loads(raw)
        self.assertEqual(len(p1["history"]), 2)
        self.assertEqual(p1["total"], p2["total"])
        self.assertFalse({h["id"] for h in p1["history"]} & {h["id"] for h in p2["history"]})

    def test_the_case_catalogue_for_the_browser(self):
        st, h, raw = svc.get(BENCH + "?cases=1")
        self.assertEqual(st, 200, raw)
        self.assertTrue(h["content-type"].startswith("application/json"))
        c = json.loads(raw)
        self.assertEqual([x["name"] for x in c["cases"]],
                         ["hello", "pandas-describe", "numpy-matmul", "matplotlib-chart", "cpu-loop"])
        hello, pandas = c["cases"][0], c["cases"][1]
        self.assertEqual((hello["code"], hello["packages"], hello["data"]), ("print(1)", "", False))
        self.assertEqual((pandas["packages"], pandas["data"]), ("pandas", True))
        self.assertEqual(len(c["data"]), 1000)
        self.assertEqual(set(c["data"][0]), {"id", "price", "qty"})
        # The same case on the same data is what a server run measures.
        st, r = run_json({"code": pandas["code"], "data": c["data"]})
        self.assertEqual((st, r["status"], r["result"]), (200, "ok", [8, 3]))
        st, _, raw = svc.get(BENCH + "?cases=1&id=" + "f" * 32)  # the catalogue wins
        self.assertEqual(st, 200, raw)
        self.assertIn("cases", json.loads(raw))
        st, _, raw = svc.get(BENCH + "?cases=" + "1" * 20)
        self.assertEqual(st, 400, raw)

    def test_bad_benchmark_requests(self):
        for body, text in [({"suite": "nope"}, "unknown suite"),
                           ({"iterations": 0}, "from 1 to 20"),
                           ({"engines": ["browser"]}, "server engines"),
                           ({"source": "browser", "results": []}, "empty")]:
            st, _, raw = svc.post_json(BENCH, body)
            self.assertEqual(st, 400, body)
            self.assertIn(text, json.loads(raw)["error"]["message"])
        st, _, raw = svc.get(BENCH + "?id=" + "f" * 32)
        self.assertEqual(st, 404)


if __name__ == "__main__":
    unittest.main()
