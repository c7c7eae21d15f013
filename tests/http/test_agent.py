"""Agent helpers (issue 12): help/functions generated from the harness, the
examples and templates (each one run and checked), quick-execute and
analyze-data.  One service, given a SQLite database so the database
example and template run too."""
import json
import os
import tempfile
import unittest

from tests.http import pgcluster
from tests.http.service import Service

svc = None
DB_DIR = None


def setUpModule():
    global svc, DB_DIR
    DB_DIR = tempfile.mkdtemp(prefix="pysb-agent-")
    os.chmod(DB_DIR, 0o755)
    db = os.path.join(DB_DIR, "agent.db")
    pgcluster.seed_sqlite(db)
    os.chmod(db, 0o644)
    svc = Service(env={"PYSANDBOX_AGENT_DB": db}).start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()
    for name in os.listdir(DB_DIR):
        os.unlink(os.path.join(DB_DIR, name))
    os.rmdir(DB_DIR)


def get(path):
    st, _, body = svc.get(path)
    return st, json.loads(body)


def post(path, obj):
    st, _, body = svc.post_json(path, obj, timeout=90)
    return st, json.loads(body)


def new_sandbox():
    st, a = post("/sandbox/create", {})
    assert st == 201, a
    return a["sandbox_id"]


def run(sid, code, data=None):
    body = {"code": code}
    if data is not None:
        body["data"] = data
    return post(f"/sandbox/{sid}/execute", body)


class HelpTests(unittest.TestCase):
    def test_functions_are_what_a_run_finds(self):
        sid = new_sandbox()
        st, h = get(f"/sandbox/{sid}/help/functions")
        self.assertEqual((st, h["sandbox_id"]), (200, sid))
        names = {f["name"]: f for f in h["functions"]}
        for name in ("debug", "inspect_var", "get_debug_info", "db_query", "db_tables",
                     "db_schema", "DatabaseReadOnly", "data", "__result__"):
            self.assertIn(name, names)
        self.assertTrue(names["db_query"]["awaitable"])
        self.assertTrue(all(f["doc"] for f in h["functions"]), h)
        # Every listed function and exception is there in the sandbox, with
        # the signature listed: the list cannot drift from the harness.
        listed = {f["name"]: f["signature"] for f in h["functions"] if f["kind"] != "variable"}
        st, a = run(sid, "import builtins, inspect\n"
                         "out = {}\n"
                         f"for name in {sorted(listed)!r}:\n"
                         "    obj = getattr(builtins, name)\n"
                         "    out[name] = (f'class {name}({obj.__mro__[1].__name__})'\n"
                         "                 if isinstance(obj, type) else f'{name}{inspect.signature(obj)}')\n"
                         "__result__ = out")
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertEqual(a["result"], listed)

    def test_every_example_runs_as_it_says(self):
        sid = new_sandbox()
        st, h = get(f"/sandbox/{sid}/help/examples")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(len(h["examples"]), 5)
        for ex in h["examples"]:
            with self.subTest(example=ex["name"]):
                # Each in a sandbox of its own: the state example counts from 1.
                st, a = run(new_sandbox(), ex["code"], ex.get("data"))
                self.assertEqual((st, a["status"]), (200, "ok"), a)
                want = ex["expect"]
                if "output" in want:
                    self.assertEqual(a["output"], want["output"])
                if "output_contains" in want:
                    self.assertIn(want["output_contains"], a["output"])
                if "result" in want:
                    self.assertEqual(a["result"], want["result"])
                if "charts" in want:
                    self.assertGreaterEqual(len(a["charts"]), want["charts"])

    def test_help_routes_check_their_sandbox_and_method(self):
        sid = new_sandbox()
        never = sid[:8] + "0" * 24  # this executor's tag, an id it never made
        self.assertEqual(get(f"/sandbox/{never}/help/functions")[0], 404)
        self.assertEqual(get("/sandbox/" + "0" * 32 + "/help/functions")[0], 410)  # another boot
        self.assertEqual(get("/sandbox/nope/help/examples")[0], 404)
        self.assertEqual(get(f"/sandbox/{sid}/help/nothing")[0], 404)
        st, _ = post(f"/sandbox/{sid}/help/functions", {})
        self.assertEqual(st, 405)


