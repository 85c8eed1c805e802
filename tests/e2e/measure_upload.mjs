// One-off measurement (not a test): upload a ~50 MB CSV (100,000 rows) and report how long the
// worker takes to read it and the longest main-thread gap (10 ms heartbeat) after the change event meanwhile.
// Run: NTK_LENS_DIST=../../dist node measure_upload.mjs
import { serveDist, launch, openExplorer } from './harness.mjs';

const words = 'good bad food place staff service time really great never again would come back '.split(' ');
let rows = ['text,label'];
let size = 11;
for (let i = 0; i < 100_000; i++) {
  let t = '';
  while (t.length < 480) t += words[(i * 7 + t.length) % words.length] + ' ';
  const line = `"${t.trim()}",${i % 3 === 0 ? 'neg' : 'pos'}`;
  rows.push(line);
  size += line.length + 1;
}
const csv = Buffer.from(rows.join('\n') + '\n');
console.log(`file: ${(csv.length / 1e6).toFixed(1)} MB, ${rows.length - 1} rows`);
const server = await serveDist();
const browser = await launch([]);
try {
  const { page } = await openExplorer(browser, `${server.url}?backend=cpu`);
  await page.getByTestId('tab-data').click();
  await page.waitForFunction(() => /Active dataset: uci-yelp/.test(document.querySelector('[data-testid="data-status"]')?.textContent));
  await page.evaluate(() => {
    window.__gap = 0; let last = performance.now();
    const tick = () => { const t = performance.now(); if (window.__t !== undefined && t - last > window.__gap) { window.__gap = t - last; window.__at = t - window.__t; } last = t; };
    setInterval(tick, 10);
    // Playwright builds the 50 MB File inside the renderer: count only from the change event on.
    document.addEventListener('change', () => { window.__gap = 0; last = performance.now(); window.__t = performance.now(); }, true);
  });
  const t0 = Date.now();
  await page.getByTestId('data-file-input').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: csv });
  await page.waitForFunction(() => /Active dataset: big/.test(document.querySelector('[data-testid="data-status"]')?.textContent), null, { timeout: 300_000 });
  const wall = Date.now() - t0;
  const [gap, since] = await page.evaluate(() => { window.__stop = true; return [window.__gap, performance.now() - window.__t]; });
  console.log(`from the change event to the active dataset: ${since.toFixed(0)} ms; longest gap ended ${(await page.evaluate(() => window.__at)).toFixed(0)} ms after the change event`);
  console.log(`status: ${await page.getByTestId('data-status').textContent()}`);
  console.log(`wall from setInputFiles to active: ${wall} ms; longest main-thread gap (10 ms heartbeat) after the change event: ${gap.toFixed(0)} ms`);
} finally { await browser.close(); await server.close(); }
