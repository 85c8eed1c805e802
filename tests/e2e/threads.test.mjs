// The compute worker's pool of threads (src/worker/threads.rs): on a cross-origin isolated page
// it runs rayon on one Web Worker per logical core (capped at 8) sharing the wasm memory, and
// the NTK it computes equals the one-thread NTK (`?threads=1`) to float summation order; where
// the page is not cross-origin isolated it runs on one thread and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { serve } from '../../scripts/serve-dist.mjs';
import { DIST, launch, openExplorer, waitText, text } from './harness.mjs';

/** The page's default NTK at n = 16 under `query`, as its JSON export, and the threads line. */
async function ntkWith(browser, url) {
  const { page } = await openExplorer(browser, url);
  await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/, 120_000);
  await page.getByTestId('tab-data').click();
  await waitText(page, 'data-status', /Active dataset: uci-yelp/, 60_000);
  await page.getByTestId('tab-ntk').click();
  await page.getByTestId('ntk-run').click();
  await waitText(page, 'ntk-kappa', /\d/, 300_000);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ntk-export-json').click()]);
  const outcome = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  const threads = await text(page, 'cpu-threads');
  await page.close();
  return { outcome, threads };
}

test('the pool: every core on an isolated page, the same NTK as one thread to summation order', async () => {
  const server = await serve(DIST, { coi: true });
  const browser = await launch([]);
  try {
    const query = 'backend=cpu&n=16&sample=first';
    const cores = Math.min(os.availableParallelism(), 8);
    const pool = await ntkWith(browser, `${server.url}?${query}`);
    assert.equal(pool.threads, cores === 1 ? 'one thread' : `${cores} threads`);
    const one = await ntkWith(browser, `${server.url}?${query}&threads=1`);
    assert.equal(one.threads, 'one thread (threads=1 in the address)');
    // The same rows, the same kernel: every entry within 1e-5 of the largest (f32 sums taken
    // in another order by gemm's and the side-by-side passes' split of the work; the kernel's
    // entries are sums of ~10^5 products).
    assert.deepEqual(pool.outcome.rows, one.outcome.rows);
    const [a, b] = [pool.outcome.report.kernel, one.outcome.report.kernel];
    const scale = Math.max(...b.flat().map(Math.abs));
    let worst = 0;
    b.forEach((row, i) => row.forEach((v, j) => { worst = Math.max(worst, Math.abs(a[i][j] - v)); }));
    assert.ok(worst <= 1e-5 * scale, `largest difference ${worst} vs scale ${scale}`);
    const [ea, eb] = [pool.outcome.report.eigenvalues, one.outcome.report.eigenvalues];
    ea.forEach((e, i) => assert.ok(Math.abs(e - eb[i]) <= 1e-5 * eb[0], `eigenvalue ${i}: ${e} vs ${eb[i]}`));
  } finally {
    await browser.close();
    await server.close();
  }
});

test('without cross-origin isolation the worker computes on one thread and says why', async () => {
  const server = await serve(DIST, { coi: false });
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    await waitText(page, 'cpu-threads', /^one thread \(the page is not cross-origin isolated, so threads cannot share memory\)$/);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/, 120_000);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
  } finally {
    await browser.close();
    await server.close();
  }
});
