// The sandbox page's panel (issue 13): the CodeMirror editor, the engine
// picker, data from files and pasted text, the results (sortable DataFrame
// tables, history), the layout on a phone, an accessibility audit, and the
// embedding protocol's answers to its parent (its origin only; big integers
// exact).  docs/design/frontend-pyodide.md ("The panel").
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, test } from "node:test";
import zlib from "node:zlib";
import {
  SANDBOX_PATH, freePort, newPage, openSandbox, runCode, shown, startStaticServer, useService,
  waitReady,
} from "./lib.mjs";

const require = createRequire(import.meta.url);

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
  received.push({ origin: e.origin, data: e.data, fromSandbox: !!sb && e.source === sb.contentWindow });
});
</script>
<iframe id="sb" src="${fx.url}${SANDBOX_PATH}" allow="cross-origin-isolated" width="900"
        height="600"></iframe>` };
    }
    return { status: 404, headers: ISOLATION, body: "not found" };
  }, port);
  // The sandbox's own origin is allowed too ('self'): before, every message
  // went to each allowed origin, and the parent's frame logged an error for
  // each one that was not its own.
  return { PYSANDBOX_FRAME_ANCESTORS: `'self' ${parent.url}` };
});
after(async () => {
  if (parent) await parent.close();
});

// The editor's parts live in its shadow root; Playwright's CSS locators
// pierce open shadow roots.
const CM = "#code-editor .cm-content";

async function openPanel(page, options) {
  await openSandbox(page, fx.url, options);
  await waitReady(page);
  await page.waitForFunction(() => document.documentElement.dataset.editor === "codemirror");
}

async function waitRuns(page, before) {
  await page.waitForFunction((n) => Number(document.documentElement.dataset.runs || 0) > n,
                             before, { timeout: 60000 });
}

const runCount = async (page) => Number(await page.getAttribute("html", "data-runs")) || 0;

test("the editor highlights Python, numbers lines, indents on Tab and runs on Ctrl-Enter", async () => {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    await page.fill("#code", "def f(x):\n    return x * 2  # twice\nprint(f(21), 'ok')");
    // CodeMirror parses in idle time: wait for the tokens, then check them.
    await page.waitForFunction(() => {
      const root = document.getElementById("code-editor").shadowRoot;
      const spans = Array.from(root.querySelectorAll(".cm-content .cm-line span"));
      return ["def", "# twice", "'ok'"].every((t) => spans.some((x) => x.textContent === t));
    });
    // Token spans with the theme's colours: "def" a keyword, the comment.
    const tokens = await page.evaluate(() => {
      const root = document.getElementById("code-editor").shadowRoot;
      const spans = Array.from(root.querySelectorAll(".cm-content .cm-line span"));
      const color = (text) => {
        const s = spans.find((x) => x.textContent === text);
        return s ? getComputedStyle(s).color : null;
      };
      return { spans: spans.length, def: color("def"), comment: color("# twice"),
               string: color("'ok'"),
               lines: root.querySelectorAll(".cm-lineNumbers .cm-gutterElement").length };
    });
    assert.ok(tokens.spans >= 4, JSON.stringify(tokens));
    assert.equal(tokens.def, "rgb(122, 31, 162)");
    assert.equal(tokens.comment, "rgb(93, 102, 117)");
    assert.equal(tokens.string, "rgb(163, 21, 29)");
    assert.ok(tokens.lines >= 3, JSON.stringify(tokens));

    // Ctrl-Enter in the editor runs the code.
    const before = await runCount(page);
    await page.click(CM);
    await page.keyboard.press("Control+Enter");
    await waitRuns(page, before);
    assert.equal((await shown(page)).stdout, "42 ok\n");

    // Tab indents (the text changes, the focus stays); Escape then Tab
    // leaves the editor for the next control.
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await page.keyboard.type("x");
    assert.match(await page.inputValue("#code"), /\n\s*    x$/);
    const inEditor = () => page.evaluate(() => document.activeElement &&
                                         document.activeElement.id === "code-editor");
    assert.equal(await inEditor(), true);
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    assert.equal(await inEditor(), false);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("without the panel bundle the textarea is the editor, and Ctrl-Enter still runs", async () => {
  const page = await newPage(fx.browser);
  try {
    await page.route("**/static/vendor/panel.js", (route) => route.fulfill({ status: 404 }));
    await openSandbox(page, fx.url);
    await waitReady(page);
    assert.equal(await page.getAttribute("html", "data-editor"), null);
    assert.equal(await page.isHidden("#code-editor"), true);
    assert.equal(await page.isHidden("#data-controls"), true);
    await page.fill("#code", "print(6 * 7)");
    const before = await runCount(page);
    await page.focus("#code");
    await page.keyboard.press("Control+Enter");
    await waitRuns(page, before);
    assert.equal((await shown(page)).stdout, "42\n");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("the line of a traceback is marked in the editor", async () => {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    await runCode(page, "a = 1\nb = 2\nraise ValueError('on three')\nc = 4");
    const marked = await page.evaluate(() => {
      const root = document.getElementById("code-editor").shadowRoot;
      const lines = Array.from(root.querySelectorAll(".cm-content .cm-line"));
      return lines.map((l, i) => [i + 1, l.classList.contains("pysb-error-line")])
        .filter(([, on]) => on).map(([n]) => n);
    });
    assert.deepEqual(marked, [3]);
    // The next run clears it.
    await runCode(page, "print('fine')");
    assert.equal(await page.locator("#code-editor .pysb-error-line").count(), 0);
  } finally {
    await page.context().close();
  }
});

test("the engine picker says what the router reports, and Native runs natively", async (t) => {
  const health = await (await fetch(`${fx.url}/api/insights/python-execution?window=24h`)).json();
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    for (const name of ["native", "judge0"]) {
      const why = page.locator(`#engine-${name}-why`);
      await page.waitForFunction((n) => document.getElementById(`engine-${n}-why`).textContent !==
                                 "checking…", name);
      const h = health.engines[name];
      if (h.available) assert.equal(await why.textContent(), "available");
      else assert.equal(await why.textContent(), `not available: ${h.reason}`);
    }
    assert.equal(await page.textContent("#engine-browser-why"), "available");
    // Each choice is a labelled radio button.
    for (const label of ["Auto", "Browser", "Native", "Judge0"]) {
      assert.equal(await page.getByRole("radio", { name: label }).count(), 1, label);
    }
    if (!health.engines.native.available) {
      t.skip(`the native engine is not available here: ${health.engines.native.reason}`);
      return;
    }
    await page.getByRole("radio", { name: "Native" }).check();
    const out = await runCode(page, "import sys\nprint(sys.platform)");
    assert.equal(out.lastStatus, "ok");
    assert.equal(out.stdout, "linux\n"); // Pyodide says "emscripten"
    assert.equal(await page.getAttribute("html", "data-last-engine"), "native");
    assert.equal(await page.textContent("#engine"), "Engine: native");
    // Browser: in this page's worker, without the router.
    await page.getByRole("radio", { name: "Browser" }).check();
    const routed = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/api/insights/python-execution" && r.method() === "POST") {
        routed.push(r);
      }
    });
    const local = await runCode(page, "import sys\nprint(sys.platform)");
    assert.equal(local.stdout, "emscripten\n");
    assert.equal(await page.getAttribute("html", "data-last-engine"), "browser");
    assert.equal(routed.length, 0);
    // The history has both runs, newest first; Enter on one restores its code.
    const entries = page.locator("#history button.history-entry");
    assert.ok(await entries.count() >= 2);
    assert.match(await entries.nth(0).textContent(), /browser/);
    assert.match(await entries.nth(1).textContent(), /native/);
    await page.fill("#code", "something else");
    await entries.nth(1).focus();
    await page.keyboard.press("Enter");
    assert.equal(await page.inputValue("#code"), "import sys\nprint(sys.platform)");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

