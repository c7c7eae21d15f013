// The memory snapshot (web/worker.js): a first visit restores the one made
// at build time (tools/make-snapshot.mjs, in Chromium) and keeps it in the
// Cache API; without it (?pysb-snapshot=local) the first load saves the
// started interpreter there; later loads restore the saved one.  A restored
// runtime must behave like a freshly started one, and a bad snapshot must
// only cost speed, never correctness.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SANDBOX_PATH, newPage, openSandbox, runCode, useService, waitReady } from "./lib.mjs";

const fx = useService();

// What a program can observe about the interpreter's state.
const PROBE = [
  "import sys, os",
  "print(sorted(sys.modules))",
  "print(sys.path)",
  "print(os.environ.get('MPLBACKEND'), os.getcwd(), sorted(os.listdir('/')))",
  "def f():",
  "    raise KeyError('boom')",
  "f()",
].join("\n");

async function load(page, query = "") {
  await openSandbox(page, fx.url, { path: `${SANDBOX_PATH}${query}` });
  await waitReady(page);
  return page.getAttribute("html", "data-engine-snapshot");
}

async function snapshotSaved(page) {
  await page.waitForFunction(() => document.documentElement.dataset.snapshot !== undefined);
  return page.getAttribute("html", "data-snapshot");
}

