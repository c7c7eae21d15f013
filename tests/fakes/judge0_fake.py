#!/usr/bin/python3
"""A small stand-in for a Judge0 CE 1.13 server, for tests on loopback.

It really runs the submitted Python with /usr/bin/python3 in a subprocess
(with the submission's wall and CPU limits; no jail: it is a test fake
bound to 127.0.0.1) and answers the way Judge0 does:

  POST /submissions?base64_encoded=true&wait=false  -> 201 {"token": ...}
  GET  /submissions/{token}?base64_encoded=true&fields=...
       -> {"status": {"id", "description"}, "stdout": <base64 MIME form,
           a line break every 60 characters and at the end>, "time": "0.012"
           (a string), "wall_time": "0.034", "memory": 1234 (KB), ...}

Status ids: 1 In Queue, 2 Processing, 3 Accepted, 5 Time Limit Exceeded,
7/8/9/10/12 for deaths by SIGSEGV/SIGXFSZ/SIGFPE/SIGABRT/other signals,
11 NZEC (message "Exited with error status N").  language_id must be 71,
else 422 like Judge0.

Misbehaviours are selected by the API key the client sends (X-Auth-Token
or X-RapidAPI-Key), so each test picks one without a control channel:

  e401 e403 e429 e500 e503  that HTTP status on create (503: queue is full)
  hang        the submission stays "In Queue" forever
  slow        create answers after 5 s
  slowpoll    every GET answers after 5 s
  badjson     GET answers malformed JSON
  bigbody     GET answers a 9 MiB body
  ctype       GET answers 200 text/html
  ctypepost   create answers 201 text/html
  badfields   GET answers a submission with wrong types
  badb64      GET answers stdout that is not base64
  badtoken    create answers a token that is not a token
  redirect    create answers 302 to file:///etc/passwd
  lost        GET answers 404 (unknown token)
  poll429     the first two GETs of a submission answer 429
  s6 s13 s14  the submission ends with that status (not run)
  nzec        runs normally, then reports 11 NZEC with exit code 1

Every request is appended to --log-file as one JSON line {method, path,
host, headers (lower-case names), body}, so tests can check what the client
sent.  Absolute-form request targets are accepted, so the fake also works
as an HTTP proxy for made-up host names (the RapidAPI header test).

Usage: judge0_fake.py --port 0 --port-file FILE [--log-file FILE]
"""

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PYTHON = "/usr/bin/python3"
DESCRIPTIONS = {
    1: "In Queue", 2: "Processing", 3: "Accepted", 4: "Wrong Answer",
    5: "Time Limit Exceeded", 6: "Compilation Error", 7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)", 9: "Runtime Error (SIGFPE)", 10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)", 12: "Runtime Error (Other)", 13: "Internal Error",
    14: "Exec Format Error",
}
SIGNAL_STATUS = {signal.SIGSEGV: 7, signal.SIGXFSZ: 8, signal.SIGFPE: 9, signal.SIGABRT: 10}

submissions = {}
lock = threading.Lock()
log_path = None


def mime64(data):
    """Ruby's Base64.encode64: 60 characters a line, each ending in \\n."""
    if not data:
        return None
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


def run_submission(sub):
    """Runs the source like isolate would and fills in the outcome."""
    sub["status"] = 2
    wall = float(sub.get("wall_time_limit") or 10)
    cpu = float(sub.get("cpu_time_limit") or 5)
    with tempfile.TemporaryDirectory(prefix="judge0-fake-") as box:
        script = os.path.join(box, "script.py")
        with open(script, "wb") as f:
            f.write(sub["source"])

        def limits():
            import resource
            os.setsid()
            secs = max(1, int(cpu + 0.999))
            resource.setrlimit(resource.RLIMIT_CPU, (secs, secs + 1))

        started = time.monotonic()
        proc = subprocess.Popen([PYTHON, script], cwd=box, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
                                preexec_fn=limits)
        timed_out = False
        try:
            out, err = proc.communicate(sub["stdin"], timeout=wall)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        elapsed = time.monotonic() - started
    rc = proc.returncode
    sub.update(stdout=out, stderr=err, time="%.3f" % elapsed, wall_time="%.3f" % elapsed,
               memory=9876, exit_code=0, exit_signal=None, message=b"")
    if timed_out or rc == -signal.SIGXCPU:
        sub["status"] = 5
        sub["message"] = b"Time limit exceeded"
        sub["exit_signal"] = signal.SIGKILL if timed_out else signal.SIGXCPU
    elif rc < 0:
        sub["status"] = SIGNAL_STATUS.get(-rc, 12)
        sub["exit_signal"] = -rc
        sub["message"] = b"Caught fatal signal %d" % -rc
    elif rc > 0:
        sub["status"] = 11
        sub["exit_code"] = rc
        sub["message"] = b"Exited with error status %d" % rc
    else:
        sub["status"] = 3