/* --- data ----------------------------------------------------------------- */

const ECHO = "print(repr(data))\n__result__ = data";

// What Python sees of data posted with the page (raw JSON, as written).
async function postedView(dataJson) {
  const page = await newPage(fx.browser);
  try {
    await openSandbox(page, fx.url, { rawBody: `{"code": ${JSON.stringify(ECHO)}, "data": ${dataJson}}` });
    await waitReady(page);
    return await runCode(page, ECHO);
  } finally {
    await page.context().close();
  }
}

// What Python sees of a file loaded with the file input.
async function loadedView(file) {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    await page.setInputFiles("#data-file", file);
    await page.waitForFunction(() => document.documentElement.dataset.dataLoaded ||
                               !document.getElementById("data-error").hidden);
    assert.equal(await page.isHidden("#data-error"), true, await page.textContent("#data-error"));
    const preview = await page.evaluate(() => {
      const t = document.querySelector("#data-preview table");
      return t ? { caption: t.caption.textContent,
                   head: Array.from(t.tHead.rows[0].cells, (c) => c.textContent) } : null;
    });
    const out = await runCode(page, ECHO);
    return { out, preview, info: await page.textContent("#data-info") };
  } finally {
    await page.context().close();
  }
}

test("a CSV file becomes the same data as posting its rows", async () => {
  const csv = "name,n,x,flag,big,empty,code\n" +
              "alpha,1,2.5,true,12345678901234567890,,007\n" +
              "\"be, ta\",-3,1e3,FALSE,7,,0.1000000000000000055511151231257827\n";
  // The rule (docs/design/frontend-pyodide.md): integers stay integers of
  // any size, decimals that round-trip are floats, true/false booleans,
  // empty fields null, anything else text.
  const expected = '[{"name": "alpha", "n": 1, "x": 2.5, "flag": true, ' +
    '"big": 12345678901234567890, "empty": null, "code": "007"}, ' +
    '{"name": "be, ta", "n": -3, "x": 1e3, "flag": false, "big": 7, "empty": null, ' +
    '"code": "0.1000000000000000055511151231257827"}]';
  const loaded = await loadedView({ name: "rows.csv", mimeType: "text/csv",
                                    buffer: Buffer.from(csv) });
  const posted = await postedView(expected);
  assert.equal(posted.lastStatus, "ok");
  assert.equal(loaded.out.stdout, posted.stdout);
  assert.equal(loaded.out.result, posted.result);
  assert.match(loaded.out.stdout, /'x': 1000\.0/);
  assert.deepEqual(loaded.preview.head, ["nametext", "ninteger",
                                         "xnumber", "flagboolean", "biginteger", "emptyempty",
                                         "codetext"]);
  assert.match(loaded.preview.caption, /^First 2 of 2 rows; 7 columns$/);
  assert.match(loaded.info, /rows\.csv .*2 rows/);
});

