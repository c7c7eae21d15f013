"""Fidelity: ordinary Python behaves as in CPython inside the jail.

Runs modules of CPython's own regression suite (Debian's
libpython3.11-testsuite, /usr/lib/python3.11/test) through the native
engine and requires every test to pass.  The jail has no subprocesses
(execve is refused), like WASI or Emscripten, so tests marked
@requires_subprocess skip themselves, as they do on those platforms.

Not run here, and why:
  test_decimal    needs regrtest's own runner (it fails the same way
                  outside the jail when loaded with unittest alone)
  test_tempfile   test_basic_many opens more than the 100 files a job may
  test_threading  needs more threads and processes than the 10 allowed
  test_os         its sendfile tests need AF_INET sockets (no network)
"""

import json
import unittest

from tests.http.service import Service

svc = None

RUNNER = r'''
import io, unittest
import test.support
test.support.has_subprocess_support = False
stream = io.StringIO()
suite = unittest.defaultTestLoader.loadTestsFromName(data["module"])
r = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
if r.failures or r.errors:
    print(stream.getvalue()[-6000:])
__result__ = {"run": r.testsRun, "failures": len(r.failures), "errors": len(r.errors),
              "skipped": len(r.skipped)}
'''

# module -> fewest tests that must run (guards against an empty pass)
MODULES = {
    "test.test_json": 150,
    "test.test_statistics": 350,
    "test.test_math": 70,
    "test.test_re": 150,
    "test.test_datetime": 2500,
    "test.test_collections": 100,
    "test.test_itertools": 120,
    "test.test_functools": 240,
    "test.test_csv": 120,
    "test.test_fractions": 30,
    "test.test_dataclasses": 200,
    "test.test_enum": 500,
    "test.test_pathlib": 400,
    "test.test_zoneinfo": 200,
}


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


class CPythonRegressionSuite(unittest.TestCase):
    def test_modules_pass_in_the_jail(self):
        for module, minimum in MODULES.items():
            with self.subTest(module=module):
                status, _, raw = svc.post_json(
                    "/api/python/execute",
                    {"code": RUNNER, "data": {"module": module}},
                    timeout=120,
                )
                self.assertEqual(status, 200)
                r = json.loads(raw)
                self.assertEqual(r["status"], "ok", r["error"] or r["output"][-3000:])
                res = r["result"]
                self.assertEqual((res["failures"], res["errors"]), (0, 0), r["output"])
                self.assertGreaterEqual(res["run"], minimum)


if __name__ == "__main__":
    unittest.main()
