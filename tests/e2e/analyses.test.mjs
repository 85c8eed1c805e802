// End-to-end tests of the three analyses as the tour runs them: compute the NTK of samples of
// the default dataset, check the numbers shown against the CLI's for the same samples, sweep λ,
// and toggle layers. CPU backend (?backend=cpu): SwiftShader's WebGPU is too slow for MiniLM here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveDist, launch, openExplorer, openWithNtk, screenshot, num, waitText as waitTextWithin, text } from './harness.mjs';

/** The analyses run for minutes on 2 cores: wait up to 5 minutes unless told. */
const waitText = (page, id, re, timeout = 300_000) => waitTextWithin(page, id, re, timeout);

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const CLI = process.env.NTK_LENS_CLI
  || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug/ntk-lens');
const MODEL = path.join(ROOT, 'web/models/all-MiniLM-L6-v2');

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

/** A scratch folder holding the weights the page uses (fp16, upcast on load) as a CLI model. */
function cliModelDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntk-lens-e2e-'));
  const model = path.join(dir, 'model');
  fs.mkdirSync(model);
  for (const f of ['config.json', 'tokenizer.json']) fs.copyFileSync(path.join(MODEL, f), path.join(model, f));
  fs.copyFileSync(path.join(MODEL, 'model.fp16.safetensors'), path.join(model, 'model.safetensors'));
  return { dir, model };
}

