// End-to-end tests of the Data and Model tabs: bundled and uploaded datasets, bad files, the
// model's parameter counts, LoRA controls, the setup in the address, and the offline hub message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launch, openExplorer, screenshot, waitText } from './harness.mjs';

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

/** The label → count map of the Data tab's label table. */
async function labelCounts(page) {
  const rows = page.getByTestId('data-label-row');
  const out = {};
  for (let i = 0; i < await rows.count(); i++) {
    const row = rows.nth(i);
    out[await row.getAttribute('data-label')] = Number(await row.getByTestId('data-label-count').textContent());
  }
  return out;
}

const SMALL_CSV = 'review,sentiment\n"Great food, friendly staff",good\nCold and late,bad\nLoved it,good\n' +
  'Never again,bad\nFine,good\n';

test('data tab: bundled dataset, upload, bad file keeps the previous dataset', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-yelp \(1,000 rows, 2 classes/);
    assert.deepEqual(await labelCounts(page), { negative: 500, positive: 500 });
    assert.match(await page.getByTestId('data-bundled-info').textContent(), /CC BY 4\.0.*Kotzias/);
    assert.match(await page.getByTestId('data-split').textContent(), /800 rows for training, 200 for evaluation/);
    assert.match(await page.getByTestId('data-limits').textContent(), /50 MB, 100,000 rows, 10,000 characters/);
    assert.ok(await page.getByTestId('data-length-histogram').isVisible());

    // Another bundled dataset.
    await page.getByTestId('data-bundled').selectOption('rotten-tomatoes');
    await waitText(page, 'data-status', /Active dataset: rotten-tomatoes/);
    const rt = await labelCounts(page);
    assert.deepEqual(Object.keys(rt).sort(), ['fresh', 'rotten']);
    assert.equal(rt.fresh + rt.rotten, 1000);

    // Upload: columns guessed (review, stars), preview and counts.
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(SMALL_CSV),
    });
    await waitText(page, 'data-status', /Active dataset: mine \(5 rows, 2 classes, from mine\.csv\)/);
    assert.deepEqual(await labelCounts(page), { bad: 2, good: 3 });
    const preview = await page.getByTestId('data-preview').textContent();
    assert.match(preview, /Great food, friendly staff/);
    assert.match(preview, /review \(text\)/);
    assert.match(preview, /sentiment \(label\)/);
    assert.match(page.url(), /data=upload:mine\.csv/);
    assert.match(page.url(), /text=review&label=sentiment/);
    await screenshot(page, 'data-upload');

    // A bad file: the quote on line 3 never closes. The message names line and field; the
    // previous dataset stays active.
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('text,label\nfine,a\n"never closed,b\nx,a\n'),
    });
    await waitText(page, 'data-error', /broken\.csv, line 3, field 1: the quote that opens this field never closes/);
    await waitText(page, 'data-status', /Active dataset: mine \(5 rows/);
    assert.deepEqual(await labelCounts(page), { bad: 2, good: 3 });
    assert.match(page.url(), /data=upload:mine\.csv/);

    // Columns that cannot be guessed: the user picks the label column.
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'stars.tsv', mimeType: 'text/tab-separated-values',
      buffer: Buffer.from('id\tbody\tstars\n1\tGood\t5\n2\tBad\t1\n3\tOk\t5\n'),
    });
    await waitText(page, 'data-error', /stars\.tsv: choose the text and label columns/);
    // Nothing guessed: first column as text, last as label until the user picks.
    await page.getByTestId('data-col-text').selectOption('body');
    await waitText(page, 'data-status', /Active dataset: stars \(3 rows, 2 classes/);
    assert.deepEqual(await labelCounts(page), { 1: 1, 5: 2 });
    assert.match(page.url(), /text=body&label=stars/);
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(SMALL_CSV),
    });
    await waitText(page, 'data-status', /Active dataset: mine \(5 rows/);

    // One class only, then non-UTF-8: the core's messages.
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'one.csv', mimeType: 'text/csv', buffer: Buffer.from('text,label\nhi,1\nho,1\n'),
    });
    await waitText(page, 'data-error', /one\.csv, column `label`: all 2 rows have the label `1`; expected at least two classes/);
    await page.getByTestId('data-file-input').setInputFiles({
      name: 'latin.csv', mimeType: 'text/csv', buffer: Buffer.from([0x74, 0x65, 0x78, 0x74, 0x2c, 0x6c, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x2c, 0x31, 0x0a]),
    });
    await waitText(page, 'data-error', /latin\.csv, line 2: the byte at offset 10 is not valid UTF-8/);
    assert.deepEqual(await labelCounts(page), { bad: 2, good: 3 });
    await screenshot(page, 'data-bad-file');
  } finally { await browser.close(); }
});

