// Shared pieces of the browser tests: a static server for dist/ on loopback and a headless
// Chromium (Debian's, through playwright-core; no browser download).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve-dist.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DIST = process.env.NTK_LENS_DIST || path.resolve(here, '../../dist');
export const ARTIFACTS = path.resolve(here, 'artifacts');

/**
 * Serves DIST on 127.0.0.1 (random port) with scripts/serve-dist.mjs, as `scripts/serve.sh` does:
 * precompressed (brotli/gzip), ETags, cross-origin isolated. Resolves to { url, close }.
 */
export async function serveDist() {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html not found: build the page first (trunk build --release)`);
  }
  return serve(DIST);
}

export const BASE_ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];
/** The one flag that gives headless Chromium a WebGPU adapter (SwiftShader) on a GPU-less machine. */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

/** Launches headless Chromium with extra flags; collects console errors on every page. */
export async function launch(extraArgs = []) {
  const executablePath = process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser']
    .find((p) => fs.existsSync(p));
  const browser = await chromium.launch({ executablePath, headless: true, args: [...BASE_ARGS, ...extraArgs] });
  return browser;
}

/** Opens the page and waits for the worker to report its backend. Returns { page, backend }. */
export async function openExplorer(browser, url, { timeout = 60_000 } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.logs = logs;
  await page.goto(url);
  const status = page.getByTestId('backend-status');
  await page.waitForFunction(
    () => {
      const text = document.querySelector('[data-testid="backend-status"]')?.textContent;
      return text !== undefined && text !== '' && !text.startsWith('starting');
    },
    null, { timeout },
  ).catch((e) => { throw new Error(`backend never reported: ${e.message}\n${logs.join('\n')}`); });
  return { page, backend: (await status.textContent()).trim() };
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Parses a number shown on the page (plain or exponent notation). */
export function num(text) {
  const v = Number(String(text).trim());
  if (!Number.isFinite(v)) throw new Error(`not a number on the page: ${JSON.stringify(text)}`);
  return v;
}

/** Waits until the element with `data-testid=id` has text matching `re`; on timeout the error
 *  shows its text and the page's last console lines. */
export async function waitText(page, id, re, timeout = 120_000) {
  await page.waitForFunction(
    ([id, src]) => new RegExp(src).test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
    [id, re.source], { timeout },
  ).catch(async (e) => {
    const now = await page.getByTestId(id).textContent().catch(() => '(absent)');
    throw new Error(`${id} never matched ${re}: ${now}\n${e.message}\n${(page.logs ?? []).slice(-20).join('\n')}`);
  });
}

/** The trimmed text of the element with `data-testid=id`. */
export const text = async (page, id) => (await page.getByTestId(id).textContent()).trim();

/** Opens the page at `url`, waits for the bundled MiniLM and the default dataset, and computes
 *  the NTK of the address's samples (the defaults: 32 stratified Yelp sentences). Returns the
 *  page on the NTK tab. */
export async function openWithNtk(browser, url, timeout = 300_000) {
  const { page } = await openExplorer(browser, url);
  await waitText(page, 'model-status', /Loaded all-MiniLM-L6-v2/, timeout);
  await page.getByTestId('tab-data').click();
  await waitText(page, 'data-status', /Active dataset: uci-yelp/, timeout);
  await page.getByTestId('tab-ntk').click();
  await page.getByTestId('ntk-run').click();
  await waitText(page, 'ntk-kappa', /\d/, timeout);
  return page;
}

/** The label (`th`) of the table row that holds the element `data-testid=id`. */
export const rowLabel = async (page, id) =>
  (await page.locator('tr', { has: page.getByTestId(id) }).locator('th').first().textContent()).trim();

/** Asserts `a` is within `rel` of `b` (relative), naming `what`. */
export function assertClose(a, b, rel, what) {
  if (!(Math.abs(a - b) <= rel * Math.abs(b))) {
    throw new Error(`${what}: ${a} vs ${b} (rel ${Math.abs(a - b) / Math.abs(b)})`);
  }
}

/** The SVG that the chart `id` downloads (its "SVG" button), as text. */
export async function chartSvg(page, id) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`${id}-svg`).click()]);
  return fs.readFileSync(await dl.path(), 'utf8');
}
