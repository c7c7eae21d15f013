"""The native engine when the service runs as an ordinary user, not root.

Then there are no per-slot outside uids (the jails map to the service's own
uid), usually no writable cgroups (so jobs may not fork: nothing would
bound the memory of several processes together) and no mknod for private
device nodes.  The engine must still work, say "degraded" with the reasons,
and keep every layer that does not need root.  The suite starts its own
instance as `nobody` through setpriv, so it needs root itself.
"""

import json
import os
import pwd
import time
import unittest

from tests.http.service import Service

EXECUTE = "/api/python/execute"
USER = "nobody"
svc = None


def setUpModule():
    global svc
    if os.geteuid() != 0:
        raise unittest.SkipTest("starting the service as another user needs root (the whole "
                                "suite already runs unprivileged in that case)")
    svc = Service(user=USER)
    svc.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        h = health()
        if h.get("pool", {}).get("ready", 0) > 0:
            return
        time.sleep(0.2)
    raise RuntimeError("the unprivileged native engine never became ready: " + svc.log("executor.log"))


def tearDownModule():
    if svc is not None:
        svc.stop()


def health():
    status, _, body = svc.get("/api/python/health")
    return json.loads(body) if status in (200, 503) else {}


def run(code, data=None, **requirements):
    body = {"code": code}
    if data is not None:
        body["data"] = data
    if requirements:
        body["requirements"] = requirements
    status, _, raw = svc.post_json(EXECUTE, body, timeout=60)
    return status, json.loads(raw)


class UnprivilegedTests(unittest.TestCase):
    def test_the_service_really_runs_as_the_user(self):
        uid = pwd.getpwnam(USER).pw_uid
        owners = set()
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/environ", "rb") as f:
                    if f"PYSANDBOX_RUN_DIR={svc.run_dir}".encode() not in f.read().split(b"\0"):
                        continue
                owners.add(os.stat(f"/proc/{p}").st_uid)
            except OSError:
                continue
        # nginx, the front, the executor, the zygote and the jails: all the user's.
        self.assertEqual(owners, {uid})

    def test_health_is_degraded_and_says_why(self):
        h = health()
        self.assertEqual(h["status"], "degraded")
        jail = h["jail"]
        self.assertIn("own uid", jail["outsideIds"])
        self.assertIn(str(pwd.getpwnam(USER).pw_uid), jail["outsideIds"])
        if jail["cgroup"]["version"] == "none":
            self.assertFalse(jail["forkAllowed"])
            self.assertTrue(jail["cgroupNote"])
        # mknod needs root: the jails fall back to the host's device nodes, and say so.
        self.assertIs(h["interpreter"]["privateDevices"], False)
        self.assertIn("Operation not permitted", h["interpreter"]["privateDevicesNote"])

    def test_python_and_pandas_run(self):
        status, r = run("import pandas as pd\nprint(pd.DataFrame(data).describe().loc['mean', 'a'])",
                        [{"a": 1}, {"a": 3}])
        self.assertEqual(status, 200)
        self.assertEqual((r["status"], r["output"]), ("ok", "2.0\n"), r["error"])

    def test_the_jail_is_still_a_jail(self):
        code = (
            "import os, socket\n"
            "out = {'uid': os.getuid(), 'pid': os.getpid()}\n"
            "for p in ('/etc/shadow', '/root', '/home'):\n"
            "    out[p] = os.path.exists(p)\n"
            "try:\n"
            "    socket.socket(socket.AF_INET).connect(('127.0.0.1', 80))\n"
            "    out['net'] = 'connected'\n"
            "except OSError as e:\n"
            "    out['net'] = e.errno\n"
            "try:\n"
            "    open('/usr/lib/x', 'w')\n"
            "    out['write'] = 'written'\n"
            "except OSError as e:\n"
            "    out['write'] = e.errno\n"
            "__result__ = out\n")
        status, r = run(code)
        self.assertEqual(r["status"], "ok", r["error"])
        res = r["result"]
        self.assertEqual((res["uid"], res["pid"]), (1000, 2))
        self.assertEqual([res[p] for p in ("/etc/shadow", "/root", "/home")], [False] * 3)
        self.assertEqual(res["net"], 97)  # EAFNOSUPPORT
        self.assertEqual(res["write"], 30)  # EROFS

    def test_fork_is_refused_without_cgroups(self):
        if health()["jail"]["forkAllowed"]:
            self.skipTest("this host delegates cgroups to the user: forking is allowed")
        status, r = run("import os\ntry:\n    os.fork()\n    print('forked')\n"
                        "except OSError as e:\n    print('refused', e.errno)\n"
                        "import threading\nt = threading.Thread(target=print, args=('thread',))\n"
                        "t.start(); t.join()\n")
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(r["output"], "refused 1\nthread\n")

    def test_limits_still_hold(self):
        _, r = run("x = bytearray(400 * 1024 * 1024)", maxMemoryUsage=128)
        self.assertEqual(r["status"], "memory_limit", r["error"])
        _, r = run("while True: pass", maxExecutionTime=1)
        self.assertEqual(r["status"], "timeout", r["error"])


if __name__ == "__main__":
    unittest.main()
