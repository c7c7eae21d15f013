// The analysis report and interactive charts (web/report.js): findings
// first, Chart.js charts drawn from the result JSON, the data preview, the
// raw JSON behind a closed <details>; matplotlib figures redrawn from their
// chart data with the PNG as the fallback.  The results are real ones from
// the service (analyze-data, /api/python/execute on the native engine); the
// report is rendered by calling window.pysbReport on the sandbox page, so
// these tests do not depend on how sandbox.js wires it in.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { newPage, openSandbox, useService } from "./lib.mjs";

const fx = useService();

async function api(path, body) {
  const resp = await fetch(`${fx.url}${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const text = await resp.text();
  assert.equal(resp.status, 200, text);
  return JSON.parse(text);
}

// The sandbox page with window.pysbReport (added by hand when the page does
// not load report.js itself) and an empty container for the report.
async function openReportPage(viewport) {
  const page = await newPage(fx.browser);
  if (viewport) await page.setViewportSize(viewport);
  await openSandbox(page, fx.url);
  await page.waitForLoadState("load");
  if (!(await page.evaluate(() => typeof window.pysbReport === "object"))) {
    await page.addScriptTag({ url: "/static/report.js" });
  }
  await page.evaluate(() => {
    const box = document.createElement("div");
    box.id = "report-under-test";
    document.body.prepend(box);
  });
  return page;
}

// 40 rows with a planted correlation (weight follows height), a planted
// trend (sales grows by about 3 a day), a dominant category (Paris) and one
// category value that is markup.
const PAYLOAD = "<img src=x onerror=window.pwned=1>";
function craftedRows() {
  const cities = ["Paris", "Lyon", "Paris", "Nice"];
  return Array.from({ length: 40 }, (_, i) => {
    const height = 150 + ((i * 37) % 41);
    return {
      day: new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10),
      height,
      weight: Math.round((0.9 * height - 80 + ((i * 13) % 5) * 0.3) * 10) / 10,
      sales: 100 + 3 * i + ((i * 7) % 10),
      city: i === 5 ? PAYLOAD : cities[i % 4],
    };
  });
}

// Ink on a canvas: pixels drawn and distinct colours.
async function canvasInk(page, canvasHandle) {
  return canvasHandle.evaluate((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      inked++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { inked, colours: colours.size, width: c.width, height: c.height };
  });
}

async function renderReport(page, result, dataText) {
  return page.evaluate(async ([r, text]) => {
    const box = document.getElementById("report-under-test");
    await window.pysbReport.renderReport(box, r, { dataText: text });
    return { isReport: window.pysbReport.isReport(r),
             state: box.querySelector(".pysb-report").dataset.state };
  }, [result, dataText]);
}

// What the rendered report holds, in document order.
async function reportOutline(page) {
  return page.evaluate(() => {
    const report = document.querySelector("#report-under-test .pysb-report");
    const sections = Array.from(report.children, (c) => c.className || c.tagName);
    const findings = Array.from(report.querySelectorAll(".pysb-finding"),
                                (li) => ({ kind: li.dataset.kind,
                                           text: li.querySelector(".pysb-finding-text").textContent }));
    const canvases = Array.from(report.querySelectorAll("canvas"), (c) => {
      const chart = window.Chart && window.Chart.getChart(c);
      return { kind: c.dataset.kind, label: c.getAttribute("aria-label"),
               type: chart ? chart.config.type : null,
               data: chart ? chart.data.datasets.map((d) => d.data) : null,
               labels: chart ? chart.data.labels || null : null };
    });
    const raw = report.querySelector("details.pysb-raw");
    const table = report.querySelector(".pysb-preview table");
    return {
      sections,
      findings,
      canvases,
      rawOpen: raw ? raw.open : null,
      rawText: raw ? raw.querySelector("pre").textContent : null,
      rawShown: raw ? raw.querySelector("pre").checkVisibility() : null,
      previewHead: table ? Array.from(table.tHead.rows[0].cells, (c) => c.textContent) : null,
      previewRows: table ? Array.from(table.tBodies[0].rows, (r) =>
        Array.from(r.cells, (c) => c.textContent)) : null,
      downloads: report.querySelectorAll("button.pysb-download").length,
      imgs: document.querySelectorAll("img").length,
      pwned: window.pwned,
    };
  });
}

test("an analyze-data result renders findings first, then drawn charts, preview and raw JSON",
     async () => {
  const rows = craftedRows();
  const dataText = JSON.stringify(rows);
  const result = await api("/sandbox/agent/analyze-data", { data: rows, analysisType: "comprehensive" });
  assert.equal(result.status, "ok", JSON.stringify(result.error));
  assert.ok(Array.isArray(result.insights), "analyze-data answers insights");
  const page = await openReportPage();
  try {
    assert.deepEqual(await renderReport(page, result, dataText), { isReport: true, state: "ready" });
    const out = await reportOutline(page);
    // Findings lead (after the heading and summary line), raw JSON comes last.
    assert.deepEqual(out.sections, ["H2", "pysb-summary", "pysb-findings", "pysb-report-charts",
                                    "pysb-preview", "pysb-raw"]);
    // The findings are the harness's insights, in their order.
    assert.deepEqual(out.findings, result.insights.map((f) => ({ kind: f.kind, text: f.message })));
    assert.equal(out.findings[0].kind, "correlation");
    assert.match(out.findings[0].text, /height.*weight.*correlated/);
    assert.ok(out.findings.some((f) => f.kind === "trend" && /sales.*increasing/.test(f.text)),
              JSON.stringify(out.findings));

    // One chart of each kind the data calls for.
    const kinds = out.canvases.map((c) => c.kind);
    assert.deepEqual(kinds.filter((k) => k === "histogram").length, 3, kinds.join());
    for (const kind of ["heatmap", "scatter", "trend", "categories"]) {
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join()}`);
    }
    assert.ok(out.canvases.every((c) => c.type !== null), "every canvas holds a Chart.js chart");
    assert.ok(out.canvases.every((c) => c.label && c.label.length > 10), "every canvas is labelled");
    // The scatter holds the planted pair's 40 points, as analysis.py sent them.
    const scatter = out.canvases.find((c) => c.kind === "scatter");
    assert.deepEqual(scatter.data[0], rows.map((r) => ({ x: r.height, y: r.weight })));
    // The trend line is sales over the dates, with its fitted line.
    const trend = out.canvases.find((c) => c.kind === "trend");
    assert.equal(trend.data[0].length, 40);
    // x in days since 1970, as the harness's slope per day.
    assert.deepEqual(trend.data[0][0], { x: Date.UTC(2024, 0, 1) / 86400000, y: rows[0].sales });
    assert.equal(trend.data[1].length, 2);
    assert.ok(trend.data[1][1].y > trend.data[1][0].y, "the fitted line rises");
    // The category bars count the cities; the markup value is a label, as text.
    const cities = out.canvases.find((c) => c.kind === "categories");
    assert.deepEqual(cities.labels.slice(0, 3), ["Paris", "Nice", "Lyon"]);
    assert.deepEqual(cities.data[0].slice(0, 3), [20, 10, 9]);
    assert.ok(cities.labels.includes(PAYLOAD));

    // Every canvas is drawn: not blank, in several colours.
    const handles = await page.$$("#report-under-test canvas");
    assert.equal(handles.length, out.canvases.length);
    for (const [i, handle] of handles.entries()) {
      const ink = await canvasInk(page, handle);
      assert.ok(ink.inked > 1000 && ink.colours > 5,
                `${out.canvases[i].kind}: ${JSON.stringify(ink)}`);
    }
    // The heatmap's planted cell is deep red (r = 0.999), the unrelated ones near white.
    const heat = await page.evaluate(() => {
      const c = document.querySelector('#report-under-test canvas[data-kind="heatmap"]');
      const chart = window.Chart.getChart(c);
      const meta = chart.getDatasetMeta(0);
      const ctx = c.getContext("2d");
      const scale = c.width / c.getBoundingClientRect().width;
      // Sample a corner of the cell, away from the r written on it.
      const at = (i) => {
        const p = meta.data[i];
        const off = p.options.radius * 0.5;
        return Array.from(ctx.getImageData(Math.round((p.x - off) * scale),
                                           Math.round((p.y - off) * scale), 1, 1).data);
      };
      const cells = chart.data.datasets[0].data;
      return { strong: at(cells.findIndex((d) => d.a === "height" && d.b === "weight")),
               weak: at(cells.findIndex((d) => d.a === "height" && d.b === "sales")) };
    });
    assert.ok(heat.strong[0] > 150 && heat.strong[1] < 90 && heat.strong[2] < 90,
              JSON.stringify(heat));
    assert.ok(heat.weak.slice(0, 3).every((v) => v > 235), JSON.stringify(heat));

    // The preview: the first 10 rows, every column, the markup as text.
    assert.deepEqual(out.previewHead, ["day", "height", "weight", "sales", "city"]);
    assert.equal(out.previewRows.length, 10);
    assert.deepEqual(out.previewRows[0], [rows[0].day, String(rows[0].height),
                                          String(rows[0].weight), String(rows[0].sales), "Paris"]);
    assert.equal(out.previewRows[5][4], PAYLOAD);
    // Raw JSON: one click away, closed, and exactly the result.
    assert.equal(out.rawOpen, false);
    assert.equal(out.rawShown, false);
    assert.deepEqual(JSON.parse(out.rawText), result.result);
    await page.click("#report-under-test details.pysb-raw summary");
    assert.deepEqual(await page.evaluate(() => {
      const raw = document.querySelector("#report-under-test details.pysb-raw");
      return [raw.open, raw.querySelector("pre").checkVisibility()];
    }), [true, true]);
    // A download button per chart; nothing untrusted ran or became markup.
    assert.equal(out.downloads, out.canvases.length);
    assert.equal(out.pwned, undefined);
    assert.equal(out.imgs, 0);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("without insights the analysis' own strong correlation leads the report", async () => {
  const rows = craftedRows();
  const result = await api("/sandbox/agent/analyze-data", { data: rows, analysisType: "correlation" });
  delete result.insights;
  const page = await openReportPage();
  try {
    assert.deepEqual(await renderReport(page, result, undefined), { isReport: true, state: "ready" });
    const out = await reportOutline(page);
    assert.equal(out.findings.length, 1, JSON.stringify(out.findings));
    assert.equal(out.findings[0].kind, "correlation");
    assert.match(out.findings[0].text, /^height and weight rise together: .*r = 1\.00 over 40 rows/);
    // A correlation analysis has no histograms; the heatmap and scatter are drawn.
    assert.deepEqual(out.canvases.map((c) => c.kind), ["heatmap", "scatter"]);
    assert.equal(await page.evaluate(() => window.pysbReport.isReport({ result: [1, 2] })), false);
    // Integers beyond 2^53 reach the page as BigInt (sandbox.js): the raw
    // JSON and the preview show all their digits.
    const big = await page.evaluate(async (r) => {
      r.result.exact = 2n ** 64n + 1n;
      r.result.preview.rows[0][1] = 2n ** 64n + 1n;
      const box = document.getElementById("report-under-test");
      await window.pysbReport.renderReport(box, r);
      return { raw: box.querySelector("details.pysb-raw pre").textContent,
               cell: box.querySelector(".pysb-preview tbody td:nth-child(2)").textContent };
    }, result);
    assert.match(big.raw, /"exact": 18446744073709551617\b/);
    assert.equal(big.cell, "18446744073709551617");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a text analysis of documents charts its most frequent words", async () => {
  const documents = ["the cat sat on the mat", "a cat and a dog", "Dog days", PAYLOAD];
  const result = await api("/sandbox/agent/analyze-data", { documents, analysisType: "text" });
  const page = await openReportPage();
  try {
    await renderReport(page, result, JSON.stringify(documents));
    const out = await reportOutline(page);
    assert.deepEqual(out.canvases.map((c) => c.kind), ["words"]);
    assert.deepEqual(out.canvases[0].labels.slice(0, 2), ["cat", "dog"]);
    assert.deepEqual(out.canvases[0].data[0].slice(0, 2), [2, 2]);
    assert.deepEqual(out.previewHead, ["document"]);
    assert.deepEqual(out.previewRows.map((r) => r[0]), documents);
    assert.equal(out.pwned, undefined);
    assert.equal(out.imgs, 0);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a matplotlib line chart is redrawn interactively, with the PNG as fallback", async () => {
  const result = await api("/api/python/execute", {
    code: "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 5, 7])\nplt.title('Growth')\n" +
          "plt.show()",
  });
  assert.equal(result.status, "ok", JSON.stringify(result.error));
  assert.equal(result.charts.length, 1);
  const entry = result.charts[0];
  assert.equal(entry.format, "png");
  // The harness reads the figure's data (common.md's chart schema).
  assert.equal(entry.chart.type, "line");
  assert.deepEqual(entry.chart.elements[0].points, [[1, 4], [2, 5], [3, 7]]);

  const page = await openReportPage();
  try {
    const drawn = await page.evaluate(async (charts) => {
      const box = document.getElementById("report-under-test");
      const figures = await window.pysbReport.renderCharts(box, charts);
      const canvas = box.querySelector("canvas");
      const chart = window.Chart.getChart(canvas);
      return { figures: figures.length, rendered: figures[0].dataset.rendered,
               type: chart.config.type, data: chart.data.datasets.map((d) => d.data),
               title: box.querySelector(".pysb-chart-title").textContent,
               pngShown: box.querySelector("img.pysb-chart-png").checkVisibility(),
               canvasShown: canvas.checkVisibility(),
               buttons: Array.from(box.querySelectorAll("button"), (b) => b.textContent) };
    }, result.charts);
    assert.deepEqual(drawn, {
      figures: 1, rendered: "chartjs", type: "line",
      data: [[{ x: 1, y: 4 }, { x: 2, y: 5 }, { x: 3, y: 7 }]],
      title: "Growth", pngShown: false, canvasShown: true,
      buttons: ["Show image", "Download PNG"],
    });
    const ink = await canvasInk(page, await page.$("#report-under-test canvas"));
    assert.ok(ink.inked > 1000 && ink.colours > 5, JSON.stringify(ink));

    // Hovering the middle point shows its tooltip.
    const point = await page.evaluate(() => {
      const canvas = document.querySelector("#report-under-test canvas");
      const chart = window.Chart.getChart(canvas);
      const p = chart.getDatasetMeta(0).data[1];
      const box = canvas.getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    });
    await page.mouse.move(point.x, point.y);
    await page.waitForFunction(() => {
      const chart = window.Chart.getChart(document.querySelector("#report-under-test canvas"));
      return chart.tooltip.opacity > 0 && chart.tooltip.getActiveElements().length > 0;
    });
    const tip = await page.evaluate(() => {
      const t = window.Chart.getChart(document.querySelector("#report-under-test canvas")).tooltip;
      return { title: t.title, body: t.body.map((b) => b.lines.join(" ")) };
    });
    assert.deepEqual(tip.title, ["2"]);
    assert.match(tip.body.join(" "), /\b5\b/);

    // The download button saves a PNG (the chart as drawn).
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#report-under-test button.pysb-download"),
    ]);
    assert.equal(download.suggestedFilename(), "growth.png");
    const bytes = readFileSync(await download.path());
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    // The toggle shows the original image.
    await page.click("#report-under-test button.pysb-toggle");
    assert.deepEqual(await page.evaluate(() => {
      const img = document.querySelector("#report-under-test img.pysb-chart-png");
      return [img.checkVisibility(), img.naturalWidth > 100,
              document.querySelector("#report-under-test canvas").checkVisibility()];
    }), [true, true, false]);

    // Without chart data, or with data that cannot be read, the PNG is shown.
    const fallback = await page.evaluate(async (charts) => {
      const box = document.getElementById("report-under-test");
      box.replaceChildren();
      const plain = { ...charts[0] };
      delete plain.chart;
      const unreadable = { ...charts[0], chart: { type: "line", elements: "<b>no</b>" } };
      const figures = await window.pysbReport.renderCharts(box, [plain, unreadable]);
      return figures.map((f) => {
        const img = f.querySelector("img");
        return { rendered: f.dataset.rendered, canvases: f.querySelectorAll("canvas").length,
                 imgShown: img !== null && img.checkVisibility() && img.naturalWidth > 0,
                 src: img.src.slice(0, 22), download: f.querySelector("button.pysb-download") !== null };
      });
    }, result.charts);
    const png = { rendered: "png", canvases: 0, imgShown: true, src: "data:image/png;base64,",
                  download: true };
    assert.deepEqual(fallback, [png, png]);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("the other chart types from the schema are drawn: bar, pie, box plot, superchart", async () => {
  // Built by hand per common.md's schema (the harness's extraction of each
  // type is tested with the harness); the PNG is a 1x1 image.
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
  const bar = { type: "bar", title: "Sales", xLabel: "quarter", yLabel: "units", elements: [
    { label: "Q1", group: "2023", value: 3 }, { label: "Q2", group: "2023", value: 5 },
    { label: "Q1", group: "2024", value: 4 }, { label: "Q2", group: "2024", value: 6 }] };
  const pie = { type: "pie", title: "Share", elements: [
    { label: "a", angle: 120, radius: 1 }, { label: "b", angle: 240, radius: 1 }] };
  const box = { type: "box_and_whisker", title: "Spread", elements: [
    { label: "x", min: 1, firstQuartile: 2, median: 3, thirdQuartile: 4, max: 5, outliers: [9] }] };
  const superchart = { type: "superchart", title: "Two", elements: [
    { type: "scatter", title: "left", elements: [{ label: "s", points: [[1, 2], [3, 4]] }] },
    { type: "line", title: "right", elements: [{ label: "l", points: [["a", 1], ["b", 2]] }] }] };
  const page = await openReportPage({ width: 375, height: 800 });
  try {
    const out = await page.evaluate(async (charts) => {
      const host = document.getElementById("report-under-test");
      const figures = await window.pysbReport.renderCharts(host, charts);
      return figures.map((f) => ({
        rendered: f.dataset.rendered,
        charts: Array.from(f.querySelectorAll("canvas"), (c) => {
          const ch = window.Chart.getChart(c);
          return { type: ch.config.type, labels: ch.data.labels || null,
                   data: ch.data.datasets.map((d) => d.data) };
        }),
      }));
    }, [bar, pie, box, superchart].map((chart) => ({ format: "png", data: png, width: 1,
                                                     height: 1, chart })));
    assert.deepEqual(out.map((f) => f.rendered), ["chartjs", "chartjs", "chartjs", "chartjs"]);
    assert.deepEqual(out[0].charts, [{ type: "bar", labels: ["Q1", "Q2"], data: [[3, 5], [4, 6]] }]);
    assert.deepEqual(out[1].charts, [{ type: "pie", labels: ["a", "b"], data: [[120, 240]] }]);
    // The box as floating bars: min..max, the quartiles, the median, the outliers.
    assert.deepEqual(out[2].charts[0].data, [[[1, 5]], [[2, 4]], [3], [{ x: "x", y: 9 }]]);
    assert.deepEqual(out[3].charts.map((c) => c.type), ["scatter", "line"]);
    // At 375 px nothing sticks out of the page.
    const widths = await page.evaluate(() => ({
      page: document.documentElement.clientWidth,
      right: Math.max(...Array.from(document.querySelectorAll("#report-under-test *"),
                                    (e) => e.getBoundingClientRect().right)),
    }));
    assert.ok(widths.right <= widths.page, JSON.stringify(widths));
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a report at 375 px wide stays within the screen", async () => {
  const rows = craftedRows().map((r, i) => ({
    ...r, "a rather long column name that goes on and on": i % 3 ? "some long text value here" : "x",
  }));
  const result = await api("/sandbox/agent/analyze-data", { data: rows, analysisType: "comprehensive" });
  const page = await openReportPage({ width: 375, height: 800 });
  try {
    await renderReport(page, result, JSON.stringify(rows));
    const widths = await page.evaluate(() => {
      const report = document.querySelector("#report-under-test .pysb-report");
      const wrap = report.querySelector(".pysb-table-wrap");
      const outside = Array.from(report.querySelectorAll("*"))
        .filter((e) => !wrap.contains(e) || e === wrap)
        .map((e) => e.getBoundingClientRect().right);
      return { page: document.documentElement.clientWidth, right: Math.max(...outside),
               tableScrolls: wrap.scrollWidth > wrap.clientWidth,
               canvases: Array.from(report.querySelectorAll("canvas"),
                                    (c) => c.getBoundingClientRect().width) };
    });
    // The wide preview table scrolls inside its own box; the rest fits.
    assert.ok(widths.right <= widths.page, JSON.stringify(widths));
    assert.equal(widths.tableScrolls, true);
    assert.ok(widths.canvases.every((w) => w > 200 && w <= widths.page), JSON.stringify(widths));
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
