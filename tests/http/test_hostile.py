"""Hostile programs against the native engine's jail, through real nginx + FastCGI.

Each program in tests/hostile/ attacks one thing (its header says what and
what must happen).  A test posts it to POST /api/python/execute and checks,
from the host side wherever possible, that the harmful effect did not
happen: host canary files, host listeners, the host clock, the host's view
of the jailed process (/proc/<pid>/status, fd, mem, root), the host's
process table.  After every test (tearDown) the service must be idle, have
no process left behind, keep the same executor/zygote/front/nginx processes
and answer a normal job.

Programs that must be held alive for a host-side inspection call
wait_until_released(token) of tests/hostile/prelude.py, which program()
prepends to their code: it creates /tmp/<token>.ready inside the jail
(closed, then renamed into place, so the host never sees it while it is
still an open descriptor) and waits until it is gone; the test finds the
jailed process through /proc/<pid>/root/tmp (find_paused_jail; it runs as
root), inspects it, and removes the file the same way (release).

A test marked @unittest.expectedFailure with a "JAIL GAP" comment would
document an attack the engine does not contain yet (none is open now); such
a test must not be weakened.
"""

import concurrent.futures
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from tests.http.service import wait_for, MANY_CLIENTS_ON_ONE_ADDRESS, ROOT, Service

HOSTILE_DIR = os.path.join(ROOT, "tests", "hostile")
EXECUTE = "/api/python/execute"
HEALTH = "/api/python/health"
MIB = 1024 * 1024
# The marker shape secrets_memory.py searches for.
SECRET = "pysbsecret" + secrets.token_hex(12) + "terces"
# Our own outside-uid range, so the process scans cannot confuse our jails
# with those of another instance running on the same machine.
UID_BASE = 1700000000 + (os.getpid() % 100000) * 100
# Memory the executor grants a jail beyond the job's limit (executor_main.c).
JAIL_SLACK_MB = 64
LDSO_BANNER = "stable release version"

svc = None
host = {}  # pids and start times of the service's processes, slot uid range, ...
pool = concurrent.futures.ThreadPoolExecutor(8)


# --- host-side views -----------------------------------------------------------


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def proc_status(pid):
    """Returns /proc/<pid>/status as a dict of stripped strings, or None if gone."""
    try:
        text = read(f"/proc/{pid}/status")
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def start_time(pid):
    try:
        return read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def cmdline(pid):
    try:
        return read(f"/proc/{pid}/cmdline", "rb").split(b"\0")
    except OSError:
        return []


def environ(pid):
    try:
        return read(f"/proc/{pid}/environ", "rb")
    except OSError:
        return b""


def find_service_processes():
    run_marker = f"PYSANDBOX_RUN_DIR={svc.run_dir}".encode()
    found = {}
    for pid in all_pids():
        argv = cmdline(pid)
        if not argv or not argv[0]:
            continue
        name = os.path.basename(argv[0].decode(errors="replace"))
        st = proc_status(pid)
        if st is None:
            continue
        ppid = int(st["PPid"])
        if name in ("pysandbox-executor", "pysandbox-fcgi") and run_marker in environ(pid).split(b"\0"):
            # The FastCGI front forks workers: keep the parent.
            if name == "pysandbox-fcgi" and os.path.basename(
                    (cmdline(ppid) or [b""])[0].decode(errors="replace")) == "pysandbox-fcgi":
                continue
            found[name] = pid
        elif argv[0].startswith(b"nginx: master") and svc.run_dir.encode() in b" ".join(argv):
            found["nginx"] = pid
    ex = found.get("pysandbox-executor")
    for pid in all_pids():
        st = proc_status(pid)
        # The zygote runs as root in the host's PID namespace; a pool child the
        # zygote is just cloning is root too for a moment, but already in its
        # own PID namespace (two NSpid values).
        if (st and ex and int(st["PPid"]) == ex and st["Uid"].split()[0] == "0"
                and len(st.get("NSpid", "").split()) == 1):
            assert "pysandbox-zygote" not in found, "two zygotes"
            found["pysandbox-zygote"] = pid
    return found


def in_slot_range(uid):
    return host["uid_lo"] <= uid <= host["uid_hi"]


def ancestors(pid):
    chain = []
    for _ in range(64):
        st = proc_status(pid)
        if st is None:
            break
        pid = int(st["PPid"])
        if pid <= 1:
            break
        chain.append(pid)
    return chain


def jail_processes():
    """Every process of our jails: uid in our slot range, or below our executor."""
    ex, zy = host["pids"]["pysandbox-executor"], host["pids"]["pysandbox-zygote"]
    out = []
    for pid in all_pids():
        st = proc_status(pid)
        if st is None or pid in (ex, zy):
            continue
        uid = int(st["Uid"].split()[0])
        if in_slot_range(uid) or ex in ancestors(pid):
            nspid = [int(x) for x in st.get("NSpid", "").split()]
            out.append({"pid": pid, "uid": uid, "ppid": int(st["PPid"]), "nspid": nspid,
                        "name": st.get("Name")})
    return out


def survivors():
    """Jail processes that are not part of an idle pool child -- its init (PID 1
    of its namespace, child of our executor) and its runner (PID 2, child of
    that init): anything else outlived its job."""
    ex = host["pids"]["pysandbox-executor"]
    procs = jail_processes()
    inits = {p["pid"] for p in procs if len(p["nspid"]) == 2 and p["nspid"][-1] == 1
             and p["ppid"] == ex}
    return [p for p in procs
            if p["pid"] not in inits
            and not (len(p["nspid"]) == 2 and p["nspid"][-1] == 2 and p["ppid"] in inits)]


def pool_children():
    ex = host["pids"]["pysandbox-executor"]
    return [p for p in jail_processes() if p["ppid"] == ex and p["nspid"][-1:] == [1]]


