// batch-analyze: the service generates a standard-library analysis program
// and the page runs it as soon as Python is ready (autorun).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BATCH_PATH, newPage, openSandbox, shown, useService, waitReady } from "./lib.mjs";

const fx = useService();

async function autorunResult(page) {
  await waitReady(page);
  await page.waitForFunction(() => document.documentElement.dataset.runs === "1");
  return shown(page);
}

test("batch-analyze runs its comprehensive analysis on load", async () => {
  const page = await newPage(fx.browser);
  try {
    const data = [{ price: 10, qty: 1 }, { price: 20, qty: 3 }, { price: 30, qty: 2 },
                  { price: 40.5, qty: 8 }];
    await openSandbox(page, fx.url,
                      { path: BATCH_PATH, body: { data, analysisType: "comprehensive" } });
    const out = await autorunResult(page);
    assert.equal(out.lastStatus, "ok");
    assert.match(out.stdout, /comprehensive analysis of 4 rows, 2 columns/);
    // mean(10, 20, 30, 40.5) = 25.125; Pearson r(price, qty) = 0.83653
    assert.match(out.stdout, /^price\s+4\s+0\s+25\.125\s+13\.104548\s+10\.0\s+25\.0\s+40\.5$/m);
    assert.match(out.stdout, /^price\s+qty\s+4\s+0\.83653$/m);
    const result = JSON.parse(out.result);
    const price = result.descriptive.find((c) => c.column === "price");
    assert.equal(price.mean, 25.125);
    assert.equal(price.max, 40.5);
    // Autorun happens once; the Run button is usable afterwards.
    assert.equal(await page.isEnabled("#run"), true);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await page.context().close();
  }
});

test("batch-analyze text analysis counts words in documents", async () => {
  const page = await newPage(fx.browser);
  try {
    const documents = ["the cat sat on the mat", "a cat and a dog", "Dog days"];
    await openSandbox(page, fx.url,
                      { path: BATCH_PATH, body: { documents, analysisType: "text" } });
    const out = await autorunResult(page);
    assert.equal(out.lastStatus, "ok");
    // "Dog" and "dog" are one word; stopwords (the, a, on, and) are left out.
    assert.match(out.stdout, /^Text: 3 documents, 13 words, vocabulary 5$/m);
    assert.match(out.stdout, /^Top words: cat \(2\), dog \(2\), /m);
    const result = JSON.parse(out.result);
    assert.deepEqual(result.text.topWords.slice(0, 2), [["cat", 2], ["dog", 2]]);
    assert.equal(result.text.meanWords, 4.333333);
  } finally {
    await page.context().close();
  }
});
