// Debug helpers in the browser engine: the page's worker runs the same
// harness, so debug(), inspect_var() and get_debug_info() work there and the
// worker's result carries debug_info.  (The native engine's side, step
// tracing included, is tests/http/test_debug.py; tracing is native-only.)
// The page shows no debug_info yet, so the test records the result objects
// the worker posts to the page, before the page's own handler sees them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SANDBOX_PATH, newPage, openSandbox, runCode, useService, waitReady } from "./lib.mjs";

const fx = useService();
// The browser engine only: no router asking the server.
const LOCAL = `${SANDBOX_PATH}?pysb-router=off`;

// Wraps Worker so every {type: "result"} message is kept in window.__results.
function recordWorkerResults() {
  const Original = window.Worker;
  window.__results = [];
  window.Worker = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (e.data && e.data.type === "result") window.__results.push(e.data.result);
      });
    }
  };
}

test("debug() and inspect_var() in the page's worker give the result debug_info", async () => {
  const page = await newPage(fx.browser);
  try {
    await page.addInitScript(recordWorkerResults);
    await openSandbox(page, fx.url, { path: LOCAL });
    await waitReady(page);
    const out = await runCode(page, [
      "xs = [1, 2, 3]",
      "debug('starting')",
      "inspect_var('xs', xs)",
      "class Bad:",
      "    def __repr__(self): raise RuntimeError",
      "inspect_var('bad', Bad())",
      "debug('careful', level='WARNING')",
      "__result__ = len(get_debug_info()['logs'])",
      "print('done')",
    ].join("\n"));
    assert.equal(out.lastStatus, "ok");
    assert.equal(out.stdout, "done\n");
    const results = await page.evaluate(() => window.__results);
    const r = results[results.length - 1];
    assert.equal(r.engine, "browser");
    assert.deepEqual(r.debug_info.logs.map((e) => [e.level, e.message, e.line]),
                     [["INFO", "starting", 2], ["WARNING", "careful", 7]]);
    assert.ok(r.debug_info.logs.every((e) => e.t >= 0));
    assert.deepEqual(r.debug_info.variables.xs, { type: "list", repr: "[1, 2, 3]", size: 3 });
    assert.equal(r.debug_info.variables.bad.repr, "<unrepresentable Bad: RuntimeError>");
    assert.equal(r.debug_info.logs_truncated, false);
    assert.equal(r.result, 2);
    assert.equal("steps" in r, false);

    // A bad level is a ValueError; a run without the helpers has no debug_info.
    const bad = await runCode(page, "debug('x', level='LOUD')");
    assert.equal(bad.lastStatus, "error");
    assert.match(bad.error, /ValueError: debug\(\) level must be one of DEBUG, INFO, WARNING, ERROR/);
    assert.match(bad.error, /File "<sandbox>", line 1, in <module>/);
    assert.doesNotMatch(bad.error, /harness/);
    await runCode(page, "print(1)");
    const plain = (await page.evaluate(() => window.__results)).at(-1);
    assert.equal(plain.status, "ok");
    assert.equal("debug_info" in plain, false);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
