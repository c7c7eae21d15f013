/* worker.js - the browser engine: one Pyodide runtime, kept warm, in a
 * classic Web Worker started by sandbox.js.
 *
 * Start-up: the page names the worker with its configuration
 * (new Worker(url, {name: JSON.stringify({pysbConfig})})), so loading starts
 * as soon as this script runs.  A message would reach the worker only once
 * the page's main thread has handled the worker's "script evaluated" notice,
 * and that thread is busy parsing the page's own scripts at that moment.
 *
 * Messages in (from sandbox.js):
 *   {type:"init", config, interruptBuffer?}   once, right after the worker starts;
 *                                             starts loading when the name held no
 *                                             configuration, else only hands over
 *                                             the interrupt buffer
 *   {type:"run", id, code, dataText, insights?}
 *                                             one at a time (the page queues, and
 *                                             sets the interrupt buffer to 0 first);
 *                                             runs share one session (globals);
 *                                             insights: true adds result.insights
 *   {type:"reset", id}                        between runs: a fresh session
 * Messages out:
 *   {type:"progress", stage, percent, ms}     while loading
 *   {type:"ready", loadMs, stages, pyodideVersion, pythonVersion, snapshot}
 *   {type:"snapshot", saved}                  after ready, when a memory snapshot was stored
 *   {type:"load-error", stage, message}       loading failed; the page offers a retry
 *   {type:"output", id, chunks}               live output of run id while it runs:
 *                                             chunks = [["stdout"|"stderr", text], ...]
 *   {type:"result", id, result, fatal?}       result = harness dict + engine + metadata;
 *                                             integers beyond 2^53 as BigInt
 *   {type:"reset", id}                        the session was replaced
 *
 * A classic worker, not a module one: importScripts() of the UMD pyodide.js
 * needs no .mjs MIME type and works the same from a blob: URL, should the page
 * ever move into an opaque-origin iframe (see docs/design/frontend-pyodide.md).
 */
"use strict";

// Where the harness lives inside the Emscripten file system: its own folder,
// at the end of sys.path.  User code could still replace it on purpose;
// nothing in the worker is a security boundary, the browser tab is.
const HARNESS_DIR = "/pysandbox";
const HARNESS_MODULE = "pysandbox_harness";

// Memory snapshots: a copy of the wasm heap taken right after Python has
// started and imported the harness.  Restoring one skips the interpreter's
// start-up, which is most of a load.  Two sources, tried in this order:
// - the one this browser saved in the Cache API, keyed by Pyodide version
//   and SNAPSHOT_LAYOUT, with the harness's sha256 stored beside it;
// - the one made at build time (tools/make-snapshot.mjs, by this worker in
//   headless Chromium) and served beside Pyodide under a name holding the
//   harness's sha256, SNAPSHOT_LAYOUT and the kind of browser that made it,
//   so a first visit restores too; it is then saved in the Cache API.
// Without either, Python starts normally and this browser saves its own.
// A new Pyodide or harness never restores a stale heap (Pyodide itself also
// checks its build id), and a snapshot that fails is dropped, costing only
// speed.
const SNAPSHOT_CACHE = "pysandbox-snapshots";
// Part of the key: bump it whenever this file changes what the heap holds
// at snapshot time (load options, installHarness), so old snapshots are
// never restored into a worker that expects a different heap.
const SNAPSHOT_LAYOUT = 1;
// Run after a restore (see where it is used).  The sys.path line undoes a
// second "" that Pyodide inserts on every start, restored or not.
const RESEED = `
import sys
if "random" in sys.modules:
    sys.modules["random"].seed()
if "tempfile" in sys.modules:
    sys.modules["tempfile"]._name_sequence = None
sys.path[:] = list(dict.fromkeys(sys.path))
`;

let config = null;
let pyodide = null;
let harness = null; /* PyProxy of the harness module; lives as long as the worker */
let interrupt = null; /* Uint8Array over the page's SharedArrayBuffer, or null */
let importToPackage = null; /* import name -> lockfile package name */
let findImports = null; /* PyProxy of pyodide.code.find_imports, kept for the worker's life */
let loadInfo = null;
let loadStage = "runtime"; /* reported with a load error */
// The globals every run shares (the harness's session dict), so a Run goes on
// from the previous one's state; replaced by a reset.  A PyProxy.
let session = null;