/** `run(dir, model)` with a scratch CLI model folder (`cliModelDir`), removed afterwards. */
function withCliModelDir(run) {
  const { dir, model } = cliModelDir();
  try {
    return run(dir, model);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The CLI on the same weights the page uses (fp16 upcast), over the page's samples. */
function cliNtk(outcome, n) {
  return withCliModelDir((dir, model) => {
    const data = path.join(dir, 'samples.jsonl');
    fs.writeFileSync(data, outcome.texts.map((t, i) =>
      JSON.stringify({ text: t, label: outcome.class_names[outcome.labels[i]] })).join('\n') + '\n');
    const out = execFileSync(CLI, ['ntk', '--model', model, '--data', data, '--n', String(n),
      '--rank', '8', '--alpha', '8', '--targets', 'query,value', '--seed', '0'], { maxBuffer: 1 << 26 });
    return JSON.parse(out.toString());
  });
}

function close(a, b, rel, what) {
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: page ${a} vs CLI ${b} (rel ${Math.abs(a - b) / Math.abs(b)})`);
}

test('tour: NTK equals the CLI, λ sweep, layer toggles', async () => {
  const browser = await launch([]);
  try {
    // 1. NTK.
    const page = await openWithNtk(browser, `${server.url}?backend=cpu&n=8&sample=stratified`);
    await screenshot(page, 'ntk-tab');
    const shape = await text(page, 'ntk-shape');
    assert.match(shape, /^8 × 2 \(16 rows\)$/);
    assert.equal(await text(page, 'ntk-params-count'), '73728');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ntk-export-json').click()]);
    const outcome = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(outcome.rows.length, 8);
    assert.equal(new Set(outcome.labels).size, 2, 'stratified: both classes');
    const cli = cliNtk(outcome, 8);
    close(num(await text(page, 'ntk-lmax')), cli.lambda_max, 1e-4, 'λ_max');
    close(num(await text(page, 'ntk-lmin')), cli.lambda_min, 1e-4, 'λ_min');
    close(num(await text(page, 'ntk-kappa')), cli.condition_number, 1e-4, 'κ');
    close(outcome.report.alignment, cli.alignment, 1e-4, 'alignment');
    close(outcome.report.alignment_centred, cli.alignment_centred, 1e-4, 'centred alignment');
    // Entries against the kernel's scale (its largest entry): both sides compute in f32 with
    // different SIMD summation orders (wasm simd128 vs AVX-512), so an entry 10⁴ times smaller
    // than the largest carries a relative error of ~1e-4 on its own while agreeing to ~1e-9 of
    // the scale.
    const scale = Math.max(...cli.kernel.flat().map(Math.abs));
    for (let i = 0; i < 16; i += 5) {
      for (let j = 0; j < 16; j += 3) {
        const [a, b] = [outcome.report.kernel[i][j], cli.kernel[i][j]];
        assert.ok(Math.abs(a - b) <= 1e-5 * scale, `K[${i}][${j}]: page ${a} vs CLI ${b} (scale ${scale})`);
      }
    }
    assert.ok(await page.getByTestId('ntk-heatmap').isVisible());
    assert.match(await text(page, 'ntk-notes'), /only the B matrices contribute/);

    // 2. Linearization: the slider refits at once; the sweep trains the real model.
    await page.getByTestId('tab-linearization').click();
    const before = await text(page, 'lin-distance');
    await page.getByTestId('lambda-slider').fill('1');
    await waitText(page, 'lambda-value', /λ = 10$/, 10_000);
    const after = await text(page, 'lin-distance');
    assert.ok(num(after) < num(before), `distance shrinks with λ: ${before} → ${after}`);
    assert.ok(num(after) <= num(await text(page, 'lin-bound')));
    await page.getByTestId('sweep-lambdas').fill('0.01,100');
    await page.getByTestId('sweep-lambdas').dispatchEvent('change');
    await page.getByTestId('sweep-steps').fill('8');
    await page.getByTestId('sweep-steps').dispatchEvent('change');
    await page.getByTestId('sweep-run').click();
    await waitText(page, 'sweep-time', /2 λ values × 8 steps/);
    const g0 = num(await text(page, 'sweep-gap-0'));
    const g1 = num(await text(page, 'sweep-gap-1'));
    assert.ok(g1 < g0, `the gap shrinks as λ grows: ${g0} → ${g1}`);
    await screenshot(page, 'linearization-tab');
    // The LoRA trained at λ = 100 as a PEFT adapter folder (zip, stored entries).
    const [zipDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-adapter-1').click()]);
    assert.match(zipDl.suggestedFilename(), /^lora-adapter-lambda-100\.zip$/);
    const zip = fs.readFileSync(await zipDl.path());
    assert.equal(zip.readUInt32LE(0), 0x04034b50, 'a zip archive');
    const names = zip.toString('latin1');
    assert.ok(names.includes('adapter_config.json') && names.includes('adapter_model.safetensors'));
    assert.ok(names.includes('base_model.model.encoder.layer.5.attention.self.value.lora_B.weight'));

    // The radius probe: the kernel moves more at a larger radius.
    await page.getByTestId('radius-radii').fill('0.01,1');
    await page.getByTestId('radius-radii').dispatchEvent('change');
    await page.getByTestId('radius-run').click();
    await waitText(page, 'radius-change-1', /\d/);
    const c0 = num(await text(page, 'radius-change-0'));
    const c1 = num(await text(page, 'radius-change-1'));
    assert.ok(c1 > c0, `relative kernel change grows with the radius: ${c0} → ${c1}`);
    const radiusRows = async () => Promise.all([0, 1].map(async (i) =>
      (await page.getByTestId(`radius-row-${i}`).locator('td').allTextContents()).map(num)));
    const plainRadius = await radiusRows();

    // 3. Layers: toggling a block changes the set and its κ at once.
    await page.getByTestId('tab-layers').click();
    await waitText(page, 'layers-count', /^12$/);
    // Its charts got their data while the tab was hidden (zero size): shown, they are drawn at
    // their laid-out size (a backing store of CSS size × devicePixelRatio), not stretched.
    const sharp = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="panel-layers"] canvas')]
      .filter((c) => c.clientWidth > 0)
      .map((c) => ({ id: c.id, ok: Math.abs(c.width - Math.round(c.clientWidth * devicePixelRatio)) <= 1, w: c.width, cw: c.clientWidth })));
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="panel-layers"] canvas')]
      .filter((c) => c.clientWidth > 0)
      .every((c) => Math.abs(c.width - Math.round(c.clientWidth * devicePixelRatio)) <= 1), null, { timeout: 5_000 })
      .catch(async () => assert.fail(`charts not drawn at their size: ${JSON.stringify(await sharp())}`));
    assert.ok((await sharp()).length >= 1, 'the Layer selection tab shows a chart');
    // And again after the window changes size.
    await page.setViewportSize({ width: 560, height: 800 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="panel-layers"] canvas')]
      .filter((c) => c.clientWidth > 0)
      .every((c) => Math.abs(c.width - Math.round(c.clientWidth * devicePixelRatio)) <= 1), null, { timeout: 5_000 })
      .catch(async () => assert.fail(`charts not redrawn after a resize: ${JSON.stringify(await sharp())}`));
    const kAll = await text(page, 'layers-kappa');
    await page.getByTestId('block-0-query').click();
    await waitText(page, 'layers-count', /^11$/, 5_000);
    assert.notEqual(await text(page, 'layers-kappa'), kAll);
    const ms = parseFloat(await text(page, 'layers-ms'));
    console.log(`layer toggle recomputed the spectrum in ${ms} ms (n = 8, CPU)`);
    // The study's training: the paper's recipe is offered and kept in the address.
    await page.getByTestId('layers-recipe').selectOption('paper');
    await page.waitForFunction(() => /recipe=paper/.test(location.search), null, { timeout: 5_000 });
    await page.getByTestId('layers-recipe').selectOption('theory');
    await page.getByTestId('layers-budget').fill('3');
    await page.getByTestId('layers-budget').dispatchEvent('change');
    await page.getByTestId('layers-suggest').click();
    await waitText(page, 'layers-count', /^3$/, 5_000);
    await screenshot(page, 'layers-tab');

    // The probe with the sign kernel selected compares plain kernels all the same (it computes
    // the plain kernel at θ0 first): the numbers of the plain run, to the f32 round-off of
    // kernels assembled in other chunks (max|ΔK|/r at r = 0.01 magnifies it 100 times).
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-kernel').selectOption('sign');
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-notes', /sign kernel/);
    await page.getByTestId('tab-linearization').click();
    // The table is drawn anew when the new points arrive: mark an old one (a new NTK may have
    // cleared it) to wait for that.
    await page.evaluate(() => {
      const old = document.querySelector('[data-testid="radius-table"]');
      if (old) old.dataset.stale = '1';
    });
    await page.getByTestId('radius-run').click();
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid="radius-table"]');
      return t && !t.dataset.stale;
    }, null, { timeout: 300_000 });
    const signRadius = await radiusRows();
    for (const [i, row] of plainRadius.entries()) {
      for (const [j, v] of row.entries()) close(signRadius[i][j], v, 2e-3, `radius row ${i} column ${j} (sign-kernel base)`);
    }

    // 4. Rows picked in the Data tab are exactly the NTK's samples.
    await page.getByTestId('tab-data').click();
    for (const i of [0, 1, 2, 5]) await page.getByTestId(`data-pick-${i}`).check();
    await waitText(page, 'data-picked', /^4 rows picked/, 5_000);
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-shape', /^4 × 2 \(8 rows\)$/);

    // The κ-vs-outcome study on these 4 rows, while the NTK tab holds the sign kernel: the worker
    // computes the plain kernel for it, each candidate gets its own step, and the report says so.
    await page.getByTestId('tab-layers').click();
    await page.getByTestId('layers-budget').fill('2');
    await page.getByTestId('layers-budget').dispatchEvent('change');
    await page.getByTestId('layers-run').click();
    await waitText(page, 'study-correlation', /n = \d+/, 180_000);
    const studyText = await page.locator('[data-testid="panel-layers"] ul.notes').textContent();
    assert.match(studyText, /Steps: GD with a step per candidate/);
    await screenshot(page, 'layers-study');
    // The same study added twice to the pooled scatter: every point twice, so the pooled
    // Pearson equals the study's and n doubles.
    await page.getByTestId('study-pool-add').click();
    await page.getByTestId('study-pool-add').click();
    await waitText(page, 'study-pooled-correlation', /^2 studies/, 5_000);
    const pearsonOf = (t) => Number(/train loss[^:]*: Pearson (-?[\d.e+-]+)/.exec(t)[1]);
    const nOf = (t) => Number(/train loss[^:]*: Pearson [^(]*\(n = (\d+)\)/.exec(t)[1]);
    const single = await text(page, 'study-correlation');
    const pooledText = await text(page, 'study-pooled-correlation');
    assert.equal(nOf(pooledText), 2 * nOf(single), pooledText);
    assert.ok(Math.abs(pearsonOf(pooledText) - pearsonOf(single)) <= 1e-3, `${pooledText} vs ${single}`);
    await screenshot(page, 'layers-pooled');
    // With the sign kernel the chosen blocks' chart shows singular values, not an error.
    assert.equal(await page.getByTestId('layers-set-error').count(), 0);
    assert.match(await text(page, 'layers-kappa'), /\d/);

    // 5. Learn tab and tour.
    await page.getByTestId('tab-learn').click();
    assert.ok(await page.getByTestId('tour-2').isVisible());
    await screenshot(page, 'learn-tab');
  } finally {
    await browser.close();
  }
});

test('Run in the sweep or the study with no NTK computes the NTK first; cancelling that wait runs nothing', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=4&sample=stratified&lambdas=0.1,1&steps=4`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-yelp/);

    // The study first: its Run starts the NTK and says so; Cancel stops the NTK and the study
    // never starts.
    await page.getByTestId('tab-layers').click();
    await page.getByTestId('layers-run').click();
    await waitText(page, 'study-waiting', /No NTK yet: computing it first/, 5_000);
    await page.getByTestId('study-ntk-cancel').click();
    await page.getByTestId('study-waiting').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.getByTestId('study-correlation').count(), 0);
    assert.ok(await page.getByTestId('layers-empty').isVisible(), 'no NTK after the cancel');

    // The sweep: Run computes the NTK of the setup's samples, its eval kernel, then sweeps.
    await page.getByTestId('tab-linearization').click();
    await page.getByTestId('sweep-run').click();
    await waitText(page, 'sweep-waiting', /No NTK yet: computing it first/, 5_000);
    await screenshot(page, 'sweep-waiting');
    await waitText(page, 'sweep-time', /^2 λ values × 4 steps/);
    assert.equal(await page.getByTestId('sweep-waiting').count(), 0);
    assert.equal(await page.getByTestId('sweep-input-error').count(), 0);
    await page.getByTestId('tab-ntk').click();
    assert.match(await text(page, 'ntk-shape'), /^4 × 2 \(8 rows\)$/);
  } finally {
    await browser.close();
  }
});

