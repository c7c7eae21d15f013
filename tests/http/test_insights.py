"""Findings about the data (result.insights) and the data of matplotlib
charts (charts[i].chart), through real nginx, FastCGI, the executor and its
jails, and through the Judge0 engine (a Judge0 on loopback).

The harness (web/harness.py) computes both; the supervisor filters them
(cgi/proto/hview.c; its unit tests cover forged frames).  The crafted data
sets live in tests/data/insights_cases.json, shared with the Pyodide test
(tests/browser/insights.test.mjs), which checks that Pyodide finds exactly
what the native engine finds.  Chart data is checked natively only: the
router keeps matplotlib code off Judge0 (its package list lacks it) and the
browser's Pyodide here has no matplotlib wheels (tools/mirror-pyodide-packages).
"""

import json
import os
import unittest

from tests.http.service import ROOT, Service
from tests.http.test_judge0_engine import FakeJudge0

# The router's endpoint: /api/python/execute runs the native engine only.
RUN = "/api/insights/python-execution"
MAX_INSIGHTS = 50
MAX_POINTS = 5000
KINDS = {"correlation", "outlier", "trend", "missing", "skew", "constant",
         "dominant_category", "duplicates"}

svc = None
judge0 = None

with open(os.path.join(ROOT, "tests", "data", "insights_cases.json")) as f:
    CASES = json.load(f)["cases"]


def setUpModule():
    global svc, judge0
    judge0 = FakeJudge0()
    svc = Service(env={"JUDGE0_API_URL": judge0.url, "JUDGE0_MAX_WALL_TIME": "60"}).start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()
    judge0.stop()


def execute(code, data=None, engine="native", **requirements):
    requirements.setdefault("maxExecutionTime", 30)
    body = {"code": code, "requirements": dict(requirements, preferredEngine=engine)}
    if data is not None:
        body["data"] = data
    status, _, raw = svc.post_json(RUN, body, timeout=120)
    return status, json.loads(raw)


def matches(finding, want):
    """True when finding has want's kind, columns and evidence members."""
    if "kind" in want and finding["kind"] != want["kind"]:
        return False
    if "columns" in want and finding["columns"] != want["columns"]:
        return False
    evidence = finding["evidence"]
    return all(evidence.get(k) == v for k, v in want.get("evidence", {}).items())


