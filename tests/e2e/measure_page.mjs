// One-off measurement (not a test): the page's interactive times from the click, in headless
// Chromium, as docs/performance.md reports them.
//   NTK_LENS_DIST=dist node tests/e2e/measure_page.mjs [cpu|auto] [ntk] [after] [sweep] [tour]
//   SWEEP_QUERY='lambdas=1e-3,10&steps=20' to time another sweep than the default
// Prints one JSON line per measurement: the NTK at n = 8 and n = 64 (click → result shown),
// a block toggle in Layer selection at n = 64 (click → summary updated), and with `sweep` the
// page's default λ sweep at the default n (click → table shown); with `after`, the NTK at n = 64
// clicked right after an NTK at n = 8 is shown (while that one's eval kernel runs).
import { serveDist, launch, openExplorer } from './harness.mjs';

const backend = process.argv[2] || 'cpu';
const withSweep = process.argv.includes('sweep');
const server = await serveDist();
const browser = await launch();

const textOf = (page, id) => page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '', id);
const waitFor = (page, id, re, timeout = 1_800_000) => page.waitForFunction(
  ([id, src]) => new RegExp(src).test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
  [id, re.source], { timeout, polling: 20 },
);

async function loaded(query) {
  const { page, backend: label } = await openExplorer(browser, `${server.url}?${query}&backend=${backend}`);
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
  console.log(JSON.stringify({ what: 'ntk', n, backend: label, click_to_result_ms: ms, shown: await textOf(page, 'ntk-time') }));
  return page;
}

try {
  if (process.argv.includes('ntk')) {
  (await ntk(8)).close();
  const page = await ntk(64);
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
  await page.close();
  }
  if (process.argv.includes('after')) {
    const { page, label } = await loaded('n=8&sample=first');
    await page.getByTestId('tab-ntk').click();
    await page.getByTestId('ntk-run').click();
    await waitFor(page, 'ntk-shape', /^8 ×/);
    await page.getByTestId('ntk-n').fill('64');
    await page.getByTestId('ntk-n').dispatchEvent('change');
    const evalRunning = await page.evaluate(() =>
      !document.querySelector('[data-testid="eval-kernel-cancel"]')?.classList.contains('hidden'));
    const t0 = Date.now();
    await page.getByTestId('ntk-run').click();
    await waitFor(page, 'ntk-shape', /^64 ×/);
    console.log(JSON.stringify({ what: 'ntk right after an ntk of 8', n: 64, backend: label, eval_kernel_was_running: evalRunning, click_to_result_ms: Date.now() - t0, shown: await textOf(page, 'ntk-time') }));
    await page.close();
  }
  if (withSweep) {
    const { page: p } = await loaded(`sample=first&${process.env.SWEEP_QUERY ?? ''}`);
    await p.getByTestId('tab-ntk').click();
    await p.getByTestId('ntk-run').click();
    await waitFor(p, 'ntk-time', /s on/);
    await p.getByTestId('tab-linearization').click();
    const t0 = Date.now();
    await p.getByTestId('sweep-run').click();
    await waitFor(p, 'sweep-time', /λ values/);
    console.log(JSON.stringify({ what: 'default sweep', click_to_result_ms: Date.now() - t0, shown: await textOf(p, 'sweep-time') }));
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
    console.log(JSON.stringify({ what: 'tour', open_to_last_step_ms: Date.now() - t0, sweep: await textOf(p, 'sweep-time') }));
  }
} finally {
  await browser.close();
  await server.close();
}
