// Findings about the data are computed by the one harness in every engine;
// this checks that Pyodide (the browser engine's interpreter, here loaded in
// Node: the same WebAssembly build the page's worker runs) finds exactly what
// the native engine finds on the crafted data sets of
// tests/data/insights_cases.json, to the last digit (the harness rounds
// floats to 6 significant digits so wasm's libm and glibc agree).  What each
// finding must say is checked in tests/http/test_insights.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT, startService } from "./lib.mjs";

const CASES = JSON.parse(readFileSync(path.join(ROOT, "tests/data/insights_cases.json"),
                                      "utf8")).cases;
// The pinned Pyodide version, as the Makefile names it (make pyodide unpacks
// it into pyodide/dist/<version>/).
const VERSION = /^PYODIDE_VERSION\s*:=\s*(\S+)/m.exec(
  readFileSync(path.join(ROOT, "Makefile"), "utf8"))[1];

let svc = null;
let pyodide = null;

before(async () => {
  svc = await startService();
  const dist = path.join(ROOT, "pyodide/dist", VERSION) + "/";
  const { loadPyodide } = await import(pathToFileURL(dist + "pyodide.mjs").href);
  pyodide = await loadPyodide({ indexURL: dist });
  pyodide.FS.writeFile("/home/pyodide/harness.py",
                       readFileSync(path.join(ROOT, "web/harness.py"), "utf8"));
  pyodide.runPython("import sys\nsys.path.insert(0, '/home/pyodide')\nimport harness");
});

after(async () => {
  if (svc) await svc.stop();
});

async function nativeRun(data) {
  const resp = await fetch(`${svc.url}/api/insights/python-execution`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: "pass", data,
                           requirements: { preferredEngine: "native", insights: true } }),
  });
  assert.equal(resp.status, 200);
  return resp.json();
}

// The harness as the page's worker calls it: run_json_async with insights.
async function pyodideRun(data) {
  const runJson = pyodide.globals.get("harness").run_json_async;
  try {
    const text = await runJson.callKwargs("pass", JSON.stringify(data), { insights: true });
    return JSON.parse(text);
  } finally {
    runJson.destroy();
  }
}

test("Pyodide and the native engine give identical findings on the same data", async () => {
  let planted = 0;
  for (const c of CASES) {
    const native = await nativeRun(c.data);
    assert.equal(native.engine, "native", c.name);
    const browser = await pyodideRun(c.data);
    assert.equal(browser.status, "ok", c.name);
    assert.deepEqual(browser.insights, native.insights, c.name);
    planted += c.expect.length;
    for (const want of c.expect) {
      assert.ok(browser.insights.some((f) => f.kind === want.kind &&
                                      (!want.columns || JSON.stringify(f.columns) ===
                                       JSON.stringify(want.columns))),
                `${c.name}: ${want.kind} ${JSON.stringify(want.columns)}`);
    }
  }
  assert.ok(planted >= 8, "the cases plant at least one finding of each kind checked");
});

test("without insights the browser engine's result has none", async () => {
  const runJson = pyodide.globals.get("harness").run_json_async;
  try {
    const result = JSON.parse(await runJson("pass", JSON.stringify(CASES[0].data)));
    assert.equal(result.status, "ok");
    assert.equal("insights" in result, false);
  } finally {
    runJson.destroy();
  }
});