test("a restored runtime behaves like a fresh one", async () => {
  const page = await newPage(fx.browser);
  try {
    assert.equal(await load(page, "?pysb-snapshot=off"), "off");
    const fresh = await runCode(page, PROBE);
    assert.match(fresh.error, /KeyError: 'boom'/);

    assert.equal(await load(page, "?pysb-snapshot=local"), "created");
    assert.equal(await snapshotSaved(page), "saved");
    // Without the router, which would send the numpy import below to the server.
    assert.equal(await load(page, "?pysb-router=off&pysb-snapshot=local"), "restored");
    const restored = await runCode(page, PROBE);
    assert.equal(restored.stdout, fresh.stdout);
    assert.equal(restored.error, fresh.error);
    // Package lookups work after a restore too.
    assert.match((await runCode(page, "import numpy")).notice,
                 /^numpy is not available in the browser engine/);

    // Each restored page draws its own random numbers.
    const draw = "import random, tempfile\nprint(random.random(), next(tempfile._get_candidate_names()))";
    const first = (await runCode(page, draw)).stdout;
    assert.equal(await load(page, "?pysb-snapshot=local"), "restored");
    const second = (await runCode(page, draw)).stdout;
    assert.notEqual(first, second);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a first visit restores the snapshot made at build time, and keeps it", async () => {
  const page = await newPage(fx.browser);
  const served = [];
  page.on("response", (r) => {
    if (/\/pysandbox-snapshot-[0-9a-f]{16}-\d+-jspi[01]\.bin$/.test(r.url())) served.push(r.status());
  });
  try {
    assert.equal(await load(page, "?pysb-snapshot=off&pysb-router=off"), "off");
    const fresh = await runCode(page, PROBE);
    // A new profile: nothing saved yet, so the build-time snapshot (made by
    // this worker in headless Chromium) restores, and the runtime it gives is
    // the same as a fresh one.
    assert.equal(await load(page, "?pysb-router=off"), "served");
    assert.deepEqual(served, [200]);
    const restored = await runCode(page, PROBE);
    assert.equal(restored.stdout, fresh.stdout);
    assert.equal(restored.error, fresh.error);
    assert.match((await runCode(page, "import numpy")).notice,
                 /^numpy is not available in the browser engine/);
    // What Pyodide recorded about the runtime at start-up fits this browser
    // (a heap made in Node broke time.sleep here).
    const slept = await runCode(page, "import time\ntime.sleep(0.05)\nprint('slept')");
    assert.equal(slept.stdout, "slept\n", slept.error);
    // It was saved in the Cache API: the next load reads it from there.
    assert.equal(await snapshotSaved(page), "saved");
    assert.equal(await load(page), "restored");
    assert.equal(served.length, 1);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a build-time snapshot that fails is skipped, and the page starts Python", async () => {
  const page = await newPage(fx.browser);
  const reasons = [];
  page.on("console", (m) => {
    if (m.text().includes("not using the memory snapshot (served)")) reasons.push(m.text());
  });
  try {
    // Missing (an older build) or damaged: each costs only speed.
    await page.context().route(/\/pysandbox-snapshot-[^/]*\.bin$/,
                               (route) => route.fulfill({ status: 404, body: "" }));
    assert.equal(await load(page), "created");
    assert.equal((await runCode(page, "print('ok without it')")).stdout, "ok without it\n");
    assert.equal(await snapshotSaved(page), "saved");
    await page.evaluate(() => caches.delete("pysandbox-snapshots"));
    await page.context().unroute(/\/pysandbox-snapshot-[^/]*\.bin$/);
    await page.context().route(/\/pysandbox-snapshot-[^/]*\.bin$/, (route) =>
      route.fulfill({ status: 200, contentType: "application/octet-stream",
                      body: Buffer.alloc(20 * 1024 * 1024, 7) }));
    assert.equal(await load(page), "created");
    assert.equal((await runCode(page, "print('ok after junk')")).stdout, "ok after junk\n");
    assert.equal(reasons.length, 2, reasons.join("\n"));
    assert.match(reasons[0], /no snapshot is served for this harness \(HTTP 404\)/);
    assert.match(reasons[1], /magic number|build id/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a damaged or truncated snapshot is dropped and the page loads normally", async () => {
  const page = await newPage(fx.browser);
  const reasons = [];
  page.on("console", (m) => {
    if (m.text().includes("not using the memory snapshot")) reasons.push(m.text());
  });
  try {
    assert.equal(await load(page, "?pysb-snapshot=local"), "created");
    assert.equal(await snapshotSaved(page), "saved");

    // Same key, headers and length, wrong bytes: Pyodide's own checks
    // (magic number, build id) reject it.
    const key = await page.evaluate(async () => {
      const cache = await caches.open("pysandbox-snapshots");
      const [req] = await cache.keys();
      const resp = await cache.match(req);
      const junk = new Uint8Array((await resp.arrayBuffer()).byteLength).fill(7);
      await cache.put(req, new Response(junk, { headers: resp.headers }));
      return req.url;
    });
    assert.match(key, /__pysandbox_snapshot__\/0\.29\.5\/1\.bin$/);
    assert.equal(await load(page, "?pysb-snapshot=local"), "created");
    assert.equal((await runCode(page, "print('ok after junk')")).stdout, "ok after junk\n");
    assert.equal(await snapshotSaved(page), "saved");
    assert.equal(await load(page, "?pysb-snapshot=local"), "restored");

    // A snapshot made with another harness.py is not used.
    await page.evaluate(async () => {
      const cache = await caches.open("pysandbox-snapshots");
      const [req] = await cache.keys();
      const resp = await cache.match(req);
      const headers = new Headers(resp.headers);
      if (!/^[0-9a-f]{64}$/.test(headers.get("X-Harness-Sha256"))) throw new Error("no hash");
      headers.set("X-Harness-Sha256", "0".repeat(64));
      await cache.put(req, new Response(await resp.arrayBuffer(), { headers }));
    });
    assert.equal(await load(page, "?pysb-snapshot=local"), "created");
    assert.equal((await runCode(page, "print('ok after harness change')")).stdout,
                 "ok after harness change\n");
    assert.equal(await snapshotSaved(page), "saved");
    assert.equal(await load(page, "?pysb-snapshot=local"), "restored");

    // A short entry (as after an interrupted write) is never handed over.
    await page.evaluate(async () => {
      const cache = await caches.open("pysandbox-snapshots");
      const [req] = await cache.keys();
      const resp = await cache.match(req);
      const old = new Uint8Array(await resp.arrayBuffer());
      await cache.put(req, new Response(old.slice(0, 1000), { headers: resp.headers }));
    });
    assert.equal(await load(page, "?pysb-snapshot=local"), "created");
    assert.equal((await runCode(page, "print('ok after short')")).stdout, "ok after short\n");
    // Each case was refused by the check meant for it.
    assert.equal(reasons.length, 3, reasons.join("\n"));
    assert.match(reasons[0], /magic number|build id/);
    assert.match(reasons[1], /another harness\.py/);
    assert.match(reasons[2], /incomplete/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
