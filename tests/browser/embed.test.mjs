// Embedding: a parent page on a second origin frames the sandbox and talks
// to it with postMessage (protocol in docs/design/frontend-pyodide.md).
// The parent is a tiny Node server; the service lists its origin in
// PYSANDBOX_FRAME_ANCESTORS.  http://localhost:<port> is the same server
// under an origin that is not listed.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  SANDBOX_PATH, freePort, newPage, startStaticServer, useService, waitReady,
} from "./lib.mjs";

let parent = null;
let sandboxOrigin = "";

const ISOLATION = {
  "Content-Type": "text/html; charset=utf-8",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "cross-origin",
  "Cache-Control": "no-store",
};

function parentPage() {
  // The listener is installed before the iframe exists, so no early
  // progress message is missed.
  return `<!doctype html><title>parent</title>
<script>
window.received = [];
addEventListener("message", (e) => {
  const sb = document.getElementById("sb");
  received.push({ origin: e.origin, data: e.data,
                  fromSandbox: !!sb && e.source === sb.contentWindow });
});
</script>
<iframe id="sb" src="${sandboxOrigin}${SANDBOX_PATH}" allow="cross-origin-isolated"
        width="900" height="600"></iframe>
<iframe id="other" src="/other.html" width="200" height="100"></iframe>
<iframe id="foreign" src="http://localhost:${parent.port}/other.html" width="200" height="100"></iframe>`;
}

// A parent that POSTs a batch-analyze request into its iframe (a form
// with target=the iframe), the way a host page embeds an analysis.
function postingParentPage() {
  return `<!doctype html><title>parent</title>
<script>
window.received = [];
addEventListener("message", (e) => {
  const sb = document.getElementById("sb");
  received.push({ origin: e.origin, data: e.data, fromSandbox: e.source === sb.contentWindow });
});
</script>
<iframe id="sb" name="sb" allow="cross-origin-isolated" width="900" height="600"></iframe>
<form id="f" method="POST" target="sb" action="${sandboxOrigin}/api/insights/batch-analyze">
<input type="hidden" name="data" value='[{"a": 1}, {"a": 3.5}]'>
<input type="hidden" name="analysisType" value="descriptive">
</form>
<script>document.getElementById("f").submit();</script>`;
}

const fx = useService(async () => {
  const port = await freePort();
  parent = await startStaticServer((req) => {
    if (req.url === "/parent.html") return { headers: ISOLATION, body: parentPage() };
    if (req.url === "/posting-parent.html") {
      return { headers: ISOLATION, body: postingParentPage() };
    }
    if (req.url === "/other.html") return { headers: ISOLATION, body: "<!doctype html><p>other" };
    return { status: 404, headers: ISOLATION, body: "not found" };
  }, port);
  return { PYSANDBOX_FRAME_ANCESTORS: `'self' ${parent.url}` };
});
after(async () => {
  if (parent) await parent.close();
});

async function openParent(host = "127.0.0.1") {
  sandboxOrigin = fx.url;
  const page = await newPage(fx.browser);
  await page.goto(`http://${host}:${parent.port}/parent.html`);
  return page;
}

function sandboxFrame(page) {
  return page.frames().find((f) => f.url().startsWith(`${fx.url}${SANDBOX_PATH}`));
}

// Waits for a message from the sandbox matching pred and returns its data.
async function waitMessage(page, pred) {
  const handle = await page.waitForFunction((src) => {
    const test = new Function("m", `return (${src})(m);`);
    return window.received.find((r) => r.fromSandbox && test(r.data)) || null;
  }, pred.toString(), { timeout: 60000 });
  return handle.jsonValue();
}

async function postToSandbox(page, msg, targetOrigin) {
  await page.evaluate(([m, origin]) => {
    document.getElementById("sb").contentWindow.postMessage(m, origin);
  }, [msg, targetOrigin || fx.url]);
}

