// The facts that the tab introductions (src/page/views/mod.rs), the Model tab (model/), the NTK
// tab (ntk/) and its comparison panel (ntk/compare/) state, checked on the page's defaults in one
// page load (docs/claims.md names the assertion for each sentence): all-MiniLM-L6-v2 bundled,
// uci-yelp, n = 32 stratified, LoRA r = 8, α = 8 on query and value, plain kernel, full layout,
// LoRA only (head frozen). CPU backend (?backend=cpu), as the other analyses tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launch, openExplorer, screenshot, num, waitText as waitTextWithin, text, rowLabel, assertClose, chartSvg } from './harness.mjs';

/** The NTK of 32 samples takes minutes on 2 cores: wait up to 5 minutes unless told. */
const waitText = (page, id, re, timeout = 300_000) => waitTextWithin(page, id, re, timeout);

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });


/** A count shown with thousands separators ("73,728"), as a number. */
const count = (t) => num(t.replaceAll(',', ''));

const close = assertClose;

// "K = v: sample i “text” (label L, output O) × sample j “text” (label L, output O)"
const HOVER = /^K = (\S+): sample (\d+) “.*?” \(label (.+?), output (.+?)\) × sample (\d+) “.*?” \(label (.+?), output (.+?)\)$/s;

/** Points at heatmap cell (r, c) (display order) and returns what the hover line says of it. */
async function hoverCell(page, r, c) {
  const canvas = page.getByTestId('ntk-heatmap');
  const [gx, gy, gw, gh, n] = (await canvas.getAttribute('data-heatmap-grid')).split(',').map(Number);
  const box = await canvas.boundingBox();
  const before = await text(page, 'ntk-heatmap-hover');
  await page.mouse.move(box.x + gx + (c + 0.5) * gw / n, box.y + gy + (r + 0.5) * gh / n);
  // Every cell names another pair of (sample, output): wait for the line to change.
  await page.waitForFunction(
    (prev) => {
      const t = document.querySelector('[data-testid="ntk-heatmap-hover"]')?.textContent ?? '';
      return t.startsWith('K = ') && t !== prev;
    },
    before, { timeout: 5_000 },
  );
  const line = await text(page, 'ntk-heatmap-hover');
  const m = HOVER.exec(line);
  assert.ok(m, `hover line of cell (${r}, ${c}): ${line}`);
  return {
    k: num(m[1]),
    row: { sample: Number(m[2]), label: m[3], output: m[4] },
    col: { sample: Number(m[5]), label: m[6], output: m[7] },
  };
}