class FindingsTests(unittest.TestCase):
    def check_schema(self, insights):
        self.assertLessEqual(len(insights), MAX_INSIGHTS)
        scores = [f["score"] for f in insights]
        self.assertEqual(scores, sorted(scores, reverse=True), "best first")
        for f in insights:
            self.assertEqual(set(f), {"kind", "columns", "message", "score", "evidence"}, f)
            self.assertIn(f["kind"], KINDS)
            self.assertTrue(all(isinstance(c, str) for c in f["columns"]), f)
            self.assertTrue(f["message"] and isinstance(f["message"], str), f)
            self.assertTrue(0 <= f["score"] <= 1, f)
            self.assertIsInstance(f["evidence"], dict)

    def test_the_planted_findings_are_found_natively(self):
        for case in CASES:
            with self.subTest(case["name"]):
                status, r = execute("pass", case["data"], insights=True)
                self.assertEqual((status, r["engine"], r["status"]), (200, "native", "ok"), r)
                insights = r["insights"]
                self.check_schema(insights)
                if case.get("none"):
                    self.assertEqual(insights, [])
                for want in case["expect"]:
                    self.assertTrue(any(matches(f, want) for f in insights), (want, insights))
                for unwanted in case["absent"]:
                    self.assertFalse(any(matches(f, unwanted) for f in insights),
                                     (unwanted, insights))

    def test_the_judge0_engine_finds_exactly_the_same(self):
        for case in CASES:
            with self.subTest(case["name"]):
                _, native = execute("pass", case["data"], insights=True)
                status, remote = execute("pass", case["data"], engine="judge0", insights=True)
                self.assertEqual((status, remote["engine"]), (200, "judge0"), remote)
                self.assertEqual(remote["insights"], native["insights"])

    def test_messages_name_the_planted_facts(self):
        outlier = next(c for c in CASES if c["name"] == "planted outlier")
        _, r = execute("pass", outlier["data"], insights=True)
        finding = next(f for f in r["insights"] if f["kind"] == "outlier")
        self.assertIn("'v'", finding["message"])
        self.assertIn("900", finding["message"])
        self.assertIn("row 42", finding["message"])
        self.assertIn("median", finding["evidence"]["rule"])

    def test_no_insights_unless_asked(self):
        data = CASES[0]["data"]
        for requirements in ({}, {"insights": False}):
            with self.subTest(requirements):
                status, r = execute("pass", data, **requirements)
                self.assertEqual((status, r["status"]), (200, "ok"))
                self.assertNotIn("insights", r)

    def test_findings_are_about_the_input_whatever_the_code_did(self):
        data = CASES[0]["data"]
        status, r = execute("data.clear()\nraise ValueError('late')", data, insights=True)
        self.assertEqual((status, r["status"]), (200, "error"), r)
        self.assertEqual(r["error"]["type"], "ValueError")
        self.assertTrue(any(f["kind"] == "outlier" for f in r["insights"]), r["insights"])

    def test_a_run_without_data_gets_an_empty_list(self):
        status, r = execute("print(1)", insights=True)
        self.assertEqual((status, r["output"], r["insights"]), (200, "1\n", []))

    def test_the_program_can_call_find_insights_itself(self):
        case = next(c for c in CASES if c["name"] == "planted correlation")
        _, r = execute("__result__ = [f['kind'] for f in find_insights(data)]", case["data"])
        self.assertIn("correlation", r["result"])
        self.assertNotIn("insights", r)

    def test_a_wrong_type_is_a_clear_400(self):
        status, r = execute("pass", [], insights="yes")
        self.assertEqual(status, 400, r)
        self.assertIn("insights", json.dumps(r))
        self.assertIn("boolean", json.dumps(r))

    def test_sandbox_runs_take_insights_too(self):
        status, _, raw = svc.post_json("/sandbox/create", {})
        self.assertEqual(status, 201, raw)
        sid = json.loads(raw)["sandbox_id"]
        data = CASES[0]["data"]
        try:
            status, _, raw = svc.post_json(f"/sandbox/{sid}/execute",
                                           {"code": "n = len(data)", "data": data,
                                            "insights": True}, timeout=90)
            r = json.loads(raw)
            self.assertEqual((status, r["status"]), (200, "ok"), r)
            self.assertTrue(any(f["kind"] == "outlier" for f in r["insights"]), r)
            status, _, raw = svc.post_json(f"/sandbox/{sid}/execute",
                                           {"code": "print(n)", "insights": 1}, timeout=90)
            self.assertEqual(status, 400, raw)
            self.assertIn(b"field 'insights' must be true or false", raw)
            status, _, raw = svc.post_json(f"/sandbox/{sid}/execute", {"code": "print(n)"},
                                           timeout=90)
            r = json.loads(raw)
            self.assertEqual((r["output"], "insights" in r), ("100\n", False), r)
        finally:
            svc.request("DELETE", f"/sandbox/{sid}")

    def test_analyze_data_always_has_findings(self):
        case = next(c for c in CASES if c["name"] == "planted correlation")
        status, _, raw = svc.post_json("/sandbox/agent/analyze-data",
                                       {"data": case["data"], "analysisType": "correlation"},
                                       timeout=120)
        r = json.loads(raw)
        self.assertEqual(status, 200, r)
        self.assertTrue(any(f["kind"] == "correlation" and f["columns"] == ["x", "y"]
                            for f in r["insights"]), r.get("insights"))


PLOT = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "import numpy as np\n")


def chart_of(code, engine="native"):
    status, r = execute(PLOT + code + "\nplt.show()", engine=engine)
    assert status == 200 and r["status"] == "ok", r
    assert len(r["charts"]) == 1, r["charts"]
    entry = r["charts"][0]
    assert entry["format"] == "png" and entry["data"], entry
    return entry.get("chart")


