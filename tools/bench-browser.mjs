// tools/bench-browser.mjs - how fast the browser engine answers, in
// headless Chromium against a real service instance.  A benchmark, not a
// test: it prints figures and (with --write) records them in
// docs/PERFORMANCE.md; it fails only if the page does not work at all.
//
//   tools/bench-browser [--cold N] [--warm N] [--runs N] [--settle MS] [--write]
//                       [--no-snapshot | --local-snapshot]
//
// Figures (each the median, min and max over its runs):
//   cold   navigation -> first print(1) result, new browser profile per run
//          (the build-time memory snapshot restores; --local-snapshot measures
//          a first visit without it, which starts Python and saves its own)
//   warm   the same with one profile kept across runs (HTTP cache, V8 code
//          cache, and the memory snapshot in the Cache API all warm); the
//          browser is relaunched for every run, as on a return visit
//   run    Run click -> output of print(1) on a ready page
// See docs/PERFORMANCE.md ("Browser engine") for how each one is taken.
import { execFileSync } from "node:child_process";
import {
  mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  ROOT, SANDBOX_PATH, launchBrowser, launchProfile, startService,
} from "../tests/browser/lib.mjs";

function parseArgs(argv) {
  const opts = { cold: 5, warm: 5, runs: 30, write: false, snapshot: "on", settle: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === "--cold") opts.cold = num();
    else if (a === "--warm") opts.warm = num();
    else if (a === "--runs") opts.runs = num();
    else if (a === "--write") opts.write = true;
    else if (a === "--no-snapshot") opts.snapshot = "off";
    else if (a === "--local-snapshot") opts.snapshot = "local";
    else if (a === "--settle") {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error("--settle needs milliseconds (0 or more)");
      opts.settle = v;
    }
    else if (a === "-h" || a === "--help") {
      console.log("usage: tools/bench-browser [--cold N] [--warm N] [--runs N] [--settle MS] " +
                  "[--write] [--no-snapshot | --local-snapshot]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

const fmt = (ms) => `${Math.round(ms)} ms`;
const fmt1 = (ms) => `${ms.toFixed(1)} ms`;

// The page's own user-timing marks (web/sandbox.js) after one print(1) run:
// times are relative to the navigation's start (performance.timeOrigin).
async function runPrint1(page) {
  await page.fill("#code", "print(1)");
  const before = await page.evaluate(() => performance.getEntriesByName("pysb-run-end").length);
  const t0 = Date.now();
  await page.click("#run");
  await page.waitForFunction(
    (n) => performance.getEntriesByName("pysb-run-end").length > n, before, { polling: "raf" });
  const outside = Date.now() - t0;
  const m = await page.evaluate(() => {
    const starts = performance.getEntriesByName("pysb-run-start");
    const ends = performance.getEntriesByName("pysb-run-end");
    return {
      start: starts[starts.length - 1].startTime,
      end: ends[ends.length - 1].startTime,
      stdout: document.getElementById("stdout").textContent,
    };
  });
  if (m.stdout !== "1\n") throw new Error(`print(1) printed ${JSON.stringify(m.stdout)}`);
  return { inPage: m.end - m.start, outside };
}

// One visit: navigate, wait until Python is ready, run print(1).
// firstResult = ready + the run's own duration, i.e. what a page that runs
// on load (batch-analyze's autorun) shows, without the harness's think time
// between "ready" and the click.
async function visit(context, url, settle) {
  const page = context.pages()[0] || await context.newPage();
  // A freshly launched Chromium spends its first seconds on its own start-up
  // (its WebUI pages, profile and caches) on the same two cores; a return
  // visit happens in a browser that is already running.  Measure the page,
  // not the browser's launch.
  if (settle > 0) {
    await page.goto("about:blank");
    await page.waitForTimeout(settle);
  }
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(() => {
    const s = document.getElementById("status");
    return s && (s.dataset.state === "ready" || s.dataset.state === "failed");
  }, null, { polling: "raf", timeout: 60000 });
  const state = await page.getAttribute("#status", "data-state");
  if (state !== "ready") throw new Error(`load failed: ${await page.textContent("#status-text")}`);
  const m = await page.evaluate(() => {
    const e = performance.getEntriesByName("pysb-ready")[0];
    const nav = performance.getEntriesByType("navigation")[0];
    return { ready: e.startTime, detail: e.detail,
             html: nav ? Math.round(nav.responseEnd) : null,
             dcl: nav ? Math.round(nav.domContentLoadedEventEnd) : null };
  });
  const run = await runPrint1(page);
  if (process.env.BENCH_VERBOSE) {
    console.log(`  html ${m.html} ms, DOMContentLoaded ${m.dcl} ms, new Worker ` +
                `${m.detail.workerCreated} ms, worker script runs ${m.detail.workerStart} ms, ` +
                `worker stages ${JSON.stringify(m.detail.stages)}`);
  }
  return { page, ready: m.ready, firstResult: m.ready + run.inPage,
           snapshot: m.detail && m.detail.snapshot };
}

async function waitSnapshotSaved(page) {
  await page.waitForFunction(() => document.documentElement.dataset.snapshot !== undefined,
                             null, { timeout: 30000 });
}

// The same Pyodide start-up in Node, without a browser: a yardstick for how
// fast this machine is right now (shared machines vary a lot over a day),
// so figures from different runs can be compared.
function nodeReference(runs = 3) {
  const dist = path.join(ROOT, "pyodide/dist", readPyodideVersion()) + "/";
  const script = `const { loadPyodide } = require(${JSON.stringify(dist + "pyodide.js")});
const t = performance.now();
loadPyodide({ indexURL: ${JSON.stringify(dist)} }).then(() =>
  console.log(Math.round(performance.now() - t)));`;
  const times = [];
  for (let i = 0; i < runs; i++) {
    times.push(Number(execFileSync(process.execPath, ["-e", script]).toString().trim()));
  }
  return stats(times);
}

function machine(browserVersion) {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0] ? cpus[0].model.trim() : "CPU"}, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}; ` +
    `Chromium ${browserVersion} (headless), Node ${process.version}`;
}

// Replaces the measured block of the "Browser engine" section of
// docs/PERFORMANCE.md (between the bench-browser markers), so the notes
// written by hand around it survive a re-run.
const BEGIN = "<!-- bench-browser:begin (written by tools/bench-browser --write) -->";
const END = "<!-- bench-browser:end -->";

function writeDoc(block) {
  const file = path.join(ROOT, "docs/PERFORMANCE.md");
  let text = existsSync(file) ? readFileSync(file, "utf8") : "# Performance\n";
  const marked = `${BEGIN}\n${block.trim()}\n${END}`;
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) {
    text = text.slice(0, b) + marked + text.slice(e + END.length);
  } else {
    const heading = "\n## Browser engine\n";
    const h = text.indexOf(heading);
    if (h >= 0) {
      const at = h + heading.length;
      text = `${text.slice(0, at)}\n${marked}\n${text.slice(at)}`;
    } else {
      text = `${text.replace(/\n*$/, "\n")}${heading}\n${marked}\n`;
    }
  }
  writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const loadStart = os.loadavg().map((x) => x.toFixed(2)).join(" / ");
  const loadEnd = () => os.loadavg().map((x) => x.toFixed(2)).join(" / ");
  const svc = await startService();
  const url = `${svc.url}${SANDBOX_PATH}` +
    (opts.snapshot === "on" ? "" : `?pysb-snapshot=${opts.snapshot}`);
  const dirs = [];
  const tmpProfile = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), "pysb-bench-profile-"));
    dirs.push(d);
    return d;
  };
  try {
    // The very first Chromium start on a machine pays for font and disk
    // caches (about 2 s more); that is the OS warming up, not our page.
    const reference = nodeReference();
    console.log(`reference: loadPyodide() in Node: median ${fmt(reference.median)} ` +
                `(min ${fmt(reference.min)}, max ${fmt(reference.max)})`);
    const b = await launchBrowser();
    const browserVersion = b.version();
    const p = await b.newPage();
    await p.goto("about:blank");
    await b.close();

    const cold = [];
    for (let i = 0; i < opts.cold; i++) {
      const dir = tmpProfile();
      const ctx = await launchProfile(dir);
      try {
        const v = await visit(ctx, url, opts.settle);
        cold.push(v);
        console.log(`cold ${i + 1}: ready ${fmt(v.ready)}, first result ${fmt(v.firstResult)} ` +
                    `(snapshot ${v.snapshot})`);
      } finally {
        await ctx.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }

    const warmDir = tmpProfile();
    {
      const ctx = await launchProfile(warmDir);
      const v = await visit(ctx, url, opts.settle);
      if (opts.snapshot !== "off") await waitSnapshotSaved(v.page);
      await ctx.close();
    }
    const warm = [];
    for (let i = 0; i < opts.warm; i++) {
      const ctx = await launchProfile(warmDir);
      try {
        const v = await visit(ctx, url, opts.settle);
        warm.push(v);
        console.log(`warm ${i + 1}: ready ${fmt(v.ready)}, first result ${fmt(v.firstResult)} ` +
                    `(snapshot ${v.snapshot})`);
      } finally {
        await ctx.close();
      }
    }

    const runs = [];
    {
      const ctx = await launchProfile(warmDir);
      try {
        const v = await visit(ctx, url, opts.settle);
        for (let i = 0; i < 3; i++) await runPrint1(v.page); // JIT warm-up, not counted
        for (let i = 0; i < opts.runs; i++) runs.push(await runPrint1(v.page));
      } finally {
        await ctx.close();
      }
    }

    const rows = [
      ["cold: navigation → first `print(1)` result", stats(cold.map((v) => v.firstResult)), fmt],
      ["cold: navigation → ready", stats(cold.map((v) => v.ready)), fmt],
      ["warm: navigation → first `print(1)` result", stats(warm.map((v) => v.firstResult)), fmt],
      ["warm: navigation → ready", stats(warm.map((v) => v.ready)), fmt],
      ["Run click → `print(1)` output shown (in page)", stats(runs.map((r) => r.inPage)), fmt1],
      ["Run click → output, seen by Playwright (adds CDP round trips)",
       stats(runs.map((r) => r.outside)), fmt1],
    ];
    console.log("");
    for (const [name, s, f] of rows) {
      console.log(`${name.replace(/`/g, "")}: median ${f(s.median)} (min ${f(s.min)}, ` +
                  `max ${f(s.max)}, n=${s.n})`);
    }

    if (opts.write) {
      const date = new Date().toISOString().slice(0, 10);
      const table = rows.map(([name, s, f]) =>
        `| ${name} | ${f(s.median)} | ${f(s.min)} | ${f(s.max)} | ${s.n} |`).join("\n");
      const cmd = `tools/bench-browser --cold ${opts.cold} --warm ${opts.warm} ` +
                  `--runs ${opts.runs} --settle ${opts.settle} --write` +
                  (opts.snapshot === "on" ? "" : ` --${opts.snapshot === "off" ? "no" : "local"}-snapshot`);
      const snapGz = servedSnapshotGzipBytes();
      const section = `Measured ${date} with \`${cmd}\` (\`make bench-browser\` runs it with its default counts)
on ${machine(browserVersion)}; load average ${loadStart} before the run, ${loadEnd()} after
(the machine is shared: other work running at the same time inflates the cold figures most).
Yardstick for the machine's speed at the time: \`loadPyodide()\` in Node, no browser, took
${fmt(reference.median)} (median of ${reference.n}; about 1.3 s when this machine is quiet).
Pyodide ${readPyodideVersion()} served by a real instance (nginx + pysandbox-fcgi via
\`tools/service\`) on loopback, so network time is near zero: on a real link add the
download (about 5.5 MB gzip on a cold visit${opts.snapshot === "on" && snapGz
  ? `, plus ${(snapGz / 1e6).toFixed(1)} MB for the memory snapshot made at build time` : ""},
nothing on a warm one).
Memory snapshot: ${{ on: "on (default: the build-time one on a first visit, then the browser's copy)",
                     local: "only the one the browser saves itself (`?pysb-snapshot=local`)",
                     off: "off (`?pysb-snapshot=off`)" }[opts.snapshot]}.
Each visit starts ${opts.settle} ms after the browser was launched (\`--settle\`), on about:blank,
so Chromium's own start-up work is not counted as the page's.

| figure | median | min | max | runs |
|---|---:|---:|---:|---:|
${table}

How each figure is taken (times come from the page's own user-timing marks in
\`web/sandbox.js\`, relative to the start of the navigation):

- **navigation → ready**: the \`pysb-ready\` mark, set when the worker reports that
  Python and the harness are loaded (the Run button works earlier, for runs the
  router sends to the server).
- **navigation → first result**: ready + the duration of the first \`print(1)\` run
  (\`pysb-run-start\` at the click to \`pysb-run-end\` after the output is in the DOM);
  this is what a page that runs on load (batch-analyze's autorun) shows, without
  Playwright's own delay between seeing "ready" and clicking.
- **cold**: a new Chromium profile per run (empty HTTP cache, code cache and Cache API;
  the memory snapshot made at build time is downloaded and restored);
  one throw-away browser start first, because the very first Chromium start on a
  machine is about 2 s slower for reasons outside the page.
- **warm**: one profile primed by a first visit (which also saves the memory snapshot),
  then the browser is closed and relaunched for every run, like a return visit.
- **Run click → output**: on a ready page, ${opts.runs} runs after 3 unmeasured ones;
  "in page" is \`pysb-run-start\` → \`pysb-run-end\`; "seen by Playwright" is
  \`page.click\` → the mark being visible to \`waitForFunction\` (rAF polling).
`;
      writeDoc(section);
    }
  } finally {
    await svc.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

// Bytes of the gzip copy of the build-time snapshot (tools/make-snapshot.mjs), or 0.
function servedSnapshotGzipBytes() {
  const dir = path.join(ROOT, "pyodide/dist", readPyodideVersion());
  try {
    const name = readdirSync(dir).find((f) => /^pysandbox-snapshot-.*\.bin\.gz$/.test(f));
    return name ? statSync(path.join(dir, name)).size : 0;
  } catch (err) {
    return 0;
  }
}

function readPyodideVersion() {
  try {
    return execFileSync("sed", ["-n", "s/^PYODIDE_VERSION *:= *//p", path.join(ROOT, "Makefile")])
      .toString().trim();
  } catch (err) {
    return "?";
  }
}

main().catch((err) => {
  console.error(`bench-browser: ${err.stack || err.message}`);
  process.exit(1);
});
