"""Debug helpers and step tracing (issue 12) through real nginx, FastCGI,
the executor and its jails.

debug(), inspect_var() and get_debug_info() are builtins in every run of
the harness; the answer gains debug_info only when a program used them.
requirements.debug (one-shot runs) and POST /sandbox/{id}/debug run the
code under the harness's step tracer: the answer gains steps and
steps_truncated.  The supervisor filters both (cgi/proto/hview.c): a
program that forges its result frame gets nothing past the caps through.
The browser worker's side is in tests/browser/debug.test.mjs.
"""

import http.client
import json
import os
import sys
import unittest

from tests.http.service import Service

svc = None

# The caps, as web/harness.py and cgi/proto/hview.h name them.
MAX_LOGS = 1000
MAX_VARIABLES = 100
MAX_MESSAGE = 10000
MAX_REPR = 1000
MAX_STEPS = 1000
MAX_STEP_VARIABLES = 20
MAX_STEP_REPR = 200


def setUpModule():
    global svc
    svc = Service().start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()


def execute(code, data=None, debug=None, path="/api/python/execute", extra=None):
    body = {"code": code, "requirements": {"maxExecutionTime": 30}}
    if debug is not None:
        body["requirements"]["debug"] = debug
    if data is not None:
        body["data"] = data
    body.update(extra or {})
    st, _, raw = svc.post_json(path, body, timeout=90)
    return st, json.loads(raw)


def ok(code, **kw):
    st, r = execute(code, **kw)
    assert st == 200, (st, r)
    assert r["status"] == "ok", r
    return r


