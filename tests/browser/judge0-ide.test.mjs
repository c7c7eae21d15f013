// Judge0's web IDE (judge0/ide) served from its own origin and pointed at
// /judge0: a page on a second origin makes the calls the IDE makes, as it
// makes them (JSON bodies, so every POST is preflighted; base64 both ways;
// polling every 100 ms), and Chromium enforces CORS on every answer.  With
// PYSANDBOX_JUDGE0_CORS_ORIGINS naming another origin, the same calls are
// blocked by the browser.  (The HTTP-level CORS checks are in
// tests/http/test_judge0_api.py.)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, newPage, startService, startStaticServer } from "./lib.mjs";

let browser = null;
let ide = null;

before(async () => {
  browser = await launchBrowser();
  ide = await startStaticServer(() => ({ body: "<!doctype html><title>IDE</title><p>IDE</p>" }));
});

after(async () => {
  if (browser) await browser.close();
  if (ide) await ide.close();
});

// Runs in the IDE's page: the IDE's own request sequence for one program.
async function ideRun({ api, source, stdin }) {
  const enc = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  const dec = (s) => (s === null ? null
    : new TextDecoder().decode(Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0))));
  const languages = await (await fetch(`${api}/languages`)).json();
  const language = await (await fetch(`${api}/languages/71`)).json();
  const created = await fetch(`${api}/submissions?base64_encoded=true&wait=false`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ source_code: enc(source), language_id: 71, stdin: enc(stdin),
                           compiler_options: "", command_line_arguments: "",
                           redirect_stderr_to_stdout: true }),
  });
  const { token } = await created.json();
  for (let i = 0; i < 600; i++) {
    const sub = await (await fetch(`${api}/submissions/${token}?base64_encoded=true`)).json();
    if (sub.status.id > 2) {
      return { languages: languages.map((l) => l.id), language: language.name,
               createdStatus: created.status, status: sub.status,
               stdout: dec(sub.stdout), stderr: dec(sub.stderr) };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the submission did not finish");
}

test("the IDE's calls work from another origin", async () => {
  const svc = await startService();
  try {
    const page = await newPage(browser);
    await page.goto(`${ide.url}/`);
    const api = `${svc.url}/judge0`;
    assert.notEqual(new URL(api).origin, ide.url, "the IDE is on a second origin");
    const ok = await page.evaluate(ideRun, {
      api, source: "name = input()\nprint(f'hello, {name}')\n", stdin: "Judge0\n" });
    assert.deepEqual(ok.languages, [71, 92]);
    assert.match(ok.language, /^Python/);
    assert.equal(ok.createdStatus, 201);
    assert.deepEqual(ok.status, { id: 3, description: "Accepted" });
    assert.equal(ok.stdout, "hello, Judge0\n");
    const err = await page.evaluate(ideRun, {
      api, source: "d = {}\nprint('before')\nd['missing']\n", stdin: "" });
    assert.equal(err.status.id, 11, JSON.stringify(err));
    assert.equal(err.status.description, "Runtime Error (NZEC)");
    assert.match(err.stdout, /^before\n/);
    assert.match(err.stdout, /File "script\.py", line 3/);
    assert.match(err.stdout, /KeyError: 'missing'/);
    // stderr lands between the stdout lines where it was written (one stream, as isolate's).
    const mixed = await page.evaluate(ideRun, {
      api, stdin: "",
      source: "import sys\nprint('one')\nprint('warn', file=sys.stderr)\nprint('two')\n" });
    assert.equal(mixed.status.id, 3, JSON.stringify(mixed));
    assert.equal(mixed.stdout, "one\nwarn\ntwo\n");
    assert.equal(mixed.stderr, null);
    assert.deepEqual(page.pageErrors || [], []);
  } finally {
    await svc.stop();
  }
});

test("an origin the service does not list is blocked by the browser", async () => {
  const svc = await startService({ PYSANDBOX_JUDGE0_CORS_ORIGINS: "https://ide.example" });
  try {
    const page = await newPage(browser);
    await page.goto(`${ide.url}/`);
    const outcome = await page.evaluate(async (api) => {
      try {
        await fetch(`${api}/languages`);
        return "read";
      } catch (err) {
        return err.name;
      }
    }, `${svc.url}/judge0`);
    assert.equal(outcome, "TypeError");
    // The service itself answered: it is the browser that refuses the page.
    const direct = await fetch(`${svc.url}/judge0/languages`);
    assert.equal(direct.status, 200);
  } finally {
    await svc.stop();
  }
});
