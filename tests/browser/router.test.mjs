// The sandbox page asks the router before each Run: code the browser can run
// stays here (and is reported), code that needs the server's packages runs
// there; an unreachable router leaves the run in the browser.  Also the
// router's hand-off links for API callers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SANDBOX_PATH, newPage, openSandbox, runCode, shown, useService, waitReady } from "./lib.mjs";

const fx = useService();

const RUN = "/api/insights/python-execution";

async function api(path, body) {
  const resp = await fetch(`${fx.url}${path}`, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: resp.status, json: JSON.parse(await resp.text()) };
}

async function engineCount(engine) {
  return (await api(`${RUN}?window=1h`)).json.engines[engine].count;
}

// Polls the statistics until the engine's count reaches n (reports are sent
// after the result is drawn, without holding the page up).
async function countReaches(engine, n, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let count = await engineCount(engine);
  while (count < n && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = await engineCount(engine);
  }
  return count;
}

// The bodies the page posts to the router.
function routerRequests(page) {
  const seen = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === RUN) seen.push(r.postDataJSON());
  });
  return seen;
}

async function engineShown(page) {
  return page.evaluate(() => ({ label: document.getElementById("engine").textContent,
                                engine: document.documentElement.dataset.lastEngine }));
}

test("pandas code runs on the server, stdlib code here, and browser runs are reported",
  async () => {
    const page = await newPage(fx.browser);
    const asked = routerRequests(page);
    try {
      const data = [{ a: 1 }, { a: 2.5 }];
      await openSandbox(page, fx.url, { body: { code: "print(1)", data } });
      await waitReady(page);
      const browserBefore = await engineCount("browser");
      const nativeBefore = await engineCount("native");

      const server = await runCode(page, "import sys\nimport pandas as pd\n" +
                                         "print(sys.platform, pd.DataFrame(data)['a'].sum())");
      assert.equal(server.error, "");
      assert.equal(server.stdout, "linux 3.5\n");
      assert.deepEqual(await engineShown(page), { label: "Engine: native", engine: "native" });
      assert.match(server.status, /^Finished on the server \(native\)$/);
      assert.equal(await countReaches("native", nativeBefore + 1), nativeBefore + 1);

      const local = await runCode(page, "import sys, json\nprint(sys.platform, sum(r['a'] for r in data))");
      assert.equal(local.stdout, "emscripten 3.5\n");
      assert.deepEqual(await engineShown(page), { label: "Engine: browser", engine: "browser" });
      assert.equal(local.status, "Finished");
      // The page reported its own run; the server run was recorded by the server.
      assert.equal(await countReaches("browser", browserBefore + 1), browserBefore + 1);
      assert.equal(await engineCount("native"), nativeBefore + 1);

      // Both runs asked the router as the page, with the page's data, for
      // the browser only (a server run then goes to the page's sandbox).
      assert.equal(asked.length, 2);
      for (const body of asked) {
        assert.equal(body.client, "page");
        assert.deepEqual(body.data, data);
        assert.deepEqual(body.requirements, { preferredEngine: "browser", fallbackAllowed: false });
      }
      assert.deepEqual(page.pageErrors, []);
    } finally {
      await page.context().close();
    }
  });

test("a failing browser run is reported with its status and error", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    const before = await engineCount("browser");
    const out = await runCode(page, "raise RuntimeError('reported <b>')");
    assert.equal(out.lastStatus, "error");
    assert.equal(await countReaches("browser", before + 1), before + 1);
    const stats = (await api(`${RUN}?window=1h`)).json.engines.browser;
    assert.ok(stats.successRate < 1, JSON.stringify(stats));
    // The user's exception is a result, not the engine's failure.
    assert.doesNotMatch(String(stats.lastError), /reported/);
    assert.equal(stats.engineFailureRate, 0);
  } finally {
    await page.context().close();
  }
});

