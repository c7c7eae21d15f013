// The posted data reaches Python exactly: the page hands Python the JSON
// text embedded by the server, never a JavaScript re-serialisation of it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { newPage, openSandbox, runCode, useService, waitReady } from "./lib.mjs";

const fx = useService();

// Written by hand so it holds what JSON.stringify could never produce:
// 1.0 (a float in Python), integers past 2**53, and escapes.
const DATA_JSON = String.raw`[
 {"f": 1.0, "g": -0.0, "e": 1e400, "small": 5e-324, "big": 12345678901234567890,
  "neg": -98765432109876543210, "t": true, "n": null},
 {"s": "quote \" backslash \\ slash \/ tab \t", "nul": "a\u0000b",
  "seps": "line\u2028para\u2029end", "raw_seps": "RAW_SEPS",
  "html": "</script><script>window.pwned=1</script><!-- <script>",
  "amp": "&amp; &lt; <b>", "uni": "héllo wörld ✓ 日本語 😀 \ud83d\ude00",
  "nested": {"a": [1, [2, [3.5, {"k": "v"}]]], "": "empty key"}}
]`.replace("RAW_SEPS", "\u2028\u2029"); // the characters themselves, unescaped

function pythonView(jsonText) {
  // The same question asked of the machine's CPython: what json.loads gives.
  return execFileSync("/usr/bin/python3", ["-c",
    "import json,sys\n" +
    "d = json.loads(sys.stdin.read())\n" +
    "print(json.dumps(d, ensure_ascii=True, sort_keys=True))\n" +
    "print(repr(d))\n"], { input: jsonText }).toString();
}

test("posted data round-trips exactly into Python", async () => {
  const page = await newPage(fx.browser);
  try {
    // Raw JSON body, so 1.0 and the big integers travel as written.
    const code = [
      "import json",
      "print(json.dumps(data, ensure_ascii=True, sort_keys=True))",
      "print(repr(data))",
    ].join("\n");
    await openSandbox(page, fx.url,
                      { rawBody: `{"code": ${JSON.stringify(code)}, "data": ${DATA_JSON}}` });
    await waitReady(page);
    assert.equal(await page.inputValue("#code"), code);
    const out = await runCode(page, code);
    assert.equal(out.error, "");
    assert.equal(out.stdout, pythonView(DATA_JSON));

    // And the values that a lossy path would change, one by one.
    const checks = await runCode(page, [
      "a, b = data",
      "assert type(a['f']) is float and a['f'] == 1.0, a['f']",
      "assert a['big'] == 12345678901234567890 and type(a['big']) is int",
      "assert a['neg'] == -98765432109876543210",
      "assert str(a['g']) == '-0.0'",
      "assert a['e'] == float('inf')",
      "assert a['small'] == 5e-324",
      "assert b['nul'] == 'a\\x00b' and len(b['nul']) == 3",
      "assert b['seps'] == 'line\\u2028para\\u2029end'",
      "assert b['raw_seps'] == '\\u2028\\u2029'",
      "assert b['html'] == '</script><script>window.pwned=1</script><!-- <script>'",
      "assert b['amp'] == '&amp; &lt; <b>'",
      "assert b['uni'] == 'h\\xe9llo w\\xf6rld \\u2713 \\u65e5\\u672c\\u8a9e \\U0001f600 \\U0001f600'",
      "assert b['nested']['a'][1][1][0] == 3.5 and b['nested'][''] == 'empty key'",
      "assert b['s'] == 'quote \" backslash \\\\ slash / tab \\t'",
      "print('all exact')",
    ].join("\n"));
    assert.equal(checks.error, "");
    assert.equal(checks.stdout, "all exact\n");
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("form-encoded posts embed the same data", async () => {
  const page = await newPage(fx.browser);
  try {
    const form = new URLSearchParams({ code: "print(repr(data))", data: '[{"x": 1.0, "y": "\\u0000<"}]' });
    const url = `${fx.url}/api/insights/python-sandbox`;
    await page.route(url, (route) => route.continue({
      method: "POST",
      postData: form.toString(),
      headers: { ...route.request().headers(),
                 "content-type": "application/x-www-form-urlencoded" },
    }));
    await page.goto(url);
    await page.unroute(url);
    await waitReady(page);
    const out = await runCode(page, await page.inputValue("#code"));
    assert.equal(out.stdout, "[{'x': 1.0, 'y': '\\x00<'}]\n");
  } finally {
    await page.context().close();
  }
});
