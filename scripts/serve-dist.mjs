#!/usr/bin/env node
// A static server for the built page (dist/), shared by scripts/serve.sh and the browser tests
// (tests/e2e/harness.mjs). No npm dependencies.
//
//   node scripts/serve-dist.mjs [DIR]        # DIR defaults to dist/; PORT (8088) and HOST (127.0.0.1)
//
// - Precompressed responses: every compressible file (wasm, js, css, html, json, csv, the model's
//   safetensors, …) is compressed once with gzip and brotli, and the smaller encoding the browser
//   accepts is sent with Content-Encoding and `Vary: Accept-Encoding`. The compressed copies are
//   kept on disk, keyed by the file's sha256, so a rebuild that leaves a file unchanged (the
//   45 MB model) costs no recompression; copies unused for a week are deleted. An encoding that
//   saves less than 3% is not used.
// - Caching: a strong ETag per file and encoding (from the sha256) and `Cache-Control: no-cache`:
//   the browser keeps every file and revalidates it (a 304, no body) on the next use, so a rebuilt
//   file under the same name is never served stale.
// - Cross-origin isolation: `Cross-Origin-Opener-Policy: same-origin` and
//   `Cross-Origin-Embedder-Policy: require-corp` (what wasm threads need later). Set COI=0 to leave
//   them out. Downloads from huggingface.co are CORS-mode fetches, which COEP allows.
//
// Environment: PORT, HOST, COI=0, PRECOMPRESS=0 (serve identity only), BROTLI_QUALITY (default 9),
// PRECOMPRESS_CACHE (default: <DIR>/../target/precompressed, or the temp dir).
import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

export const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8', '.csv': 'text/csv; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8', '.jsonl': 'application/jsonl; charset=utf-8',
  '.ico': 'image/x-icon',
};
/** Files worth compressing (images are compressed already). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.wasm', '.css', '.json', '.svg', '.safetensors',
  '.txt', '.md', '.csv', '.tsv', '.jsonl']);
const MIN_SIZE = 1024;
/** An encoding is used only when it saves at least this fraction. */
const MIN_SAVING = 0.03;

function cacheDirFor(root) {
  if (process.env.PRECOMPRESS_CACHE) return process.env.PRECOMPRESS_CACHE;
  const target = path.resolve(root, '..', 'target');
  if (fs.existsSync(target)) return path.join(target, 'precompressed');
  return path.join(os.tmpdir(), 'ntk-lens-precompressed');
}