test("a JSON file is data exactly as written", async () => {
  const json = '[{"a": 1.0, "b": 123456789012345678901, "c": "x\\u00e9", "d": [1, {"e": null}]}]';
  const loaded = await loadedView({ name: "rows.json", mimeType: "application/json",
                                    buffer: Buffer.from(json) });
  const posted = await postedView(json);
  assert.equal(loaded.out.stdout, posted.stdout);
  assert.equal(loaded.out.stdout, "[{'a': 1.0, 'b': 123456789012345678901, 'c': 'xé', 'd': [1, {'e': None}]}]\n");
});

/* An .xlsx written by hand: a ZIP (deflated parts) of the few XML parts a
 * reader needs, with shared strings, an inline string, numbers, a boolean
 * and an empty cell. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function zip(files) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const packed = zlib.deflateRawSync(data);
    const nameBuf = Buffer.from(name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(8, 8); // deflate
    head.writeUInt32LE(crc32(data), 14);
    head.writeUInt32LE(packed.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(nameBuf.length, 26);
    locals.push(head, nameBuf, packed);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(crc32(data), 16);
    dir.writeUInt32LE(packed.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(nameBuf.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, nameBuf);
    offset += 30 + nameBuf.length + packed.length;
  }
  const dirBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dirBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dirBuf, end]);
}

const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
const RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const PKG = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"';
const DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

function tinyXlsx() {
  return zip({
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "_rels/.rels": `<?xml version="1.0"?><Relationships ${PKG}><Relationship Id="rId1" ` +
      `Type="${DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    "xl/workbook.xml": `<?xml version="1.0"?><workbook ${NS} ${RNS}><sheets>` +
      '<sheet name="Prices" sheetId="1" r:id="rId1"/><sheet name="Other" sheetId="2" r:id="rId2"/>' +
      "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships ${PKG}>` +
      `<Relationship Id="rId1" Type="${DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>` +
      `<Relationship Id="rId2" Type="${DOC_REL}/worksheet" Target="worksheets/sheet2.xml"/>` +
      `<Relationship Id="rId3" Type="${DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>` +
      "</Relationships>",
    "xl/sharedStrings.xml": `<?xml version="1.0"?><sst ${NS}><si><t>item</t></si>` +
      "<si><t>price</t></si><si><t>ok</t></si><si><t>pear &amp; fig</t></si></sst>",
    "xl/worksheets/sheet1.xml": `<?xml version="1.0"?><worksheet ${NS}><sheetData>` +
      '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>' +
      '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"><v>2.5</v></c><c r="C2" t="b"><v>1</v></c></row>' +
      '<row r="3"><c r="A3" t="inlineStr"><is><t>plum</t></is></c><c r="B3"><v>3</v></c></row>' +
      "</sheetData></worksheet>",
    "xl/worksheets/sheet2.xml": `<?xml version="1.0"?><worksheet ${NS}><sheetData>` +
      '<row r="1"><c r="A1" t="inlineStr"><is><t>not read</t></is></c></row></sheetData></worksheet>',
  });
}

test("an .xlsx file's first sheet becomes the same data as posting its rows", async () => {
  const loaded = await loadedView({
    name: "prices.xlsx",
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    buffer: tinyXlsx(),
  });
  const posted = await postedView('[{"item": "pear & fig", "price": 2.5, "ok": true}, ' +
                                  '{"item": "plum", "price": 3, "ok": null}]');
  assert.equal(posted.lastStatus, "ok");
  assert.equal(loaded.out.stdout, posted.stdout);
  assert.equal(loaded.out.stdout,
               "[{'item': 'pear & fig', 'price': 2.5, 'ok': True}, {'item': 'plum', 'price': 3, 'ok': None}]\n");
  assert.match(loaded.info, /prices\.xlsx .*sheet "Prices".*2 rows/);
});

test("data over the limit is refused with a clear message; bad CSV too", async () => {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    // The limit comes from the router (engines.browser.limits.maxDataMb).
    const limitMb = await page.evaluate(async () => {
      const h = await (await fetch("/api/insights/python-execution")).json();
      return h.engines.browser.limits.maxDataMb;
    });
    // A file under the limit whose JSON (8 characters a row for 2 bytes of
    // CSV) is over it.
    const rows = Math.ceil((limitMb * 1048576) / 8) + 10;
    await page.setInputFiles("#data-file", { name: "many.csv", mimeType: "text/csv",
                                             buffer: Buffer.from(`v\n${"1\n".repeat(rows)}`) });
    await page.waitForSelector("#data-error:not([hidden])");
    assert.match(await page.textContent("#data-error"), new RegExp(`larger than the ${limitMb} MB limit`));
    await page.fill("#data-paste", "a,b\n1,2,3\n");
    await page.click("#data-use");
    await page.waitForFunction(() => /Row 2 of the CSV has 3 fields/.test(
      document.getElementById("data-error").textContent));
    // Nothing was loaded: runs still get the page's (empty) data.
    const out = await runCode(page, "print(data)");
    assert.equal(out.stdout, "[]\n");
  } finally {
    await page.context().close();
  }
});

/* --- results -------------------------------------------------------------- */