// Live output.  The harness's captured streams hand each write to a Python
// function (installLiveOutput) that writes it to the real fd 1 or 2, which
// Pyodide passes to the write handlers below.  Text is coalesced before it
// is posted: a write goes out at once while there have been fewer than
// LIVE_BURST posts in the current LIVE_WINDOW_MS window; later ones wait for
// the window's end (a timer, which fires only when Python yields, or the
// next write after it) or until LIVE_MAX_CHARS are waiting.  So sparse
// prints show at once even while Python then blocks (time.sleep, a busy
// loop), and a print loop costs the page a few hundred messages a second.
const LIVE_WINDOW_MS = 50;
const LIVE_BURST = 16;
const LIVE_MAX_CHARS = 4096;
let live = null; /* {id, chunks, chars, windowStart, posts, timer} during a run */
const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
const t0 = performance.now();

function post(msg) {
  self.postMessage(msg);
}

function progress(stage, percent) {
  post({ type: "progress", stage, percent, ms: Math.round(performance.now() - t0) });
}

function startLoading(cfg) {
  config = cfg;
  init().catch((err) => {
    post({ type: "load-error", stage: loadStage, message: describe(err) });
  });
}

// The configuration the page put in the worker's name, or null.
function configFromName() {
  try {
    const named = JSON.parse(self.name || "null");
    return named !== null && typeof named === "object" &&
      named.pysbConfig !== null && typeof named.pysbConfig === "object" ? named.pysbConfig : null;
  } catch (err) {
    return null;
  }
}

self.onmessage = (event) => {
  const msg = event.data;
  if (msg === null || typeof msg !== "object") return;
  if (msg.type === "init") {
    if (msg.interruptBuffer && interrupt === null) {
      interrupt = new Uint8Array(msg.interruptBuffer);
      // Loading may have finished before this message arrived.
      if (loadInfo !== null) pyodide.setInterruptBuffer(interrupt);
    }
    if (config === null) startLoading(msg.config);
  } else if (msg.type === "run") {
    runOne(msg);
  } else if (msg.type === "reset") {
    resetSession(msg.id);
  }
};

function describe(err) {
  if (err && typeof err === "object" && "message" in err) {
    return `${err.name || "Error"}: ${err.message}`;
  }
  return String(err);
}

async function fetchText(url, what) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`${what} (${url}): HTTP ${resp.status}`);
  return resp.text();
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/* Snapshot cache --------------------------------------------------------- */

function snapshotsUsable() {
  return config.snapshot !== false && typeof caches !== "undefined";
}

// The build-time snapshot's URL for the harness whose sha256 is given.
// Pyodide records at start-up whether the JavaScript runtime can switch
// stacks (JSPI), and a heap made where it could breaks time.sleep where it
// cannot (and the reverse): the name says which kind of browser made it
// (tools/make-snapshot.mjs), and this one asks only for its own kind.
function servedSnapshotUrl(harnessHash) {
  const jspi = typeof WebAssembly.Suspending === "function" ? 1 : 0;
  return new URL(`pysandbox-snapshot-${harnessHash.slice(0, 16)}-${SNAPSHOT_LAYOUT}-jspi${jspi}.bin`,
                 absolute(config.pyodideUrl)).href;
}

// The build-time snapshot's bytes; rejects when none is served for this
// harness (an older build, or one made without Chromium at build time).
async function servedSnapshotBytes(harnessHash) {
  const resp = await fetch(servedSnapshotUrl(await harnessHash));
  if (!resp.ok) throw new Error(`no snapshot is served for this harness (HTTP ${resp.status})`);
  return new Uint8Array(await resp.arrayBuffer());
}

// One entry per Pyodide version and layout; the harness it was made with is
// in its X-Harness-Sha256 header, so the lookup need not wait for the
// harness download.  The Cache API wants a URL; this one is never fetched.
function snapshotKey() {
  const base = absolute(config.pyodideUrl);
  return new URL(`__pysandbox_snapshot__/${encodeURIComponent(config.pyodideVersion)}/` +
                 `${SNAPSHOT_LAYOUT}.bin`, base).href;
}

// The cached entry (a Response whose body is not read yet), or null.
async function findSnapshot(key) {
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    return (await cache.match(key)) || null;
  } catch (err) {
    return null; // storage disabled or evicted: load normally
  }
}

