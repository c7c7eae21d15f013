// Shared helpers for the browser tests and tools/bench-browser.mjs: a real
// service instance (nginx + pysandbox-fcgi via tools/service) on a free
// loopback port, and Debian's Chromium driven by playwright-core.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

const run = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SANDBOX_PATH = "/api/insights/python-sandbox";
export const BATCH_PATH = "/api/insights/batch-analyze";

// Without these Chromium keeps trying to reach Google services, which on a
// closed network means a stream of failing connections and slower tests.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];
export const CHROMIUM = process.env.PYSANDBOX_CHROMIUM || "/usr/bin/chromium";

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Starts a service instance with its own run folder; env adds settings such
// as PYSANDBOX_FRAME_ANCESTORS.  Returns {url, port, runDir, stop()}.
export async function startService(env = {}) {
  const runDir = mkdtempSync(path.join(tmpdir(), "pysb-browser-"));
  const port = await freePort();
  const fullEnv = { ...process.env, PORT: String(port), PYSANDBOX_RUN_DIR: runDir, ...env };
  const service = path.join(ROOT, "tools/service");
  try {
    await run(service, ["start"], { env: fullEnv, timeout: 60000 });
  } catch (err) {
    rmSync(runDir, { recursive: true, force: true });
    throw new Error(`tools/service start failed: ${err.stderr || err.message}`);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await run(service, ["stop"], { env: fullEnv, timeout: 30000 });
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  };
  return { url: `http://127.0.0.1:${port}`, port, runDir, stop };
}

export async function launchBrowser(options = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
                           ...options });
}

// A browser context with its own profile folder, for cold/warm cache runs.
export async function launchProfile(userDataDir, options = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...options,
  });
}

export async function waitReady(page, timeout = 60000) {
  await page.waitForFunction(() => {
    const s = document.getElementById("status");
    return s && (s.dataset.state === "ready" || s.dataset.state === "failed");
  }, null, { timeout });
  const state = await page.getAttribute("#status", "data-state");
  if (state !== "ready") {
    throw new Error(`page failed to load: ${await page.textContent("#status-text")}`);
  }
}

// Types code into the editor, clicks Run and waits for the run to finish.
// Returns what the page shows.
export async function runCode(page, code, timeout = 60000) {
  const before = Number(await page.getAttribute("html", "data-runs")) || 0;
  await page.fill("#code", code);
  await page.click("#run");
  await page.waitForFunction((n) => Number(document.documentElement.dataset.runs || 0) > n,
                             before, { timeout });
  return shown(page);
}

export async function shown(page) {
  return page.evaluate(() => ({
    stdout: document.getElementById("stdout").textContent,
    stderr: document.getElementById("stderr").textContent,
    error: document.getElementById("error-box").hidden ? ""
      : document.getElementById("error").textContent,
    result: document.getElementById("result").textContent,
    notice: document.getElementById("notice").hidden ? ""
      : document.getElementById("notice").textContent,
    status: document.getElementById("status-text").textContent,
    lastStatus: document.documentElement.dataset.lastStatus || "",
  }));
}

// A loopback HTTP server answering every request with handler(req) ->
// {status, headers, body}, on port (0: any free one).  Returns {url, port,
// close()}.
export async function startStaticServer(handler, port = 0) {
  const server = http.createServer((req, res) => {
    const r = handler(req);
    res.writeHead(r.status || 200, r.headers || { "Content-Type": "text/html; charset=utf-8" });
    res.end(r.body || "");
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = server.address().port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

// Per-file fixture for node:test: one service instance (with extra settings
// from env) and one browser, started before the file's tests and stopped
// after them.  Returns an object filled in by the before() hook.
export function useService(env = {}) {
  const fx = { svc: null, browser: null, url: "" };
  before(async () => {
    fx.svc = await startService(typeof env === "function" ? await env() : env);
    fx.url = fx.svc.url;
    fx.browser = await launchBrowser();
  });
  after(async () => {
    if (fx.browser) await fx.browser.close();
    if (fx.svc) await fx.svc.stop();
  });
  return fx;
}

// A fresh context and page; uncaught page errors are collected in
// page.pageErrors so tests can assert there were none.
export async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.pageErrors = [];
  page.on("pageerror", (err) => page.pageErrors.push(String(err)));
  return page;
}

// Opens the sandbox page at routePath; with body, the navigation is a POST
// of body as JSON (Playwright rewrites the navigation request, so the
// browser still does a real top-level navigation to the service's answer).
export async function openSandbox(page, baseUrl, { path: routePath = SANDBOX_PATH, body,
                                                   rawBody } = {}) {
  const url = `${baseUrl}${routePath}`;
  if (body === undefined && rawBody === undefined) {
    await page.goto(url);
    return;
  }
  const postData = rawBody !== undefined ? rawBody : JSON.stringify(body);
  await page.route(url, (route) => route.continue({
    method: "POST",
    postData,
    headers: { ...route.request().headers(), "content-type": "application/json" },
  }));
  try {
    const resp = await page.goto(url);
    if (resp.status() !== 200) {
      throw new Error(`POST ${routePath}: HTTP ${resp.status()} ${await resp.text()}`);
    }
  } finally {
    await page.unroute(url);
  }
}