test("a DataFrame result is a table its headers sort (click or Enter)", async () => {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    await runCode(page, [
      "__result__ = {'__type__': 'DataFrame', 'columns': ['name', 'n'],",
      "              'records': [{'name': 'b', 'n': 10}, {'name': 'a', 'n': 9},",
      "                          {'name': 'c', 'n': None}], 'shape': [3, 2], 'html': ''}",
    ].join("\n"));
    const column = (i) => page.evaluate((k) => Array.from(
      document.querySelectorAll("#result-html tbody tr"), (r) => r.cells[k].textContent), i);
    assert.deepEqual(await column(0), ["b", "a", "c"]);
    const sortN = page.locator("#result-html th button", { hasText: /^n$/ });
    await sortN.click();
    assert.deepEqual(await column(1), ["9", "10", ""]); // numbers by value, empty last
    assert.equal(await page.getAttribute("#result-html th:nth-child(2)", "aria-sort"), "ascending");
    await sortN.click();
    assert.deepEqual(await column(1), ["10", "9", ""]); // empty still last
    assert.equal(await page.getAttribute("#result-html th:nth-child(2)", "aria-sort"), "descending");
    await page.focus("#result-html th:nth-child(1) button");
    await page.keyboard.press("Enter");
    assert.deepEqual(await column(0), ["a", "b", "c"]);
    assert.equal(await page.getAttribute("#result-html th:nth-child(2)", "aria-sort"), null);
    // Long output scrolls inside its pane, not the page.
    await runCode(page, "for i in range(400): print('line', i)");
    const pane = await page.evaluate(() => {
      const p = document.getElementById("stdout");
      return { scroll: p.scrollHeight, client: p.clientHeight,
               overflow: getComputedStyle(p).overflowY };
    });
    assert.ok(pane.scroll > pane.client, JSON.stringify(pane));
    assert.equal(pane.overflow, "auto");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

// No matplotlib wheel is needed: a stand-in pyplot with one figure whose
// savefig writes a 1x1 PNG (as in run.test.mjs).
const FAKE_FIGURE = [
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
].join("\n");

test("each chart has one download control, with report.js and without it", async () => {
  for (const withReport of [true, false]) {
    const page = await newPage(fx.browser);
    try {
      if (!withReport) {
        await page.route("**/static/report.js", (route) => route.fulfill({ status: 404 }));
      }
      await openPanel(page);
      await runCode(page, FAKE_FIGURE);
      await page.waitForSelector("#charts img");
      const controls = await page.evaluate(() => ({
        images: document.querySelectorAll("#charts img").length,
        buttons: Array.from(document.querySelectorAll("#charts button"), (b) => b.textContent)
          .filter((t) => /download/i.test(t)),
        links: Array.from(document.querySelectorAll("#charts a[download]"),
                          (a) => [a.getAttribute("download"), a.href.slice(0, 22)]),
      }));
      if (withReport) {
        assert.deepEqual(controls, { images: 1, buttons: ["Download PNG"], links: [] });
      } else {
        assert.deepEqual(controls, { images: 1, buttons: [],
                                     links: [["chart-1.png", "data:image/png;base64,"]] });
      }
      assert.deepEqual(page.pageErrors, []);
    } finally {
      await page.context().close();
    }
  }
});

test("Findings about the data asks the harness for insights", async () => {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    const rows = Array.from({ length: 12 }, (_, i) => `${i},${2 * i + 1},same`).join("\n");
    await page.fill("#data-paste", `x,y,k\n${rows}\n`);
    await page.click("#data-use");
    await page.waitForFunction(() => document.documentElement.dataset.dataLoaded === "csv");
    await page.check("#insights");
    await runCode(page, "__result__ = len(data)");
    const kinds = await page.evaluate(async () => {
      // The worker's answer is what the page drew the report from.
      const section = await new Promise((resolve) => {
        const find = () => document.querySelector("#report .pysb-report[data-state=ready]");
        const t = setInterval(() => { if (find()) { clearInterval(t); resolve(find()); } }, 50);
      });
      return Number(section.dataset.findings);
    });
    assert.ok(kinds >= 2, `findings: ${kinds}`); // the x-y correlation and the constant k
    assert.equal(await page.textContent("#result"), "12");
  } finally {
    await page.context().close();
  }
});

/* --- layout and accessibility ---------------------------------------------- */

test("at 375 px wide the page has no horizontal scroll", async () => {
  const context = await fx.browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  try {
    await openSandbox(page, fx.url);
    await waitReady(page);
    await page.fill("#data-paste", `${"a_long_column_name,".repeat(12)}z\n${"1,".repeat(12)}2\n`);
    await page.click("#data-use");
    await page.waitForFunction(() => document.documentElement.dataset.dataLoaded === "csv");
    await runCode(page, "print('x' * 2000)\nprint('y ' * 500)\n__result__ = {'k' * 300: 1}");
    const sizes = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      body: document.body.scrollWidth,
    }));
    assert.ok(sizes.scroll <= sizes.client, JSON.stringify(sizes));
    assert.ok(sizes.body <= sizes.client, JSON.stringify(sizes));
  } finally {
    await context.close();
  }
});