// The entry's bytes, once checked against the harness and its own length;
// rejects otherwise (and the caller then loads without it).  A short read
// must never reach Pyodide, which restores whatever heap it is given; its
// own magic-number and build-id checks cover the rest.
async function snapshotBytes(entry, harnessHash) {
  const [hash, buf] = await Promise.all([harnessHash, entry.arrayBuffer()]);
  if (entry.headers.get("X-Harness-Sha256") !== hash) {
    throw new Error("the snapshot was made with another harness.py");
  }
  if (String(buf.byteLength) !== entry.headers.get("X-Snapshot-Length")) {
    throw new Error("the snapshot entry is incomplete");
  }
  return new Uint8Array(buf);
}

async function writeSnapshot(key, bytes, harnessHash) {
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    // Entries for other versions or layouts would never be read again.
    for (const req of await cache.keys()) {
      if (req.url !== key) await cache.delete(req);
    }
    await cache.put(key, new Response(bytes, {
      headers: { "Content-Type": "application/octet-stream",
                 "X-Snapshot-Length": String(bytes.byteLength),
                 "X-Harness-Sha256": harnessHash },
    }));
    return true;
  } catch (err) {
    // Quota or private mode: the next load is simply not faster.
    return false;
  }
}

async function dropSnapshot(key) {
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    await cache.delete(key);
  } catch (err) { /* nothing to drop */ }
}

/* Loading ---------------------------------------------------------------- */

// Absolute URLs: Pyodide resolves wheel file names with new URL(name, base),
// which rejects a path-only base such as "/pyodide/0.29.5/".
function absolute(url) {
  return new URL(url, self.location.href).href;
}

function loadOptions(extra) {
  return Object.assign({
    indexURL: absolute(config.pyodideUrl),
    packageBaseUrl: absolute(config.packageUrl || config.pyodideUrl),
    // Pyodide >= 0.28 defaults matplotlib to a DOM backend that cannot work
    // in a worker; the harness saves figures as PNG with Agg.
    env: { MPLBACKEND: "Agg" },
    // Startup chatter ("Loading ...") goes to the console, not to the user.
    stdout: (line) => console.log("[pyodide]", line),
    stderr: (line) => console.warn("[pyodide]", line),
  }, extra);
}

function writeHarnessFile(text) {
  pyodide.FS.mkdirTree(HARNESS_DIR);
  pyodide.FS.writeFile(`${HARNESS_DIR}/${HARNESS_MODULE}.py`, text);
}

function installHarness(text) {
  writeHarnessFile(text);
  // Appended, so it never shadows anything the user's code imports.
  pyodide.runPython(`import sys\nif ${JSON.stringify(HARNESS_DIR)} not in sys.path: ` +
                    `sys.path.append(${JSON.stringify(HARNESS_DIR)})`);
  return pyodide.pyimport(HARNESS_MODULE);
}

