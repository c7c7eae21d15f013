/* sandbox.js - the sandbox page: starts the Python worker, asks the router
 * where each run of the Run button goes, runs the user's code in the worker
 * or shows the server engine's answer, reports its own runs for the
 * statistics, and answers a parent frame.
 *
 * Loaded by a plain <script> in <head>, after the three JSON elements it
 * reads, so the worker (and with it the 8 MB runtime download and compile)
 * starts before the browser has even parsed <body>.  Everything that touches
 * the document waits for DOMContentLoaded.
 *
 * Untrusted text (code, data, output, tracebacks, results, parent messages)
 * only ever reaches the DOM through textContent, value, or DOM nodes built
 * here; never through innerHTML.  The protocol is described in
 * docs/design/frontend-pyodide.md.
 */
"use strict";

(function () {
  // After Stop writes SIGINT into the interrupt buffer, how long the run may
  // take to unwind before the worker is killed and replaced.  A busy loop
  // stops in a few ms; time.sleep() and long C calls never look at the
  // buffer, so they need the kill.  Not shorter: on a loaded 2-CPU host the
  // worker's thread once went 500 ms unscheduled, and a busy loop that would
  // have stopped lost the runtime's state instead.
  const STOP_GRACE_MS = 1000;
  // Rows of a DataFrame result drawn as a table (the harness sends at most
  // what its to_json produced; a huge table would freeze the page).
  const MAX_TABLE_ROWS = 200;
  // The router (docs/design/router.md) and where browser runs are reported.
  const ROUTER_URL = "/api/insights/python-execution";
  const REPORT_URL = "/api/insights/python-execution/report";
  // The stateful sandboxes of the native engine (docs/design/sandboxes.md):
  // server runs of the Run button go to one sandbox per page.
  const SANDBOX_URL = "/sandbox";
  // The router is asked for the browser only (no server engine may run it):
  // it hands the run over when this browser can take it, exactly as with no
  // requirements, and otherwise refuses, naming what each engine lacks, so
  // the page can run it in its own server sandbox instead of a one-shot run.
  const BROWSER_ONLY = { preferredEngine: "browser", fallbackAllowed: false };
  // Characters of live output the page keeps per stream for a run (the
  // harness keeps at most 1 Mi, and its final result replaces these).
  const LIVE_MAX_CHARS = 1024 * 1024;
  // Code points of the error text sent with a report: the service keeps at
  // most 500 bytes (413 beyond), and a code point is at most 4 bytes of UTF-8.
  const REPORT_ERROR_MAX_CHARS = 120;
  // Statuses the report endpoint accepts (an "unavailable" run never ran).
  const REPORT_STATUSES = new Set(["ok", "error", "timeout", "memory_limit", "output_limit",
                                   "killed", "engine_error"]);
  // localStorage key of the "run on the server when the browser lacks a
  // package" setting ("1" or absent).
  const AUTO_SERVER_KEY = "pysandbox.autoServerRun";
  // The run history of this tab (sessionStorage): at most HISTORY_MAX runs,
  // each with at most HISTORY_CODE_MAX characters of code.
  const HISTORY_KEY = "pysandbox.history";
  const HISTORY_MAX = 30;
  const HISTORY_CODE_MAX = 100000;
  // The engines the picker offers (Auto lets the router choose).
  const ENGINE_NAMES = { auto: "Auto", browser: "Browser", native: "Native", judge0: "Judge0" };
  // Data loaded into the page may be as large as data posted with it: the
  // page body cap, which the router reports as the browser engine's data
  // limit (engines.browser.limits.maxDataMb); this until it has answered.
  const DEFAULT_DATA_LIMIT_MB = 10;
  // Unsolicited messages held for a parent whose origin is not known yet.
  const HELD_FOR_PARENT_MAX = 20;
  // What the status line says during each load stage the worker reports.
  const STAGE_TEXT = {
    worker: "Starting the Python worker…",
    runtime: "Downloading the Python runtime…",
    python: "Starting Python…",
    harness: "Preparing the sandbox…",
    ready: "Ready",
  };

  function readJson(id, fallback) {
    const el = document.getElementById(id);
    if (el === null) return fallback;
    try {
      return JSON.parse(el.textContent);
    } catch (err) {
      return fallback;
    }
  }

  // JSON from an engine, with integers beyond 2^53 kept exact: Python's int
  // has no size limit, and JSON.parse would round 2**64 + 1 to 2**64.  An
  // integer literal (only digits: Python writes every float with "." or an
  // exponent) whose value is not a safe integer becomes a BigInt, read from
  // its source text (JSON.parse source text access).  The reviver is only
  // used when the text has a run of 16 digits, so ordinary results parse at
  // full speed.  Documented in docs/design/frontend-pyodide.md.
  function exactReviver(key, value, context) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value) &&
        context && typeof context.source === "string" && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  }

  function parseExact(text) {
    return /\d{16}/.test(text) ? JSON.parse(text, exactReviver) : JSON.parse(text);
  }

  // JSON text of a value that may hold BigInts (written with all their digits).
  function jsonText(value, indent) {
    const raw = typeof JSON.rawJSON === "function";
    return JSON.stringify(value, (key, v) => typeof v === "bigint"
      ? (raw ? JSON.rawJSON(v.toString()) : v.toString()) : v, indent);
  }

  const config = readJson("pysb-config", null);
  const input = readJson("pysb-input", { code: "", analysisType: null, autorun: false });
  // A batch-analyze page (and any page whose input says so) asks every
  // engine for findings about the data (result.insights); so does the
  // panel's "Findings about the data" box.
  const pageWantsInsights = input !== null && input.insights === true;
  function wantInsights() {
    return pageWantsInsights || (ui !== null && ui.insights !== null && ui.insights.checked);
  }
  const isAnalysisPage = input !== null && typeof input.analysisType === "string" &&
    input.analysisType !== "";
  const dataEl = document.getElementById("pysb-data");
  // The posted data as JSON text, handed to Python untouched: parsing and
  // re-serialising it here would turn 1.0 into 1 and round big integers.
  const pageDataText = dataEl !== null ? dataEl.textContent : "[]";
  // The data of Run-button runs and of a parent's runs that send none: the
  // posted data, or a file or pasted text loaded in the Data section
  // (loaded: its preview from the panel bundle; the text is still handed
  // to Python as it is).
  const pageData = { text: pageDataText, loaded: null };

  const parentOrigins = new Set();
  if (config !== null && Array.isArray(config.allowedParentOrigins)) {
    for (const o of config.allowedParentOrigins) {
      if (typeof o === "string") parentOrigins.add(o);
    }
  }
  parentOrigins.add(location.origin);
  const framed = window.parent !== window;

  // The embedding parent's own origin, once known: unsolicited messages
  // (progress, ready, error, an autorun's result) go there and nowhere else.
  // Known from location.ancestorOrigins where the browser has it (Chromium,
  // WebKit: it is the parent's real origin, so an unlisted one means no
  // messages at all); elsewhere from document.referrer when that is an
  // allowed origin (the parent's page loaded the frame); and in any browser
  // from the first accepted message of the parent (event.origin, which
  // replaces a guess).  Until then they are held, in order (only the latest
  // progress), and sent once it is known.
  let parentOrigin = framed ? initialParentOrigin() : null;
  const heldForParent = [];

  function initialParentOrigin() {
    try {
      const ancestors = location.ancestorOrigins;
      if (ancestors && ancestors.length > 0) {
        return parentOrigins.has(ancestors[0]) ? ancestors[0] : null;
      }
    } catch (err) {
      // not available here: fall back to the referrer
    }
    try {
      const from = document.referrer ? new URL(document.referrer).origin : "";
      return parentOrigins.has(from) ? from : null;
    } catch (err) {
      return null;
    }
  }

  /* --- engine state -------------------------------------------------- */

  const engine = {
    state: "loading", // loading | ready | failed
    worker: null,
    interrupt: null, // Uint8Array over a SharedArrayBuffer when isolated
    watchdog: 0,
    started: 0,
    stage: "worker",
    percent: 0,
    shown: 0, // the progress value drawn, which creeps inside a stage
    failure: "",
    info: null, // the worker's ready message
    notice: "", // why the runtime was last restarted, shown once ready
  };

  // The page's state (a notebook's habit: a Run goes on from the last one).
  // The worker keeps one session of globals; the server keeps a sandbox,
  // made on the first server run.  Restart (or a parent's reset) clears both.
  const state = {
    browserRuns: 0, // runs in the worker's session since it started or was reset
    server: null, // {id, runs}: this page's server sandbox
    resetWaiter: null, // {id, resolve} while the worker resets its session
  };

  const runs = {
    queue: [],
    current: null,
    nextId: 1,
    stopTimer: 0,
    autorunDone: false,
    offer: null, // {code, dataText, packages}: the run the "Run on the server" button reruns
  };

  let ui = null; // element handles, once the body is parsed

  function startEngine() {
    clearTimeout(engine.watchdog);
    state.browserRuns = 0; // a new worker has a new session
    showState();
    engine.state = "loading";
    engine.stage = "worker";
    engine.percent = 2;
    engine.shown = 0;
    engine.failure = "";
    engine.started = performance.now();
    if (config === null || typeof config.workerUrl !== "string") {
      failEngine("The page configuration is missing or unreadable; reload the page.");
      return;
    }
    engine.interrupt = null;
    if (self.crossOriginIsolated && typeof SharedArrayBuffer === "function") {
      engine.interrupt = new Uint8Array(new SharedArrayBuffer(1));
    }
    const snapshot = snapshotSetting();
    const workerConfig = Object.assign({}, config, {
      snapshot: snapshot !== "off", servedSnapshot: snapshot !== "off" && snapshot !== "local" });
    let worker;
    try {
      // The configuration rides in the name, so the worker starts loading
      // without waiting for this thread to deliver a message (worker.js).
      worker = new Worker(config.workerUrl,
                          { name: JSON.stringify({ pysbConfig: workerConfig }) });
    } catch (err) {
      failEngine(`The Python worker could not be started: ${err.message}`);
      return;
    }
    engine.worker = worker;
    worker.onmessage = (event) => {
      if (engine.worker === worker) onWorkerMessage(event.data);
    };
    worker.onerror = (event) => {
      if (engine.worker !== worker) return;
      event.preventDefault();
      onWorkerCrash(event.message || "the worker script failed");
    };
    worker.onmessageerror = () => {
      if (engine.worker === worker) onWorkerCrash("a message from the worker could not be read");
    };
    worker.postMessage({
      type: "init",
      config: workerConfig,
      interruptBuffer: engine.interrupt ? engine.interrupt.buffer : null,
    });
    const timeout = Number(config.loadTimeoutMs) > 0 ? Number(config.loadTimeoutMs) : 60000;
    engine.watchdog = setTimeout(() => {
      if (engine.worker === worker && engine.state === "loading") {
        failEngine(`Python did not finish loading within ${Math.round(timeout / 1000)} s ` +
                   `(stuck at: ${STAGE_TEXT[engine.stage] || engine.stage}). ` +
                   "The runtime may be blocked by the network or a browser setting.");
      }
    }, timeout);
    showProgress();
  }

  // ?pysb-snapshot=off loads without the memory snapshot (for measuring and
  // for ruling it out when debugging); the default is on.
  // ?pysb-snapshot=local skips the snapshot made at build time (only the
  // one this browser saved is used), for measuring and testing that path.
  function snapshotSetting() {
    try {
      return new URLSearchParams(location.search).get("pysb-snapshot") || "on";
    } catch (err) {
      return "on";
    }
  }

  function stopWorker() {
    clearTimeout(engine.watchdog);
    if (engine.worker !== null) {
      engine.worker.terminate();
      engine.worker = null;
    }
    // A reset waiting for the old worker is done: its state went with it.
    if (state.resetWaiter !== null) {
      state.resetWaiter.resolve();
      state.resetWaiter = null;
    }
  }

  function restartEngine(reason) {
    stopWorker();
    engine.notice = reason;
    startEngine();
  }

  function failEngine(message) {
    stopWorker();
    engine.state = "failed";
    engine.failure = message;
    // Nothing queued for the browser can run now; callers get a definite
    // answer.  A run at the router or on the server goes on; Run-button
    // runs still ask the router (it may send them to the server).
    const current = runs.current;
    const toServer = current !== null && current.phase === "waiting" && canFallBack(current);
    const busyElsewhere = toServer || (current !== null && current.phase !== "local" &&
      current.phase !== "waiting");
    // Resets stay queued (they need no Python), as do runs for the router.
    const stays = (r) => r.route || r.kind === "reset";
    const pending = runs.queue.filter((r) => !stays(r));
    if (current !== null && !busyElsewhere) pending.unshift(current);
    if (!busyElsewhere) runs.current = null;
    runs.queue = runs.queue.filter(stays);
    clearTimeout(runs.stopTimer);
    for (const run of pending) {
      finishRun(run, engineResult("unavailable", "EngineUnavailable",
                                  `Python could not be loaded: ${message}`));
    }
    notifyParent({ type: "error", message });
    showProgress();
    updateButtons();
    if (toServer) startLocal(current);
  }

  function onWorkerCrash(message) {
    if (engine.state === "loading") {
      failEngine(`The Python worker crashed while loading: ${message}`);
      return;
    }
    const run = runs.current !== null && runs.current.phase === "local" ? runs.current : null;
    clearTimeout(runs.stopTimer);
    if (run !== null) {
      runs.current = null;
      const crashed = engineResult("error", "EngineError", `The Python runtime crashed: ${message}`);
      keepLiveOutput(run, crashed);
      reportRun(run, crashed);
      finishRun(run, crashed);
    }
    restartEngine("The Python runtime crashed and was restarted; variables and loaded " +
                  "packages were reset.");
  }

  function onWorkerMessage(msg) {
    if (msg === null || typeof msg !== "object") return;
    switch (msg.type) {
      case "progress":
        engine.stage = msg.stage;
        engine.percent = Math.max(engine.percent, Number(msg.percent) || 0);
        notifyParent({ type: "progress", stage: msg.stage, percent: engine.percent });
        showProgress();
        break;
      case "ready":
        clearTimeout(engine.watchdog);
        engine.state = "ready";
        engine.stage = "ready";
        engine.percent = 100;
        engine.info = msg;
        engine.info.pageMs = Math.round(performance.now() - engine.started);
        document.documentElement.dataset.engineSnapshot = String(msg.snapshot);
        mark("pysb-ready", {
          stages: msg.stages,
          snapshot: msg.snapshot,
          workerStart: Math.round(msg.startedAt - performance.timeOrigin),
          workerCreated: Math.round(engine.started),
        });
        showProgress();
        updateButtons();
        notifyParent({ type: "ready", pyodideVersion: msg.pyodideVersion,
                       pythonVersion: msg.pythonVersion, loadMs: engine.info.pageMs });
        if (input.autorun && !runs.autorunDone) {
          runs.autorunDone = true;
          submitRun({ source: "page", code: String(input.code || ""), dataText: pageDataText });
        }
        if (runs.current !== null && runs.current.phase === "waiting") {
          startLocal(runs.current);
        } else {
          pump();
        }
        break;
      case "snapshot":
        // Only tools and tests look at this (a snapshot is saved after ready).
        document.documentElement.dataset.snapshot = msg.saved ? "saved" : "not-saved";
        break;
      case "load-error":
        failEngine(`Python could not be loaded (${msg.stage}): ${msg.message}`);
        break;
      case "output":
        onLiveOutput(msg);
        break;
      case "reset":
        if (state.resetWaiter !== null && msg.id === state.resetWaiter.id) {
          state.resetWaiter.resolve();
          state.resetWaiter = null;
        }
        break;
      case "result":
        if (runs.current !== null && runs.current.phase === "local" &&
            msg.id === runs.current.id) {
          clearTimeout(runs.stopTimer);
          localResult(runs.current, msg.result, Boolean(msg.fatal));
        }
        break;
      default:
        break;
    }
  }

  /* --- runs ---------------------------------------------------------- */

  // The current run's phase, also as html[data-run-phase] (a test hook: a
  // test that must wait for the program to be really running waits for "local").
  function setPhase(run, phase) {
    run.phase = phase;
    document.documentElement.dataset.runPhase = phase;
  }

  // run: {source: "ui"|"page"|"parent", code, dataText, parentId?, origin?,
  //       route?: ask the router first (Run button runs),
  //       server?: a rerun on the server (requirements.preferredEngine "native"),
  //       reason?: why it runs on the server, shown with its result}
  // While current, run.phase says where it is: "routing" (waiting for the
  // router), "server" (a server rerun in flight), "waiting" (handed to the
  // browser while Python is still loading), "local" (in the worker).
  function submitRun(run) {
    run.id = runs.nextId++;
    run.notes = [];
    if (engine.state === "failed" && !run.route) {
      finishRun(run, engineResult("unavailable", "EngineUnavailable",
                                  `Python could not be loaded: ${engine.failure}`));
      return;
    }
    runs.queue.push(run);
    pump();
  }

  function pump() {
    if (runs.current !== null || runs.queue.length === 0) return;
    const run = runs.queue[0];
    if (run.kind === "reset") {
      runs.queue.shift();
      runs.current = run;
      setPhase(run, "reset");
      updateButtons();
      resetState(run);
      return;
    }
    // The ready handler pumps (a run the user forced into the browser waits
    // as the current run instead, saying so).
    if (!run.route && !run.forced && engine.state !== "ready") return;
    runs.queue.shift();
    runs.current = run;
    run.started = performance.now();
    if (ui !== null && run.source !== "ui") setCode(run.code);
    clearOutputs();
    updateButtons();
    if (run.route) {
      askRouter(run);
    } else {
      startLocal(run);
    }
  }

  // Hands the current run to the worker (or lets it wait for Python).
  function startLocal(run) {
    if (engine.state === "failed" && canFallBack(run)) {
      // The router chose this browser, but Python cannot load here: the
      // server runs it instead of the user getting nothing.
      run.server = true;
      run.reason = "Python could not be loaded in this browser, so this ran on the server.";
      askRouter(run);
      return;
    }
    if (engine.state === "failed") {
      runs.current = null;
      finishRun(run, engineResult("unavailable", "EngineUnavailable",
                                  `Python could not be loaded: ${engine.failure}`));
      pump();
      return;
    }
    if (engine.state !== "ready") {
      setPhase(run, "waiting");
      setStatus("Waiting for Python to load…", "busy");
      return;
    }
    setPhase(run, "local");
    setStatus("Running…", "busy");
    // Cleared here, not in the worker: a Stop left over from the previous run
    // must not fire in this one, but a Stop pressed once this run is posted
    // must, even if the worker has not started it yet.
    if (engine.interrupt !== null) Atomics.store(engine.interrupt, 0, 0);
    run.localStarted = performance.now();
    run.live = { stdout: "", stderr: "" };
    engine.worker.postMessage({ type: "run", id: run.id, code: run.code, dataText: run.dataText,
                                insights: wantInsights() });
  }

  // Whether a run the router handed to this browser may go on to the server
  // when Python cannot load here: runs that asked the router (so the user
  // lets code go to the server) and are not server runs already.
  function canFallBack(run) {
    return Boolean(run.route) && !run.server;
  }

  // The request body for the router: the data text goes in as it is (it is
  // the JSON the service rendered into the page, or the parent's).
  function routerBody(run) {
    let reqs = null;
    if (run.server) reqs = { preferredEngine: "native" };
    else if (run.forced === "judge0") reqs = { preferredEngine: "judge0" };
    else if (!run.oneShot) reqs = Object.assign({}, BROWSER_ONLY);
    // The engine picker's choice (Native, Judge0) goes first; the router may
    // still fall back to another engine, and the result says so.
    if (wantInsights()) reqs = Object.assign(reqs || {}, { insights: true });
    const req = reqs !== null ? `,"requirements":${JSON.stringify(reqs)}` : "";
    return `{"client":"page","code":${JSON.stringify(run.code)},"data":${dataOf(run)}${req}}`;
  }

  function dataOf(run) {
    return /\S/.test(run.dataText) ? run.dataText : "[]";
  }

  // Asks the router where the run goes.  A hand-off runs it in the worker;
  // any other answer is a server engine's result (or its refusal), shown as
  // it is.  An unreachable router means the browser runs it, and says so.
  async function askRouter(run) {
    if (run.server && !run.oneShot) {
      serverRun(run); // a server run the page chose: straight to its sandbox
      return;
    }
    setPhase(run, run.server ? "server" : "routing");
    setStatus(run.server ? "Running on the server…" : "Running…", "busy");
    run.abort = new AbortController();
    let resp = null;
    let answer = null;
    let failure = "";
    try {
      resp = await fetch(ROUTER_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: routerBody(run),
        cache: "no-store",
        signal: run.abort.signal,
      });
      answer = parseExact(await resp.text());
    } catch (err) {
      failure = err && err.name === "AbortError" ? "" : String(err && err.message || err);
      if (!run.stopping && answer === null && resp !== null) {
        failure = `HTTP ${resp.status}, not a JSON answer`;
      }
    }
    if (runs.current !== run) return; // answered already (stopped)
    if (run.stopping) {
      runs.current = null;
      const stopped = engineResult("killed", "KeyboardInterrupt", "execution was stopped");
      stopped.engine = null; // whichever server engine had it, it stops with the connection
      finishRun(run, stopped);
      pump();
      return;
    }
    const err = answer !== null && typeof answer === "object" ? answer.error : null;
    const errCode = err && typeof err === "object" ? String(err.code) : "";
    // nginx answers service_unavailable when the service itself is down.
    if (failure !== "" || answer === null || typeof answer !== "object" ||
        errCode === "service_unavailable" || (!resp.ok && !errCode)) {
      const why = failure || (errCode === "service_unavailable" ? "the service is not answering"
        : `HTTP ${resp.status}`);
      if (run.server) {
        serverProblem(run, `The server could not be reached (${why}).`);
      } else {
        run.routeNote = `The router could not be reached (${why}), so this ran in the browser.`;
        startLocal(run);
      }
      return;
    }
    if (resp.ok && answer.status === "handoff" && answer.engine === "browser") {
      run.routing = answer.metadata || null;
      if (run.forced && run.forced !== "browser" && !run.server) {
        const because = run.routing && run.routing.selectedBecause
          ? ` (${run.routing.selectedBecause})` : "";
        run.notes.push(`${ENGINE_NAMES[run.forced]} was chosen, but the router handed this run ` +
                       `to the browser${because}.`);
      }
      if (run.server) {
        const because = run.routing && run.routing.selectedBecause
          ? ` (${run.routing.selectedBecause})` : "";
        serverProblem(run, `No server engine can run this now: the router chose the browser ` +
                           `again${because}.`);
      } else {
        startLocal(run);
      }
      return;
    }
    if (resp.ok && typeof answer.engine === "string") {
      runs.current = null;
      finishRun(run, answer);
      pump();
      return;
    }
    if (resp.status === 422 && errCode === "refused" && !run.server && !run.oneShot) {
      // The browser cannot run it.  What each engine lacks decides where it
      // goes: the native engine runs it in this page's sandbox (state kept);
      // Judge0 only as a one-shot run through the router, as before.
      const engines = err.engines && typeof err.engines === "object" ? err.engines : {};
      if (engines.native === "") {
        run.routing = { selectedBecause: "The browser cannot run this (" +
          `${String(engines.browser || "")}); it ran in this page's server sandbox.` };
        serverRun(run);
        return;
      }
      if (engines.judge0 === "") {
        run.oneShot = true;
        run.notes.push("Only a server engine that keeps no state can run this: it ran on its " +
                       "own, without this page's earlier server state.");
        askRouter(run);
        return;
      }
    }
    if (resp.status === 422 && errCode === "refused" && !run.server) {
      // No engine the router knows has every module the code imports; the
      // browser may still (a wheel the router does not know), and otherwise
      // shows Python's own ImportError.  No server offer: it was refused.
      run.serverRefused = true;
      startLocal(run);
      return;
    }
    serverProblem(run, err && typeof err.message === "string" ? err.message
      : `The server answered HTTP ${resp.status}.`, errCode);
  }

  // Ends the current (server) run with an error that is not Python's.
  function serverProblem(run, message, code) {
    runs.current = null;
    const result = engineResult("error", code === "refused" ? "Refused" : "EngineUnavailable",
                                message);
    result.engine = null;
    finishRun(run, result);
    pump();
  }

  /* --- the page's server sandbox ------------------------------------- */

  // Runs the current run in this page's server sandbox, made on the first
  // server run: names, imports and functions persist there between Runs, as
  // they do in the worker.  A sandbox that has ended (404 or 410: expired,
  // killed, the native engine restarted) is replaced, and the run says that
  // the server state was lost.  When no sandbox can be made (the cap, the
  // native engine down), the run goes to the router as a one-shot run.
  async function serverRun(run) {
    setPhase(run, "server");
    setStatus("Running on the server…", "busy");
    run.abort = new AbortController();
    for (let attempt = 0; attempt < 2; attempt++) {
      if (state.server === null) {
        const made = await sandboxRequest(run, "POST", `${SANDBOX_URL}/create`, "{}");
        if (runs.current !== run) return;
        if (run.stopping) {
          stoppedOnServer(run, made.answer && made.answer.sandbox_id);
          return;
        }
        if (made.status !== 201 || !made.answer || typeof made.answer.sandbox_id !== "string") {
          const why = made.failure || problemText(made, "no sandbox was made");
          run.oneShot = true;
          run.notes.push(`No server sandbox could be started (${why}), so this ran on the ` +
                         "server without keeping its state.");
          askRouter(run);
          return;
        }
        state.server = { id: made.answer.sandbox_id, runs: 0 };
        showState();
      }
      const sbx = state.server;
      const insights = wantInsights() ? ',"insights":true' : "";
      const done = await sandboxRequest(run, "POST", `${SANDBOX_URL}/${sbx.id}/execute`,
                                        `{"code":${JSON.stringify(run.code)},"data":${dataOf(run)}` +
                                        `${insights}}`);
      if (runs.current !== run) return;
      if (run.stopping) {
        stoppedOnServer(run, sbx.id);
        return;
      }
      if ((done.status === 404 || done.status === 410) && state.server === sbx) {
        state.server = null;
        showState();
        run.notes.push(`The server sandbox had ended (${problemText(done, `HTTP ${done.status}`)}), ` +
                       "so the server state was lost; this ran in a new sandbox.");
        continue;
      }
      if (done.status === 200 && done.answer && typeof done.answer === "object" &&
          typeof done.answer.status === "string") {
        const result = done.answer;
        if (typeof result.engine !== "string") result.engine = "native";
        const md = result.metadata && typeof result.metadata === "object" ? result.metadata : {};
        // Not for a rerun of code the browser could not run (run.reason):
        // the note there says why it moved, and that attempt defined nothing.
        if (!run.reason && state.browserRuns > 0 && sbx.runs === 0) {
          run.notes.push("This ran on the server, which does not have the names your earlier " +
                         "browser runs defined; Restart to start over in one place.");
        }
        if (md.sandbox && md.sandbox.state_lost === true) {
          forgetSandbox(sbx);
          run.notes.push("The server sandbox ended with this run, so its state was lost; the " +
                         "next server run starts a new one.");
        } else {
          sbx.runs++;
        }
        showState();
        runs.current = null;
        finishRun(run, result);
        pump();
        return;
      }
      if (done.failure) {
        serverProblem(run, `The server could not be reached (${done.failure}).`);
      } else if (done.status === 409) {
        serverProblem(run, "The server sandbox is still busy with an earlier run; try again " +
                           "in a moment.");
      } else {
        serverProblem(run, problemText(done, `The server answered HTTP ${done.status}.`));
      }
      return;
    }
    serverProblem(run, "The server sandbox ended twice in a row; try again.");
  }

  // One request to the sandbox API: {status, answer (parsed JSON or null),
  // failure ("" or why there was no answer)}.
  async function sandboxRequest(run, method, url, body) {
    let resp = null;
    try {
      resp = await fetch(url, {
        method, body, cache: "no-store", signal: run.abort.signal,
        headers: { "Content-Type": "application/json" },
      });
      return { status: resp.status, answer: parseExact(await resp.text()), failure: "" };
    } catch (err) {
      if (err && err.name === "AbortError") return { status: 0, answer: null, failure: "stopped" };
      return { status: resp ? resp.status : 0, answer: null,
               failure: resp ? `HTTP ${resp.status}, not a JSON answer`
                 : String(err && err.message || err) };
    }
  }

  function problemText(reply, fallback) {
    const e = reply.answer && typeof reply.answer === "object" ? reply.answer.error : null;
    return e && typeof e === "object" && typeof e.message === "string" ? e.message : fallback;
  }

  // Stop during a server run: the closed connection ends the execution, and
  // with it the sandbox's interpreter (the native engine kills the jail).
  function stoppedOnServer(run, id) {
    if (typeof id === "string") forgetSandbox({ id });
    runs.current = null;
    const stopped = engineResult("killed", "KeyboardInterrupt", "execution was stopped");
    stopped.engine = null;
    run.notes.push("Stopping a server run ends the server sandbox, so the server state was " +
                   "lost; the next server run starts a new one.");
    finishRun(run, stopped);
    pump();
  }

  // Drops the page's sandbox and deletes it on the server (a dead one is
  // already gone; the delete is harmless).
  function forgetSandbox(sbx) {
    if (state.server !== null && state.server.id === sbx.id) state.server = null;
    showState();
    return deleteSandbox(sbx.id);
  }

  function deleteSandbox(id, keepalive = false) {
    return fetch(`${SANDBOX_URL}/${encodeURIComponent(id)}`, { method: "DELETE", keepalive })
      .then((r) => r.text())
      .catch((e) => console.warn("pysandbox: the server sandbox could not be deleted:", e));
  }

  // The page is going away: its sandbox would otherwise live until its idle
  // timeout.  sendBeacon cannot DELETE; a keepalive fetch outlives the page.
  window.addEventListener("pagehide", () => {
    if (state.server !== null) {
      const id = state.server.id;
      state.server = null;
      deleteSandbox(id, true);
      showState();
    }
  });

  /* --- state: the note, Restart and reset ---------------------------- */

  function submitReset(item) {
    item.kind = "reset";
    item.id = runs.nextId++;
    runs.queue.push(item);
    pump();
  }

  // Clears the page's state: a fresh session in the worker (when one is
  // running; a worker still loading has a fresh one) and the server sandbox
  // deleted (the next server run makes a new one).
  async function resetState(item) {
    const waits = [];
    if (engine.state === "ready" && engine.worker !== null) {
      waits.push(new Promise((resolve) => {
        state.resetWaiter = { id: item.id, resolve };
        engine.worker.postMessage({ type: "reset", id: item.id });
      }));
    }
    if (state.server !== null) waits.push(forgetSandbox(state.server));
    await Promise.all(waits);
    state.browserRuns = 0;
    runs.current = null;
    delete document.documentElement.dataset.runPhase;
    showState();
    updateButtons();
    if (engine.state === "ready") setStatus("Restarted: the next Run starts from a fresh state", "ready");
    if (item.source === "parent") {
      replyToParent(item, { type: "reset", id: item.parentId, reset: true });
    }
    pump();
  }

  // "State: browser, 3 runs; server sandbox, 1 run": where the variables of
  // earlier Runs live.  Also html[data-browser-runs] and
  // html[data-server-sandbox] (the sandbox id) for tests.
  function showState() {
    const root = document.documentElement;
    root.dataset.browserRuns = String(state.browserRuns);
    if (state.server !== null) root.dataset.serverSandbox = state.server.id;
    else delete root.dataset.serverSandbox;
    if (ui === null) return;
    const plural = (n) => `${n} run${n === 1 ? "" : "s"}`;
    const parts = [];
    if (state.browserRuns > 0) parts.push(`browser, ${plural(state.browserRuns)}`);
    if (state.server !== null) parts.push(`server sandbox, ${plural(state.server.runs)}`);
    ui.state.textContent = parts.length > 0 ? `State: ${parts.join("; ")}` : "State: fresh";
    ui.state.title = "Variables, functions and imports of earlier Runs are kept where they ran " +
      "(this browser, or this page's sandbox on the server); Restart clears them.";
  }

  /* --- live output --------------------------------------------------- */

  // Output of the current worker run as it is written.  The run's result
  // replaces it when it comes (drawResult), so nothing is shown twice.
  function onLiveOutput(msg) {
    const run = runs.current;
    if (run === null || run.phase !== "local" || msg.id !== run.id || !run.live ||
        !Array.isArray(msg.chunks)) {
      return;
    }
    for (const chunk of msg.chunks) {
      if (!Array.isArray(chunk) || typeof chunk[1] !== "string") continue;
      const stream = chunk[0] === "stderr" ? "stderr" : "stdout";
      const room = LIVE_MAX_CHARS - run.live[stream].length;
      if (room <= 0) continue;
      const text = chunk[1].length > room ? chunk[1].slice(0, room) : chunk[1];
      run.live[stream] += text;
      livePending[stream] += text;
    }
    if (liveFrame === 0 && ui !== null) liveFrame = requestAnimationFrame(drawLive);
  }

  // Text not drawn yet, drawn once per frame: a print loop sends hundreds
  // of messages a second, and each layout of a long pane costs.
  const livePending = { stdout: "", stderr: "" };
  let liveFrame = 0;

  function drawLive() {
    liveFrame = 0;
    const run = runs.current;
    for (const stream of ["stdout", "stderr"]) {
      const text = livePending[stream];
      livePending[stream] = "";
      if (text === "" || run === null || !run.live || ui === null) continue;
      const pane = ui[stream];
      const atEnd = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 8;
      const last = pane.lastChild;
      if (last !== null && last.nodeType === Node.TEXT_NODE) last.appendData(text);
      else pane.appendChild(document.createTextNode(text));
      if (atEnd) pane.scrollTop = pane.scrollHeight;
    }
  }

  // Live text of a run that has ended is never drawn after its result.
  function dropLive() {
    livePending.stdout = "";
    livePending.stderr = "";
    if (liveFrame !== 0) cancelAnimationFrame(liveFrame);
    liveFrame = 0;
  }

  // A run that ends without the worker's answer (killed, crashed) keeps the
  // output it had shown.
  function keepLiveOutput(run, result) {
    if (run.live) {
      result.output = run.live.stdout;
      result.stderr = run.live.stderr;
    }
  }

  function stopRun() {
    const run = runs.current;
    if (run === null || run.stopping || run.kind === "reset") return;
    run.stopping = true;
    setStatus("Stopping…", "busy");
    if (run.phase === "routing" || run.phase === "server") {
      // The service notices the closed connection and ends a server run.
      run.abort.abort();
      return;
    }
    if (run.phase === "waiting") {
      runs.current = null;
      finishRun(run, engineResult("killed", "KeyboardInterrupt", "execution was stopped"));
      pump();
      return;
    }
    if (engine.interrupt !== null) {
      // SIGINT: Python raises KeyboardInterrupt at its next bytecode check.
      Atomics.store(engine.interrupt, 0, 2);
      runs.stopTimer = setTimeout(() => killRun(run), STOP_GRACE_MS);
    } else {
      killRun(run); // not cross-origin isolated: no way to interrupt
    }
  }

  function killRun(run) {
    if (runs.current !== run) return;
    runs.current = null;
    const result = engineResult("killed", "KeyboardInterrupt",
                                "execution was stopped; the Python runtime was restarted");
    result.metadata.restarted = true;
    keepLiveOutput(run, result);
    reportRun(run, result);
    finishRun(run, result);
    restartEngine("The program did not respond to Stop, so the Python runtime was restarted; " +
                  "variables and loaded packages were reset.");
  }

  // A result from the worker for the current run.  Reports it; a Run-button
  // run that failed for a package the browser lacks goes on to the server
  // when the user allowed that, otherwise it is shown (with the offer).
  function localResult(run, result, fatal) {
    if (result === null || typeof result !== "object") {
      result = engineResult("error", "EngineError", "the worker returned no result");
    }
    reportRun(run, result);
    if (!fatal) {
      if (state.browserRuns === 0 && state.server !== null && state.server.runs > 0) {
        run.notes.push("This ran in your browser, which does not have the names your server " +
                       "runs defined; Restart to start over in one place.");
      }
      state.browserRuns++;
      showState();
    }
    if (!fatal && !run.stopping && offerServer(run, result) && autoServer()) {
      run.reason = serverReason(unavailablePackages(result));
      run.server = true;
      askRouter(run);
      return;
    }
    runs.current = null;
    finishRun(run, result);
    if (fatal) {
      restartEngine("The Python runtime failed and was restarted; variables and loaded " +
                    "packages were reset.");
    } else {
      pump();
    }
  }

  function finishRun(run, result) {
    if (result === null || typeof result !== "object") {
      result = engineResult("error", "EngineError", "the worker returned no result");
    }
    run.ms = performance.now() - (run.started || performance.now());
    if (runs.current === null) delete document.documentElement.dataset.runPhase;
    if (run.source === "parent") {
      replyToParent(run, Object.assign({}, result, { type: "result", id: run.parentId }));
    } else if (run.source === "page") {
      // The autorun of a batch-analyze page, e.g. one a parent POSTed into
      // its iframe: the parent gets the result without asking for it.
      notifyParent(Object.assign({}, result, { type: "result", id: null, source: "autorun" }));
    }
    renderResult(run, result);
    if (ui !== null) addHistory(run, result);
    updateButtons();
  }

  // A result in the harness's shape for runs the engine could not carry out.
  function engineResult(status, type, message) {
    return {
      success: false,
      status,
      output: "",
      stderr: "",
      error: { type, message, traceback: "" },
      result: null,
      charts: [],
      executionTime: 0,
      limits: { outputTruncated: false, stderrTruncated: false, resultTruncated: false,
                chartsDropped: 0 },
      engine: "browser",
      metadata: { pyodideVersion: config ? config.pyodideVersion : null },
    };
  }

  /* --- reports and the server offer ---------------------------------- */

  // Tells the service how a run in this browser went, so the statistics
  // cover every engine.  Fire and forget: a report never holds up a run.
  function reportRun(run, result) {
    const err = result.error && typeof result.error === "object" ? result.error : null;
    const status = err && err.type === "EngineError" ? "engine_error" : String(result.status);
    if (!REPORT_STATUSES.has(status)) return;
    const body = {
      engine: "browser",
      status,
      success: status === "ok",
      // From the post to the worker: the engine's time, not the router's.
      wallMs: Math.round((performance.now() - (run.localStarted || run.started ||
                                                performance.now())) * 1000) / 1000,
      codeBytes: new TextEncoder().encode(run.code).length,
      dataBytes: run.dataText.length,
      outputBytes: typeof result.output === "string" ? result.output.length : 0,
    };
    const exec = Number(result.executionTime);
    if (Number.isFinite(exec) && exec >= 0 && exec <= 1e9) body.executionTime = exec;
    // "error" is the engine's own failure (as the server engines record
    // theirs), never the user's exception: a crash, or packages it lacks.
    const missing = unavailablePackages(result);
    let problem = "";
    if (status === "engine_error" && err !== null) {
      problem = `${err.type || "Error"}: ${err.message || ""}`;
    } else if (missing.length > 0) {
      problem = `missing packages: ${missing.join(", ")}`;
      body.missingPackages = missing;
    }
    if (problem !== "") {
      const cut = Array.from(problem.replace(/\0/g, "")).slice(0, REPORT_ERROR_MAX_CHARS).join("");
      body.error = typeof cut.toWellFormed === "function" ? cut.toWellFormed() : cut;
    }
    fetch(REPORT_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      keepalive: true,
    }).catch((e) => console.warn("pysandbox: the run could not be reported:", e));
  }

  // Whether a finished browser run may be offered to the server: a Run
  // button run that failed only for packages the browser lacks, and that
  // the router did not refuse outright.
  function offerServer(run, result) {
    return run.source === "ui" && !run.server && !run.serverRefused &&
      result.engine === "browser" && !result.success && unavailablePackages(result).length > 0;
  }

  function serverReason(packages) {
    return `${packages.join(", ")} ${packages.length > 1 ? "are" : "is"} not available in the ` +
      "browser engine, so this ran on the server.";
  }

  function autoServer() {
    try {
      return localStorage.getItem(AUTO_SERVER_KEY) === "1";
    } catch (err) {
      return false; // storage disabled: ask every time
    }
  }

  function setAutoServer(on) {
    try {
      if (on) localStorage.setItem(AUTO_SERVER_KEY, "1");
      else localStorage.removeItem(AUTO_SERVER_KEY);
    } catch (err) {
      // storage disabled: the checkbox holds for this page only
    }
  }

  // ?pysb-router=off keeps every run in this browser without asking the
  // router (for measuring the browser engine, and for users who do not
  // want their code sent to the server); runs are still reported.
  function routerSetting() {
    try {
      return new URLSearchParams(location.search).get("pysb-router") !== "off";
    } catch (err) {
      return true;
    }
  }

  /* --- packages the browser engine lacks ----------------------------- */

  // Names of packages a run needed but the browser engine could not provide.
  // This is the hook for the server engine: once it exists, such runs are
  // resubmitted there instead of only being explained.
  function unavailablePackages(result) {
    const names = new Set();
    const meta = result.metadata || {};
    for (const p of meta.missingPackages || []) names.add(String(p));
    const err = result.error;
    if (err && err.missingModule && names.size === 0 &&
        Array.isArray(meta.packagesRequested) &&
        meta.packagesRequested.indexOf(err.missingModule) >= 0) {
      names.add(String(err.missingModule));
    }
    return Array.from(names);
  }

  function unavailableNotice(result) {
    const pkgs = unavailablePackages(result);
    const lines = pkgs.map((p) =>
      `${p} is not available in the browser engine: the Pyodide served here has no ${p} wheel.`);
    const err = result.error;
    if (lines.length === 0 && err && err.type === "ModuleNotFoundError" && err.missingModule) {
      lines.push(`No module named '${err.missingModule}': it is neither in Python's standard ` +
                 "library nor among the packages the browser engine can load.");
    }
    return lines.join("\n");
  }

  /* --- parent frame protocol ----------------------------------------- */

  // Posts an unsolicited message to the parent's own origin (see
  // parentOrigin), or holds it until that origin is known.
  function notifyParent(msg) {
    if (!framed) return;
    if (parentOrigin === null) {
      if (msg.type === "progress") {
        const i = heldForParent.findIndex((m) => m.type === "progress");
        if (i >= 0) heldForParent.splice(i, 1);
      }
      if (heldForParent.length < HELD_FOR_PARENT_MAX) heldForParent.push(msg);
      return;
    }
    try {
      window.parent.postMessage(msg, parentOrigin);
    } catch (err) {
      console.warn("pysandbox: could not post to the parent frame:", err);
    }
  }

  function learnParentOrigin(origin) {
    if (origin === parentOrigin) return;
    parentOrigin = origin;
    for (const msg of heldForParent.splice(0)) notifyParent(msg);
  }

  function replyToParent(run, msg) {
    try {
      window.parent.postMessage(msg, run.origin);
    } catch (err) {
      console.warn("pysandbox: could not reply to the parent frame:", err);
    }
  }

  function onParentMessage(event) {
    if (!framed || event.source !== window.parent || !parentOrigins.has(event.origin)) return;
    learnParentOrigin(event.origin);
    const msg = event.data;
    if (msg === null || typeof msg !== "object") return;
    if (msg.type === "stop") {
      stopRun();
      return;
    }
    if (msg.type === "reset") {
      const parentId = typeof msg.id === "string" || typeof msg.id === "number" ? msg.id : null;
      submitReset({ source: "parent", origin: event.origin, parentId });
      return;
    }
    if (msg.type !== "run") return;
    const parentId = typeof msg.id === "string" || typeof msg.id === "number" ? msg.id : null;
    const run = { source: "parent", origin: event.origin, parentId, code: "", dataText: "" };
    let problem = "";
    if (typeof msg.code !== "string") {
      problem = "'code' must be a string";
    } else if (msg.dataJson !== undefined && typeof msg.dataJson !== "string") {
      problem = "'dataJson' must be a string of JSON text";
    } else if (msg.dataJson === undefined && msg.data !== undefined && !Array.isArray(msg.data)) {
      problem = "'data' must be an array";
    }
    if (problem === "") {
      run.code = msg.code;
      if (typeof msg.dataJson === "string") {
        run.dataText = msg.dataJson;
      } else if (Array.isArray(msg.data)) {
        try {
          run.dataText = JSON.stringify(msg.data);
        } catch (err) {
          problem = `'data' cannot be sent as JSON: ${err.message}`;
        }
      } else {
        run.dataText = pageData.text;
      }
    }
    if (problem !== "") {
      replyToParent(run, Object.assign(engineResult("error", "BadRequest", problem),
                                       { type: "result", id: parentId }));
      return;
    }
    submitRun(run);
  }

  window.addEventListener("message", onParentMessage);

  /* --- drawing ------------------------------------------------------- */

  // User-timing marks (pysb-ready, pysb-run-start, pysb-run-end) are what
  // tools/bench-browser reads; they cost next to nothing.
  function mark(name, detail) {
    try {
      performance.mark(name, { detail });
    } catch (err) {
      // very old browsers: no detail argument; the figures are optional
    }
  }

  function setStatus(text, kind) {
    if (ui === null) return;
    ui.statusText.textContent = text;
    ui.status.dataset.state = kind;
  }

  let creepTimer = 0;

  function showProgress() {
    if (ui === null) return;
    showEngineHealth();
    clearInterval(creepTimer);
    creepTimer = 0;
    ui.retry.hidden = engine.state !== "failed";
    if (engine.state === "failed") {
      ui.progress.hidden = true;
      setStatus(engine.failure, "failed");
      showNotice(engine.failure, "error");
      return;
    }
    if (engine.state === "ready") {
      ui.progress.value = 100;
      ui.progress.hidden = true;
      const info = engine.info || {};
      setStatus(`Ready: Python ${info.pythonVersion || ""} (Pyodide ${info.pyodideVersion || ""})` +
                ` loaded in ${((info.pageMs || 0) / 1000).toFixed(2)} s`, "ready");
      if (engine.notice) {
        showNotice(engine.notice, "warning");
        engine.notice = "";
      }
      return;
    }
    ui.progress.hidden = false;
    setStatus(STAGE_TEXT[engine.stage] || "Loading Python…", "loading");
    // Pyodide reports no byte-level progress, so between stages the bar
    // creeps towards the next stage's mark to show that work goes on.
    const ceiling = engine.stage === "python" ? 85 : Math.min(engine.percent + 10, 99);
    engine.shown = Math.max(engine.shown, engine.percent);
    ui.progress.value = engine.shown;
    creepTimer = setInterval(() => {
      engine.shown += (ceiling - engine.shown) * 0.04;
      ui.progress.value = engine.shown;
    }, 100);
  }

  // Run works while Python loads (or after it failed to) when the router is
  // asked: code for the server goes there at once, code for this browser
  // waits for Python (or, if it cannot load, goes to the server).
  function canRun() {
    return runs.current === null && (engine.state === "ready" || routerSetting());
  }

  function updateButtons() {
    if (ui === null) return;
    ui.run.disabled = !canRun();
    ui.stop.disabled = runs.current === null || runs.current.kind === "reset";
    ui.restart.disabled = runs.current !== null;
    ui.runServer.disabled = runs.current !== null;
  }

  function showNotice(text, kind) {
    if (ui === null) return;
    if (!text) {
      ui.notice.hidden = true;
      ui.notice.textContent = "";
      return;
    }
    ui.notice.textContent = text;
    ui.notice.dataset.kind = kind;
    ui.notice.hidden = false;
  }

  function clearOutputs() {
    dropLive();
    if (ui === null) return;
    showNotice("");
    ui.stdout.textContent = "";
    ui.stderr.textContent = "";
    ui.error.textContent = "";
    ui.errorBox.hidden = true;
    ui.result.textContent = "";
    ui.resultHtml.replaceChildren();
    ui.resultHtml.hidden = true;
    ui.charts.replaceChildren();
    ui.chartsBox.hidden = true;
    ui.report.replaceChildren();
    ui.report.hidden = true;
    ui.resultBox.hidden = false;
    if (editor !== null) editor.markErrorLine(null);
    ui.timing.textContent = "";
    ui.engine.textContent = "";
    ui.engine.title = "";
    ui.offer.hidden = true;
    runs.offer = null;
  }

  const STATUS_TEXT = {
    ok: "Finished",
    error: "Finished with an error",
    timeout: "Stopped: the time limit was reached",
    memory_limit: "Stopped: out of memory",
    output_limit: "Stopped: the output limit was reached",
    killed: "Stopped",
    unavailable: "Python is not available",
  };

  // The harness's limits, from a browser result (result.limits) or a
  // server one (metadata.truncated, metadata.chartsDropped).
  function limitsOf(result) {
    const l = result.limits && typeof result.limits === "object" ? result.limits : {};
    const md = result.metadata && typeof result.metadata === "object" ? result.metadata : {};
    const t = md.truncated && typeof md.truncated === "object" ? md.truncated : {};
    return {
      outputTruncated: Boolean(l.outputTruncated || t.stdout),
      stderrTruncated: Boolean(l.stderrTruncated || t.stderr),
      resultTruncated: Boolean(l.resultTruncated || t.result),
      chartsDropped: Number(l.chartsDropped || md.chartsDropped) || 0,
    };
  }

  // Where a result came from, for the engine label: "browser", "native",
  // "judge0", with a fallback noted (the router's metadata.fallbackUsed and
  // the engines its metadata.attempts tried first), and an engine the
  // picker chose that did not run it; "" when no engine ran it.
  function engineText(run, result) {
    if (typeof result.engine !== "string" || result.engine === "") return "";
    const md = result.metadata && typeof result.metadata === "object" ? result.metadata : {};
    const routing = run.routing && typeof run.routing === "object" ? run.routing : {};
    const fellBack = md.fallbackUsed === true ? md : routing.fallbackUsed === true ? routing : null;
    if (fellBack !== null) {
      const tried = (Array.isArray(fellBack.attempts) ? fellBack.attempts : [])
        .map((a) => (a && typeof a.engine === "string" ? a.engine : ""))
        .filter((e, i, all) => e !== "" && e !== result.engine && all.indexOf(e) === i);
      return tried.length > 0 ? `${result.engine} (fallback after ${tried.join(", ")} failed)`
        : `${result.engine} (after a fallback)`;
    }
    if (run.forced && run.forced !== result.engine) {
      return `${result.engine} (${ENGINE_NAMES[run.forced] || run.forced} was chosen)`;
    }
    return result.engine;
  }

  let lastRender = null; // kept for a result that arrives before the body exists

  function renderResult(run, result) {
    lastRender = { run, result };
    if (ui === null) return; // onDomReady draws it
    try {
      drawResult(run, result);
    } finally {
      mark("pysb-run-end", { runId: run.id, source: run.source });
    }
  }

  function drawResult(run, result) {
    dropLive();
    clearOutputs();
    ui.stdout.textContent = String(result.output || "");
    ui.stderr.textContent = String(result.stderr || "");
    const err = result.error;
    if (err) {
      ui.errorBox.hidden = false;
      const tb = String(err.traceback || "");
      ui.error.textContent = tb !== "" ? tb : `${err.type}: ${err.message}`;
    }
    renderValue(result.result);
    renderReport(run, result);
    renderCharts(result.charts);
    // The traceback's line, marked in the editor while it shows this code.
    if (editor !== null && err && Number.isInteger(err.line) && currentCode() === run.code) {
      editor.markErrorLine(err.line);
    }

    const notices = [];
    if (run.routeNote) notices.push(run.routeNote);
    for (const note of run.notes || []) notices.push(note);
    if (run.reason && typeof result.engine === "string" && result.engine !== "browser") {
      notices.push(run.reason);
    }
    const missing = result.engine === "browser" ? unavailableNotice(result) : "";
    if (missing) notices.push(missing);
    const limits = limitsOf(result);
    if (limits.outputTruncated) notices.push("The output was cut at the output limit.");
    if (limits.stderrTruncated) notices.push("The error output was cut at the output limit.");
    if (limits.resultTruncated) notices.push("The result was too large and is shown as a summary.");
    if (limits.chartsDropped) notices.push(`${limits.chartsDropped} chart(s) were left out ` +
                                           "(too many or too large).");
    if (result.metadata && result.metadata.restarted) {
      notices.push("The program did not respond to Stop, so the Python runtime was restarted.");
    }
    if (notices.length > 0) showNotice(notices.join("\n"), missing ? "error" : "warning");

    if (offerServer(run, result)) {
      runs.offer = { code: run.code, dataText: run.dataText,
                     packages: unavailablePackages(result) };
      ui.offer.hidden = false;
    }

    const label = STATUS_TEXT[result.status] || String(result.status);
    const where = engineText(run, result);
    const server = where !== "" && result.engine !== "browser";
    const text = err && err.line ? `${label} (line ${err.line})` : label;
    // "(native)"; a longer label has its own parentheses: "(native; Judge0
    // was chosen)".
    const serverLabel = where.replace(/ \((.*)\)$/, "; $1");
    const shownText = server ? `${text} on the server (${serverLabel})` : text;
    if (engine.state === "loading") {
      // The status line belongs to the engine until it is ready (showProgress
      // takes it back then); "ready" here would say Python is loaded.
      setStatus(`${shownText}; Python is still loading in this browser`, "loading");
    } else {
      setStatus(shownText, result.success ? "ready" : "failed");
    }
    ui.engine.textContent = where !== "" ? `Engine: ${where}` : "";
    const md = result.metadata && typeof result.metadata === "object" ? result.metadata : {};
    ui.engine.title = typeof md.selectedBecause === "string" ? md.selectedBecause
      : run.routing && typeof run.routing.selectedBecause === "string"
        ? run.routing.selectedBecause : "";
    const exec = Number(result.executionTime) || 0;
    ui.timing.textContent = `${exec.toFixed(1)} ms in Python, ${Math.round(run.ms)} ms in all`;
    ui.root.dataset.runs = String((Number(ui.root.dataset.runs) || 0) + 1);
    ui.root.dataset.lastStatus = String(result.status);
    ui.root.dataset.lastEngine = typeof result.engine === "string" ? result.engine : "";
  }

  function cellText(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return jsonText(v);
    return String(v);
  }

  const emptyCell = (v) => v === null || v === undefined || v === "";

  // Order of two non-empty cells: numbers (and BigInts) by value before
  // text, text in the reader's collation.
  function compareCells(a, b) {
    const numeric = (v) => typeof v === "number" || typeof v === "bigint";
    if (numeric(a) && numeric(b)) return a < b ? -1 : a > b ? 1 : 0;
    if (numeric(a) !== numeric(b)) return numeric(a) ? -1 : 1;
    return cellText(a).localeCompare(cellText(b), undefined, { numeric: true });
  }

  // A DataFrame result (web/harness.py _pandas_to_jsonable: columns, index,
  // records, shape) as a table whose column headers sort it: a button in each
  // header (click, Enter or Space), ascending then descending, aria-sort on
  // the header.  Drawn from the records, not from value.html: pandas' HTML
  // carries the user's strings, and no sanitiser is as safe as not parsing it.
  function renderFrame(value) {
    const shape = Array.isArray(value.shape) ? value.shape : [value.records.length,
                                                              value.columns.length];
    ui.result.textContent = `DataFrame: ${shape[0]} rows × ${shape[1]} columns` +
      (value.records.length > MAX_TABLE_ROWS ? ` (first ${MAX_TABLE_ROWS} shown)` : "");
    // Row labels are drawn only when they say something (describe()'s
    // count/mean/..., a date index), not for the default 0, 1, 2, ...
    const index = Array.isArray(value.index) && value.index.length === value.records.length &&
      value.index.some((label, i) => String(label) !== String(i)) ? value.index : null;
    const rows = value.records.slice(0, MAX_TABLE_ROWS).map((rec, i) => ({
      label: index ? index[i] : null,
      cells: value.columns.map((c) => (rec !== null && typeof rec === "object" ? rec[c] : null)),
    }));
    const table = document.createElement("table");
    table.className = "sortable";
    const head = table.createTHead().insertRow();
    if (index) {
      const corner = document.createElement("th");
      corner.className = "corner";
      head.appendChild(corner);
    }
    const body = table.createTBody();
    const headers = value.columns.map((c, col) => {
      const th = document.createElement("th");
      th.scope = "col";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = String(c);
      button.addEventListener("click", () => sortBy(col));
      th.appendChild(button);
      head.appendChild(th);
      return th;
    });
    let sorted = { col: -1, dir: 0 };
    function sortBy(col) {
      const dir = sorted.col === col && sorted.dir === 1 ? -1 : 1;
      sorted = { col, dir };
      // Empty cells last in either direction.
      rows.sort((x, y) => {
        const a = x.cells[col];
        const b = y.cells[col];
        if (emptyCell(a) || emptyCell(b)) return emptyCell(a) - emptyCell(b);
        return compareCells(a, b) * dir;
      });
      headers.forEach((th, i) => {
        if (i === col) th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      drawRows();
    }
    function drawRows() {
      body.replaceChildren();
      for (const row of rows) {
        const tr = body.insertRow();
        if (index) {
          const th = document.createElement("th");
          th.scope = "row";
          th.textContent = cellText(row.label);
          tr.appendChild(th);
        }
        for (const cell of row.cells) tr.insertCell().textContent = cellText(cell);
      }
    }
    drawRows();
    const caption = table.createCaption();
    caption.className = "visually-hidden";
    caption.textContent = "Result table; the column headers sort it";
    ui.resultHtml.appendChild(table);
    ui.resultHtml.hidden = false;
  }

  function renderValue(value) {
    if (value === null || value === undefined) return;
    if (typeof value === "object" && !Array.isArray(value) && value.__type__ === "DataFrame" &&
        Array.isArray(value.columns) && Array.isArray(value.records)) {
      renderFrame(value);
      return;
    }
    // BigInts (integers beyond 2^53) with all their digits.
    ui.result.textContent = jsonText(value, 2);
  }

  const PNG_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

  // A result's charts: report.js draws them (interactive Chart.js when an
  // entry carries chart data, the PNG otherwise, each with its own download
  // button); without it, the PNGs with a download link.
  function renderCharts(charts) {
    if (!Array.isArray(charts) || charts.length === 0) return;
    const report = window.pysbReport;
    if (report && typeof report.renderCharts === "function") {
      ui.chartsBox.hidden = false;
      const target = ui.charts;
      Promise.resolve(report.renderCharts(target, charts)).then((figures) => {
        // The image's own size, as the PNG fallback below gives it.
        for (const img of target.querySelectorAll("img")) {
          const entry = charts.find((c) => c && typeof c.data === "string" &&
                                    img.src === `data:image/png;base64,${c.data}`);
          if (entry && Number(entry.width) > 0) img.width = Number(entry.width);
          if (entry && Number(entry.height) > 0) img.height = Number(entry.height);
        }
        if (!Array.isArray(figures) || figures.length === 0) {
          if (target === ui.charts && target.childElementCount === 0) ui.chartsBox.hidden = true;
        }
      }).catch((err) => {
        console.warn("pysandbox: charts could not be drawn:", err);
        if (target === ui.charts) drawPngCharts(charts);
      });
      return;
    }
    drawPngCharts(charts);
  }

  function drawPngCharts(charts) {
    ui.charts.replaceChildren();
    charts.forEach((c, i) => {
      if (!c || c.format !== "png" || typeof c.data !== "string" || !PNG_BASE64.test(c.data)) {
        return;
      }
      const figure = document.createElement("figure");
      figure.className = "png-chart";
      const img = document.createElement("img");
      img.alt = `Chart ${i + 1}`;
      if (Number(c.width) > 0) img.width = Number(c.width);
      if (Number(c.height) > 0) img.height = Number(c.height);
      img.src = `data:image/png;base64,${c.data}`;
      const link = document.createElement("a");
      link.href = img.src;
      link.download = `chart-${i + 1}.png`;
      link.className = "download";
      link.textContent = `Download chart ${i + 1} (PNG)`;
      figure.append(img, link);
      ui.charts.appendChild(figure);
      ui.chartsBox.hidden = false;
    });
  }

  // The report (findings, charts from the result JSON, a data preview, the
  // raw JSON in a closed section; report.js) of a batch-analyze page, and
  // of a run that asked for findings about the data.  On a batch-analyze
  // page the raw Result pane is hidden (the report has the JSON, one click
  // away); elsewhere it stays, under the findings.
  function renderReport(run, result) {
    const report = window.pysbReport;
    if (!(isAnalysisPage || (wantInsights() && Array.isArray(result.insights))) || !report ||
        typeof report.isReport !== "function" || !report.isReport(result)) {
      return;
    }
    ui.report.hidden = false;
    ui.resultBox.hidden = isAnalysisPage;
    Promise.resolve(report.renderReport(ui.report, result, { dataText: run.dataText }))
      .catch((err) => {
        console.warn("pysandbox: the report could not be drawn:", err);
        ui.report.hidden = true;
        ui.resultBox.hidden = false;
      });
  }

  /* --- the panel: editor, engine picker, data, history --------------- */

  let editor = null; // the CodeMirror editor (web/panel/editor.js), or null

  function currentCode() {
    return ui.code.value;
  }

  function setCode(text) {
    if (ui === null) return;
    ui.code.value = text;
    if (editor !== null) editor.setCode(text);
  }

  function mountEditor() {
    const panel = window.pysbPanel;
    if (!panel || typeof panel.createEditor !== "function") return;
    try {
      editor = panel.createEditor({
        host: ui.codeEditor,
        textarea: ui.code,
        onRun: () => ui.run.click(),
        label: "Code (Python)",
      });
      ui.editorHelp.hidden = false;
      ui.codeLabel.addEventListener("click", () => editor.focus());
      document.documentElement.dataset.editor = "codemirror";
    } catch (err) {
      console.warn("pysandbox: the code editor could not start; using the plain text box:", err);
      editor = null;
      ui.codeEditor.hidden = true;
    }
  }

  // The engine the picker asks for: auto | browser | native | judge0.
  const ENGINE_CHOICE_KEY = "pysandbox.engine";

  function engineChoice() {
    if (ui === null) return "auto";
    const checked = ui.enginePicker.querySelector("input[name=engine-choice]:checked");
    return checked && checked.value in ENGINE_NAMES ? checked.value : "auto";
  }

  // Availability of each engine, from the router's health answer (GET):
  // engines.{browser,native,judge0}.{available, reason, limits}.
  let engineHealth = null;

  async function loadEngineHealth() {
    try {
      const resp = await fetch(`${ROUTER_URL}?window=24h`, { cache: "no-store" });
      const answer = await resp.json();
      if (!resp.ok || !answer || typeof answer.engines !== "object") {
        throw new Error(`HTTP ${resp.status}`);
      }
      engineHealth = answer.engines;
    } catch (err) {
      engineHealth = { error: String(err && err.message || err) };
    }
    showEngineHealth();
  }

  function showEngineHealth() {
    if (ui === null) return;
    const routerOff = !routerSetting();
    for (const name of ["browser", "native", "judge0"]) {
      const why = document.getElementById(`engine-${name}-why`);
      const radio = ui.enginePicker.querySelector(`input[value="${name}"]`);
      let text;
      let available;
      const h = engineHealth && engineHealth[name] && typeof engineHealth[name] === "object"
        ? engineHealth[name] : null;
      if (name === "browser") {
        available = engine.state !== "failed";
        text = engine.state === "failed" ? "not available: Python could not be loaded here"
          : engine.state === "loading" ? "available (Python is loading)" : "available";
      } else if (routerOff) {
        available = false;
        text = "not used: this page was opened with ?pysb-router=off";
      } else if (h === null) {
        available = engineHealth === null;
        text = engineHealth === null ? "checking…"
          : `unknown: the router did not answer (${engineHealth.error || "no answer"})`;
      } else {
        available = h.available === true;
        text = available ? "available"
          : `not available: ${typeof h.reason === "string" && h.reason ? h.reason : "no reason given"}`;
      }
      why.textContent = text;
      radio.closest("label").dataset.available = String(available);
    }
    const limit = engineHealth && engineHealth.browser && engineHealth.browser.limits
      ? Number(engineHealth.browser.limits.maxDataMb) : NaN;
    if (Number.isFinite(limit) && limit > 0) dataLimitMb = limit;
  }

  /* Data from a file or pasted text (web/panel/data.js): the JSON text the
   * runs hand to Python, as a posted body's "data" would be.  Limit: the
   * router's engines.browser.limits.maxDataMb. */
  let dataLimitMb = DEFAULT_DATA_LIMIT_MB;

  function showDataError(text) {
    ui.dataError.textContent = text;
    ui.dataError.hidden = text === "";
  }

  async function loadData(read) {
    const panel = window.pysbPanel;
    showDataError("");
    try {
      const loaded = await read(panel, { maxBytes: Math.floor(dataLimitMb * 1048576) });
      pageData.text = loaded.dataText;
      pageData.loaded = loaded;
      showData();
      document.documentElement.dataset.dataLoaded = loaded.kind;
    } catch (err) {
      const known = panel && panel.isDataError(err);
      showDataError(known ? err.message : `The data could not be read: ${err && err.message || err}`);
      if (!known) console.warn("pysandbox: data loading failed:", err);
    }
  }

  function showData() {
    const loaded = pageData.loaded;
    ui.dataReset.hidden = loaded === null;
    if (loaded === null) {
      ui.dataInfo.textContent = describeData(pageDataText);
      ui.dataPreview.hidden = true;
      ui.dataPreview.replaceChildren();
      return;
    }
    const size = loaded.bytes < 1024 ? `${loaded.bytes} bytes`
      : loaded.bytes < 1048576 ? `${(loaded.bytes / 1024).toFixed(1)} kB`
        : `${(loaded.bytes / 1048576).toFixed(1)} MB`;
    const rows = loaded.rowCount === null ? "" : `${loaded.rowCount} row${loaded.rowCount === 1 ? "" : "s"}, `;
    ui.dataInfo.textContent = `data: ${loaded.name} (${loaded.note}): ${rows}${size} of JSON`;
    const preview = ui.dataPreview;
    preview.replaceChildren();
    if (!loaded.table) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = loaded.summary || "Passed to Python as it is.";
      preview.appendChild(p);
      preview.hidden = false;
      return;
    }
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Data preview");
    const table = document.createElement("table");
    const caption = table.createCaption();
    const shown = Math.min(loaded.rows.length, loaded.rowCount);
    caption.textContent = `First ${shown} of ${loaded.rowCount} rows; ` +
      `${loaded.columns.length} column${loaded.columns.length === 1 ? "" : "s"}`;
    const head = table.createTHead().insertRow();
    for (const col of loaded.columns) {
      const th = document.createElement("th");
      th.scope = "col";
      const name = document.createElement("span");
      name.textContent = col.name;
      const type = document.createElement("span");
      type.className = "col-type";
      type.textContent = col.type;
      th.append(name, document.createElement("br"), type);
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const row of loaded.rows) {
      const tr = body.insertRow();
      for (const cell of row) {
        const td = tr.insertCell();
        if (cell === null) td.className = "null";
        td.textContent = cell === null ? "null" : cell;
      }
    }
    wrap.appendChild(table);
    preview.appendChild(wrap);
    preview.hidden = false;
  }

  /* The run history of this tab (sessionStorage): code, engine, status,
   * duration; a click (or Enter) on an entry puts its code back. */
  function readHistory() {
    try {
      const list = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(list) ? list.filter((h) => h && typeof h.code === "string") : [];
    } catch (err) {
      return [];
    }
  }

  function addHistory(run, result) {
    if (run.source === "parent" || typeof run.code !== "string") return;
    const entry = {
      code: run.code.slice(0, HISTORY_CODE_MAX),
      engine: typeof result.engine === "string" ? result.engine : "",
      status: String(result.status || ""),
      ms: Math.round(run.ms || 0),
      at: Date.now(),
    };
    const list = readHistory();
    list.unshift(entry);
    list.length = Math.min(list.length, HISTORY_MAX);
    try {
      sessionStorage.setItem(HISTORY_KEY, JSON.stringify(list));
    } catch (err) {
      // storage full or disabled: the list below still shows this page's runs
    }
    showHistory(list);
  }

  function showHistory(list = readHistory()) {
    if (ui === null) return;
    ui.historyEmpty.hidden = list.length > 0;
    ui.history.replaceChildren();
    list.forEach((h) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "history-entry";
      button.dataset.status = h.status;
      const firstLine = h.code.split("\n").find((l) => /\S/.test(l)) || "(empty)";
      const code = document.createElement("code");
      code.textContent = firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine;
      const meta = document.createElement("span");
      meta.className = "history-meta";
      const time = new Date(h.at).toLocaleTimeString();
      meta.textContent = `${STATUS_TEXT[h.status] || h.status}` +
        `${h.engine ? ` · ${h.engine}` : ""} · ${h.ms} ms · ${time}`;
      // The name is the visible text after "Restore the code of:" (for
      // screen readers; the visible text stays part of the name).
      const verb = document.createElement("span");
      verb.className = "visually-hidden";
      verb.textContent = "Restore the code of: ";
      button.append(verb, code, meta);
      button.addEventListener("click", () => {
        setCode(h.code);
        if (editor !== null) editor.focus();
        else ui.code.focus();
      });
      li.appendChild(button);
      ui.history.appendChild(li);
    });
  }

  /* --- wiring -------------------------------------------------------- */

  // Size in characters, which is bytes for the usual ASCII JSON; counting
  // rows would mean parsing up to 50 MB on the main thread.
  function describeData(text) {
    const n = text.length;
    if (n <= 2) return "no data posted";
    if (n < 1024) return `data: ${n} characters of JSON`;
    if (n < 1024 * 1024) return `data: ${(n / 1024).toFixed(1)} kB of JSON`;
    return `data: ${(n / 1048576).toFixed(1)} MB of JSON`;
  }

  function wirePanel() {
    ui.insights.checked = pageWantsInsights;
    if (pageWantsInsights) {
      ui.insights.disabled = true; // this page asks for findings on every run
    }
    try {
      const saved = sessionStorage.getItem(ENGINE_CHOICE_KEY);
      const radio = saved && saved in ENGINE_NAMES
        ? ui.enginePicker.querySelector(`input[value="${saved}"]`) : null;
      if (radio !== null) radio.checked = true;
    } catch (err) {
      // storage disabled: Auto
    }
    ui.enginePicker.addEventListener("change", () => {
      try {
        sessionStorage.setItem(ENGINE_CHOICE_KEY, engineChoice());
      } catch (err) {
        // storage disabled: the choice holds for this page only
      }
    });
    if (!window.pysbPanel) {
      // The panel bundle did not load: posted (or a parent's) data only.
      ui.dataControls.hidden = true;
      return;
    }
    ui.dataFile.addEventListener("change", () => {
      const file = ui.dataFile.files && ui.dataFile.files[0];
      if (file) loadData((panel, opts) => panel.readDataFile(file, opts));
    });
    ui.dataUse.addEventListener("click", () => {
      const text = ui.dataPaste.value;
      loadData(async (panel, opts) => panel.readDataText(text, opts));
    });
    ui.dataReset.addEventListener("click", () => {
      pageData.text = pageDataText;
      pageData.loaded = null;
      ui.dataFile.value = "";
      showDataError("");
      delete document.documentElement.dataset.dataLoaded;
      showData();
    });
  }

  function onDomReady() {
    const $ = (id) => document.getElementById(id);
    ui = {
      root: document.documentElement,
      status: $("status"),
      statusText: $("status-text"),
      progress: $("load-progress"),
      retry: $("retry"),
      code: $("code"),
      run: $("run"),
      stop: $("stop"),
      restart: $("restart"),
      state: $("state"),
      dataInfo: $("data-info"),
      timing: $("timing"),
      engine: $("engine"),
      autoServer: $("auto-server"),
      offer: $("server-offer"),
      runServer: $("run-server"),
      notice: $("notice"),
      stdout: $("stdout"),
      stderr: $("stderr"),
      errorBox: $("error-box"),
      error: $("error"),
      result: $("result"),
      resultBox: $("result-box"),
      resultHtml: $("result-html"),
      report: $("report"),
      codeLabel: $("code-label"),
      codeEditor: $("code-editor"),
      editorHelp: $("editor-help"),
      enginePicker: $("engine-picker"),
      insights: $("insights"),
      dataFile: $("data-file"),
      dataPaste: $("data-paste"),
      dataUse: $("data-use"),
      dataReset: $("data-reset"),
      dataControls: $("data-controls"),
      dataError: $("data-error"),
      dataPreview: $("data-preview"),
      history: $("history"),
      historyEmpty: $("history-empty"),
      charts: $("charts"),
      chartsBox: $("charts-box"),
    };
    ui.code.value = String(input.code || "");
    ui.dataInfo.textContent = describeData(pageDataText);
    mountEditor();
    wirePanel();
    ui.run.addEventListener("click", () => {
      if (!canRun()) return;
      mark("pysb-run-start", { runId: runs.nextId });
      const run = { source: "ui", code: currentCode(), dataText: pageData.text,
                    route: routerSetting() };
      const choice = engineChoice();
      if (choice === "browser") {
        // Straight to this page's worker, without the router.
        Object.assign(run, { route: false, forced: "browser" });
      } else if (choice === "native" && routerSetting()) {
        // This page's sandbox on the native engine (state kept between
        // Runs); when none can be made, a one-shot run through the router
        // with requirements.preferredEngine "native".
        Object.assign(run, { route: true, server: true, forced: "native" });
      } else if (choice === "judge0" && routerSetting()) {
        // Through the router with requirements.preferredEngine "judge0"
        // (fallback allowed, and said); Judge0 keeps no state.
        Object.assign(run, { route: true, oneShot: true, forced: "judge0" });
      }
      submitRun(run);
    });
    ui.runServer.addEventListener("click", () => {
      const offer = runs.offer;
      if (offer === null || runs.current !== null) return;
      mark("pysb-run-start", { runId: runs.nextId });
      submitRun({ source: "ui", code: offer.code, dataText: offer.dataText, route: true,
                  server: true, reason: serverReason(offer.packages) });
    });
    ui.autoServer.checked = autoServer();
    ui.autoServer.addEventListener("change", () => setAutoServer(ui.autoServer.checked));
    ui.stop.addEventListener("click", stopRun);
    ui.restart.addEventListener("click", () => {
      if (runs.current === null) submitReset({ source: "ui" });
    });
    ui.retry.addEventListener("click", () => {
      showNotice("");
      startEngine();
    });
    ui.code.addEventListener("keydown", (event) => { // the plain text box's Ctrl-Enter
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        ui.run.click();
      }
    });
    showProgress();
    updateButtons();
    showState();
    showHistory();
    if (routerSetting()) loadEngineHealth();
    else showEngineHealth();
    if (lastRender !== null) renderResult(lastRender.run, lastRender.result);
    if (runs.current !== null) setStatus("Running…", "busy");
  }

  startEngine();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onDomReady);
  } else {
    onDomReady();
  }
})();
