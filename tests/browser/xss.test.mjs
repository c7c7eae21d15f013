// Markup in code, data, output, errors and results stays text: nothing the
// user (or their data) writes can run script in the page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newPage, openSandbox, runCode, useService, waitReady } from "./lib.mjs";

const fx = useService();

// Each payload would set window.pwned or add an element with id "pwned"
// if it were ever parsed as HTML or run as script.
const PAYLOADS = [
  "</script><script>window.pwned=1</script>",
  "<img src=x onerror=\"window.pwned=2;document.body.appendChild(document.createElement('i')).id='pwned'\">",
  "<svg onload=window.pwned=3></svg>",
  "<!--<script>window.pwned=4</script>-->",
  "<iframe srcdoc=\"<script>parent.pwned=5</script>\"></iframe>",
  "\u2028</script>\u2029<script>window.pwned=6</script>",
];

async function assertInert(page) {
  const state = await page.evaluate(() => ({
    pwned: window.pwned,
    marker: document.getElementById("pwned") !== null,
    // Elements that only a parsed payload could have created.
    injected: document.querySelectorAll("img:not(#charts img), svg, iframe, i").length,
    scripts: Array.from(document.scripts, (s) => s.src || s.type).join(","),
  }));
  assert.deepEqual(state, {
    pwned: undefined,
    marker: false,
    injected: 0,
    // The page's own scripts only (Chart.js is added by report.js when a
    // chart is drawn), all from our origin: nothing a payload brought.
    scripts: ["application/json", "application/json", "application/json",
              ...["/static/sandbox.js", "/static/vendor/panel.js", "/static/report.js",
                  "/static/vendor/chart.umd.min.js"]
                .map((p) => new URL(p, page.url()).href)
                .filter((src) => state.scripts.split(",").includes(src))].join(","),
  });
  assert.ok(state.scripts.includes(new URL("/static/sandbox.js", page.url()).href));
}

test("payloads in posted code and data stay inert through a run", async () => {
  const page = await newPage(fx.browser);
  let dialogs = 0;
  page.on("dialog", (d) => { dialogs++; d.dismiss(); });
  try {
    const code = [
      "import json, sys",
      `payloads = ${JSON.stringify(PAYLOADS)}`,
      "for p in payloads: print(p)",
      "for p in payloads: print(p, file=sys.stderr)",
      "__result__ = {'payloads': payloads, 'rows': data,",
      "              'frame': {'__type__': 'DataFrame', 'columns': payloads,",
      "                        'records': [{p: p for p in payloads}], 'shape': [1, 6],",
      "                        'html': payloads[1]}}",
      "raise ValueError(payloads[1])",
    ].join("\n");
    const data = PAYLOADS.map((p) => ({ [p]: p }));
    await openSandbox(page, fx.url, { body: { code, data } });
    await waitReady(page);
    // The code reached the editor as text, byte for byte.
    assert.equal(await page.inputValue("#code"), code);
    await assertInert(page);

    const out = await runCode(page, code);
    assert.equal(out.stdout, PAYLOADS.join("\n") + "\n");
    assert.equal(out.stderr, PAYLOADS.join("\n") + "\n");
    assert.match(out.error, /ValueError: <img src=x onerror=/);
    // Data rows came through too, as text in the pretty-printed JSON.
    assert.deepEqual(JSON.parse(out.result).rows, data);
    await assertInert(page);

    // The same payloads as a DataFrame-shaped result: a table of text cells.
    await runCode(page, code.replace(/\nraise .*$/, "\n__result__ = __result__['frame']"));
    const cells = await page.evaluate(() =>
      Array.from(document.querySelectorAll("#result-html td, #result-html th"), (c) => c.textContent));
    assert.deepEqual(cells, [...PAYLOADS, ...PAYLOADS]);
    await assertInert(page);
    // Give onerror/onload handlers a chance to fire if anything was parsed.
    await page.waitForTimeout(300);
    await assertInert(page);
    assert.equal(dialogs, 0);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("payloads in batch-analyze documents stay inert", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, {
      path: "/api/insights/batch-analyze",
      body: { documents: PAYLOADS, analysisType: "text" },
    });
    await waitReady(page);
    await page.waitForFunction(() => document.documentElement.dataset.runs === "1");
    await assertInert(page);
    assert.equal(await page.getAttribute("html", "data-last-status"), "ok");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