async function init() {
  const stages = {};
  const mark = (name) => { stages[name] = Math.round(performance.now() - t0); };
  progress("runtime", 10);

  // The harness request and the snapshot lookup start before the
  // (synchronous) importScripts, and the snapshot's 20 MB are read while
  // Pyodide downloads and compiles its runtime: nothing here waits in line.
  const harnessText = fetchText(config.harnessUrl, "the Python harness");
  harnessText.catch(() => {}); // reported where it is awaited
  const harnessHash = harnessText.then(sha256Hex);
  harnessHash.catch(() => {});
  const key = snapshotsUsable() ? snapshotKey() : null;
  const entry = key !== null ? findSnapshot(key) : Promise.resolve(null);

  importScripts(new URL("pyodide.js", absolute(config.pyodideUrl)).href);
  mark("script");
  loadStage = "python";
  progress("python", 25);

  // Sources to restore from, in order (see SNAPSHOT_CACHE above): each is
  // a function giving the bytes, tried until one restores.
  const sources = [];
  const cached = await entry;
  if (key !== null) mark("lookup");
  if (cached !== null) sources.push({ name: "restored", bytes: () => snapshotBytes(cached, harnessHash) });
  if (config.snapshot !== false && config.servedSnapshot !== false) {
    sources.push({ name: "served", bytes: () => servedSnapshotBytes(harnessHash) });
  }
  let restored = null; /* the source that restored, or null */
  let servedBytes = null; /* the build-time snapshot, to save in the Cache API */
  for (const source of sources) {
    try {
      const bytes = source.bytes();
      bytes.catch(() => {}); // loadPyodide awaits it; this only silences a second report
      pyodide = await self.loadPyodide(loadOptions({ _loadSnapshot: bytes }));
      mark("python");
      // The restored heap already holds the imported harness module, but
      // the file system lives in JS memory, outside the heap: put the file
      // back so tracebacks and inspect can read its source as usual.
      writeHarnessFile(await harnessText);
      harness = pyodide.pyimport(HARNESS_MODULE);
      // Pyodide's start-up imports random (via tempfile), so the heap holds
      // an already seeded generator: without a fresh seed every page
      // restored from this snapshot would draw the same "random" numbers.
      // (The str hash seed is fixed at interpreter start and stays shared;
      // it only matters against hash flooding, not here.)
      pyodide.runPython(RESEED);
      // One tiny run through the harness before the page may use it: a heap
      // that restored without error but does not work is caught here.
      const probe = JSON.parse(harness.run_json("print(6 * 7)", "[]"));
      if (probe.output !== "42\n") throw new Error("the restored runtime failed its probe run");
      restored = source.name;
      if (source.name === "served") servedBytes = await bytes;
      break;
    } catch (err) {
      console.warn(`pysandbox: not using the memory snapshot (${source.name}):`, err);
      if (source.name === "restored") await dropSnapshot(key);
      pyodide = null;
      harness = null;
    }
  }
  if (restored === null) {
    const makeSnapshot = key !== null;
    pyodide = await self.loadPyodide(loadOptions(makeSnapshot ? { _makeSnapshot: true } : {}));
    mark("python");
    loadStage = "harness";
    progress("harness", 85);
    harness = installHarness(await harnessText);
    if (makeSnapshot) {
      // Taken before any JS object is handed to Python and before any run,
      // so the heap is the same for every page that uses this harness.
      let bytes = null;
      try {
        bytes = pyodide.makeMemorySnapshot();
      } catch (err) {
        console.warn("pysandbox: no memory snapshot:", err); // only the next load is slower
      }
      // Not awaited: the page need not wait for storage.
      if (bytes !== null) {
        const hash = await harnessHash;
        writeSnapshot(key, bytes, hash).then((saved) => post({ type: "snapshot", saved }));
      } else {
        post({ type: "snapshot", saved: false });
      }
    }
  }
  mark("harness");

  if (interrupt !== null) pyodide.setInterruptBuffer(interrupt);
  // After the snapshot (made or restored), so the heap it holds stays the
  // same: the session and the live-output hook are per worker.
  installLiveOutput();
  session = pyodide.runPython("dict()");

  // A copy: an attribute proxy dies with the module proxy it came from.
  const codeModule = pyodide.pyimport("pyodide.code");
  findImports = codeModule.find_imports.copy();
  codeModule.destroy();
  importToPackage = new Map();
  const packages = pyodide.lockfile.packages;
  for (const name of Object.keys(packages)) {
    for (const imp of packages[name].imports || []) importToPackage.set(imp, name);
  }
  mark("ready");

  const pythonVersion = String(pyodide.runPython("import sys; sys.version.split()[0]"));
  loadInfo = {
    // Lets the page place the worker's stage times on its own clock.
    startedAt: performance.timeOrigin + t0,
    loadMs: stages.ready,
    stages,
    pyodideVersion: pyodide.version,
    pythonVersion,
    snapshot: restored !== null ? restored : (key !== null ? "created" : "off"),
  };
  progress("ready", 100);
  post(Object.assign({ type: "ready" }, loadInfo));
  // The build-time snapshot restored: keep it in the Cache API too, which
  // later loads read without going through the HTTP cache.  Not awaited.
  if (servedBytes !== null && key !== null) {
    const hash = await harnessHash;
    writeSnapshot(key, servedBytes, hash).then((saved) => post({ type: "snapshot", saved }));
  }
}

/* Live output ------------------------------------------------------------ */

// Pyodide's raw write handlers: buf is a Uint8Array over the wasm heap
// (decoded at once), and the handler answers the bytes it took.  Outside a
// run (start-up chatter, tasks a run left pending) text goes to the console.
function onStreamWrite(stream, buf) {
  const text = decoders[stream].decode(buf, { stream: true });
  if (text !== "") {
    if (live !== null) {
      liveAdd(stream, text);
    } else if (stream === "stdout") {
      console.log("[python]", text);
    } else {
      console.warn("[python]", text);
    }
  }
  return buf.length;
}

