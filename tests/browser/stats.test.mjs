// The statistics page (GET /stats): engine figures from real runs, charts
// drawn by Chart.js (served from our own origin), the window selector, both
// benchmark buttons, and untrusted engine errors kept as text.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newPage, useService } from "./lib.mjs";

const fx = useService();

const RUN = "/api/insights/python-execution";
const BENCH = "/api/insights/python-benchmark";
// Colours stats.js gives the engines (ENGINE_COLORS), as RGB.
const NATIVE_RGB = [0x1e, 0x7b, 0x3a];
const BROWSER_RGB = [0x24, 0x57, 0xc5];

async function api(path, body) {
  const resp = await fetch(`${fx.url}${path}`, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const text = await resp.text();
  return { status: resp.status, json: JSON.parse(text) };
}

async function openStats(page, minLoads = 1) {
  await page.goto(`${fx.url}/stats`);
  await page.waitForFunction((n) => Number(document.documentElement.dataset.loads || 0) >= n,
                             minLoads);
}

// The engines table as {engine: {column: text}}.
async function enginesTable(page) {
  return page.evaluate(() => {
    const t = document.getElementById("engines");
    const head = Array.from(t.tHead.rows[0].cells, (c) => c.textContent);
    const out = {};
    for (const r of t.tBodies[0].rows) {
      const cells = Array.from(r.cells, (c) => c.textContent);
      out[cells[0]] = Object.fromEntries(head.map((h, i) => [h, cells[i]]));
    }
    return out;
  });
}

// What the canvas holds: pixels with any ink, distinct colours, and how
// many pixels have exactly the given colour.
async function canvasInk(page, id, rgb) {
  return page.evaluate(([canvasId, [r, g, b]]) => {
    const c = document.getElementById(canvasId);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    let exact = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      inked++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (d[i] === r && d[i + 1] === g && d[i + 2] === b && d[i + 3] === 255) exact++;
    }
    return { inked, colours: colours.size, exact, pixels: c.width * c.height };
  }, [id, rgb]);
}