test('claims of the intros, Model, NTK and Compare views hold on the defaults', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/);
    await page.getByTestId('tab-model').click();

    // Model tab (MOD9, MOD10, MOD16, G4): 12 adapted matrices, r·(in + out) = 8·768 each; the
    // head's 770 parameters are counted apart and only trained if the head is.
    const lora = count(await text(page, 'model-params-lora'));
    assert.equal(lora, 12 * 8 * (384 + 384));
    assert.equal(count(await text(page, 'model-params-head')), 770);
    assert.equal(count(await text(page, 'model-params-trainable')), lora + 770);
    assert.equal(await rowLabel(page, 'model-params-trainable'), 'LoRA + head (if the head is trained)');
    assert.ok(await page.getByText('12 matrices here, scale α/r = 1.').isVisible());

    // Self-check (G5): a least-squares fit whose result is known in closed form; the backend agrees.
    assert.equal(await page.getByTestId('selfcheck-steps').inputValue(), '200');
    await page.getByTestId('selfcheck-run').click();
    await waitText(page, 'selfcheck-verdict', /closed form/, 120_000);
    assert.equal(await text(page, 'selfcheck-verdict'), "The backend's results agree with the closed form.");
    const loss = num(await text(page, 'selfcheck-loss'));
    const predicted = num(await text(page, 'selfcheck-predicted'));
    close(loss, predicted, 1e-2, 'self-check loss against the closed form');
    assert.ok(num(await text(page, 'selfcheck-grad-error')) < 1e-4);

    await page.getByTestId('tab-data').click();
    await waitText(page, 'data-status', /Active dataset: uci-yelp/);

    // NTK tab: the defaults, then Compute.
    await page.getByTestId('tab-ntk').click();
    assert.equal(await page.getByTestId('ntk-n').inputValue(), '32');
    assert.equal(await page.getByTestId('ntk-sample').inputValue(), 'stratified');
    assert.equal(await page.getByTestId('ntk-kernel').inputValue(), 'plain');
    assert.equal(await page.getByTestId('ntk-layout').inputValue(), 'full');
    assert.equal(await page.getByTestId('ntk-params').inputValue(), 'lora');
    await page.getByTestId('ntk-run').click();
    await waitText(page, 'ntk-kappa', /\d/);

    // Shape and parameters (NTK3; MOD9, G4: the Jacobian, and so what the λ sweep trains, is
    // LoRA's A and B alone: no head).
    assert.equal(await text(page, 'ntk-shape'), '32 × 2 (64 rows)');
    assert.equal(num(await text(page, 'ntk-params-count')), lora);
    const notes = await text(page, 'ntk-notes');
    assert.match(notes, /a new \w+ head for 2 classes was initialised from seed 0 \(frozen unless the head is trained\)/);
    // B starts at zero, so only the B matrices contribute (NTK15, G15 "B starts at zero").
    assert.match(notes, /PEFT initialisation \(B = 0\)/);
    assert.match(notes, /only the B matrices contribute to the NTK/);

    // μ for eigenvalues (NTK4, NTK5): labels, and κ = μ_max / μ_min.
    assert.equal(await rowLabel(page, 'ntk-kappa'), 'condition number κ = μ_max / μ_min');
    assert.equal(await rowLabel(page, 'ntk-lmax'), 'largest eigenvalue μ_max');
    assert.equal(await rowLabel(page, 'ntk-lmin'), 'smallest eigenvalue μ_min');
    const labels = await page.getByTestId('ntk-summary').locator('th').allTextContents();
    assert.ok(labels.every((l) => !l.includes('λ')), `no λ for an eigenvalue: ${labels.join(' | ')}`);
    const kappa = num(await text(page, 'ntk-kappa'));
    const muMax = num(await text(page, 'ntk-lmax'));
    const muMin = num(await text(page, 'ntk-lmin'));
    close(kappa, muMax / muMin, 1e-4, 'κ = μ_max / μ_min');
    assert.ok(muMin > 0 && kappa > 100, `κ = ${kappa} on the defaults (docs: 277.8)`);
    console.log(`defaults: κ = ${kappa}, μ_max = ${muMax}, μ_min = ${muMin}`);
    // NTK16–NTK18: the charts' titles, axes and legends as the page draws them.
    const charts = {
      'ntk-heatmap': ['NTK (64 × 64, by output class, then label)'],
      'ntk-spectrum': ['Spectrum (κ = ', 'index (descending)', 'eigenvalue'],
      'ntk-blocks': ['Contribution of each block (share of tr K)', 'share of trace'],
    };
    for (const [id, words] of Object.entries(charts)) {
      const svg = await chartSvg(page, id);
      for (const w of words) assert.ok(svg.includes(w), `${id}: "${w}" not in the SVG`);
    }

    // NTK7: the pace sentence quotes the κ shown; with the default grid's λ the spread
    // (μ_max + λ)/(μ_min + λ) is smaller than κ.
    const explain = await text(page, 'ntk-explain');
    const quoted = /removes κ = (\S+) times less per step than along that of μ_max/.exec(explain);
    assert.ok(quoted, explain);
    close(num(quoted[1]), kappa, 1e-3, 'κ quoted in the explanation');
    const effRank = num(await text(page, 'ntk-eff-rank'));
    assert.ok(effRank >= 1 && effRank <= 64, `effective rank ${effRank}`);

    // The heatmap (NTK10–NTK12), in its default order: by output class, then label.
    assert.equal(await page.getByTestId('ntk-heatmap-order').inputValue(), 'output');
    await waitText(page, 'ntk-heatmap-hover', /^Point at a cell/, 5_000);
    // Scrolled into view once: a scroll can move a cell under the pointer and re-hover it.
    await page.getByTestId('ntk-heatmap').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelector('[data-testid="ntk-heatmap"]')?.getAttribute('data-heatmap-grid'),
      null, { timeout: 10_000 });
    await page.waitForTimeout(300);
    const N = 64;
    const half = N / 2;
    const diag = [];
    for (const i of [0, 8, 15, 16, 24, half - 1, half, half + 8, half + 15, half + 16, half + 24, N - 1]) {
      const cell = await hoverCell(page, i, i);
      assert.deepEqual(cell.row, cell.col, `diagonal cell ${i} pairs a (sample, output) with itself`);
      assert.ok(cell.k > 0, `K(${i}, ${i}) = ${cell.k}`);
      diag.push({ i, ...cell.row });
    }
    const top = diag.filter((d) => d.i < half);
    const bottom = diag.filter((d) => d.i >= half);
    // The two large diagonal blocks: one output each, a different output for each block.
    assert.equal(new Set(top.map((d) => d.output)).size, 1, JSON.stringify(top));
    assert.equal(new Set(bottom.map((d) => d.output)).size, 1, JSON.stringify(bottom));
    assert.notEqual(top[0].output, bottom[0].output);
    // Inside each, samples grouped by label, in the same label order for both outputs.
    const runs = (ds) => ds.map((d) => d.label).filter((l, k, a) => k === 0 || l !== a[k - 1]);
    assert.deepEqual(runs(top), runs(bottom));
    assert.equal(runs(top).length, 2, `two label groups per output: ${JSON.stringify(top)}`);
    // An off-diagonal large block pairs two different outputs; within a large block, a cell off
    // the label diagonal pairs two labels of the same output.
    const cross = await hoverCell(page, 2, half + 2);
    assert.equal(cross.row.output, top[0].output);
    assert.equal(cross.col.output, bottom[0].output);
    const labelsApart = await hoverCell(page, 0, half - 1);
    assert.equal(labelsApart.row.output, labelsApart.col.output);
    assert.notEqual(labelsApart.row.label, labelsApart.col.label);
    await screenshot(page, 'claims-ntk');

    // Compare panel (CMP5, CMP4): pin the NTK shown; μ labels, the same numbers, the same κ.
    await page.getByTestId('ntk-pin').click();
    await waitText(page, 'compare-pinned-lmax', /\d/, 10_000);
    assert.equal(await text(page, 'compare-pinned-lmax'), await text(page, 'ntk-lmax'));
    assert.equal(await text(page, 'compare-current-lmin'), await text(page, 'ntk-lmin'));
    assert.equal(await rowLabel(page, 'compare-current-lmax'), 'largest eigenvalue μ_max (singular value with the sign kernel)');
    assert.equal(await rowLabel(page, 'compare-current-lmin'), 'smallest eigenvalue μ_min (singular value with the sign kernel)');
    assert.match(await text(page, 'compare-kappa-ratio'), /^Both setups have the same κ: gradient descent on the linearized model/);

    // Layer selection intro (G13, G14): one block per adapted layer and module; all of them give
    // the NTK's κ; leaving one out changes the kernel and its spectrum. The study's default
    // recipe does not train the head (G4, MOD9).
    await page.getByTestId('tab-layers').click();
    await waitText(page, 'layers-count', /^12$/, 10_000);
    assert.equal(num(await text(page, 'layers-params')), lora);
    const kAll = await text(page, 'layers-kappa');
    close(num(kAll), kappa, 5e-3, 'κ of all 12 blocks against the NTK tab');
    await page.getByTestId('block-0-query').click();
    await waitText(page, 'layers-count', /^11$/, 10_000);
    assert.notEqual(await text(page, 'layers-kappa'), kAll);
    assert.equal(await page.getByTestId('layers-recipe').inputValue(), 'theory');

    // Linearization intro (G11): the squared loss, gradient descent, a grid of λ. The penalised
    // spread of NTK7 is below κ at every λ of the grid.
    await page.getByTestId('tab-linearization').click();
    assert.equal(await page.locator('select[data-testid="sweep-loss"]').inputValue(), 'mse');
    assert.equal(await page.getByTestId('sweep-optimizer').inputValue(), 'gd');
    const grid = (await page.getByTestId('sweep-lambdas').inputValue()).split(',').map(num);
    assert.ok(grid.length >= 2, `a grid of λ: ${grid}`);
    for (const lam of grid) {
      assert.ok((muMax + lam) / (muMin + lam) < kappa, `spread at λ = ${lam} below κ`);
    }
  } finally { await browser.close(); }
});
