// The design's model at its real size in the page, on every CI run: a RoBERTa of
// distilroberta-base's shape with random fp16 weights (tests/e2e/roberta_sized.mjs, 82 M encoder
// parameters, 164 MB), served by a local hub mirror and loaded through the page's mirror option
// as a learner loads distilroberta-base. Its NTK at n = 8 equals the CLI's on the same files, and
// a short λ sweep trains it. The worker's measured wasm memory and the page's estimate are
// written to artifacts/roberta-size-memory.json (docs/performance.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveDist, launch, openExplorer, screenshot, num, waitText, text, ARTIFACTS } from './harness.mjs';
import { writeDistilrobertaSized, hubMirror } from './roberta_sized.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const CLI = process.env.NTK_LENS_CLI
  || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug/ntk-lens');
const REPO = 'test-org/distilroberta-sized';
const REV = 'random-v1';

let server;
let mirror;
let scratch;
let made;
before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ntk-lens-roberta-size-'));
  made = writeDistilrobertaSized(path.join(scratch, 'model'));
  server = await serveDist();
  mirror = await hubMirror(path.join(scratch, 'model'), REPO, REV);
});
after(async () => {
  await server?.close();
  mirror?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test('a distilroberta-sized RoBERTa from a local mirror: 164 MB download, NTK n = 8 = CLI, a short sweep', async () => {
  assert.equal(made.parameters, 81_527_808, 'distilroberta-base encoder without its pooler');
  const browser = await launch([]);
  try {
    const query = `backend=cpu&hub=${mirror.url}&model=hub:${REPO}@${REV}&n=8&sample=first`;
    const { page } = await openExplorer(browser, `${server.url}?${query}`);
    await waitText(page, 'model-hub-params', /\d/, 120_000);
    assert.match(await text(page, 'model-hub-params'), /^81,527,808 /);
    assert.match(await text(page, 'model-hub-about'), /RoBERTa family \(RobertaForMaskedLM\), 6 layers, hidden size 768, 12 heads/);
    const t0 = Date.now();
    await page.getByTestId('model-hub-download').click();
    await waitText(page, 'model-status', /Loaded distilroberta-sized/, 300_000);
    const loadMs = Date.now() - t0;
    assert.ok(mirror.requests.includes(`GET /${REPO}/resolve/${REV}/model.safetensors`));
    assert.equal(num((await text(page, 'model-params-total')).split(' ')[0].replaceAll(',', '')), made.parameters);
    assert.equal(await text(page, 'model-layers'), '6');

    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-yelp/, 60_000);
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-kappa', /\d/, 300_000);
    assert.match(await text(page, 'ntk-shape'), /^8 × 2 \(16 rows\)$/);
    const notes = await text(page, 'ntk-notes');
    const estimate = /Memory: about (\d+) MB/.exec(notes);
    assert.ok(estimate, notes);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ntk-export-json').click()]);
    const outcome = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    const memoryAfterNtk = Number(await page.getByTestId('backend-status').getAttribute('data-worker-memory-bytes'));

    // The CLI on the same files and the page's samples (the page's LoRA defaults, seed 0).
    const data = path.join(scratch, 'samples.jsonl');
    fs.writeFileSync(data, outcome.texts.map((t, i) =>
      JSON.stringify({ text: t, label: outcome.class_names[outcome.labels[i]] })).join('\n') + '\n');
    const cli = JSON.parse(execFileSync(CLI, ['ntk', '--model', path.join(scratch, 'model'), '--data', data,
      '--n', '8', '--rank', '8', '--alpha', '8', '--targets', 'query,value', '--seed', '0'],
    { maxBuffer: 1 << 26 }).toString());
    // f32 on both sides over 82 M weights upcast from the same fp16: 1e-4 relative.
    const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${what}: page ${a} vs CLI ${b}`);
    close(num(await text(page, 'ntk-lmax')), cli.lambda_max, 'μ_max');
    close(outcome.report.alignment, cli.alignment, 'alignment');
    await screenshot(page, 'roberta-size-ntk');

    await page.getByTestId('tab-linearization').click();
    await page.getByTestId('sweep-lambdas').fill('1');
    await page.getByTestId('sweep-lambdas').dispatchEvent('change');
    await page.getByTestId('sweep-steps').fill('2');
    await page.getByTestId('sweep-steps').dispatchEvent('change');
    await page.getByTestId('sweep-run').click();
    await waitText(page, 'sweep-time', /1 λ values? × 2 steps/, 600_000);
    assert.ok(Number.isFinite(num(await text(page, 'sweep-gap-0'))));
    const memoryAfterSweep = Number(await page.getByTestId('backend-status').getAttribute('data-worker-memory-bytes'));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'roberta-size-memory.json'), JSON.stringify({
      threads: await text(page, 'cpu-threads'),
      load_click_to_loaded_ms: loadMs,
      ntk_n: 8,
      ntk_estimate_mb: Number(estimate[1]),
      worker_memory_after_ntk_mb: Math.round(memoryAfterNtk / 1e6),
      worker_memory_after_sweep_mb: Math.round(memoryAfterSweep / 1e6),
    }, null, 2));
    assert.ok(memoryAfterNtk > 200e6, `the worker holds the 82 M weights in f32: ${memoryAfterNtk} bytes`);
    await screenshot(page, 'roberta-size-sweep');
  } finally {
    await browser.close();
  }
});
