"""The Judge0-compatible API (/judge0/...) through real nginx, FastCGI and the executor.

What is checked is what Judge0 CE 1.13.1 clients rely on (as
Judge0's own source has them, github.com/judge0/judge0 at v1.13.1): routes, field names and types, status
ids and descriptions, base64 in MIME form, validation bodies and HTTP codes,
batch endpoints, and the request flow of the judge0-python SDK (SdkFlowTests).
"""

import base64
import datetime
import json
import os
import re
import signal
import time
import unittest
import urllib.parse
import uuid

from tests.http.service import Service

svc = None
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
DEFAULT_FIELDS = {"token", "time", "memory", "stdout", "stderr", "compile_output", "message",
                  "status"}
ALL_FIELDS = {
    "source_code", "language_id", "stdin", "expected_output", "stdout", "status_id", "created_at",
    "finished_at", "time", "memory", "stderr", "token", "number_of_runs", "cpu_time_limit",
    "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit",
    "max_processes_and_or_threads", "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit", "max_file_size", "compile_output", "exit_code",
    "exit_signal", "message", "wall_time", "compiler_options", "command_line_arguments",
    "redirect_stderr_to_stdout", "callback_url", "additional_files", "enable_network", "status",
    "language"}
STATUSES = [
    (1, "In Queue"), (2, "Processing"), (3, "Accepted"), (4, "Wrong Answer"),
    (5, "Time Limit Exceeded"), (6, "Compilation Error"), (7, "Runtime Error (SIGSEGV)"),
    (8, "Runtime Error (SIGXFSZ)"), (9, "Runtime Error (SIGFPE)"), (10, "Runtime Error (SIGABRT)"),
    (11, "Runtime Error (NZEC)"), (12, "Runtime Error (Other)"), (13, "Internal Error"),
    (14, "Exec Format Error")]


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(text):
    return None if text is None else base64.b64decode(text)


def call(method, path, body=None, raw=None, content_type="application/json"):
    """Returns (status, headers, parsed JSON body or raw bytes when not JSON)."""
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    headers = {"Content-Type": content_type} if data is not None else {}
    status, hdrs, out = svc.request(method, path, data, headers, timeout=120)
    if hdrs.get("content-type", "").startswith("application/json"):
        return status, hdrs, json.loads(out)
    return status, hdrs, out


def create(body, query="wait=true"):
    return call("POST", "/judge0/submissions?" + query, body)


def run(source, **fields):
    """wait=true with every field; returns the submission."""
    body = {"source_code": source, "language_id": 71}
    body.update(fields)
    status, _, sub = create(body, "wait=true&fields=*")
    assert status == 201, (status, sub)
    return sub


def wait_done(token, query="fields=*", seconds=60):
    """Polls GET /submissions/{token} until the status is past Processing."""
    seen = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, _, sub = call("GET", f"/judge0/submissions/{token}?{query}")
        assert status == 200, (status, sub)
        seen.append(sub["status"]["id"])
        if sub["status"]["id"] > 2:
            return sub, seen
        time.sleep(0.05)
    raise AssertionError(f"submission {token} still running: {seen[-5:]}")


class InfoTests(unittest.TestCase):
    def test_languages_are_python_71_and_92(self):
        status, _, langs = call("GET", "/judge0/languages")
        self.assertEqual(status, 200)
        self.assertEqual([l["id"] for l in langs], [71, 92])
        for lang in langs:
            self.assertEqual(set(lang), {"id", "name"})
            self.assertTrue(lang["name"].startswith("Python (3."))
        status, _, one = call("GET", "/judge0/languages/71")
        self.assertEqual(status, 200)
        self.assertEqual(set(one), {"id", "name", "is_archived", "source_file", "compile_cmd",
                                    "run_cmd"})
        self.assertEqual((one["is_archived"], one["compile_cmd"], one["source_file"]),
                         (False, None, "script.py"))
        self.assertEqual(call("GET", "/judge0/languages/all")[2][1]["is_archived"], False)
        self.assertEqual(call("GET", "/judge0/languages/62")[0], 404)
        self.assertEqual(call("GET", "/judge0/languages/x")[0], 404)

    def test_statuses_match_judge0(self):
        status, _, sts = call("GET", "/judge0/statuses")
        self.assertEqual(status, 200)
        self.assertEqual([(s["id"], s["description"]) for s in sts], STATUSES)

    def test_about_and_version(self):
        status, _, about = call("GET", "/judge0/about")
        self.assertEqual(status, 200)
        self.assertEqual(set(about), {"version", "homepage", "source_code", "maintainer"})
        self.assertEqual(about["version"], "1.13.1")
        status, hdrs, text = call("GET", "/judge0/version")
        self.assertEqual((status, text), (200, b"1.13.1"))
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        status, _, info = call("GET", "/judge0/system_info")
        self.assertEqual(status, 200)
        self.assertTrue(all(isinstance(v, str) for v in info.values()))
        self.assertGreaterEqual(int(info["CPU(s)"]), 1)

    def test_config_info_reports_our_real_limits(self):
        status, _, cfg = call("GET", "/judge0/config_info")
        self.assertEqual(status, 200)
        for key, typ in SDK_CONFIG_KEYS.items():
            self.assertIn(key, cfg)
            self.assertIsInstance(cfg[key], typ, key)
            if typ is int:
                self.assertNotIsInstance(cfg[key], bool, key)
        # The service's defaults: PYSANDBOX_MAX_WALL_TIME=30, PYSANDBOX_MAX_MEMORY_MB=512.
        self.assertEqual((cfg["max_wall_time_limit"], cfg["max_cpu_time_limit"]), (30.0, 30.0))
        self.assertEqual((cfg["cpu_time_limit"], cfg["wall_time_limit"]), (5.0, 10.0))
        self.assertEqual((cfg["memory_limit"], cfg["max_memory_limit"]), (128000, 512 * 1024))
        self.assertEqual((cfg["enable_network"], cfg["allow_enable_network"]), (False, False))
        self.assertEqual((cfg["enable_wait_result"], cfg["enable_batched_submissions"]),
                         (True, True))
        self.assertEqual(cfg["max_submission_batch_size"], 20)

    def test_unknown_routes_and_methods(self):
        status, _, body = call("GET", "/judge0/nope")
        self.assertEqual(status, 404)
        self.assertIn("error", body)
        # A method a route lacks is an unknown route to Judge0's router: 404.
        status, _, body = call("PUT", "/judge0/submissions", {})
        self.assertEqual((status, "error" in body), (404, True))
        self.assertEqual(call("POST", "/judge0/statuses", {})[0], 404)
        self.assertEqual(call("OPTIONS", "/judge0/languages")[0], 404)  # not a preflight
        # Listing and deleting need Judge0's authorization token, which we do not issue.
        self.assertEqual(call("GET", "/judge0/submissions")[:3:2], (403, b""))
        self.assertEqual(call("DELETE", f"/judge0/submissions/{uuid.uuid4()}")[0], 403)
        self.assertEqual(call("POST", "/judge0/authenticate", {})[0], 200)