test("the accessibility audit (axe-core) finds nothing serious or critical", async () => {
  const page = await newPage(fx.browser);
  try {
    await openPanel(page);
    await page.fill("#data-paste", "a,b\n1,x\n2,y\n");
    await page.click("#data-use");
    await page.waitForFunction(() => document.documentElement.dataset.dataLoaded === "csv");
    await runCode(page, [
      "print('hello')",
      "__result__ = {'__type__': 'DataFrame', 'columns': ['a'], 'records': [{'a': 1}],",
      "              'shape': [1, 1], 'html': ''}",
    ].join("\n"));
    // Evaluated through the DevTools protocol: the page's CSP (script-src
    // 'self') refuses inline <script> tags, addScriptTag's included.
    await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact,
                                        nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
    });
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad, []);
  } finally {
    await page.context().close();
  }
});

/* --- embedding -------------------------------------------------------------- */

test("the parent gets progress and ready at its own origin only, and big integers exact", async () => {
  const page = await newPage(fx.browser);
  const mismatches = [];
  page.on("console", (m) => {
    if (/does not match the recipient window's origin/.test(m.text())) mismatches.push(m.text());
  });
  try {
    await page.goto(`${parent.url}/parent.html`);
    await page.waitForFunction(() => window.received.some((r) => r.fromSandbox &&
                                                          r.data.type === "ready"), null,
                               { timeout: 60000 });
    const progress = await page.evaluate(() => window.received
      .filter((r) => r.fromSandbox && r.data.type === "progress").map((r) => r.origin));
    assert.ok(progress.length >= 1);
    assert.ok(progress.every((o) => o === fx.url), JSON.stringify(progress));
    // Before, each message also went to the sandbox's own origin ('self' is
    // allowed), which the parent's frame refused with a console error.
    assert.deepEqual(mismatches, []);

    await page.evaluate((origin) => {
      document.getElementById("sb").contentWindow.postMessage(
        { type: "run", id: "big",
          code: "__result__ = {'n': 2**64 + 1, 'small': 2**53 - 1, 'f': 1.5}" },
        origin);
    }, fx.url);
    const got = await page.waitForFunction(() => {
      const r = window.received.find((x) => x.fromSandbox && x.data.type === "result" &&
                                     x.data.id === "big");
      if (!r) return null;
      const v = r.data.result;
      return { type: typeof v.n, text: String(v.n), exact: v.n === 18446744073709551617n,
               small: typeof v.small, f: v.f };
    }, null, { timeout: 60000 });
    assert.deepEqual(await got.jsonValue(), { type: "bigint", text: "18446744073709551617",
                                              exact: true, small: "number", f: 1.5 });
    assert.deepEqual(mismatches, []);
  } finally {
    await page.context().close();
  }
});
