// Stop: SIGINT through the shared interrupt buffer for code that checks for
// signals, terminate-and-respawn for code that does not (time.sleep).
import assert from "node:assert/strict";
import { test } from "node:test";
import { newPage, openSandbox, runCode, shown, useService, waitReady } from "./lib.mjs";

const fx = useService();

// Starts code, waits until it is really running, clicks Stop, and returns
// the milliseconds from the click to the stopped run's output in the DOM
// (measured in the page, so Playwright's round trips do not count).
async function runAndStop(page, code, printed) {
  await page.fill("#code", code);
  const before = Number(await page.getAttribute("html", "data-runs")) || 0;
  await page.click("#run");
  // Let the program get going: the router sent it to this browser, the
  // worker has received it, its first line printed (live output), and some
  // time has passed in Python (the loop or the sleep has begun).
  await page.waitForFunction((line) => !document.getElementById("stop").disabled &&
                             document.documentElement.dataset.runPhase === "local" &&
                             document.getElementById("stdout").textContent.includes(line),
                             printed);
  await page.waitForTimeout(300);
  const elapsed = await page.evaluate((n) => new Promise((resolve) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (Number(document.documentElement.dataset.runs || 0) > n) {
        obs.disconnect();
        resolve(performance.now() - t0);
      }
    });
    obs.observe(document.documentElement, { attributes: true });
    document.getElementById("stop").click();
  }), before);
  return { elapsed, out: await shown(page) };
}

test("the page is cross-origin isolated, so Stop can interrupt", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), "function");
  } finally {
    await page.context().close();
  }
});

// The elapsed times are printed, not held to a figure (a loaded host
// schedules the worker late); the bound only says Stop worked at all.
const STOPPED_LONG_BEFORE_MS = 10000;

test("Stop ends `while True: pass` without a restart", async (t) => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    await runCode(page, "x = 1"); // warm up
    const { elapsed, out } = await runAndStop(page, "print('started')\nwhile True:\n    pass\n",
                                             "started");
    t.diagnostic(`Stop took ${elapsed.toFixed(0)} ms`);
    assert.ok(elapsed < STOPPED_LONG_BEFORE_MS, `Stop took ${elapsed.toFixed(0)} ms`);
    assert.equal(out.lastStatus, "killed");
    assert.equal(out.stdout, "started\n");
    assert.match(out.error, /KeyboardInterrupt/);
    assert.doesNotMatch(out.notice, /restarted/);
    // The same runtime runs the next program, and a stale interrupt does
    // not leak into it.
    const next = await runCode(page, "import time\ntime.sleep(0.05)\nprint('next')");
    assert.equal(next.stdout, "next\n");
    assert.equal(next.lastStatus, "ok");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("Stop ends time.sleep(30) by restarting the runtime", async (t) => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    const { elapsed, out } = await runAndStop(page, "import time\nprint('sleeping')\ntime.sleep(30)\n",
                                             "sleeping");
    t.diagnostic(`Stop took ${elapsed.toFixed(0)} ms`);
    assert.ok(elapsed < STOPPED_LONG_BEFORE_MS, `Stop took ${elapsed.toFixed(0)} ms`);
    assert.equal(out.lastStatus, "killed");
    assert.match(out.notice, /runtime was restarted/);
    // A new worker loads, and the page works as before.
    await waitReady(page);
    assert.match(await page.textContent("#notice"), /restarted/);
    const next = await runCode(page, "print(sum(range(10)))");
    assert.equal(next.stdout, "45\n");
    assert.equal(next.lastStatus, "ok");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
