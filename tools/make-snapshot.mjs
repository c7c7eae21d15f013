// tools/make-snapshot.mjs - the browser engine's memory snapshot, made at
// build time so that a first visit restores Python instead of starting it.
//
//   node tools/make-snapshot.mjs PYODIDE_DIR HARNESS WORKER_JS
//
// The heap must be the one a browser makes: Pyodide records facts about
// its JavaScript runtime in it at start-up (whether WebAssembly stack
// switching exists, and which kind), so a heap made in Node breaks
// time.sleep in Chromium.  So the snapshot is made by the real worker
// (WORKER_JS) in Debian's headless Chromium, as a first visit would make
// it, from the files on disk (every request is answered here; nothing goes
// to the network), then read out of the page's Cache API.
//
// It is written to PYODIDE_DIR/pysandbox-snapshot-<first 16 hex digits of
// the harness's sha256>-<SNAPSHOT_LAYOUT>-jspi<0|1>.bin, with a gzip copy
// for nginx's gzip_static; older snapshot files are removed.  The name
// changes with the harness and the layout, so the year-long immutable
// caching of /pyodide/ never serves a stale heap, and it says whether the
// browser that made it had stack switching: the worker uses it only in a
// browser that agrees (web/worker.js, servedSnapshotUrl).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { launchBrowser } from "../tests/browser/lib.mjs";

// Never contacted: the route below answers every request.  localhost, so
// the page is a secure context and has the Cache API.
const ORIGIN = "http://localhost:9";
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
                ".zip": "application/zip", ".py": "text/plain; charset=utf-8" };
const LOAD_TIMEOUT_MS = 180000;

function constant(source, name) {
  const m = source.match(new RegExp(`^const ${name} = (.+);$`, "m"));
  if (!m) throw new Error(`${name} not found in the worker`);
  return JSON.parse(m[1]);
}

// In the page: start the worker as sandbox.js does, wait until it has
// saved its snapshot, and post the saved bytes back.
async function makeInPage(config) {
  const worker = new Worker("/worker.js", { name: JSON.stringify({ pysbConfig: config }) });
  const saved = await new Promise((resolve, reject) => {
    worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
    worker.onmessage = ({ data }) => {
      if (data.type === "load-error") reject(new Error(`load failed (${data.stage}): ${data.message}`));
      if (data.type === "ready" && data.snapshot !== "created") {
        reject(new Error(`the worker did not start Python afresh (${data.snapshot})`));
      }
      if (data.type === "snapshot") resolve(data.saved);
    };
  });
  if (!saved) throw new Error("the worker could not save its snapshot");
  const cache = await caches.open("pysandbox-snapshots");
  const [req] = await cache.keys();
  const bytes = await (await cache.match(req)).arrayBuffer();
  const resp = await fetch("/snapshot", { method: "POST", body: bytes });
  if (!resp.ok) throw new Error(`upload: HTTP ${resp.status}`);
  return { bytes: bytes.byteLength, jspi: typeof WebAssembly.Suspending === "function" };
}

async function main() {
  const [dir, harnessPath, workerPath] = process.argv.slice(2);
  if (!dir || !harnessPath || !workerPath) {
    throw new Error("usage: node tools/make-snapshot.mjs PYODIDE_DIR HARNESS WORKER_JS");
  }
  const workerText = readFileSync(workerPath, "utf8");
  const layout = constant(workerText, "SNAPSHOT_LAYOUT");
  const harness = readFileSync(harnessPath);
  const hash = createHash("sha256").update(harness).digest("hex");
  const started = performance.now();

  const browser = await launchBrowser();
  let upload = null;
  try {
    const context = await browser.newContext();
    await context.route(`${ORIGIN}/**`, (route) => {
      const req = route.request();
      const name = new URL(req.url()).pathname;
      if (name === "/") {
        return route.fulfill({ contentType: "text/html", body: "<!doctype html><title>snapshot</title>" });
      }
      if (name === "/snapshot" && req.method() === "POST") {
        upload = req.postDataBuffer();
        return route.fulfill({ status: 204 });
      }
      const file = name === "/worker.js" ? workerPath
        : name === "/harness.py" ? harnessPath
          : name.startsWith("/pyodide/") && !name.includes("..") ? path.join(dir, name.slice(9))
            : null;
      try {
        return route.fulfill({ contentType: TYPES[path.extname(file || "")] || "application/octet-stream",
                               body: readFileSync(file) });
      } catch (err) {
        return route.fulfill({ status: 404, body: "" });
      }
    });
    const page = await context.newPage();
    await page.goto(`${ORIGIN}/`);
    const made = await Promise.race([
      page.evaluate(makeInPage, {
        pyodideUrl: "/pyodide/", packageUrl: "/pyodide/", harnessUrl: "/harness.py",
        pyodideVersion: "build", snapshot: true, servedSnapshot: false,
      }),
      new Promise((_, reject) => {
        setTimeout(() => reject(new Error("timed out")), LOAD_TIMEOUT_MS).unref();
      }),
    ]);
    if (upload === null || upload.length !== made.bytes) {
      throw new Error(`the snapshot did not arrive whole (${upload ? upload.length : 0} of ${made.bytes} bytes)`);
    }
    const name = `pysandbox-snapshot-${hash.slice(0, 16)}-${layout}-jspi${made.jspi ? 1 : 0}.bin`;
    for (const old of readdirSync(dir)) {
      if (old.startsWith("pysandbox-snapshot-")) rmSync(path.join(dir, old));
    }
    const out = path.join(dir, name);
    writeFileSync(`${out}.tmp`, upload);
    writeFileSync(`${out}.gz.tmp`, gzipSync(upload, { level: 6 }));
    renameSync(`${out}.gz.tmp`, `${out}.gz`);
    renameSync(`${out}.tmp`, out);
    console.log(`make-snapshot: ${name}: ${upload.length} bytes, ` +
                `${Math.round(performance.now() - started)} ms`);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`make-snapshot: ${err.stack || err}`);
  process.exit(1);
});