class TemplateTests(unittest.TestCase):
    SAMPLE = [{"city": "Lyon", "sales": 10, "visits": 3}, {"city": "Oslo", "sales": 5, "visits": 9}]

    def test_every_template_runs(self):
        st, t = get("/sandbox/templates")
        self.assertEqual(st, 200)
        names = [x["name"] for x in t["templates"]]
        self.assertEqual(names, sorted(names))
        self.assertIn("data_processor", names)
        for entry in t["templates"]:
            with self.subTest(template=entry["name"]):
                self.assertTrue(entry["description"])
                sid = new_sandbox()
                st, one = get(f"/sandbox/{sid}/templates/{entry['name']}")
                self.assertEqual((st, one["name"], one["description"]),
                                 (200, entry["name"], entry["description"]))
                st, a = run(sid, one["code"], self.SAMPLE)
                self.assertEqual((st, a["status"]), (200, "ok"), a)
                if entry["name"] == "data_processor":
                    self.assertEqual(a["result"], {"rows": 2, "totals": {"sales": 15, "visits": 12}})
                if entry["name"] == "chart":
                    self.assertEqual(len(a["charts"]), 1)
                if entry["name"] == "database_report":
                    self.assertIn("users", [r["table"] for r in a["result"]])

    def test_unknown_templates_and_methods(self):
        sid = new_sandbox()
        for name in ("nope", "..%2Fsandbox", "UPPER", "a" * 65):
            self.assertEqual(get(f"/sandbox/{sid}/templates/{name}")[0], 404, name)
        self.assertEqual(post("/sandbox/templates", {})[0], 405)


class QuickExecuteTests(unittest.TestCase):
    def test_one_call_runs_and_ends_the_sandbox(self):
        st, a = post("/sandbox/agent/quick-execute",
                     {"code": "print(sum(r['x'] for r in data))\n__result__ = len(data)",
                      "data": [{"x": 1}, {"x": 2}], "config": {"max_execution_time": 5}})
        self.assertEqual((st, a["status"], a["output"], a["result"]), (200, "ok", "3\n", 2), a)
        sid = a["metadata"]["sandbox"]["sandbox_id"]
        self.assertEqual(get(f"/sandbox/{sid}/status")[0], 404)

    def test_errors_still_end_the_sandbox(self):
        st, a = post("/sandbox/agent/quick-execute", {"code": "1/0"})
        self.assertEqual((st, a["status"], a["error"]["type"]), (200, "error", "ZeroDivisionError"))
        self.assertEqual(get(f"/sandbox/{a['metadata']['sandbox']['sandbox_id']}/status")[0], 404)

    def test_bad_requests(self):
        self.assertEqual(post("/sandbox/agent/quick-execute", {"data": []})[0], 400)
        self.assertEqual(post("/sandbox/agent/quick-execute", {"code": "1", "x": 1})[0], 400)
        st, a = post("/sandbox/agent/quick-execute",
                     {"code": "1", "config": {"max_memory_mb": 1 << 20}})
        self.assertEqual(st, 422, a)
        self.assertEqual(get("/sandbox/agent/quick-execute")[0], 405)


class AnalyzeDataTests(unittest.TestCase):
    def test_the_analysis_answers_json(self):
        rows = [{"a": i, "b": 2 * i + (i % 3), "c": "xyz"[i % 3]} for i in range(30)]
        st, a = post("/sandbox/agent/analyze-data", {"data": rows, "analysisType": "comprehensive"})
        self.assertEqual((st, a["status"], a["engine"]), (200, "ok", "native"), a)
        text = json.dumps(a["result"])
        for column in ("a", "b", "c"):
            self.assertIn(f'"{column}"', text)
        self.assertTrue(a["output"])

    def test_bad_requests(self):
        st, a = post("/sandbox/agent/analyze-data", {"data": [{"a": 1}], "analysisType": "nope"})
        self.assertEqual(st, 400, a)
        self.assertEqual(post("/sandbox/agent/analyze-data", {"data": 5})[0], 400)
        self.assertEqual(get("/sandbox/agent/analyze-data")[0], 405)


if __name__ == "__main__":
    unittest.main()
