// The page outlives its compute worker: when the worker dies mid-analysis (here an uncaught
// error thrown inside it, as a wasm trap or an out-of-memory surfaces), the page says which
// analysis was lost, starts a fresh worker with the model, the adapter and the uploaded dataset
// again, keeps every setting, and the analysis runs again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDist, launch, openExplorer, screenshot, waitText, WEBGPU_ARGS } from './harness.mjs';

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

/** Arms the worker's test hook (src/worker/faults.rs): the next check, or device job on WebGPU,
 *  fails as `fault` says ('check', 'lost', 'oom'). */
async function forceGpuFault(page, fault) {
  // The worker of the page's module (WebGPU), not the CPU worker's (cpu-worker.js).
  const worker = page.workers().find((w) => /\/worker\.js\?/.test(w.url()));
  assert.ok(worker, 'the compute worker runs');
  await worker.evaluate((f) => { self.ntkLensFault = f; }, fault);
}

/** Switches to WebGPU (SwiftShader here) and waits until its check against the CPU passed. */
async function toWebGpu(page) {
  await page.getByTestId('backend-choice').selectOption('wgpu');
  await waitText(page, 'backend-status', /^WebGPU: .+ \(agrees with the CPU to /, 300_000);
}

test('GPU failures (a wrong check, a lost device, out of GPU memory) fall back to the CPU and keep model, data and results', async () => {
  const browser = await launch(WEBGPU_ARGS);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=4&sample=first&lambdas=0.1&steps=2`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-lmax', /\d/);
    const lmax = await page.getByTestId('ntk-lmax').textContent();
    const kept = async () => {
      await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
      assert.equal(await page.getByTestId('ntk-lmax').textContent(), lmax, 'the NTK shown is kept');
      assert.equal((await page.getByTestId('ntk-shape').textContent()).trim(), '4 × 2 (8 rows)');
      assert.match(await page.getByTestId('data-status').textContent(), /Active dataset: /);
    };

    // 1. The check against the CPU finds WebGPU wrong: the switch keeps the CPU and says why.
    // (The switch starts a fresh worker of the page's module; the page hands it the hook.)
    await page.evaluate(() => { self.ntkLensFault = 'check'; });
    await page.getByTestId('backend-choice').selectOption('wgpu');
    await waitText(page, 'backend-status',
      /^CPU \(WebGPU's results differ from the CPU's by 1\.0e0 \(more than 1e-3\): not trusted\)$/, 300_000);
    await kept();
    await page.getByTestId('backend-choice').selectOption('cpu');
    await waitText(page, 'backend-status', /^CPU \(chosen\)$/);

    // 2. The device is lost when the next analysis starts: the worker restarts on the CPU.
    await toWebGpu(page);
    await forceGpuFault(page, 'lost');
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'worker-note', /^WebGPU failed: could not read a result back from the compute device: DevicePoisoned: Lost: .* during the NTK\. It was restarted on the CPU with the model and the dataset loaded again; your settings and results are kept\.$/);
    await waitText(page, 'ntk-message', /the NTK was lost; the worker was restarted on the CPU, start it again/);
    await waitText(page, 'backend-status', /^CPU \(WebGPU failed: the device was lost\)$/);
    assert.equal(await page.getByTestId('backend-choice').inputValue(), 'cpu');
    assert.match(page.url(), /[?&]backend=cpu(&|$)/);
    await kept();
    await screenshot(page, 'gpu-lost-fallback');
    // The NTK on the CPU is the one shown before, to the digits shown.
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-time', /on CPU \(WebGPU failed: the device was lost\)/);
    assert.equal(await page.getByTestId('ntk-lmax').textContent(), lmax);

    // 3. Out of GPU memory: wgpu's error handler panics; the panic's message reaches the page.
    await toWebGpu(page);
    await forceGpuFault(page, 'oom');
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'worker-note', /^the compute worker stopped: wgpu error: Out of Memory \(forced by the test hook `ntkLensFault`\) during the NTK\. It was restarted on the CPU/);
    await waitText(page, 'backend-status', /^CPU \(WebGPU failed: out of GPU memory\)$/);
    await kept();

    // The page still works: the sweep computes the NTK the fresh worker lacks, then trains.
    await page.getByTestId('tab-linearization').click();
    await page.getByTestId('sweep-run').click();
    await waitText(page, 'sweep-time', /^1 λ values × 2 steps/, 300_000);
    assert.equal(await page.getByTestId('ntk-lmax').textContent(), lmax);
  } finally { await browser.close(); }
});
