// A RoBERTa end to end in the page, without network: the tiny RobertaForSequenceClassification
// that transformers wrote (tests/fixtures/models/roberta_cls: byte-level BPE, non-identity
// LayerNorms, positions from padding_idx + 1) is served by a local hub mirror on 127.0.0.1 and
// loaded through ?hub=…&model=hub:<repo>@<rev>. With the PEFT adapter the torch.func fixture was
// computed at, the page's NTK equals the fixture and the CLI; a short sweep, the layer grid and
// the adapter export work on it; the same files dropped in give the same numbers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveDist, launch, openExplorer, screenshot, num, waitText, text } from './harness.mjs';
import { hubMirror } from './roberta_sized.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const CLI = process.env.NTK_LENS_CLI
  || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug/ntk-lens');
const FIXTURES = path.join(ROOT, 'tests/fixtures');
const MODEL = path.join(FIXTURES, 'models/roberta_cls');
const ADAPTER = path.join(FIXTURES, 'adapters/roberta_cls_qv');
const REPO = 'tiny-org/roberta-cls';
const REV = 'fixture-v1';

let server;
let mirror;
/** The revision of distilroberta-base the page pins (src/protocol/hub.rs). */
const DISTILROBERTA_REV = 'fb53ab8802853c8e4fbdbcd0529f21fc6f459b2b';
before(async () => { server = await serveDist(); mirror = await hubMirror(MODEL, REPO, REV); });
after(async () => { await server?.close(); mirror?.close(); });

/** The float32 tensors of a safetensors file, by name: { shape, data }. */
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || t.dtype !== 'F32') continue;
    const [a, b] = t.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    out[name] = { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
  }
  return out;
}

/** The entries of a zip with stored (uncompressed) entries, by name, from its central directory. */
function unzipStored(buf) {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'a zip archive');
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const files = {};
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    assert.equal(buf.readUInt16LE(at + 10), 0, 'stored, not compressed');
    const size = buf.readUInt32LE(at + 20);
    const [nameLen, extraLen, commentLen] = [28, 30, 32].map((o) => buf.readUInt16LE(at + o));
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const data = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    files[name] = buf.subarray(data, data + size);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

// Texts 0–4 of the fixtures (the NTK fixture's samples), then three more so that the split has
// rows of both classes to hold out. The NTK takes rows 0–4 (?rows=0,1,2,3,4).
const TEXTS = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'models/texts.json'), 'utf8')).texts
  .slice(0, 5).map((t) => t.text);
const ROWS = [...TEXTS, 'A quiet evening.', 'The dog barked twice.', 'Nothing happened today.']
  .map((t, i) => [t, i % 2 ? 'pos' : 'neg']);
const CSV = 'text,label\n' + ROWS.map(([t, l]) => `"${t}",${l}`).join('\n') + '\n';

/** Attaches the fixture's PEFT adapter (the torch.func NTK was computed at it). */
async function attachAdapter(page) {
  await page.getByTestId('tab-model').click();
  await page.getByTestId('adapter-file-input').setInputFiles(
    ['adapter_config.json', 'adapter_model.safetensors'].map((f) => path.join(ADAPTER, f)));
  await waitText(page, 'adapter-status', /^Attached adapter_config\.json: r = 4, α = 8 \(scale 2\), query, value in layers 0, 1: 1,024 parameters, with its own head\.$/);
}

async function computeNtk(page) {
  await page.getByTestId('tab-ntk').click();
  await page.getByTestId('ntk-run').click();
  await waitText(page, 'ntk-kappa', /\d/);
  assert.equal(await text(page, 'ntk-shape'), '5 × 2 (10 rows)');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ntk-export-json').click()]);
  return JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
}