def fd_targets(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


def scan_memory(pid, needles):
    """Reads every readable mapping of pid from the host; returns the needles found."""
    found = set()
    longest = max(len(n) for n in needles)
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps.read().splitlines():
            fields = line.split()
            if "r" not in fields[1] or fields[-1] in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            tail = b""
            while start < end:
                size = min(8 * MIB, end - start)
                try:
                    mem.seek(start)
                    blob = tail + mem.read(size)
                except OSError:
                    break
                found.update(n for n in needles if n in blob)
                tail = blob[-longest:]
                start += size
    return found


def pids_cgroup_slots():
    """Paths of our slots' pids cgroups (v1), or [] if there are none."""
    ex = host["pids"]["pysandbox-executor"]
    for line in read(f"/proc/{ex}/cgroup").splitlines():
        _, ctl, rel = line.split(":", 2)
        if "pids" in ctl.split(","):
            base = f"/sys/fs/cgroup/pids{rel.rstrip('/')}/pysandbox-{ex}"
            if os.path.isdir(base):
                return [os.path.join(base, d) for d in os.listdir(base) if d.startswith("slot-")]
    return []


# --- requests --------------------------------------------------------------------


def program(name):
    """The code posted for tests/hostile/<name>.py: the program, after the
    text of tests/hostile/prelude.py if it calls one of the prelude's
    functions (a job is one code string: nothing to import it from)."""
    code = read(os.path.join(HOSTILE_DIR, name + ".py"))
    prelude = read(os.path.join(HOSTILE_DIR, "prelude.py"))
    if any(re.search(rf"\b{fn}\(", code) for fn in re.findall(r"^def (\w+)\(", prelude, re.M)):
        code = prelude + "\n\n" + code
    return code


def execute(code, data=None, wall=5, memory=None, timeout=None):
    """Posts a job; returns (answer dict, raw body, seconds the request took)."""
    req = {"maxExecutionTime": wall}
    if memory is not None:
        req["maxMemoryUsage"] = memory
    body = {"code": code, "data": data if data is not None else [], "requirements": req}
    t0 = time.monotonic()
    status, headers, raw = svc.post_json(EXECUTE, body, timeout=timeout or wall + 60)
    elapsed = time.monotonic() - t0
    assert status == 200, (status, raw[:500])
    assert headers["content-type"].startswith("application/json"), headers
    answer = json.loads(raw.decode("utf-8"))  # strict UTF-8 and JSON
    assert answer["engine"] == "native", answer["engine"]
    return answer, raw, elapsed


def health():
    status, _, raw = svc.get(HEALTH)
    assert status == 200, (status, raw[:300])
    return json.loads(raw)


def find_paused_jail(token, seconds=20):
    """The host pid of the job's runner (PID 2 of the jail, the process that
    runs the program) whose /tmp holds <token>.ready."""
    def look():
        for p in jail_processes():
            if p["nspid"][-1:] == [2] and os.path.exists(f"/proc/{p['pid']}/root/tmp/{token}.ready"):
                return p["pid"]
        return None
    return wait_for(look, seconds, f"a jail holding /tmp/{token}.ready")


def release(pid, token):
    """Lets the paused job go on: removes its ready file.  (Creating a file in
    the jail's tmpfs is not possible from the host: root is not mapped in the
    jail's user namespace, so the kernel refuses with EOVERFLOW.)"""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(f"/proc/{pid}/root/tmp/{token}.ready")


def setUpModule():
    global svc
    if os.geteuid() != 0:
        # Per-slot outside uids, and reading the jails' /proc entries, need root.
        raise unittest.SkipTest("the hostile-program suite needs root")
    svc = Service(env={"PYSANDBOX_TEST_SECRET": SECRET, "PYSANDBOX_JAIL_UID_BASE": str(UID_BASE),
                       **MANY_CLIENTS_ON_ONE_ADDRESS})
    host["started"] = time.monotonic()
    svc.start()
    try:
        h = wait_for(lambda: (lambda h: h if h["status"] in ("ok", "degraded")
                              and h["pool"]["ready"] > 0 else None)(health()), 90,
                     "the native engine to be ready")
        host["status"] = h["status"]
        host["netns"] = h["interpreter"]["netns"]
        host["pool_target"] = h["pool"]["target"]
        lo, hi = re.search(r"(\d+)-(\d+)", h["jail"]["outsideIds"]).groups()
        host["uid_lo"], host["uid_hi"] = int(lo), int(hi)
        host["denied"] = h["jail"]["seccomp"]["denied"]
        host["emulated"] = h["jail"]["seccomp"]["emulated"]
        host["pids"] = find_service_processes()
        for name in ("pysandbox-executor", "pysandbox-zygote", "pysandbox-fcgi", "nginx"):
            assert name in host["pids"], (name, host["pids"])
        host["starts"] = {n: start_time(p) for n, p in host["pids"].items()}
    except BaseException:
        svc.stop()
        raise


def tearDownModule():
    svc.stop()
    pool.shutdown(wait=False, cancel_futures=True)


class HostileCase(unittest.TestCase):
    maxDiff = 4000

    def tearDown(self):
        # The service is idle again, nothing of the job survives, the same
        # processes still serve, and a normal job works.
        wait_for(lambda: (lambda h: h["jobs"]["running"] == 0 and h["jobs"]["queued"] == 0)(health()),
                 45, "the executor to be idle")
        self.assertEqual(survivors(), [], "processes outlived their job")
        self.assertLessEqual(len(pool_children()), host["pool_target"])
        gone = [f"{n} ({p})" for n, p in host["pids"].items() if start_time(p) != host["starts"][n]]
        if gone:
            tails = {name: svc.log(name)[-1500:] for name in ("service.log", "executor.log", "fcgi.log")}
            self.fail(f"died or replaced: {gone}; logs: {tails}")
        self.assertEqual(health()["status"], host["status"])
        answer, _, _ = execute("print(1)")
        self.assertEqual((answer["status"], answer["output"]), ("ok", "1\n"))
        log = svc.log("executor.log") + svc.log("fcgi.log")
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, log)

    # helpers

    def run_program(self, name, data=None, wall=5, memory=None):
        return execute(program(name), data, wall, memory)

    def run_while_probing(self, name, data=None, wall=3, memory=None):
        """Runs a runaway program and, while it runs, a normal job and a health
        check, which must both be answered before it ends."""
        future = pool.submit(self.run_program, name, data, wall, memory)
        wait_for(lambda: future.done() or health()["jobs"]["running"] >= 1, 10,
                 "the hostile job to start")
        self.assertFalse(future.done(), "the hostile job ended at once")
        probe, _, _ = execute("print('probe')", wall=10)
        self.assertEqual((probe["status"], probe["output"]), ("ok", "probe\n"))
        self.assertIn(health()["status"], ("ok", "degraded"))
        self.assertFalse(future.done(), "the probe did not overlap the hostile job")
        return future.result(timeout=wall + 60)

    def assertStoppedAtWallLimit(self, answer, elapsed, wall):
        self.assertEqual(answer["status"], "timeout", answer["error"])
        self.assertEqual(answer["error"]["type"], "TimeoutError")
        # The wall clock kills the jail (SIGKILL); a program that keeps one
        # core busy reaches its CPU-time limit (RLIMIT_CPU = the wall limit,
        # SIGXCPU) at about the same moment, and either may come first.
        self.assertIn(answer["metadata"]["exit"], ({"signal": "SIGKILL"}, {"signal": "SIGXCPU"}))
        self.assertGreaterEqual(answer["metadata"]["resources"]["wallMs"], wall * 1000 * 0.9)
        self.assertLess(answer["metadata"]["resources"]["wallMs"], wall * 1000 + 3000)
        self.assertLess(elapsed, wall + 10)

    def assertAllEqual(self, results, expected, keys=None):
        keys = keys if keys is not None else [k for k in results]
        bad = {k: results[k] for k in keys if results[k] != expected}
        self.assertEqual(bad, {}, f"expected {expected} for each")


# --- runaway programs ---------------------------------------------------------------


class RunawayTests(HostileCase):
    def check_runaway(self, name, wall=3):
        t0 = time.monotonic()
        answer, _, _ = self.run_while_probing(name, wall=wall)
        self.assertStoppedAtWallLimit(answer, time.monotonic() - t0, wall)
        return answer

    def test_infinite_python_loop(self):
        self.check_runaway("loop_python")

    def test_busy_loop_inside_c_regex(self):
        answer = self.check_runaway("loop_c_regex")
        self.assertNotIn("regex finished", answer["output"])

    def test_blocking_sleep_inside_c(self):
        answer = self.check_runaway("loop_c_sleep")
        # No CPU spent: the wall clock, not RLIMIT_CPU, stopped it.
        self.assertLess(answer["metadata"]["resources"]["cpuMs"], 1500)

    def test_numpy_loop_inside_blas(self):
        self.check_runaway("loop_c_numpy")

    def test_threads_burning_cpu(self):
        # With two free cores the per-process RLIMIT_CPU (wall + 1 s hard) can
        # end it before the wall clock does; either way it is stopped in time.
        wall = 3
        t0 = time.monotonic()
        answer, _, _ = self.run_while_probing("cpu_threads", wall=wall)
        # The wall clock kills the jail (SIGKILL), or RLIMIT_CPU's SIGXCPU
        # ends the job first: both are reported as a timeout.
        self.assertEqual(answer["status"], "timeout", answer["error"])
        self.assertIn(answer["metadata"]["exit"], ({"signal": "SIGKILL"}, {"signal": "SIGXCPU"}))
        self.assertLess(answer["metadata"]["resources"]["wallMs"], wall * 1000 + 3000)
        self.assertLess(time.monotonic() - t0, wall + 10)

    def test_cpu_time_limit_stops_the_job(self):
        answer, _, _ = self.run_program("cpu_limit", wall=10)
        self.assertIn(answer["status"], ("timeout", "killed"), answer["error"])
        self.assertIn(answer["metadata"]["exit"], ({"signal": "SIGXCPU"}, {"signal": "SIGKILL"}))
        self.assertEqual(answer["output"], "burning\n")
        # Stopped by the CPU limit (2 s at most), not by the 10 s wall clock.
        self.assertLess(answer["metadata"]["resources"]["wallMs"], 8000)

    # The job runs as PID 2 below a small init: as PID 1 the kernel would drop
    # every signal it has no handler for, RLIMIT_CPU's SIGXCPU included, and
    # the job would burn on to the hard limit and be reported as a crash.
    def test_cpu_time_limit_is_reported_as_timeout(self):
        answer, _, _ = self.run_program("cpu_limit", wall=10)
        self.assertEqual(answer["status"], "timeout")
        self.assertEqual(answer["metadata"]["exit"], {"signal": "SIGXCPU"})