class SubmissionTests(unittest.TestCase):
    def test_wait_true_returns_the_default_fields(self):
        status, hdrs, sub = create({"source_code": "print('hello, Judge0')", "language_id": 71})
        self.assertEqual(status, 201)
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        self.assertEqual(set(sub), DEFAULT_FIELDS)
        self.assertRegex(sub["token"], UUID4)
        self.assertEqual(sub["status"], {"id": 3, "description": "Accepted"})
        self.assertEqual(sub["stdout"], "hello, Judge0\n")
        self.assertEqual((sub["stderr"], sub["compile_output"], sub["message"]),
                         (None, None, None))
        self.assertIsInstance(sub["time"], str)
        self.assertGreaterEqual(float(sub["time"]), 0.0)
        self.assertIsInstance(sub["memory"], int)

    def test_wait_false_then_poll(self):
        status, _, created = create(
            {"source_code": "import time\ntime.sleep(0.3)\nprint(6 * 7)", "language_id": 92},
            "wait=false")
        self.assertEqual(status, 201)
        self.assertEqual(set(created), {"token"})
        self.assertRegex(created["token"], UUID4)
        sub, seen = wait_done(created["token"])
        self.assertTrue(set(seen[:-1]) <= {1, 2}, seen)
        self.assertIn(2, seen, "a 0.3 s program is seen Processing at least once")
        self.assertEqual((sub["status"]["id"], sub["stdout"], sub["language_id"]), (3, "42\n", 92))
        self.assertEqual(sub["language"]["id"], 92)
        created_at = datetime.datetime.strptime(sub["created_at"], ISO)
        finished_at = datetime.datetime.strptime(sub["finished_at"], ISO)
        self.assertGreater(finished_at, created_at)
        # wait is only true when it says "true", as in Judge0 1.13.1.
        self.assertEqual(set(create({"source_code": "1", "language_id": 71}, "wait=1")[2]),
                         {"token"})

    def test_stdin_is_the_programs_input(self):
        stdin = "3\nalpha\nbeta\ngamma"
        src = ("import sys\nn = int(input())\nrows = [input() for _ in range(n)]\n"
               "print(' '.join(reversed(rows)))\nprint(repr(sys.stdin.read()))")
        sub = run(src, stdin=stdin)
        self.assertEqual(sub["stdout"], "gamma beta alpha\n''\n")
        self.assertEqual(sub["stdin"], stdin)
        sub = run("import sys\nprint(sys.stdin.read() == '')")
        self.assertEqual((sub["stdout"], sub["stdin"]), ("True\n", None))

    def test_base64_in_and_out(self):
        src = "import sys\ndata = sys.stdin.read()\nprint(data.upper() * 40)\nsys.exit(2)"
        body = {"source_code": base64.encodebytes(src.encode()).decode(),  # MIME form, too
                "stdin": b64("abc"), "language_id": 71}
        status, _, sub = create(body, "base64_encoded=true&wait=true")
        self.assertEqual(status, 201)
        out = sub["stdout"]
        lines = out.split("\n")
        self.assertEqual(lines[-1], "", "MIME base64 ends with a newline")
        self.assertTrue(all(len(l) == 60 for l in lines[:-2]), lines[:3])
        self.assertEqual(unb64(out), b"ABC" * 40 + b"\n")
        self.assertEqual(unb64(sub["message"]), b"Exited with error status 2")
        self.assertEqual(sub["status"]["id"], 11)
        # The echo of the request fields is base64 too; plain when not asked.
        token = sub["token"]
        status, _, echo = call("GET", f"/judge0/submissions/{token}?base64_encoded=true"
                                      "&fields=source_code,stdin")
        self.assertEqual((unb64(echo["source_code"]).decode(), unb64(echo["stdin"])),
                         (src, b"abc"))
        status, _, echo = call("GET", f"/judge0/submissions/{token}?fields=source_code,stdout")
        self.assertEqual((echo["source_code"], echo["stdout"]), (src, "ABC" * 40 + "\n"))

    def test_expected_output_accepted_and_wrong_answer(self):
        src = "print('1 2')\nprint('3')"
        self.assertEqual(run(src, expected_output="1 2   \n3\n\n\n")["status"]["id"], 3)
        self.assertEqual(run(src, expected_output="1 2\r\n3")["status"]["id"], 3)
        wrong = run(src, expected_output="1 2\n4\n")
        self.assertEqual(wrong["status"], {"id": 4, "description": "Wrong Answer"})
        self.assertEqual(run(src, expected_output="1  2\n3")["status"]["id"], 4)
        # A failing program is a runtime error whatever the expected output.
        self.assertEqual(run("print(1)\n1/0", expected_output="1")["status"]["id"], 11)

    def test_exit_status_is_nzec_with_the_code(self):
        sub = run("import sys\nprint('partial')\nsys.exit(3)")
        self.assertEqual(sub["status"], {"id": 11, "description": "Runtime Error (NZEC)"})
        self.assertEqual((sub["exit_code"], sub["exit_signal"]), (3, None))
        self.assertEqual(sub["message"], "Exited with error status 3")
        self.assertEqual(sub["stdout"], "partial\n")
        ok = run("import sys\nsys.exit(0)")
        self.assertEqual((ok["status"]["id"], ok["exit_code"]), (3, 0))

    def test_exception_is_nzec_with_the_traceback_on_stderr(self):
        sub = run("def f(x):\n    return 1 / x\n\nf(0)\n")
        self.assertEqual((sub["status"]["id"], sub["exit_code"]), (11, 1))
        self.assertTrue(sub["stderr"].startswith("Traceback (most recent call last):"),
                        sub["stderr"])
        self.assertIn("line 2, in f", sub["stderr"])
        self.assertTrue(sub["stderr"].rstrip().endswith("ZeroDivisionError: division by zero"))
        # Judge0 runs Python sources as script.py, and tracebacks say so.
        self.assertIn('File "script.py", line 4, in <module>', sub["stderr"])
        self.assertIsNone(sub["stdout"])

    def test_time_limits(self):
        started = time.time()
        sub = run("while True:\n    pass", cpu_time_limit=1, cpu_extra_time=0.5)
        self.assertLess(time.time() - started, 10)
        self.assertEqual(sub["status"], {"id": 5, "description": "Time Limit Exceeded"})
        self.assertEqual(sub["message"], "Time limit exceeded")
        self.assertEqual(sub["cpu_time_limit"], "1.0")
        # Stopped once it used cpu_time_limit + cpu_extra_time of CPU; time is CPU time.
        self.assertGreaterEqual(float(sub["time"]), 1.5)
        self.assertLess(float(sub["wall_time"]), 10)
        # Sleeping uses no CPU: past cpu + extra, within the wall limit, it is Accepted.
        sub = run("import time\ntime.sleep(2)\nprint('ok')", cpu_time_limit=1,
                  cpu_extra_time=0.5, wall_time_limit=5)
        self.assertEqual((sub["status"]["id"], sub["stdout"]), (3, "ok\n"), sub["message"])
        self.assertLess(float(sub["time"]), 1)
        self.assertGreaterEqual(float(sub["wall_time"]), 2)
        sub = run("import time\ntime.sleep(5)\nprint('late')", cpu_time_limit=0,
                  wall_time_limit=1)
        self.assertEqual((sub["status"]["id"], sub["stdout"]), (5, None))
        self.assertEqual(sub["message"], "Time limit exceeded (wall clock)")
        self.assertLess(float(sub["wall_time"]), 3)
        # Within the limits, sleeping is fine (the CPU limit counts CPU).
        sub = run("import time\ntime.sleep(0.5)\nprint('ok')", cpu_time_limit=0.2,
                  cpu_extra_time=0.5, wall_time_limit=3)
        self.assertEqual((sub["status"]["id"], sub["stdout"]), (3, "ok\n"))

    def test_cpu_time_verdicts_do_not_depend_on_load(self):
        # Eight programs that each need 0.5 s of CPU, sent at once, more than
        # this machine has cores for: each still uses 0.5 s of CPU, so each is
        # Accepted under cpu_time_limit 1, however long it waited for a core.
        burn = ("import time\nstart = time.process_time()\n"
                "while time.process_time() - start < 0.5:\n    pass\nprint('done')")
        tokens = []
        for _ in range(8):
            status, _, sub = create({"source_code": burn, "language_id": 71, "cpu_time_limit": 1,
                                     "cpu_extra_time": 0.5, "wall_time_limit": 30}, "wait=false")
            self.assertEqual(status, 201, sub)
            tokens.append(sub["token"])
        for token in tokens:
            sub, _ = wait_done(token, seconds=120)
            self.assertEqual((sub["status"]["id"], sub["stdout"]), (3, "done\n"),
                             (sub["message"], sub["time"], sub["wall_time"]))
            self.assertGreaterEqual(float(sub["time"]), 0.5)
            self.assertLess(float(sub["time"]), 1)

    def test_memory_and_output_limits(self):
        sub = run("x = bytearray(300 * 1024 * 1024)\nprint(len(x))", memory_limit=65536)
        self.assertEqual(sub["status"]["id"], 11, sub)
        self.assertIn("memory limit exceeded", sub["message"])
        self.assertIn(sub["exit_code"], (1, 137))
        sub = run("import sys\nfor _ in range(3000):\n    sys.stdout.write('x' * 1000 + '\\n')")
        self.assertEqual(sub["status"]["id"], 8, sub["message"])
        self.assertEqual(sub["exit_signal"], 25)
        self.assertIn("Output limit exceeded", sub["message"])

    def test_redirect_stderr_to_stdout(self):
        # One stream, in the order written, as isolate's one file gives it.
        sub = run("import sys\nprint('out 1')\nprint('err', file=sys.stderr)\n"
                  "sys.stdout.write('out 2\\n')\nraise KeyError('k')",
                  redirect_stderr_to_stdout=True)
        self.assertEqual(sub["stdout"].splitlines()[:4],
                         ["out 1", "err", "out 2", "Traceback (most recent call last):"])
        self.assertTrue(sub["stdout"].endswith("KeyError: 'k'\n"), sub["stdout"])
        self.assertIsNone(sub["stderr"])
        self.assertEqual(sub["status"]["id"], 11)
        self.assertTrue(sub["redirect_stderr_to_stdout"])
        # Without it the two stay apart.
        sub = run("import sys\nprint('out')\nprint('err', file=sys.stderr)")
        self.assertEqual((sub["stdout"], sub["stderr"]), ("out\n", "err\n"))

    def test_fields_filter(self):
        status, _, sub = create({"source_code": "print(1)", "language_id": 71},
                                "wait=true&fields=stdout,exit_code")
        self.assertEqual((status, sub), (201, {"stdout": "1\n", "exit_code": 0}))
        full = run("print(1)", stdin="in", cpu_time_limit="2.5", memory_limit=100000.0)
        self.assertEqual(set(full), ALL_FIELDS)
        self.assertEqual((full["status_id"], full["language"]["id"], full["language_id"]),
                         (3, 71, 71))
        self.assertEqual((full["cpu_time_limit"], full["cpu_extra_time"],
                          full["wall_time_limit"]), ("2.5", "1.0", "10.0"))
        self.assertEqual((full["memory_limit"], full["number_of_runs"], full["stdin"]),
                         (100000, 1, "in"))
        self.assertEqual((full["enable_network"], full["callback_url"],
                          full["additional_files"]), (False, None, None))
        datetime.datetime.strptime(full["created_at"], ISO)
        token = full["token"]
        status, _, err = call("GET", f"/judge0/submissions/{token}?fields=token,nope,bad")
        self.assertEqual((status, err), (400, {"error": "invalid fields: [nope, bad]"}))
        status, _, err = create({"source_code": "1", "language_id": 71}, "wait=false&fields=x")
        self.assertEqual((status, err), (400, {"error": "invalid fields: [x]"}))
        status, _, sub = call("GET", f"/judge0/submissions/{token}?fields=status_id,token")
        self.assertEqual(sub, {"status_id": 3, "token": token})

    def test_unknown_token_is_404(self):
        status, _, body = call("GET", f"/judge0/submissions/{uuid.uuid4()}")
        self.assertEqual(status, 404)
        self.assertIn("error", body)
        self.assertEqual(call("GET", "/judge0/submissions/" + "x" * 300)[0], 404)

    def test_validation_errors(self):
        status, _, err = create({"source_code": "print(1)", "language_id": 9999})
        self.assertEqual((status, err),
                         (422, {"language_id": ["language with id 9999 doesn't exist"]}))
        status, _, err = create({})
        self.assertEqual((status, err), (422, {
            "source_code": ["can't be blank"],
            "language_id": ["can't be blank", "language with id  doesn't exist"]}))
        status, _, err = create({"source_code": "1", "language_id": "71", "cpu_time_limit": 31,
                                 "memory_limit": "lots", "number_of_runs": 0})
        self.assertEqual((status, err), (422, {
            "number_of_runs": ["must be greater than 0"],
            "cpu_time_limit": ["must be less than or equal to 30.0"],
            "memory_limit": ["is not a number"]}))
        # A body that is not declared JSON is not read, as in Judge0.
        status, _, err = call("POST", "/judge0/submissions?wait=true",
                              raw='{"source_code":"1","language_id":71}',
                              content_type="text/plain")
        self.assertEqual(status, 422)
        self.assertEqual(err["source_code"], ["can't be blank"])
        # Source must be text we can run.
        status, _, err = create({"source_code": b64(b"print('\xff')"), "language_id": 71},
                                "base64_encoded=true&wait=true")
        self.assertEqual((status, list(err)), (422, ["source_code"]))

    def test_malformed_json(self):
        for raw in ('{"source_code": "print(1)", ', "[1,]", '{"a": "\xff"}'.encode("latin-1")):
            status, _, body = call("POST", "/judge0/submissions?wait=true", raw=raw)
            self.assertEqual(status, 400, raw)
            self.assertIn("error", body)

    def test_features_we_cannot_honour_are_refused(self):
        status, _, err = create({"source_code": "print(1)", "language_id": 71,
                                 "enable_network": True})
        self.assertEqual((status, err), (422, {"enable_network": ["enabling network is not allowed"]}))
        status, _, err = create({"source_code": "print(1)", "language_id": 71,
                                 "callback_url": "http://127.0.0.1:9/cb",
                                 "command_line_arguments": "-v"})
        self.assertEqual(status, 422)
        self.assertEqual(err["callback_url"], ["setting callback is not allowed"])
        self.assertEqual(err["command_line_arguments"],
                         ["setting command line arguments is not allowed"])
        # Explicitly off is fine.
        status, _, sub = create({"source_code": "print(1)", "language_id": 71,
                                 "enable_network": False, "callback_url": None})
        self.assertEqual((status, sub["status"]["id"]), (201, 3))

    def test_unicode_and_invalid_utf8_output(self):
        text = "héllo ✓ 😀 \u2028 \"q\" \\"
        sub = run(f"print({text!r})\nimport sys\nprint('ошибка', file=sys.stderr)")
        self.assertEqual((sub["stdout"], sub["stderr"]), (text + "\n", "ошибка\n"))
        status, _, enc = create({"source_code": b64(f"print({text!r})"), "language_id": 71},
                                "base64_encoded=true&wait=true")
        self.assertEqual(unb64(enc["stdout"]).decode(), text + "\n")
        # Bytes that are not UTF-8 are kept exactly: base64 gives them back
        # byte for byte, and without base64 Judge0's own answer asks for it.
        raw_out = bytes([97, 0xfe, 98, 0, 0x80, 0xc3, 10]) + "✓".encode()[:2]
        raw_err = bytes([0xff, 0xfe, 10])
        src = (f"import sys\nsys.stdout.buffer.write({raw_out!r})\nsys.stdout.flush()\n"
               f"sys.stderr.buffer.write({raw_err!r})")
        status, _, enc = create({"source_code": b64(src), "language_id": 71},
                                "base64_encoded=true&wait=true&fields=*")
        self.assertEqual(status, 201, enc)
        self.assertEqual((unb64(enc["stdout"]), unb64(enc["stderr"])), (raw_out, raw_err))
        token = enc["token"]
        status, _, again = call("GET", f"/judge0/submissions/{token}?base64_encoded=true")
        self.assertEqual((status, unb64(again["stdout"]), unb64(again["stderr"])),
                         (200, raw_out, raw_err))
        status, _, plain = call("GET", f"/judge0/submissions/{token}")
        self.assertEqual(status, 400)
        self.assertIn("cannot be converted to UTF-8, use base64_encoded=true", plain["error"])
        status, _, plain = create({"source_code": src, "language_id": 71})
        self.assertEqual(status, 201)
        self.assertEqual(set(plain), {"token", "error"})
        self.assertIn("cannot be converted to UTF-8", plain["error"])
        # Merged into stdout, they stay exact and in the order written.
        status, _, enc = create({"source_code": b64(src), "language_id": 71,
                                 "redirect_stderr_to_stdout": True},
                                "base64_encoded=true&wait=true")
        self.assertEqual((unb64(enc["stdout"]), enc["stderr"]), (raw_out + raw_err, None))

    def test_binary_stdin(self):
        data = bytes([0, 255, 10, 128, 65])
        status, _, sub = create({"source_code": b64("import sys\nprint(sys.stdin.buffer.read().hex())"),
                                 "stdin": b64(data), "language_id": 71},
                                "base64_encoded=true&wait=true")
        self.assertEqual((status, unb64(sub["stdout"])), (201, b"00ff0a8041\n"))
        token = sub["token"]
        status, _, echo = call("GET", f"/judge0/submissions/{token}?base64_encoded=true"
                                      "&fields=stdin")
        self.assertEqual(unb64(echo["stdin"]), data)
        # Plain text cannot carry it: Judge0's conversion error.
        status, _, err = call("GET", f"/judge0/submissions/{token}?fields=stdin")
        self.assertEqual(status, 400)
        self.assertIn("cannot be converted to UTF-8, use base64_encoded=true", err["error"])