test('model tab: MiniLM loads by itself with its parameter counts; LoRA controls update them', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    assert.equal((await page.getByTestId('model-params-total').textContent()).trim(), '22,713,216 (22.7M)');
    assert.equal(await page.getByTestId('model-layers').textContent(), '6');
    assert.equal(await page.getByTestId('model-hidden').textContent(), '384');
    assert.equal(await page.getByTestId('model-heads').textContent(), '12');
    assert.equal(await page.getByTestId('model-intermediate').textContent(), '1536');
    // r·(in+out) per adapted matrix: 6 layers · 2 modules · 8 · (384 + 384).
    assert.equal(await page.getByTestId('model-params-lora').textContent(), String(6 * 2 * 8 * (384 + 384)).replace(/\B(?=(\d{3})+$)/g, ','));
    // Mean-pool head for 2 classes: 2·384 + 2.
    assert.equal(await page.getByTestId('model-params-head').textContent(), '770');
    await page.getByTestId('lora-rank').fill('4');
    await page.getByTestId('lora-rank').press('Enter');
    await page.getByTestId('lora-target-intermediate').check();
    // 6 · 4 · (2·768 + (384 + 1536)) = 82,944
    await waitText(page, 'model-params-lora', /^82,944$/, 10_000);
    assert.match(page.url(), /r=4/);
    assert.match(page.url(), /targets=query,value,intermediate/);
    await screenshot(page, 'model-tab');
  } finally { await browser.close(); }
});

test('the setup in the address is restored; bad values are reported, not fatal', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu&r=2&layers=0,1&n=zero&data=uci-imdb`);
    await waitText(page, 'setup-warnings', /n=zero/);
    await waitText(page, 'model-params-lora', /^6,144$/); // 2 layers · 2 · 2 · 768
    assert.equal(await page.getByTestId('lora-layers').inputValue(), '0,1');
    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-imdb/);
    assert.match(page.url(), /backend=cpu/);
  } finally { await browser.close(); }
});

test('distilroberta from the hub: config.json is read first; offline gives a clear message and MiniLM stays', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    // Offline, whatever the test machine's network: every request to the hub fails (where
    // Playwright sees the worker's requests; this machine has no network anyway).
    const asked = [];
    await page.context().route('https://huggingface.co/**', (route) => { asked.push(route.request().url()); return route.abort('internetdisconnected'); });
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    // The form starts at the design's model, pinned.
    assert.equal(await page.getByTestId('model-hub-repo').inputValue(), 'distilbert/distilroberta-base');
    assert.equal(await page.getByTestId('model-hub-revision').inputValue(), 'fb53ab8802853c8e4fbdbcd0529f21fc6f459b2b');
    await page.getByTestId('model-hub-check').click();
    await waitText(page, 'model-hub-probe-error', /Could not reach https:\/\/huggingface\.co .*offline, or the hub is blocked/i, 60_000);
    assert.ok(asked.every((u) => u.endsWith('/fb53ab8802853c8e4fbdbcd0529f21fc6f459b2b/config.json')),
      `only config.json is asked for before the user agrees: ${asked.join(', ')}`);
    assert.equal(await page.getByTestId('model-hub-download').count(), 0, 'nothing to download');
    assert.equal(await page.getByTestId('model-name').textContent(), 'all-MiniLM-L6-v2');
    assert.equal((await page.getByTestId('model-params-total').textContent()).trim(), '22,713,216 (22.7M)');
    assert.match(page.url(), /model=minilm/);
    await screenshot(page, 'model-hub-offline');
  } finally { await browser.close(); }
});