# --- memory and disk ------------------------------------------------------------------


class MemoryTests(HostileCase):
    def check_memory_bomb(self, name, memory=128):
        answer, _, elapsed = self.run_program(name, wall=20, memory=memory)
        self.assertEqual(answer["status"], "memory_limit", answer["error"])
        self.assertEqual(answer["error"]["type"], "MemoryError")
        peak_kb = answer["metadata"]["resources"]["peakMemoryKb"]
        self.assertIsNotNone(peak_kb, "the host measured no peak (no memory cgroup?)")
        self.assertLessEqual(peak_kb, (memory + JAIL_SLACK_MB) * 1024)
        self.assertLess(elapsed, 15)
        return answer

    def test_memory_bomb_python_list(self):
        self.check_memory_bomb("memory_list")

    def test_memory_bomb_numpy(self):
        answer = self.check_memory_bomb("memory_numpy")
        self.assertIn("huge allocation refused: MemoryError", answer["output"])

    def test_memory_bomb_across_processes_is_contained(self):
        memory = 128
        answer, _, _ = self.run_while_probing("memory_forked", wall=3, memory=memory)
        self.assertEqual(answer["status"], "memory_limit", answer["error"])
        self.assertNotIn("all children finished", answer["output"])
        peak_kb = answer["metadata"]["resources"]["peakMemoryKb"]
        self.assertIsNotNone(peak_kb)
        # 4 x 100 MiB were asked for; the jail as a whole never got more than its cgroup limit.
        self.assertLessEqual(peak_kb, (memory + JAIL_SLACK_MB) * 1024)

    # With cgroup v1 the OOM killer kills one process of the jail and lets the
    # rest run on; the supervisor watches the slot's OOM events (eventfd on
    # memory.oom_control) and ends the whole jail, and the memory verdict
    # ranks above a timeout.
    def test_memory_bomb_across_processes_reports_memory_limit(self):
        answer, _, _ = self.run_program("memory_forked", wall=10, memory=128)
        self.assertEqual(answer["status"], "memory_limit", answer["error"])
        # Ended by the OOM event, not by the 10 s wall clock (the bomb needs
        # well under a second to reach the limit).
        self.assertLess(answer["metadata"]["resources"]["wallMs"], 6000)

    def test_filling_tmp_shm_inodes_and_file_size(self):
        before = set(os.listdir("/tmp"))
        answer, _, _ = self.run_program("fill_tmp", wall=20)
        self.assertEqual(answer["status"], "ok", answer["error"])
        self.assertIn("still answering after filling /tmp", answer["output"])
        r = answer["result"]
        self.assertEqual(r["tmp_errno"], "ENOSPC")
        self.assertTrue(48 <= r["tmp_mb"] <= 64, r)
        self.assertEqual(r["shm_errno"], "ENOSPC")
        self.assertTrue(8 <= r["shm_mb"] <= 16, r)
        self.assertEqual(r["fsize_errno"], "EFBIG")
        self.assertEqual(r["big_file_mb"], 16)
        self.assertEqual(r["inode_errno"], "ENOSPC")
        self.assertLessEqual(r["inodes_made"], 4096)
        # The tmpfs pages were charged to the job's own memory cgroup ...
        self.assertGreaterEqual(answer["metadata"]["resources"]["peakMemoryKb"], 60 * 1024)
        # ... and nothing landed in the host's /tmp.
        new = set(os.listdir("/tmp")) - before
        self.assertFalse({n for n in new if n.startswith(("fill", "big", "inodes"))}, new)


# --- processes ------------------------------------------------------------------------


