"""Stateful sandboxes (/sandbox/...) through real nginx, FastCGI, the executor and its jails.

A sandbox is one jailed interpreter kept between executions: names,
imports, functions and files in its /tmp persist; each sandbox is its own
jail, so two of them (and one-shot runs) see nothing of each other.  The
limits (how many at once, idle timeout, lifetime, memory, time per
execution) are the service's settings; a second service with short ones
checks expiry and the cap.
"""

import concurrent.futures
import json
import os
import re
import signal
import time
import unittest

from tests.http.service import wait_for, Service

svc = None   # default settings
tight = None  # two sandboxes at most, 2 s idle timeout, 6 s lifetime


def setUpModule():
    global svc, tight
    svc = Service().start()
    tight = Service(env={"PYSANDBOX_MAX_SANDBOXES": "2", "PYSANDBOX_SANDBOX_IDLE_TIMEOUT": "2",
                         "PYSANDBOX_SANDBOX_LIFETIME": "6", "PYSANDBOX_POOL_SIZE": "2"}).start()
    svc.wait_warm()
    tight.wait_warm()


def tearDownModule():
    for s in (svc, tight):
        if s is not None:
            s.stop()


def create(service=None, body=None, source="127.0.0.1"):
    st, headers, raw = (service or svc).post_json("/sandbox/create", body or {}, source=source)
    return st, headers, json.loads(raw)


def new_sandbox(service=None, body=None):
    st, _, answer = create(service, body)
    assert st == 201, (st, answer)
    return answer["sandbox_id"]


def execute(sid, code, data=None, service=None, timeout=90):
    body = {"code": code}
    if data is not None:
        body["data"] = data
    st, _, raw = (service or svc).post_json(f"/sandbox/{sid}/execute", body, timeout=timeout)
    return st, json.loads(raw)


def get(path, service=None):
    st, headers, raw = (service or svc).get(path)
    return st, headers, json.loads(raw)


