// One-off measurement (not a test): the page's interactive times from the click, in headless
// Chromium, as docs/performance.md reports them.
//   NTK_LENS_DIST=dist node tests/e2e/measure_page.mjs [cpu|auto] [ntk] [after] [sweep] [tour] [pool] [roberta]
//   SWEEP_QUERY='lambdas=1e-3,10&steps=20' to time another sweep than the default
// Prints one JSON line per measurement: the NTK at n = 8 and n = 64 (click → result shown),
// a block toggle in Layer selection at n = 64 (click → summary updated), and with `sweep` the
// page's default λ sweep at the default n (click → table shown); with `after`, the NTK at n = 64
// clicked right after an NTK at n = 8 is shown (while that one's eval kernel runs).
// With `pool`, each measurement runs twice in this one run: on one thread (`?threads=1`) and on
// the worker's pool (every core), each line naming its threads. With `roberta`, the model is a
// distilroberta-sized RoBERTa (roberta_sized.mjs) from a local hub mirror, its load timed from
// the download click, and the large NTK is n = 32 instead of 64.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveDist, launch, openExplorer } from './harness.mjs';
import { writeDistilrobertaSized, hubMirror } from './roberta_sized.mjs';

const backend = process.argv[2] || 'cpu';
const withSweep = process.argv.includes('sweep');
const roberta = process.argv.includes('roberta');
const BIG = roberta ? 32 : 64;
const server = await serveDist();
const browser = await launch();
let modelQuery = '';
let mirror;
if (roberta) {
  // Named for its tokenizer: an older cache held the tiny fixture's, which made longer sequences.
  const dir = path.join(os.tmpdir(), 'ntk-lens-measure-roberta-gpt2-bpe');
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) writeDistilrobertaSized(dir);
  mirror = await hubMirror(dir, 'test-org/distilroberta-sized', 'random-v1');
  modelQuery = `&hub=${mirror.url}&model=hub:test-org/distilroberta-sized@random-v1`;
}
/** `?threads=` of the current pass (null: the pool). */
let threads = null;

const textOf = (page, id) => page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '', id);
const waitFor = (page, id, re, timeout = 1_800_000) => page.waitForFunction(
  ([id, src]) => new RegExp(src).test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
  [id, re.source], { timeout, polling: 20 },
);

async function loaded(query) {
  const url = `${server.url}?${query}&backend=${backend}${modelQuery}${threads ? `&threads=${threads}` : ''}`;
  const { page, backend: label } = await openExplorer(browser, url);
  if (roberta) {
    await waitFor(page, 'model-hub-params', /\d/, 120_000);
    const t0 = Date.now();
    await page.getByTestId('model-hub-download').click();
    await waitFor(page, 'model-status', /Loaded distilroberta-sized/, 300_000);
    console.log(JSON.stringify({ what: 'model loaded (local mirror, download pressed)', threads: await textOf(page, 'cpu-threads'), click_to_loaded_ms: Date.now() - t0 }));
  }
  await waitFor(page, 'model-status', /Loaded/, 120_000);
  await page.getByTestId('tab-data').click();
  await waitFor(page, 'data-status', /Active dataset/, 60_000);
  return { page, label };
}

async function ntk(n) {
  const { page, label } = await loaded(`n=${n}&sample=first`);
  await page.getByTestId('tab-ntk').click();
  const t0 = Date.now();
  await page.getByTestId('ntk-run').click();
  await waitFor(page, 'ntk-time', /s on/);
  const ms = Date.now() - t0;
  // The page's memory estimate (its note) beside the worker's wasm memory (its high-water mark).
  const estimate = /Memory: about (\d+) MB/.exec(await textOf(page, 'ntk-notes'))?.[1];
  const memory = await page.getByTestId('backend-status').getAttribute('data-worker-memory-bytes');
  console.log(JSON.stringify({ what: 'ntk', n, backend: label, threads: await textOf(page, 'cpu-threads'), click_to_result_ms: ms, shown: await textOf(page, 'ntk-time'), estimate_mb: Number(estimate), worker_memory_mb: Math.round(Number(memory) / 1e6) }));
  return page;
}

