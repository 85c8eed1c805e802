// End-to-end tests of how the page is served and loaded (scripts/serve-dist.mjs, web/worker.js):
// compressed responses with validators, cross-origin isolation that still lets the worker reach
// another origin through CORS (as the hub download does), and each wasm module downloaded once: the
// page's, and the CPU worker's for the worker and its whole pool of threads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { serveDist, launch } from './harness.mjs';

let server;
before(async () => { server = await serveDist(); });
after(async () => { await server?.close(); });

test('files are served precompressed, with an ETag that revalidates, and cross-origin isolated', async () => {
  const wasm = new URL('ntk-lens-web_bg.wasm', server.url);
  const br = await fetch(wasm, { headers: { 'accept-encoding': 'gzip, br' } });
  const bytes = new Uint8Array(await br.arrayBuffer()); // fetch decodes the body
  assert.equal(br.status, 200);
  assert.equal(br.headers.get('content-encoding'), 'br');
  assert.equal(br.headers.get('content-type'), 'application/wasm');
  assert.match(br.headers.get('vary') ?? '', /accept-encoding/i);
  assert.equal(br.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(br.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.deepEqual([...bytes.slice(0, 4)], [0, 0x61, 0x73, 0x6d], 'decodes to a wasm module');
  assert.ok(Number(br.headers.get('content-length')) < bytes.length / 4, 'compressed to under a quarter');
  const gz = await fetch(wasm, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gz.headers.get('content-encoding'), 'gzip');
  assert.notEqual(gz.headers.get('etag'), br.headers.get('etag'), 'one ETag per encoding');
  const again = await fetch(wasm, { headers: { 'accept-encoding': 'gzip, br', 'if-none-match': br.headers.get('etag') } });
  assert.equal(again.status, 304);
  const plain = await fetch(new URL('models/all-MiniLM-L6-v2/config.json', server.url), { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.equal(plain.headers.get('content-type'), 'application/json');
});

test('each wasm module is downloaded once (the CPU worker\'s for its whole pool) and, cross-origin isolated, the worker still fetches from a CORS origin', async () => {
  // Another origin that answers like huggingface.co: CORS headers, no Cross-Origin-Resource-Policy.
  const hub = http.createServer((req, res) => {
    const h = req.url.includes('no-cors-headers') ? {} : { 'access-control-allow-origin': '*' };
    if (req.url.startsWith('/resolve/')) {
      res.writeHead(302, { ...h, location: req.url.replace('/resolve/', '/file/') }).end();
    } else {
      res.writeHead(200, { ...h, 'content-type': 'application/octet-stream' }).end('weights');
    }
  });
  await new Promise((r) => hub.listen(0, '127.0.0.1', r));
  const other = `http://localhost:${hub.address().port}`;
  const browser = await launch([]);
  try {
    const page = await browser.newPage();
    const requests = [];
    page.context().on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(`${server.url}?backend=cpu`);
    await page.waitForFunction(() => /^CPU/.test(document.querySelector('[data-testid="backend-status"]')?.textContent ?? ''));
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    // On the CPU of an isolated page the compute worker runs the CPU worker's module.
    const worker = page.workers().find((w) => w.url().includes('cpu-worker.js'));
    assert.ok(worker, `the CPU compute worker runs: ${page.workers().map((w) => w.url()).join(', ')}`);
    const r = await worker.evaluate(async (other) => {
      const get = async (path) => {
        try {
          const res = await fetch(other + path, { referrerPolicy: 'no-referrer' });
          return `${res.status} ${await res.text()}`;
        } catch (e) { return `failed: ${e}`; }
      };
      return {
        coi: self.crossOriginIsolated,
        redirected: await get('/resolve/model.safetensors'),
        noCors: await get('/file/no-cors-headers'),
      };
    }, other);
    assert.deepEqual(r, { coi: true, redirected: '200 weights', noCors: 'failed: TypeError: Failed to fetch' });
    // The worker's own requests are seen: the page's module once (the page's), the CPU module
    // once (the worker's; its pool's workers instantiate the module it posts them).
    assert.equal(requests.filter((p) => p === '/ntk-lens-web_bg.wasm').length, 1, requests.join(', '));
    assert.equal(requests.filter((p) => p === '/cpu/ntk-lens-cpu_bg.wasm').length, 1, requests.join(', '));
    assert.equal(requests.filter((p) => p.endsWith('.wasm')).length, 2, requests.join(', '));
  } finally {
    await browser.close();
    hub.close();
  }
});