class ChartDataTests(unittest.TestCase):
    def test_a_line_chart_carries_its_points_titles_and_labels(self):
        chart = chart_of("plt.plot([1, 2, 3], [4, 5, 7], label='sales')\nplt.plot([1, 2], [0, 1])\n"
                         "plt.title('Sales')\nplt.xlabel('Time (s)')\nplt.ylabel('EUR')")
        self.assertEqual((chart["type"], chart["title"], chart["xLabel"], chart["yLabel"]),
                         ("line", "Sales", "Time (s)", "EUR"))
        self.assertEqual(chart["xUnit"], "s")
        self.assertEqual(chart["elements"], [
            {"label": "sales", "points": [[1, 4], [2, 5], [3, 7]]},
            {"label": "", "points": [[1, 0], [2, 1]]}])

    def test_scatter_bar_pie_and_box_charts(self):
        chart = chart_of("plt.scatter([1, 2.5], [3, -1], label='p')")
        self.assertEqual((chart["type"], chart["elements"]),
                         ("scatter", [{"label": "p", "points": [[1, 3], [2.5, -1]]}]))
        chart = chart_of("plt.bar(['a', 'b', 'c'], [3, 1, 2.5])")
        self.assertEqual(chart["type"], "bar")
        self.assertEqual([(e["label"], e["value"]) for e in chart["elements"]],
                         [("a", 3), ("b", 1), ("c", 2.5)])
        self.assertEqual(chart["xTickLabels"], ["a", "b", "c"])
        chart = chart_of("plt.pie([1, 1, 2], labels=['x', 'y', 'z'])")
        self.assertEqual(chart["type"], "pie")
        self.assertEqual([e["label"] for e in chart["elements"]], ["x", "y", "z"])
        self.assertEqual([round(e["angle"]) for e in chart["elements"]], [90, 90, 180])
        chart = chart_of("plt.boxplot([[1, 2, 3, 4, 100], [2, 3, 4, 5, 6]], labels=['p', 'q'])")
        self.assertEqual(chart["type"], "box_and_whisker")
        self.assertEqual(chart["elements"][0], {"label": "p", "min": 1, "firstQuartile": 2,
                                                "median": 3, "thirdQuartile": 4, "max": 4,
                                                "outliers": [100]})
        self.assertEqual(chart["elements"][1]["median"], 4)

    def test_several_axes_make_a_superchart(self):
        chart = chart_of("fig, (a, b) = plt.subplots(1, 2)\na.plot([0, 1], [1, 0])\n"
                         "b.bar([1, 2], [5, 6])\nfig.suptitle('Both')")
        self.assertEqual((chart["type"], chart["title"]), ("superchart", "Both"))
        self.assertEqual([c["type"] for c in chart["elements"]], ["line", "bar"])

    def test_dates_come_back_as_iso_text(self):
        chart = chart_of("import pandas as pd\n"
                         "df = pd.DataFrame({'d': pd.date_range('2024-01-01', periods=3),"
                         " 'v': [1, 2, 3]})\ndf.plot(x='d', y='v')")
        self.assertEqual(chart["elements"][0]["points"],
                         [["2024-01-01", 1], ["2024-01-02", 2], ["2024-01-03", 3]])
        chart = chart_of("import datetime as dt\n"
                         "plt.plot([dt.date(2024, 1, 1), dt.date(2024, 3, 1)], [1, 2])")
        self.assertEqual(chart["elements"][0]["points"], [["2024-01-01", 1], ["2024-03-01", 2]])

    def test_what_cannot_be_read_keeps_only_the_png(self):
        self.assertIsNone(chart_of("plt.imshow(np.eye(3))"))

    def test_a_huge_series_is_cut_and_says_so(self):
        chart = chart_of("plt.plot(np.arange(100000), np.arange(100000) * 2)")
        points = chart["elements"][0]["points"]
        self.assertEqual(len(points), MAX_POINTS)
        self.assertEqual(points[:2], [[0, 0], [1, 2]])
        self.assertIs(chart["truncated"], True)


if __name__ == "__main__":
    unittest.main()
