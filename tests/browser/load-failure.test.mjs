// A runtime that cannot load is reported in words, with a Retry button,
// never as an endless spinner.  This instance gives Pyodide 10 s to load:
// short enough for a test, long enough for a real (cold) load on a busy
// 2-core machine after Retry.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newPage, openSandbox, runCode, useService, waitReady } from "./lib.mjs";

const fx = useService({ PYSANDBOX_PYODIDE_LOAD_TIMEOUT: "10" });

async function waitFailed(page) {
  try {
    await page.waitForFunction(() => document.getElementById("status").dataset.state === "failed",
                               null, { timeout: 30000 });
  } catch (err) {
    const state = await page.evaluate(() => [document.getElementById("status").dataset.state,
                                             document.getElementById("status-text").textContent])
      .catch((e) => String(e));
    throw new Error(`the page did not report a failure; status: ${JSON.stringify(state)}`);
  }
  return page.evaluate(() => ({
    status: document.getElementById("status-text").textContent,
    notice: document.getElementById("notice").hidden ? "" : document.getElementById("notice").textContent,
    retry: !document.getElementById("retry").hidden,
    progress: !document.getElementById("load-progress").hidden,
    runDisabled: document.getElementById("run").disabled,
  }));
}

test("a blocked wasm download ends in the watchdog's message, and Retry recovers", async () => {
  const page = await newPage(fx.browser);
  const context = page.context();
  try {
    // Context routes also see the worker's requests.
    await context.route("**/pyodide.asm.wasm", (route) => route.abort("blockedbyclient"));
    await openSandbox(page, fx.url);
    const failed = await waitFailed(page);
    assert.match(failed.status, /Python did not finish loading within 10 s/);
    assert.match(failed.status, /stuck at: Starting Python/);
    assert.equal(failed.retry, true);
    assert.equal(failed.progress, false);
    assert.match(failed.notice, /did not finish loading/);
    // Python cannot run here, but the server can: Run stays available and
    // what the router hands to this browser goes on to the server.
    assert.equal(failed.runDisabled, false);
    const server = await runCode(page, "import sys\nprint(sys.platform)");
    assert.equal(server.stdout, "linux\n");
    assert.equal(await page.getAttribute("html", "data-last-engine"), "native");
    assert.match(server.notice, /Python could not be loaded in this browser, so this ran on the server/);

    await context.unroute("**/pyodide.asm.wasm");
    await page.click("#retry");
    await waitReady(page);
    assert.equal(await page.isHidden("#retry"), true);
    assert.equal((await runCode(page, "print('recovered')")).stdout, "recovered\n");
  } finally {
    await context.close();
  }
});

test("a missing pyodide.js is reported at once, not after the timeout", async () => {
  const page = await newPage(fx.browser);
  const context = page.context();
  try {
    // The page as the service renders it, but pointing at a runtime folder
    // nginx does not have: importScripts gets a real 404.
    const url = `${fx.url}/api/insights/python-sandbox`;
    let rewritten = false;
    await page.route(url, async (route) => {
      const resp = await route.fetch();
      const html = await resp.text();
      const body = html.replace('"pyodideUrl":"/pyodide/0.29.5/"',
                                '"pyodideUrl":"/pyodide/0.0.0-missing/"');
      rewritten = body !== html;
      await route.fulfill({ response: resp, body });
    });
    await page.goto(url);
    assert.equal(rewritten, true);
    const failed = await waitFailed(page);
    assert.match(failed.status, /Python could not be loaded \(runtime\)/);
    assert.match(failed.status, /0\.0\.0-missing\/pyodide\.js/);
    // The worker's own report, not the watchdog's.
    assert.doesNotMatch(failed.status, /did not finish loading/);
    assert.equal(failed.retry, true);
  } finally {
    await context.close();
  }
});

test("a worker script that fails to load is reported", async () => {
  const page = await newPage(fx.browser);
  const context = page.context();
  try {
    await context.route("**/static/worker.js", (route) => route.fulfill({
      status: 200, contentType: "text/javascript",
      headers: { "Cross-Origin-Embedder-Policy": "require-corp" },
      body: "throw new Error('broken worker');",
    }));
    await openSandbox(page, fx.url);
    const failed = await waitFailed(page);
    assert.match(failed.status, /The Python worker crashed while loading/);
    assert.match(failed.status, /broken worker/);
    assert.equal(failed.retry, true);
  } finally {
    await context.close();
  }
});