class ProcessTests(HostileCase):
    def test_fork_bomb(self):
        wall = 3
        future = pool.submit(self.run_program, "fork_bomb", None, wall)
        most_tasks = most_procs = 0
        slots = pids_cgroup_slots()
        probe_ok = False
        t0 = time.monotonic()
        while not future.done():
            per_uid = {}
            for p in jail_processes():
                per_uid[p["uid"]] = per_uid.get(p["uid"], 0) + 1
            most_procs = max([most_procs] + list(per_uid.values()))
            for s in slots:
                with contextlib.suppress(OSError, ValueError):
                    most_tasks = max(most_tasks, int(read(os.path.join(s, "pids.current"))))
            if not probe_ok and most_procs >= 5:
                probe, _, _ = execute("print('probe')", wall=10)
                self.assertEqual((probe["status"], probe["output"]), ("ok", "probe\n"))
                probe_ok = not future.done()
            time.sleep(0.02)
        answer, _, _ = future.result()
        self.assertStoppedAtWallLimit(answer, time.monotonic() - t0, wall)
        self.assertTrue(probe_ok, "no normal job was served while the bomb ran")
        self.assertGreaterEqual(most_procs, 5, "the bomb never forked (host saw no children)")
        # The job's 10 processes, plus the jail's init.
        self.assertLessEqual(most_procs, 10 + 1, "more than 10 processes in one jail")
        if slots:
            self.assertLessEqual(most_tasks, 10 + 1, "pids.current went past 10")
        self.assertEqual(survivors(), [])

    def test_thread_bomb(self):
        answer, _, _ = self.run_program("thread_bomb", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        self.assertLessEqual(answer["result"]["started"], 9)
        self.assertGreater(answer["result"]["started"], 0)
        self.assertIn("can't start new thread", answer["result"]["failure"])

    def test_daemonised_survivor_dies_with_the_job(self):
        answer, _, _ = self.run_program("daemon_survivor", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        self.assertEqual(answer["output"], "daemon started\n")
        # Right away, without waiting: the namespace died with its PID 1.
        self.assertEqual(survivors(), [])

    def test_kill_everything_reachable(self):
        targets = {n.replace("pysandbox-", ""): p for n, p in host["pids"].items()}
        targets["init"] = 1
        answer, _, _ = self.run_program("kill_everything", {"host_pids": targets}, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r["ppid"], 1)  # the jail's init, which survived everything below
        self.assertEqual(r["kill(-1, SIGKILL)"], "ESRCH")  # no one: not itself, not the init
        self.assertEqual(r["SIGTERMs received"], 1)  # its group is itself (and the init)
        for name, pid in targets.items():
            if pid == 1:
                continue
            for sig in ("SIGSTOP", "SIGTERM", "SIGKILL"):
                self.assertEqual(r[f"kill({name} {pid}, {sig})"], "ESRCH")
            self.assertEqual(r[f"pidfd_open({name})"], "ESRCH")
        for name, pid in host["pids"].items():
            st = proc_status(pid)
            self.assertIsNotNone(st, f"{name} is gone")
            self.assertNotIn(st["State"][0], "TtZ", f"{name} was stopped or killed")
        # (tearDown checks the start times and a normal job.)

    def test_proc_shows_only_the_jail(self):
        targets = list(host["pids"].values()) + [1, 2, os.getpid()]
        answer, _, _ = self.run_program("proc_view", {"host_pids": targets}, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        # The job runs as PID 2 below the jail's init, PID 1.
        self.assertEqual((r["pid"], r["ppid"]), (2, 1))
        self.assertEqual(r["proc_pids"], [1, 2, r["child"]])
        self.assertEqual(r["host_pids_visible"], [])
        self.assertEqual(r["proc_entries"], ["self", "thread-self"])
        for name, value in r["host_files"].items():
            if name == "1/root/etc":
                self.assertNotIn("shadow", value)
            else:
                self.assertEqual(value, "FileNotFoundError", name)

    # The jail has its own cgroup namespace, rooted at its slot: no host
    # cgroup path, no supervisor pid.
    def test_cgroup_paths_do_not_reveal_the_host(self):
        answer, _, _ = self.run_program("host_info_leak", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        cgroup = answer["result"]["cgroup"]
        self.assertNotIn(str(host["pids"]["pysandbox-executor"]), cgroup)
        for line in cgroup.splitlines():
            self.assertTrue(line.endswith(":/"), line)

    # The jail inherits the zygote's exec-time argument and environment blocks;
    # the zygote blanks the host paths in them (harness and jail-root paths,
    # MPLCONFIGDIR) before any child exists.
    def test_cmdline_and_environ_do_not_reveal_host_paths(self):
        answer, _, _ = self.run_program("host_info_leak", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        for field in ("cmdline", "environ", "mountinfo"):
            self.assertNotIn(ROOT, r[field], field)
            self.assertNotIn(svc.run_dir, r[field], field)
        # The overlays' options name the host directory they show and the
        # jail's own empty tmp, and the device nodes' bind mounts their path
        # in the zygote's own tmpfs ("/dev-0/null"): nothing says where the
        # jail's root sits on the host (/tmp/pysandbox-jail.XXXX).
        self.assertNotIn("pysandbox-jail", r["mountinfo"])
        devices = [line for line in r["mountinfo"].splitlines()
                   if line.split()[4] in ("/dev/null", "/dev/zero", "/dev/urandom")]
        self.assertEqual(len(devices), 3, r["mountinfo"])
        for line in devices:
            self.assertRegex(line.split()[3], r"^/(dev-\d+/)?(null|zero|urandom)$", line)
        self.assertEqual(r["fd_links"]["0"], "/dev/null")
        for fd in ("1", "2", "3"):
            self.assertRegex(r["fd_links"][fd], r"^(pipe|socket):\[\d+\]$")
        overlays = [line for line in r["mountinfo"].splitlines() if " - overlay " in line]
        self.assertGreaterEqual(len(overlays), 3)
        for line in overlays:
            self.assertRegex(line.split()[-1], r"lowerdir=/[\w/]+:tmp(,|$)", line)

    # sysinfo() is not namespaced; the filter traps it and the jail answers
    # with its own view (the host's uptime, load and process count would be
    # a channel between concurrent jobs).
    def test_sysinfo_describes_the_jail_not_the_host(self):
        if "sysinfo" not in host["emulated"]:
            self.skipTest("sysinfo is answered by the jail on x86-64 only")
        memory_mb = 300
        answer, _, _ = self.run_program("host_sysinfo", wall=10, memory=memory_mb)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r["call"], "ok")
        self.assertEqual(r["loads"], [0, 0, 0])
        self.assertEqual(r["procs"], 1)
        self.assertEqual(r["totalswap"], 0)
        self.assertEqual(r["totalram"], memory_mb << 20)
        self.assertEqual(r["sysconf_bytes"], memory_mb << 20)
        self.assertGreater(r["freeram"], 0)
        self.assertLess(r["freeram"], r["totalram"])  # the interpreter is resident
        self.assertGreaterEqual(r["uptime"], 0)
        self.assertLessEqual(r["uptime"], time.monotonic() - host["started"] + 1)
        self.assertEqual((r["null"], r["read_only"], r["unmapped"]), ("EFAULT",) * 3)
        self.assertEqual(r["thread"], {"call": "ok", "procs": 1})
        self.assertIs(r["still_running"], True)


# --- secrets ----------------------------------------------------------------------------


class SecretTests(HostileCase):
    def test_secret_is_set_where_the_test_expects_it(self):
        # The premise of the secret tests: the service really holds the secret.
        self.assertIn(f"PYSANDBOX_TEST_SECRET={SECRET}".encode(),
                      environ(host["pids"]["pysandbox-executor"]).split(b"\0"))
        self.assertNotIn(SECRET.encode(), environ(host["pids"]["pysandbox-zygote"]))

    def test_host_files_are_not_visible(self):
        canary_dir = tempfile.mkdtemp(prefix="pysb-hostile-")
        self.addCleanup(shutil.rmtree, canary_dir, True)
        token = secrets.token_hex(8)
        canary = os.path.join(canary_dir, "canary.txt")
        with open(canary, "w") as f:
            f.write(f"canary-{token}")
        paths = [os.path.join(ROOT, "run"), svc.run_dir, os.path.join(svc.run_dir, "logs"), ROOT,
                 canary_dir, canary, os.path.join(ROOT, "cgi", "jail.c")]
        answer, raw, _ = self.run_program("secrets_files", {"host_paths": paths}, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        for path in paths + ["/etc/shadow", "/etc/gshadow", "/root", "/home", "/var", "/run",
                             "/work", "/etc/ssh"]:
            self.assertEqual(r["errors"].get(path), "ENOENT", path)
        self.assertEqual(r["readable"]["/etc/passwd"], "sandbox:x:1000:1000:sandbox:/tmp:/nonexistent\n")
        self.assertNotEqual(r["readable"]["/etc/passwd"], read("/etc/passwd"))
        # PID 1 is the job itself; its environment is the zygote's fixed one.
        self.assertEqual(r["readable"]["/proc/1/environ"].encode(),
                         environ(host["pids"]["pysandbox-zygote"]))
        self.assertNotIn(f"canary-{token}".encode(), raw)
        self.assertNotIn(b"root:x:0:0", raw)
        self.assertNotIn(SECRET.encode(), raw)

    def test_secret_is_nowhere_in_the_jail_memory(self):
        token = secrets.token_hex(8)
        decoy = "pysbsecret" + secrets.token_hex(12) + "terces"
        future = pool.submit(self.run_program, "secrets_memory", {"decoy": decoy, "token": token}, 30)
        pid = find_paused_jail(token)
        try:
            # Host side: the jailed process's environment and whole memory.
            self.assertNotIn(SECRET.encode(), environ(pid))
            found = scan_memory(pid, [SECRET.encode(), decoy.encode()])
            self.assertIn(decoy.encode(), found, "the host-side scan does not work")
            self.assertNotIn(SECRET.encode(), found, "the secret is in the jail's memory")
        finally:
            release(pid, token)
        answer, raw, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r["errors"], {})
        self.assertGreater(r["scanned"], 50 * MIB)
        self.assertEqual(list(r["found"]), [decoy], "the jail found the decoy and nothing else")
        self.assertNotIn(SECRET.encode(), raw)

    def test_secret_is_not_in_the_zygote_memory(self):
        # Every jail is a copy of the zygote: the secret must not be there either.
        zygote = host["pids"]["pysandbox-zygote"]
        control = b"MALLOC_ARENA_MAX=2"  # in its environment block: proves the scan reads memory
        self.assertEqual(scan_memory(zygote, [SECRET.encode(), control]), {control})


# --- filesystem -------------------------------------------------------------------------


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest(), os.stat(path).st_mtime_ns


class FilesystemTests(HostileCase):
    def test_writes_outside_tmp_fail(self):
        token = secrets.token_hex(8)
        canary_dir = tempfile.mkdtemp(prefix="pysb-hostile-")
        self.addCleanup(shutil.rmtree, canary_dir, True)
        canaries = [os.path.join(canary_dir, "canary.txt"), os.path.join(svc.run_dir, f"canary-{token}")]
        repo_run = os.path.join(ROOT, "run")
        if os.path.isdir(repo_run):
            canaries.append(os.path.join(repo_run, f".hostile-canary-{token}"))
        for c in canaries:
            with open(c, "w") as f:
                f.write(f"canary {token}\n")
            self.addCleanup(lambda c=c: os.path.exists(c) and os.unlink(c))
        watched = canaries + ["/etc/passwd", "/etc/hosts", "/etc/ld.so.cache",
                              "/usr/lib/python3.11/this.py", "/usr/share/zoneinfo/Etc/UTC"]
        before = {p: digest(p) for p in watched if os.path.exists(p)}
        answer, _, _ = self.run_program("write_outside", {"token": token, "canaries": canaries}, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r.pop("create /tmp (allowed)"), "SUCCEEDED")
        self.assertEqual({k: v for k, v in r.items() if v == "SUCCEEDED"}, {})
        allowed = {"EROFS", "EACCES", "EPERM", "ENOENT", "EINVAL", "ENOSPC"}
        self.assertEqual({k: v for k, v in r.items() if v not in allowed}, {})
        for k, v in r.items():
            if "canary" in k:
                self.assertEqual(v, "ENOENT", k)  # the host's paths do not exist in the jail
        self.assertEqual({p: digest(p) for p in before}, before, "a host file changed")
        for d in ["/", "/etc", "/usr", "/usr/lib", "/usr/share", "/usr/lib/python3", "/dev", "/lib",
                  "/lib64", "/tmp", canary_dir, svc.run_dir, repo_run]:
            if os.path.isdir(d):
                self.assertEqual([n for n in os.listdir(d) if token in n and "canary" not in n], [], d)


# --- network ----------------------------------------------------------------------------


class NetworkTests(HostileCase):
    def test_inet_and_exotic_sockets(self):
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(16)
        tcp.setblocking(False)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.setblocking(False)
        self.addCleanup(tcp.close)
        self.addCleanup(udp.close)
        tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.addCleanup(tcp6.close)
        try:
            tcp6.bind(("::1", tcp.getsockname()[1]))
            tcp6.listen(16)
            tcp6.setblocking(False)
        except OSError:  # no IPv6 loopback on this host
            tcp6 = None
        data = {"tcp_port": tcp.getsockname()[1], "udp_port": udp.getsockname()[1]}
        answer, _, _ = self.run_program("net_sockets", data, wall=15)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r.pop("socket AF_UNIX (allowed)"), "SUCCEEDED")
        names = [k for k in r if k.startswith(("getaddrinfo", "gethostbyname"))]
        for k in names:
            self.assertTrue(r.pop(k).startswith("gaierror"), k)
        self.assertAllEqual(r, "EAFNOSUPPORT")
        # Host side: nothing connected, nothing arrived.
        listeners = [tcp, udp] + ([tcp6] if tcp6 else [])
        readable, _, _ = select.select(listeners, [], [], 0.2)
        self.assertEqual(readable, [], "a host listener got a connection or datagram")

    def test_unix_sockets_do_not_cross_the_jail(self):
        token = secrets.token_hex(8)
        host_name, jail_name = f"pysb-host-{token}", f"pysb-jail-{token}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind("\0" + host_name)
        listener.listen(16)
        listener.setblocking(False)
        self.addCleanup(listener.close)
        paths = [os.path.join(svc.run_dir, "executor.sock"), os.path.join(svc.run_dir, "fcgi.sock"),
                 os.path.join(ROOT, "run", "executor.sock"), os.path.join(ROOT, "run", "fcgi.sock")]
        data = {"host_abstract": host_name, "jail_abstract": jail_name, "host_paths": paths,
                "token": token}
        future = pool.submit(self.run_program, "net_unix", data, 30)
        pid = find_paused_jail(token)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with self.assertRaises(ConnectionRefusedError):
                s.connect("\0" + jail_name)
            s.close()
        finally:
            release(pid, token)
        answer, _, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r.pop("self-connect (control)"), "SUCCEEDED")
        self.assertEqual(r.pop("accepted by jail listener"), 1, "only the control connected")
        self.assertEqual(r.pop("abstract host listener"), "ECONNREFUSED")
        self.assertAllEqual(r, "ENOENT")
        readable, _, _ = select.select([listener], [], [], 0.2)
        self.assertEqual(readable, [], "the host's abstract listener got a connection")


# --- syscalls -----------------------------------------------------------------------------


def note(text):
    """A line in the test log that says how a test adapted to this host."""
    print(f"\n    note: {text}", file=sys.stderr, flush=True)


def host_int80_behaviour():
    """Runs tests/hostile/seccomp_i386.py unjailed: "enters" when the i386
    syscall returns, else the name of the signal that killed it."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(HOSTILE_DIR, "seccomp_i386.py")],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 0 and "returned" in r.stdout:
        return "enters"
    if r.returncode < 0:
        return signal.Signals(-r.returncode).name
    raise AssertionError(f"the i386 probe ended oddly on the host: exit {r.returncode}, "
                         f"stdout {r.stdout!r}, stderr {r.stderr[-500:]!r}")


class SyscallTests(HostileCase):
    def test_ptrace_and_process_access(self):
        data = {"executor_pid": host["pids"]["pysandbox-executor"]}
        answer, _, _ = self.run_program("ptrace", data, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r.pop("pidfd_open(child) (allowed)"), "SUCCEEDED")
        self.assertEqual(r.pop("child TracerPid"), "0")
        self.assertAllEqual(r, "EPERM")
        self.assertEqual(proc_status(host["pids"]["pysandbox-executor"])["TracerPid"], "0")

    def test_exec_through_ctypes(self):
        answer, _, _ = self.run_program("exec_ctypes", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertTrue(r.pop("loader present"), "the test needs an executable loader in the jail")
        self.assertEqual(r.pop("system()"), 127 << 8)
        self.assertAllEqual(r, "EPERM")
        self.assertNotIn(LDSO_BANNER, answer["output"] + answer["stderr"])

    def test_exec_the_python_way(self):
        answer, _, _ = self.run_program("exec_python", wall=15)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        # The Python ways say why in words (the boundary is seccomp's
        # refusal of execve, which test_exec_through_ctypes checks).
        for k in ("os.system", "subprocess.run", "subprocess shell", "os.posix_spawn", "os.execv",
                  "pty.spawn", "multiprocessing spawn"):
            self.assertIn("PermissionError: [Errno 1] running other programs is not available in "
                          "the sandbox", r[k], k)
        self.assertIn("FileNotFoundError", r["os.openpty"])
        self.assertNotIn("spawned child ran", answer["output"])
        self.assertNotIn(LDSO_BANNER, answer["output"] + answer["stderr"])

    def check_killed_by_seccomp(self, name):
        answer, _, _ = self.run_program(name, wall=10)
        self.assertEqual(answer["status"], "killed")
        self.assertEqual(answer["error"]["type"], "SeccompViolation")
        self.assertEqual(answer["metadata"]["exit"], {"signal": "SIGSYS"})
        self.assertEqual(answer["output"], "before\n")

    def test_x32_abi_syscall_kills_the_process(self):
        self.check_killed_by_seccomp("seccomp_x32")

    def test_i386_int80_syscall_kills_the_process(self):
        # Calibrated against the host: the same program, unjailed, tells
        # whether this kernel lets 64-bit code enter the i386 table at all.
        # Where it does, only the filter's SIGSYS will do.  Some hosts (a
        # kernel booted with ia32_emulation=false, or some paravirtualised
        # guests) answer `int 0x80` with SIGSEGV before any syscall exists
        # for a filter to see: there the promise is kept by the kernel, and
        # the jail must end the same way, with nothing run after "before".
        host_answer = host_int80_behaviour()
        if host_answer == "enters":
            self.check_killed_by_seccomp("seccomp_i386")
            return
        note(f"this host's kernel answers int 0x80 from 64-bit code with {host_answer} even "
             "outside any jail (checked in a plain process): the i386 table cannot be entered "
             "here, so the jailed process must die the same way")
        answer, _, _ = self.run_program("seccomp_i386", wall=10)
        self.assertEqual(answer["output"], "before\n")
        self.assertIn(answer["metadata"]["exit"], ({"signal": host_answer}, {"signal": "SIGSYS"}))
        self.assertIn(answer["error"]["type"], ("Crash", "SeccompViolation"))
        self.assertNotIn("must not return", answer["output"] + answer["stderr"])

    def test_every_denied_syscall_returns_eperm(self):
        numbers = {}
        header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
        if not os.path.exists(header):
            self.skipTest(f"{header} (linux-libc-dev) is needed for the syscall numbers")
        with open(header) as f:
            for line in f:
                m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
                if m:
                    numbers[m.group(1)] = int(m.group(2))
        wanted = {n: numbers[n] for n in host["denied"] if n in numbers}
        self.assertGreaterEqual(len(wanted), len(host["denied"]) - 2, "header too old")
        answer, _, _ = self.run_program("denied_syscalls", {"syscalls": wanted}, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual((r.pop("unknown 1000"), r.pop("unknown 400"), r.pop("clone3")),
                         ("ENOSYS", "ENOSYS", "ENOSYS"))
        self.assertEqual(sorted(r), sorted(wanted))
        self.assertAllEqual(r, "EPERM")

    def test_namespaces_mounts_and_chroot(self):
        host_mounts = read("/proc/self/mountinfo")
        answer, _, _ = self.run_program("namespaces", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertIs(r.pop("mountinfo unchanged"), True)
        # The init (1) and the job (2): nothing else.
        self.assertEqual(r.pop("processes in /proc"), ["1", "2"], "a clone attempt created a process")
        self.assertEqual(r.pop("clone3"), "ENOSYS")
        self.assertAllEqual(r, "EPERM")
        self.assertEqual(read("/proc/self/mountinfo"), host_mounts)

    def test_credentials_and_privileges(self):
        token = secrets.token_hex(8)
        future = pool.submit(self.run_program, "credentials", {"token": token}, 30)
        pid = find_paused_jail(token)
        try:
            st = proc_status(pid)
            uids = {int(x) for x in st["Uid"].split()}
            gids = {int(x) for x in st["Gid"].split()}
            self.assertEqual(len(uids), 1)
            self.assertTrue(in_slot_range(uids.pop()), st["Uid"])
            self.assertEqual(len(gids), 1)
            self.assertTrue(in_slot_range(gids.pop()), st["Gid"])
            self.assertEqual(st["Groups"], "")
            for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                self.assertEqual(int(st[cap], 16), 0, cap)
            self.assertEqual((st["NoNewPrivs"], st["Seccomp"]), ("1", "2"))
            stat = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
            self.assertGreaterEqual(int(stat[16]), 10, "nice")  # field 19
            self.assertEqual(int(stat[38]), 0, "scheduling policy")  # field 41
            self.assertGreaterEqual(int(read(f"/proc/{pid}/oom_score_adj")), 0)
            limits = read(f"/proc/{pid}/limits")
            self.assertRegex(limits, r"Max open files\s+100\s+100")
            self.assertRegex(limits, r"Max processes\s+11\s+11")  # the job's 10 + the init
            # The jail's init (the job's parent, PID 1 inside) is locked down
            # the same way: no capabilities, no_new_privs, both filters.
            init = proc_status(int(st["PPid"]))
            self.assertEqual(init["NSpid"].split()[-1], "1")
            for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                self.assertEqual(int(init[cap], 16), 0, "init " + cap)
            self.assertEqual((init["NoNewPrivs"], init["Seccomp"], init["Seccomp_filters"]),
                             ("1", "2", "2"))
            self.assertEqual(st["Seccomp_filters"], "2")
        finally:
            release(pid, token)
        answer, _, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r.pop("uid/gid inside"), [1000, 1000, 1000, []])
        status = r.pop("status")
        self.assertEqual(status["CapEff"], "0000000000000000")
        refused = {"EPERM", "EACCES", "ValueError", "EINVAL"}
        self.assertEqual({k: v for k, v in r.items() if v not in refused}, {})

    def test_kernel_modules(self):
        modules = sorted(os.listdir("/sys/module")) if os.path.isdir("/sys/module") else None
        answer, _, _ = self.run_program("kernel_modules", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        families = [k for k in r if k.startswith("socket family")]
        self.assertAllEqual(r, "EAFNOSUPPORT", families)
        self.assertAllEqual(r, "EPERM", [k for k in r if k not in families])
        if modules is not None:
            self.assertEqual(sorted(os.listdir("/sys/module")), modules)

    def test_keyrings(self):
        token = secrets.token_hex(8)
        answer, _, _ = self.run_program("keyring", {"token": token}, wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        self.assertAllEqual(answer["result"], "EPERM")
        self.assertNotIn(f"pysb-{token}", read("/proc/keys"))
        for line in read("/proc/key-users").splitlines():
            self.assertFalse(in_slot_range(int(line.split(":")[0])), line)

    def test_bpf_userfaultfd_io_uring_perf(self):
        token = secrets.token_hex(8)
        future = pool.submit(self.run_program, "kernel_interfaces", {"token": token}, 30)
        pid = find_paused_jail(token)
        try:
            targets = fd_targets(pid)
        finally:
            release(pid, token)
        bad = {fd: t for fd, t in targets.items()
               if re.search(r"bpf|userfaultfd|io_uring|perf_event", t)}
        self.assertEqual(bad, {})
        answer, _, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual(r.pop("/dev/userfaultfd"), "ENOENT")
        self.assertAllEqual(r, "EPERM")

    def test_setting_the_clock(self):
        offset_before = time.time() - time.monotonic()
        answer, _, _ = self.run_program("clock", wall=10)
        offset_after = time.time() - time.monotonic()
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertIs(r.pop("time after"), True)
        self.assertAllEqual(r, "EPERM")
        self.assertLess(abs(offset_after - offset_before), 0.5, "the host clock jumped")

    def test_no_terminal_to_inject_into(self):
        answer, _, _ = self.run_program("tiocsti", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        for path in ("/dev/tty", "/dev/ptmx", "/dev/console", "/dev/pts", "/dev/tty0", "/dev/vcs"):
            self.assertIs(r[path], False, path)
        self.assertEqual(r["open /dev/tty"], "ENOENT")
        self.assertEqual([k for k, v in r.items() if v == "SUCCEEDED"], [])

    # libseccomp keeps only the unconditional rule when a syscall has both, so
    # the TIOCSTI/TIOCLINUX refusal lives in a second, stacked filter.
    def test_tiocsti_is_refused_by_the_filter(self):
        answer, _, _ = self.run_program("tiocsti", wall=10)
        r = answer["result"]
        for fd in range(4):
            for name in ("TIOCSTI", "TIOCSTI high bits", "TIOCLINUX"):
                self.assertEqual(r[f"fd {fd} {name}"], "EPERM", f"fd {fd} {name}")


# --- output -------------------------------------------------------------------------------


class OutputTests(HostileCase):
    def test_stdout_flood(self):
        answer, _, _ = self.run_program("output_stdout", wall=20)
        self.assertEqual(answer["status"], "output_limit")
        self.assertEqual(answer["error"]["type"], "OutputLimitExceeded")
        self.assertEqual(len(answer["output"].encode()), MIB)
        self.assertEqual(set(answer["output"]), {"x"})
        self.assertEqual(answer["metadata"]["truncated"],
                         {"stdout": True, "stderr": False, "result": False, "charts": False})
        self.assertEqual(answer["metadata"]["exit"], {"signal": "SIGKILL"})

    def test_stderr_flood(self):
        answer, _, _ = self.run_program("output_stderr", wall=20)
        self.assertEqual(answer["status"], "output_limit")
        self.assertIn("stderr", answer["error"]["message"])
        self.assertEqual(answer["output"], "start\n")
        self.assertEqual(len(answer["stderr"].encode()), MIB)
        self.assertEqual(answer["metadata"]["truncated"],
                         {"stdout": False, "stderr": True, "result": False, "charts": False})

    def test_invalid_utf8_nul_and_escapes(self):
        answer, raw, _ = self.run_program("output_binary", wall=10)
        self.assertEqual(answer["status"], "ok", answer["error"])
        f = "\ufffd"
        self.assertEqual(answer["output"],
                         f"{f}{f}\x00ok|{f}|{f}{f}|{f}{f}{f}|\x1b[2J\x1b]0;title\x07|café|\U0001F40D|")
        self.assertEqual(answer["stderr"], f"err\x00{f}\r\nHTTP/1.1 200 OK\r\n\r\n")
        self.assertIn(b"\\u0000", raw)
        self.assertNotIn(b"\x00", raw)
        self.assertNotIn(b"\x1b", raw)

    def test_utf8_character_split_by_the_cap(self):
        answer, raw, _ = self.run_program("output_split_utf8", wall=10)
        self.assertEqual(answer["status"], "output_limit")
        out = answer["output"]
        # "a" + n * "é" + the first byte of one more "é": exactly 1 MiB kept, and
        # the half character became U+FFFD.
        self.assertEqual(out[0], "a")
        self.assertEqual(set(out[1:-1]), {"é"})
        self.assertEqual(out[-1], "\ufffd")
        self.assertEqual(len(out[:-1].encode()) + 1, MIB)

    def test_c_stack_overflow_is_a_contained_crash(self):
        answer, _, _ = self.run_program("recursion_crash", wall=10)
        self.assertEqual(answer["status"], "killed")
        self.assertEqual(answer["error"]["type"], "Crash")
        self.assertEqual(answer["metadata"]["exit"], {"signal": "SIGSEGV"})
        self.assertEqual(answer["output"], "recursing\n")

    def test_default_recursion_limit_is_an_error(self):
        answer, _, _ = self.run_program("recursion_default", wall=10)
        self.assertEqual(answer["status"], "error")
        self.assertEqual(answer["error"]["type"], "RecursionError")
        self.assertIn("RecursionError", answer["error"]["traceback"])


# --- descriptors and the result channel ----------------------------------------------------


class DescriptorTests(HostileCase):
    def test_fd_exhaustion(self):
        token = secrets.token_hex(8)
        future = pool.submit(self.run_program, "fd_exhaustion", {"token": token}, 30)
        pid = find_paused_jail(token)
        try:
            held = len(os.listdir(f"/proc/{pid}/fd"))
        finally:
            release(pid, token)
        self.assertGreaterEqual(held, 95)
        self.assertLessEqual(held, 100)
        answer, _, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        r = answer["result"]
        self.assertEqual((r["failure"], r["pair_failure"]), ("EMFILE", "EMFILE"))
        self.assertEqual(r["opened"], 96)
        self.assertTrue(r["raise_nofile"].startswith("ValueError"), r["raise_nofile"])
        self.assertEqual(r["limit"], [100, 100])

    def test_no_leaked_descriptors(self):
        token = secrets.token_hex(8)
        future = pool.submit(self.run_program, "fd_leaks", {"token": token}, 30)
        pid = find_paused_jail(token)
        try:
            jail_fds = fd_targets(pid)
            fd0 = os.stat(f"/proc/{pid}/fd/0")
            service_fds = {}
            for name, spid in host["pids"].items():
                service_fds[name] = set(fd_targets(spid).values())
            for worker in all_pids():  # FastCGI workers and nginx workers
                st = proc_status(worker)
                if st and int(st["PPid"]) in (host["pids"]["pysandbox-fcgi"], host["pids"]["nginx"]):
                    with contextlib.suppress(OSError):
                        service_fds.setdefault("workers", set()).update(fd_targets(worker).values())
        finally:
            release(pid, token)
        self.assertEqual(sorted(jail_fds), [0, 1, 2, 3], jail_fds)
        # /dev/null itself (the host shows the bind's path inside devtmpfs: "/null").
        self.assertEqual((os.major(fd0.st_rdev), os.minor(fd0.st_rdev)), (1, 3), jail_fds[0])
        self.assertRegex(jail_fds[1], r"^pipe:\[\d+\]$")
        self.assertRegex(jail_fds[2], r"^pipe:\[\d+\]$")
        self.assertRegex(jail_fds[3], r"^socket:\[\d+\]$")
        # The pipes are this job's own, read by our executor and nobody else.
        for fd in (1, 2):
            self.assertIn(jail_fds[fd], service_fds["pysandbox-executor"])
            for name, targets in service_fds.items():
                if name != "pysandbox-executor":
                    self.assertNotIn(jail_fds[fd], targets, name)
        # The channel is a socketpair end nobody outside the jail holds.
        for name, targets in service_fds.items():
            self.assertNotIn(jail_fds[3], targets, name)
        answer, _, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        seen = {int(k): v for k, v in answer["result"]["fstat"].items()}
        self.assertEqual(sorted(seen), [0, 1, 2, 3])
        self.assertEqual((seen[0]["kind"], seen[0]["rdev"]), ("chr", [1, 3]))
        self.assertEqual((seen[1]["kind"], seen[1]["accmode"]), ("fifo", os.O_WRONLY))
        self.assertEqual((seen[2]["kind"], seen[2]["accmode"]), ("fifo", os.O_WRONLY))
        self.assertEqual({k: seen[3][k] for k in ("kind", "family", "type", "listening")},
                         {"kind": "sock", "family": "AF_UNIX", "type": "SOCK_STREAM", "listening": False})


class ChannelTests(HostileCase):
    def test_garbage_on_the_channel(self):
        answer, _, _ = self.run_program("channel_garbage", wall=10)
        self.assertEqual(answer["status"], "error")
        self.assertEqual(answer["error"]["type"], "EngineError")
        self.assertEqual(answer["output"], "garbage written\n")

    def test_forged_frame_cannot_forge_what_the_supervisor_owns(self):
        answer, raw, _ = self.run_program("channel_forged", {"mode": "exit"}, wall=7)
        # The program may lie about its own outcome (status, result) ...
        self.assertEqual(answer["result"], {"forged": True})
        # ... but not about anything the supervisor measures or adds.
        self.assertNotIn(b"FORGED-", raw)
        self.assertEqual(answer["output"], "real stdout\n")
        self.assertEqual(answer["stderr"], "")
        self.assertEqual(answer["charts"], [])
        self.assertEqual(answer["metadata"]["limits"]["wallTimeMs"], 7000)
        self.assertEqual(answer["metadata"]["exit"], {"code": 0})
        self.assertEqual(set(answer), {"success", "status", "output", "stderr", "error", "result",
                                       "charts", "executionTime", "engine", "metadata"})

    def test_forged_frame_followed_by_the_real_one(self):
        # Two frames.  The supervisor answers as soon as a complete frame and
        # EOF on both output pipes are in (the harness closes them before it
        # writes its own frame), so depending on timing the answer is the
        # forged frame or "malformed" (both frames).  Either way only the
        # program's own outcome can be forged, and nothing breaks.
        for _ in range(3):
            answer, raw, _ = self.run_program("channel_forged", {"mode": "append"}, wall=10)
            self.assertNotIn(b"FORGED-", raw)
            self.assertEqual(answer["output"], "real stdout\n")
            self.assertEqual(answer["metadata"]["exit"], {"code": 0})
            if answer["status"] == "ok":
                self.assertEqual(answer["result"], {"forged": True})
            else:
                self.assertEqual((answer["status"], answer["error"]["type"]), ("error", "EngineError"))
                self.assertIsNone(answer["result"])

    def test_channel_flood(self):
        answer, _, elapsed = self.run_program("channel_flood", wall=20)
        self.assertEqual(answer["status"], "output_limit")
        self.assertEqual(answer["error"]["type"], "ResultTooLarge")
        self.assertIs(answer["metadata"]["truncated"]["result"], True)
        self.assertNotIn("flood finished", answer["output"])
        self.assertLess(elapsed, 15)

    def test_closed_channel(self):
        answer, _, _ = self.run_program("channel_close", wall=10)
        self.assertEqual(answer["status"], "error")
        self.assertEqual(answer["error"]["type"], "ResultChannelClosed", answer["error"])
        self.assertIn("fd 3", answer["error"]["message"])
        self.assertEqual(answer["metadata"]["exit"], {"code": 126})


# --- jobs against jobs -------------------------------------------------------------------------


def ns_ids(pid):
    return {ns: os.readlink(f"/proc/{pid}/ns/{ns}")
            for ns in ("mnt", "net", "ipc", "pid", "uts", "user", "cgroup")}


class IsolationTests(HostileCase):
    def test_concurrent_jobs_cannot_see_each_other(self):
        a, b = "a" + secrets.token_hex(6), "b" + secrets.token_hex(6)
        fa = pool.submit(self.run_program, "isolation_pair", {"me": a, "other": b}, 30)
        fb = pool.submit(self.run_program, "isolation_pair", {"me": b, "other": a}, 30)
        pa = find_paused_jail(a)
        pb = find_paused_jail(b)
        try:
            # Both are alive now: they overlap.  Host view of their namespaces and /tmp.
            self.assertNotEqual(pa, pb)
            na, nb, mine = ns_ids(pa), ns_ids(pb), ns_ids(os.getpid())
            for ns in na:
                self.assertNotEqual(na[ns], mine[ns], ns)
                # Every namespace is the jail's own, the network one too:
                # a shared one showed the other's socket names.
                self.assertNotEqual(na[ns], nb[ns], ns)
            self.assertTrue(os.path.exists(f"/proc/{pa}/root/tmp/{a}.file"))
            self.assertFalse(os.path.exists(f"/proc/{pa}/root/tmp/{b}.file"))
            self.assertFalse(os.path.exists(f"/proc/{pb}/root/dev/shm/{a}.file"))
        finally:
            release(pa, a)
            release(pb, b)
        for me, other, future in ((a, b, fa), (b, a, fb)):
            answer, _, _ = future.result()
            self.assertEqual(answer["status"], "ok", answer["error"])
            r = answer["result"]
            own, theirs = r["own"], r["other"]
            self.assertEqual({k: own[k] for k in ("tmp", "shm_file", "sysv_shm", "sysv_sem",
                                                  "abstract_socket")},
                             dict.fromkeys(("tmp", "shm_file", "sysv_shm", "sysv_sem",
                                            "abstract_socket"), True), "control")
            self.assertEqual({k: theirs[k] for k in ("tmp", "shm_file", "sysv_shm", "sysv_sem",
                                                     "abstract_socket")},
                             dict.fromkeys(("tmp", "shm_file", "sysv_shm", "sysv_sem",
                                            "abstract_socket"), False), f"{me} saw {other}")
            self.assertEqual(r["shm_listing"], [f"{me}.file"])
            self.assertFalse([n for n in r["tmp_listing"] if other in n])
            # The kernel's socket table shows the job its own sockets only,
            # and the other's abstract name is free here (no squatting).
            self.assertEqual(own["proc_net_unix"], {"abstract": True, "path": True}, "control")
            self.assertEqual(theirs["proc_net_unix"], {"abstract": False, "path": False},
                             f"{me} saw {other}'s sockets")
            self.assertEqual(r["squat_other"], "bound")
            self.assertEqual(r["squat_own"], "EADDRINUSE")  # control: a held name is refused

    def test_nothing_persists_into_later_jobs(self):
        token = "p" + secrets.token_hex(8)
        planted, _, _ = self.run_program("persistence", {"mode": "plant", "token": token})
        self.assertEqual(planted["status"], "ok", planted["error"])
        self.assertEqual(planted["output"], "planted True True\n")  # control
        self.assertEqual(planted["result"], {"tmp": [token], "shm": [token], "sysv_shm": True,
                                             "sysv_sem": True})
        # More jobs than slots, so the planter's slot (and outside uid) is reused.
        for _ in range(host["uid_hi"] - host["uid_lo"] + 2):
            looked, _, _ = self.run_program("persistence", {"mode": "look", "token": token})
            self.assertEqual(looked["status"], "ok", looked["error"])
            self.assertEqual(looked["result"], {"tmp": [], "shm": [], "sysv_shm": False,
                                                "sysv_sem": False})

    # Advisory locks on files every jail reads (the runtime under /usr, the
    # loader cache, /dev/null) would be a channel between jobs and to the host
    # if the jails used the host's inodes: the runtime is mounted as private
    # read-only overlays, the loader cache is copied, and each slot has its
    # own device nodes, so locks work and stay inside the jail.
    def test_locks_on_shared_files_are_not_a_channel(self):
        token = secrets.token_hex(8)
        holder = pool.submit(self.run_program, "side_channel_flock", {"role": "hold", "token": token}, 30)
        pid = find_paused_jail(token)
        try:
            host_view = {}
            for path in ("/usr/lib/python3.11/this.py", "/etc/ld.so.cache", "/dev/null"):
                with open(path, "rb") as f:
                    try:
                        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        host_view[path] = "got it"
                    except OSError as exc:
                        host_view[path] = errno.errorcode.get(exc.errno)
            prober, _, _ = self.run_program("side_channel_flock", {"role": "probe", "token": "x"}, wall=10)
        finally:
            release(pid, token)
        held, _, _ = holder.result()
        self.assertEqual(held["status"], "ok")
        self.assertAllEqual(held["result"], "got it")  # control: the holder got its locks
        self.assertAllEqual(prober["result"], "got it")
        self.assertAllEqual(host_view, "got it")

    # inotify is refused (EPERM): nothing a job needs, and watches on shared
    # files would see the host's activity.
    def test_inotify_does_not_see_host_activity(self):
        token = secrets.token_hex(8)
        future = pool.submit(self.run_program, "side_channel_inotify", {"token": token}, 30)
        pid = find_paused_jail(token)
        try:
            for path in ("/dev/null", "/usr/share/zoneinfo/Etc/UTC", "/usr/lib/python3.11/this.py",
                         "/etc/ld.so.cache"):
                with open(path, "rb") as f:
                    f.read(16)
            with open("/dev/null", "wb") as f:
                f.write(b"host activity")
        finally:
            release(pid, token)
        answer, _, _ = future.result()
        self.assertEqual(answer["status"], "ok", answer["error"])
        self.assertEqual(answer["result"]["events"], {}, "the jail saw the host open files")
        self.assertEqual(answer["result"]["inotify_init1"], "EPERM")


if __name__ == "__main__":
    unittest.main()