class StateTests(unittest.TestCase):
    def test_creation_describes_the_sandbox(self):
        st, headers, a = create(body={"user_id": "analyst-7",
                                      "config": {"max_execution_time": 5, "max_memory_mb": 128,
                                                 "idle_timeout": 60, "enable_debugging": False}})
        self.assertEqual(st, 201, a)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertRegex(a["sandbox_id"], r"^[0-9a-f]{32}$")
        self.assertEqual(a["status"], "ready")
        self.assertEqual(a["user_id"], "analyst-7")
        self.assertEqual(a["limits"], {"max_execution_time": 5, "max_memory_mb": 128,
                                       "idle_timeout": 60, "lifetime": 3600})
        for key in ("created_at", "expires_at", "last_used_at"):
            self.assertRegex(a[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertGreater(a["expires_at"], a["created_at"])

    def test_names_imports_functions_and_files_persist(self):
        sid = new_sandbox()
        st, a = execute(sid, "import math\nx = 41\ndef twice(v):\n    return 2 * v\n"
                             "open('/tmp/notes.txt', 'w').write('kept')")
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        st, a = execute(sid, "x += 1\nprint(twice(x), round(math.pi, 2))\n"
                             "__result__ = open('/tmp/notes.txt').read()")
        self.assertEqual((st, a["status"], a["output"], a["result"]),
                         (200, "ok", "84 3.14\n", "kept"), a)
        self.assertEqual(a["metadata"]["sandbox"], {"sandbox_id": sid, "state_lost": False})
        self.assertEqual(a["engine"], "native")

    def test_data_is_rebound_only_when_sent(self):
        sid = new_sandbox()
        self.assertEqual(execute(sid, "__result__ = data")[1]["result"], [])
        self.assertEqual(execute(sid, "__result__ = data", data={"a": 1})[1]["result"], {"a": 1})
        self.assertEqual(execute(sid, "__result__ = data")[1]["result"], {"a": 1})
        # A result belongs to the run that set it.
        self.assertIsNone(execute(sid, "y = 1")[1]["result"])

    def test_top_level_await_in_a_sandbox(self):
        sid = new_sandbox()
        st, a = execute(sid, "import asyncio\nasync def later(v):\n    await asyncio.sleep(0.01)\n"
                             "    return v\nx = await later(41)")
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        st, a = execute(sid, "__result__ = (await later(x)) + 1")
        self.assertEqual((st, a["status"], a["result"]), (200, "ok", 42), a)

    def test_errors_keep_the_state(self):
        sid = new_sandbox()
        execute(sid, "kept = 'yes'")
        st, a = execute(sid, "raise ValueError('boom')")
        self.assertEqual((st, a["status"], a["error"]["type"]), (200, "error", "ValueError"))
        self.assertFalse(a["metadata"]["sandbox"]["state_lost"])
        self.assertEqual(execute(sid, "__result__ = kept")[1]["result"], "yes")

    def test_one_execution_at_a_time(self):
        sid = new_sandbox()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            slow = pool.submit(execute, sid, "import time\ntime.sleep(3)\nprint('slow')")
            wait_for(lambda: get(f"/sandbox/{sid}/status")[2]["status"] == "busy", 20,
                     "the first execution to start")
            st, a = execute(sid, "print('second')")
            self.assertEqual(st, 409, a)
            self.assertEqual(a["error"]["code"], "conflict")
            self.assertEqual(slow.result()[1]["output"], "slow\n")
        self.assertEqual(execute(sid, "print('after')")[1]["output"], "after\n")

    def test_status_history_list_and_statistics(self):
        sid = new_sandbox(body={"user_id": "hist"})
        long_code = "# " + "x" * 300 + "\nprint('é' * 150)"
        execute(sid, "print('one')")
        execute(sid, "1/0")
        execute(sid, long_code)
        st, _, s = get(f"/sandbox/{sid}/status")
        self.assertEqual((st, s["status"], s["executions"], s["state_lost"]), (200, "ready", 3, False))
        self.assertGreaterEqual(s["idle_seconds"], 0)
        st, _, h = get(f"/sandbox/{sid}/history")
        self.assertEqual(st, 200)
        self.assertEqual([e["status"] for e in h["history"]], ["ok", "error", "ok"])
        self.assertEqual([e["execution"] for e in h["history"]], [1, 2, 3])
        self.assertEqual(h["history"][0]["output"], "one\n")
        self.assertLessEqual(len(h["history"][2]["code"].encode()), 200)
        self.assertLessEqual(len(h["history"][2]["output"].encode()), 200)
        self.assertTrue(h["history"][2]["output"].startswith("éé"))  # cut between characters
        for e in h["history"]:
            self.assertGreaterEqual(e["duration_ms"], 0)
        st, _, lst = get("/sandbox")
        self.assertEqual(st, 200)
        self.assertIn(sid, [x["sandbox_id"] for x in lst["sandboxes"]])
        st, _, stats = get("/sandbox/statistics")
        self.assertEqual(st, 200)
        for key in ("active_sandboxes", "total_executions", "success_rate", "average_execution_time"):
            self.assertIn(key, stats)
        self.assertGreaterEqual(stats["total_executions"], 3)
        self.assertGreater(stats["success_rate"], 0)
        self.assertLessEqual(stats["success_rate"], 1)

    def test_sandbox_runs_are_recorded_in_the_statistics(self):
        before = get("/api/insights/python-execution?window=1h")[2]["engines"]["native"]["count"]
        sid = new_sandbox()
        execute(sid, "print(1)")
        after = get("/api/insights/python-execution?window=1h")[2]["engines"]["native"]["count"]
        self.assertEqual(after, before + 1)


class EndTests(unittest.TestCase):
    def test_delete_ends_the_jail_at_once(self):
        sid = new_sandbox()
        execute(sid, "import os\n__result__ = os.getpid()")
        alive = svc.get("/api/python/health")
        st, _, raw = svc.request("DELETE", f"/sandbox/{sid}")
        self.assertEqual(st, 200, raw)
        for path in (f"/sandbox/{sid}/status", f"/sandbox/{sid}/history"):
            self.assertEqual(get(path)[0], 404)
        st, a = execute(sid, "print(1)")
        self.assertEqual((st, a["error"]["code"]), (404, "not_found"))
        self.assertEqual(svc.request("DELETE", f"/sandbox/{sid}")[0], 404)
        self.assertEqual(alive[0], 200)

    def test_a_timeout_ends_the_sandbox_and_says_so(self):
        sid = new_sandbox(body={"config": {"max_execution_time": 1}})
        execute(sid, "kept = 1")
        st, a = execute(sid, "import time\ntime.sleep(30)")
        self.assertEqual((st, a["status"]), (200, "timeout"), a)
        self.assertEqual(a["metadata"]["sandbox"], {"sandbox_id": sid, "state_lost": True})
        st, a = execute(sid, "print(kept)")
        self.assertEqual(st, 410, a)
        self.assertEqual(a["error"]["code"], "ended")
        self.assertIn("time limit", a["error"]["message"])
        st, _, s = get(f"/sandbox/{sid}/status")
        self.assertEqual((st, s["status"], s["state_lost"]), (200, "dead", True))

    def test_a_memory_limit_is_reported_and_the_answer_says_whether_state_survived(self):
        sid = new_sandbox(body={"config": {"max_memory_mb": 64}})
        execute(sid, "kept = 1")
        st, a = execute(sid, "blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))")
        self.assertEqual((st, a["status"]), (200, "memory_limit"), a)
        lost = a["metadata"]["sandbox"]["state_lost"]
        st, b = execute(sid, "del blocks\n__result__ = kept")
        if lost:
            self.assertEqual(st, 410, b)
        else:  # MemoryError inside the interpreter: the sandbox lives on
            self.assertEqual((st, b["result"]), (200, 1), b)

    def test_an_interpreter_that_exits_ends_the_sandbox(self):
        sid = new_sandbox()
        st, a = execute(sid, "import os\nos._exit(3)")
        self.assertEqual(st, 200, a)
        self.assertTrue(a["metadata"]["sandbox"]["state_lost"])
        self.assertEqual(execute(sid, "print(1)")[0], 410)

    def test_unknown_malformed_and_earlier_ids(self):
        # Made by this executor (same first 8 digits) but never: 404.
        sid = new_sandbox()
        other = sid[:8] + "0" * 24
        self.assertEqual(get(f"/sandbox/{other}/status")[0], 404)
        for bad in ("nope", sid.upper(), sid + "0", sid[:31], "../" + sid[:29]):
            self.assertEqual(svc.get(f"/sandbox/{bad}/status")[0], 404, bad)
        # Made by an earlier executor: its state was lost in a restart.
        earlier = ("0" * 8 if sid[:8] != "0" * 8 else "1" * 8) + sid[8:]
        st, _, a = get(f"/sandbox/{earlier}/status")
        self.assertEqual((st, a["error"]["code"]), (410, "ended"))

    def test_an_executor_restart_ends_every_sandbox_with_410(self):
        sid = new_sandbox()
        execute(sid, "kept = 1")
        executors = svc.pids("pysandbox-executor")
        self.assertEqual(len(executors), 1)
        os.kill(executors[0], signal.SIGKILL)
        wait_for(lambda: svc.pids("pysandbox-executor") and
                 svc.pids("pysandbox-executor") != executors, 60, "the executor to restart")
        svc.wait_warm()
        st, a = wait_for(lambda: (lambda r: r if r[0] != 503 else None)(execute(sid, "print(kept)")),
                         60, "the engine to answer again")
        self.assertEqual(st, 410, a)
        self.assertIn("restarted", a["error"]["message"])
        self.assertEqual(execute(new_sandbox(), "print('fresh')")[1]["output"], "fresh\n")


class LimitTests(unittest.TestCase):
    def test_idle_sandboxes_are_cleaned_up(self):
        sid = new_sandbox(tight)
        self.assertEqual(get(f"/sandbox/{sid}/status", tight)[0], 200)
        wait_for(lambda: get(f"/sandbox/{sid}/status", tight)[0] == 404, 20,
                 "the idle sandbox to go")
        self.assertEqual(execute(sid, "print(1)", service=tight)[0], 404)

    def test_use_keeps_a_sandbox_until_its_lifetime(self):
        sid = new_sandbox(tight)
        started = time.monotonic()
        while time.monotonic() - started < 4:  # busier than the 2 s idle timeout
            self.assertEqual(execute(sid, "print(1)", service=tight)[0], 200)
            time.sleep(0.5)
        wait_for(lambda: get(f"/sandbox/{sid}/status", tight)[0] == 404, 20,
                 "the sandbox to pass its 6 s lifetime")

    def test_the_number_of_sandboxes_is_capped(self):
        ids = [new_sandbox(tight), new_sandbox(tight)]
        st, headers, a = create(tight)
        self.assertEqual(st, 429, a)
        self.assertEqual(headers.get("retry-after"), "2")
        self.assertIn("PYSANDBOX_MAX_SANDBOXES", a["error"]["message"])
        tight.request("DELETE", f"/sandbox/{ids[0]}")
        sid = new_sandbox(tight)  # room again
        for x in (ids[1], sid):
            tight.request("DELETE", f"/sandbox/{x}")

    def test_config_is_checked(self):
        for config, status in [({"max_execution_time": 10_000}, 422),
                               ({"max_memory_mb": 100_000}, 422),
                               ({"idle_timeout": 10 ** 6}, 422),
                               ({"max_execution_time": "5"}, 400),
                               ({"max_memory_mb": 1}, 400),
                               ({"max_execution_time": -1}, 400),
                               ({"surprise": 1}, 400),
                               ({"enable_debugging": "yes"}, 400)]:
            st, _, a = create(body={"config": config})
            self.assertEqual(st, status, (config, a))
            self.assertIn("config", a["error"]["message"])
        for body in ({"user_id": 5}, {"other": 1}):
            self.assertEqual(create(body=body)[0], 400, body)
        st, _, a = create(body={"user_id": "u" * 64})  # XP_SANDBOX_USER_LEN - 1 bytes at most
        self.assertEqual((st, a["error"]["code"]), (413, "payload_too_large"), a)
        st, _, raw = svc.post_json("/sandbox/create", raw=b"{not json")
        self.assertEqual(st, 400)

    def test_methods_and_paths(self):
        sid = new_sandbox()
        for method, path, allow in [("GET", "/sandbox/create", "POST"),
                                    ("POST", "/sandbox", "GET, HEAD"),
                                    ("POST", f"/sandbox/{sid}/status", "GET, HEAD"),
                                    ("GET", f"/sandbox/{sid}/execute", "POST"),
                                    ("GET", f"/sandbox/{sid}", "DELETE")]:
            st, headers, raw = svc.request(method, path)
            self.assertEqual(st, 405, (method, path, raw))
            self.assertEqual(headers.get("allow"), allow)
            self.assertEqual(json.loads(raw)["error"]["code"], "method_not_allowed")
        self.assertEqual(svc.get(f"/sandbox/{sid}/nothing")[0], 404)
        st, a = execute(sid, "")
        self.assertEqual(st, 200)
        st, _, raw = svc.post_json(f"/sandbox/{sid}/execute", {"data": 1})
        self.assertEqual(st, 400, raw)


class IsolationTests(unittest.TestCase):
    def test_two_sandboxes_and_a_one_shot_run_see_nothing_of_each_other(self):
        a, b = new_sandbox(), new_sandbox()
        setup = ("import os, socket\nsecret = 'a-only'\n"
                 "open('/tmp/a-file', 'w').write('mine')\n"
                 "holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                 "holder.bind('\\0pysandbox-isolation-name')\nholder.listen(1)\n"
                 "__result__ = os.getpid()")
        st, ra = execute(a, setup)
        self.assertEqual((st, ra["status"]), (200, "ok"), ra)
        probe = ("import os, socket\n"
                 "seen = {'secret': 'secret' in globals(),\n"
                 "        'file': os.path.exists('/tmp/a-file'),\n"
                 "        'unix': open('/proc/self/net/unix').read().count('pysandbox-isolation'),\n"
                 "        'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}\n"
                 "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                 "s.bind('\\0pysandbox-isolation-name')\nseen['bound'] = True\ns.close()\n"
                 "__result__ = seen")
        for where in ("sandbox", "one-shot"):
            if where == "sandbox":
                st, r = execute(b, probe)
            else:
                st, r = svc.execute(probe)
            self.assertEqual((st, r["status"]), (200, "ok"), (where, r))
            seen = r["result"]
            self.assertEqual((seen["secret"], seen["file"], seen["unix"], seen["bound"]),
                             (False, False, 0, True), where)
            self.assertLessEqual(seen["pids"], [1, 2, 3, 4], where)  # its own PID namespace
        # A still has all of it.
        st, r = execute(a, "__result__ = [secret, open('/tmp/a-file').read(), holder.fileno() > 0]")
        self.assertEqual(r["result"], ["a-only", "mine", True])

    def test_nothing_of_a_deleted_sandbox_survives(self):
        sid = new_sandbox()
        execute(sid, "import subprocess, os\nopen('/tmp/left', 'w').write('x')")
        svc.request("DELETE", f"/sandbox/{sid}")
        fresh = new_sandbox()
        st, r = execute(fresh, "import os\n__result__ = os.listdir('/tmp')")
        self.assertNotIn("left", r["result"])


if __name__ == "__main__":
    unittest.main()
