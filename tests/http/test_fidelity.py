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
import subprocess
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


def run(code, data=None, wall=30):
    return svc.execute(code, data, wall)


def debian_python(expr):
    """The value of expr in Debian's own python3.11, outside any jail."""
    out = subprocess.run(["/usr/bin/python3.11", "-c", f"import json, os, sys, inspect\nprint(json.dumps({expr}))"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


INTROSPECTION = """
import inspect, json, os, sys
__result__ = {
    "os.__file__": os.__file__,
    "sys._stdlib_dir": sys._stdlib_dir,
    "sys.prefix": sys.prefix,
    "getsourcefile(os)": inspect.getsourcefile(os),
    "getsource(os) lines": len(inspect.getsource(os).splitlines()),
    "getsource(json.dumps) lines": len(inspect.getsource(json.dumps).splitlines()),
    "os.__spec__.origin": os.__spec__.origin,
}
"""
INTROSPECTION_HOST = ('{"os.__file__": os.__file__, "sys._stdlib_dir": sys._stdlib_dir, '
                      '"sys.prefix": sys.prefix, "getsourcefile(os)": inspect.getsourcefile(os), '
                      '"getsource(os) lines": len(inspect.getsource(os).splitlines()), '
                      '"getsource(json.dumps) lines": len(inspect.getsource(json.dumps).splitlines()), '
                      '"os.__spec__.origin": os.__spec__.origin}')
# (json is imported by the -c prelude of debian_python.)


class Introspection(unittest.TestCase):
    def test_stdlib_introspection_is_debians(self):
        status, r = run(INTROSPECTION)
        self.assertEqual((status, r["status"]), (200, "ok"), r["error"])
        self.assertEqual(r["result"], debian_python(INTROSPECTION_HOST))

    def test_sys_executable_is_a_path_that_exists(self):
        status, r = run("import os, sys\n__result__ = [sys.executable, os.path.isfile(sys.executable), "
                        "os.access(sys.executable, os.X_OK)]")
        self.assertEqual(r["status"], "ok", r["error"])
        executable, is_file, _ = r["result"]
        self.assertEqual(executable, "/usr/bin/python3")
        self.assertTrue(is_file)

    def test_starting_a_program_says_it_is_not_available(self):
        code = """
import multiprocessing, os, pty, subprocess, sys
tries = {
    "subprocess.run": lambda: subprocess.run(["ls"]),
    "subprocess.check_output(python)": lambda: subprocess.check_output([sys.executable, "-c", "1"]),
    "os.system": lambda: os.system("ls"),
    "os.popen": lambda: os.popen("ls").read(),
    "os.execv": lambda: os.execv("/usr/bin/ls", ["ls"]),
    "os.execlp": lambda: os.execlp("ls", "ls"),
    "os.execve": lambda: os.execve("/usr/bin/ls", ["ls"], {}),
    "os.posix_spawn": lambda: os.posix_spawn("/usr/bin/ls", ["ls"], {}),
    "os.posix_spawnp": lambda: os.posix_spawnp("ls", ["ls"], {}),
    "pty.spawn": lambda: pty.spawn("ls"),
    "multiprocessing spawn": lambda: multiprocessing.get_context("spawn").Process(target=print).start(),
}
out = {}
for name, fn in tries.items():
    try:
        fn()
        out[name] = "returned"
    except PermissionError as e:
        out[name] = [e.errno, e.strerror]
__result__ = out
"""
        status, r = run(code)
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(len(r["result"]), 11)
        for name, got in r["result"].items():
            self.assertEqual(got, [1, "running other programs is not available in the sandbox"], name)

    def test_fork_still_works(self):
        code = "import os\npid = os.fork()\nif pid == 0:\n    os._exit(7)\n__result__ = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])"
        status, r = run(code)
        self.assertEqual((r["status"], r["result"]), ("ok", 7), r["error"])


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