test("a parent on an allowed origin gets progress, ready and run results", async () => {
  const page = await openParent();
  try {
    const ready = await waitMessage(page, (m) => m.type === "ready");
    assert.equal(ready.origin, fx.url);
    assert.equal(ready.data.pyodideVersion, "0.29.5");
    const received = await page.evaluate(() => window.received);
    const progress = received.filter((r) => r.fromSandbox && r.data.type === "progress");
    assert.ok(progress.length >= 2, JSON.stringify(progress));
    assert.ok(progress.every((r) => typeof r.data.stage === "string" &&
                                    typeof r.data.percent === "number"));
    assert.equal(progress[progress.length - 1].data.percent, 100);

    const frame = sandboxFrame(page);
    assert.equal(await frame.evaluate(() => self.crossOriginIsolated), true);

    // dataJson: the exact JSON text reaches Python.
    await postToSandbox(page, {
      type: "run", id: "r1", dataJson: '[{"x": 1.0, "big": 12345678901234567890}]',
      code: "print(repr(data))\n__result__ = len(data)",
    });
    const r1 = await waitMessage(page, (m) => m.type === "result" && m.id === "r1");
    assert.equal(r1.origin, fx.url);
    assert.equal(r1.data.success, true);
    assert.equal(r1.data.status, "ok");
    assert.equal(r1.data.output, "[{'x': 1.0, 'big': 12345678901234567890}]\n");
    assert.equal(r1.data.result, 1);
    assert.equal(r1.data.engine, "browser");
    assert.equal(r1.data.metadata.pyodideVersion, "0.29.5");
    // The run is shown in the frame too.
    assert.equal(await frame.inputValue("#code"), "print(repr(data))\n__result__ = len(data)");
    assert.equal(await frame.textContent("#stdout"), r1.data.output);

    // data as an array; numeric ids work as well.
    await postToSandbox(page, { type: "run", id: 7, code: "print(data[0]['a'] * 2)",
                                data: [{ a: 21 }] });
    const r2 = await waitMessage(page, (m) => m.type === "result" && m.id === 7);
    assert.equal(r2.data.output, "42\n");

    // Errors come back in the same shape.
    await postToSandbox(page, { type: "run", id: "r3", code: "1/0" });
    const r3 = await waitMessage(page, (m) => m.type === "result" && m.id === "r3");
    assert.equal(r3.data.success, false);
    assert.equal(r3.data.error.type, "ZeroDivisionError");
    assert.equal(r3.data.error.line, 1);

    // A malformed request gets an answer rather than silence.
    await postToSandbox(page, { type: "run", id: "bad", code: 42 });
    const bad = await waitMessage(page, (m) => m.type === "result" && m.id === "bad");
    assert.equal(bad.data.error.type, "BadRequest");

    // Runs sent back to back are queued and all answered, in order.
    await page.evaluate((origin) => {
      const w = document.getElementById("sb").contentWindow;
      for (let i = 0; i < 3; i++) w.postMessage({ type: "run", id: `q${i}`, code: `print(${i})` }, origin);
    }, fx.url);
    for (let i = 0; i < 3; i++) {
      const q = await waitMessage(page, new Function("m", `return m.type === "result" && m.id === "q${i}";`));
      assert.equal(q.data.output, `${i}\n`);
    }
    const ids = (await page.evaluate(() => window.received))
      .filter((r) => r.data.type === "result" && /^q/.test(r.data.id)).map((r) => r.data.id);
    assert.deepEqual(ids, ["q0", "q1", "q2"]);
  } finally {
    await page.context().close();
  }
});

test("a batch-analyze page POSTed into an iframe sends its autorun result up", async () => {
  sandboxOrigin = fx.url;
  const page = await newPage(fx.browser);
  try {
    await page.goto(`http://127.0.0.1:${parent.port}/posting-parent.html`);
    const r = await waitMessage(page, (m) => m.type === "result" && m.source === "autorun");
    assert.equal(r.origin, fx.url);
    assert.equal(r.data.id, null);
    assert.equal(r.data.status, "ok");
    assert.match(r.data.output, /descriptive analysis of 2 rows/);
    assert.equal(r.data.result.descriptive[0].mean, 2.25);
  } finally {
    await page.context().close();
  }
});