// Pin an NTK (layers 0–2), compute another (layers 3–5) and compare them; the pin survives a
// reload (address + local storage); a link opened in a fresh browser names the pinned setup
// and hands its settings back; the Learn tab links to the comparison.
test('pin an NTK and compare it with another setup, also after a reload', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=4&sample=first&layers=0,1,2`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-ntk').click();
    const compute = async () => {
      const before = await page.getByTestId('ntk-time').textContent().catch(() => '');
      await page.getByTestId('ntk-run').click();
      await page.waitForFunction((b) => {
        const t = document.querySelector('[data-testid="ntk-time"]')?.textContent ?? '';
        return t !== '' && t !== b;
      }, before, { timeout: 300_000 });
      return { kappa: await text(page, 'ntk-kappa'), rank: await text(page, 'ntk-eff-rank'), align: await text(page, 'ntk-alignment') };
    };
    const a = await compute();
    await page.getByTestId('ntk-pin').click();
    assert.match(page.url(), /[?&]pin=[^&]*layers%3D0,1,2%26/);
    assert.equal(await text(page, 'compare-pinned-kappa'), a.kappa);
    assert.equal(await text(page, 'compare-pinned-eff-rank'), a.rank);
    assert.equal(await text(page, 'compare-pinned-label'),
      'all-MiniLM-L6-v2 · LoRA r = 8 on query, value, layers 0, 1, 2 · the first 4 samples · plain kernel');

    // The other setup: layers 3–5, set in the Model tab.
    await page.getByTestId('tab-model').click();
    await page.getByTestId('lora-layers').fill('3,4,5');
    await page.getByTestId('lora-layers').dispatchEvent('change');
    await page.getByTestId('tab-ntk').click();
    const b = await compute();
    assert.notEqual(b.kappa, a.kappa);
    const columns = async () => ({
      pinned: { kappa: await text(page, 'compare-pinned-kappa'), rank: await text(page, 'compare-pinned-eff-rank'), align: await text(page, 'compare-pinned-alignment') },
      current: { kappa: await text(page, 'compare-current-kappa'), rank: await text(page, 'compare-current-eff-rank'), align: await text(page, 'compare-current-alignment') },
    });
    assert.deepEqual(await columns(), { pinned: a, current: b });
    assert.match(await text(page, 'compare-current-label'), /layers 3, 4, 5 · the first 4 samples/);
    // κ ratio as the page states it, from the two κ shown.
    const ratio = num(b.kappa) / num(a.kappa);
    const said = Number((await text(page, 'compare-kappa-ratio')).match(/κ is ([\d.e+-]+) times/)[1]);
    assert.ok(Math.abs(said - ratio) / ratio < 5e-3, `${said} vs ${ratio}`);
    // Block shares aligned: 12 blocks (6 layers × query, value), each setup's own in its column.
    const shares = await page.getByTestId('compare-shares').evaluate((t) =>
      [...t.querySelectorAll('tr[data-block]')].map((r) => [r.dataset.block, ...[...r.querySelectorAll('td')].map((d) => d.textContent)]));
    assert.equal(shares.length, 12, JSON.stringify(shares));
    for (const [block, pinned, current] of shares) {
      const layer = Number(block.split('.')[1]);
      assert.equal(pinned === '–', layer >= 3, `${block}: ${pinned}`);
      assert.equal(current === '–', layer < 3, `${block}: ${current}`);
    }
    const total = (col) => shares.map((r) => r[col]).filter((v) => v !== '–').reduce((s, v) => s + Number(v.replace('%', '')), 0);
    assert.ok(Math.abs(total(1) - 100) < 0.1 && Math.abs(total(2) - 100) < 0.1, `${total(1)} ${total(2)}`);
    await page.getByTestId('ntk-compare').screenshot({ path: path.join(here, 'artifacts', 'ntk-compare.png') });

    // After a reload the pin is still there; computing the current setup again compares again.
    const pinnedUrl = page.url();
    await page.reload();
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-ntk').click();
    assert.equal(await text(page, 'compare-pinned-kappa'), a.kappa);
    assert.equal(await text(page, 'compare-current-kappa'), '–');
    await compute();
    assert.deepEqual(await columns(), { pinned: a, current: b });

    // The Learn tab links to the comparison.
    await page.getByTestId('tab-learn').click();
    await page.getByTestId('learn-compare').click();
    assert.equal(await page.getByTestId('tab-ntk').getAttribute('aria-selected'), 'true');
    assert.ok(await page.getByTestId('ntk-compare').isVisible());

    // Unpin: the address and the pinned column forget it.
    await page.getByTestId('ntk-unpin').click();
    assert.doesNotMatch(page.url(), /[?&]pin=/);
    assert.equal(await text(page, 'compare-pinned-kappa'), '–');

    // The pinned link in a fresh browser (no local storage): it names the pinned setup, and
    // its settings can be taken back (layers 0–2), then computed and pinned again.
    const fresh = await openExplorer(browser, pinnedUrl);
    const p2 = fresh.page;
    await waitText(p2, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await p2.getByTestId('tab-ntk').click();
    await waitText(p2, 'compare-missing', /names a pinned NTK \(all-MiniLM-L6-v2 · LoRA r = 8 on query, value, layers 0, 1, 2 · the first 4 samples · plain kernel\)/, 10_000);
    await p2.getByTestId('compare-use-pinned').click();
    await p2.getByTestId('tab-model').click();
    assert.equal(await p2.getByTestId('lora-layers').inputValue(), '0,1,2');
  } finally {
    await browser.close();
  }
});

// STS-B-style sentence pairs with a similarity score: the page detects a regression task and
// its NTK (one output per sample) equals the CLI's on the same file.
const STS = [
  ['A man is playing a guitar.', 'A man plays the guitar.', 4.8],
  ['A woman is slicing an onion.', 'A man is driving a car.', 0.2],
  ['The cat sits on the mat.', 'A cat is sitting on a rug.', 3.6],
  ['Kids play in the park.', 'Children are playing outside.', 4.2],
  ['The stock market fell today.', 'A dog runs on the beach.', 0],
  ['He is cooking dinner.', 'A man prepares a meal.', 3.8],
  ['It is raining heavily.', 'The sun is shining.', 1.4],
  ['Two people are talking.', 'Two men converse.', 3.2],
];
const stsCsv = (rows) => 'sentence1,sentence2,score\n' +
  rows.map(([a, b, s]) => `"${a}","${b}",${s}`).join('\n') + '\n';
const STS_CSV = stsCsv(STS);

test('regression: a score column is a one-output task; page NTK equals the CLI', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=6&sample=first`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'sts.csv', mimeType: 'text/csv', buffer: Buffer.from(STS_CSV),
    });
    await waitText(page, 'data-status', /Active dataset: sts \(8 rows, regression on a score/);
    assert.equal(await page.getByTestId('data-task').inputValue(), 'regression');
    assert.match(await text(page, 'data-score-summary'), /column `score`.*from 0 to 4\.8, mean 2\.650/);
    // Told it is classification, the fractional scores are refused; the regression dataset stays.
    await page.getByTestId('data-task').selectOption('classification');
    // (As classes, "4.8" is a word and "0" on line 6 an integer: mixed kinds.)
    await waitText(page, 'data-error', /sts\.csv, line 6, column `score`: the label `0` is an integer/);
    await waitText(page, 'data-status', /Active dataset: sts \(8 rows, regression/);
    assert.equal(await page.getByTestId('data-task').inputValue(), 'regression');
    await screenshot(page, 'data-regression');

    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-kappa', /\d/);
    assert.equal(await text(page, 'ntk-shape'), '6 × 1 (6 rows)');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ntk-export-json').click()]);
    const outcome = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(outcome.report.task, 'regression');
    // The first 6 rows of the training split (the rest are held out for evaluation).
    const picked = outcome.rows.map((r) => STS[r]);
    assert.deepEqual(outcome.report.scores, picked.map((row) => row[2]));

    const cli = withCliModelDir((dir, model) => {
      fs.writeFileSync(path.join(dir, 'sts.csv'), stsCsv(picked));
      return JSON.parse(execFileSync(CLI, ['ntk', '--model', model, '--data', path.join(dir, 'sts.csv'),
        '--n', '6', '--rank', '8', '--alpha', '8', '--targets', 'query,value', '--seed', '0'],
      { maxBuffer: 1 << 26 }).toString());
    });
    assert.equal(cli.classes, 1);
    close(num(await text(page, 'ntk-lmax')), cli.lambda_max, 1e-4, 'λ_max');
    close(num(await text(page, 'ntk-kappa')), cli.condition_number, 1e-4, 'κ');
    close(outcome.report.alignment, cli.alignment, 1e-4, 'alignment with the scores');

    // The linearized model is scored by Pearson's r of output and score.
    await page.getByTestId('tab-linearization').click();
    await waitText(page, 'lin-train-acc', /\d/, 10_000);
    assert.match(await page.getByTestId('linear-point').textContent(), /train Pearson r/);
  } finally { await browser.close(); }
});
