// The page as a notebook (issue 11): output shows while a run goes on, Stop
// keeps what was printed, a Run goes on from the previous Run's state in the
// browser and on the server (this page's sandbox), Restart and a parent's
// {type: "reset"} clear it.  See docs/design/frontend-pyodide.md.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  SANDBOX_PATH, freePort, newPage, openSandbox, runCode, shown, startStaticServer, useService,
  waitReady,
} from "./lib.mjs";

let parent = null;

const ISOLATION = {
  "Content-Type": "text/html; charset=utf-8",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "cross-origin",
  "Cache-Control": "no-store",
};

const fx = useService(async () => {
  const port = await freePort();
  parent = await startStaticServer((req) => {
    if (req.url === "/parent.html") {
      return { headers: ISOLATION, body: `<!doctype html><title>parent</title>
<script>
window.received = [];
addEventListener("message", (e) => {
  const sb = document.getElementById("sb");
  if (sb && e.source === sb.contentWindow) received.push(e.data);
});
</script>
<iframe id="sb" src="${fx.url}${SANDBOX_PATH}" allow="cross-origin-isolated"
        width="900" height="600"></iframe>` };
    }
    return { status: 404, headers: ISOLATION, body: "not found" };
  }, port);
  return { PYSANDBOX_FRAME_ANCESTORS: `'self' ${parent.url}` };
});
after(async () => {
  if (parent) await parent.close();
});

async function sandboxStatus(id) {
  const resp = await fetch(`${fx.url}/sandbox/${id}/status`);
  return { status: resp.status, json: await resp.json() };
}

async function waitGone(id, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let s = await sandboxStatus(id);
  while (s.status === 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    s = await sandboxStatus(id);
  }
  return s.status;
}

// Clicks Run and returns once the run is in the worker.
async function startRun(page, code) {
  await page.fill("#code", code);
  const before = Number(await page.getAttribute("html", "data-runs")) || 0;
  await page.click("#run");
  await page.waitForFunction(() => document.documentElement.dataset.runPhase === "local");
  return before;
}

async function waitRuns(page, n, timeout = 60000) {
  await page.waitForFunction((k) => Number(document.documentElement.dataset.runs || 0) > k, n,
                             { timeout });
}

