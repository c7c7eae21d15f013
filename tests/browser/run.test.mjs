// Running code in the page: output, tracebacks, results, limits, missing
// packages.  One service instance and one browser for the file.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SANDBOX_PATH, newPage, openSandbox, runCode, useService, waitReady } from "./lib.mjs";

const fx = useService();

test("runs code and shows stdout, stderr and the result", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    // The default program from the GET page is in the editor.
    assert.match(await page.inputValue("#code"), /rows/);
    const out = await runCode(page, [
      "import sys",
      "print('hello from', sys.platform)",
      "print('to stderr', file=sys.stderr)",
      "__result__ = {'answer': 42, 'items': [1, 2.5, None]}",
    ].join("\n"));
    assert.equal(out.stdout, "hello from emscripten\n");
    assert.equal(out.stderr, "to stderr\n");
    assert.deepEqual(JSON.parse(out.result), { answer: 42, items: [1, 2.5, null] });
    assert.equal(out.error, "");
    assert.equal(out.lastStatus, "ok");
    assert.match(out.status, /^Finished/);
    // The same worker serves the next run, with a fresh namespace.
    const again = await runCode(page, "print('answer' in globals(), 'data' in globals())");
    assert.equal(again.stdout, "False True\n");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a Python error shows the traceback with the user's line", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    const out = await runCode(page, [
      "def average(xs):",
      "    return sum(xs) / len(xs)",
      "",
      "print('before')",
      "average([])",
    ].join("\n"));
    assert.equal(out.stdout, "before\n");
    assert.equal(out.lastStatus, "error");
    assert.match(out.error, /Traceback \(most recent call last\):/);
    assert.match(out.error, /File "<sandbox>", line 5, in <module>/);
    assert.match(out.error, /File "<sandbox>", line 2, in average/);
    assert.match(out.error, /return sum\(xs\) \/ len\(xs\)/);
    assert.match(out.error, /ZeroDivisionError: division by zero/);
    // The harness's own frames are not shown.
    assert.doesNotMatch(out.error, /pysandbox_harness/);
    assert.match(out.status, /line 2/);

    const syntax = await runCode(page, "x = 1\nif x\n    print(x)\n");
    assert.equal(syntax.lastStatus, "error");
    assert.match(syntax.error, /SyntaxError/);
    assert.match(syntax.error, /line 2/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("importing a package the Pyodide here lacks names the package", async () => {
  const page = await newPage(fx.browser);
  try {
    // Without the router, which would send numpy code to the server engine
    // (router.test.mjs and server-offer.test.mjs cover that).
    await openSandbox(page, fx.url, { path: `${SANDBOX_PATH}?pysb-router=off` });
    await waitReady(page);
    const out = await runCode(page, "import json\nimport numpy as np\nprint(np.zeros(3))");
    assert.equal(out.lastStatus, "error");
    assert.match(out.error, /ModuleNotFoundError: No module named 'numpy'/);
    assert.equal(out.notice,
      "numpy is not available in the browser engine: the Pyodide served here has no numpy wheel.");
    // Packages with dependencies are named by what the code imported.
    const pandas = await runCode(page, "import pandas");
    assert.match(pandas.notice, /pandas is not available in the browser engine/);
    // A module that is in no package at all gets a different explanation.
    const unknown = await runCode(page, "import surely_not_a_module_xyz");
    assert.match(unknown.notice, /No module named 'surely_not_a_module_xyz'/);
    assert.doesNotMatch(unknown.notice, /wheel/);
    // The runtime is still fine afterwards.
    assert.equal((await runCode(page, "print(2 + 2)")).stdout, "4\n");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("output past the harness's limit is cut and reported", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    const out = await runCode(page, "while True:\n    print('x' * 9999)\n");
    assert.equal(out.lastStatus, "output_limit");
    assert.match(out.notice, /cut at the output limit/);
    assert.equal(out.stdout.length, 1024 * 1024);
    assert.match(out.status, /output limit/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a DataFrame-shaped result is drawn as a table from its records", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    await runCode(page, [
      "__result__ = {'__type__': 'DataFrame', 'columns': ['name', 'n'],",
      "              'records': [{'name': 'a', 'n': 1}, {'name': 'b', 'n': None}],",
      "              'shape': [2, 2], 'html': '<table><tr><td>IGNORED</td></tr></table>'}",
    ].join("\n"));
    const table = await page.evaluate(() => {
      const t = document.querySelector("#result-html table");
      return t ? Array.from(t.rows, (r) => Array.from(r.cells, (c) => c.textContent)) : null;
    });
    assert.deepEqual(table, [["name", "n"], ["a", "1"], ["b", ""]]);
    assert.equal(await page.textContent("#result"), "DataFrame: 2 rows × 2 columns");
    assert.doesNotMatch(await page.textContent("#result-html"), /IGNORED/);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("a DataFrame result with row labels gets a label column", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    await runCode(page, [
      "__result__ = {'__type__': 'DataFrame', 'columns': ['x'], 'index': ['count', '<b>mean</b>'],",
      "              'records': [{'x': 2.0}, {'x': 1.5}], 'shape': [2, 1], 'html': ''}",
    ].join("\n"));
    const table = await page.evaluate(() => {
      const t = document.querySelector("#result-html table");
      return t ? Array.from(t.rows, (r) => Array.from(r.cells, (c) => [c.tagName, c.textContent])) : null;
    });
    assert.deepEqual(table, [[["TH", ""], ["TH", "x"]],
                             [["TH", "count"], ["TD", "2"]],
                             [["TH", "<b>mean</b>"], ["TD", "1.5"]]]);
    assert.equal(await page.locator("#result-html b").count(), 0);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("charts from the harness are shown as PNG images", async () => {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    assert.equal(await page.isHidden("#charts-box"), true);
    // No matplotlib wheel here: a stand-in pyplot module with one figure
    // whose savefig writes a 1x1 PNG, enough for the harness's capture.
    await runCode(page, [
      "import base64, sys, types",
      "PNG = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')",
      "class Size:",
      "    def __mul__(self, dpi): return (2 * dpi, 1 * dpi)",
      "class Figure:",
      "    dpi = 60",
      "    def savefig(self, buf, **kw): buf.write(PNG)",
      "    def get_size_inches(self): return Size()",
      "figures = {1: Figure()}",
      "plt = types.ModuleType('matplotlib.pyplot')",
      "plt.get_fignums = lambda: list(figures)",
      "plt.figure = lambda n: figures[n]",
      "plt.close = lambda which: figures.clear()",
      "sys.modules['matplotlib.pyplot'] = plt",
      "print('drawn')",
    ].join("\n"));
    await page.waitForFunction(() => {
      const img = document.querySelector("#charts img");
      return img && img.complete;
    });
    const img = await page.evaluate(() => {
      const i = document.querySelector("#charts img");
      return { n: document.querySelectorAll("#charts img").length,
               w: i.getAttribute("width"), h: i.getAttribute("height"),
               natural: i.naturalWidth, src: i.src.slice(0, 22) };
    });
    assert.deepEqual(img, { n: 1, w: "120", h: "60", natural: 1, src: "data:image/png;base64," });
    assert.equal(await page.isHidden("#charts-box"), false);
    // The next run starts with no charts.
    await runCode(page, "import sys\ndel sys.modules['matplotlib.pyplot']");
    assert.equal(await page.isHidden("#charts-box"), true);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});