function installLiveOutput() {
  pyodide.setStdout({ write: (buf) => onStreamWrite("stdout", buf) });
  pyodide.setStderr({ write: (buf) => onStreamWrite("stderr", buf) });
  // The harness's captured streams call this with each piece of text they
  // keep.  Bytes straight to the real stream's buffer, then flushed, so
  // every write reaches the handler now, partial lines included; lone
  // surrogates become "?" here (the final result keeps its own text).
  const scope = pyodide.toPy({});
  try {
    pyodide.runPython(`
import sys
import ${HARNESS_MODULE}

def _pysandbox_live(name, text, _out=sys.__stdout__.buffer, _err=sys.__stderr__.buffer):
    stream = _out if name == "stdout" else _err
    stream.write(text.encode("utf-8", "replace"))
    stream.flush()

${HARNESS_MODULE}.live_output = _pysandbox_live
`, { globals: scope });
  } finally {
    scope.destroy();
  }
}

function liveAdd(stream, text) {
  const last = live.chunks.length > 0 ? live.chunks[live.chunks.length - 1] : null;
  if (last !== null && last[0] === stream) {
    last[1] += text;
  } else {
    live.chunks.push([stream, text]);
  }
  live.chars += text.length;
  const now = performance.now();
  if (now - live.windowStart >= LIVE_WINDOW_MS) {
    live.windowStart = now;
    live.posts = 0;
  }
  if (live.posts < LIVE_BURST || live.chars >= LIVE_MAX_CHARS) {
    live.posts++;
    liveFlush();
  } else if (live.timer === 0) {
    live.timer = setTimeout(() => {
      if (live === null) return;
      live.timer = 0;
      live.windowStart = performance.now();
      live.posts = 0;
      liveFlush();
    }, Math.max(1, LIVE_WINDOW_MS - (now - live.windowStart)));
  }
}

function liveFlush() {
  if (live === null || live.chunks.length === 0) return;
  post({ type: "output", id: live.id, chunks: live.chunks });
  live.chunks = [];
  live.chars = 0;
}

function liveStart(id) {
  live = { id, chunks: [], chars: 0, windowStart: -Infinity, posts: 0, timer: 0 };
}

// Posts what is left, before the run's result.
function liveEnd() {
  if (live === null) return;
  for (const stream of ["stdout", "stderr"]) {
    const rest = decoders[stream].decode();
    if (rest !== "") liveAdd(stream, rest);
  }
  clearTimeout(live.timer);
  liveFlush();
  live = null;
}

/* State ------------------------------------------------------------------ */

// A fresh session: new, empty globals.  Tasks earlier runs left pending on
// the event loop are cancelled (they hold the old globals); imported modules
// stay in sys.modules and loaded packages stay loaded, files written to the
// in-memory file system stay.  Comes between runs (the page queues it).
function resetSession(id) {
  if (pyodide !== null && session !== null) {
    try {
      pyodide.runPython(`
import asyncio
try:
    for _task in asyncio.all_tasks(asyncio.get_event_loop()):
        _task.cancel()
except Exception:
    pass
`, { globals: session });
      session.clear();
    } catch (err) {
      console.warn("pysandbox: while resetting the session:", err);
    }
    session.destroy();
    session = pyodide.runPython("dict()");
  }
  post({ type: "reset", id });
}

/* Running ---------------------------------------------------------------- */

// Import names of the code that map to lockfile packages not loaded yet.
function packagesToLoad(code) {
  let names = [];
  try {
    const found = findImports(code);
    try { names = found.toJs(); } finally { found.destroy(); }
  } catch (err) {
    return []; // a syntax error: the harness will report it with its line
  }
  const wanted = new Set();
  for (const name of names) {
    const pkg = importToPackage.get(name);
    if (pkg !== undefined && !(pkg in pyodide.loadedPackages)) wanted.add(pkg);
  }
  return Array.from(wanted);
}

