// One-off measurement (not a test): how long a first visit takes on a throttled connection, from
// opening the page to a loaded model, and what it downloads; then a repeat visit (warm cache).
//
//   NTK_LENS_DIST=../../dist node measure_load.mjs [--down 20] [--up 5] [--latency 20] [--webgpu]
//                                                   [--runs 1] [--screenshot FILE] [--json FILE]
//                                                   [--url http://127.0.0.1:8088/]
// (--url measures a server already running, e.g. scripts/serve.sh, instead of serving dist/.)
//
// Throttling is Chromium's own network emulation (CDP Network.emulateNetworkConditions) on the
// page. The compute worker's requests share it (Chromium 156 answers "Not supported" to the same
// call on a dedicated worker target, and its downloads run at the page's rate); the worker is
// auto-attached only to count its requests. A first visit is a fresh browser profile (empty HTTP
// cache, wasm code cache and Cache Storage); the cache works during the visit, as for a real
// first visit. The repeat visit restarts the browser on the same profile (disk cache only).
//
// Reported, in ms from navigation start (the page's performance clock):
//   tabs_painted    the tab bar is in the DOM and a frame has been drawn since (double rAF)
//   learn_usable    a click on the Learn tab (sent as soon as the tab bar is there) shows its panel
//   data_usable     then the same for the Data tab
//   data_ready      the Data tab says "Active dataset" (needs the worker)
//   backend_ready   the worker reported its backend
//   model_loaded    the model status says "Loaded"
//   long tasks      the page's main-thread tasks of 200 ms or more (Long Tasks API)
// and, per resource, the bytes received over the network (headers included, CDP
// encodedDataLength) by the page and by the worker, plus how many times the wasm was downloaded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serveDist, BASE_ARGS, WEBGPU_ARGS } from './harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DOWN = Number(opt('down', 20));
const UP = Number(opt('up', 5));
const LATENCY = Number(opt('latency', 20));
const RUNS = Number(opt('runs', 1));
const GPU = args.includes('--webgpu');
const SHOT = opt('screenshot', null);
const JSON_OUT = opt('json', null);
const TIMEOUT = Number(opt('timeout', 300_000));
const URL_ARG = opt('url', null);

const CONDITIONS = {
  offline: false, latency: LATENCY,
  downloadThroughput: (DOWN * 1e6) / 8, uploadThroughput: (UP * 1e6) / 8,
};

/** Records the page-side timestamps (performance.now(), i.e. ms since navigation start). */
function pageProbe() {
  const t = (window.__load = {});
  const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
  const check = () => {
    if (t.tabs_dom === undefined && document.querySelector('[data-testid="tab-learn"]')) {
      t.tabs_dom = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => { t.tabs_painted = performance.now(); }));
    }
    const backend = text('backend-status');
    if (t.backend_ready === undefined && backend && !backend.startsWith('starting')) {
      t.backend_ready = performance.now();
      t.backend = backend.trim();
    }
    if (t.model_loaded === undefined && /Loaded/.test(text('model-status'))) {
      t.model_loaded = performance.now();
      t.model_status = text('model-status').trim();
    }
    if (t.data_ready === undefined && /Active dataset/.test(text('data-status'))) {
      t.data_ready = performance.now();
      t.data_status = text('data-status').trim();
    }
    for (const tab of ['learn', 'data']) {
      const panel = document.querySelector(`[data-testid="panel-${tab}"]`);
      const key = `${tab}_usable`;
      if (t[`${tab}_clicked`] !== undefined && t[key] === undefined && panel && !panel.classList.contains('hidden')
          && panel.getBoundingClientRect().height > 0) {
        t[key] = performance.now();
      }
    }
  };
  t.long_tasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) t.long_tasks.push([Math.round(e.startTime), Math.round(e.duration)]);
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no long task timing */ }
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  document.addEventListener('click', (e) => {
    const id = e.target.closest?.('[data-testid]')?.dataset.testid;
    if (id === 'tab-learn' && t.learn_clicked === undefined) t.learn_clicked = performance.now();
    if (id === 'tab-data' && t.data_clicked === undefined) t.data_clicked = performance.now();
    queueMicrotask(check);
  }, true);
}