class BatchTests(unittest.TestCase):
    def test_batch_create_and_get(self):
        items = [{"source_code": "print('a')", "language_id": 71},
                 {"language_id": 71},
                 {"source_code": "print(input() * 2)", "stdin": "xy", "language_id": 92}]
        status, _, created = call("POST", "/judge0/submissions/batch", {"submissions": items})
        self.assertEqual(status, 201)
        self.assertEqual(len(created), 3)
        self.assertRegex(created[0]["token"], UUID4)
        self.assertEqual(created[1], {"source_code": ["can't be blank"]})
        self.assertRegex(created[2]["token"], UUID4)
        tokens = [created[0]["token"], str(uuid.uuid4()), created[2]["token"]]
        deadline = time.time() + 60
        while True:
            status, _, got = call("GET", "/judge0/submissions/batch?tokens=" + ",".join(tokens)
                                  + "&fields=token,stdout,status")
            self.assertEqual(status, 200)
            subs = got["submissions"]
            self.assertIsNone(subs[1])
            if all(s["status"]["id"] > 2 for s in (subs[0], subs[2])) or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(set(subs[0]), {"token", "stdout", "status"})
        self.assertEqual([(s["token"], s["stdout"], s["status"]["id"]) for s in (subs[0], subs[2])],
                         [(tokens[0], "a\n", 3), (tokens[2], "xyxy\n", 3)])

    def test_batch_base64_and_all_invalid(self):
        status, _, created = call("POST", "/judge0/submissions/batch?base64_encoded=true",
                                  {"submissions": [{"source_code": b64("print('b64')"),
                                                    "language_id": 71}]})
        self.assertEqual(status, 201)
        sub, _ = wait_done(created[0]["token"], "base64_encoded=true&fields=stdout,status")
        self.assertEqual(unb64(sub["stdout"]), b"b64\n")
        status, _, created = call("POST", "/judge0/submissions/batch",
                                  {"submissions": [{"language_id": 1}, {"source_code": "1"}]})
        self.assertEqual(status, 422)
        self.assertEqual(created[0]["language_id"], ["language with id 1 doesn't exist"])

    def test_batch_sizes(self):
        one = {"source_code": "print(1)", "language_id": 71}
        for body, msg in (
                ({"submissions": [one] * 21},
                 "number of submissions in a batch should be less than or equal to 20"),
                ({"submissions": []}, "there should be at least one submission in a batch"),
                ({}, "there should be at least one submission in a batch")):
            status, _, err = call("POST", "/judge0/submissions/batch", body)
            self.assertEqual((status, err), (400, {"error": msg}))
        tokens = ",".join(str(uuid.uuid4()) for _ in range(21))
        status, _, err = call("GET", "/judge0/submissions/batch?tokens=" + tokens)
        self.assertEqual((status, err["error"]),
                         (400, "number of submissions in a batch should be less than or equal to 20"))
        status, _, err = call("GET", "/judge0/submissions/batch")
        self.assertEqual((status, err["error"]), (400, "there should be at least one submission in a batch"))


