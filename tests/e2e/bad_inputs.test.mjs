// The bad-input corpus (tests/bad-inputs, also run through the CLI by
// crates/cli/tests/cli/bad_inputs.rs) through the page, for every kind the page accepts: dataset
// uploads, dropped model files (config, weights, tokenizer) and adapters. Each file either gives
// a message in its tab that names it while the previous dataset, model or adapter stays, or is
// accepted; what the CLI refuses, the page refuses too; the page never breaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDist, launch, openExplorer, screenshot } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const CORPUS = path.join(ROOT, 'tests/bad-inputs');
const BERT = path.join(ROOT, 'tests/fixtures/models/bert_cls');
const ADAPTER = path.join(ROOT, 'tests/fixtures/adapters/bert_cls_qv');

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

/** The corpus's README rows: file → whether the CLI refuses it (exit 2). */
function cliOutcomes() {
  const rows = fs.readFileSync(path.join(CORPUS, 'README.md'), 'utf8').split('\n')
    .map((l) => /^\| `([^`]+)` \| (\w+) \|.*\| ([^|]+) \|$/.exec(l)).filter(Boolean);
  return new Map(rows.map((m) => [m[1], { kind: m[2], refused: /^exit 2/.test(m[3].trim()) }]));
}

const file = (dir, name, as = name) => ({ name: as, mimeType: 'application/octet-stream', buffer: fs.readFileSync(path.join(dir, name)) });

/** Runs `act`, which starts a job that disables the file input `inputId` while it runs, and
 *  waits until that job has ended (the input was disabled and is enabled again). Returns the
 *  text of the tab's message `errorId`, or undefined when there is none. */
async function settle(page, inputId, errorId, act) {
  await page.evaluate((inputId) => {
    const input = document.querySelector(`[data-testid="${inputId}"]`);
    window.__busySeen = false;
    window.__observer?.disconnect();
    window.__observer = new MutationObserver(() => { if (input.disabled) window.__busySeen = true; });
    window.__observer.observe(input, { attributes: true });
  }, inputId);
  await act();
  await page.waitForFunction((inputId) => window.__busySeen
    && !document.querySelector(`[data-testid="${inputId}"]`).disabled, inputId, { timeout: 60_000 });
  return page.evaluate((errorId) => document.querySelector(`[data-testid="${errorId}"]`)?.textContent, errorId);
}

test('the bad-input corpus through the page: a message naming the file, what was loaded stays', async () => {
  const expected = cliOutcomes();
  const names = fs.readdirSync(CORPUS);
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.waitForFunction(() => /Loaded all-MiniLM/.test(document.querySelector('[data-testid="model-status"]')?.textContent ?? ''), null, { timeout: 120_000 });

    // Datasets.
    await page.getByTestId('tab-data').click();
    await page.waitForFunction(() => /Active dataset: uci-yelp/.test(document.querySelector('[data-testid="data-status"]')?.textContent ?? ''), null, { timeout: 60_000 });
    let active = 'uci-yelp';
    const dataFiles = names.filter((n) => n.startsWith('data-'));
    assert.ok(dataFiles.length >= 25, dataFiles.join(', '));
    for (const name of dataFiles) {
      if (process.env.DEBUG_CORPUS) console.log(name);
      await page.getByTestId('data-file-input').setInputFiles(file(CORPUS, name));
      // Every message names its file; an accepted file becomes the active dataset.
      await page.waitForFunction((name) => (document.querySelector('[data-testid="data-error"]')?.textContent ?? '').includes(name)
        || (document.querySelector('[data-testid="data-status"]')?.textContent ?? '').includes(`from ${name}`), name, { timeout: 60_000 });
      const status = await page.getByTestId('data-status').textContent();
      if (!status.includes(`from ${name}`)) {
        assert.match(status, new RegExp(`Active dataset: ${active} `), `${name}: the previous dataset stays`);
      } else {
        assert.ok(!expected.get(name)?.refused || /one-class|regression-nan/.test(name),
          `${name}: refused by the CLI but accepted by the page: ${status}`);
        active = name.replace(/\.[^.]+$/, '');
      }
    }
    await screenshot(page, 'bad-inputs-data');

    // Model files: a broken config, tokenizer or weights among otherwise good files.
    await page.getByTestId('tab-model').click();
    const modelCases = names.filter((n) => /^(config|tokenizer|weights)-/.test(n));
    let model = 'all-MiniLM-L6-v2';
    for (const name of modelCases) {
      const [kind] = name.split('-');
      const base = kind === 'weights' ? path.join(CORPUS, 'mini-model') : BERT;
      const files = [
        kind === 'config' ? file(CORPUS, name, 'config.json') : file(base, 'config.json'),
        kind === 'weights' ? file(CORPUS, name, 'model.safetensors') : file(base, 'model.safetensors'),
        kind === 'tokenizer' ? file(CORPUS, name, 'tokenizer.json') : file(BERT, 'tokenizer.json'),
      ];
      const message = await settle(page, 'model-file-input', 'model-error',
        () => page.getByTestId('model-file-input').setInputFiles(files));
      const status = await page.getByTestId('model-status').textContent();
      if (/^Loading failed/.test(status)) {
        const which = { config: 'config.json', weights: 'model.safetensors', tokenizer: 'tokenizer.json' }[kind];
        assert.ok(message?.includes(which), `${name}: the message names ${which}: ${message}`);
        assert.equal((await page.getByTestId('model-name').textContent()).trim(), model, `${name}: the previous model stays`);
      } else {
        assert.match(status, /^Loaded dropped model/, name);
        assert.ok(!expected.get(name)?.refused, `${name}: refused by the CLI but accepted by the page`);
        model = 'dropped model';
      }
    }
    await screenshot(page, 'bad-inputs-model');

    // Adapters, on the model they belong to.
    await page.getByTestId('model-file-input').setInputFiles(['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => file(BERT, f)));
    await page.waitForFunction(() => /Loaded dropped model/.test(document.querySelector('[data-testid="model-status"]')?.textContent ?? ''));
    const adapterCases = names.filter((n) => n.startsWith('adapter-'));
    for (const name of adapterCases) {
      const json = name.endsWith('.json');
      const files = [
        json ? file(CORPUS, name, 'adapter_config.json') : file(ADAPTER, 'adapter_config.json'),
        json ? file(ADAPTER, 'adapter_model.safetensors') : file(CORPUS, name, 'adapter_model.safetensors'),
      ];
      const message = await settle(page, 'adapter-file-input', 'adapter-error',
        () => page.getByTestId('adapter-file-input').setInputFiles(files));
      const status = await page.getByTestId('adapter-status').textContent();
      if (/^No adapter/.test(status)) {
        assert.match(message ?? '', /adapter_config\.json|adapter_model\.safetensors/, `${name}: ${message}`);
      } else {
        assert.ok(!expected.get(name)?.refused, `${name}: refused by the CLI but accepted by the page: ${status}`);
        await page.getByTestId('adapter-remove').click();
        await page.waitForFunction(() => /^No adapter/.test(document.querySelector('[data-testid="adapter-status"]').textContent));
      }
    }
    await screenshot(page, 'bad-inputs-adapter');

    // The page still works: an NTK on the model loaded last.
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-file-input').setInputFiles(file(CORPUS, 'data-five-rows.jsonl'));
    await page.waitForFunction(() => /Active dataset: data-five-rows/.test(document.querySelector('[data-testid="data-status"]')?.textContent ?? ''));
    assert.deepEqual(errors, []);
    assert.equal((await page.getByTestId('worker-note').textContent()).trim(), '');
  } finally { await browser.close(); }
});
