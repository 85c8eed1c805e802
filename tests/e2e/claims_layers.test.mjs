// The facts that the Layer selection tab (src/page/views/layers/), its charts
// (crates/plots/src/reports.rs) and the study's notes (crates/core/src/experiment/study.rs)
// state, checked on the page's defaults in one page load (docs/claims.md names the assertion for
// each sentence): all-MiniLM-L6-v2 bundled, uci-yelp, n = 32 stratified, LoRA r = 8, α = 8 on
// query and value, plain kernel, LoRA only; the study with budget 2, greedy smallest κ, κ of K_S
// without a shift, training λ = 10⁻², 8 GD steps with a step per candidate, the theory recipe.
// CPU backend (?backend=cpu), as the other analyses tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { serveDist, launch, openWithNtk, screenshot, num, waitText as waitTextWithin, text, rowLabel, assertClose, chartSvg } from './harness.mjs';

/** The NTK of 32 samples takes minutes on 2 cores: wait up to 5 minutes unless told. */
const waitText = (page, id, re, timeout = 300_000) => waitTextWithin(page, id, re, timeout);

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

const close = assertClose;

/** The two numbers of `layers-extremes` ("μ_max, μ_min"). */
const extremes = async (page) => (await text(page, 'layers-extremes')).split(',').map(num);


