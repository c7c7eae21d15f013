// A browser run that fails because a package cannot be loaded offers the
// server run, or does it when the user allowed that.  The service here
// points the browser at a package origin (PYSANDBOX_PYODIDE_PACKAGE_URL)
// that has no files at all: the router, which trusts a remote package source
// to hold every lockfile package, hands numpy code to the browser, and the
// browser then fails to load numpy, as with a broken mirror.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  freePort, newPage, openSandbox, runCode, startStaticServer, useService, waitReady,
} from "./lib.mjs";

const RUN = "/api/insights/python-execution";
const NUMPY_CODE = "import numpy as np\nprint(int(np.arange(4).sum()), sum(r['x'] for r in data))";
const DATA = [{ x: 1 }, { x: 2 }];

let mirror = null;
const mirrorRequests = [];
const fx = useService(async () => {
  const port = await freePort();
  mirror = await startStaticServer((req) => {
    mirrorRequests.push(req.url);
    return { status: 404, headers: { "Access-Control-Allow-Origin": "*" }, body: "" };
  }, port);
  return { PYSANDBOX_PYODIDE_PACKAGE_URL: `http://127.0.0.1:${port}/pkgs/` };
});
after(async () => {
  if (mirror) await mirror.close();
});

async function stats() {
  const resp = await fetch(`${fx.url}${RUN}?window=1h`);
  return (await resp.json()).engines;
}

function routerRequests(page) {
  const seen = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === RUN) seen.push(r.postDataJSON());
  });
  return seen;
}

// The page asks the router for the browser only; a server run goes to the
// page's own sandbox (POST /sandbox/{id}/execute).
const BROWSER_ONLY = { preferredEngine: "browser", fallbackAllowed: false };

function sandboxRuns(page) {
  const seen = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && /^\/sandbox\/[0-9a-f]{32}\/execute$/.test(new URL(r.url()).pathname)) {
      seen.push(r.postDataJSON());
    }
  });
  return seen;
}

async function shownEngine(page) {
  return page.evaluate(() => ({ label: document.getElementById("engine").textContent,
                                offer: !document.getElementById("server-offer").hidden }));
}

test("a package the browser cannot load: the page offers the server run", async () => {
  const page = await newPage(fx.browser);
  const asked = routerRequests(page);
  const executed = sandboxRuns(page);
  try {
    await openSandbox(page, fx.url, { body: { code: NUMPY_CODE, data: DATA } });
    await waitReady(page);
    assert.equal(await page.isChecked("#auto-server"), false);
    const before = (await stats()).browser.count;

    const local = await runCode(page, NUMPY_CODE);
    assert.ok(mirrorRequests.some((u) => /^\/pkgs\/numpy-.*\.whl$/.test(u)), mirrorRequests.join());
    assert.equal(local.lastStatus, "error");
    assert.match(local.notice, /^numpy is not available in the browser engine/);
    assert.deepEqual(await shownEngine(page), { label: "Engine: browser", offer: true });
    assert.deepEqual(asked.map((b) => b.requirements), [BROWSER_ONLY]);

    await page.click("#run-server");
    await page.waitForFunction(() => document.documentElement.dataset.runs === "2");
    const server = await page.evaluate(() => ({
      stdout: document.getElementById("stdout").textContent,
      notice: document.getElementById("notice").textContent,
    }));
    assert.equal(server.stdout, "6 3\n");
    assert.equal(server.notice, "numpy is not available in the browser engine, so this ran on the server.");
    assert.deepEqual(await shownEngine(page), { label: "Engine: native", offer: false });
    // The rerun went to the page's server sandbox, with the same code and data.
    assert.equal(asked.length, 1);
    assert.equal(executed.length, 1);
    assert.equal(executed[0].code, NUMPY_CODE);
    assert.deepEqual(executed[0].data, DATA);

    // The failed browser attempt was reported, with what it lacked.
    const deadline = Date.now() + 10000;
    let browser = await stats().then((e) => e.browser);
    while (browser.count < before + 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      browser = (await stats()).browser;
    }
    assert.equal(browser.count, before + 1);
    assert.equal(browser.lastError, "missing packages: numpy");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("with the setting on, such runs go to the server by themselves", async () => {
  const page = await newPage(fx.browser);
  const asked = routerRequests(page);
  const executed = sandboxRuns(page);
  try {
    await openSandbox(page, fx.url, { body: { code: NUMPY_CODE, data: DATA } });
    await waitReady(page);
    await page.check("#auto-server");
    // Remembered across loads (localStorage).
    await openSandbox(page, fx.url, { body: { code: NUMPY_CODE, data: DATA } });
    await waitReady(page);
    assert.equal(await page.isChecked("#auto-server"), true);

    const out = await runCode(page, NUMPY_CODE);
    // One run, one result: the server's.
    assert.equal(await page.getAttribute("html", "data-runs"), "1");
    assert.equal(out.stdout, "6 3\n");
    assert.equal(out.lastStatus, "ok");
    assert.equal(out.notice, "numpy is not available in the browser engine, so this ran on the server.");
    assert.deepEqual(await shownEngine(page), { label: "Engine: native", offer: false });
    assert.deepEqual(asked.map((b) => b.requirements), [BROWSER_ONLY]);
    assert.equal(executed.length, 1);

    // Code the browser can run still runs here.
    assert.equal((await runCode(page, "import sys\nprint(sys.platform)")).stdout, "emscripten\n");
    assert.equal((await shownEngine(page)).label, "Engine: browser");

    // Turned off, the offer comes back instead.
    await page.uncheck("#auto-server");
    const offered = await runCode(page, NUMPY_CODE);
    assert.equal(offered.lastStatus, "error");
    assert.deepEqual(await shownEngine(page), { label: "Engine: browser", offer: true });
    assert.equal(await page.evaluate(() => localStorage.getItem("pysandbox.autoServerRun")), null);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("no offer when the router refused the code for every engine", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { body: { code: NUMPY_CODE, data: DATA } });
    await waitReady(page);
    // A router whose server engines all lack numpy: it refuses the code, the
    // browser tries (its lockfile has numpy) and fails; the server would
    // refuse again, so nothing is offered.
    await page.route(`${fx.url}${RUN}`, (route) => route.fulfill({
      status: 422, contentType: "application/json",
      body: JSON.stringify({ error: { code: "refused", message: "no engine can run this",
                                      engines: { native: "the code imports 'numpy'" } } }),
    }));
    const out = await runCode(page, NUMPY_CODE);
    assert.equal(out.lastStatus, "error");
    assert.match(out.notice, /^numpy is not available in the browser engine/);
    assert.deepEqual(await shownEngine(page), { label: "Engine: browser", offer: false });
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