/** Byte counts from CDP Network events, per requesting target. */
class NetLog {
  constructor() { this.requests = new Map(); }
  on(target, method, p) {
    const key = `${target}:${p.requestId}`;
    if (method === 'Network.requestWillBeSent') {
      this.requests.set(key, { target, url: p.request.url, bytes: 0, status: null, cached: false, encoding: null, start: p.timestamp });
    }
    const r = this.requests.get(key);
    if (!r) return;
    if (method === 'Network.requestServedFromCache') r.cached = true;
    if (method === 'Network.responseReceived') {
      r.status = p.response.status;
      r.cached ||= !!(p.response.fromDiskCache || p.response.fromPrefetchCache);
      const h = Object.fromEntries(Object.entries(p.response.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
      r.encoding = h['content-encoding'] || null;
      r.coep = h['cross-origin-embedder-policy'] || null;
    }
    if (method === 'Network.loadingFinished') { r.bytes = p.encodedDataLength; r.end = p.timestamp; }
    if (method === 'Network.loadingFailed') { r.failed = p.errorText; r.end = p.timestamp; }
  }
  summary() {
    const kind = (url) => {
      const u = new URL(url);
      if (u.pathname.endsWith('.wasm')) return 'wasm';
      if (/\.(m?js)$/.test(u.pathname)) return 'js';
      if (u.pathname.includes('/models/')) return 'model';
      if (u.pathname.includes('/datasets/')) return 'datasets';
      if (u.pathname.endsWith('.css')) return 'css';
      if (u.pathname === '/' || u.pathname.endsWith('.html')) return 'html';
      return 'other';
    };
    const byKind = {};
    const list = [];
    for (const r of this.requests.values()) {
      if (!r.url.startsWith('http')) continue;
      const k = kind(r.url);
      byKind[k] = (byKind[k] || 0) + r.bytes;
      list.push({
        target: r.target, path: new URL(r.url).pathname, status: r.status, bytes: r.bytes,
        encoding: r.encoding, cached: r.cached, failed: r.failed,
        ms: r.end && r.start ? Math.round((r.end - r.start) * 1000) : null,
      });
    }
    const wasm = list.filter((r) => r.path.endsWith('.wasm'));
    return {
      bytes: byKind,
      total: Object.values(byKind).reduce((a, b) => a + b, 0),
      wasm_requests: wasm.length,
      wasm_downloads: wasm.filter((r) => r.bytes > 100_000).length,
      model_downloads: list.filter((r) => r.path.endsWith('.safetensors') && r.bytes > 100_000).length,
      requests: list,
    };
  }
}

/** Throttles a target's network; its events go to `net`. Child targets (the worker) are
 *  auto-attached (non-flat sessions through Target.sendMessageToTarget) and throttled before
 *  they run. */
async function instrument(cdp, net) {
  let nextId = 1;
  const pending = new Map();
  const childSend = (sessionId, method, params = {}) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(`${sessionId}:${id}`, { resolve, reject, method });
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
  });
  for (const m of ['Network.requestWillBeSent', 'Network.responseReceived', 'Network.loadingFinished',
    'Network.loadingFailed', 'Network.requestServedFromCache']) {
    cdp.on(m, (p) => net.on('page', m, p));
  }
  const children = [];
  cdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }) => {
    const msg = JSON.parse(message);
    if (msg.id !== undefined) {
      const w = pending.get(`${sessionId}:${msg.id}`);
      pending.delete(`${sessionId}:${msg.id}`);
      if (msg.error) w?.reject(new Error(`${w.method}: ${msg.error.message}`)); else w?.resolve(msg.result);
    } else if (msg.method?.startsWith('Network.')) {
      net.on(`worker`, msg.method, msg.params);
    }
  });
  cdp.on('Target.attachedToTarget', async ({ sessionId, targetInfo, waitingForDebugger }) => {
    const setup = (async () => {
      try {
        if (targetInfo.type === 'worker' || targetInfo.type === 'shared_worker') {
          await childSend(sessionId, 'Network.enable');
          // Dedicated workers inherit the page's emulation; the call is for other browsers.
          await childSend(sessionId, 'Network.emulateNetworkConditions', CONDITIONS).catch(() => {});
        }
      } finally {
        if (waitingForDebugger) await childSend(sessionId, 'Runtime.runIfWaitingForDebugger').catch(() => {});
      }
    })();
    children.push({ type: targetInfo.type, url: targetInfo.url, setup });
    await setup.catch((e) => console.error(`worker instrumentation failed: ${e.message}`));
  });
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', CONDITIONS);
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return children;
}