test('claims of the Layer selection tab and the study hold on the defaults', async () => {
  const browser = await launch([]);
  try {
    const page = await openWithNtk(browser, `${server.url}?backend=cpu`);
    const muMax = num(await text(page, 'ntk-lmax'));
    const muMin = num(await text(page, 'ntk-lmin'));

    // LAY5 (§λ): μ for the eigenvalues; with all 12 blocks they are the NTK tab's.
    await page.getByTestId('tab-layers').click();
    await waitText(page, 'layers-count', /^12$/, 10_000);
    assert.equal(await rowLabel(page, 'layers-extremes'), 'largest, smallest eigenvalue μ_max, μ_min');
    const labels = await page.getByTestId('layers-summary').locator('th').allTextContents();
    assert.ok(labels.every((l) => !l.includes('λ')), `no λ for an eigenvalue: ${labels.join(' | ')}`);
    const all = await extremes(page);
    close(all[0], muMax, 5e-3, 'μ_max of all 12 blocks against the NTK tab');
    close(all[1], muMin, 5e-3, 'μ_min of all 12 blocks against the NTK tab');
    // LAY6: the chosen blocks' spectrum, in μ.
    const spectrum = await chartSvg(page, 'layers-spectrum');
    for (const t of ['Spectrum of the chosen blocks', 'eigenvalue μ_i', 'μ_i(K_S)']) {
      assert.ok(spectrum.includes(t), `layers-spectrum has "${t}"`);
    }

    // LAY2: adding block 0.query back to the other 11 raises both extremes (never lowers them);
    // LAY7: the Weyl chart of that addition, in μ.
    await page.getByTestId('block-0-query').click();
    await waitText(page, 'layers-count', /^11$/, 10_000);
    const without = await extremes(page);
    await page.getByTestId('block-0-query').click();
    await waitText(page, 'layers-count', /^12$/, 10_000);
    const back = await extremes(page);
    assert.ok(back[0] >= without[0] && back[1] >= without[1], `adding a block: ${without} → ${back}`);
    const weyl = await chartSvg(page, 'layers-spectrum');
    for (const t of ['Weyl bounds, adding 0.query', 'eigenvalue μ_i', 'μ_i(K_S + K_l)',
      'lower bound μ_i(K_S) + μ_min(K_l)', 'upper bound μ_i(K_S) + μ_max(K_l)']) {
      assert.ok(weyl.includes(t), `the Weyl chart has "${t}"`);
    }
    assert.ok(!weyl.includes('λ'), 'no λ on the Weyl chart');

    // LAY9, LAY10: the recipe offered beside the theory's is named after the paper's code.
    assert.equal(await page.getByTestId('layers-recipe').inputValue(), 'theory');
    assert.equal((await page.locator('[data-testid="layers-recipe"] option[value="paper"]').textContent()).trim(),
      "after the paper's code");

    // The study on the defaults.
    await page.getByTestId('layers-run').click();
    await waitText(page, 'study-correlation', /n = \d+/, 1_200_000);
    await screenshot(page, 'claims-layers-study');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('study-export-json').click()]);
    const study = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
    assert.equal(study.config.kappa_lambda, 0);
    assert.equal(study.config.recipe, 'theory');
    // LAY9: the candidates train with the Linearization tab's λ (its slider), gate, optimizer,
    // loss and steps.
    assert.equal(study.config.training.lambda, 0.01);
    close(study.config.training.lambda, num((await text(page, 'lambda-value')).replace('λ = ', '')), 1e-9, 'the slider\'s λ');
    assert.equal(study.config.training.selective, await page.getByTestId('sweep-selective').isChecked());
    assert.equal(study.config.training.optimizer, await page.getByTestId('sweep-optimizer').inputValue());
    assert.equal(study.config.training.loss, await page.locator('select[data-testid="sweep-loss"]').inputValue());
    assert.equal(String(study.config.training.steps), await page.getByTestId('sweep-steps').inputValue());
    // LAY11: every single block, the greedy pick, all blocks (your set is all of them), each
    // fine-tuned for the same 8 steps.
    const labelsOf = study.candidates.map((c) => c.label);
    assert.equal(labelsOf.filter((l) => l === 'single').length, 12, labelsOf.join());
    assert.ok(labelsOf.includes('greedy-2') && labelsOf.includes('all'), labelsOf.join());
    assert.equal(study.config.training.steps, 8);
    for (const c of study.candidates) {
      assert.ok(Number.isFinite(c.train_loss) && c.best_epoch == null, `${c.label}: ${JSON.stringify(c)}`);
      // NOTE13: η_S = 0.05/(μ_max(K_S) + λ), λ = 0.01, so the slowest direction's factor is
      // 1 − 0.05/κ(K_S + 0.01·I), and κ(K_S + 0.01·I) is not the κ(K_S) shown.
      close(c.lr * (c.lambda_max + 0.01), 0.05, 1e-9, `${c.label}: η_S(μ_max + λ)`);
      const kappaTrain = (c.lambda_max + 0.01) / (c.lambda_min + 0.01);
      close(1 - c.lr * (c.lambda_min + 0.01), 1 - 0.05 / kappaTrain, 1e-9, `${c.label}: slowest factor`);
      close(c.kappa, c.lambda_max / c.lambda_min, 1e-6, `${c.label}: κ shown = κ(K_S)`);
      assert.ok(c.kappa > 1.01 * kappaTrain, `${c.label}: κ(K_S) ${c.kappa} vs κ(K_S + 0.01·I) ${kappaTrain}`);
    }
    const notes = await page.locator('[data-testid="panel-layers"] ul.notes').textContent();
    assert.match(notes, /Steps: GD with a step per candidate, η_S = 0\.05\/\(μ_max\(K_S\) \+ λ\), λ = 0\.01 the training penalty/);
    assert.ok(notes.includes('1 − 0.05/κ(K_S + 0.01·I) per step, so κ(K_S + 0.01·I), not the κ(K_S) shown, sets that pace'), notes);
    // LAY14, LAY15: the theory recipe reports the final train loss, and says so.
    assert.match(await text(page, 'study-correlation'), /^log₁₀ κ vs final train loss: Pearson /);
    const loss = await chartSvg(page, 'study-loss');
    for (const t of ['κ at initialisation vs train loss', 'final train loss', 'κ(K_S) at init (a step per candidate)']) {
      assert.ok(loss.includes(t), `study-loss has "${t}"`);
    }
    // LAY16: the accuracy scatter's title and axes.
    const accuracy = await chartSvg(page, 'study-accuracy');
    for (const t of ['κ at initialisation vs eval accuracy', 'eval accuracy', 'κ(K_S) at init (a step per candidate)']) {
      assert.ok(accuracy.includes(t), `study-accuracy has "${t}"`);
    }
  } finally { await browser.close(); }
});