test("output shows while the run goes on, once, and the final result stays the same", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    // A busy loop: Python never yields to the worker's event loop.
    const before = await startRun(page, [
      "import sys, time",
      "print('start', flush=True)",
      "print('to stderr', file=sys.stderr)",
      "t0 = time.monotonic()",
      "while time.monotonic() - t0 < 3:",
      "    pass",
      "print('end')",
    ].join("\n"));
    const t0 = Date.now();
    await page.waitForFunction(() => document.getElementById("stdout").textContent === "start\n",
                               null, { timeout: 2500 });
    const seenAfter = Date.now() - t0;
    assert.equal(await page.textContent("#stderr"), "to stderr\n");
    // Still running: the text came before the end.
    assert.equal(await page.getAttribute("html", "data-run-phase"), "local");
    assert.ok(seenAfter < 2500, `live output after ${seenAfter} ms`);
    await waitRuns(page, before);
    const out = await shown(page);
    assert.equal(out.stdout, "start\nend\n");
    assert.equal(out.stderr, "to stderr\n");
    assert.equal(out.lastStatus, "ok");

    // time.sleep blocks the worker too; what was printed before it shows.
    const b2 = await startRun(page, "import time\nprint('a')\nprint('b')\ntime.sleep(2)\nprint('c')");
    await page.waitForFunction(() => document.getElementById("stdout").textContent === "a\nb\n",
                               null, { timeout: 1800 });
    assert.equal(await page.getAttribute("html", "data-run-phase"), "local");
    await waitRuns(page, b2);
    assert.equal((await shown(page)).stdout, "a\nb\nc\n");

    // Many writes: coalesced, complete, in order, not doubled.
    const many = await runCode(page, "for i in range(20000):\n    print(i)");
    assert.equal(many.stdout, Array.from({ length: 20000 }, (_, i) => `${i}\n`).join(""));
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("Stop keeps the output printed before it, also when the runtime is restarted", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    // Interrupted: the harness's answer has the output.
    let before = await startRun(page, "print('loop', flush=True)\nwhile True:\n    pass");
    await page.waitForFunction(() => document.getElementById("stdout").textContent === "loop\n");
    await page.click("#stop");
    await waitRuns(page, before);
    let out = await shown(page);
    assert.equal(out.lastStatus, "killed");
    assert.equal(out.stdout, "loop\n");

    // time.sleep does not look at the interrupt: the worker is replaced, and
    // the page keeps what it had been shown.
    before = await startRun(page, "import sys, time\nprint('before sleep')\n" +
                                  "print('err', file=sys.stderr)\ntime.sleep(30)");
    await page.waitForFunction(() => document.getElementById("stdout").textContent ===
                               "before sleep\n");
    await page.click("#stop");
    await waitRuns(page, before);
    out = await shown(page);
    assert.equal(out.lastStatus, "killed");
    assert.equal(out.stdout, "before sleep\n");
    assert.equal(out.stderr, "err\n");
    assert.match(out.notice, /runtime was restarted/);
    // A new runtime: a fresh state.
    await waitReady(page);
    assert.equal(await page.textContent("#state"), "State: fresh");
    assert.match((await runCode(page, "print(sys)")).error, /NameError/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a Run goes on from the last one in the browser; Restart clears it", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { body: { code: "", data: [{ a: 1 }] } });
    await waitReady(page);
    assert.equal(await page.textContent("#state"), "State: fresh");
    assert.equal((await runCode(page, "x = 1\ndef f(v):\n    return v * 10\ndata = 'replaced'"))
      .lastStatus, "ok");
    const second = await runCode(page, "import sys\nprint(x + 1, f(2), sys.platform)\nprint(data)");
    assert.equal(second.stdout, "2 20 emscripten\n[{'a': 1}]\n"); // data is rebound each Run
    assert.equal(await page.textContent("#state"), "State: browser, 2 runs");
    assert.equal(await page.getAttribute("html", "data-last-engine"), "browser");

    await page.click("#restart");
    await page.waitForFunction(() => document.getElementById("state").textContent ===
                               "State: fresh");
    assert.equal(await page.isEnabled("#run"), true);
    const after = await runCode(page, "print(x)");
    assert.equal(after.lastStatus, "error");
    assert.match(after.error, /NameError: name 'x' is not defined/);
    assert.equal((await runCode(page, "print(len(data))")).stdout, "1\n");
    assert.equal(await page.textContent("#state"), "State: browser, 2 runs");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("an embedding page keeps its state across runs and clears it with {type: 'reset'}",
  async () => {
    const page = await newPage(fx.browser);
    const waitMessage = async (src) => {
      const handle = await page.waitForFunction((s) => {
        const pred = new Function("m", `return (${s})(m);`);
        return window.received.find((m) => pred(m)) || null;
      }, src, { timeout: 60000 });
      return handle.jsonValue();
    };
    const post = (msg) => page.evaluate(([m, origin]) => {
      document.getElementById("sb").contentWindow.postMessage(m, origin);
    }, [msg, fx.url]);
    try {
      await page.goto(`http://127.0.0.1:${parent.port}/parent.html`);
      await waitMessage("(m) => m.type === 'ready'");
      await post({ type: "run", id: "a", code: "x = 41" });
      assert.equal((await waitMessage("(m) => m.type === 'result' && m.id === 'a'")).status, "ok");
      await post({ type: "run", id: "b", code: "print(x + 1)" });
      assert.equal((await waitMessage("(m) => m.type === 'result' && m.id === 'b'")).output,
                   "42\n");
      // Queued behind a run, answered in order.
      await post({ type: "run", id: "c", code: "y = x" });
      await post({ type: "reset", id: "r1" });
      await post({ type: "run", id: "d", code: "print(x)" });
      const reset = await waitMessage("(m) => m.type === 'reset'");
      assert.deepEqual(reset, { type: "reset", id: "r1", reset: true });
      const d = await waitMessage("(m) => m.type === 'result' && m.id === 'd'");
      assert.equal(d.error.type, "NameError");
      const order = (await page.evaluate(() => window.received))
        .filter((m) => m.type === "result" || m.type === "reset").map((m) => m.id);
      assert.deepEqual(order, ["a", "b", "c", "r1", "d"]);
    } finally {
      await page.context().close();
    }
  });

test("server runs keep their state in this page's sandbox; Restart deletes it", async () => {
  const page = await newPage(fx.browser);
  const sandboxRequests = [];
  page.on("request", (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith("/sandbox")) sandboxRequests.push(`${r.method()} ${p}`);
  });
  try {
    await openSandbox(page, fx.url, { body: { code: "", data: [{ a: 2 }, { a: 5 }] } });
    await waitReady(page);
    const first = await runCode(page, "import pandas as pd\ndf = pd.DataFrame(data)\nn = 1");
    assert.equal(first.lastStatus, "ok", JSON.stringify(first));
    assert.equal(await page.getAttribute("html", "data-last-engine"), "native");
    const id = await page.getAttribute("html", "data-server-sandbox");
    assert.match(id, /^[0-9a-f]{32}$/);
    const second = await runCode(page, "import pandas\nprint(df['a'].sum(), n + 1)");
    assert.equal(second.stdout, "7 2\n");
    assert.equal(await page.getAttribute("html", "data-last-engine"), "native");
    assert.equal(second.status, "Finished on the server (native)");
    assert.equal(await page.getAttribute("html", "data-server-sandbox"), id);
    assert.equal((await sandboxStatus(id)).json.executions, 2);
    // Browser state and server state are separate, and both shown; a Run
    // that lands in the other engine says so.
    const third = await runCode(page, "z = 3");
    assert.match(third.notice, /ran in your browser, which does not have the names your server runs defined/);
    assert.equal(await page.textContent("#state"),
                 "State: browser, 1 run; server sandbox, 2 runs");

    // A sandbox that ended behind the page's back: the page says so and
    // goes on in a new one.
    await fetch(`${fx.url}/sandbox/${id}`, { method: "DELETE" });
    const lost = await runCode(page, "import pandas\nprint('n' in globals())");
    assert.equal(lost.stdout, "False\n");
    assert.match(lost.notice, /server sandbox had ended .*server state was lost/);
    const id2 = await page.getAttribute("html", "data-server-sandbox");
    assert.notEqual(id2, id);

    await page.click("#restart");
    await page.waitForFunction(() => document.getElementById("state").textContent ===
                               "State: fresh");
    assert.equal((await sandboxStatus(id2)).status, 404);
    assert.equal(await page.getAttribute("html", "data-server-sandbox"), null);
    const fresh = await runCode(page, "import pandas\nprint(df)");
    assert.match(fresh.error, /NameError/);
    const id3 = await page.getAttribute("html", "data-server-sandbox");
    assert.match(id3, /^[0-9a-f]{32}$/);
    assert.notEqual(id3, id2);
    assert.deepEqual(sandboxRequests, [
      "POST /sandbox/create", `POST /sandbox/${id}/execute`, `POST /sandbox/${id}/execute`,
      `POST /sandbox/${id}/execute`, "POST /sandbox/create", `POST /sandbox/${id2}/execute`,
      `DELETE /sandbox/${id2}`, "POST /sandbox/create", `POST /sandbox/${id3}/execute`,
    ]);

    // Leaving the page deletes its sandbox.
    await page.goto("about:blank");
    assert.equal(await waitGone(id3), 404);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a Run that must change engines says the other engine's names are not there", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { body: { code: "", data: [] } });
    await waitReady(page);
    const local = await runCode(page, "x = 41");
    assert.equal(local.lastStatus, "ok", JSON.stringify(local));
    assert.equal(await page.textContent("#state"), "State: browser, 1 run");
    // pandas goes to the server here; x lives in the browser.
    const remote = await runCode(page, "import pandas\nprint('x' in globals())");
    assert.equal(remote.stdout, "False\n");
    assert.equal(await page.getAttribute("html", "data-last-engine"), "native");
    assert.match(remote.notice, /ran on the server, which does not have the names your earlier browser runs defined/);
    assert.equal(await page.textContent("#state"), "State: browser, 1 run; server sandbox, 1 run");
    // With state in both, the router decides again: a stdlib Run stays in the browser.
    const back = await runCode(page, "print(x + 1)");
    assert.equal(back.stdout, "42\n");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