def sse(path, obj):
    """POSTs obj asking for events; returns [(event name, decoded data)]."""
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=60)
    try:
        conn.request("POST", path, json.dumps(obj),
                     {"Content-Type": "application/json", "Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.getheader("content-type").startswith("text/event-stream")
        events, name = [], None
        for line in resp.read().decode().split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
        return events
    finally:
        conn.close()


def new_sandbox():
    st, _, raw = svc.post_json("/sandbox/create", {})
    assert st == 201, raw
    return json.loads(raw)["sandbox_id"]


def in_sandbox(sid, verb, code):
    st, _, raw = svc.post_json(f"/sandbox/{sid}/{verb}", {"code": code}, timeout=90)
    return st, json.loads(raw)


LOOP = ("total = 0\n"        # 1
        "for i in range(3):\n"  # 2
        "    total += i\n"   # 3
        "print(total)\n")    # 4


class DebugHelpersTests(unittest.TestCase):
    def test_logs_carry_level_line_and_time(self):
        r = ok("x = 1\n"
               "debug('first')\n"
               "def f():\n"
               "    debug('inside', level='WARNING')\n"
               "f()\n"
               "debug(42, 'ERROR')\n")
        logs = r["debug_info"]["logs"]
        self.assertEqual([(e["level"], e["message"], e["line"]) for e in logs],
                         [("INFO", "first", 2), ("WARNING", "inside", 4), ("ERROR", "42", 6)])
        ts = [e["t"] for e in logs]
        self.assertTrue(all(t >= 0 for t in ts), ts)
        self.assertEqual(ts, sorted(ts))
        self.assertFalse(r["debug_info"]["logs_truncated"])
        self.assertEqual(r["debug_info"]["variables"], {})

    def test_the_answer_is_unchanged_without_the_helpers(self):
        r = ok("print('plain')")
        self.assertNotIn("debug_info", r)
        self.assertNotIn("steps", r)
        self.assertNotIn("steps_truncated", r)

    def test_inspect_var_and_get_debug_info(self):
        r = ok("xs = [1, 2, 3]\n"
               "inspect_var('xs', xs)\n"
               "inspect_var('n', 7)\n"
               "debug('checked')\n"
               "__result__ = get_debug_info()\n")
        info = r["debug_info"]
        self.assertEqual(info["variables"]["xs"], {"type": "list", "repr": "[1, 2, 3]", "size": 3})
        self.assertEqual(info["variables"]["n"], {"type": "int", "repr": "7"})
        # What the program read is what the answer says (taken before the end).
        self.assertEqual(r["result"]["variables"], info["variables"])
        self.assertEqual(r["result"]["logs"], info["logs"])

    def test_a_bad_level_is_a_clear_value_error(self):
        st, r = execute("debug('x', level='LOUD')")
        self.assertEqual(st, 200)
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["error"]["type"], "ValueError")
        self.assertIn("DEBUG, INFO, WARNING, ERROR", r["error"]["message"])
        self.assertEqual(r["error"]["line"], 1)
        # The traceback ends at the user's call, not in the harness.
        self.assertTrue(r["error"]["traceback"].startswith(
            "Traceback (most recent call last):\n  File \"<sandbox>\", line 1, in <module>\n"),
            r["error"]["traceback"])
        self.assertNotIn("harness", r["error"]["traceback"])
        st, r = execute("try:\n    debug('x', level=3)\nexcept ValueError as e:\n    print(e)")
        self.assertEqual(r["output"], "debug() level must be one of DEBUG, INFO, WARNING, ERROR, "
                                      "not a value of type int\n")

    def test_caps_and_truncated_flags(self):
        r = ok("for i in range(1005):\n    debug(i)\n"
               "for i in range(105):\n    inspect_var(f'v{i}', i)\n"
               "inspect_var('v0', 'x' * 5000)\n")
        info = r["debug_info"]
        self.assertEqual(len(info["logs"]), MAX_LOGS)
        self.assertEqual(info["logs"][-1]["message"], str(MAX_LOGS - 1))
        self.assertTrue(info["logs_truncated"])
        self.assertEqual(len(info["variables"]), MAX_VARIABLES)
        self.assertNotIn("v100", info["variables"])
        self.assertTrue(info["variables_truncated"])
        v0 = info["variables"]["v0"]  # a kept name is still updated
        self.assertEqual((len(v0["repr"]), v0.get("truncated"), v0["size"]), (MAX_REPR, True, 5000))
        r = ok("debug('m' * 20000)")
        log = r["debug_info"]["logs"][0]
        self.assertEqual((len(log["message"]), log.get("truncated")), (MAX_MESSAGE, True))
        self.assertFalse(r["debug_info"]["logs_truncated"])

    def test_a_hostile_repr_does_not_break_the_run(self):
        r = ok("import time\n"
               "class Raises:\n    def __repr__(self): raise RuntimeError('no')\n"
               "class Huge:\n    def __repr__(self): return 'h' * 10**7\n"
               "class NotStr:\n    def __repr__(self): return 5\n"
               "class Slow:\n    def __repr__(self):\n"
               "        time.sleep(0.05)\n        return 'slow'\n"
               "class BadLen(list):\n    def __len__(self): raise OSError\n"
               "class BadStr:\n    def __str__(self): raise ValueError\n"
               "for name, v in [('r', Raises()), ('h', Huge()), ('n', NotStr()), ('s', Slow()),"
               " ('l', BadLen())]:\n"
               "    inspect_var(name, v)\n"
               "debug(BadStr())\n"
               "inspect_var(Raises(), 1)\n"
               "print('went on')\n")
        self.assertEqual(r["output"], "went on\n")
        v = r["debug_info"]["variables"]
        self.assertEqual(v["r"]["repr"], "<unrepresentable Raises: RuntimeError>")
        self.assertEqual((len(v["h"]["repr"]), v["h"]["truncated"]), (MAX_REPR, True))
        self.assertEqual(v["n"]["repr"], "<unrepresentable NotStr: TypeError>")
        self.assertEqual(v["s"]["repr"], "slow")
        self.assertNotIn("size", v["l"])
        self.assertEqual(r["debug_info"]["logs"][0]["message"], "<unprintable BadStr: ValueError>")
        self.assertEqual(v["<unrepresentable Raises: RuntimeError>"], {"type": "int", "repr": "1"})

    def test_a_sandbox_keeps_helpers_and_names_but_logs_belong_to_one_run(self):
        sid = new_sandbox()
        try:
            st, r = in_sandbox(sid, "execute", "count = 41\n"
                                               "def bump():\n    global count\n    count += 1\n"
                                               "    debug(f'count {count}')\n"
                                               "bump()\n")
            self.assertEqual((st, r["status"]), (200, "ok"), r)
            self.assertEqual([e["message"] for e in r["debug_info"]["logs"]], ["count 42"])
            st, r = in_sandbox(sid, "execute", "bump()\ninspect_var('count', count)")
            self.assertEqual((st, r["status"]), (200, "ok"), r)
            self.assertEqual([(e["message"], e["line"]) for e in r["debug_info"]["logs"]],
                             [("count 43", 5)])
            self.assertEqual(r["debug_info"]["variables"]["count"]["repr"], "43")
            st, r = in_sandbox(sid, "execute", "print(count)")
            self.assertNotIn("debug_info", r)
            # A name the program binds shadows the helper, and stays bound.
            st, r = in_sandbox(sid, "execute", "debug = 'mine'")
            st, r = in_sandbox(sid, "execute", "print(debug)")
            self.assertEqual(r["output"], "mine\n")
        finally:
            svc.request("DELETE", f"/sandbox/{sid}")


class TracingTests(unittest.TestCase):
    def check_loop(self, r):
        steps = r["steps"]
        self.assertFalse(r["steps_truncated"])
        self.assertEqual([s["step"] for s in steps], list(range(1, len(steps) + 1)))
        self.assertEqual([s["line_number"] for s in steps], [1, 2, 3, 2, 3, 2, 3, 2, 4, 4])
        # The module's "return" closes the run, with what its last line changed.
        self.assertEqual([s["event"] for s in steps], ["line"] * 9 + ["return"])
        self.assertEqual(steps[2]["line_code"], "total += i")
        # A "line" step comes before its line runs: it shows what the lines
        # before it changed.
        self.assertEqual([s["variables"] for s in steps[1:]],
                         [{"total": "0"}, {"i": "0"}, {}, {"i": "1"}, {"total": "1"},
                          {"i": "2"}, {"total": "3"}, {}, {}])
        self.assertEqual(r["output"], "3\n")

    def test_requirements_debug_traces_a_one_shot_run(self):
        r = ok(LOOP, debug=True)
        self.check_loop(r)
        self.assertEqual(r["steps"][0]["variables"], {"data": "[]"})
        self.assertEqual(r["engine"], "native")

    def test_requirements_debug_false_does_not_trace(self):
        r = ok(LOOP, debug=False)
        self.assertNotIn("steps", r)
        st, r = execute(LOOP, debug="yes")
        self.assertEqual(st, 400, r)
        self.assertIn("requirements.debug", json.dumps(r))

    def test_the_router_sends_debug_runs_to_native(self):
        st, r = execute(LOOP, debug=True, path="/api/insights/python-execution",
                        extra={"client": "page"})
        self.assertEqual((st, r["engine"]), (200, "native"), r)
        self.check_loop(r)

    def test_only_user_frames_are_steps_with_calls_and_returns(self):
        r = ok("import json\n"
               "def key(v):\n"
               "    return -v\n"
               "out = sorted([1, 2], key=key)\n"
               "json.dumps(out)\n", debug=True)
        steps = r["steps"]
        self.assertTrue(all(1 <= s["line_number"] <= 5 for s in steps), steps)
        calls = [s for s in steps if s["event"] == "call"]
        self.assertEqual([(s["line_number"], s["variables"]) for s in calls],
                         [(2, {"v": "1"}), (2, {"v": "2"})])
        self.assertEqual([s["event"] for s in steps if s["line_number"] == 3],
                         ["line", "return", "line", "return"])
        self.assertEqual([s["variables"] for s in steps if s["line_number"] == 5],
                         [{"out": "[2, 1]"}, {}])
        self.assertEqual(steps[-1]["event"], "return")

    def test_the_step_cap_stops_tracing_and_the_program_runs_on(self):
        r = ok("n = 0\nfor i in range(100000):\n    n += 1\nprint(n)", debug=True)
        self.assertEqual(len(r["steps"]), MAX_STEPS)
        self.assertEqual(r["steps"][-1]["step"], MAX_STEPS)
        self.assertTrue(r["steps_truncated"])
        self.assertEqual(r["output"], "100000\n")

    def test_step_variables_are_capped_against_hostile_reprs(self):
        r = ok("class Raises:\n    def __repr__(self): raise KeyError\n"
               "a = Raises()\n"
               "b = 'b' * 100000\n"
               + "".join(f"v{i} = {i}\n" for i in range(30))
               + "print('done')\n", debug=True)
        self.assertEqual(r["output"], "done\n")
        shown = {}
        for s in r["steps"]:
            self.assertLessEqual(len(s["variables"]), MAX_STEP_VARIABLES)
            for name, text in s["variables"].items():
                self.assertLessEqual(len(text), MAX_STEP_REPR)
                shown[name] = text
        self.assertEqual(shown["a"], "<unrepresentable Raises: KeyError>")
        self.assertEqual(len(shown["b"]), MAX_STEP_REPR)

    def test_sandbox_debug_traces_with_the_sandbox_state(self):
        sid = new_sandbox()
        try:
            st, r = in_sandbox(sid, "execute", "start = 10")
            self.assertEqual((st, r["status"]), (200, "ok"), r)
            self.assertNotIn("steps", r)
            st, r = in_sandbox(sid, "debug", "x = start\nx += 1\nprint(x)")
            self.assertEqual((st, r["status"]), (200, "ok"), r)
            self.assertEqual([s["line_number"] for s in r["steps"]], [1, 2, 3, 3])
            self.assertEqual(r["steps"][1]["variables"], {"x": "10"})
            self.assertEqual(r["steps"][2]["variables"], {"x": "11"})
            self.assertEqual(r["output"], "11\n")
            st, r = in_sandbox(sid, "debug", LOOP)
            self.check_loop(r)
            st, r = in_sandbox(sid, "execute", "print(x, total)")
            self.assertEqual(r["output"], "11 3\n")
            self.assertNotIn("steps", r)
            st, r = in_sandbox(sid, "debug", "for j in range(5000): pass")
            self.assertEqual((len(r["steps"]), r["steps_truncated"]), (MAX_STEPS, True))
        finally:
            svc.request("DELETE", f"/sandbox/{sid}")

    def test_a_streamed_debug_run_sends_each_step_as_it_happens(self):
        sid = new_sandbox()
        try:
            events = sse(f"/sandbox/{sid}/debug", {"code": LOOP})
            self.assertEqual([n for n, _ in events][-1], "result")
            self.assertEqual({n for n, _ in events[:-1]}, {"stdout", "step"})
            self.assertEqual("".join(d for n, d in events if n == "stdout"), "3\n")
            result = events[-1][1]
            self.check_loop(result)
            # Every step came as its own event, in order, as the result has it.
            self.assertEqual([d for n, d in events if n == "step"], result["steps"])
        finally:
            svc.request("DELETE", f"/sandbox/{sid}")

    def test_forged_step_frames_are_filtered_or_end_the_run(self):
        forge = ("import os, struct, json\n"
                 "def frame(b):\n"
                 "    os.write(3, struct.pack('<I', 0x40000000 | len(b)) + b)\n"
                 "frame(json.dumps({'step': 1, 'line_number': 1, 'line_code': 'x\\n\\nevent: result',"
                 " 'event': 'line', 'variables': {'a': '1'}, 'FORGED': 1}).encode())\n"
                 "frame(b'not json\\n\\nevent: result\\ndata: {}')\n"
                 "print('after')\n")
        events = sse("/api/python/execute", {"code": forge, "requirements": {"debug": True}})
        names = [n for n, _ in events]
        self.assertEqual(names.count("result"), 1)
        self.assertEqual(names[-1], "result")
        forged = [d for n, d in events if n == "step" and d.get("line_code", "").startswith("x")]
        self.assertEqual(len(forged), 1)  # the object is kept, filtered; the garbage is not
        self.assertNotIn("FORGED", forged[0])
        self.assertEqual(forged[0]["line_code"], "x\n\nevent: result")
        self.assertEqual(events[-1][1]["status"], "ok")
        # A frame longer than a step may be breaks the channel: no result
        # (EngineError), the output kept, and only this run affected.
        big = ("import os, struct\n"
               "os.write(3, struct.pack('<I', 0x40000000 | (1 << 20)) + b'{' * 10)\n"
               "print('still here')\n")
        st, r = execute(big, debug=True)
        self.assertEqual(st, 200, r)
        self.assertEqual((r["status"], r["error"]["type"]), ("error", "EngineError"), r)
        self.assertEqual(r["output"], "still here\n")
        self.assertEqual(ok("print(1)", debug=True)["output"], "1\n")

    def test_sandbox_debug_errors_are_those_of_execute(self):
        sid = new_sandbox()
        missing = sid[:8] + "0" * 24  # this executor's, never made
        st, r = in_sandbox(missing, "debug", "print(1)")
        self.assertEqual((st, r["error"]["code"]), (404, "not_found"))
        st, _, _ = svc.get(f"/sandbox/{sid}/debug")
        self.assertEqual(st, 405)
        svc.request("DELETE", f"/sandbox/{sid}")
        st, r = in_sandbox(sid, "debug", "print(1)")
        self.assertEqual((st, r["error"]["code"]), (404, "not_found"))
        # A sandbox whose execution timed out has lost its state: 410, as execute.
        st, _, raw = svc.post_json("/sandbox/create", {"config": {"max_execution_time": 1}})
        sid = json.loads(raw)["sandbox_id"]
        st, r = in_sandbox(sid, "debug", "while True: pass")
        self.assertEqual((st, r["status"]), (200, "timeout"), r)
        self.assertEqual((r["steps"], r["steps_truncated"]), ([], False))
        st, r = in_sandbox(sid, "debug", "print(1)")
        self.assertEqual((st, r["error"]["code"]), (410, "ended"))


# A program that forges its result frame on fd 3 (see
# tests/hostile/channel_forged.py) with debug output past every cap and of
# every wrong type, then exits so the forged frame is the only one.
FORGE = r"""
import json, os, struct
logs = [{"level": "INFO", "message": "m", "line": 1, "t": 0.5, "extra": "X"}] * 3000
logs[0] = {"level": 7, "message": ["not", "a", "string"], "line": "one", "t": "T-INF"}
logs[1] = "not an object"
logs[2] = {"level": "INFO", "message": "z" * 200000, "line": 2}
variables = {f"v{i}": {"type": "int", "repr": str(i), "size": i, "bad": True} for i in range(500)}
variables["v0"] = "not an object"
variables["n" * 5000] = {"type": "int", "repr": "1"}
step = {"step": 1, "line_number": 1, "line_code": "x", "event": "line",
        "variables": {**{f"s{i}": "r" for i in range(50)}, "bad": 5}, "injected": 1}
forged = json.dumps({
    "status": "ok", "error": None, "result": None, "charts": [], "executionTime": 1.0,
    "debug_info": {"logs": logs, "variables": variables, "logs_truncated": "no",
                   "injected": "FORGED"},
    "steps": [step] * 5000 + ["junk", 7, None], "steps_truncated": False,
}).encode().replace(b'"T-INF"', b'1e999')  # a number no double holds
os.write(3, struct.pack("=I", len(forged)) + forged)
os._exit(0)
"""


# Programs whose steps do not depend on the process (no addresses in reprs).
SAME_STEPS = [
    "total = 0\nfor i in range(30):\n    total += i\n",
    "def f(x):\n    y = [x] * 3\n    y.append(x)\n    return len(y)\nz = sorted([3, 1, 2], key=lambda v: -v)\nw = f(2)\n",
    "class Raises:\n    def __repr__(self): raise KeyError\nclass Huge:\n    def __repr__(self): return 'h' * 10000\n"
    "a = Raises()\nb = Huge()\nc = '\\ud800'\n",
    "def g(n):\n    if n == 0:\n        raise ValueError('x')\n    return g(n - 1)\ntry:\n    g(3)\nexcept ValueError:\n    e = 1\n",
    "import asyncio\nasync def h(v):\n    await asyncio.sleep(0)\n    return v + 1\nq = await h(1)\n",
    "for j in range(2000):\n    pass\n",
    "d = {}\nfor k in range(25):\n    d[k] = k\n    globals()['v%d' % k] = k\n",
]


class CTracerTests(unittest.TestCase):
    """The native engine traces with the C tracer (cgi/zygote/ctrace.c); the
    browser keeps the Python one.  Both must record the same steps."""

    def test_the_native_engine_traces_in_c(self):
        r = ok("import sys\n__result__ = sys.modules['_pysandbox_trace'].__name__", debug=True)
        self.assertEqual(r["result"], "_pysandbox_trace")

    def test_the_c_tracer_records_what_the_python_tracer_does(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "web"))
        try:
            import harness
        finally:
            sys.path.pop(0)
        harness._pysandbox_trace = None  # this process's harness: the Python tracer
        for code in SAME_STEPS:
            with self.subTest(code=code[:40]):
                native = execute(code, debug=True)[1]
                here = harness.run(code, trace=True)
                self.assertEqual(native["status"], here["status"], native)
                self.assertEqual(native["steps_truncated"], here["steps_truncated"])
                self.assertEqual(native["steps"], here["steps"])