test("a parent can stop a run", async () => {
  const page = await openParent();
  try {
    await waitMessage(page, (m) => m.type === "ready");
    await postToSandbox(page, { type: "run", id: "loop", code: "while True:\n    pass" });
    await sandboxFrame(page).waitForFunction(() => !document.getElementById("stop").disabled);
    await postToSandbox(page, { type: "stop" });
    const r = await waitMessage(page, (m) => m.type === "result" && m.id === "loop");
    assert.equal(r.data.status, "killed");
  } finally {
    await page.context().close();
  }
});

test("messages from frames that are not the allowed parent are ignored", async () => {
  const page = await openParent();
  try {
    await waitMessage(page, (m) => m.type === "ready");
    const frame = sandboxFrame(page);
    await waitReady(frame);
    // Sibling frames send runs: one from the parent's (allowed) origin but
    // not the parent window, one from an origin that is not allowed at all.
    const siblings = page.frames().filter((f) => f.url().endsWith("/other.html"));
    assert.deepEqual(siblings.map((f) => new URL(f.url()).hostname).sort(),
                     ["127.0.0.1", "localhost"]);
    for (const sib of siblings) {
      await sib.evaluate((origin) => {
        window.parent.frames[0].postMessage({ type: "run", id: "evil", code: "print('evil')" },
                                            origin);
      }, fx.url);
    }
    // A message the parent sends right after it is answered, so the
    // sibling's (sent first) had its chance to be handled.
    await postToSandbox(page, { type: "run", id: "good", code: "print('good')" });
    const good = await waitMessage(page, (m) => m.type === "result" && m.id === "good");
    assert.equal(good.data.output, "good\n");
    assert.equal(await frame.getAttribute("html", "data-runs"), "1");
    const ids = (await page.evaluate(() => window.received))
      .filter((r) => r.data.type === "result").map((r) => r.data.id);
    assert.deepEqual(ids, ["good"]);
    assert.doesNotMatch(await frame.inputValue("#code"), /evil/);
  } finally {
    await page.context().close();
  }
});

test("the top-level page ignores messages it posts to itself", async () => {
  const page = await newPage(fx.browser);
  try {
    await page.goto(`${fx.url}${SANDBOX_PATH}`);
    await waitReady(page);
    await page.evaluate(() => window.postMessage({ type: "run", id: 1, code: "print('self')" }, "*"));
    await page.waitForTimeout(500);
    assert.equal(await page.getAttribute("html", "data-runs"), null);
    assert.equal(await page.textContent("#stdout"), "");
  } finally {
    await page.context().close();
  }
});

test("framing from an origin not in frame-ancestors is blocked", async () => {
  // Same parent page, but served as http://localhost:<port>: not listed.
  const page = await newPage(fx.browser);
  const refused = [];
  page.on("console", (m) => {
    if (/frame-ancestors/.test(m.text())) refused.push(m.text());
  });
  try {
    sandboxOrigin = fx.url;
    await page.goto(`http://localhost:${parent.port}/parent.html`);
    await page.waitForFunction(() => document.getElementById("sb") !== null);
    // Give the frame the time it needs to load (or to be refused).
    await page.waitForTimeout(1500);
    const frame = page.frames().find((f) => f.parentFrame() === page.mainFrame() &&
                                            !f.url().endsWith("/other.html"));
    assert.ok(frame, "the iframe element has no frame");
    const hasPage = frame ? await frame.evaluate(() => document.getElementById("code") !== null)
      .catch(() => false) : false;
    assert.equal(hasPage, false);
    const fromSandbox = await page.evaluate(() => window.received.filter((r) => r.fromSandbox).length);
    assert.equal(fromSandbox, 0);
    assert.ok(refused.length > 0, "Chromium reported no frame-ancestors refusal");

    // Control: the same page from the listed origin does frame it.
    const ok = await openParent();
    try {
      await waitMessage(ok, (m) => m.type === "ready");
    } finally {
      await ok.context().close();
    }
  } finally {
    await page.context().close();
  }
});