async function visit(profile, url, { screenshot = null } = {}) {
  const executablePath = process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: [...BASE_ARGS, ...(GPU ? WEBGPU_ARGS : [])],
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
    await page.addInitScript(pageProbe);
    const cdp = await context.newCDPSession(page);
    const net = new NetLog();
    const children = await instrument(cdp, net);
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    // Click the tabs as soon as they exist: Learn, then Data.
    await page.getByTestId('tab-learn').click({ timeout: TIMEOUT });
    await page.waitForFunction(() => window.__load.learn_usable !== undefined, null, { timeout: TIMEOUT });
    await page.getByTestId('tab-data').click({ timeout: TIMEOUT });
    await page.waitForFunction(() => window.__load.data_usable !== undefined, null, { timeout: TIMEOUT });
    if (screenshot) {
      await page.getByTestId('tab-learn').click();
      const t = await page.evaluate(() => window.__load.model_loaded);
      await page.screenshot({ path: screenshot });
      const status = await page.getByTestId('model-status').textContent().catch(() => '');
      console.error(`screenshot ${screenshot} at ${((Date.now() - t0) / 1000).toFixed(1)} s; model status: ${status.trim()}${t ? ' (already loaded)' : ''}`);
      await page.getByTestId('tab-data').click();
    }
    await page.waitForFunction(() => window.__load.model_loaded !== undefined && window.__load.data_ready !== undefined,
      null, { timeout: TIMEOUT, polling: 100 })
      .catch((e) => { throw new Error(`${e.message}\n${logs.join('\n')}`); });
    // Let late requests finish and be counted.
    await page.waitForTimeout(500);
    const times = await page.evaluate(() => ({ ...window.__load, coi: self.crossOriginIsolated }));
    const workers = children.map((c) => `${c.type} ${c.url}`);
    for (const c of children) await c.setup.catch(() => {});
    return { times, net: net.summary(), workers, logs };
  } finally {
    await context.close();
  }
}

const round = (t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v]));
const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;

const server = URL_ARG ? { url: URL_ARG.endsWith('/') ? URL_ARG : `${URL_ARG}/`, close: async () => {} } : await serveDist();
const results = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ntk-load-'));
    try {
      const url = `${server.url}${GPU ? '' : '?backend=cpu'}`;
      const first = await visit(profile, url, { screenshot: run === 0 ? SHOT : null });
      const repeat = await visit(profile, url);
      results.push({ first, repeat });
      for (const [name, v] of [['first visit', first], ['repeat visit', repeat]]) {
        const t = round(v.times);
        console.log(`\n== ${name} (${DOWN} Mbit/s down, ${UP} up, ${LATENCY} ms; ${t.backend}; crossOriginIsolated=${t.coi})`);
        console.log(`tabs painted ${t.tabs_painted} ms, Learn usable ${t.learn_usable} ms, Data usable ${t.data_usable} ms, ` +
          `data ready ${t.data_ready} ms, backend ${t.backend_ready} ms, model loaded ${t.model_loaded} ms`);
        const long = (v.times.long_tasks || []).filter(([, d]) => d >= 200);
        console.log(`page main-thread tasks >= 200 ms (start+duration ms): ${long.map(([a, d]) => `${a}+${d}`).join(', ') || 'none'}`);
        console.log(`data status: ${t.data_status}\nmodel status: ${t.model_status}`);
        console.log(`bytes: ${Object.entries(v.net.bytes).map(([k, b]) => `${k} ${mb(b)}`).join(', ')}; total ${mb(v.net.total)}`);
        console.log(`wasm requests ${v.net.wasm_requests}, wasm downloads ${v.net.wasm_downloads}, model downloads ${v.net.model_downloads}; workers: ${v.workers.join(', ')}`);
        for (const r of v.net.requests) {
          console.log(`  ${r.target.padEnd(6)} ${String(r.status).padEnd(4)} ${String(r.bytes).padStart(10)} B ${String(r.ms ?? '').padStart(6)} ms ${r.encoding || ''}${r.cached ? ' (cache)' : ''}${r.failed ? ` FAILED ${r.failed}` : ''} ${r.path}`);
        }
      }
    } finally {
      fs.rmSync(profile, { recursive: true, force: true });
    }
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ conditions: { DOWN, UP, LATENCY, GPU }, results }, null, 1));
} finally {
  await server.close();
}