class ForgedDebugOutputTests(unittest.TestCase):
    def test_a_forged_frame_is_filtered_and_bounded(self):
        st, r = execute(FORGE, debug=True)
        self.assertEqual((st, r["status"]), (200, "ok"), r)
        info = r["debug_info"]
        self.assertEqual(set(info), {"logs", "variables", "logs_truncated", "variables_truncated"})
        self.assertEqual(len(info["logs"]), MAX_LOGS)
        self.assertTrue(info["logs_truncated"])
        self.assertEqual(info["logs"][0], {})  # every member had the wrong type
        self.assertEqual(info["logs"][1], {"level": "INFO", "line": 2})  # message too long
        self.assertEqual(info["logs"][2], {"level": "INFO", "message": "m", "line": 1, "t": 0.5})
        self.assertEqual(len(info["variables"]), MAX_VARIABLES)
        self.assertTrue(info["variables_truncated"])
        self.assertNotIn("v0", info["variables"])
        self.assertEqual(info["variables"]["v1"], {"type": "int", "repr": "1", "size": 1})
        steps = r["steps"]
        self.assertEqual(len(steps), MAX_STEPS)
        self.assertTrue(r["steps_truncated"])
        self.assertEqual(set(steps[0]), {"step", "line_number", "line_code", "event", "variables"})
        self.assertEqual(len(steps[0]["variables"]), MAX_STEP_VARIABLES)
        self.assertNotIn("bad", steps[0]["variables"])
        self.assertNotIn("FORGED", json.dumps(r))

    def test_forged_steps_without_tracing_are_dropped(self):
        st, r = execute(FORGE)
        self.assertEqual((st, r["status"]), (200, "ok"), r)
        self.assertNotIn("steps", r)
        self.assertNotIn("steps_truncated", r)
        self.assertEqual(len(r["debug_info"]["logs"]), MAX_LOGS)

    def test_the_service_answers_normally_afterwards(self):
        execute(FORGE, debug=True)
        r = ok("debug('after')", debug=True)
        self.assertEqual(r["debug_info"]["logs"][0]["message"], "after")
        self.assertEqual([(s["line_number"], s["event"]) for s in r["steps"]],
                         [(1, "line"), (1, "return")])


if __name__ == "__main__":
    unittest.main()