// Collects every text #bench-status shows and whether the progress bar was
// visible, so a test can tell that progress was shown while it ran.
async function watchBench(page) {
  await page.evaluate(() => {
    window.benchSeen = [];
    const status = document.getElementById("bench-status");
    const bar = document.getElementById("bench-progress");
    new MutationObserver(() => {
      window.benchSeen.push({ text: status.textContent, bar: !bar.hidden, value: bar.value });
    }).observe(document.getElementById("bench-status").parentNode,
               { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

async function benchFinished(page, timeout) {
  await page.waitForFunction(() => {
    const s = document.documentElement.dataset.bench;
    return (s === "done" || s === "failed") && !document.getElementById("bench-server").disabled;
  }, null, { timeout });
  return page.evaluate(() => ({ state: document.documentElement.dataset.bench,
                                text: document.getElementById("bench-status").textContent,
                                seen: window.benchSeen }));
}

test("the page shows the engines' real figures, charted by Chart.js", async () => {
  // Real executions first: two good native runs, one failing, one browser report.
  for (const code of ["print(1)", "print(2)", "raise ValueError('boom')"]) {
    const r = await api(RUN, { code });
    assert.equal(r.status, 200);
    assert.equal(r.json.engine, "native");
  }
  assert.equal((await api(`${RUN}/report`, { engine: "browser", status: "ok",
                                              executionTime: 2, wallMs: 9 })).status, 201);
  const stats = (await api(`${RUN}?window=24h`)).json;

  const page = await newPage(fx.browser);
  const csp = [];
  const scripts = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  page.on("request", (r) => { if (r.resourceType() === "script") scripts.push(r.url()); });
  try {
    await openStats(page);
    assert.equal(await page.getAttribute("#status", "data-state"), "ready");
    const table = await enginesTable(page);
    assert.deepEqual(Object.keys(table), ["browser", "native", "judge0"]);
    assert.equal(table.native.runs, String(stats.engines.native.count));
    assert.ok(stats.engines.native.count >= 3);
    assert.equal(table.native["success rate"],
                 `${(stats.engines.native.successRate * 100).toFixed(1)} %`);
    assert.notEqual(table.native.p50, "–");
    assert.equal(table.browser.runs, String(stats.engines.browser.count));
    assert.match(table.judge0.available, /^no: not configured/);

    // The library is ours, from our origin, and it drew the charts.
    assert.ok(scripts.includes(`${fx.url}/static/vendor/chart.umd.min.js`), scripts.join(" "));
    assert.ok(scripts.every((u) => u.startsWith(`${fx.url}/static/`)), scripts.join(" "));
    const charts = await page.evaluate(() => ["chart-time", "chart-success", "chart-bench"].map(
      (id) => {
        const c = window.Chart.getChart(document.getElementById(id));
        return c ? { type: c.config.type, labels: c.data.datasets.map((d) => d.label),
                     data: c.data.datasets.map((d) => d.data) } : null;
      }));
    assert.equal(charts[0].type, "line");
    assert.deepEqual(charts[0].labels, ["browser", "native", "judge0"]);
    // The native line has the mean of this window's runs in its last buckets.
    assert.ok(charts[0].data[1].some((v) => typeof v === "number" && v > 0));
    assert.equal(charts[1].type, "bar");
    assert.equal(charts[1].data[0][1],
                 Math.round(stats.engines.native.successRate * 1000) / 10);
    assert.equal(charts[2].type, "line");

    // And the canvases are not blank: ink in many colours, and the engines'
    // own colours (the success bars are solid fills).
    const time = await canvasInk(page, "chart-time", NATIVE_RGB);
    assert.ok(time.inked > 2000 && time.colours > 10, JSON.stringify(time));
    assert.ok(time.exact > 0, JSON.stringify(time));
    const success = await canvasInk(page, "chart-success", NATIVE_RGB);
    assert.ok(success.exact > 500, JSON.stringify(success));
    assert.ok((await canvasInk(page, "chart-success", BROWSER_RGB)).exact > 500);

    // The window selector asks for another window and bucket.
    const asked = page.waitForRequest((r) => r.url().includes(`${RUN}?window=1h&series=1m`));
    await page.selectOption("#window", "1h");
    await asked;
    await page.waitForFunction(() => document.documentElement.dataset.window === "1h");
    assert.equal(await page.getAttribute("#engines", "data-window-seconds"), "3600");
    assert.equal((await enginesTable(page)).native.runs,
                 String((await api(`${RUN}?window=1h`)).json.engines.native.count));
    assert.deepEqual(csp, []);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("an engine's last error is shown as text, never as markup", async () => {
  const payload = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>";
  assert.equal((await api(`${RUN}/report`, { engine: "browser", status: "error",
                                              executionTime: 1, error: payload })).status, 201);
  const page = await newPage(fx.browser);
  try {
    await openStats(page);
    const table = await enginesTable(page);
    assert.equal(table.browser["last error"], payload);
    assert.deepEqual(await page.evaluate(() => ({
      pwned: window.pwned,
      imgs: document.querySelectorAll("img").length,
      scripts: Array.from(document.scripts, (s) => s.src || s.type).length,
    })), { pwned: undefined, imgs: 0, scripts: 3 });
  } finally {
    await page.context().close();
  }
});

test("the server benchmark button runs to done, showing progress", async () => {
  const page = await newPage(fx.browser);
  try {
    await openStats(page);
    await watchBench(page);
    const loads = Number(await page.getAttribute("html", "data-loads"));
    await page.click("#bench-server");
    const end = await benchFinished(page, 180000);
    assert.equal(end.state, "done", end.text);
    assert.match(end.text, /^Server run finished: 15 runs$/);
    // Progress was on screen while it ran: "n of 15 runs done" with the bar.
    const progress = end.seen.filter((s) => /^Running on the server engines: \d+ of 15 runs done$/
      .test(s.text));
    assert.ok(progress.length > 0, JSON.stringify(end.seen));
    assert.ok(progress.every((s) => s.bar), JSON.stringify(progress));
    // The page reloaded its data, and the run is in the history table and the API.
    await page.waitForFunction((n) => Number(document.documentElement.dataset.loads) > n, loads);
    const hist = (await api(`${BENCH}?perPage=5`)).json.history;
    const run = hist.find((h) => h.source === "server");
    assert.equal(run.status, "done");
    assert.equal(run.summary.length, 5);
    const rows = await page.evaluate(() => Array.from(
      document.getElementById("bench-history").tBodies[0].rows,
      (r) => Array.from(r.cells, (c) => c.textContent)));
    const row = rows.find((r) => r[1] === "server");
    assert.equal(row[3], "done");
    assert.match(row[4], /hello on native: p50 [\d.]+ (ms|s), 3\/3 ok/);
    const series = await page.evaluate(() =>
      window.Chart.getChart(document.getElementById("chart-bench")).data.datasets
        .map((d) => d.label));
    assert.ok(series.includes("hello · native"), series.join(", "));
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("the browser benchmark runs the cases here and its results join the history", async () => {
  const page = await newPage(fx.browser);
  try {
    await openStats(page);
    await watchBench(page);
    await page.click("#bench-browser");
    const end = await benchFinished(page, 240000);
    assert.equal(end.state, "done", end.text);
    assert.ok(end.seen.some((s) => /^Running in this browser: cpu-loop, run \d of 3/.test(s.text)),
              JSON.stringify(end.seen.map((s) => s.text)));
    const id = await page.getAttribute("html", "data-browser-run");
    assert.match(id, /^[0-9a-f]{32}$/);

    // The stored run, through the API: the stdlib cases ran, the cases
    // whose packages this Pyodide has no wheels for were skipped, not failed.
    const run = (await api(`${BENCH}?id=${id}`)).json;
    assert.equal(run.source, "browser");
    assert.equal(run.status, "done");
    const by = Object.fromEntries(run.summary.map((s) => [s.case, s]));
    assert.deepEqual(Object.keys(by).sort(),
                     ["cpu-loop", "hello", "matplotlib-chart", "numpy-matmul", "pandas-describe"]);
    for (const name of ["hello", "cpu-loop"]) {
      assert.equal(by[name].engine, "browser");
      assert.deepEqual([by[name].runs, by[name].ok, by[name].skipped], [3, 3, 0], name);
      assert.ok(by[name].p50Ms > 0);
    }
    for (const name of ["pandas-describe", "numpy-matmul", "matplotlib-chart"]) {
      assert.deepEqual([by[name].runs, by[name].ok, by[name].skipped], [3, 0, 3], name);
    }
    assert.ok((await api(`${BENCH}?perPage=5`)).json.history.some((h) => h.id === id));

    // And on the page, after its reload.
    await page.waitForFunction(() => Array.from(
      document.getElementById("bench-history").tBodies[0].rows).some((r) => r.cells[1].textContent === "browser"));
    const series = await page.evaluate(() =>
      window.Chart.getChart(document.getElementById("chart-bench")).data.datasets
        .map((d) => d.label));
    assert.ok(series.includes("cpu-loop · browser"), series.join(", "));
    assert.ok(!series.includes("numpy-matmul · browser"), series.join(", ")); // nothing to draw
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
