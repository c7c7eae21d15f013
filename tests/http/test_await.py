"""Top-level await in user code, through the native engine (real nginx,
FastCGI, executor and jailed CPython): the harness compiles with
PyCF_ALLOW_TOP_LEVEL_AWAIT and drives the coroutine on its process's event
loop.  The browser engine's side is in tests/browser/await.test.mjs."""

import base64
import json
import unittest

from tests.http.service import Service

svc = None


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


class TopLevelAwaitTests(unittest.TestCase):
    def run_ok(self, code):
        status, r = svc.execute(code)
        self.assertEqual(status, 200, r)
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(r["engine"], "native")
        return r

    def test_await_at_the_top_level(self):
        r = self.run_ok("import asyncio\nawait asyncio.sleep(0.01)\n"
                        "x = await asyncio.sleep(0, result=5)\nprint(x)")
        self.assertEqual(r["output"], "5\n")
        self.assertIsNone(r["error"])

    def test_names_bound_after_an_await_reach_the_result(self):
        status, r = svc.execute("import asyncio\n"
                                "async def double(v):\n"
                                "    await asyncio.sleep(0)\n    return 2 * v\n"
                                "values = await asyncio.gather(*(double(v) for v in data))\n"
                                "__result__ = {'values': values}", data=[1, 2, 3])
        self.assertEqual(status, 200, r)
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(r["result"], {"values": [2, 4, 6]})

    def test_async_for_and_async_with(self):
        r = self.run_ok(
            "import asyncio\n"
            "async def numbers(n):\n"
            "    for i in range(n):\n"
            "        await asyncio.sleep(0)\n"
            "        yield i\n"
            "class Resource:\n"
            "    async def __aenter__(self):\n"
            "        print('open')\n"
            "        return 'r'\n"
            "    async def __aexit__(self, *exc):\n"
            "        print('close')\n"
            "async for i in numbers(3):\n"
            "    print(i)\n"
            "async with Resource() as res:\n"
            "    print(res)\n"
            "print([j async for j in numbers(2)])\n")
        self.assertEqual(r["output"], "0\n1\n2\nopen\nr\nclose\n[0, 1]\n")

    def test_an_error_after_an_await_names_the_users_line(self):
        status, r = svc.execute(
            "import asyncio\n"
            "async def fetch(n):\n"
            "    await asyncio.sleep(0)\n"
            "    return 10 / n\n"
            "print('before')\n"
            "await fetch(0)\n")
        self.assertEqual(status, 200)
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["output"], "before\n")
        err = r["error"]
        self.assertEqual(err["type"], "ZeroDivisionError")
        self.assertEqual(err["line"], 4)
        tb = err["traceback"]
        self.assertTrue(tb.startswith("Traceback (most recent call last):\n"), tb)
        self.assertIn('File "<sandbox>", line 6, in <module>', tb)
        self.assertIn('File "<sandbox>", line 4, in fetch', tb)
        self.assertIn("return 10 / n", tb)
        # Neither the harness nor asyncio's own frames are shown.
        self.assertNotIn("harness", tb)
        self.assertNotIn("asyncio", tb.split('File "<sandbox>"', 1)[0])

    def test_plain_code_is_unchanged(self):
        r = self.run_ok("import asyncio\n"
                        "async def main():\n    await asyncio.sleep(0)\n    return 'ran'\n"
                        "print(asyncio.run(main()))\n"
                        "__result__ = sum(range(10))")
        self.assertEqual(r["output"], "ran\n")
        self.assertEqual(r["result"], 45)

    def test_await_in_a_plain_def_is_still_a_syntax_error(self):
        status, r = svc.execute("import asyncio\ndef f():\n    await asyncio.sleep(0)\nprint(1)\n")
        self.assertEqual(status, 200)
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["output"], "")
        self.assertEqual(r["error"]["type"], "SyntaxError")
        self.assertEqual(r["error"]["line"], 3)
        self.assertIn("'await' outside async function", r["error"]["message"])

    def test_top_level_return_is_still_a_syntax_error(self):
        status, r = svc.execute("import asyncio\nawait asyncio.sleep(0)\nreturn 1\n")
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["error"]["type"], "SyntaxError")

    def test_exit_after_an_await(self):
        status, r = svc.execute("import asyncio, sys\nawait asyncio.sleep(0)\nprint('bye')\n"
                                "sys.exit(3)\n")
        self.assertEqual((r["status"], r["output"]), ("error", "bye\n"))
        self.assertEqual(r["error"]["type"], "SystemExit")
        self.assertEqual(r["error"]["message"], "exit status 3")

    def test_pending_tasks_do_not_hold_the_answer(self):
        # A stateless run's process exits after the answer: a task left
        # pending is dropped, not waited for.
        status, r = svc.execute("import asyncio\n"
                                "async def forever():\n    await asyncio.sleep(3600)\n"
                                "task = asyncio.create_task(forever())\n"
                                "await asyncio.sleep(0)\n"
                                "print(task.done())\n", wall=10)
        self.assertEqual(r["status"], "ok", r["error"])
        self.assertEqual(r["output"], "False\n")
        self.assertLess(r["metadata"]["resources"]["wallMs"], 5000)


class ProgramModeTests(unittest.TestCase):
    """The Judge0-compatible API runs the code as a plain program."""

    def test_a_submission_may_await(self):
        body = {"source_code": "import asyncio\nname = input()\n"
                               "print(await asyncio.sleep(0, result='hi ' + name))\n",
                "language_id": 71, "stdin": "ann\n"}
        status, _, raw = svc.post_json("/judge0/submissions?wait=true&fields=stdout,status,"
                                       "exit_code,stderr", body, timeout=120)
        self.assertEqual(status, 201, raw)
        sub = json.loads(raw)
        self.assertEqual(sub["status"]["id"], 3, sub)
        self.assertEqual(sub["stdout"], "hi ann\n")

    def test_an_uncaught_error_after_an_await_prints_the_users_traceback(self):
        body = {"source_code": base64.b64encode(
                    b"import asyncio\nawait asyncio.sleep(0)\nraise ValueError('no')\n").decode(),
                "language_id": 71}
        status, _, raw = svc.post_json("/judge0/submissions?base64_encoded=true&wait=true&"
                                       "fields=stderr,status,exit_code", body, timeout=120)
        self.assertEqual(status, 201, raw)
        sub = json.loads(raw)
        self.assertEqual(sub["exit_code"], 1, sub)
        stderr = base64.b64decode(sub["stderr"]).decode()
        self.assertIn('File "script.py", line 3, in <module>', stderr)
        self.assertIn("ValueError: no", stderr)


if __name__ == "__main__":
    unittest.main()