async function measure() {
  if (process.argv.includes('ntk')) {
  (await ntk(8)).close();
  const page = await ntk(BIG);
  if (!roberta) {
  await page.getByTestId('tab-layers').click();
  const toggles = [];
  for (const id of ['block-0-query', 'block-3-value', 'block-5-query', 'block-0-query']) {
    // In the page: the click, the summary's update, and the next frame after it (what the
    // person sees), without the test driver's own latency.
    toggles.push(await page.evaluate(async (id) => {
      const shown = () => document.querySelector('[data-testid="layers-ms"]')?.textContent ?? '';
      const before = shown();
      const t0 = performance.now();
      document.querySelector(`[data-testid="${id}"]`).click();
      while (shown() === before) await new Promise((r) => setTimeout(r, 0));
      const updated = performance.now() - t0;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return { block: id, click_to_update_ms: Math.round(updated), click_to_next_frame_ms: Math.round(performance.now() - t0), shown: shown() };
    }, id));
  }
  console.log(JSON.stringify({ what: 'block toggle', n: 64, toggles }));
  }
  await page.close();
  }
  if (process.argv.includes('after')) {
    const { page, label } = await loaded('n=8&sample=first');
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitFor(page, 'ntk-shape', /^8 ×/);
    await page.getByTestId('ntk-n').fill(String(BIG));
    await page.getByTestId('ntk-n').dispatchEvent('change');
    const evalRunning = await page.evaluate(() =>
      !document.querySelector('[data-testid="eval-kernel-cancel"]')?.classList.contains('hidden'));
    const t0 = Date.now();
    await page.getByTestId('ntk-run').click();
    await waitFor(page, 'ntk-shape', new RegExp(`^${BIG} ×`));
    console.log(JSON.stringify({ what: 'ntk right after an ntk of 8', n: BIG, backend: label, threads: await textOf(page, 'cpu-threads'), eval_kernel_was_running: evalRunning, click_to_result_ms: Date.now() - t0, shown: await textOf(page, 'ntk-time') }));
    await page.close();
  }
  if (withSweep) {
    const { page: p } = await loaded(`sample=first&${process.env.SWEEP_QUERY ?? ''}`);
    await p.getByTestId('tab-ntk').click();
    await p.getByTestId('ntk-run').click();
    await waitFor(p, 'ntk-time', /s on/);
    await p.getByTestId('tab-linearization').click();
    // Run waits (disabled) while the NTK's eval kernel runs, which the sweep's eval predictions
    // use: timed from the NTK shown, and from the click once Run is enabled.
    const shownAt = Date.now();
    await p.getByTestId('sweep-run').click({ timeout: 600_000 });
    const t0 = Date.now();
    await waitFor(p, 'sweep-time', /λ values/);
    console.log(JSON.stringify({ what: 'default sweep', threads: await textOf(p, 'cpu-threads'), click_to_result_ms: Date.now() - t0, ntk_shown_to_result_ms: Date.now() - shownAt, shown: await textOf(p, 'sweep-time') }));
  }
  if (process.argv.includes('tour')) {
    // The Learn tab's guided tour clicked through as written (its own settings), from opening
    // the page to the layer grid after the sweep.
    const t0 = Date.now();
    const { page: p } = await loaded('');
    await p.getByTestId('tab-learn').click();
    await p.getByTestId('tour-1').click();
    await p.getByTestId('tab-learn').click();
    await p.getByTestId('tour-2').click();
    await waitFor(p, 'ntk-time', /s on/);
    await p.getByTestId('tab-learn').click();
    await p.getByTestId('tour-3').click();
    await waitFor(p, 'sweep-time', /λ values/);
    await p.getByTestId('tab-learn').click();
    await p.getByTestId('tour-4').click();
    await p.getByTestId('block-2-query').click();
    await waitFor(p, 'layers-ms', /ms/);
    console.log(JSON.stringify({ what: 'tour', threads: await textOf(p, 'cpu-threads'), open_to_last_step_ms: Date.now() - t0, sweep: await textOf(p, 'sweep-time') }));
  }
}

try {
  for (const t of process.argv.includes('pool') ? ['1', null] : [null]) {
    threads = t;
    await measure();
  }
} finally {
  await browser.close();
  await server.close();
  mirror?.close();
}
