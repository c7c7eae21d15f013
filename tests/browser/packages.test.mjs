// Package files present next to the runtime (what tools/mirror-pyodide-packages
// puts there) or on a package origin (PYSANDBOX_PYODIDE_PACKAGE_URL) are
// loaded on import.  No real numpy here: a small wheel built by the test,
// and a copy of the lockfile with an entry for it, served to the browser in
// place of the real lockfile (which is never modified).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import {
  ROOT, freePort, newPage, openSandbox, runCode, startService, startStaticServer, useService,
  waitReady, launchBrowser,
} from "./lib.mjs";

const VERSION = "0.29.5";
const WHEEL_NAME = "pysbwheel-1.0-py3-none-any.whl";

// The same minimal pure-Python wheel tests/http/test_mirror_tool.py builds.
const WHEEL = execFileSync("/usr/bin/python3", ["-c", `
import io, sys, zipfile
files = {
    "pysbwheel/__init__.py": "VALUE = 'loaded from a wheel'\\n",
    "pysbwheel-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: pysbwheel\\nVersion: 1.0\\n",
    "pysbwheel-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: pysandbox-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = "".join(p + ",,\\n" for p in files) + "pysbwheel-1.0.dist-info/RECORD,,\\n"
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for p, t in files.items():
        z.writestr(p, t)
    z.writestr("pysbwheel-1.0.dist-info/RECORD", record)
sys.stdout.buffer.write(buf.getvalue())
`]);

function patchedLock(sha256 = createHash("sha256").update(WHEEL).digest("hex")) {
  const lock = JSON.parse(readFileSync(path.join(ROOT, `pyodide/dist/${VERSION}/pyodide-lock.json`)));
  lock.packages.pysbwheel = {
    depends: [], file_name: WHEEL_NAME, imports: ["pysbwheel"], install_dir: "site",
    name: "pysbwheel", package_type: "package", sha256, unvendored_tests: false, version: "1.0",
  };
  return JSON.stringify(lock);
}

async function serveLock(context, body) {
  await context.route(`**/pyodide/${VERSION}/pyodide-lock.json`, (route) => route.fulfill({
    status: 200, contentType: "application/json", body,
    headers: { "Cross-Origin-Resource-Policy": "cross-origin",
               "Access-Control-Allow-Origin": "*" },
  }));
}

const fx = useService();

test("a wheel next to the runtime is loaded on import", async () => {
  const page = await newPage(fx.browser);
  const context = page.context();
  const fetched = [];
  try {
    await serveLock(context, patchedLock());
    await context.route(`**/pyodide/${VERSION}/${WHEEL_NAME}`, (route) => {
      fetched.push(route.request().url());
      route.fulfill({ status: 200, contentType: "application/octet-stream", body: WHEEL });
    });
    // Without the snapshot, so the patched lockfile is what this load reads.
    await openSandbox(page, fx.url, { path: "/api/insights/python-sandbox?pysb-snapshot=off" });
    await waitReady(page);
    const out = await runCode(page, "import pysbwheel\nprint(pysbwheel.VALUE)");
    assert.equal(out.error, "");
    assert.equal(out.stdout, "loaded from a wheel\n");
    assert.equal(out.notice, "");
    assert.deepEqual(fetched, [`${fx.url}/pyodide/${VERSION}/${WHEEL_NAME}`]);
    // Loaded once; the next run imports it without fetching again.
    assert.equal((await runCode(page, "import pysbwheel\nprint('again')")).stdout, "again\n");
    assert.equal(fetched.length, 1);
  } finally {
    await context.close();
  }
});

test("a wheel loads in a runtime restored from the memory snapshot", async () => {
  const page = await newPage(fx.browser);
  const context = page.context();
  try {
    await serveLock(context, patchedLock());
    await context.route(`**/pyodide/${VERSION}/${WHEEL_NAME}`, (route) =>
      route.fulfill({ status: 200, contentType: "application/octet-stream", body: WHEEL }));
    await openSandbox(page, fx.url);
    await waitReady(page);
    await page.waitForFunction(() => document.documentElement.dataset.snapshot === "saved");
    await page.reload();
    await waitReady(page);
    assert.equal(await page.getAttribute("html", "data-engine-snapshot"), "restored");
    const out = await runCode(page, "import pysbwheel\nprint(pysbwheel.VALUE)");
    assert.equal(out.error, "");
    assert.equal(out.stdout, "loaded from a wheel\n");
  } finally {
    await context.close();
  }
});

test("a wheel whose sha256 does not match the lockfile is refused and named", async () => {
  const page = await newPage(fx.browser);
  const context = page.context();
  try {
    await serveLock(context, patchedLock("0".repeat(64)));
    await context.route(`**/pyodide/${VERSION}/${WHEEL_NAME}`, (route) =>
      route.fulfill({ status: 200, contentType: "application/octet-stream", body: WHEEL }));
    await openSandbox(page, fx.url, { path: "/api/insights/python-sandbox?pysb-snapshot=off" });
    await waitReady(page);
    const out = await runCode(page, "import pysbwheel");
    assert.match(out.error, /ModuleNotFoundError: No module named 'pysbwheel'/);
    assert.match(out.notice, /^pysbwheel is not available in the browser engine/);
  } finally {
    await context.close();
  }
});

// A second instance whose package URL is another origin (a CDN or mirror).
let pkgServer = null;
let pkgService = null;
let pkgBrowser = null;
const pkgRequests = [];
after(async () => {
  if (pkgBrowser) await pkgBrowser.close();
  if (pkgService) await pkgService.stop();
  if (pkgServer) await pkgServer.close();
});

test("wheels from a package origin given by PYSANDBOX_PYODIDE_PACKAGE_URL load under COEP",
  async () => {
    const port = await freePort();
    pkgServer = await startStaticServer((req) => {
      pkgRequests.push(req.url);
      if (req.url === `/pkgs/${WHEEL_NAME}`) {
        // CORS, because a cross-origin-isolated page fetches in cors mode.
        return { headers: { "Content-Type": "application/octet-stream",
                            "Access-Control-Allow-Origin": "*" }, body: WHEEL };
      }
      return { status: 404, body: "" };
    }, port);
    pkgService = await startService({
      PYSANDBOX_PYODIDE_PACKAGE_URL: `http://127.0.0.1:${port}/pkgs/`,
    });
    pkgBrowser = await launchBrowser();
    const page = await newPage(pkgBrowser);
    try {
      await serveLock(page.context(), patchedLock());
      const resp = await page.goto(`${pkgService.url}/api/insights/python-sandbox?pysb-snapshot=off`);
      assert.match(resp.headers()["content-security-policy"],
                   new RegExp(`connect-src 'self' http://127\\.0\\.0\\.1:${port};`));
      await waitReady(page);
      const out = await runCode(page, "import pysbwheel\nprint(pysbwheel.VALUE)");
      assert.equal(out.stdout, "loaded from a wheel\n");
      assert.deepEqual(pkgRequests, [`/pkgs/${WHEEL_NAME}`]);
    } finally {
      await page.context().close();
    }
  });