async function sha256(file) {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * A static file server for `root`. Returns { server, ready, stats } where `ready` resolves once
 * every compressible file has its compressed copies (requests made earlier are still answered:
 * they wait for their own file only).
 */
export function createDistServer(root, {
  coi = process.env.COI !== '0',
  precompress = process.env.PRECOMPRESS !== '0',
  brotliQuality = Number(process.env.BROTLI_QUALITY || 9),
  cacheDir = cacheDirFor(root),
  log = () => {},
} = {}) {
  root = path.resolve(root);
  /** path -> { key (mtime+size), promise of { etag, variants: { identity, gzip?, br? } } } */
  const entries = new Map();
  const stats = { compressMs: 0, compressed: [] };

  async function compressTo(file, digest, enc, readBytes) {
    // Model weights are close to incompressible: brotli 5 gives what 9 gives (92% of the fp16
    // MiniLM) in a tenth of the time.
    const quality = path.extname(file) === '.safetensors' ? Math.min(5, brotliQuality) : brotliQuality;
    const out = path.join(cacheDir, `${digest}.${enc === 'br' ? `br${quality}` : 'gz9'}`);
    try {
      const st = await fsp.stat(out);
      const now = new Date();
      await fsp.utimes(out, now, now).catch(() => {}); // in use: kept by the pruning below
      return { path: out, size: st.size };
    } catch { /* not cached yet */ }
    const bytes = await readBytes();
    const t0 = performance.now();
    const data = enc === 'br'
      ? await brotli(bytes, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      } })
      : await gzip(bytes, { level: 9 });
    const ms = performance.now() - t0;
    stats.compressMs += ms;
    stats.compressed.push({ file: path.relative(root, file), enc, ms: Math.round(ms), from: bytes.length, to: data.length });
    log(`compressed ${path.relative(root, file)} with ${enc}: ${bytes.length} -> ${data.length} bytes in ${(ms / 1000).toFixed(1)} s`);
    await fsp.mkdir(cacheDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, out);
    return { path: out, size: data.length };
  }

  async function describe(file, st) {
    const digest = await sha256(file);
    const variants = { identity: { path: file, size: st.size } };
    const ext = path.extname(file);
    if (precompress && COMPRESSIBLE.has(ext) && st.size >= MIN_SIZE) {
      let bytesP = null;
      const bytes = () => (bytesP ??= fsp.readFile(file));
      // One after the other: the two encodings of a big file would otherwise hold two copies.
      for (const enc of ['gzip', 'br']) {
        const v = await compressTo(file, digest, enc, bytes);
        if (v.size <= st.size * (1 - MIN_SAVING)) variants[enc] = v;
      }
    }
    return { etag: digest.slice(0, 32), variants };
  }

  function entry(file, st) {
    const key = `${st.mtimeMs}:${st.size}`;
    let e = entries.get(file);
    if (!e || e.key !== key) {
      e = { key, promise: describe(file, st) };
      e.promise.catch(() => entries.delete(file));
      entries.set(file, e);
    }
    return e.promise;
  }

  async function walk(dir) {
    const out = [];
    for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) out.push(...await walk(p));
      else if (d.isFile()) out.push(p);
    }
    return out;
  }

  // Warm up: describe (hash and compress) every file, two at a time (the machine may have 2 cores).
  const ready = (async () => {
    const files = await walk(root);
    files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
    const queue = [...files];
    const worker = async () => {
      for (let f; (f = queue.shift());) await entry(f, await fsp.stat(f));
    };
    await Promise.all([worker(), worker()]);
    // Forget compressed copies nothing has used for a week (older builds).
    const week = Date.now() - 7 * 24 * 3600 * 1000;
    for (const name of await fsp.readdir(cacheDir).catch(() => [])) {
      const p = path.join(cacheDir, name);
      const st = await fsp.stat(p).catch(() => null);
      if (st && st.mtimeMs < week) await fsp.rm(p, { force: true });
    }
  })();

  function pick(variants, accept) {
    const accepts = (name) => new RegExp(`(^|[,\\s])${name}(\\s*;\\s*q=(?!0(\\.0*)?\\s*($|,))[0-9.]+)?\\s*($|,)`).test(accept);
    const options = [];
    if (variants.br && accepts('br')) options.push(['br', variants.br]);
    if (variants.gzip && accepts('gzip')) options.push(['gzip', variants.gzip]);
    options.sort((a, b) => a[1].size - b[1].size);
    return options[0] || ['identity', variants.identity];
  }

  const server = http.createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const url = new URL(req.url, 'http://localhost');
      let file = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
      if (file !== root && !file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
      let st = await fsp.stat(file).catch(() => null);
      if (st?.isDirectory()) {
        file = path.join(file, 'index.html');
        st = await fsp.stat(file).catch(() => null);
      }
      const headers = { 'cache-control': 'no-cache' };
      if (coi) {
        headers['cross-origin-opener-policy'] = 'same-origin';
        headers['cross-origin-embedder-policy'] = 'require-corp';
        headers['cross-origin-resource-policy'] = 'same-origin';
      }
      if (!st?.isFile()) {
        res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const { etag, variants } = await entry(file, st);
      const [enc, variant] = pick(variants, String(req.headers['accept-encoding'] || ''));
      const tag = `"${etag}-${enc}"`;
      Object.assign(headers, {
        'content-type': MIME[path.extname(file)] || 'application/octet-stream',
        etag: tag,
      });
      if (Object.keys(variants).length > 1) headers.vary = 'Accept-Encoding';
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === tag)) {
        res.writeHead(304, headers).end();
        return;
      }
      if (enc !== 'identity') headers['content-encoding'] = enc;
      headers['content-length'] = variant.size;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') { res.end(); return; }
      const stream = fs.createReadStream(variant.path);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch (e) {
      log(`error serving ${req.url}: ${e.stack || e}`);
      if (!res.headersSent) res.writeHead(500).end(String(e));
      else res.destroy();
    }
  });
  return { server, ready, stats };
}

/** Starts a server for `root` on host:port (0: any free port); resolves to { url, close, stats }. */
export async function serve(root, { port = 0, host = '127.0.0.1', waitReady = true, ...options } = {}) {
  const { server, ready, stats } = createDistServer(root, options);
  if (waitReady) await ready;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  return {
    url: `http://${host}:${addr.port}/`,
    stats,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(process.argv[2] || path.join(here, '..', 'dist'));
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    console.error(`${root}/index.html not found: build the page first (trunk build --release)`);
    process.exit(1);
  }
  const t0 = performance.now();
  const log = (m) => console.log(`[serve-dist] ${m}`);
  const s = await serve(root, {
    port: Number(process.env.PORT || 8088), host: process.env.HOST || '127.0.0.1', log,
  });
  log(`precompressed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  log(`serving ${root} on ${s.url}${process.env.COI === '0' ? '' : ' (cross-origin isolated)'}`);
}
