/* report.js - analysis reports and interactive charts for the sandbox page.
 *
 * A classic script (no modules) exposing window.pysbReport:
 *   ensureChartJs()                 loads /static/vendor/chart.umd.min.js once
 *   renderCharts(container, charts) draws a result's `charts` (matplotlib
 *                                   figures) in place of the container's
 *                                   contents: Chart.js when the entry carries
 *                                   chart data, the PNG otherwise
 *   isReport(result)                a batch analysis (templates/analysis/
 *                                   analysis.py) or a result with insights
 *   renderReport(container, result, {dataText})
 *                                   findings first, then charts drawn from the
 *                                   result JSON, the data preview, and the raw
 *                                   JSON in a closed <details>
 * Both render functions return a promise that resolves once every chart is
 * drawn (or has fallen back to its PNG / a note).
 *
 * Untrusted text (column names, values, messages, titles) reaches the DOM only
 * through textContent, attribute values and elements built here; Chart.js
 * draws its labels on canvas.  The page's CSP allows all of it: the library
 * and report.css come from our own origin, PNGs are checked base64 before they
 * become data: URLs, downloads use data: and blob: URLs.
 * Described in docs/design/reports.md.
 */
"use strict";

(function () {
  const CHART_JS_URL = "/static/vendor/chart.umd.min.js";
  const STYLESHEET_URL = "/static/report.css";
  const ANALYSIS_TYPES = new Set(["descriptive", "correlation", "comprehensive", "text"]);
  const COLORS = ["#2457c5", "#c0392b", "#1e7b3a", "#b35c00", "#8e44ad", "#16808a",
                  "#6d6d00", "#555f6e"];
  const POSITIVE_RGB = [0xc0, 0x39, 0x2b];
  const NEGATIVE_RGB = [0x24, 0x57, 0xc5];
  const EMPTY_CELL = "#e3e7ee";
  // Findings shown at most (the harness sends at most 50 insights).
  const MAX_FINDINGS = 50;
  // |r| from which the analysis' own correlation pairs become findings.
  const STRONG_R = 0.7;
  // Points of a trend line drawn at most (evenly sampled after sorting).
  const MAX_TREND_POINTS = 2000;
  const PREVIEW_ROWS = 10;
  const PREVIEW_COLUMNS = 30;
  const CELL_MAX_CHARS = 200;
  // Tick labels longer than this are cut on the axes (tooltips keep them whole).
  const TICK_MAX_CHARS = 24;
  const PNG_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

  let chartJsPromise = null;
  let nextId = 0;

  /* --- loading --------------------------------------------------------- */

  function chartLibrary() {
    return typeof window.Chart === "function" ? window.Chart : null;
  }

  // Resolves with window.Chart; rejects when the library cannot be loaded
  // (the next call tries again).
  function ensureChartJs() {
    if (chartLibrary() !== null) return Promise.resolve(chartLibrary());
    if (chartJsPromise !== null) return chartJsPromise;
    chartJsPromise = new Promise((resolve, reject) => {
      const href = new URL(CHART_JS_URL, document.baseURI).href;
      const existing = Array.from(document.scripts).find((s) => s.src === href);
      // A tag the page already has that has run (deferred scripts run before
      // DOMContentLoaded) without defining Chart has failed: load our own.
      const script = existing && document.readyState === "loading" ? existing
        : document.createElement("script");
      const fail = (message) => {
        chartJsPromise = null;
        if (script !== existing) script.remove();
        reject(new Error(message));
      };
      script.addEventListener("load", () => {
        if (chartLibrary() !== null) resolve(chartLibrary());
        else fail(`${CHART_JS_URL} loaded but defined no Chart`);
      }, { once: true });
      script.addEventListener("error", () => fail(`${CHART_JS_URL} could not be loaded`),
                              { once: true });
      if (script !== existing) {
        script.src = CHART_JS_URL;
        script.async = true;
        document.head.appendChild(script);
      }
    });
    return chartJsPromise;
  }

  // report.css, added once unless the page links it itself.
  function ensureStylesheet() {
    const href = new URL(STYLESHEET_URL, document.baseURI).href;
    const linked = Array.from(document.querySelectorAll('link[rel="stylesheet"]'))
      .some((l) => l.href === href);
    if (linked) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = STYLESHEET_URL;
    document.head.appendChild(link);
  }

  // Charts whose canvas left the document (the page replaced its results):
  // Chart.js would keep them in its registry for ever otherwise.
  function destroyDetachedCharts() {
    const Chart = chartLibrary();
    if (Chart === null || !Chart.instances) return;
    for (const chart of Object.values(Chart.instances)) {
      if (chart && chart.canvas && !chart.canvas.isConnected) chart.destroy();
    }
  }

  /* --- small helpers --------------------------------------------------- */

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function num(v) {
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  }

  function str(v) {
    return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
  }

  function cut(text, max) {
    const s = str(text);
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }

  // Numbers as people read them: integers whole, others to 4 significant digits.
  function fmt(v) {
    const n = num(v);
    if (n === null) return str(v);
    if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
    const a = Math.abs(n);
    if (a !== 0 && (a < 1e-4 || a >= 1e9)) return n.toExponential(3);
    return String(Number(n.toPrecision(4)));
  }

  // JSON text of a value that may hold BigInts (sandbox.js parses integers
  // beyond 2^53 as BigInt so they are not rounded): written with all their
  // digits, which JSON.stringify alone refuses to do.
  function jsonText(value, indent) {
    const raw = typeof JSON.rawJSON === "function";
    return JSON.stringify(value, (key, v) => (typeof v === "bigint"
      ? (raw ? JSON.rawJSON(v.toString()) : v.toString()) : v), indent);
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || `${one}s`}`;
  }

  function slug(text, fallback) {
    const s = str(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")
      .slice(0, 60);
    return s || fallback;
  }

  function color(i) {
    return COLORS[i % COLORS.length];
  }

  function withAlpha(hex, alpha) {
    const v = parseInt(hex.slice(1), 16);
    return `rgba(${v >> 16}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
  }

  function axisTitle(label, unit) {
    const l = str(label);
    const u = str(unit);
    const text = u && !l.includes(u) ? (l ? `${l} (${u})` : u) : l;
    return { display: text !== "", text };
  }

  function baseOptions(extra) {
    const options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: false },
      plugins: {
        legend: { display: false, position: "bottom" },
        tooltip: { enabled: true },
      },
    };
    return Object.assign(options, extra || {});
  }

  function cutTicks(scale) {
    return Object.assign({ ticks: { callback(value) {
      const label = this.getLabelForValue(value);
      return typeof label === "string" ? cut(label, TICK_MAX_CHARS) : label;
    } } }, scale || {});
  }

  /* --- figures --------------------------------------------------------- */

  // One chart's frame: heading, buttons, a box for canvases, an optional PNG.
  function buildFigure({ title, level, kind, pngData, alt }) {
    const figure = el("figure", "pysb-chart");
    figure.dataset.kind = kind;
    const head = el("div", "pysb-chart-head");
    const heading = el(`h${level}`, "pysb-chart-title", title || "Chart");
    heading.id = `pysb-chart-${++nextId}`;
    figure.setAttribute("aria-labelledby", heading.id);
    const buttons = el("div", "pysb-chart-buttons");
    head.append(heading, buttons);
    const box = el("div", "pysb-chart-canvases");
    figure.append(head, box);
    let img = null;
    if (pngData) {
      img = el("img", "pysb-chart-png");
      img.alt = alt || title || "Chart";
      img.src = `data:image/png;base64,${pngData}`;
      img.hidden = true;
      figure.appendChild(img);
    }
    return { figure, heading, buttons, box, img, canvases: [] };
  }

  function addCanvas(fig, label, extraClass) {
    const wrap = el("div", `pysb-chart-box${extraClass ? ` ${extraClass}` : ""}`);
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", label);
    canvas.textContent = label; // fallback content for agents without canvas
    wrap.appendChild(canvas);
    fig.box.appendChild(wrap);
    fig.canvases.push(canvas);
    return canvas;
  }

  function showPng(fig, on) {
    fig.box.hidden = on;
    if (fig.img) fig.img.hidden = !on;
    fig.figure.dataset.shown = on ? "png" : "chart";
  }

  // The PNG the figure shows: the original image, or its canvases stacked on
  // a white background (Chart.js canvases are transparent).
  function figureBlob(fig) {
    if (fig.img && (!fig.img.hidden || fig.canvases.length === 0)) {
      // Decoded here: fetching the data: URL would need connect-src data:.
      const bytes = atob(fig.img.src.slice(fig.img.src.indexOf(",") + 1));
      const buf = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) buf[i] = bytes.charCodeAt(i);
      return Promise.resolve(new Blob([buf], { type: "image/png" }));
    }
    const canvases = fig.canvases.filter((c) => c.width > 0 && c.height > 0);
    const out = document.createElement("canvas");
    out.width = Math.max(1, ...canvases.map((c) => c.width));
    out.height = Math.max(1, canvases.reduce((h, c) => h + c.height, 0));
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    let y = 0;
    for (const c of canvases) {
      ctx.drawImage(c, 0, y);
      y += c.height;
    }
    return new Promise((resolve, reject) => out.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("the chart could not be encoded"))),
      "image/png"));
  }

  function addDownload(fig, title) {
    const button = el("button", "secondary pysb-download", "Download PNG");
    button.type = "button";
    button.setAttribute("aria-label", `Download ${title ? `“${title}”` : "the chart"} as PNG`);
    button.addEventListener("click", async () => {
      try {
        const blob = await figureBlob(fig);
        const url = URL.createObjectURL(blob);
        const a = document.createElement("a");
        a.href = url;
        a.download = `${slug(title, "chart")}.png`;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (err) {
        console.warn("pysandbox: download failed", err);
      }
    });
    fig.buttons.appendChild(button);
  }

  function addToggle(fig) {
    const button = el("button", "secondary pysb-toggle", "Show image");
    button.type = "button";
    button.addEventListener("click", () => {
      const toPng = fig.figure.dataset.shown !== "png";
      showPng(fig, toPng);
      button.textContent = toPng ? "Show interactive chart" : "Show image";
    });
    fig.buttons.insertBefore(button, fig.buttons.firstChild);
  }

  function note(fig, text) {
    fig.figure.appendChild(el("p", "pysb-note", text));
  }

  // Draws one Chart.js config on a canvas; false when Chart.js refused it.
  function draw(Chart, canvas, config) {
    try {
      const chart = new Chart(canvas, config);
      canvas.dataset.drawn = "true";
      return chart !== null;
    } catch (err) {
      console.warn("pysandbox: chart not drawn", err);
      return false;
    }
  }

  /* --- matplotlib chart data (common.md schema) -> Chart.js ----------- */

  const KIND_NAMES = { line: "Line chart", scatter: "Scatter plot", bar: "Bar chart",
                       pie: "Pie chart", box_and_whisker: "Box plot" };

  function points(element) {
    const out = [];
    for (const p of Array.isArray(element.points) ? element.points : []) {
      if (!Array.isArray(p) || p.length < 2) continue;
      const y = num(p[1]);
      const x = typeof p[0] === "string" ? p[0] : num(p[0]);
      if (x !== null && y !== null) out.push([x, y]);
    }
    return out;
  }

  function xyConfig(spec, type) {
    const elements = (Array.isArray(spec.elements) ? spec.elements : []).filter(isObject);
    const series = elements.map((e, i) => ({ label: str(e.label) || `series ${i + 1}`,
                                             points: points(e) }));
    if (series.length === 0 || series.every((s) => s.points.length === 0)) return null;
    const categorical = series.some((s) => s.points.some(([x]) => typeof x === "string"));
    const labels = [];
    if (categorical) {
      const seen = new Set();
      const ticks = Array.isArray(spec.xTickLabels) ? spec.xTickLabels.map(str) : [];
      for (const t of ticks) if (!seen.has(t)) { seen.add(t); labels.push(t); }
      for (const s of series) {
        for (const [x] of s.points) {
          const k = str(x);
          if (!seen.has(k)) { seen.add(k); labels.push(k); }
        }
      }
    }
    const datasets = series.map((s, i) => ({
      label: s.label,
      data: s.points.map(([x, y]) => ({ x: categorical ? str(x) : x, y })),
      borderColor: color(i),
      backgroundColor: type === "scatter" ? withAlpha(color(i), 0.7) : color(i),
      pointRadius: type === "scatter" ? 4 : s.points.length > 200 ? 0 : 3,
      borderWidth: 2,
      showLine: type === "line",
    }));
    const x = cutTicks({ type: categorical ? "category" : "linear",
                         title: axisTitle(spec.xLabel, spec.xUnit) });
    const data = { datasets };
    if (categorical) data.labels = labels;
    return {
      type,
      data,
      options: baseOptions({
        plugins: { legend: { display: datasets.length > 1, position: "bottom" },
                   tooltip: { enabled: true } },
        scales: { x, y: { type: "linear", title: axisTitle(spec.yLabel, spec.yUnit) } },
      }),
      describe: `${plural(datasets.length, "series", "series")}, ` +
                `${plural(series.reduce((n, s) => n + s.points.length, 0), "point")}`,
    };
  }

  function barConfig(spec) {
    const elements = (Array.isArray(spec.elements) ? spec.elements : [])
      .filter((e) => isObject(e) && num(e.value) !== null);
    if (elements.length === 0) return null;
    const labels = [];
    const groups = [];
    const values = new Map();
    for (const e of elements) {
      const label = str(e.label);
      const group = str(e.group);
      if (!labels.includes(label)) labels.push(label);
      if (!groups.includes(group)) groups.push(group);
      values.set(`${group}\u0000${label}`, e.value);
    }
    const datasets = groups.map((g, i) => ({
      label: g || str(spec.yLabel) || "value",
      data: labels.map((l) => (values.has(`${g}\u0000${l}`) ? values.get(`${g}\u0000${l}`) : null)),
      backgroundColor: color(i),
    }));
    return {
      type: "bar",
      data: { labels, datasets },
      options: baseOptions({
        plugins: { legend: { display: datasets.length > 1, position: "bottom" },
                   tooltip: { enabled: true } },
        scales: { x: cutTicks({ title: axisTitle(spec.xLabel, spec.xUnit) }),
                  y: { title: axisTitle(spec.yLabel, spec.yUnit) } },
      }),
      describe: `${plural(labels.length, "bar")} in ${plural(datasets.length, "group")}`,
    };
  }

  function pieConfig(spec) {
    const elements = (Array.isArray(spec.elements) ? spec.elements : [])
      .filter((e) => isObject(e) && num(e.angle) !== null && e.angle >= 0);
    if (elements.length === 0) return null;
    return {
      type: "pie",
      data: {
        labels: elements.map((e) => str(e.label)),
        datasets: [{ label: str(spec.title) || "share", data: elements.map((e) => e.angle),
                     backgroundColor: elements.map((e, i) => color(i)) }],
      },
      options: baseOptions({
        interaction: { mode: "nearest", intersect: true },
        plugins: { legend: { display: true, position: "bottom" }, tooltip: { enabled: true } },
      }),
      describe: plural(elements.length, "slice"),
    };
  }

  // Box plots as floating bars: the whiskers' range thin, the quartiles'
  // box wide, the median as a dash and outliers as points.
  function boxConfig(spec) {
    const keys = ["min", "firstQuartile", "median", "thirdQuartile", "max"];
    const boxes = (Array.isArray(spec.elements) ? spec.elements : [])
      .filter((e) => isObject(e) && keys.every((k) => num(e[k]) !== null));
    if (boxes.length === 0) return null;
    const labels = boxes.map((b, i) => str(b.label) || `box ${i + 1}`);
    const outliers = [];
    boxes.forEach((b, i) => {
      for (const v of Array.isArray(b.outliers) ? b.outliers : []) {
        if (num(v) !== null) outliers.push({ x: labels[i], y: v });
      }
    });
    const range = (ctx) => {
      const raw = ctx.raw;
      return Array.isArray(raw) ? `${ctx.dataset.label}: ${fmt(raw[0])} to ${fmt(raw[1])}`
        : `${ctx.dataset.label}: ${fmt(ctx.parsed.y)}`;
    };
    return {
      type: "bar",
      data: {
        labels,
        datasets: [
          { type: "bar", label: "min to max", data: boxes.map((b) => [b.min, b.max]),
            backgroundColor: "#555f6e", barPercentage: 0.06, grouped: false, order: 3 },
          { type: "bar", label: "first to third quartile",
            data: boxes.map((b) => [b.firstQuartile, b.thirdQuartile]),
            backgroundColor: withAlpha(COLORS[0], 0.55), borderColor: COLORS[0], borderWidth: 1,
            barPercentage: 0.5, grouped: false, order: 2 },
          { type: "line", label: "median", data: boxes.map((b) => b.median), showLine: false,
            pointStyle: "line", pointRadius: 16, pointHoverRadius: 18, borderWidth: 3,
            borderColor: "#1d2330", backgroundColor: "#1d2330", order: 1 },
          { type: "line", label: "outliers", data: outliers, showLine: false,
            pointRadius: 3, borderColor: COLORS[1], backgroundColor: COLORS[1], order: 0 },
        ],
      },
      options: baseOptions({
        plugins: { legend: { display: true, position: "bottom" },
                   tooltip: { enabled: true, callbacks: { label: range } } },
        scales: { x: cutTicks({ title: axisTitle(spec.xLabel, spec.xUnit) }),
                  y: { title: axisTitle(spec.yLabel, spec.yUnit) } },
      }),
      describe: plural(boxes.length, "box", "boxes"),
    };
  }

  function chartConfig(spec) {
    if (!isObject(spec)) return null;
    switch (spec.type) {
      case "line": return xyConfig(spec, "line");
      case "scatter": return xyConfig(spec, "scatter");
      case "bar": return barConfig(spec);
      case "pie": return pieConfig(spec);
      case "box_and_whisker": return boxConfig(spec);
      default: return null;
    }
  }

  function describeSpec(spec, config) {
    const parts = [`${KIND_NAMES[spec.type] || "Chart"}${spec.title ? ` “${str(spec.title)}”` : ""}`];
    const x = axisTitle(spec.xLabel, spec.xUnit).text;
    const y = axisTitle(spec.yLabel, spec.yUnit).text;
    if (x || y) parts.push(`x axis ${x || "unlabelled"}, y axis ${y || "unlabelled"}`);
    parts.push(config.describe);
    if (spec.truncated) parts.push("some points were left out");
    return parts.join("; ");
  }

  // [{spec, config}] for a chart entry's data, or null when any part cannot
  // be drawn (then the PNG is shown).
  function plannedCharts(spec) {
    if (!isObject(spec)) return null;
    const specs = spec.type === "superchart"
      ? (Array.isArray(spec.elements) ? spec.elements : []) : [spec];
    if (specs.length === 0 || specs.length > 50) return null;
    const planned = [];
    for (const s of specs) {
      const config = chartConfig(s);
      if (config === null) return null;
      planned.push({ spec: s, config });
    }
    return planned;
  }

  function validPng(entry) {
    return isObject(entry) && entry.format === "png" && typeof entry.data === "string" &&
      entry.data.length > 0 && PNG_BASE64.test(entry.data) ? entry.data : null;
  }

  async function renderCharts(container, charts, options) {
    const level = (options && options.headingLevel) || 3;
    ensureStylesheet();
    destroyDetachedCharts();
    const list = Array.isArray(charts) ? charts : [];
    container.replaceChildren();
    const jobs = [];
    list.forEach((entry, i) => {
      if (!isObject(entry)) return;
      const png = validPng(entry);
      const spec = isObject(entry.chart) ? entry.chart : null;
      const planned = plannedCharts(spec);
      const title = spec && str(spec.title) ? str(spec.title) : `Chart ${i + 1}`;
      if (png === null && planned === null) return;
      const fig = buildFigure({ title, level, kind: planned ? str(spec.type) : "png",
                                pngData: png, alt: spec ? describeSpecAlt(spec, title) : title });
      container.appendChild(fig.figure);
      jobs.push({ fig, planned, title });
    });
    let Chart = null;
    if (jobs.some((j) => j.planned !== null)) {
      try {
        Chart = await ensureChartJs();
      } catch (err) {
        console.warn("pysandbox: interactive charts unavailable", err);
      }
    }
    for (const { fig, planned, title } of jobs) {
      let drawn = false;
      if (planned !== null && Chart !== null) {
        drawn = true;
        for (const { spec, config } of planned) {
          const label = describeSpec(spec, config);
          const canvas = addCanvas(fig, label);
          if (planned.length > 1 && spec.title) {
            canvas.parentNode.insertBefore(el("p", "pysb-subtitle", str(spec.title)), canvas);
          }
          const { describe, ...chartJsConfig } = config;
          if (!draw(Chart, canvas, chartJsConfig)) drawn = false;
        }
        if (!drawn && fig.img === null) note(fig, "This chart could not be drawn.");
      }
      if (drawn) {
        showPng(fig, false);
        if (fig.img) addToggle(fig);
        fig.figure.dataset.rendered = "chartjs";
      } else {
        fig.box.replaceChildren();
        fig.canvases.length = 0;
        showPng(fig, true);
        fig.figure.dataset.rendered = "png";
      }
      addDownload(fig, title);
    }
    return jobs.map((j) => j.fig.figure);
  }

  function describeSpecAlt(spec, title) {
    return `${KIND_NAMES[spec.type] || "Chart"}: ${title}`;
  }

  /* --- reports --------------------------------------------------------- */

  function isAnalysis(v) {
    return isObject(v) && ANALYSIS_TYPES.has(v.analysisType) && typeof v.rows === "number" &&
      Array.isArray(v.columns);
  }

  function isReport(result) {
    return isObject(result) && (isAnalysis(result.result) || Array.isArray(result.insights));
  }

  function findingKey(kind, columns) {
    const cols = columns.map(str);
    if (kind === "correlation") cols.sort();
    return `${kind}\u0000${cols.join("\u0000")}`;
  }

  // Sentences from analysis.py's own statistics, for a result without the
  // harness's insights.
  function analysisFindings(a) {
    const out = [];
    const rows = num(a.rows) || 0;
    const corr = isObject(a.correlation) && Array.isArray(a.correlation.pairs)
      ? a.correlation.pairs : [];
    for (const p of corr) {
      if (!isObject(p) || num(p.r) === null || Math.abs(p.r) < STRONG_R || !(p.n >= 3)) continue;
      const a = str(p.a);
      const b = str(p.b);
      const lead = p.r > 0 ? `${a} and ${b} rise together`
        : `${b} tends to fall as ${a} rises`;
      out.push({ kind: "correlation", columns: [a, b], score: Math.abs(p.r),
                 message: `${lead}: they are strongly ${p.r > 0 ? "positively" : "negatively"} ` +
                          `correlated (r = ${p.r.toFixed(2)} over ${plural(p.n, "row")}).` });
    }
    if (isObject(a.outliers)) {
      for (const [column, o] of Object.entries(a.outliers)) {
        if (!isObject(o) || !(o.count > 0)) continue;
        const first = Array.isArray(o.rows) && o.rows.length ? `, first in row ${o.rows[0]}` : "";
        out.push({ kind: "outlier", columns: [column], score: 0.6,
                   message: `${column} has ${plural(o.count, "value")} outside the usual ` +
                            `range (below ${fmt(o.low)} or above ${fmt(o.high)}: 1.5 IQR beyond ` +
                            `the quartiles)${first}.` });
      }
    }
    if (isObject(a.missing) && rows > 0) {
      for (const [column, count] of Object.entries(a.missing)) {
        if (!(count > 0)) continue;
        out.push({ kind: "missing", columns: [column], score: Math.min(1, count / rows),
                   message: `${column} is missing in ${count} of ${plural(rows, "row")} ` +
                            `(${fmt(Math.round((count / rows) * 1000) / 10)} %).` });
      }
    }
    if (num(a.duplicateRows) > 0) {
      out.push({ kind: "duplicates", columns: [], score: Math.min(1, 0.3 + a.duplicateRows / rows),
                 message: `${plural(a.duplicateRows, "row")} ${a.duplicateRows === 1 ? "repeats" : "repeat"} an ` +
                          "earlier row exactly." });
    }
    for (const c of Array.isArray(a.descriptive) ? a.descriptive : []) {
      if (isObject(c) && c.kind === "numeric" && c.count > 1 && c.min === c.max) {
        out.push({ kind: "constant", columns: [str(c.column)], score: 0.3,
                   message: `${str(c.column)} has the same value, ${fmt(c.min)}, in every row.` });
      }
    }
    return out;
  }

  function collectFindings(result) {
    const findings = [];
    const seen = new Set();
    for (const f of Array.isArray(result.insights) ? result.insights : []) {
      if (!isObject(f) || typeof f.message !== "string" || f.message === "") continue;
      const columns = Array.isArray(f.columns) ? f.columns.map(str) : [];
      const kind = str(f.kind);
      seen.add(findingKey(kind, columns));
      findings.push({ kind, columns, message: f.message, score: num(f.score) || 0,
                      evidence: isObject(f.evidence) ? f.evidence : {}, source: "insights" });
    }
    // The harness's insights, when the result has them, are the findings:
    // their rules are the robust ones (an outlier by median and MAD, where
    // analysis.py flags 1.5 IQR), and two wordings of one fact would only
    // confuse.  Without them (an older engine, a result saved before
    // insights), analysis.py's own statistics say what stands out.
    if (!Array.isArray(result.insights) && isAnalysis(result.result)) {
      for (const f of analysisFindings(result.result)) {
        if (seen.has(findingKey(f.kind, f.columns))) continue;
        seen.add(findingKey(f.kind, f.columns));
        findings.push(Object.assign({ evidence: {}, source: "analysis" }, f));
      }
    }
    findings.sort((a, b) => b.score - a.score); // stable: equal scores keep their order
    return findings.slice(0, MAX_FINDINGS);
  }

  const FINDING_KINDS = { correlation: "correlation", outlier: "outliers", trend: "trend",
                          missing: "missing values", skew: "skew", constant: "constant",
                          dominant_category: "dominant value", duplicates: "duplicates" };

  function findingsSection(findings, level) {
    const section = el("section", "pysb-findings");
    section.appendChild(el(`h${level}`, null, "Findings"));
    if (findings.length === 0) {
      section.appendChild(el("p", "pysb-note", "Nothing stands out in this data."));
      return section;
    }
    const list = el("ol", "pysb-finding-list");
    for (const f of findings) {
      const li = el("li", "pysb-finding");
      li.dataset.kind = f.kind;
      li.appendChild(el("span", "pysb-finding-text", f.message));
      li.appendChild(el("span", "pysb-finding-kind", FINDING_KINDS[f.kind] || f.kind));
      list.appendChild(li);
    }
    section.appendChild(list);
    return section;
  }

  // The posted data as rows, for trend lines and the preview; null when
  // there is none or it is not JSON.  Integers beyond 2^53 are kept as their
  // digits (display only), so nothing is shown rounded.
  function parseData(dataText) {
    if (typeof dataText !== "string" || dataText === "") return null;
    try {
      const value = JSON.parse(dataText, (key, v, context) => (
        typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v) &&
        context && typeof context.source === "string" ? context.source : v));
      return Array.isArray(value) ? value : null;
    } catch (err) {
      return null;
    }
  }

  /* report charts, each a {kind, title, label, config} drawn in its figure */

  function histogramChart(h) {
    const edges = Array.isArray(h.edges) ? h.edges.map(num) : [];
    const counts = Array.isArray(h.counts) ? h.counts.map(num) : [];
    if (counts.length === 0 || edges.length !== counts.length + 1 ||
        edges.some((e) => e === null) || counts.some((c) => c === null)) return null;
    const labels = counts.map((c, i) => (h.discrete ? fmt((edges[i] + edges[i + 1]) / 2)
      : `${fmt(edges[i])} – ${fmt(edges[i + 1])}`));
    const column = str(h.column);
    return {
      kind: "histogram",
      title: `Distribution of ${column}`,
      label: `Histogram of ${column}: ${plural(num(h.count) || 0, "value")} in ` +
             `${plural(counts.length, "bin")} from ${fmt(edges[0])} to ${fmt(edges[edges.length - 1])}`,
      config: {
        type: "bar",
        data: { labels, datasets: [{ label: "rows", data: counts, backgroundColor: COLORS[0],
                                     barPercentage: 1, categoryPercentage: 1,
                                     inflateAmount: "auto" }] },
        options: baseOptions({
          interaction: { mode: "index", intersect: false },
          scales: { x: cutTicks({ title: { display: true, text: column } }),
                    y: { beginAtZero: true, title: { display: true, text: "rows" },
                         ticks: { precision: 0 } } },
        }),
      },
    };
  }

  function heatColor(r) {
    if (num(r) === null) return EMPTY_CELL;
    const t = Math.min(1, Math.abs(r));
    const [R, G, B] = r >= 0 ? POSITIVE_RGB : NEGATIVE_RGB;
    const mix = (c) => Math.round(255 + (c - 255) * t);
    return `rgb(${mix(R)}, ${mix(G)}, ${mix(B)})`;
  }

  // Writes each cell's r on it, when the cells are big enough to read.
  const cellLabels = {
    id: "pysbCellLabels",
    afterDatasetsDraw(chart) {
      const meta = chart.getDatasetMeta(0);
      const ctx = chart.ctx;
      const size = meta.data.length ? meta.data[0].options.radius * Math.SQRT2 : 0;
      if (size < 22) return;
      ctx.save();
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = `${Math.min(14, Math.floor(size / 3))}px system-ui, sans-serif`;
      meta.data.forEach((point, i) => {
        const r = chart.data.datasets[0].data[i].r;
        ctx.fillStyle = num(r) !== null && Math.abs(r) > 0.6 ? "#ffffff" : "#1d2330";
        ctx.fillText(num(r) === null ? "–" : r.toFixed(2), point.x, point.y);
      });
      ctx.restore();
    },
  };

  // The correlation matrix as a scatter of squares, one per pair, coloured
  // from blue (r = -1) through white to red (r = 1).
  function heatmapChart(matrix) {
    const columns = Array.isArray(matrix.columns) ? matrix.columns.map(str) : [];
    const r = Array.isArray(matrix.r) ? matrix.r : [];
    const n = columns.length;
    if (n < 2 || r.length !== n) return null;
    const cells = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = Array.isArray(r[i]) ? num(r[i][j]) : null;
        cells.push({ x: j, y: n - 1 - i, r: v, a: columns[i], b: columns[j] });
      }
    }
    const radius = (ctx) => {
      const area = ctx.chart.chartArea;
      if (!area) return 4;
      return Math.max(2, (Math.min(area.width, area.height) / n) * 0.96 / Math.SQRT2);
    };
    const tick = (flip) => ({
      autoSkip: n > 12, // names of many columns would overlap
      callback: (v) => (Number.isInteger(v) && v >= 0 && v < n
        ? cut(columns[flip ? n - 1 - v : v], TICK_MAX_CHARS) : ""),
    });
    // One tick per column, at the cells' centres (a linear scale from -0.5
    // would put its ticks on the cells' edges).
    const columnTicks = (axis) => {
      axis.ticks = columns.map((_, i) => ({ value: i }));
    };
    const strongest = cells.filter((c) => c.x !== n - 1 - c.y && c.r !== null)
      .sort((p, q) => Math.abs(q.r) - Math.abs(p.r))[0];
    return {
      kind: "heatmap",
      title: "Correlation between numeric columns",
      label: `Correlation heatmap of ${plural(n, "column")} (${columns.join(", ")})` +
             (strongest ? `; strongest: ${strongest.a} and ${strongest.b}, r = ${strongest.r.toFixed(2)}` : ""),
      boxClass: "pysb-square",
      config: {
        type: "scatter",
        data: { datasets: [{
          label: "Pearson r",
          data: cells,
          pointStyle: "rect",
          pointRadius: radius,
          pointHoverRadius: radius,
          backgroundColor: cells.map((c) => heatColor(c.r)),
          borderColor: "#ffffff",
          borderWidth: 1,
        }] },
        options: baseOptions({
          maintainAspectRatio: true,
          aspectRatio: 1,
          interaction: { mode: "nearest", intersect: true },
          plugins: {
            legend: { display: false },
            tooltip: { enabled: true, callbacks: {
              title: () => "",
              label: (ctx) => `${ctx.raw.a} × ${ctx.raw.b}: r = ` +
                              (ctx.raw.r === null ? "none" : ctx.raw.r.toFixed(3)),
            } },
          },
          scales: {
            x: { type: "linear", min: -0.5, max: n - 0.5, grid: { display: false },
                 ticks: tick(false), afterBuildTicks: columnTicks },
            y: { type: "linear", min: -0.5, max: n - 0.5, grid: { display: false },
                 ticks: tick(true), afterBuildTicks: columnTicks },
          },
        }),
        plugins: [cellLabels],
      },
    };
  }

  function scatterChart(s) {
    const pts = (Array.isArray(s.points) ? s.points : [])
      .filter((p) => Array.isArray(p) && num(p[0]) !== null && num(p[1]) !== null)
      .map((p) => ({ x: p[0], y: p[1] }));
    if (pts.length === 0) return null;
    const x = str(s.x);
    const y = str(s.y);
    const r = num(s.r);
    const sampled = s.truncated ? ` (${pts.length} of ${num(s.n) || pts.length} points, evenly sampled)` : "";
    return {
      kind: "scatter",
      title: `${y} against ${x}${r !== null ? ` (r = ${r.toFixed(2)})` : ""}`,
      label: `Scatter plot of ${y} against ${x}, the most correlated pair` +
             `${r !== null ? `, r = ${r.toFixed(2)}` : ""}: ${plural(pts.length, "point")}${sampled}`,
      config: {
        type: "scatter",
        data: { datasets: [{ label: `${x}, ${y}`, data: pts, pointRadius: pts.length > 500 ? 2 : 4,
                             backgroundColor: withAlpha(COLORS[0], 0.6), borderColor: COLORS[0] }] },
        options: baseOptions({
          interaction: { mode: "nearest", intersect: true },
          scales: { x: { type: "linear", title: { display: true, text: x } },
                    y: { type: "linear", title: { display: true, text: y } } },
        }),
      },
    };
  }

  const DAY_MS = 86400000;

  // x of a row for a trend: numbers as they are, dates as days since 1970
  // (the harness's slope is per day, and a linear axis then puts its ticks
  // on whole days).
  function orderValue(v) {
    if (num(v) !== null) return { x: v, date: false };
    if (typeof v === "string" && v !== "") {
      const t = Date.parse(v);
      if (Number.isFinite(t)) return { x: t / DAY_MS, date: true };
    }
    return null;
  }

  // At most one date tick per 90 px: Chart.js counts a linear axis's room
  // for ticks by the numbers' digits, not by the dates shown for them.
  function spaceDateTicks(axis) {
    const room = Math.max(2, Math.floor(axis.width / 90));
    if (axis.ticks.length > room) {
      const step = Math.ceil(axis.ticks.length / room);
      axis.ticks = axis.ticks.filter((_, i) => i % step === 0);
    }
  }

  function trendChart(finding, rows) {
    const value = finding.columns[0];
    const order = str(finding.evidence.orderBy) || finding.columns[1];
    if (!value || rows === null) return null;
    const pts = [];
    let dates = 0;
    rows.forEach((row, i) => {
      if (!isObject(row) || num(row[value]) === null) return;
      const o = order && Object.prototype.hasOwnProperty.call(row, order)
        ? orderValue(row[order]) : { x: i, date: false };
      if (o === null) return;
      if (o.date) dates++;
      pts.push({ x: o.x, y: row[value] });
    });
    if (pts.length < 2) return null;
    pts.sort((p, q) => p.x - q.x);
    const shown = pts.length > MAX_TREND_POINTS
      ? Array.from({ length: MAX_TREND_POINTS },
                   (_, k) => pts[Math.floor((k * pts.length) / MAX_TREND_POINTS)]) : pts;
    // Least-squares line over every point, drawn from the first x to the last.
    const n = pts.length;
    const mx = pts.reduce((s, p) => s + p.x, 0) / n;
    const my = pts.reduce((s, p) => s + p.y, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (const p of pts) {
      sxy += (p.x - mx) * (p.y - my);
      sxx += (p.x - mx) * (p.x - mx);
    }
    const slope = sxx > 0 ? sxy / sxx : 0;
    const first = pts[0].x;
    const last = pts[n - 1].x;
    const isDate = dates === pts.length;
    const orderName = order && rows.some((r) => isObject(r) && order in r) ? order : "row";
    const tickText = (v) => (isDate ? new Date(Math.round(v * DAY_MS)).toISOString().slice(0, 10)
      : fmt(v));
    return {
      kind: "trend",
      title: `${value} over ${orderName}`,
      label: `Line chart of ${value} over ${orderName}: ${plural(n, "point")}, ` +
             `${str(finding.evidence.direction) || (slope >= 0 ? "increasing" : "decreasing")}, ` +
             "with its fitted line",
      config: {
        type: "line",
        data: { datasets: [
          { label: value, data: shown, borderColor: COLORS[0], backgroundColor: COLORS[0],
            pointRadius: shown.length > 200 ? 0 : 2, borderWidth: 2 },
          { label: "fitted trend", data: [{ x: first, y: my + slope * (first - mx) },
                                          { x: last, y: my + slope * (last - mx) }],
            borderColor: COLORS[1], backgroundColor: COLORS[1], borderDash: [6, 4],
            pointRadius: 0, borderWidth: 2 },
        ] },
        options: baseOptions({
          plugins: { legend: { display: true, position: "bottom",
                               labels: { boxWidth: 24, boxHeight: 3 } }, tooltip: {
            enabled: true, callbacks: { title: (items) => (items.length ? tickText(items[0].parsed.x) : "") },
          } },
          scales: { x: { type: "linear", min: first, max: last,
                         title: { display: true, text: orderName },
                         // Nice ticks within the data only: ticks at its
                         // first and last x would crowd their neighbours.
                         ticks: { callback: tickText, maxTicksLimit: 8, includeBounds: false },
                         afterBuildTicks: isDate ? spaceDateTicks : undefined },
                    y: { title: { display: true, text: value } } },
        }),
      },
    };
  }

  function barsChart(kind, title, label, axis, pairs) {
    const labels = pairs.map(([v]) => str(v));
    const data = pairs.map(([, n]) => n);
    return {
      kind,
      title,
      label,
      tall: pairs.length > 8,
      config: {
        type: "bar",
        data: { labels, datasets: [{ label: "count", data, backgroundColor: COLORS[2] }] },
        options: baseOptions({
          indexAxis: "y",
          interaction: { mode: "index", intersect: false },
          scales: { y: cutTicks({ title: { display: true, text: axis } }),
                    x: { beginAtZero: true, title: { display: true, text: "count" },
                         ticks: { precision: 0 } } },
        }),
      },
    };
  }

  function categoryChart(c) {
    const top = (Array.isArray(c.top) ? c.top : [])
      .filter((p) => Array.isArray(p) && num(p[1]) !== null);
    if (top.length === 0) return null;
    const pairs = top.map(([v, n]) => [v === null ? "(none)" : str(v), n]);
    if (num(c.other) > 0) pairs.push(["(all other values)", c.other]);
    const column = str(c.column);
    return barsChart("categories", `Most frequent values of ${column}`,
                     `Bar chart of the ${plural(top.length, "most frequent value")} of ${column}: ` +
                     pairs.map(([v, n]) => `${v} ${n}`).join(", "), column, pairs);
  }

  function wordsChart(text) {
    const top = (Array.isArray(text.topWords) ? text.topWords : [])
      .filter((p) => Array.isArray(p) && num(p[1]) !== null);
    if (top.length === 0) return null;
    return barsChart("words", "Most frequent words",
                     `Bar chart of the ${plural(top.length, "most frequent word")}: ` +
                     top.map(([w, n]) => `${str(w)} ${n}`).join(", "), "word", top);
  }

  function reportCharts(result, findings, rows) {
    const a = isAnalysis(result.result) ? result.result : {};
    const charts = [];
    const push = (c) => { if (c !== null) charts.push(c); };
    const corr = isObject(a.correlation) ? a.correlation : {};
    if (isObject(corr.matrix)) push(heatmapChart(corr.matrix));
    if (isObject(corr.scatter)) push(scatterChart(corr.scatter));
    for (const f of findings) if (f.kind === "trend") push(trendChart(f, rows));
    for (const h of Array.isArray(a.histograms) ? a.histograms : []) {
      if (isObject(h)) push(histogramChart(h));
    }
    for (const c of Array.isArray(a.categories) ? a.categories : []) {
      if (isObject(c)) push(categoryChart(c));
    }
    // Word counts of short category values would repeat their bars: words
    // are charted for a text analysis or documents only.
    if (isObject(a.text) && (a.analysisType === "text" || a.columns.length === 0)) {
      push(wordsChart(a.text));
    }
    return charts;
  }

  function cellText(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return cut(v, CELL_MAX_CHARS);
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
    try {
      return cut(jsonText(v), CELL_MAX_CHARS);
    } catch (err) {
      return "";
    }
  }

  // {columns, rows: [[cell]], total}: analysis.py's preview, or the first
  // rows of the posted data.
  function previewTable(result, rows) {
    const a = isAnalysis(result.result) ? result.result : null;
    if (a && isObject(a.preview) && Array.isArray(a.preview.columns) &&
        Array.isArray(a.preview.rows)) {
      return { columns: a.preview.columns.map(str), rows: a.preview.rows.filter(Array.isArray),
               total: a.rows, more: num(a.preview.columnsOmitted) || 0 };
    }
    if (rows === null || rows.length === 0) return null;
    const first = rows.slice(0, PREVIEW_ROWS);
    if (first.every(isObject)) {
      const columns = [];
      for (const r of first) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
      const shown = columns.slice(0, PREVIEW_COLUMNS);
      return { columns: shown, rows: first.map((r) => shown.map((c) => r[c])), total: rows.length,
               more: columns.length - shown.length };
    }
    return { columns: ["value"], rows: first.map((r) => [r]), total: rows.length, more: 0 };
  }

  function previewSection(preview, level) {
    const section = el("section", "pysb-preview");
    section.appendChild(el(`h${level}`, null, "Data preview"));
    const total = num(preview.total);
    section.appendChild(el("p", "pysb-note",
      `First ${plural(preview.rows.length, "row")}${total !== null ? ` of ${total}` : ""}` +
      (preview.more > 0 ? `; ${plural(preview.more, "more column")} not shown` : "") + "."));
    const wrap = el("div", "pysb-table-wrap");
    wrap.tabIndex = 0; // scrollable with the keyboard
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Data preview table");
    const table = el("table", "pysb-table");
    const tr = table.createTHead().insertRow();
    for (const c of preview.columns) {
      const th = el("th", null, c);
      th.scope = "col";
      tr.appendChild(th);
    }
    const body = table.createTBody();
    for (const row of preview.rows) {
      const r = body.insertRow();
      preview.columns.forEach((c, i) => {
        const td = r.insertCell();
        td.textContent = cellText(row[i]);
        if (typeof row[i] === "number" || typeof row[i] === "bigint") td.className = "num";
      });
    }
    wrap.appendChild(table);
    section.appendChild(wrap);
    return section;
  }

  function rawSection(result) {
    const details = el("details", "pysb-raw");
    details.appendChild(el("summary", null, "Raw JSON"));
    const pre = el("pre", "pysb-raw-json");
    pre.textContent = jsonText(result.result === undefined ? null : result.result, 2);
    details.appendChild(pre);
    if (Array.isArray(result.insights)) {
      details.appendChild(el("p", "pysb-note", "insights"));
      const ins = el("pre", "pysb-raw-json pysb-raw-insights");
      ins.textContent = jsonText(result.insights, 2);
      details.appendChild(ins);
    }
    return details;
  }

  function summaryLine(result) {
    const a = isAnalysis(result.result) ? result.result : null;
    if (a === null) return "Findings computed from the run's data.";
    const kind = a.analysisType.charAt(0).toUpperCase() + a.analysisType.slice(1);
    const docs = a.columns.length === 0 && isObject(a.text);
    return `${kind} analysis of ${plural(a.rows, docs ? "document" : "row")}` +
           (a.columns.length ? ` and ${plural(a.columns.length, "column")}` : "") + ".";
  }

  async function renderReport(container, result, options) {
    const level = (options && options.headingLevel) || 2;
    ensureStylesheet();
    destroyDetachedCharts();
    const rows = parseData(options && options.dataText);
    const findings = collectFindings(isObject(result) ? result : {});
    const section = el("section", "pysb-report");
    section.dataset.state = "drawing";
    section.dataset.findings = String(findings.length);
    const heading = el(`h${level}`, null, "Report");
    heading.id = `pysb-report-${++nextId}`;
    section.setAttribute("aria-labelledby", heading.id);
    section.append(heading, el("p", "pysb-summary", summaryLine(result)));
    section.appendChild(findingsSection(findings, level + 1));

    const charts = reportCharts(result, findings, rows);
    const figures = [];
    if (charts.length) {
      const chartsSection = el("section", "pysb-report-charts");
      chartsSection.appendChild(el(`h${level + 1}`, null, "Charts"));
      const grid = el("div", "pysb-chart-grid");
      for (const c of charts) {
        const fig = buildFigure({ title: c.title, level: level + 2, kind: c.kind });
        if (c.tall) fig.figure.classList.add("pysb-tall");
        const canvas = addCanvas(fig, c.label, c.boxClass);
        canvas.dataset.kind = c.kind;
        grid.appendChild(fig.figure);
        figures.push({ fig, canvas, chart: c });
      }
      chartsSection.appendChild(grid);
      section.appendChild(chartsSection);
    }
    const preview = previewTable(result, rows);
    if (preview !== null) section.appendChild(previewSection(preview, level + 1));
    section.appendChild(rawSection(result));
    container.replaceChildren(section);

    if (figures.length) {
      let Chart = null;
      try {
        Chart = await ensureChartJs();
      } catch (err) {
        console.warn("pysandbox: report charts unavailable", err);
      }
      for (const { fig, canvas, chart } of figures) {
        if (Chart !== null && draw(Chart, canvas, chart.config)) {
          fig.figure.dataset.rendered = "chartjs";
          addDownload(fig, chart.title);
        } else {
          fig.box.hidden = true;
          fig.figure.dataset.rendered = "none";
          note(fig, Chart === null ? "The chart library could not be loaded, so this chart is not drawn."
            : "This chart could not be drawn.");
        }
      }
    }
    section.dataset.state = "ready";
    return section;
  }

  window.pysbReport = Object.freeze({ ensureChartJs, renderCharts, isReport, renderReport });
})();
