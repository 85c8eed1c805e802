// End-to-end tests of the explorer shell: tabs, backend line, the compute worker's self-check,
// cancellation and responsiveness, and bad input. Screenshots go to tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launch, openExplorer, screenshot, num, WEBGPU_ARGS } from './harness.mjs';

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

const TABS = ['model', 'data', 'ntk', 'linearization', 'layers', 'learn'];

/** Runs the self-check with `steps` and returns the numbers of its result table. */
async function runSelfCheck(page, steps) {
  await page.getByTestId('selfcheck-steps').fill(String(steps));
  await page.getByTestId('selfcheck-run').click();
  await page.getByTestId('selfcheck-result').waitFor({ timeout: 120_000 });
  const read = async (id) => num(await page.getByTestId(id).textContent());
  return {
    steps: await read('selfcheck-steps-done'),
    loss: await read('selfcheck-loss'),
    predicted: await read('selfcheck-predicted'),
    initial: await read('selfcheck-initial-loss'),
    gradError: await read('selfcheck-grad-error'),
  };
}

function assertSelfCheck(r, steps) {
  assert.equal(r.steps, steps);
  assert.ok(r.initial > 0.1, `initial loss ${r.initial}`);
  assert.ok(r.loss < r.initial * 0.5, `loss decreased: ${JSON.stringify(r)}`);
  // f32 on the device vs the f64 closed form; the table shows 6 significant digits.
  assert.ok(Math.abs(r.loss - r.predicted) / r.predicted < 2e-3, JSON.stringify(r));
  assert.ok(r.gradError < 1e-4, JSON.stringify(r));
}

test('with --enable-unsafe-webgpu the page runs on WebGPU and the self-check is exact', async () => {
  const browser = await launch(WEBGPU_ARGS);
  try {
    // SwiftShader is a software adapter: Auto would take the CPU; ?backend=wgpu asks for WebGPU.
    const { page, backend } = await openExplorer(browser, `${server.url}?backend=wgpu`, { timeout: 300_000 });
    assert.match(backend, /^WebGPU: \S/, `backend line: ${backend}\n${page.logs.join('\n')}`);
    console.log(`backend with --enable-unsafe-webgpu: ${backend}`);
    for (const t of TABS) assert.ok(await page.getByTestId(`tab-${t}`).isVisible(), `tab ${t}`);
    const r = await runSelfCheck(page, 200);
    assertSelfCheck(r, 200);
    await screenshot(page, 'webgpu-selfcheck');
  } finally { await browser.close(); }
});

test('without the flag the page falls back to the CPU and says why', async () => {
  const browser = await launch([]);
  try {
    const { page, backend } = await openExplorer(browser, server.url);
    assert.match(backend, /^CPU \(WebGPU unavailable: .+\)$/, backend);
    const r = await runSelfCheck(page, 200);
    assertSelfCheck(r, 200);
    await screenshot(page, 'cpu-selfcheck');
  } finally { await browser.close(); }
});