def process(sub):
    time.sleep(0.05)  # a moment "In Queue", as a real queue would be
    mode = sub["mode"]
    if mode == "hang":
        return
    if mode == "s6":
        sub.update(status=6, compile_output=b"  File \"script.py\", line 1\nSyntaxError: nope\n")
    elif mode in ("s13", "s14"):
        sub.update(status=int(mode[1:]),
                   message=b"No such file or directory @ rb_sysopen - /box/script.py")
    else:
        try:
            run_submission(sub)
        except Exception as exc:  # a fake's own failure is Judge0's Internal Error
            sub.update(status=13, message=repr(exc).encode())
        if mode == "nzec":
            sub.update(status=11, exit_code=1, message=b"Exited with error status 1")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="application/json; charset=utf-8", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        if body or ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def target(self):
        parts = urllib.parse.urlsplit(self.path)
        host = parts.hostname or (self.headers.get("Host") or "").split(":")[0]
        return host, parts.path, urllib.parse.parse_qs(parts.query)

    def record(self, body):
        host, _, _ = self.target()
        entry = {"method": self.command, "path": urllib.parse.urlsplit(self.path)._replace(
            scheme="", netloc="").geturl(), "host": host,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace")}
        if log_path:
            with lock, open(log_path, "a") as f:
                f.write(json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n")

    def mode(self):
        return self.headers.get("X-Auth-Token") or self.headers.get("X-RapidAPI-Key") or "ok"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.record(body)
        _, path, query = self.target()
        mode = self.mode()
        if path != "/submissions":
            return self.reply(404, {"error": "not found"})
        if mode in ("e401", "e403"):
            return self.reply(int(mode[1:]), b"", ctype=None)
        if mode == "e429":
            return self.reply(429, {"message": "You have exceeded the rate limit per minute"})
        if mode == "e500":
            return self.reply(500, b"<html>oops</html>", ctype="text/html")
        if mode == "e503":
            return self.reply(503, {"error": "queue is full"})
        if mode == "slow":
            time.sleep(5)
        if mode == "redirect":
            return self.reply(302, b"", headers={"Location": "file:///etc/passwd"})
        try:
            req = json.loads(body)
        except ValueError:
            return self.reply(400, b"", ctype=None)
        if req.get("language_id") != 71:
            return self.reply(422, {"language_id": [
                "language with id %s doesn't exist" % req.get("language_id")]})
        b64 = query.get("base64_encoded") == ["true"]
        decode = base64.b64decode if b64 else (lambda s: s.encode())
        token = str(uuid.uuid4())
        if mode == "badtoken":
            token = "../../etc/passwd"
        if mode == "ctypepost":
            return self.reply(201, b"<html>created</html>", ctype="text/html")
        sub = {"token": token, "mode": mode, "status": 1, "polls": 0,
               "source": decode(req.get("source_code") or ""),
               "stdin": decode(req.get("stdin") or ""),
               "wall_time_limit": req.get("wall_time_limit"),
               "cpu_time_limit": req.get("cpu_time_limit"),
               "memory_limit": req.get("memory_limit")}
        with lock:
            submissions[token] = sub
        threading.Thread(target=process, args=(sub,), daemon=True).start()
        self.reply(201, {"token": token})

    def do_GET(self):
        self.record(b"")
        _, path, query = self.target()
        mode = self.mode()
        if path == "/about":
            return self.reply(200, {"version": "1.13.1"})
        if not path.startswith("/submissions/"):
            return self.reply(404, {"error": "not found"})
        sub = submissions.get(path[len("/submissions/"):])
        if sub is None or mode == "lost":
            return self.reply(404, {"error": "submission not found"})
        sub["polls"] += 1
        if mode == "slowpoll":
            time.sleep(5)
        if mode == "poll429" and sub["polls"] <= 2:
            return self.reply(429, {"message": "Too many requests"})
        if mode == "badjson":
            return self.reply(200, b'{"status": {"id": 3, "description": "Accepted"}, "stdout": ')
        if mode == "bigbody":
            return self.reply(200, b'{"stdout":"' + b"QUFB" * (9 * 1024 * 1024 // 4) + b'"}')
        if mode == "ctype":
            return self.reply(200, b"<html><body>Judge0</body></html>", ctype="text/html")
        if mode == "badfields":
            return self.reply(200, {"status": "Accepted", "time": [1], "token": sub["token"]})
        if mode == "badb64":
            return self.reply(200, {"status": {"id": 3, "description": "Accepted"},
                                    "stdout": "not base64!", "token": sub["token"]})
        b64 = query.get("base64_encoded") == ["true"]

        def text(v):
            if not v:
                return None
            return mime64(v) if b64 else v.decode("utf-8")

        st = sub["status"]
        done = st > 2
        out = {"token": sub["token"],
               "status": {"id": st, "description": DESCRIPTIONS[st]},
               "stdout": text(sub.get("stdout")) if done else None,
               "stderr": text(sub.get("stderr")) if done else None,
               "compile_output": text(sub.get("compile_output")) if done else None,
               "message": text(sub.get("message")) if done else None,
               "time": sub.get("time") if done else None,
               "wall_time": sub.get("wall_time") if done else None,
               "memory": sub.get("memory") if done else None,
               "exit_code": sub.get("exit_code") if done else None,
               "exit_signal": sub.get("exit_signal") if done else None}
        fields = (query.get("fields") or [""])[0]
        if fields and fields != "*":
            out = {k: v for k, v in out.items() if k in fields.split(",")}
        self.reply(200, out)


def main():
    global log_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log-file")
    args = ap.parse_args()
    log_path = args.log_file
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    else:
        print(port, flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        server.serve_forever()
    except SystemExit:
        pass


if __name__ == "__main__":
    main()
