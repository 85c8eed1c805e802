// The page outlives its compute worker: when the worker dies mid-analysis (here an uncaught
// error thrown inside it, as a wasm trap or an out-of-memory surfaces), the page says which
// analysis was lost, starts a fresh worker with the model, the adapter and the uploaded dataset
// again, keeps every setting, and the analysis runs again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDist, launch, openExplorer, screenshot, waitText } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const ADAPTER = path.join(ROOT, 'tests/fixtures/adapters/roberta_cls_qv');
const MODEL = path.join(ROOT, 'tests/fixtures/models/roberta_cls');

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

const CSV = 'text,label\n' + Array.from({ length: 12 }, (_, i) =>
  `"sample sentence number ${i} about ${i % 2 ? 'good' : 'bad'} food",${i % 2 ? 'pos' : 'neg'}`).join('\n') + '\n';

/** Throws an uncaught error inside the compute worker (its `error` event reaches the page). */
async function killWorker(page) {
  const worker = page.workers().find((w) => w.url().includes('worker.js'));
  assert.ok(worker, 'the compute worker runs');
  await worker.evaluate(() => setTimeout(() => { throw new Error('test: the worker dies'); }, 0));
}

test('the worker dies mid-analysis: the page says what was lost, restores model, adapter and data, keeps the settings', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=6&sample=first&r=4&alpha=8`);
    // Dropped model files and an attached adapter, an uploaded dataset: all restored after.
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('model-file-input').setInputFiles(
      ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => path.join(MODEL, f)));
    await waitText(page, 'model-status', /Loaded dropped model/);
    await page.getByTestId('adapter-file-input').setInputFiles(
      ['adapter_config.json', 'adapter_model.safetensors'].map((f) => path.join(ADAPTER, f)));
    await waitText(page, 'adapter-status', /^Attached adapter_config\.json/);
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-file-input').setInputFiles({ name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await waitText(page, 'data-status', /Active dataset: mine \(12 rows/);

    // A long self-check is running when the worker dies.
    await page.getByTestId('tab-model').click();
    await page.getByTestId('selfcheck-steps').fill('100000');
    await page.getByTestId('selfcheck-steps').dispatchEvent('change');
    await page.getByTestId('selfcheck-run').click();
    await waitText(page, 'selfcheck-status', /Running: step \d+/, 30_000);
    await killWorker(page);
    await waitText(page, 'worker-note', /the compute worker stopped: .*test: the worker dies during the compute check\. It was restarted/);
    await waitText(page, 'selfcheck-status', /Failed: .*the compute check was lost; the worker was restarted, start it again/);
    // Restored: the dropped model with its adapter, the uploaded dataset; settings kept.
    await waitText(page, 'model-status', /Loaded dropped model/);
    await waitText(page, 'adapter-status', /^Attached adapter_config\.json/);
    assert.equal(await page.getByTestId('lora-rank').inputValue(), '4');
    assert.equal(await page.getByTestId('selfcheck-steps').inputValue(), '100000');
    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: mine \(12 rows/);
    await screenshot(page, 'worker-restarted');

    // The analyses run on the fresh worker.
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-kappa', /\d/);
    assert.match(await page.getByTestId('ntk-notes').textContent(), /LoRA from the attached adapter/);
    assert.equal((await page.getByTestId('ntk-shape').textContent()).trim(), '6 × 2 (12 rows)');
  } finally { await browser.close(); }
});
