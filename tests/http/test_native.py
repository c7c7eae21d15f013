"""The jailed native engine through real nginx, FastCGI and the executor."""

import base64
import json
import os
import signal
import socket
import time
import unittest

from tests.http.service import Service

svc = None
EXECUTE = "/api/python/execute"


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


def run(code, data=None, requirements=None, timeout=60):
    body = {"code": code}
    if data is not None:
        body["data"] = data
    if requirements is not None:
        body["requirements"] = requirements
    status, headers, raw = svc.post_json(EXECUTE, body, timeout=timeout)
    return status, json.loads(raw)


def health():
    status, _, raw = svc.get("/api/python/health")
    return status, json.loads(raw)


def wait_for_jobs(predicate, seconds, what):
    """Waits until predicate holds for the executor's job counters.  A health
    answer without them (the executor slow to answer on a loaded host) counts
    as "not yet"; the last such answer is named if the wait times out."""
    last_error = None

    def check():
        nonlocal last_error
        status, body = health()
        if status != 200 or "jobs" not in body:
            last_error = (status, body)
            return False
        return predicate(body["jobs"])

    try:
        wait_until(check, seconds, what)
    except AssertionError as e:
        raise AssertionError(f"{e}; last health answer without jobs: {last_error}") from None


def wait_until(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def process_gone(pid):
    """True once pid has exited (a zombie has an empty command line)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read() == b""
    except FileNotFoundError:
        return True


class ResultTests(unittest.TestCase):
    def test_print_returns_the_shared_schema(self):
        status, r = run("print(1)")
        self.assertEqual(status, 200)
        self.assertEqual(set(r), {"success", "status", "output", "stderr", "error", "result",
                                  "charts", "executionTime", "engine", "metadata"})
        self.assertEqual((r["success"], r["status"], r["output"], r["engine"]),
                         (True, "ok", "1\n", "native"))
        res = r["metadata"]["resources"]
        self.assertGreater(res["wallMs"], 0)
        self.assertIn("cpuMs", res)
        self.assertEqual(r["metadata"]["limits"]["wallTimeMs"], 30000)

    def test_data_arrives_exactly_as_posted(self):
        raw = ('{"code":"import json\\nprint(repr(data))",'
               '"data":[{"f":1.0,"i":12345678901234567890,"s":"\\u2028</script>","n":null}]}')
        status, _, body = svc.post_json(EXECUTE, raw=raw)
        r = json.loads(body)
        self.assertEqual(r["output"],
                         "[{'f': 1.0, 'i': 12345678901234567890, 's': '\\u2028</script>', 'n': None}]\n")

    def test_errors_carry_the_users_traceback(self):
        _, r = run("def f():\n    return 1 / 0\nf()\n")
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["error"]["type"], "ZeroDivisionError")
        self.assertEqual(r["error"]["line"], 2)
        self.assertIn('File "<sandbox>", line 2, in f', r["error"]["traceback"])
        self.assertNotIn("harness", r["error"]["traceback"])

    def test_stderr_is_captured_separately(self):
        _, r = run("import sys\nprint('out')\nprint('err', file=sys.stderr)")
        self.assertEqual((r["output"], r["stderr"]), ("out\n", "err\n"))

    def test_pandas_describe_on_posted_rows(self):
        rows = [{"x": i, "y": 2 * i} for i in range(1, 101)]
        _, r = run("import pandas as pd\nd = pd.DataFrame(data).describe()\n"
                   "__result__ = {'mean': d.loc['mean', 'y'], 'std': round(d.loc['std', 'x'], 6)}",
                   data=rows)
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(r["result"], {"mean": 101.0, "std": 29.011492})

    def test_dataframe_result_becomes_records_and_html(self):
        _, r = run("import pandas as pd\n__result__ = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})")
        res = r["result"]
        self.assertEqual(res["__type__"], "DataFrame")
        self.assertEqual(res["records"], [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
        self.assertIn("<table", res["html"])
        self.assertEqual(res["shape"], [2, 2])
        self.assertEqual(res["index"], ["0", "1"])

    def test_dataframe_result_keeps_its_row_labels(self):
        _, r = run("import pandas as pd\n__result__ = pd.DataFrame(data).describe()",
                   data=[{"x": 1}, {"x": 3}])
        res = r["result"]
        self.assertEqual(res["index"], ["count", "mean", "std", "min", "25%", "50%", "75%", "max"])
        self.assertEqual(res["records"][1], {"x": 2.0})

    def test_values_json_cannot_hold_are_marked(self):
        _, r = run("__result__ = {'s': {3}, 'nan': float('nan'), 'ok': [1, (2, 3)]}")
        self.assertEqual(r["result"]["ok"], [1, [2, 3]])
        self.assertEqual(r["result"]["s"], {"__type__": "set", "__repr__": "{3}"})
        self.assertEqual(r["result"]["nan"]["__repr__"], "nan")

    def test_numpy_and_scipy_compute_known_values(self):
        _, r = run("import numpy as np, scipy.stats as st\n"
                   "x = np.linalg.solve([[3, 1], [1, 2]], [9, 8])\n"
                   "fit = st.linregress([0, 1, 2, 3], [1, 3, 5, 7])\n"
                   "__result__ = [x.round(6), fit.slope, fit.intercept]")
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(r["result"], [[2.0, 3.0], 2.0, 1.0])

    def test_matplotlib_figures_come_back_as_png(self):
        _, r = run("import matplotlib.pyplot as plt\n"
                   "plt.plot([1, 2, 3]); plt.show()\n"
                   "fig, ax = plt.subplots(figsize=(4, 3)); ax.bar(['a', 'b'], [1, 2])\n")
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(len(r["charts"]), 2)
        png = base64.b64decode(r["charts"][1]["data"])
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual((r["charts"][1]["width"], r["charts"][1]["height"]), (400, 300))

    def test_libraries_behind_debian_alternatives_load(self):
        # liblapack.so.3 -> /etc/alternatives/... -> the real library: lazily
        # imported extensions need the symlink farm inside the jail.
        _, r = run("import ctypes\nctypes.CDLL('liblapack.so.3')\nctypes.CDLL('libblas.so.3')\nprint('ok')")
        self.assertEqual(r["output"], "ok\n", r["error"])

    def test_each_run_is_a_fresh_interpreter(self):
        _, r1 = run("import builtins\nbuiltins.leak = 42\nopen('/tmp/mark', 'w').write('x')")
        _, r2 = run("import builtins, os\nprint(hasattr(builtins, 'leak'), os.path.exists('/tmp/mark'))")
        self.assertEqual(r2["output"], "False False\n")

    def test_random_state_differs_between_runs(self):
        outs = {run("import random\nprint(random.random())")[1]["output"] for _ in range(3)}
        self.assertEqual(len(outs), 3)


OVERSIZED = r"""
import base64, json, sys
import numpy as np, matplotlib.pyplot as plt
rng = np.random.default_rng(1)
# Eight charts of noise (PNG cannot compress it: 3.9 MiB each, under the 4 MiB
# chart cap) and a 6 MB result: 47 MB from the harness, under its 48 MiB cap.
for i in range(8):
    fig = plt.figure(figsize=(10.8, 10.8), dpi=100)
    fig.figimage(rng.integers(0, 255, (1080, 1080, 3), dtype=np.uint8))
plt.show()
# Output the answer escapes 6x (\u0001), just under each stream's 1 MiB cap.
sys.stdout.buffer.write(b"\x01" * (1024 * 1024 - 4096)); sys.stdout.flush()
sys.stderr.buffer.write(b"\x02" * (1024 * 1024 - 4096)); sys.stderr.flush()
__result__ = base64.b64encode(rng.bytes(4500 * 1024)).decode()
"""


class LimitTests(unittest.TestCase):
    def test_an_answer_over_the_cap_is_an_honest_output_limit(self):
        # Each part within its own limit, the sum over the executor's answer
        # cap: the answer gives up the charts (then the result) and says so;
        # never a 5xx, never an engine failure for the router.
        req = {"maxExecutionTime": 30, "maxMemoryUsage": 512}
        status, r = run(OVERSIZED, requirements=req, timeout=120)
        self.assertEqual(status, 200, r)
        self.assertEqual(r["status"], "output_limit", r["error"])
        self.assertEqual(r["error"]["type"], "OutputLimitExceeded")
        self.assertEqual(r["charts"], [])
        self.assertTrue(r["metadata"]["truncated"]["charts"])
        self.assertIn("charts were dropped", r["error"]["message"])
        self.assertEqual(len(r["output"]), 1024 * 1024 - 4096)  # the output itself is kept
        # Through the router: the same honest answer, and the native engine
        # is not held against it (the next run is served by it at once).
        status, _, raw = svc.post_json("/api/insights/python-execution",
                                       {"code": OVERSIZED, "requirements": {
                                           "maxExecutionTime": 30, "maxMemoryUsage": 512,
                                           "preferredEngine": "native"}}, timeout=120)
        r = json.loads(raw)
        self.assertEqual((status, r["status"], r["engine"]), (200, "output_limit", "native"))
        status, _, raw = svc.post_json("/api/insights/python-execution",
                                       {"code": "print(1)", "requirements": {"cpuIntensive": True}})
        r = json.loads(raw)
        self.assertEqual((status, r["engine"], r["metadata"]["fallbackUsed"]), (200, "native", False))
        self.assertNotIn("failed", r["metadata"]["selectedBecause"])

    def test_forged_numbers_stay_finite_json(self):
        # The program writes its own (forged) result frame with 1e999 as its
        # executionTime and inside its result: the answer must stay JSON a
        # strict parser (no Infinity) reads.
        code = ("import os, json\n"
                "doc = '{\"status\":\"ok\",\"output\":\"\",\"stderr\":\"\",\"error\":null,"
                "\"result\":{\"a\":[1, -2.5e999]},\"charts\":[],\"executionTime\":1e999,"
                "\"limits\":{}}'\n"
                "os.write(3, len(doc).to_bytes(4, 'little') + doc.encode())\n"
                "os._exit(0)\n")
        status, _, raw = svc.post_json(EXECUTE, {"code": code})
        self.assertEqual(status, 200)

        def no_constants(name):
            raise AssertionError(f"{name} in the answer")
        r = json.loads(raw, parse_constant=no_constants)
        self.assertLess(r["executionTime"], 1e9)
        self.assertEqual(r["result"]["__type__"], "error")
        # A forged frame repeating the members of its error and charts: the
        # answer keeps one of each.
        code = ("import os\n"
                "doc = '{\"status\":\"ok\",\"status\":\"error\",\"output\":\"\",\"stderr\":\"\","
                "\"error\":{\"type\":\"A\",\"type\":\"B\",\"message\":\"m\",\"message\":\"n\","
                "\"traceback\":\"\"},\"result\":null,\"charts\":[{\"format\":\"png\",\"format\":\"png\","
                "\"data\":\"AA==\",\"data\":\"BB==\",\"width\":1e999}],\"executionTime\":1,\"limits\":{}}'\n"
                "os.write(3, len(doc).to_bytes(4, 'little') + doc.encode())\n"
                "os._exit(0)\n")
        status, _, raw = svc.post_json(EXECUTE, {"code": code})

        def unique_keys(pairs):
            keys = [k for k, _ in pairs]
            self.assertEqual(len(keys), len(set(keys)), keys)
            return dict(pairs)
        r = json.loads(raw, object_pairs_hook=unique_keys)
        self.assertEqual(r["error"]["type"], "A")
        self.assertNotIn("width", r["charts"][0])
        # Big integers are exact JSON and pass unchanged.
        status, r = run("__result__ = [2 ** 2000, 1.5e300]")
        self.assertEqual(r["result"], [2 ** 2000, 1.5e300])

    def test_wall_time_limit(self):
        t = time.time()
        _, r = run("while True: pass", requirements={"maxExecutionTime": 1})
        self.assertLess(time.time() - t, 10)
        self.assertEqual(r["status"], "timeout")
        self.assertEqual(r["error"]["type"], "TimeoutError")
        self.assertEqual(r["metadata"]["limits"]["wallTimeMs"], 1000)

    def test_cpu_time_limit_counts_cpu_not_waiting(self):
        # maxCpuTime bounds the CPU time of the whole jail, apart from the wall time.
        _, r = run("while True: pass",
                   requirements={"maxCpuTime": 0.5, "maxExecutionTime": 20})
        self.assertEqual(r["status"], "timeout", r["error"])
        self.assertIn("0.5 s of CPU time", r["error"]["message"])
        self.assertEqual(r["metadata"]["limits"]["cpuTimeMs"], 500)
        used = r["metadata"]["resources"]["cpuMs"]
        self.assertGreaterEqual(used, 500)
        self.assertLess(r["metadata"]["resources"]["wallMs"], 20000)
        # Threads add up: two burning threads pass the limit together.
        _, r = run("import threading, time\n"
                   "def burn():\n    while True: pass\n"
                   "for _ in range(2):\n    threading.Thread(target=burn, daemon=True).start()\n"
                   "time.sleep(60)", requirements={"maxCpuTime": 0.5, "maxExecutionTime": 20})
        self.assertEqual(r["status"], "timeout", r["error"])
        self.assertIn("CPU time", r["error"]["message"])
        # Waiting uses no CPU: a sleep longer than the CPU limit finishes.
        _, r = run("import time\ntime.sleep(1)\nprint('awake')",
                   requirements={"maxCpuTime": 0.5, "maxExecutionTime": 10})
        self.assertEqual((r["status"], r["output"]), ("ok", "awake\n"), r["error"])
        self.assertLess(r["metadata"]["resources"]["cpuMs"], 500)
        # Without maxCpuTime there is no CPU limit but the wall time.
        _, r = run("print(1)")
        self.assertNotIn("cpuTimeMs", r["metadata"]["limits"])

    def test_memory_limit(self):
        _, r = run("x = bytearray(200 * 1024 * 1024)", requirements={"maxMemoryUsage": 64})
        self.assertEqual(r["status"], "memory_limit", r)
        _, ok = run("x = bytearray(20 * 1024 * 1024); print(len(x))",
                    requirements={"maxMemoryUsage": 64})
        self.assertEqual(ok["output"], "20971520\n")

    def test_output_limit_truncates_and_flags(self):
        _, r = run("while True: print('x' * 1000)", requirements={"maxExecutionTime": 10})
        self.assertEqual(r["status"], "output_limit")
        self.assertEqual(len(r["output"].encode()), 1024 * 1024)
        self.assertTrue(r["metadata"]["truncated"]["stdout"])

    def test_requests_above_the_server_maximum_are_refused(self):
        status, _, body = svc.post_json(EXECUTE, {"code": "1", "requirements": {"maxExecutionTime": 3600}})
        self.assertEqual(status, 422)
        self.assertIn("allows", json.loads(body)["error"]["message"])
        status, _, body = svc.post_json(EXECUTE, {"code": "1", "requirements": {"networkAccess": True}})
        self.assertEqual(status, 422)
        status, _, body = svc.post_json(EXECUTE, {"code": "1", "requirements": {"maxCpuTime": 3600}})
        self.assertEqual(status, 422)
        self.assertIn("maxCpuTime 3.6e+03 s is more than", json.loads(body)["error"]["message"])

    def test_bad_requirements_are_named(self):
        for req, text in [({"maxExecutionTime": "5"}, "must be a number"),
                          ({"maxCpuTime": "1"}, "must be a number"),
                          ({"maxCpuTime": 0.01}, "maxCpuTime must be at least 0.1 s"),
                          ({"maxMemoryUsage": -1}, "positive"),
                          ({"turbo": True}, "unknown field requirements.turbo"),
                          ({"securityLevel": "max"}, "low, medium, high"),
                          ({"preferredEngine": "browser"}, "runs the native engine")]:
            status, _, body = svc.post_json(EXECUTE, {"code": "1", "requirements": req})
            self.assertEqual(status, 400, req)
            self.assertIn(text, json.loads(body)["error"]["message"])

    def test_code_is_required_and_typed(self):
        status, _, body = svc.post_json(EXECUTE, {"data": []})
        self.assertEqual((status, json.loads(body)["error"]["message"]),
                         (400, "field 'code' is required"))
        status, _, _ = svc.post_json(EXECUTE, {"code": "x" * (1024 * 1024 + 1)})
        self.assertEqual(status, 413)

    def test_curl_style_request(self):
        # The README's example: curl -d '{"code":"print(1)"}' labels its JSON
        # application/x-www-form-urlencoded.
        status, _, body = svc.request("POST", EXECUTE, b'{"code":"print(1)"}',
                                      {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(json.loads(body)["output"], "1\n")


class EngineLifecycleTests(unittest.TestCase):
    def test_health_reports_the_jail_layers(self):
        status, h = health()
        self.assertEqual(status, 200)
        self.assertIn(h["status"], ("ok", "degraded"))
        jail = h["jail"]
        self.assertEqual(set(jail["namespaces"]),
                         {"user", "pid", "mount", "network", "ipc", "uts", "cgroup"})
        self.assertIn("execve", jail["seccomp"]["denied"])
        self.assertIn("inotify_init1", jail["seccomp"]["denied"])
        # This machine's run directory allows device nodes: every slot gets its own.
        self.assertIs(h["interpreter"]["privateDevices"], True, h["interpreter"])
        self.assertIn(jail["cgroup"]["version"], ("v1", "v2", "none"))
        self.assertEqual(h["interpreter"]["info"]["python"][:4], "3.11")

    def test_pooled_children_come_with_the_pre_copied_pages(self):
        # The zygote measured the plans (precopy.h); an idle service's
        # children apply the data plan inside their jail before their job,
        # so those pages are already the child's own (Private_Dirty) when a
        # job that writes none of them looks.  A refused madvise would leave
        # them shared.  Compared with an instance that never applies it.
        h = svc.wait_warm()
        pc = h["interpreter"]["precopy"]
        self.assertGreater(pc["core"]["pages"], 100, pc)
        self.assertGreater(pc["data"]["pages"], 100, pc)
        self.assertEqual(pc["bytes"], pc["data"]["pages"] * 4096)
        code = ("import re\n"
                "t = open('/proc/self/smaps_rollup').read()\n"
                "__result__ = int(re.search(r'Private_Dirty:\\s+(\\d+) kB', t).group(1))")

        def dirty_kb(service):
            status, _, raw = service.post_json(EXECUTE, {"code": code}, timeout=60)
            r = json.loads(raw)
            self.assertEqual(r["status"], "ok", r["error"])
            return r["result"]

        time.sleep(1)  # the pool refilled while idle
        with_plan = min(dirty_kb(svc) for _ in range(3))
        self.assertGreater(health()[1]["spawns"]["precopied"], 0)
        off = Service(env={"PYSANDBOX_PRECOPY": "0"}).start()
        try:
            off.wait_warm()
            without = max(dirty_kb(off) for _ in range(3))
        finally:
            off.stop()
        self.assertGreaterEqual(with_plan - without, pc["data"]["pages"] * 4 * 0.7,
                                (with_plan, without))

    def test_a_client_going_away_kills_its_job(self):
        body = json.dumps({"code": "import time\ntime.sleep(25)"}).encode()
        s = socket.create_connection(("127.0.0.1", svc.port))
        s.sendall(b"POST " + EXECUTE.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        wait_for_jobs(lambda j: j["running"] == 1, 10, "the job to start")
        s.close()
        wait_for_jobs(lambda j: j["running"] == 0, 5, "the job to be killed")

    def test_executor_down_gives_503_then_it_is_restarted(self):
        executors = svc.pids("pysandbox-executor")
        self.assertEqual(len(executors), 1)
        os.kill(executors[0], signal.SIGKILL)
        wait_until(lambda: process_gone(executors[0]), 5, "the kill")
        status, _, body = svc.post_json(EXECUTE, {"code": "print(1)"})
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body)["error"]["code"], "engine_unavailable")
        wait_until(lambda: health()[0] == 200 and health()[1]["pool"]["ready"] > 0, 30,
                   "the executor to come back")
        self.assertEqual(run("print(2)")[1]["output"], "2\n")


if __name__ == "__main__":
    unittest.main()
