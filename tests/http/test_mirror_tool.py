"""tools/mirror-pyodide-packages against a fake mirror on loopback.

The mirror serves small pure-Python wheels built here; the lockfile is a
copy of the real one (never the real one) with entries for them added.
"""

import copy
import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "mirror-pyodide-packages")
VERSION = "0.29.5"
REAL_LOCK = os.path.join(ROOT, "pyodide", "dist", VERSION, "pyodide-lock.json")


def make_wheel(name, version, body):
    """Returns the bytes of a minimal pure-Python wheel for module `name`."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": body,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: pysandbox-test\n"
                         "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{dist}/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{dist}/RECORD", record)
    return buf.getvalue()


def lock_entry(name, file_name, data, depends=()):
    return {
        "depends": list(depends),
        "file_name": file_name,
        "imports": [name],
        "install_dir": "site",
        "name": name,
        "package_type": "package",
        "sha256": hashlib.sha256(data).hexdigest(),
        "unvendored_tests": False,
        "version": "1.0",
    }


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        self.server.requests.append(self.path)


@unittest.skipUnless(os.path.isfile(REAL_LOCK), "run `make pyodide` first")
class MirrorToolTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pysb-mirror-")
        self.mirror = os.path.join(self.tmp, "mirror")
        self.dest = os.path.join(self.tmp, "dist")
        os.makedirs(self.mirror)
        os.makedirs(self.dest)

        self.files = {}
        app = make_wheel("pysbapp", "1.0", "from pysbdep import VALUE\n")
        dep = make_wheel("pysbdep", "1.0", "VALUE = 'dep ok'\n")
        bad = make_wheel("pysbbad", "1.0", "VALUE = 'not what the lockfile says'\n")
        with open(REAL_LOCK, encoding="utf-8") as f:
            lock = json.load(f)
        self.real_package_count = len(lock["packages"])
        lock["packages"]["pysbapp"] = lock_entry("pysbapp", "pysbapp-1.0-py3-none-any.whl", app,
                                                 ["pysbdep"])
        lock["packages"]["pysbdep"] = lock_entry("pysbdep", "pysbdep-1.0-py3-none-any.whl", dep)
        # The lockfile's hash is of other bytes than the mirror serves.
        lock["packages"]["pysbbad"] = lock_entry("pysbbad", "pysbbad-1.0-py3-none-any.whl",
                                                 b"something else")
        lock["packages"]["pysbevil"] = lock_entry("pysbevil", "../evil-1.0-py3-none-any.whl", dep)
        self.lock = lock
        self.write_lock(lock)
        for name, data in (("pysbapp-1.0-py3-none-any.whl", app),
                           ("pysbdep-1.0-py3-none-any.whl", dep),
                           ("pysbbad-1.0-py3-none-any.whl", bad),
                           ("evil-1.0-py3-none-any.whl", dep)):
            with open(os.path.join(self.mirror, name), "wb") as f:
                f.write(data)
            self.files[name] = data

        handler = functools.partial(QuietHandler, directory=self.mirror)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.requests = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.source = f"http://127.0.0.1:{self.server.server_address[1]}/full/"
        # Serve the mirror under /full/ like a distribution folder.
        os.symlink(self.mirror, os.path.join(self.mirror, "full"))

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.tmp)

    def write_lock(self, lock):
        with open(os.path.join(self.dest, "pyodide-lock.json"), "w", encoding="utf-8") as f:
            json.dump(lock, f)

    def tool(self, *args):
        return subprocess.run(
            ["/usr/bin/python3", TOOL, "--version", VERSION, "--source", self.source,
             "--dest", self.dest, *args],
            capture_output=True, text=True, timeout=120)

    def dest_files(self):
        return sorted(f for f in os.listdir(self.dest) if f != "pyodide-lock.json")

    def test_downloads_the_closure_and_verifies_it(self):
        r = self.tool("pysbapp")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.dest_files(),
                         ["pysbapp-1.0-py3-none-any.whl", "pysbdep-1.0-py3-none-any.whl"])
        for name in self.dest_files():
            with open(os.path.join(self.dest, name), "rb") as f:
                self.assertEqual(f.read(), self.files[name])
            self.assertEqual(os.stat(os.path.join(self.dest, name)).st_mode & 0o777, 0o644)
        self.assertIn("downloaded", r.stdout)
        self.assertIn("2 of 2 in place (2 downloaded", r.stdout)
        self.assertEqual(sorted(self.server.requests),
                         ["/full/pysbapp-1.0-py3-none-any.whl", "/full/pysbdep-1.0-py3-none-any.whl"])

        # A second run finds both in place and fetches nothing.
        self.server.requests.clear()
        again = self.tool("pysbapp")
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("2 of 2 in place (0 downloaded", again.stdout)
        self.assertEqual(self.server.requests, [])

        # A damaged local copy is noticed and replaced.
        with open(os.path.join(self.dest, "pysbdep-1.0-py3-none-any.whl"), "wb") as f:
            f.write(b"damaged")
        fixed = self.tool("pysbdep")
        self.assertEqual(fixed.returncode, 0, fixed.stdout + fixed.stderr)
        with open(os.path.join(self.dest, "pysbdep-1.0-py3-none-any.whl"), "rb") as f:
            self.assertEqual(f.read(), self.files["pysbdep-1.0-py3-none-any.whl"])

    def test_refuses_a_file_whose_sha256_does_not_match(self):
        r = self.tool("pysbbad", "pysbdep")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("sha256 mismatch", r.stdout)
        self.assertIn("FAILED", r.stdout)
        # Nothing of the bad file is left behind, not even a partial one;
        # the good one was still mirrored.
        self.assertEqual(os.listdir(self.dest).count("pysbbad-1.0-py3-none-any.whl"), 0)
        self.assertEqual([f for f in os.listdir(self.dest) if f.endswith(".part")], [])
        self.assertEqual(self.dest_files(), ["pysbdep-1.0-py3-none-any.whl"])

    def test_refuses_file_names_that_leave_the_folder(self):
        r = self.tool("pysbevil")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("unsafe file name", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "evil-1.0-py3-none-any.whl")))
        self.assertEqual(self.server.requests, [])

    def test_reports_unknown_packages_and_missing_files(self):
        r = self.tool("no-such-package-xyz")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown package(s) in the lockfile: no-such-package-xyz", r.stderr)
        # numpy is in the real lockfile but not on this mirror: a 404.
        r = self.tool("numpy")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("HTTP Error 404", r.stdout)

    def test_all_and_dry_run(self):
        small = copy.deepcopy(self.lock)
        small["packages"] = {k: v for k, v in small["packages"].items()
                             if k in ("pysbapp", "pysbdep")}
        self.write_lock(small)
        dry = self.tool("--all", "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stdout + dry.stderr)
        self.assertIn("2 package(s)", dry.stdout)
        self.assertEqual(self.dest_files(), [])
        r = self.tool("--all")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(self.dest_files()), 2)

    def test_resolves_real_lockfile_closures(self):
        # Resolution only (dry run) of real entries in the lockfile copy.
        r = self.tool("--dry-run", "pandas")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in ("numpy", "pandas", "python-dateutil", "pytz", "six"):
            self.assertRegex(r.stdout, rf"\n  {name} +")
        self.assertIn("5 package(s)", r.stdout)
        # Import names work too (sklearn is scikit-learn's).
        r = self.tool("--dry-run", "sklearn")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("scikit-learn", r.stdout)


if __name__ == "__main__":
    unittest.main()
