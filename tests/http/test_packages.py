"""The packages the native engine promises, used for real inside the jail.

numpy, pandas, scipy, matplotlib, requests, beautifulsoup4 and openpyxl are
preloaded in the warm interpreter; scikit-learn, seaborn and statsmodels
load on first use (docs/PERFORMANCE.md says why).  Each is listed with its
version in /api/python/health, and the router sends code importing any of
them to the native engine.
"""

import importlib.metadata
import json
import unittest

from tests.http.service import Service

svc = None

# import name -> Debian's distribution name
PROMISED = {"numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "matplotlib": "matplotlib",
            "sklearn": "scikit-learn", "seaborn": "seaborn", "statsmodels": "statsmodels",
            "requests": "requests", "bs4": "beautifulsoup4", "openpyxl": "openpyxl"}
PRELOADED = {"numpy", "pandas", "scipy", "matplotlib", "requests", "bs4", "openpyxl"}


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


def run(code, data=None, wall=30):
    return svc.execute(code, data, wall)


class Catalogue(unittest.TestCase):
    def test_health_lists_every_promised_package_with_its_version(self):
        info = svc.wait_warm()["interpreter"]["info"]
        expected = {name: importlib.metadata.version(dist) for name, dist in PROMISED.items()}
        self.assertEqual(info["packages"], expected)
        self.assertEqual(set(info["preloaded"]), PRELOADED)

    def test_the_jail_imports_the_same_versions(self):
        code = ("import importlib, json\n"
                "__result__ = {n: getattr(importlib.import_module(n), '__version__', None) "
                "for n in data}")
        status, r = run(code, sorted(PROMISED))
        self.assertEqual(r["status"], "ok", r["error"])
        for name, dist in PROMISED.items():
            self.assertEqual(r["result"][name], importlib.metadata.version(dist), name)

    def test_the_router_sends_their_code_to_the_native_engine(self):
        for name in ("sklearn", "seaborn", "statsmodels", "openpyxl", "bs4", "requests"):
            with self.subTest(package=name):
                status, _, raw = svc.post_json(
                    "/api/insights/python-execution",
                    {"code": f"import {name}\nprint('{name} ok')",
                     "requirements": {"preferredEngine": "auto", "cpuIntensive": True}})
                r = json.loads(raw)
                self.assertEqual(status, 200, raw[:500])
                self.assertEqual(r["engine"], "native", r["metadata"])
                self.assertEqual(r["output"], f"{name} ok\n")


class UsedForReal(unittest.TestCase):
    def test_scikit_learn_fits_a_model(self):
        code = ("from sklearn.linear_model import LinearRegression\n"
                "import numpy as np\n"
                "x = np.array([[r['x']] for r in data]); y = np.array([r['y'] for r in data])\n"
                "m = LinearRegression().fit(x, y)\n"
                "__result__ = [round(float(m.coef_[0]), 6), round(float(m.intercept_), 6)]")
        status, r = run(code, [{"x": i, "y": 3 * i + 2} for i in range(50)])
        self.assertEqual((r["status"], r["result"]), ("ok", [3.0, 2.0]), r["error"])

    def test_statsmodels_ols(self):
        code = ("import statsmodels.api as sm, numpy as np\n"
                "x = sm.add_constant(np.arange(20.0)); y = 0.5 * np.arange(20.0) - 1\n"
                "fit = sm.OLS(y, x).fit()\n"
                "__result__ = [round(float(v), 6) for v in fit.params]")
        status, r = run(code)
        self.assertEqual((r["status"], r["result"]), ("ok", [-1.0, 0.5]), r["error"])

    def test_seaborn_draws_a_chart(self):
        code = ("import seaborn as sns, pandas as pd, matplotlib.pyplot as plt\n"
                "sns.barplot(data=pd.DataFrame(data), x='k', y='v')\n"
                "plt.show()")
        status, r = run(code, [{"k": "a", "v": 1}, {"k": "b", "v": 3}])
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(len(r["charts"]), 1)
        self.assertTrue(r["charts"][0]["data"].startswith("iVBORw0KGgo"))  # PNG signature

    def test_openpyxl_writes_and_reads_a_workbook(self):
        code = ("import openpyxl\n"
                "wb = openpyxl.Workbook(); ws = wb.active\n"
                "for row in data: ws.append(row)\n"
                "wb.save('/tmp/t.xlsx')\n"
                "back = openpyxl.load_workbook('/tmp/t.xlsx').active\n"
                "__result__ = [[c.value for c in row] for row in back.iter_rows()]")
        rows = [["name", "n"], ["a", 1], ["b", 2.5]]
        status, r = run(code, rows)
        self.assertEqual((r["status"], r["result"]), ("ok", rows), r["error"])

    def test_pandas_reads_excel_through_openpyxl(self):
        code = ("import pandas as pd\n"
                "pd.DataFrame(data).to_excel('/tmp/d.xlsx', index=False)\n"
                "__result__ = pd.read_excel('/tmp/d.xlsx').to_dict('records')")
        rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
        status, r = run(code, rows)
        self.assertEqual((r["status"], r["result"]), ("ok", rows), r["error"])

    def test_beautifulsoup_parses_html(self):
        code = ("from bs4 import BeautifulSoup\n"
                "s = BeautifulSoup(data, 'html.parser')\n"
                "__result__ = [a['href'] for a in s.find_all('a')]")
        status, r = run(code, "<p><a href='/x'>x</a> <a href='/y'>y</a></p>")
        self.assertEqual((r["status"], r["result"]), ("ok", ["/x", "/y"]), r["error"])

    def test_requests_fails_with_a_clear_connection_error_not_a_hang(self):
        # No network in the jail: name lookups find nothing, and sockets
        # other than AF_UNIX are refused.  Either way requests says so at
        # once; a hang would end as a timeout at the 20 s wall limit.
        code = ("import requests\n"
                "out = {}\n"
                "for url in data:\n"
                "    try:\n"
                "        requests.get(url, timeout=5)\n"
                "        out[url] = 'answered'\n"
                "    except requests.exceptions.ConnectionError as e:\n"
                "        out[url] = 'ConnectionError: ' + str(e)\n"
                "__result__ = out")
        urls = ["http://example.com/", "http://127.0.0.1:9/", "https://93.184.216.34/"]
        status, r = run(code, urls, wall=20)
        self.assertEqual(r["status"], "ok", r["error"])
        for url in urls:
            self.assertTrue(r["result"][url].startswith("ConnectionError: "), (url, r["result"][url]))
        self.assertIn("Address family not supported", r["result"]["http://127.0.0.1:9/"])


if __name__ == "__main__":
    unittest.main()