test("when the router cannot be reached the run stays in the browser and says so", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    // A dropped connection...
    await page.route(`${fx.url}${RUN}`, (route) => route.abort("connectionrefused"));
    const dropped = await runCode(page, "import sys\nprint(sys.platform)");
    assert.equal(dropped.stdout, "emscripten\n");
    assert.match(dropped.notice, /^The router could not be reached \(.+\), so this ran in the browser\.$/);
    assert.equal((await engineShown(page)).engine, "browser");
    await page.unroute(`${fx.url}${RUN}`);
    // ... and nginx's answer when the service is down.
    await page.route(`${fx.url}${RUN}`, (route) => route.fulfill({
      status: 503, contentType: "application/json",
      body: '{"error":{"code":"service_unavailable","message":"the pysandbox service is not answering; retry shortly"}}',
    }));
    const down = await runCode(page, "print('still here')");
    assert.equal(down.stdout, "still here\n");
    assert.match(down.notice, /the service is not answering/);
    await page.unroute(`${fx.url}${RUN}`);
    // With the router back, no notice.
    const back = await runCode(page, "print('back')");
    assert.equal(back.notice, "");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("Stop during a server run ends it", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    await page.fill("#code", "import time\nimport numpy\nprint('start', flush=True)\ntime.sleep(20)");
    const before = Number(await page.getAttribute("html", "data-runs")) || 0;
    const sent = page.waitForRequest((r) => r.method() === "POST" &&
                                            new URL(r.url()).pathname === RUN);
    await page.click("#run");
    await sent;
    assert.equal(await page.isEnabled("#stop"), true);
    await page.click("#stop");
    await page.waitForFunction((n) => Number(document.documentElement.dataset.runs) > n, before,
                               { timeout: 10000 });
    assert.equal(await page.getAttribute("html", "data-last-status"), "killed");
    assert.equal(await page.isEnabled("#run"), true);
    // The page goes on working.
    assert.equal((await runCode(page, "print(6 * 7)")).stdout, "42\n");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

// Holds every request for Pyodide's wasm until release() is called, so the
// page stays "loading" for as long as a test needs.
async function holdWasm(page) {
  const held = [];
  let released = false;
  await page.context().route("**/pyodide.asm.wasm", (route) => {
    if (released) route.continue();
    else held.push(route);
  });
  const waitHeld = async () => {
    const deadline = Date.now() + 30000;
    while (held.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(held.length > 0, "the page never asked for the wasm");
  };
  return {
    waitHeld,
    release: async () => {
      released = true;
      for (const route of held.splice(0)) await route.continue();
    },
  };
}

test("Run works while Python loads: server code runs at once, browser code waits for Python",
  async () => {
    const page = await newPage(fx.browser);
    try {
      const wasm = await holdWasm(page);
      await openSandbox(page, fx.url, { body: { code: "", data: [{ a: 2 }, { a: 5 }] } });
      await wasm.waitHeld();
      assert.equal(await page.getAttribute("#status", "data-state"), "loading");
      assert.equal(await page.isEnabled("#run"), true);

      const server = await runCode(page, "import pandas as pd\nprint(pd.DataFrame(data)['a'].sum())");
      assert.equal(server.stdout, "7\n");
      assert.equal((await engineShown(page)).engine, "native");
      // Still loading: the status line must not claim Python is ready.
      assert.equal(await page.getAttribute("#status", "data-state"), "loading");
      assert.match(server.status, /^Finished on the server \(native\); Python is still loading/);

      // Stdlib code goes to this browser and waits there for Python.
      const before = Number(await page.getAttribute("html", "data-runs"));
      await page.fill("#code", "import sys\nprint(sys.platform, len(data))");
      await page.click("#run");
      await page.waitForFunction(() => document.documentElement.dataset.runPhase === "waiting");
      await wasm.release();
      await page.waitForFunction((n) => Number(document.documentElement.dataset.runs) > n, before,
                                 { timeout: 60000 });
      const local = await shown(page);
      assert.equal(local.stdout, "emscripten 2\n");
      assert.equal((await engineShown(page)).engine, "browser");
      await waitReady(page);
      assert.deepEqual(page.pageErrors, []);
    } finally {
      await page.context().close();
    }
  });

test("?pysb-router=off keeps every run in the browser", async () => {
  const page = await newPage(fx.browser);
  const asked = routerRequests(page);
  try {
    const wasm = await holdWasm(page);
    await openSandbox(page, fx.url, { path: `${SANDBOX_PATH}?pysb-router=off` });
    await wasm.waitHeld();
    // Nothing but this browser can run it, so Run waits for Python.
    assert.equal(await page.isEnabled("#run"), false);
    await wasm.release();
    await waitReady(page);
    const out = await runCode(page, "import numpy");
    assert.match(out.notice, /^numpy is not available in the browser engine/);
    assert.equal((await engineShown(page)).engine, "browser");
    assert.equal(asked.length, 0);
  } finally {
    await page.context().close();
  }
});

test("an API caller's sandbox link opens the page with code and data ready", async () => {
  const code = "import sys\nprint(sys.platform, sum(r['qty'] for r in data), data[1]['qty'])";
  const dataJson = '[{"qty": 2}, {"qty": 1.0}]'; // 1.0 must stay a float
  const resp = await fetch(`${fx.url}${RUN}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: `{"code": ${JSON.stringify(code)}, "data": ${dataJson}, ` +
          '"requirements": {"preferredEngine": "browser"}}',
  });
  assert.equal(resp.status, 200);
  const answer = await resp.json();
  assert.equal(answer.status, "handoff");
  assert.equal(answer.engine, "browser");
  assert.match(answer.sandboxUrl, new RegExp(`^${fx.url}${SANDBOX_PATH}\\?run=[0-9a-f]{32}$`));

  const page = await newPage(fx.browser);
  try {
    await page.goto(answer.sandboxUrl);
    await waitReady(page);
    assert.equal(await page.inputValue("#code"), code);
    assert.equal(await page.textContent("#data-info"), `data: ${dataJson.length} characters of JSON`);
    await page.click("#run");
    await page.waitForFunction(() => document.documentElement.dataset.runs === "1");
    assert.equal(await page.textContent("#stdout"), "emscripten 3.0 1.0\n");
    assert.equal((await engineShown(page)).engine, "browser");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
  // An unknown or expired token is a 404, not an empty page.
  const missing = await fetch(`${fx.url}${SANDBOX_PATH}?run=${"0".repeat(32)}`);
  assert.equal(missing.status, 404);
});