async function runOne(msg) {
  const started = performance.now();
  const id = msg.id;
  if (pyodide === null || harness === null) {
    post({ type: "result", id, result: engineError("EngineUnavailable", "Python is not loaded") });
    return;
  }
  // The interrupt buffer is not reset here: the page clears it before it
  // posts each run (a Stop left over from the previous run would otherwise
  // fire inside this one, pyodide#6082), so a Stop pressed after the post
  // but before this line runs still stops this run.

  const packages = { requested: [], loaded: [], failed: [], messages: [] };
  let fatal = false;
  let result;
  try {
    packages.requested = packagesToLoad(msg.code);
    if (packages.requested.length > 0) {
      await pyodide.loadPackage(packages.requested, {
        messageCallback: (m) => packages.messages.push(m),
        errorCallback: (m) => packages.messages.push(m),
        checkIntegrity: true,
      });
      for (const pkg of packages.requested) {
        (pkg in pyodide.loadedPackages ? packages.loaded : packages.failed).push(pkg);
      }
    }
    const packagesMs = performance.now() - started;
    // The async variant, so code may await at the top level: Pyodide wraps
    // the coroutine this call makes in a task on its event loop (the webloop)
    // at once, and the proxy it returns resolves to the JSON text.  Code that
    // does not await runs in that task without yielding, as run_json would.
    liveStart(id);
    // insights (findings about the data, result.insights) is the harness's
    // last keyword; the page asks for it (batch-analyze pages, the panel's
    // "Findings about the data" box).
    const text = await harness.run_json_async.callKwargs(
      msg.code, msg.dataText, true, false, session, { insights: msg.insights === true });
    liveEnd();
    result = parseExact(text);
    result.metadata = metadata(started, packagesMs, packages);
  } catch (err) {
    // run_json_async catches everything the user's code raises, and answers
    // a Stop that landed while it packed the result as "killed" itself.  A
    // Python error here is a harness bug (or a Stop in the instant between
    // the harness and JS, mapped below as before).  Anything else means
    // the runtime itself broke (a wasm trap, out of memory); the page then
    // replaces the worker.
    const pythonError = Boolean(err && err.constructor && err.constructor.name === "PythonError");
    fatal = !pythonError;
    if (pythonError && /KeyboardInterrupt/.test(String(err.message))) {
      result = engineError("KeyboardInterrupt", "execution was stopped");
      result.status = "killed";
    } else {
      result = engineError("EngineError", describe(err));
    }
    result.metadata = metadata(started, 0, packages);
  }
  liveEnd(); // when run_json_async threw
  result.engine = "browser";
  post({ type: "result", id, result, fatal });
}

// The harness's JSON with integers beyond 2^53 kept exact: Python's int has
// no size limit, and JSON.parse would round 2**64 + 1 to 2**64.  An integer
// literal (only digits: Python writes every float with "." or an exponent)
// whose value is not a safe integer becomes a BigInt read from its source
// text (JSON.parse source text access); structured clone carries BigInts to
// the page and on to a parent frame.  The reviver runs only when the text
// has a run of 16 digits, so ordinary results parse at full speed.  The same
// rule as sandbox.js's parseExact; see docs/design/frontend-pyodide.md.
function exactReviver(key, value, context) {
  if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) &&
      context && typeof context.source === "string" && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

function parseExact(text) {
  return /\d{16}/.test(text) ? JSON.parse(text, exactReviver) : JSON.parse(text);
}

function metadata(started, packagesMs, packages) {
  return {
    pyodideVersion: loadInfo ? loadInfo.pyodideVersion : null,
    pythonVersion: loadInfo ? loadInfo.pythonVersion : null,
    // executionTime (from the harness) is the user's code only; totalMs is
    // the whole run in the worker, including package loading.
    totalMs: Math.round((performance.now() - started) * 1000) / 1000,
    packagesMs: Math.round(packagesMs * 1000) / 1000,
    packagesRequested: packages.requested,
    packagesLoaded: packages.loaded,
    missingPackages: packages.failed,
    packageMessages: packages.messages.slice(0, 20),
  };
}

function engineError(type, message) {
  return {
    success: false,
    status: "error",
    output: "",
    stderr: "",
    error: { type, message, traceback: "" },
    result: null,
    charts: [],
    executionTime: 0,
    limits: { outputTruncated: false, stderrTruncated: false, resultTruncated: false,
              chartsDropped: 0 },
    engine: "browser",
  };
}

{
  const named = configFromName();
  if (named !== null) startLoading(named);
}
