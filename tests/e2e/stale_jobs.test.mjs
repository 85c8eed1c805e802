// A new request never waits behind a job whose result it makes stale (issue 30): after an NTK the
// page computes the eval samples' kernels against it; an NTK clicked meanwhile cancels that job
// and starts as soon as the worker has stopped it. CPU backend, the bundled MiniLM and uci-yelp.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launch, openExplorer, waitText, text } from './harness.mjs';

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

test('an NTK clicked while the eval kernel runs cancels it instead of waiting', { timeout: 600_000 }, async () => {
  const browser = await launch();
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=8&sample=stratified`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/, 300_000);
    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-yelp/, 300_000);
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-shape', /^8 × 2/, 300_000);
    // The eval kernel of these 8 samples now runs (64 eval samples' gradients).
    await page.waitForFunction(
      () => !document.querySelector('[data-testid="eval-kernel-cancel"]')?.classList.contains('hidden'),
      null, { timeout: 30_000 },
    );
    await page.getByTestId('ntk-n').fill('12');
    await page.getByTestId('ntk-n').dispatchEvent('change');
    // Compute stays enabled while only the stale eval kernel runs: a disabled button fails here.
    assert.equal(await page.getByTestId('ntk-run').isEnabled(), true);
    await page.getByTestId('ntk-run').click({ timeout: 2_000 });
    await waitText(page, 'eval-kernel-message', /cancelled after \d+ of \d+/, 60_000);
    await waitText(page, 'ntk-shape', /^12 × 2/, 300_000);
    // The new NTK's own eval kernel follows it and completes.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="eval-kernel-cancel"]')?.classList.contains('hidden'),
      null, { timeout: 300_000 },
    );
    assert.doesNotMatch(await text(page, 'eval-kernel-message'), /cancelled|failed|error/i);
  } finally {
    await browser.close();
  }
});
