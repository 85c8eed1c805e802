// One-off measurement (not a test): NTK time in headless Chromium for n samples.
//   NTK_LENS_DIST=dist node tests/e2e/measure_ntk.mjs 64 cpu|webgpu
import { serveDist, launch, openExplorer, WEBGPU_ARGS } from './harness.mjs';

const n = Number(process.argv[2] || 64);
const gpu = process.argv[3] === 'webgpu';
const server = await serveDist();
const browser = await launch(gpu ? WEBGPU_ARGS : []);
try {
  const { page, backend } = await openExplorer(browser, `${server.url}?n=${n}&sample=first${gpu ? '' : '&backend=cpu'}`);
  await page.waitForFunction(() => /Loaded/.test(document.querySelector('[data-testid="model-status"]')?.textContent ?? ''), null, { timeout: 120_000 });
  await page.getByTestId('tab-data').click();
  await page.waitForFunction(() => /Active dataset/.test(document.querySelector('[data-testid="data-status"]')?.textContent ?? ''), null, { timeout: 60_000 });
  await page.getByTestId('tab-ntk').click();
  await page.getByTestId('ntk-run').click();
  await page.waitForFunction(() => /s on/.test(document.querySelector('[data-testid="ntk-time"]')?.textContent ?? ''), null, { timeout: 1_200_000 });
  const time = await page.getByTestId('ntk-time').textContent();
  const mem = await page.evaluate(() => performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1e6) : null);
  console.log(JSON.stringify({ n, backend, time, page_heap_mb: mem }));
} finally {
  await browser.close();
  await server.close();
}
