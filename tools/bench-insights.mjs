// tools/bench-insights.mjs - how long the harness takes to find what stands
// out in a table (result.insights, web/harness.py find_insights), natively in
// the jail and in Pyodide, on ROWS x 10 columns (default 10,000 rows): six
// numeric columns (two correlated, one trending, one with planted outliers),
// an ISO date, two categories, one with missing values.
//
// Each figure stands beside a floor measured in the same run on the same
// interpreter: json.loads of the same data (insights parse it afresh), so a
// slow or busy machine shows in both.  Usage: tools/bench-insights [rows] [runs]
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, startService } from "../tests/browser/lib.mjs";

const ROWS = Number(process.argv[2] || 10000);
const RUNS = Number(process.argv[3] || 5);

function table(rows) {
  const out = [];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const day0 = Date.UTC(2020, 0, 1);
  for (let i = 0; i < rows; i++) {
    const a = rnd() * 100;
    out.push({
      a, b: 2 * a + rnd() * 5, c: i * 0.5 + rnd() * 50, d: i % 997 === 0 ? 1e6 : rnd(),
      e: Math.round(rnd() * 1000), f: rnd() ** 4,
      day: new Date(day0 + i * 3600e3).toISOString().slice(0, 19),
      region: ["north", "south", "east", "west"][Math.floor(rnd() * 4)],
      plan: rnd() < 0.8 ? "basic" : "pro",
      score: rnd() < 0.1 ? null : rnd() * 10,
    });
  }
  return out;
}

// Runs inside the interpreter: median ms of json.loads and of find_insights.
const PROBE = `
import json, time, statistics
def _ms(f):
    t = time.perf_counter(); f(); return (time.perf_counter() - t) * 1000
parse = statistics.median(_ms(lambda: json.loads(text)) for _ in range(${RUNS}))
rows = json.loads(text)
found = find_insights(rows)
find = statistics.median(_ms(lambda: find_insights(rows)) for _ in range(${RUNS}))
__result__ = {"parse": parse, "find": find, "findings": len(found),
              "kinds": sorted(set(f["kind"] for f in found))}
`;

const text = JSON.stringify(table(ROWS));

async function native() {
  const svc = await startService();
  try {
    const resp = await fetch(`${svc.url}/api/python/execute`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: "import json\ntext = json.dumps(data)\n" + PROBE,
                             data: JSON.parse(text),
                             requirements: { maxExecutionTime: 30 } }),
    });
    const r = await resp.json();
    if (r.status !== "ok") throw new Error(`native run failed: ${JSON.stringify(r.error)}`);
    return r.result;
  } finally {
    await svc.stop();
  }
}

async function pyodideFigures() {
  const version = /^PYODIDE_VERSION\s*:=\s*(\S+)/m.exec(
    readFileSync(path.join(ROOT, "Makefile"), "utf8"))[1];
  const dist = path.join(ROOT, "pyodide/dist", version) + "/";
  const { loadPyodide } = await import(pathToFileURL(dist + "pyodide.mjs").href);
  const py = await loadPyodide({ indexURL: dist });
  py.FS.writeFile("/home/pyodide/harness.py", readFileSync(path.join(ROOT, "web/harness.py")));
  py.runPython("import sys\nsys.path.insert(0, '/home/pyodide')\nfrom harness import find_insights");
  py.globals.set("text", text);
  return JSON.parse(py.runPython(PROBE + "\njson.dumps(__result__)"));
}

const fmt = (x) => `${x.toFixed(0)} ms`;
const nat = await native();
const pyo = await pyodideFigures();
console.log(`find_insights on ${ROWS} rows x 10 columns (${(text.length / 1e6).toFixed(1)} MB of ` +
            `JSON), median of ${RUNS}:`);
for (const [name, r] of [["native (jail, CPython 3.11)", nat], ["Pyodide (Node)", pyo]]) {
  console.log(`  ${name}: ${fmt(r.find)}  (floor: json.loads of the same data ${fmt(r.parse)}); ` +
              `${r.findings} findings: ${r.kinds.join(", ")}`);
}
