// Measures the compute worker's wasm memory (its peak: wasm memory only grows) after the page
// loads the bundled MiniLM (fp16 file, fp32 tensors), and after an NTK of n samples.
//   node tests/e2e/measure_memory.mjs [n]
import { serveDist, launch, openExplorer } from './harness.mjs';

const n = Number(process.argv[2] ?? 32);
const server = await serveDist();
const browser = await launch([]);
try {
  const { page } = await openExplorer(browser, `${server.url}?backend=cpu&n=${n}`);
  await page.waitForFunction(() => /Loaded all-MiniLM/.test(document.querySelector('[data-testid="model-status"]')?.textContent ?? ''), null, { timeout: 120_000 });
  const worker = page.workers().find((w) => w.url().includes('worker.js'));
  const mb = async () => ((await worker.evaluate(() => self.ntkLensMemoryBytes())) / 1e6).toFixed(0);
  console.log(`wasm memory after loading MiniLM: ${await mb()} MB`);
  await page.getByTestId('tab-data').click();
  await page.waitForFunction(() => /Active dataset/.test(document.querySelector('[data-testid="data-status"]')?.textContent ?? ''), null, { timeout: 60_000 });
  await page.getByTestId('tab-ntk').click();
  await page.getByTestId('ntk-run').click();
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="ntk-kappa"]')?.textContent ?? ''), null, { timeout: 300_000 });
  console.log(`wasm memory after an NTK of ${n} samples: ${await mb()} MB`);
  console.log((await page.getByTestId('ntk-notes').textContent()).match(/Memory: [^.]*\./)?.[0]);
} finally {
  await browser.close();
  await server.close();
}
