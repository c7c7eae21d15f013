// Top-level await in the browser engine: the worker awaits the harness's
// run_json_async, which awaits the user's coroutine on Pyodide's event loop.
// (The native engine's side is tests/http/test_await.py.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { SANDBOX_PATH, newPage, openSandbox, runCode, shown, useService, waitReady }
  from "./lib.mjs";

const fx = useService();
// The browser engine only: no router asking the server.
const LOCAL = `${SANDBOX_PATH}?pysb-router=off`;

test("code that awaits at the top level runs in the browser", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { path: LOCAL });
    await waitReady(page);
    const out = await runCode(page, [
      "import asyncio, sys, time",
      "await asyncio.sleep(0.01)",
      "x = await asyncio.sleep(0, result=5)",
      "print(x, sys.platform)",
      "t0 = time.monotonic()",
      "await asyncio.sleep(0.2)  # a real wait on the webloop (setTimeout)",
      "print('waited', time.monotonic() - t0 >= 0.15)",
      "async def numbers(n):",
      "    for i in range(n):",
      "        await asyncio.sleep(0)",
      "        yield i",
      "class Resource:",
      "    async def __aenter__(self):",
      "        print('open')",
      "        return 'r'",
      "    async def __aexit__(self, *exc):",
      "        print('close')",
      "async for i in numbers(2):",
      "    print(i)",
      "async with Resource() as res:",
      "    print(res)",
      "async def double(v):",
      "    await asyncio.sleep(0)",
      "    return 2 * v",
      "__result__ = await asyncio.gather(*(double(v) for v in [1, 2, 3]))",
    ].join("\n"));
    assert.equal(out.error, "");
    assert.equal(out.lastStatus, "ok");
    assert.equal(out.stdout, "5 emscripten\nwaited True\n0\n1\nopen\nr\nclose\n");
    assert.deepEqual(JSON.parse(out.result), [2, 4, 6]);
    // Plain code runs as before, and sees what the awaiting run bound (the
    // page keeps its state from one Run to the next).
    const plain = await runCode(page, "print(x, sum(range(10)))");
    assert.equal(plain.stdout, "5 45\n");
    assert.equal(plain.lastStatus, "ok");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("an error after an await shows the user's line; await in a def is a SyntaxError",
     async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { path: LOCAL });
    await waitReady(page);
    const out = await runCode(page, [
      "import asyncio",
      "async def fetch(n):",
      "    await asyncio.sleep(0)",
      "    return 10 / n",
      "print('before')",
      "await fetch(0)",
    ].join("\n"));
    assert.equal(out.stdout, "before\n");
    assert.equal(out.lastStatus, "error");
    assert.match(out.error, /Traceback \(most recent call last\):/);
    assert.match(out.error, /File "<sandbox>", line 6, in <module>/);
    assert.match(out.error, /File "<sandbox>", line 4, in fetch/);
    assert.match(out.error, /ZeroDivisionError: division by zero/);
    assert.doesNotMatch(out.error, /pysandbox_harness|asyncio/);
    assert.match(out.status, /line 4/);

    const syntax = await runCode(page, "import asyncio\ndef f():\n    await asyncio.sleep(0)\n");
    assert.equal(syntax.lastStatus, "error");
    assert.match(syntax.error, /SyntaxError: 'await' outside async function/);
    assert.match(syntax.error, /line 3/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("Stop interrupts a busy loop after an await, without a restart", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { path: LOCAL });
    await waitReady(page);
    const before = Number(await page.getAttribute("html", "data-runs")) || 0;
    await page.fill("#code", "import asyncio\nawait asyncio.sleep(0.05)\nprint('started')\n" +
                             "while True:\n    pass\n");
    await page.click("#run");
    await page.waitForFunction(() => !document.getElementById("stop").disabled &&
                               document.documentElement.dataset.runPhase === "local" &&
                               document.getElementById("stdout").textContent.includes("started"));
    await page.waitForTimeout(400);
    await page.click("#stop");
    await page.waitForFunction((n) => Number(document.documentElement.dataset.runs || 0) > n,
                               before, { timeout: 10000 });
    const out = await shown(page);
    assert.equal(out.lastStatus, "killed");
    assert.equal(out.stdout, "started\n");
    assert.match(out.error, /KeyboardInterrupt/);
    assert.doesNotMatch(out.notice, /restarted/);
    // The same runtime (and its event loop) runs the next program.
    const next = await runCode(page,
                               "import asyncio\nprint(await asyncio.sleep(0, result='next'))");
    assert.equal(next.stdout, "next\n");
    assert.equal(next.lastStatus, "ok");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