def native_count():
    """Native executions recorded so far, once no submission is In Queue or
    Processing (an earlier test's background run would add to the count)."""
    deadline = time.time() + 120
    while True:
        _, _, st = call("GET", "/judge0/statistics")
        if not any(x["status"]["id"] in (1, 2) for x in st["statuses"]) or time.time() > deadline:
            break
        time.sleep(0.1)
    _, _, stats = call("GET", "/api/insights/python-execution?window=24h")
    return stats["engines"]["native"]["count"]


class DropInTests(unittest.TestCase):
    """What Judge0's own clients (judge0/ide, judge0-python) need beyond the
    basics: Judge0's default limits, its remaining routes, the batch tokens
    header, number_of_runs, CORS as Judge0 CE sends it."""

    def test_judge0s_own_defaults_pass_and_say_what_was_applied(self):
        status, _, sub = create({"source_code": "print(1)", "language_id": 71,
                                 "stack_limit": 64000, "max_processes_and_or_threads": 60,
                                 "max_file_size": 1024, "cpu_time_limit": 5, "cpu_extra_time": 1,
                                 "wall_time_limit": 10, "memory_limit": 128000,
                                 "number_of_runs": 1}, "wait=true&fields=*")
        self.assertEqual((status, sub["status"]["id"]), (201, 3), sub)
        _, _, cfg = call("GET", "/judge0/config_info")
        # The jail's own stack and process limits apply (they are stricter).
        self.assertEqual(sub["stack_limit"], cfg["stack_limit"])
        self.assertLess(cfg["stack_limit"], 64000)
        self.assertEqual(sub["max_processes_and_or_threads"], cfg["max_processes_and_or_threads"])
        self.assertEqual((cfg["max_stack_limit"], cfg["max_max_processes_and_or_threads"],
                          cfg["max_max_file_size"]), (128000, 120, 4096))
        status, _, err = create({"source_code": "1", "language_id": 71, "stack_limit": 128001,
                                 "max_processes_and_or_threads": 121})
        self.assertEqual((status, err), (422, {
            "stack_limit": ["must be less than or equal to 128000"],
            "max_processes_and_or_threads": ["must be less than or equal to 120"]}))

    def test_compiler_options_refusal_matches_config_info(self):
        _, _, cfg = call("GET", "/judge0/config_info")
        self.assertIs(cfg["enable_compiler_options"], False)
        status, _, err = create({"source_code": "print(1)", "language_id": 71,
                                 "compiler_options": "-O2"})
        self.assertEqual((status, err),
                         (422, {"compiler_options": ["setting compiler options is not allowed"]}))
        # The IDE always sends empty ones: blank is not a request.
        status, _, sub = create({"source_code": "print(1)", "language_id": 71,
                                 "compiler_options": "", "command_line_arguments": ""})
        self.assertEqual((status, sub["status"]["id"]), (201, 3))

    def test_statistics_workers_isolate_license(self):
        token = create({"source_code": "print(1)", "language_id": 92}, "wait=false")[2]["token"]
        wait_done(token)
        status, _, st = call("GET", "/judge0/statistics")
        self.assertEqual(status, 200)
        self.assertEqual(set(st), {"created_at", "cached_until", "submissions", "languages",
                                   "statuses", "database"})
        datetime.datetime.strptime(st["created_at"], ISO)
        self.assertGreaterEqual(st["submissions"]["today"], 1)
        self.assertGreaterEqual(st["submissions"]["total"], st["submissions"]["today"])
        days = list(st["submissions"]["last_30_days"])
        today = datetime.datetime.now(datetime.timezone.utc).date()
        self.assertEqual(days, [(today - datetime.timedelta(days=i)).isoformat()
                                for i in range(1, 31)])
        langs = {x["language"]["id"]: x for x in st["languages"]}
        self.assertIn(92, langs)
        self.assertEqual(langs[92]["language"]["name"], "Python (3.11.2)")
        accepted = [x for x in st["statuses"] if x["status"]["id"] == 3]
        self.assertEqual(accepted[0]["status"]["name"], "Accepted")
        self.assertGreater(st["database"]["size_in_bytes"], 0)
        self.assertRegex(st["database"]["size_pretty"], r"^\d+ (bytes|kB|MB|GB)$")
        status, _, workers = call("GET", "/judge0/workers")
        self.assertEqual(status, 200)
        self.assertEqual(set(workers[0]), {"queue", "total", "available", "idle", "working",
                                           "paused", "failed"})
        self.assertEqual(workers[0]["idle"] + workers[0]["working"], workers[0]["total"])
        for path in ("/judge0/isolate", "/judge0/license"):
            status, hdrs, text = call("GET", path)
            self.assertEqual(status, 200, path)
            self.assertTrue(hdrs["content-type"].startswith("text/plain"))
            self.assertTrue(text.strip())

    def test_batch_get_takes_the_tokens_header(self):
        tokens = [create({"source_code": f"print({i})", "language_id": 71}, "wait=false")[2]["token"]
                  for i in range(2)]
        for t in tokens:
            wait_done(t)
        status, _, out = svc.request("GET", "/judge0/submissions/batch?fields=token,stdout", None,
                                     {"tokens": ",".join(tokens)})
        self.assertEqual(status, 200, out)
        subs = json.loads(out)["submissions"]
        self.assertEqual([(x["token"], x["stdout"]) for x in subs],
                         [(tokens[0], "0\n"), (tokens[1], "1\n")])

    def test_number_of_runs_runs_that_many_times(self):
        before = native_count()
        sub = run("print('again')", number_of_runs=3)
        self.assertEqual((sub["status"]["id"], sub["stdout"], sub["number_of_runs"]),
                         (3, "again\n", 3))
        self.assertEqual(native_count() - before, 3)
        # Judge0 stops at the first run that is not Accepted.
        before = native_count()
        sub = run("raise SystemExit(2)", number_of_runs=4)
        self.assertEqual((sub["status"]["id"], sub["exit_code"]), (11, 2))
        self.assertEqual(native_count() - before, 1)

    def test_cors_as_judge0_ce_sends_it(self):
        origin = {"Origin": "https://ide.example"}
        status, hdrs, _ = svc.request("GET", "/judge0/languages", None, origin)
        self.assertEqual((status, hdrs.get("access-control-allow-origin")), (200, "*"))
        status, hdrs, body = svc.request("OPTIONS", "/judge0/submissions?base64_encoded=true",
                                         None, dict(origin, **{
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type"}))
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(hdrs["access-control-allow-origin"], "*")
        self.assertIn("POST", hdrs["access-control-allow-methods"])
        self.assertEqual(hdrs["access-control-allow-headers"], "content-type")
        # Errors carry the headers too, so a browser can read them.
        status, hdrs, _ = svc.request("GET", f"/judge0/submissions/{uuid.uuid4()}", None, origin)
        self.assertEqual((status, hdrs.get("access-control-allow-origin")), (404, "*"))
        # Without an Origin nothing is added.
        _, hdrs, _ = svc.request("GET", "/judge0/languages", None, {})
        self.assertNotIn("access-control-allow-origin", hdrs)


class GuardedApiTests(unittest.TestCase):
    """PYSANDBOX_JUDGE0_AUTH_TOKEN and PYSANDBOX_JUDGE0_CORS_ORIGINS set."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"PYSANDBOX_JUDGE0_AUTH_TOKEN": "s3cret-one  second-token",
                               "PYSANDBOX_JUDGE0_CORS_ORIGINS": "https://ide.example"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_requests_without_the_token_get_401(self):
        for method, path in (("GET", "/judge0/languages"), ("POST", "/judge0/authenticate"),
                             ("GET", "/judge0/submissions/batch?tokens=x")):
            status, _, body = self.svc.request(method, path, None, {})
            self.assertEqual((status, body), (401, b""), path)
        status, _, _ = self.svc.request("GET", "/judge0/languages", None,
                                        {"X-Auth-Token": "s3cret-on"})
        self.assertEqual(status, 401)
        for token in ("s3cret-one", "second-token"):
            status, _, _ = self.svc.request("POST", "/judge0/authenticate", None,
                                            {"X-Auth-Token": token})
            self.assertEqual(status, 200, token)
        # Judge0 also takes it as a query parameter of the same name.
        status, _, _ = self.svc.request("GET", "/judge0/languages?X-Auth-Token=second-token")
        self.assertEqual(status, 200)
        status, _, body = self.svc.request(
            "POST", "/judge0/submissions?wait=true",
            json.dumps({"source_code": "print(6*7)", "language_id": 71}),
            {"Content-Type": "application/json", "X-Auth-Token": "s3cret-one"}, timeout=120)
        self.assertEqual((status, json.loads(body)["stdout"]), (201, "42\n"))

    def test_only_listed_origins_get_cors_headers(self):
        ask = {"Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "x-auth-token"}
        status, hdrs, _ = self.svc.request("OPTIONS", "/judge0/languages", None,
                                           dict(ask, Origin="https://ide.example"))
        self.assertEqual(status, 200)  # preflights come before authentication
        self.assertEqual(hdrs["access-control-allow-origin"], "https://ide.example")
        self.assertEqual(hdrs["access-control-allow-headers"], "x-auth-token")
        self.assertIn("Origin", hdrs.get("vary", ""))
        status, hdrs, _ = self.svc.request("OPTIONS", "/judge0/languages", None,
                                           dict(ask, Origin="https://evil.example"))
        self.assertEqual(status, 404)
        self.assertNotIn("access-control-allow-origin", hdrs)
        # A 401 still tells an allowed page why.
        status, hdrs, _ = self.svc.request("GET", "/judge0/languages", None,
                                           {"Origin": "https://ide.example"})
        self.assertEqual((status, hdrs.get("access-control-allow-origin")),
                         (401, "https://ide.example"))


class EngineDownTests(unittest.TestCase):
    def test_engine_unavailable_is_internal_error(self):
        executors = svc.pids("pysandbox-executor")
        self.assertEqual(len(executors), 1)  # this test instance's own executor
        os.kill(executors[0], signal.SIGKILL)
        deadline = time.time() + 5
        while os.path.exists(f"/proc/{executors[0]}/cmdline") and time.time() < deadline:
            with open(f"/proc/{executors[0]}/cmdline", "rb") as f:
                if f.read() == b"":
                    break
            time.sleep(0.02)
        sub = run("print(1)")
        self.assertEqual(sub["status"], {"id": 13, "description": "Internal Error"})
        self.assertIn("not available", sub["message"])
        self.assertEqual((sub["stdout"], sub["time"], sub["exit_code"]), (None, None, None))
        deadline = time.time() + 30
        while time.time() < deadline:
            status, _, health = call("GET", "/api/python/health")
            if status == 200 and health["pool"]["ready"] > 0:
                break
            time.sleep(0.1)
        self.assertEqual(run("print(2)")["stdout"], "2\n")


# judge0-python's pydantic Config (base_types.py): every key is required.
SDK_CONFIG_KEYS = {
    "allow_enable_network": bool, "allow_enable_per_process_and_thread_memory_limit": bool,
    "allow_enable_per_process_and_thread_time_limit": bool,
    "allowed_languages_for_compile_options": list, "callbacks_max_tries": int,
    "callbacks_timeout": float, "cpu_extra_time": float, "cpu_time_limit": float,
    "enable_additional_files": bool, "enable_batched_submissions": bool,
    "enable_callbacks": bool, "enable_command_line_arguments": bool,
    "enable_compiler_options": bool, "enable_network": bool,
    "enable_per_process_and_thread_memory_limit": bool,
    "enable_per_process_and_thread_time_limit": bool, "enable_submission_delete": bool,
    "enable_wait_result": bool, "maintenance_mode": bool, "max_cpu_extra_time": float,
    "max_cpu_time_limit": float, "max_extract_size": int, "max_file_size": int,
    "max_max_file_size": int, "max_max_processes_and_or_threads": int, "max_memory_limit": int,
    "max_number_of_runs": int, "max_processes_and_or_threads": int, "max_queue_size": int,
    "max_stack_limit": int, "max_submission_batch_size": int, "max_wall_time_limit": float,
    "memory_limit": int, "number_of_runs": int, "redirect_stderr_to_stdout": bool,
    "stack_limit": int, "submission_cache_duration": float, "use_docs_as_homepage": bool,
    "wall_time_limit": float}

# judge0-python data.py: LANGUAGE_TO_LANGUAGE_ID["1.13.1"][LanguageAlias.PYTHON].
SDK_PYTHON_ID = {"1.13.1": 71}
SDK_ENCODED = {"source_code", "additional_files", "stdin", "expected_output", "stdout", "stderr",
               "compile_output"}


class SdkClient:
    """The requests judge0-python's Client makes, with its decoding rules
    (clients.py, submission.py, common.py), over the standard library."""

    HEADERS = {"X-Judge0-App": "Judge0 Python SDK", "X-Judge0-App-Version": "0.0.x"}

    def __init__(self):
        # Client.__init__: languages and config; any failure is "Authentication failed".
        self.languages = [self._language(l) for l in self._get("/languages")]
        cfg = self._get("/config_info")
        missing = set(SDK_CONFIG_KEYS) - set(cfg)
        if missing:
            raise RuntimeError(f"Authentication failed (config_info lacks {sorted(missing)})")
        self.config = {k: self._coerce(cfg[k], t) for k, t in SDK_CONFIG_KEYS.items()}
        self.version = self._get("/about")["version"]

    @staticmethod
    def _coerce(value, typ):  # pydantic's lax mode, for what Judge0 sends
        if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise TypeError(f"{value!r} is not {typ.__name__}")
        return value

    @staticmethod
    def _language(d):
        assert isinstance(d["id"], int) and isinstance(d["name"], str), d
        return d

    def _request(self, method, path, params=None, body=None):
        url = "/judge0" + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body) if body is not None else None
        headers = dict(self.HEADERS)
        if data is not None:
            headers["Content-Type"] = "application/json"
        status, _, raw = svc.request(method, url, data, headers, timeout=60)
        if status >= 400:  # response.raise_for_status()
            raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
        return json.loads(raw)

    def _get(self, path, params=None):
        return self._request("GET", path, params)

    def language_id(self):
        lid = SDK_PYTHON_ID[self.version]  # get_language_id(LanguageAlias.PYTHON)
        if not any(l["id"] == lid for l in self.languages):  # is_language_supported
            raise RuntimeError(f"language {lid} not supported")
        return lid

    def as_body(self, sub):
        body = {"source_code": b64(sub["source_code"]), "language_id": self.language_id()}
        for field in ("stdin", "expected_output"):
            if sub.get(field) is not None:
                body[field] = b64(sub[field])
        for field in ("cpu_time_limit", "memory_limit", "redirect_stderr_to_stdout"):
            if sub.get(field) is not None:
                body[field] = sub[field]
        return body

    @staticmethod
    def set_attributes(sub, attrs):
        for attr, value in attrs.items():
            if attr in ("language_id", "language", "status_id"):
                continue
            if attr in SDK_ENCODED:
                value = base64.b64decode(value.encode()).decode(errors="backslashreplace") \
                    if value else None
            elif attr == "status":
                value = value["id"]
            elif attr in ("created_at", "finished_at") and value is not None:
                value = datetime.datetime.strptime(value, ISO)
            elif attr in ("cpu_time_limit", "cpu_extra_time", "time", "wall_time",
                          "wall_time_limit") and value is not None:
                value = float(value)
            elif attr == "token":
                assert uuid.UUID(value).version == 4  # pydantic UUID4
            sub[attr] = value

    def create_submission(self, sub):
        attrs = self._request("POST", "/submissions", {"base64_encoded": "true", "wait": "false"},
                              self.as_body(sub))
        self.set_attributes(sub, attrs)
        return sub

    def get_submission(self, sub):
        attrs = self._get(f"/submissions/{sub['token']}",
                          {"base64_encoded": "true", "fields": "*"})
        self.set_attributes(sub, attrs)
        return sub

    def create_submissions(self, subs):
        out = self._request("POST", "/submissions/batch", {"base64_encoded": "true"},
                            {"submissions": [self.as_body(s) for s in subs]})
        for sub, attrs in zip(subs, out):
            self.set_attributes(sub, attrs)
        return subs

    def get_submissions(self, subs):
        params = {"base64_encoded": "true", "fields": "*",
                  "tokens": ",".join(s["token"] for s in subs)}
        for sub, attrs in zip(subs, self._get("/submissions/batch", params)["submissions"]):
            self.set_attributes(sub, attrs)
        return subs

    def wait(self, subs, seconds=60):  # RegularPeriodRetry(0.1)
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.get_submissions(subs) if len(subs) > 1 else self.get_submission(subs[0])
            if all(s.get("status") not in (None, 1, 2) for s in subs):
                return subs
            time.sleep(0.1)
        raise AssertionError("SDK wait timed out")


class SdkFlowTests(unittest.TestCase):
    def test_run_one_submission_like_judge0_python(self):
        client = SdkClient()
        self.assertEqual(client.config["max_submission_batch_size"], 20)
        sub = {"source_code": "name = input()\nprint(f'hello, {name}')",
               "stdin": "Judge0", "expected_output": "hello, Judge0",
               "cpu_time_limit": 2.0, "memory_limit": 128000.0}
        client.create_submission(sub)
        self.assertIsNone(sub.get("status"))
        client.wait([sub])
        self.assertEqual(sub["status"], 3)
        self.assertEqual(sub["stdout"], "hello, Judge0\n")
        self.assertEqual(sub["source_code"], "name = input()\nprint(f'hello, {name}')")
        self.assertEqual(sub["expected_output"], "hello, Judge0")
        self.assertIsInstance(sub["time"], float)
        self.assertIsInstance(sub["finished_at"], datetime.datetime)
        self.assertIsNone(sub["compile_output"])

    def test_batch_of_test_cases_like_judge0_python(self):
        client = SdkClient()
        src = "a, b = map(int, input().split())\nprint(a + b)"
        cases = [("1 2", "3"), ("10 -4", "6"), ("2 2", "5")]
        subs = [{"source_code": src, "stdin": i, "expected_output": o} for i, o in cases]
        client.create_submissions(subs)
        client.wait(subs)
        self.assertEqual([s["status"] for s in subs], [3, 3, 4])
        self.assertEqual([s["stdout"] for s in subs], ["3\n", "6\n", "4\n"])


if __name__ == "__main__":
    unittest.main()
