"""Start and stop a real pysandbox instance (nginx + FastCGI) for a test module.

Each test module calls start() in setUpModule and stop() in tearDownModule.
The instance listens on a free loopback port and keeps all state in a fresh
temporary run folder, so suites never touch a developer's `make run`.
PYSANDBOX_BUILD_DIR selects the binaries (build/rel, or build/san for the
sanitizer run).
"""

import http.client
import json
import os
import pwd
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# For suites that play many clients from one address (127.0.0.1): the
# per-client limits (PYSANDBOX_CLIENT_MAX_JOBS, PYSANDBOX_CLIENT_MAX_REQUESTS)
# would refuse their concurrent requests.  test_fairness checks the limits.
MANY_CLIENTS_ON_ONE_ADDRESS = {"PYSANDBOX_CLIENT_MAX_JOBS": "256",
                               "PYSANDBOX_CLIENT_MAX_REQUESTS": "1024"}


def wait_for(predicate, seconds, what, interval=0.02):
    """Returns predicate()'s first true value, polling every interval
    seconds; raises AssertionError naming what after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user_can_read(user, path):
    pw = pwd.getpwnam(user)
    return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                           "--clear-groups", "test", "-r", path]).returncode == 0


# What tools/service and the programs read from the checkout.
STAGED = ["Makefile", "tools/service", "nginx", "web", "templates"]


def stage_readable_copy(run_dir, build_dir):
    """A checkout in a private folder (a home of mode 0700, /root) cannot be
    reached by an unprivileged user: copy what the service reads into a
    world-readable folder inside run_dir and return its path."""
    stage = os.path.join(run_dir, "checkout")
    version = next(line.split(":=")[1].strip() for line in open(os.path.join(ROOT, "Makefile"))
                   if line.startswith("PYODIDE_VERSION"))
    for rel in STAGED + [f"pyodide/dist/{version}"]:
        src, dst = os.path.join(ROOT, rel), os.path.join(stage, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst)
    build = build_dir or os.path.join(ROOT, "build", "rel")
    os.makedirs(os.path.join(stage, "build"))
    for prog in ("pysandbox-fcgi", "pysandbox-executor", "pysandbox-zygote"):
        shutil.copy2(os.path.join(build, prog), os.path.join(stage, "build", prog))
    for d, dirs, files in os.walk(stage):
        os.chmod(d, 0o755)
        for f in files:
            path = os.path.join(d, f)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o444)
    return stage


class Service:
    def __init__(self, env=None, user=None):
        """user: run the service as this (unprivileged) account instead of
        ours, through setpriv; only root can do that."""
        self.port = free_port()
        self.user = user
        self.run_dir = tempfile.mkdtemp(prefix="pysb-test-")
        os.chmod(self.run_dir, 0o755)
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(self.run_dir, pw.pw_uid, pw.pw_gid)
        self.env = dict(os.environ)
        # Each instance gets its own outside uids for its jails, so suites and
        # a developer's `make run` never share a slot uid (RLIMIT_NPROC counts per uid).
        uid_base = 1_700_000_000 + random.randrange(0, 100_000) * 1000
        self.env.update({"PORT": str(self.port), "PYSANDBOX_RUN_DIR": self.run_dir,
                         "PYSANDBOX_JAIL_UID_BASE": str(uid_base)})
        self.env.update(env or {})
        self.base = f"http://127.0.0.1:{self.port}"
        self.root = ROOT
        if user is not None and not user_can_read(user, os.path.join(ROOT, "tools", "service")):
            self.root = stage_readable_copy(self.run_dir, self.env.get("PYSANDBOX_BUILD_DIR"))
            self.env["PYSANDBOX_BUILD_DIR"] = os.path.join(self.root, "build")

    def start(self):
        cmd = [os.path.join(self.root, "tools", "service"), "start"]
        env = self.env
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
                   "--reset-env"] + ["env"] + [f"{k}={v}" for k, v in self.env.items()
                                               if k.startswith(("PYSANDBOX_", "JUDGE0_", "PORT"))] + \
                  ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + self.run_dir] + cmd
            env = None
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)
        return self

    def stop(self):
        subprocess.run([os.path.join(self.root, "tools", "service"), "stop"], env=self.env,
                       check=False, timeout=60)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def pids(self, program):
        """PIDs of this instance's processes running program (e.g.
        "pysandbox-executor").  Judged by what a jailed job cannot forge:
        the executable the kernel records (a job can rewrite its argv,
        environ and comm, not /proc/<pid>/exe) and the PID namespace (every
        jail has its own); the run folder in the environment tells this
        instance from others."""
        found = []
        for p in (int(p) for p in os.listdir("/proc") if p.isdigit()):
            try:
                exe = os.readlink(f"/proc/{p}/exe")
                with open(f"/proc/{p}/status") as f:
                    status = f.read()
                with open(f"/proc/{p}/environ", "rb") as f:
                    env = f.read()
            except OSError:
                continue
            nspid = re.search(r"^NSpid:\s+(.*)$", status, re.M)
            if (os.path.basename(exe.removesuffix(" (deleted)")) == program
                    and (nspid is None or len(nspid.group(1).split()) == 1)
                    and self.run_dir.encode() in env):
                found.append(p)
        return found

    def log(self, name):
        try:
            with open(os.path.join(self.run_dir, "logs", name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=60, source="127.0.0.1"):
        """Returns (status, headers dict with lower-case names, body bytes).
        source: the loopback address to connect from (another client)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0))
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, data
        finally:
            conn.close()

    def post_json(self, path, obj=None, raw=None, timeout=60, source="127.0.0.1"):
        body = raw if raw is not None else json.dumps(obj)
        return self.request("POST", path, body, {"Content-Type": "application/json"}, timeout,
                            source)

    def post_form(self, path, fields):
        body = urllib.parse.urlencode(fields)
        return self.request("POST", path, body,
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def execute(self, code, data=None, wall=30):
        """Runs code on the native engine (POST /api/python/execute) with a
        wall limit of wall seconds; returns (status, the answer as JSON)."""
        body = {"code": code, "requirements": {"maxExecutionTime": wall}}
        if data is not None:
            body["data"] = data
        status, _, raw = self.post_json("/api/python/execute", body, timeout=wall + 60)
        return status, json.loads(raw)

    def wait_warm(self, seconds=120):
        """Returns /api/python/health once it describes the warm interpreter
        (the zygote has finished its warm-up), or raises after seconds."""
        deadline = time.monotonic() + seconds
        while True:
            h = json.loads(self.get("/api/python/health")[2])
            if h.get("interpreter") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not h.get("interpreter"):
            raise AssertionError("the warm interpreter never became ready: " + self.log("executor.log"))
        return h

    def get(self, path, headers=None, source="127.0.0.1"):
        return self.request("GET", path, None, headers, source=source)