test('auto avoids a software WebGPU adapter; the backend switches without a reload and keeps model and results', async () => {
  const browser = await launch(WEBGPU_ARGS);
  try {
    const { page, backend } = await openExplorer(browser, `${server.url}?n=4&sample=first`);
    // SwiftShader is the only adapter here: Auto says why it takes the CPU.
    assert.match(backend, /^CPU \(auto: the WebGPU adapter \(.*swiftshader.*\) is a software renderer/i, backend);
    assert.equal(await page.getByTestId('backend-choice').inputValue(), 'auto');
    await page.waitForFunction(() => /Loaded/.test(document.querySelector('[data-testid="model-status"]')?.textContent ?? ''), null, { timeout: 120_000 });
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await page.getByTestId('ntk-lmax').waitFor({ timeout: 120_000 });
    const lmax = await page.getByTestId('ntk-lmax').textContent();
    // Switching to WebGPU checks the adapter against the CPU (a small NTK on both) first.
    await page.getByTestId('backend-choice').selectOption('wgpu');
    await page.waitForFunction(() => /^WebGPU: .+ \(agrees with the CPU to /.test(document.querySelector('[data-testid="backend-status"]')?.textContent ?? ''), null, { timeout: 300_000 });
    assert.match(page.url(), /[?&]backend=wgpu(&|$)/);
    // No reload: the NTK still shown, the model loaded into the fresh worker (WebGPU runs in
    // the page's module, the CPU in the CPU worker's: the switch starts the other).
    await page.waitForFunction(() => /Loaded/.test(document.querySelector('[data-testid="model-status"]')?.textContent ?? ''), null, { timeout: 120_000 });
    assert.equal(await page.getByTestId('ntk-lmax').textContent(), lmax);
    await page.getByTestId('backend-choice').selectOption('cpu');
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-status"]')?.textContent === 'CPU (chosen)', null, { timeout: 120_000 });
    // The model moved back and forth: the NTK on the CPU is the same to the digits shown.
    await page.getByTestId('ntk-run').click();
    await page.waitForFunction(() => /on CPU \(chosen\)/.test(document.querySelector('[data-testid="ntk-time"]')?.textContent ?? ''), null, { timeout: 120_000 });
    assert.equal(await page.getByTestId('ntk-lmax').textContent(), lmax);
    await screenshot(page, 'backend-switch');
  } finally { await browser.close(); }
});

test('every tab shows its explanation; tabs are keyboard reachable', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    for (const t of TABS) {
      await page.getByTestId(`tab-${t}`).click();
      const intro = page.getByTestId(`intro-${t}`);
      await intro.waitFor();
      const text = await intro.textContent();
      assert.ok(text.length > 80, `tab ${t} explains itself: ${text}`);
      assert.equal(await page.getByTestId(`tab-${t}`).getAttribute('aria-selected'), 'true');
    }
    await screenshot(page, 'tab-learn');
  } finally { await browser.close(); }
});

test('a long run reports progress, keeps the page responsive and can be cancelled', async () => {
  const browser = await launch([]);
  try {
    const { page, backend } = await openExplorer(browser, `${server.url}?backend=cpu`);
    assert.match(backend, /^CPU \(chosen\)$/);
    await page.getByTestId('selfcheck-steps').fill('10000000');
    await page.getByTestId('selfcheck-run').click();
    await page.waitForFunction(() => {
      const p = document.querySelector('[data-testid="selfcheck-status"]')?.textContent || '';
      const m = p.match(/step (\d+) of/);
      return m && Number(m[1]) > 0;
    }, null, { timeout: 60_000 });
    // The main thread is free: 20 timer turns take well under a second while the worker computes.
    const lagMs = await page.evaluate(async () => {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
      return performance.now() - t0;
    });
    assert.ok(lagMs < 1000, `main thread lag ${lagMs} ms`);
    await page.getByTestId('tab-learn').click();
    await page.getByTestId('intro-learn').waitFor({ timeout: 2000 });
    await page.getByTestId('tab-model').click();
    // What was typed survives the tab switch.
    assert.equal(await page.getByTestId('selfcheck-steps').inputValue(), '10000000');
    await screenshot(page, 'running');
    await page.getByTestId('selfcheck-cancel').click();
    await page.waitForFunction(
      () => /^Cancelled after \d+ of 10000000 steps\.$/.test(
        document.querySelector('[data-testid="selfcheck-status"]')?.textContent || ''),
      null, { timeout: 10_000 },
    );
    const status = await page.getByTestId('selfcheck-status').textContent();
    const done = Number(status.match(/after (\d+)/)[1]);
    assert.ok(done > 0 && done < 10_000_000, status);
    await screenshot(page, 'cancelled');
    // The worker is still usable afterwards.
    const r = await runSelfCheck(page, 20);
    assertSelfCheck(r, 20);
  } finally { await browser.close(); }
});

test('bad input gets a precise message and what was typed is kept', async () => {
  const browser = await launch([]);
  try {
    const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
    await page.getByTestId('selfcheck-steps').fill('12x');
    await page.getByTestId('selfcheck-run').click();
    const msg = await page.getByTestId('selfcheck-input-error').textContent();
    assert.match(msg, /^Steps: expected a whole number from 1 to 10000000, got "12x"$/);
    assert.equal(await page.getByTestId('selfcheck-steps').inputValue(), '12x');
    assert.equal(await page.getByTestId('selfcheck-status').textContent(), 'Not run yet.');
  } finally { await browser.close(); }
});