test('RoBERTa from a local hub mirror: counts before the download, NTK = torch.func = CLI, sweep, layers, the paper-recipe study = CLI, adapter export, dropped files', async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ntk-lens-roberta-'));
  const browser = await launch([]);
  try {
    const query = `backend=cpu&hub=${mirror.url}&model=hub:${REPO}@${REV}&rows=0,1,2,3,4&r=4&alpha=8&targets=query,value`;
    const { page } = await openExplorer(browser, `${server.url}?${query}`);
    // MiniLM stands in; the linked repository's config.json is read and the size asked first.
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await waitText(page, 'model-hub-params', /\d/);
    const counts = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'models/counts.json'), 'utf8')).roberta_cls;
    assert.equal(await text(page, 'model-hub-params'), `31,970 (31,970)`);
    assert.equal(counts.num_parameters, 31_970, 'transformers counts the same');
    const fixtureNtk = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'ntk/roberta_cls_qv/ntk.json'), 'utf8'));
    assert.equal(await text(page, 'model-hub-lora'), fixtureNtk.param_count_total.toLocaleString('en-US'));
    const bytes = ['config.json', 'model.safetensors', 'tokenizer.json']
      .reduce((s, f) => s + fs.statSync(path.join(MODEL, f)).size, 0);
    assert.equal(await text(page, 'model-hub-size'), `${(bytes / 1e6).toFixed(1)} MB to download`);
    assert.match(await text(page, 'model-hub-about'), /RoBERTa family \(RobertaForSequenceClassification\), 2 layers, hidden size 32, 4 heads/);
    assert.match(await text(page, 'model-hub-endpoint'), new RegExp(`Hub: ${mirror.url} \\(a mirror`));
    assert.ok(!mirror.requests.some((r) => r.startsWith('GET') && r.endsWith('model.safetensors')),
      `no weights before the user agrees: ${mirror.requests.join(', ')}`);
    await screenshot(page, 'model-hub-probe');

    await page.getByTestId('model-hub-download').click();
    await waitText(page, 'model-status', /Loaded roberta-cls \(model\.safetensors/);
    assert.equal(await text(page, 'model-family'), 'RoBERTa family');
    assert.equal(await text(page, 'model-layers'), '2');
    assert.equal(await text(page, 'model-origin'), `${mirror.url}/${REPO}/resolve/${REV}/`);
    // After loading: the encoder and its head, as transformers counts them.
    assert.equal(num((await text(page, 'model-params-total')).split(' ')[0].replaceAll(',', '')), counts.num_parameters_encoder);
    assert.equal(num((await text(page, 'model-params-head')).replaceAll(',', '')), counts.head);
    await page.waitForFunction((k) => decodeURIComponent(location.search).includes(`model=hub:${k}`), `${REPO}@${REV}`, { timeout: 5_000 });

    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-file-input').setInputFiles({ name: 'tiny.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await waitText(page, 'data-status', /Active dataset: tiny \(8 rows/);
    await attachAdapter(page);

    // The NTK against torch.func (float64 reference stored as f32; the page computes in f32):
    // every entry within 1e-4 of the kernel's largest entry, eigenvalues within 1e-4 relative
    // to the largest.
    const outcome = await computeNtk(page);
    const ref = readSafetensors(path.join(FIXTURES, 'ntk/roberta_cls_qv/ntk.safetensors'));
    const K = ref.kernel_full.data;
    const scale = Math.max(...K.map(Math.abs));
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        const [a, b] = [outcome.report.kernel[i][j], K[i * 10 + j]];
        assert.ok(Math.abs(a - b) <= 1e-4 * scale, `K[${i}][${j}]: page ${a} vs torch.func ${b}`);
      }
    }
    fixtureNtk.eigenvalues_full.forEach((e, i) => assert.ok(Math.abs(outcome.report.eigenvalues[i] - e) <= 1e-4 * fixtureNtk.eigenvalues_full[0],
      `eigenvalue ${i}: page ${outcome.report.eigenvalues[i]} vs torch.func ${e}`));
    assert.match(await text(page, 'ntk-notes'), /LoRA from the attached adapter adapter_config\.json/);
    assert.match(await text(page, 'ntk-notes'), /Memory: about \d+ MB \(weights 0 MB, one chunk's activations \d+ MB/);
    // The heatmap is ordered by output class, then label: its top-left block is output `neg` of
    // the `neg` samples, and the cell under the pointer names both sides and shows their K.
    const box = await page.getByTestId('ntk-heatmap').boundingBox();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25);
    await waitText(page, 'ntk-heatmap-hover', /^K = /, 5_000);
    const hover = await text(page, 'ntk-heatmap-hover');
    const m = /^K = ([-\d.e+]+): sample (\d) “[^”]+” \(label neg, output neg\) × sample (\d) “[^”]+” \(label neg, output neg\)$/.exec(hover);
    assert.ok(m, hover);
    const k = outcome.report.kernel[2 * Number(m[2])][2 * Number(m[3])];
    assert.ok(Math.abs(Number(m[1]) - k) <= 1e-3 * Math.abs(k), `${hover} vs K = ${k}`);
    assert.equal(ROWS[Number(m[2])][1], 'neg');
    await page.getByTestId('ntk-heatmap-order').selectOption('sample');

    // The CLI on the same files and rows.
    const data = path.join(scratch, 'tiny.csv');
    fs.writeFileSync(data, CSV);
    const cli = JSON.parse(execFileSync(CLI, ['ntk', '--model', MODEL, '--adapter', ADAPTER, '--data', data,
      '--sample', 'picked', '--rows', '0,1,2,3,4'], { maxBuffer: 1 << 26 }).toString());
    const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${what}: page ${a} vs CLI ${b}`);
    close(num(await text(page, 'ntk-lmax')), cli.lambda_max, 'λ_max');
    close(num(await text(page, 'ntk-kappa')), cli.condition_number, 'κ');
    close(outcome.report.alignment, cli.alignment, 'alignment');
    await screenshot(page, 'roberta-ntk');

    // A short sweep trains from the adapter's weights; its model exports as a PEFT adapter with
    // RoBERTa's keys, which the CLI loads.
    await page.getByTestId('tab-linearization').click();
    await page.getByTestId('sweep-lambdas').fill('0.1,10');
    await page.getByTestId('sweep-lambdas').dispatchEvent('change');
    await page.getByTestId('sweep-steps').fill('3');
    await page.getByTestId('sweep-steps').dispatchEvent('change');
    await page.getByTestId('sweep-run').click();
    await waitText(page, 'sweep-time', /2 λ values × 3 steps/);
    const g0 = num(await text(page, 'sweep-gap-0'));
    const g1 = num(await text(page, 'sweep-gap-1'));
    assert.ok(g1 <= g0, `the gap does not grow with λ: ${g0} → ${g1}`);
    // Training along the eigen-directions: the linearized curve is the closed form from the
    // report's own numbers; the actual fractions are there; the slider steps through the run.
    const [sweepDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-export-json').click()]);
    const sweepJson = JSON.parse(fs.readFileSync(await sweepDl.path(), 'utf8'));
    const sweepReport = sweepJson.report ?? sweepJson;
    for (const p of sweepReport.results) {
      const r = p.residual_by_eigen;
      assert.ok(r, 'residual_by_eigen per λ');
      assert.equal(r.steps, 3);
      r.eigenvalues.forEach((mu, i) => {
        const want = p.lambda / (mu + p.lambda) + mu / (mu + p.lambda) * (1 - r.lr * (mu + p.lambda)) ** 3;
        assert.ok(Math.abs(r.linear[i] - want) <= 1e-12, `λ ${p.lambda} mode ${i}: ${r.linear[i]} vs ${want}`);
      });
      assert.ok(r.actual.filter((a) => a !== null).length >= 5);
    }
    assert.ok(await page.getByTestId('sweep-eigen-chart').isVisible());
    assert.equal(await text(page, 'sweep-eigen-step-value'), '3 of 3');
    await page.getByTestId('sweep-eigen-step').fill('1');
    await waitText(page, 'sweep-eigen-step-value', /^1 of 3$/, 5_000);
    await screenshot(page, 'roberta-eigen');
    const [zipDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-adapter-1').click()]);
    const files = unzipStored(fs.readFileSync(await zipDl.path()));
    const exported = path.join(scratch, 'exported');
    fs.mkdirSync(exported);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(exported, name), content);
    const keys = Object.keys(readSafetensors(path.join(exported, 'adapter_model.safetensors')));
    assert.ok(keys.includes('base_model.model.roberta.encoder.layer.1.attention.self.value.lora_B.weight'), keys.join(', '));
    const reloaded = JSON.parse(execFileSync(CLI, ['ntk', '--model', MODEL, '--adapter', exported, '--data', data,
      '--sample', 'picked', '--rows', '0,1,2,3,4'], { maxBuffer: 1 << 26 }).toString());
    assert.equal(reloaded.classes, 2);
    assert.notEqual(reloaded.lambda_max, cli.lambda_max, 'the exported adapter is the trained one');

    // The layer grid comes from the model: 2 layers × the adapted query and value.
    await page.getByTestId('tab-layers').click();
    await waitText(page, 'layers-count', /^4$/, 10_000);
    assert.equal(await page.getByTestId('block-1-value').count(), 1);
    assert.equal(await page.getByTestId('block-2-query').count(), 0);
    await page.getByTestId('block-0-query').click();
    await waitText(page, 'layers-count', /^3$/, 5_000);

    // All four blocks again: the user's set is then the "all" candidate, as in the CLI.
    await page.getByTestId('block-0-query').click();
    await waitText(page, 'layers-count', /^4$/, 5_000);
    // The κ study with the paper's recipe (Adam at 4e-3, minibatches of 8, 10 epochs with
    // warm-up, the head trained, the epoch with the lowest eval loss) on the adapter's model:
    // every candidate the CLI also makes has the page's blocks, κ, losses and best epoch.
    await page.getByTestId('layers-recipe').selectOption('paper');
    await page.getByTestId('layers-budget').fill('2');
    await page.getByTestId('layers-budget').dispatchEvent('change');
    await page.getByTestId('layers-run').click();
    await waitText(page, 'study-correlation', /n = \d+/, 180_000);
    const [studyDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('study-export-json').click()]);
    const study = JSON.parse(fs.readFileSync(await studyDl.path(), 'utf8'));
    assert.equal(study.config.recipe, 'paper');
    const evalCsv = path.join(scratch, 'eval.csv');
    fs.writeFileSync(evalCsv, 'text,label\n' + outcome.eval_rows.map((r) => `"${ROWS[r][0]}",${ROWS[r][1]}`).join('\n') + '\n');
    const cliStudy = JSON.parse(execFileSync(CLI, ['select', '--model', MODEL, '--adapter', ADAPTER, '--data', data,
      '--sample', 'picked', '--rows', '0,1,2,3,4', '--train', '--budget', '2', '--recipe', 'paper', '--lambda', '0.01',
      '--eval', evalCsv, '--eval-n', String(outcome.eval_rows.length)], { maxBuffer: 1 << 26 }).toString());
    let matched = 0;
    for (const c of cliStudy.candidates) {
      const p = study.candidates.find((q) => q.label === c.label && q.blocks.join() === c.blocks.join());
      if (!p) continue;
      matched++;
      const what = `${c.label} ${c.blocks.join('+')}`;
      close(p.kappa, c.kappa, `${what}: κ`);
      assert.ok(Math.abs(p.train_loss - c.train_loss) <= 1e-3 * Math.abs(c.train_loss), `${what}: train loss page ${p.train_loss} vs CLI ${c.train_loss}`);
      assert.equal(p.best_epoch, c.best_epoch, `${what}: best epoch`);
      assert.equal(p.eval_quality.accuracy, c.eval_quality.accuracy, `${what}: eval accuracy`);
    }
    assert.equal(matched, cliStudy.candidates.length, 'the page has every candidate of the CLI');
    assert.equal(study.candidates.length, cliStudy.candidates.length, 'and no other');
    // Pooled: the page's study added twice, and the CLI's study of the same file given twice.
    await page.getByTestId('study-pool-add').click();
    await page.getByTestId('study-pool-add').click();
    await waitText(page, 'study-pooled-correlation', /^2 studies/, 5_000);
    const [pooledDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('study-pooled-export').click()]);
    const pooled = JSON.parse(fs.readFileSync(await pooledDl.path(), 'utf8'));
    const cliPooled = JSON.parse(execFileSync(CLI, ['select', '--model', MODEL, '--adapter', ADAPTER,
      '--data', data, '--data', data, '--eval', evalCsv, '--eval', evalCsv, '--eval-n', String(outcome.eval_rows.length),
      '--sample', 'picked', '--rows', '0,1,2,3,4', '--train', '--budget', '2', '--recipe', 'paper', '--lambda', '0.01'],
    { maxBuffer: 1 << 26 }).toString());
    assert.equal(pooled.kappa_vs_loss.n, cliPooled.kappa_vs_loss.n);
    assert.equal(pooled.kappa_vs_loss.n, 2 * cliStudy.candidates.length);
    for (const k of ['pearson', 'spearman']) {
      assert.ok(Math.abs(pooled.kappa_vs_loss[k] - cliPooled.kappa_vs_loss[k]) <= 1e-3,
        `pooled ${k}: page ${pooled.kappa_vs_loss[k]} vs CLI ${cliPooled.kappa_vs_loss[k]}`);
    }

    // The same checkpoint as dropped files, with the same adapter: the same kernel.
    await page.getByTestId('tab-model').click();
    await page.getByTestId('model-file-input').setInputFiles(
      ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => path.join(MODEL, f)));
    await waitText(page, 'model-status', /Loaded dropped model/);
    assert.equal(await text(page, 'adapter-status'), 'No adapter: fresh LoRA from the settings below.');
    await attachAdapter(page);
    const dropped = await computeNtk(page);
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        assert.ok(Math.abs(dropped.report.kernel[i][j] - outcome.report.kernel[i][j]) <= 1e-6 * scale, `dropped K[${i}][${j}]`);
      }
    }
    // Taking the adapter off brings the settings' fresh LoRA back (B = 0: only B's kernel).
    await page.getByTestId('tab-model').click();
    await page.getByTestId('adapter-remove').click();
    await waitText(page, 'adapter-status', /^No adapter/);
    const fresh = await computeNtk(page);
    assert.match(await text(page, 'ntk-notes'), /only the B matrices contribute/);
    assert.notEqual(fresh.report.lambda_max, dropped.report.lambda_max);
    assert.deepEqual(page.logs.filter((l) => l.startsWith('[pageerror]')), []);
  } finally {
    await browser.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('hub problems are messages: an unsupported model_type, a missing repository, a bad endpoint', async () => {
  const browser = await launch([]);
  const other = http.createServer((req, res) => {
    const cors = { 'access-control-allow-origin': '*' };
    // distilroberta-base's config.json as the hub serves it at the pinned revision (the
    // values of its model card); no weights.
    if (req.url === `/distilbert/distilroberta-base/resolve/${DISTILROBERTA_REV}/config.json`) {
      return res.writeHead(200, cors).end(JSON.stringify({
        architectures: ['RobertaForMaskedLM'], model_type: 'roberta', vocab_size: 50265,
        hidden_size: 768, num_hidden_layers: 6, num_attention_heads: 12, intermediate_size: 3072,
        hidden_act: 'gelu', max_position_embeddings: 514, type_vocab_size: 1, layer_norm_eps: 1e-5,
        pad_token_id: 1, bos_token_id: 0, eos_token_id: 2,
      }));
    }
    // Its weights and tokenizer exist (HEAD), with no size stated.
    if (req.method === 'HEAD' && req.url.startsWith(`/distilbert/distilroberta-base/resolve/${DISTILROBERTA_REV}/`)) {
      return res.writeHead(200, { ...cors, 'transfer-encoding': 'chunked' }).end();
    }
    if (req.url.startsWith('/gpt/tiny/resolve/main/config.json')) {
      return res.writeHead(200, cors).end('{"model_type":"gpt2","n_layer":2}');
    }
    // A RoBERTa whose weights file breaks off in the middle of a tensor.
    const broken = req.url.match(/^\/tiny\/broken\/resolve\/main\/(config\.json|tokenizer\.json|model\.safetensors)$/);
    if (broken) {
      let body = fs.readFileSync(path.join(MODEL, broken[1]));
      if (broken[1] === 'model.safetensors') body = body.subarray(0, body.length - 1000);
      res.writeHead(200, { ...cors, 'content-length': body.length });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    res.writeHead(404, cors).end();
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${other.address().port}`;
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&hub=${url}&model=hub:gpt/tiny`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await waitText(page, 'model-hub-probe-error', /gpt\/tiny: model_type `gpt2` is not supported; this tool runs BERT- and RoBERTa-family encoders/);
    await page.getByTestId('model-hub-repo').fill('nobody/nothing');
    await page.getByTestId('model-hub-repo').dispatchEvent('change');
    await page.getByTestId('model-hub-check').click();
    await waitText(page, 'model-hub-probe-error', /nobody\/nothing\/resolve\/main\/config\.json: not found; check the repository id and the revision/);
    await page.getByTestId('model-hub-repo').fill('../etc');
    await page.getByTestId('model-hub-repo').dispatchEvent('change');
    await page.getByTestId('model-hub-check').click();
    await waitText(page, 'model-hub-input-error', /repository `\.\.\/etc`: expected owner\/name/);
    assert.equal(await text(page, 'model-name'), 'all-MiniLM-L6-v2');
    await screenshot(page, 'model-hub-unsupported');
    // The design's model is one click from the Encoder row: its config.json is read from the
    // hub at the pinned revision, and the counts and the size are shown before any download.
    assert.equal(await text(page, 'model-load-distilroberta'), 'distilroberta-base (from the hub)');
    await page.getByTestId('model-load-distilroberta').click();
    await waitText(page, 'model-hub-about', new RegExp(`^distilbert/distilroberta-base at ${DISTILROBERTA_REV.slice(0, 7)}.*RoBERTa family .*6 layers, hidden size 768, 12 heads`));
    assert.equal(await text(page, 'model-hub-params'), '81,527,808 (81.5M)');
    assert.match(await text(page, 'model-hub-size'), /^about 3\d\d MB to download/);
    await page.getByTestId('model-hub-cancel').click();
    // Weights that end early: decoded as they arrive, the error names the file and the tensor;
    // the model loaded before stays.
    await page.getByTestId('model-hub-repo').fill('tiny/broken');
    await page.getByTestId('model-hub-repo').dispatchEvent('change');
    await page.getByTestId('model-hub-check').click();
    await page.getByTestId('model-hub-download').click();
    await waitText(page, 'model-error', /model\.safetensors.*ended inside tensor `[^`]+` \(\d+ of \d+ bytes\)/);
    assert.equal(await text(page, 'model-name'), 'all-MiniLM-L6-v2');
    const bad = await openExplorer(browser, `${server.url}?backend=cpu&hub=file:///etc`);
    await waitText(bad.page, 'setup-warnings', /hub `file:\/\/\/etc`: expected an http\(s\) URL/);
    assert.match(await text(bad.page, 'model-hub-endpoint'), /^Hub: https:\/\/huggingface\.co\./);
  } finally {
    await browser.close();
    other.close();
  }
});

test('an NTK past the tab\'s memory budget is refused before it starts, saying what it needs', async () => {
  const browser = await launch([]);
  try {
    // 800 Yelp sentences with LoRA on all six modules: the per-sample gradients alone take 2.1 GB.
    const { page } = await openExplorer(browser,
      `${server.url}?backend=cpu&n=800&sample=first&targets=query,key,value,attn_out,intermediate,output`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-yelp/);
    await page.getByTestId('tab-ntk').click();
    const started = Date.now();
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-message', /needs about \d+ MB \(weights 9\d MB, .*gradients 2\d\d\d MB, .*\), more than the 2\.1 GB budget; choose fewer samples/, 60_000);
    assert.ok(Date.now() - started < 30_000, 'refused before computing');
    // The page lives on: a small NTK runs next.
    await page.getByTestId('ntk-n').fill('4');
    await page.getByTestId('ntk-n').dispatchEvent('change');
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-kappa', /\d/);
    assert.match(await text(page, 'ntk-notes'), /Memory: about \d+ MB/);
  } finally { await browser.close(); }
});
