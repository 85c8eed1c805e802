// The sentences a learner reads about the λ sweep (Linearization tab, Learn tab, tour), checked on
// the page's own defaults: MiniLM, 32 Yelp sentences, λ = 0.001, 10, 100, 8 GD steps, the default
// step rule. docs/claims.md names, for each sentence, the assertion here that checks it.
// CPU backend (?backend=cpu): SwiftShader's WebGPU is too slow for MiniLM here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launch, openWithNtk, screenshot, num, waitText as waitTextWithin, text, chartSvg } from './harness.mjs';

/** The default sweep runs for about half a minute on 2 cores: wait up to 5 minutes. */
const waitText = (page, id, re, timeout = 300_000) => waitTextWithin(page, id, re, timeout);

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

const row = async (page, what, i) => num(await text(page, `sweep-${what}-${i}`));

test('claims: the default λ sweep isolates the penalty, and the gap falls as λ grows', async () => {
  const browser = await launch([]);
  try {
    // The NTK of the default 32 sentences (tour step 2: "a condition number in the hundreds or
    // more").
    const page = await openWithNtk(browser, `${server.url}?backend=cpu`);
    assert.match(await text(page, 'ntk-shape'), /^32 × 2 \(64 rows\)$/);
    assert.ok(num(await text(page, 'ntk-kappa')) >= 100, 'κ in the hundreds or more');
    // "a few large eigenvalues, a long tail of small ones": an effective rank (exp of the
    // spectrum's entropy) under a quarter of the 64 eigenvalues.
    assert.ok(num(await text(page, 'ntk-eff-rank')) < 16, 'a few large eigenvalues');
    const muMax = num(await text(page, 'ntk-lmax'));

    // The linearized model at the slider's λ: its distance is within ‖r₀‖/(2√λ); a larger λ keeps
    // it closer to θ₀ "but it also fits the labels less".
    await page.getByTestId('tab-linearization').click();
    await waitText(page, 'lambda-value', /λ = 0\.01$/);
    const [d0, loss0] = [num(await text(page, 'lin-distance')), num(await text(page, 'lin-train-loss'))];
    assert.ok(d0 <= num(await text(page, 'lin-bound')));
    await page.getByTestId('lambda-slider').fill('1');
    await waitText(page, 'lambda-value', /λ = 10$/, 10_000);
    assert.ok(num(await text(page, 'lin-distance')) < d0, 'closer to θ₀ at λ = 10');
    assert.ok(num(await text(page, 'lin-train-loss')) > loss0, 'fits the labels less at λ = 10');
    assert.ok(num(await text(page, 'lin-distance')) <= num(await text(page, 'lin-bound')));

    // The default sweep.
    assert.equal(await page.getByTestId('sweep-lambdas').inputValue(), '0.001,10,100');
    assert.equal(await page.getByTestId('sweep-step-rule').inputValue(), 'shared');
    await page.getByTestId('sweep-run').click();
    await waitText(page, 'sweep-time', /^3 λ values × 8 steps/);
    await screenshot(page, 'claims-sweep');
    const lambdas = [0.001, 10, 100];
    const lr = [], gap = [], dist = [];
    for (let i = 0; i < 3; i++) {
      lr.push(await row(page, 'lr', i));
      gap.push(await row(page, 'gap', i));
      dist.push(await row(page, 'dist-actual', i));
      // "Dashed: ‖r₀‖/(2√λ), drawn only where it bounds the linearized model's distance": it is
      // drawn for every λ of the default (ungated GD within η(μ_max + λ) ≤ 1), and it holds.
      assert.ok(await row(page, 'dist-linear', i) <= await row(page, 'bound', i), `bound at λ ${lambdas[i]}`);
    }
    // "By default every λ trains with the same step": one η in every row.
    assert.deepEqual(lr, [lr[0], lr[0], lr[0]], `one step: ${lr}`);
    // "…lowered where needed so that η(μ_max + λ) ≤ 1 at every λ" (3 significant digits shown).
    assert.ok(lr[0] * (muMax + 100) <= 1.01, `η(μ_max + λ_max) = ${lr[0] * (muMax + 100)}`);
    const step = await text(page, 'sweep-step');
    assert.match(step, /^Every λ trained with the same step η = /);
    // "the smallest λ is in effect the unpenalised run": ηλT < 0.01.
    assert.ok(lr[0] * 0.001 * 8 < 0.01);
    assert.match(step, /The smallest λ is in effect the unpenalised run/);
    // "On the page's defaults the gap … shrinks as λ grows, and at the largest λ it is under a
    // third of the gap at the smallest" (Linearization tab, Learn tab, tour step 3).
    assert.ok(gap[0] > gap[1] && gap[1] > gap[2], `the gap falls as λ grows: ${gap}`);
    assert.ok(gap[2] <= gap[0] / 3, `largest λ's gap ${gap[2]} vs smallest's ${gap[0]}`);
    // "the error of the linear picture is of second order in the distance moved, so it falls
    // faster than the distance" (Learn tab).
    assert.ok(dist[0] > dist[1] && dist[1] > dist[2], `distance falls as λ grows: ${dist}`);
    assert.ok(gap[2] / gap[1] < dist[2] / dist[1], `gap ${gap} vs distance ${dist}`);
    // The eigen-direction view is there for the default (ungated GD with the squared loss).
    assert.ok(await page.getByTestId('sweep-eigen').isVisible());
    // The charts' titles, axes and legends (LIN21–LIN24, LIN30), as the page draws them.
    const charts = {
      'sweep-gap': ['Gap between actual and linearized logits', 'λ (proximal strength)', 'relative L2 gap ‖f − f_lin‖ / ‖f_lin‖', 'train', 'eval'],
      'sweep-distance': ['Distance moved from θ0', '‖θ − θ0‖', 'actual', 'linearized', 'bound ‖r0‖/(2√λ) on the linearized'],
      'sweep-accuracy': ['Accuracy', 'train, actual', 'train, linearized', 'eval, actual', 'eval, linearized'],
      'sweep-loss': ['Training loss (solid: actual, dashed: linearized)', 'step', 'loss (data + proximal)', 'λ=0.001 actual', 'λ=100 linear'],
      'sweep-eigen-chart': ['Residual left along each eigen-direction', 'eigenvalue μ_i of the NTK', 'fraction of the start residual left'],
    };
    for (const [id, words] of Object.entries(charts)) {
      const svg = await chartSvg(page, id);
      for (const w of words) assert.ok(svg.includes(w), `${id}: "${w}" not in the SVG`);
    }
  } finally {
    await browser.close();
  }
});
