/* stats.js - the statistics page (templates/stats.html, GET /stats): per-engine
 * figures, charts of execution time and success rate, benchmark history, and
 * the two benchmark buttons.
 *
 * Data: GET /api/insights/python-execution?window=&series= (per-engine
 * statistics and a time series), GET /api/insights/python-benchmark (run
 * history; ?id= one run; ?cases=1 the case catalogue).  The charts are drawn
 * by Chart.js (web/vendor/chart.umd.min.js, installed from npm at build time
 * by `make web-vendor`; a deferred script before this one).  "Run in this
 * browser" runs the catalogue in a Pyodide worker (web/worker.js, the same
 * engine as the sandbox page, same protocol) and posts what it measured.
 *
 * Untrusted text (engine errors, reasons, case names) reaches the DOM only
 * through textContent and elements built here; the charts draw on canvas.
 * Described in docs/design/frontend-pyodide.md ("The statistics page").
 */
"use strict";

(function () {
  const STATS_URL = "/api/insights/python-execution";
  const BENCH_URL = "/api/insights/python-benchmark";
  // Time-series bucket per window: 60, 144 and 168 points per chart (the
  // API allows at most 2000 buckets in a window).
  const SERIES_BUCKET = { "1h": "1m", "24h": "10m", "7d": "1h" };
  // Benchmark runs shown in the history chart and table (newest first).
  const HISTORY_RUNS = 20;
  // Iterations per case and engine of a run started from this page.
  const SERVER_BENCH_ITERATIONS = 3;
  const BROWSER_BENCH_ITERATIONS = 3;
  // How often a running server benchmark is polled, and for how long at
  // most before the page stops waiting (the run itself goes on).
  const POLL_MS = 400;
  const POLL_LIMIT_MS = 15 * 60 * 1000;
  // Longest a single case may take in the browser; past it the worker is
  // terminated and the run ends with what was measured (status "timeout").
  const BROWSER_CASE_LIMIT_MS = 120000;
  // Without a loadTimeoutMs in the page configuration.
  const DEFAULT_LOAD_TIMEOUT_MS = 60000;
  const ENGINE_COLORS = { browser: "#2457c5", native: "#1e7b3a", judge0: "#b35c00" };
  const CASE_COLORS = ["#2457c5", "#1e7b3a", "#b35c00", "#8e44ad", "#c0392b", "#16808a",
                       "#6d6d00", "#555f6e"];
  const ENGINE_DASH = { browser: [6, 4], native: [], judge0: [2, 3] };

  function readJson(id, fallback) {
    const el = document.getElementById(id);
    if (el === null) return fallback;
    try {
      return JSON.parse(el.textContent);
    } catch (err) {
      return fallback;
    }
  }

  const config = readJson("pysb-config", null);
  let ui = null;
  const charts = { time: null, success: null, bench: null };
  let busy = false; // a benchmark is going

  /* --- fetching ------------------------------------------------------ */

  // The JSON body of a GET or POST; rejects with the service's own message
  // ({"error": {"message"}}) on an HTTP error.
  async function requestJson(url, options) {
    const resp = await fetch(url, Object.assign({ cache: "no-store" }, options || {}));
    let body = null;
    try {
      body = await resp.json();
    } catch (err) {
      body = null;
    }
    if (!resp.ok) {
      const message = body && body.error && typeof body.error.message === "string"
        ? body.error.message : `HTTP ${resp.status}`;
      const error = new Error(message);
      error.status = resp.status;
      throw error;
    }
    if (body === null) throw new Error(`${url}: the answer is not JSON`);
    return body;
  }

  function postJson(url, value) {
    return requestJson(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(value),
    });
  }

  /* --- formatting ---------------------------------------------------- */

  function num(v) {
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  }

  function ms(v) {
    const n = num(v);
    if (n === null) return "–";
    return n < 10 ? `${n.toFixed(2)} ms` : n < 1000 ? `${n.toFixed(1)} ms`
      : `${(n / 1000).toFixed(2)} s`;
  }

  function percent(v) {
    const n = num(v);
    return n === null ? "–" : `${(n * 100).toFixed(1)} %`;
  }

  function clock(seconds, withDay) {
    const d = new Date(seconds * 1000);
    const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return withDay ? `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${hm}` : hm;
  }

  function setStatus(text, state) {
    if (ui === null) return;
    ui.statusText.textContent = text;
    ui.status.dataset.state = state;
  }

  // A table from rows of cell values (strings, or nodes built here).
  function fillTable(table, head, rows) {
    table.replaceChildren();
    const tr = table.createTHead().insertRow();
    for (const h of head) {
      const th = document.createElement("th");
      th.textContent = h;
      tr.appendChild(th);
    }
    const body = table.createTBody();
    for (const row of rows) {
      const r = body.insertRow();
      for (const cell of row) {
        const td = r.insertCell();
        if (cell instanceof Node) td.appendChild(cell);
        else td.textContent = String(cell);
      }
    }
  }

  /* --- charts -------------------------------------------------------- */

  function chartLibrary() {
    return typeof window.Chart === "function" ? window.Chart : null;
  }

  // Creates the chart on first use and replaces its data afterwards.
  function draw(key, canvas, type, data, options) {
    const Chart = chartLibrary();
    if (Chart === null) return;
    if (charts[key] !== null && charts[key].config.type === type) {
      charts[key].data = data;
      charts[key].options = options;
      charts[key].update();
      return;
    }
    if (charts[key] !== null) charts[key].destroy();
    charts[key] = new Chart(canvas, { type, data, options });
  }

  function baseOptions(yTitle, extra) {
    return Object.assign({
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: yTitle } },
      },
    }, extra || {});
  }

  function engineColor(name, i) {
    return ENGINE_COLORS[name] || CASE_COLORS[i % CASE_COLORS.length];
  }

  function drawTimeChart(stats, windowValue) {
    const bucket = num(stats.seriesBucketSeconds) || 60;
    const span = num(stats.windowSeconds) || 86400;
    const now = Date.now() / 1000;
    const first = Math.floor((now - span) / bucket) * bucket;
    const last = Math.floor(now / bucket) * bucket;
    const times = [];
    for (let t = first; t <= last; t += bucket) times.push(t);
    const engines = Object.keys(stats.engines || {});
    const points = new Map();
    for (const p of Array.isArray(stats.series) ? stats.series : []) {
      if (p === null || typeof p !== "object") continue;
      const name = String(p.engine);
      if (!engines.includes(name)) engines.push(name);
      points.set(`${num(p.t)}|${name}`, num(p.avgMs));
    }
    const withDay = windowValue === "7d";
    const datasets = engines.map((name, i) => ({
      label: name,
      data: times.map((t) => (points.has(`${t}|${name}`) ? points.get(`${t}|${name}`) : null)),
      borderColor: engineColor(name, i),
      backgroundColor: engineColor(name, i),
      pointRadius: 3,
      spanGaps: false,
    }));
    draw("time", ui.chartTime, "line",
         { labels: times.map((t) => clock(t, withDay)), datasets },
         baseOptions("mean wall time per run (ms)"));
  }

  function drawSuccessChart(stats) {
    const engines = Object.keys(stats.engines || {});
    const rates = engines.map((name) => {
      const e = stats.engines[name] || {};
      return num(e.count) > 0 ? Math.round(num(e.successRate) * 1000) / 10 : null;
    });
    draw("success", ui.chartSuccess, "bar", {
      labels: engines.map((name) => `${name} (${num((stats.engines[name] || {}).count) || 0} runs)`),
      datasets: [{
        label: "successful runs (%)",
        data: rates,
        backgroundColor: engines.map((name, i) => engineColor(name, i)),
      }],
    }, baseOptions("successful runs (%)", {
      plugins: { legend: { display: false } },
      scales: { y: { min: 0, max: 100, title: { display: true, text: "successful runs (%)" } } },
    }));
  }

  function drawBenchChart(history) {
    const runs = history.slice().reverse(); // oldest first, left to right
    const series = new Map(); // "case|engine" -> {case, engine}
    for (const run of runs) {
      for (const s of Array.isArray(run.summary) ? run.summary : []) {
        if (s && typeof s === "object") {
          series.set(`${s.case}|${s.engine}`, { name: String(s.case), engine: String(s.engine) });
        }
      }
    }
    const caseNames = Array.from(new Set(Array.from(series.values(), (s) => s.name)));
    const datasets = Array.from(series.entries(), ([key, s]) => {
      const color = CASE_COLORS[caseNames.indexOf(s.name) % CASE_COLORS.length];
      return {
        label: `${s.name} · ${s.engine}`,
        data: runs.map((run) => {
          const hit = (Array.isArray(run.summary) ? run.summary : [])
            .find((x) => x && `${x.case}|${x.engine}` === key);
          const v = hit ? num(hit.p50Ms) : null;
          return v !== null && v > 0 ? v : null;
        }),
        borderColor: color,
        backgroundColor: color,
        borderDash: ENGINE_DASH[s.engine] || [],
        pointRadius: 4,
        spanGaps: true,
      };
    }).filter((d) => d.data.some((v) => v !== null)); // skipped everywhere: nothing to draw
    const multiDay = runs.length > 0 &&
      num(runs[runs.length - 1].createdAt) - num(runs[0].createdAt) > 86400;
    draw("bench", ui.chartBench, "line", {
      labels: runs.map((run) => `${clock(num(run.createdAt) || 0, multiDay)} ${run.source}`),
      datasets,
    }, baseOptions("", {
      scales: {
        y: { type: "logarithmic", title: { display: true, text: "median ms per case (log)" } },
      },
    }));
  }

  /* --- tables -------------------------------------------------------- */

  function renderEngines(stats) {
    const rows = [];
    for (const name of Object.keys(stats.engines || {})) {
      const e = stats.engines[name] || {};
      const count = num(e.count) || 0;
      const available = e.available === true ? "yes"
        : `no${typeof e.reason === "string" && e.reason ? `: ${e.reason}` : ""}`;
      rows.push([
        name, available, String(count),
        count > 0 ? percent(e.successRate) : "–",
        count > 0 ? ms(e.avgExecutionTime) : "–",
        count > 0 ? ms(e.p50) : "–",
        count > 0 ? ms(e.p95) : "–",
        typeof e.lastError === "string" ? e.lastError : "",
      ]);
    }
    fillTable(ui.engines, ["engine", "available", "runs", "success rate", "mean", "p50", "p95",
                           "last error"], rows);
    ui.engines.dataset.windowSeconds = String(num(stats.windowSeconds) || "");
  }

  function summaryList(run) {
    const list = document.createElement("ul");
    list.className = "summary";
    for (const s of Array.isArray(run.summary) ? run.summary : []) {
      if (s === null || typeof s !== "object") continue;
      const li = document.createElement("li");
      const runsN = num(s.runs) || 0;
      const skipped = num(s.skipped) || 0;
      li.textContent = skipped === runsN && runsN > 0
        ? `${s.case} on ${s.engine}: skipped (the engine lacks a package)`
        : `${s.case} on ${s.engine}: p50 ${ms(s.p50Ms)}, ${num(s.ok) || 0}/${runsN} ok` +
          (skipped > 0 ? `, ${skipped} skipped` : "");
      list.appendChild(li);
    }
    return list;
  }

  function renderHistory(hist) {
    const runs = Array.isArray(hist.history) ? hist.history : [];
    fillTable(ui.benchHistory, ["started", "source", "suite", "status", "results", "error"],
      runs.map((run) => [
        clock(num(run.createdAt) || 0, true),
        String(run.source),
        String(run.suite),
        run.status === "running"
          ? `running (${num(run.done) || 0}/${num(run.total) || 0})` : String(run.status),
        summaryList(run),
        typeof run.error === "string" ? run.error : "",
      ]));
    ui.benchHistory.dataset.runs = String(runs.length);
    drawBenchChart(runs);
  }

  /* --- loading ------------------------------------------------------- */

  let loadSeq = 0;

  async function load() {
    const seq = ++loadSeq;
    const win = ui.window.value in SERIES_BUCKET ? ui.window.value : "24h";
    setStatus("Loading…", "loading");
    try {
      const [stats, hist] = await Promise.all([
        requestJson(`${STATS_URL}?window=${win}&series=${SERIES_BUCKET[win]}`),
        requestJson(`${BENCH_URL}?perPage=${HISTORY_RUNS}`),
      ]);
      if (seq !== loadSeq) return; // a newer load (window changed) wins
      renderEngines(stats);
      drawTimeChart(stats, win);
      drawSuccessChart(stats);
      renderHistory(hist);
      const text = chartLibrary() === null
        ? "The chart library did not load (build it with `make web-vendor`); tables only."
        : `Updated ${new Date().toLocaleTimeString()}`;
      setStatus(text, chartLibrary() === null ? "failed" : "ready");
      ui.root.dataset.window = win;
      ui.root.dataset.loads = String((Number(ui.root.dataset.loads) || 0) + 1);
    } catch (err) {
      if (seq === loadSeq) setStatus(`The statistics could not be loaded: ${err.message}`, "failed");
    }
  }

  /* --- benchmarks ---------------------------------------------------- */

  function sleep(msecs) {
    return new Promise((resolve) => setTimeout(resolve, msecs));
  }

  function benchProgress(text, fraction, state) {
    ui.benchStatus.textContent = text;
    if (fraction === null) {
      ui.benchProgress.hidden = true;
    } else {
      ui.benchProgress.hidden = false;
      ui.benchProgress.value = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    }
    ui.root.dataset.bench = state;
  }

  function setBusy(value) {
    busy = value;
    ui.benchServer.disabled = value;
    ui.benchBrowser.disabled = value;
  }

  async function benchServer() {
    if (busy) return;
    setBusy(true);
    try {
      benchProgress("Starting a run on the server engines…", 0, "server-running");
      const started = await postJson(BENCH_URL, { suite: "all",
                                                  iterations: SERVER_BENCH_ITERATIONS });
      const statusUrl = `${BENCH_URL}?id=${encodeURIComponent(String(started.id))}`;
      const deadline = performance.now() + POLL_LIMIT_MS;
      let run = started;
      while (performance.now() < deadline) {
        run = await requestJson(statusUrl);
        if (run.status !== "running") break;
        const done = num(run.done) || 0;
        const total = num(run.total) || 0;
        benchProgress(`Running on the server engines: ${done} of ${total} runs done`,
                      total > 0 ? done / total : 0, "server-running");
        await sleep(POLL_MS);
      }
      if (run.status === "done") {
        benchProgress(`Server run finished: ${num(run.done) || 0} runs`, 1, "done");
      } else if (run.status === "running") {
        benchProgress("The server run is still going; refresh later to see it.", null, "done");
      } else {
        benchProgress(`Server run failed: ${typeof run.error === "string" ? run.error : run.status}`,
                      null, "failed");
      }
    } catch (err) {
      benchProgress(`The server run could not start: ${err.message}`, null, "failed");
    } finally {
      setBusy(false);
    }
    await load();
  }

  // A Pyodide worker (web/worker.js) ready to run, or a rejection.
  function startWorker(onProgress) {
    return new Promise((resolve, reject) => {
      if (config === null || typeof config.workerUrl !== "string") {
        reject(new Error("the page configuration is missing"));
        return;
      }
      const worker = new Worker(config.workerUrl);
      const limit = Number(config.loadTimeoutMs) > 0 ? Number(config.loadTimeoutMs)
        : DEFAULT_LOAD_TIMEOUT_MS;
      const fail = (message) => {
        clearTimeout(timer);
        worker.terminate();
        reject(new Error(message));
      };
      const timer = setTimeout(() => fail(`Python did not load within ${limit / 1000} s`), limit);
      worker.onerror = (event) => {
        event.preventDefault();
        fail(event.message || "the worker script failed");
      };
      worker.onmessage = (event) => {
        const msg = event.data;
        if (msg === null || typeof msg !== "object") return;
        if (msg.type === "progress") {
          onProgress(Number(msg.percent) || 0);
        } else if (msg.type === "load-error") {
          fail(`Python could not be loaded (${msg.stage}): ${msg.message}`);
        } else if (msg.type === "ready") {
          clearTimeout(timer);
          worker.onmessage = null;
          worker.onerror = null;
          resolve(worker);
        }
      };
      worker.postMessage({ type: "init", config, interruptBuffer: null });
    });
  }

  let nextRunId = 1;

  // One run in the worker: {result, fatal}; a timeout or crash rejects.
  function runInWorker(worker, code, dataText) {
    return new Promise((resolve, reject) => {
      const id = nextRunId++;
      const timer = setTimeout(() => {
        const err = new Error(`a case took longer than ${BROWSER_CASE_LIMIT_MS / 1000} s`);
        err.status = "timeout";
        reject(err);
      }, BROWSER_CASE_LIMIT_MS);
      worker.onmessage = (event) => {
        const msg = event.data;
        if (msg && msg.type === "result" && msg.id === id) {
          clearTimeout(timer);
          resolve({ result: msg.result || {}, fatal: Boolean(msg.fatal) });
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        clearTimeout(timer);
        const err = new Error(event.message || "the Python worker crashed");
        err.status = "engine_error";
        reject(err);
      };
      // Each case starts from fresh globals, as on the server (the worker
      // keeps one session across runs for the sandbox page).
      worker.postMessage({ type: "reset", id: `${id}-reset` });
      worker.postMessage({ type: "run", id, code, dataText });
    });
  }

  // True when a case failed only because the browser engine lacks one of
  // its packages (no wheel served, fetch or hash failure): recorded as
  // skipped, as the server does for an engine that cannot import a case.
  function lacksPackage(result, needs) {
    const meta = result.metadata || {};
    if (Array.isArray(meta.missingPackages) && meta.missingPackages.length > 0) return true;
    const err = result.error;
    return Boolean(err && err.type === "ModuleNotFoundError" &&
                   needs.includes(String(err.missingModule || "").split(".")[0]));
  }

  async function benchBrowser() {
    if (busy) return;
    setBusy(true);
    let worker = null;
    try {
      benchProgress("Loading the benchmark cases…", 0, "browser-running");
      const catalogue = await requestJson(`${BENCH_URL}?cases=1`);
      const cases = Array.isArray(catalogue.cases) ? catalogue.cases : [];
      const dataText = JSON.stringify(Array.isArray(catalogue.data) ? catalogue.data : []);
      benchProgress("Loading Python in this browser…", 0, "browser-running");
      worker = await startWorker((p) =>
        benchProgress(`Loading Python in this browser… ${Math.round(p)} %`, 0, "browser-running"));
      const results = [];
      const total = cases.length * BROWSER_BENCH_ITERATIONS;
      let stopped = "";
      for (const c of cases) {
        if (stopped) break; // the worker is gone: what was measured is posted
        const name = String(c.name);
        const needs = String(c.packages || "").split(" ").filter(Boolean);
        let skip = false;
        for (let it = 0; it < BROWSER_BENCH_ITERATIONS; it++) {
          benchProgress(`Running in this browser: ${name}, run ${it + 1} of ` +
                        `${BROWSER_BENCH_ITERATIONS} (${results.length} of ${total} done)`,
                        results.length / total, "browser-running");
          if (stopped) break;
          if (skip) {
            results.push({ case: name, iteration: it, status: "skipped", wallMs: 0 });
            continue;
          }
          const t0 = performance.now();
          let outcome;
          try {
            outcome = await runInWorker(worker, String(c.code), c.data ? dataText : "[]");
          } catch (err) {
            // Timed out or crashed: this worker is done for.
            results.push({ case: name, iteration: it, status: err.status || "engine_error",
                           wallMs: Math.round((performance.now() - t0) * 1000) / 1000 });
            stopped = err.message;
            continue;
          }
          const wallMs = Math.round((performance.now() - t0) * 1000) / 1000;
          const r = outcome.result;
          if (lacksPackage(r, needs)) {
            skip = true;
            results.push({ case: name, iteration: it, status: "skipped", wallMs: 0 });
            continue;
          }
          const entry = { case: name, iteration: it,
                          status: outcome.fatal ? "engine_error" : String(r.status || "error"),
                          wallMs };
          if (num(r.executionTime) !== null) entry.execMs = r.executionTime;
          results.push(entry);
          if (outcome.fatal) stopped = "the Python runtime failed";
        }
      }
      worker.terminate();
      worker = null;
      benchProgress("Saving the results…", 1, "browser-running");
      const saved = await postJson(BENCH_URL, { source: "browser", suite: "all", results });
      const ok = results.filter((r) => r.status === "ok").length;
      const skipped = results.filter((r) => r.status === "skipped").length;
      benchProgress(`Browser run saved: ${ok} ok, ${skipped} skipped of ${results.length}` +
                    (stopped ? ` (stopped early: ${stopped})` : ""), 1, "done");
      ui.root.dataset.browserRun = String(saved.id || "");
    } catch (err) {
      benchProgress(`The browser run failed: ${err.message}`, null, "failed");
    } finally {
      if (worker !== null) worker.terminate();
      setBusy(false);
    }
    await load();
  }

  /* --- wiring -------------------------------------------------------- */

  function onDomReady() {
    const $ = (id) => document.getElementById(id);
    ui = {
      root: document.documentElement,
      status: $("status"),
      statusText: $("status-text"),
      window: $("window"),
      refresh: $("refresh"),
      engines: $("engines"),
      chartTime: $("chart-time"),
      chartSuccess: $("chart-success"),
      chartBench: $("chart-bench"),
      benchServer: $("bench-server"),
      benchBrowser: $("bench-browser"),
      benchProgress: $("bench-progress"),
      benchStatus: $("bench-status"),
      benchHistory: $("bench-history"),
    };
    ui.window.addEventListener("change", load);
    ui.refresh.addEventListener("click", load);
    ui.benchServer.addEventListener("click", benchServer);
    ui.benchBrowser.addEventListener("click", benchBrowser);
    load();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onDomReady);
  } else {
    onDomReady();
  }
})();
