#!/usr/bin/env node
// Converts the F32 tensors of a safetensors file to F16 (IEEE binary16, round to nearest, ties to
// even; subnormals, infinities and NaN handled; values beyond the F16 range become ±Infinity).
// Tensors of other dtypes are copied unchanged; `__metadata__` is kept; tensors keep their order.
//
//   node scripts/to-fp16.mjs DIR/model.safetensors [OUT]
//
// OUT defaults to `model.fp16.safetensors` next to the input. The output is written to a temporary
// file and renamed, so an interrupted run never leaves a half-written OUT. Node 20, no packages.
// The conversion is deterministic: the same input always gives byte-identical output.

import { readFileSync, writeFileSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** The binary16 bits of the float32 whose bits are `bits` (an unsigned 32-bit integer). */
export function f32BitsToF16Bits(bits) {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) {
    // Infinity stays infinite; NaN stays NaN (quiet bit set, top payload bits kept).
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15; // the binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: ±Infinity
  let q;
  let rem;
  let half;
  if (e >= 1) {
    // Normal: keep 10 of the 23 mantissa bits.
    q = (e << 10) | (mant >>> 13);
    rem = mant & 0x1fff;
    half = 0x1000;
  } else {
    // Subnormal (or zero) in binary16: value / 2^-24 = full * 2^(e - 14).
    if (exp === 0 && mant === 0) return sign;
    const shift = 14 - e; // >= 14
    if (shift > 24) return sign; // below half the smallest subnormal: ±0
    const full = exp === 0 ? mant : mant | 0x800000;
    q = full >>> shift;
    rem = full & ((1 << shift) - 1);
    half = 1 << (shift - 1);
  }
  // Round to nearest, ties to even; a carry into the exponent is the correct next value
  // (largest subnormal -> smallest normal, 65504 -> Infinity).
  if (rem > half || (rem === half && (q & 1) === 1)) q += 1;
  return sign | q;
}

/** The binary16 bits of the number `x` (rounded to float32 first, as a stored F32 would be). */
export function f32ToF16Bits(x) {
  const f = new Float32Array([x]);
  return f16FromF32Buffer(new Uint32Array(f.buffer))[0];
}

function f16FromF32Buffer(words) {
  const out = new Uint16Array(words.length);
  for (let i = 0; i < words.length; i++) out[i] = f32BitsToF16Bits(words[i]);
  return out;
}

const fail = (file, message) => {
  const e = new Error(`${file}: ${message}`);
  e.userError = true;
  return e;
};

/**
 * Converts the safetensors bytes `input` (a Buffer). Returns `{ bytes, converted, kept }`;
 * throws an Error naming `file` for a truncated or malformed file.
 */
export function convertSafetensors(input, file = "input") {
  if (input.length < 8) throw fail(file, `only ${input.length} bytes; not a safetensors file`);
  const headerLen = Number(input.readBigUInt64LE(0));
  if (headerLen > input.length - 8) {
    throw fail(file, `header length ${headerLen} exceeds the file (${input.length} bytes); truncated?`);
  }
  let header;
  try {
    header = JSON.parse(input.subarray(8, 8 + headerLen).toString("utf8"));
  } catch (e) {
    throw fail(file, `the header is not valid JSON (${e.message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw fail(file, "the header is not a JSON object");
  }
  const dataStart = 8 + headerLen;
  const dataLen = input.length - dataStart;
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const tensors = names.map((name) => {
    const t = header[name];
    const [begin, end] = Array.isArray(t?.data_offsets) ? t.data_offsets : [];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin || end > dataLen) {
      throw fail(file, `tensor \`${name}\`: data_offsets ${JSON.stringify(t?.data_offsets)} outside the data (${dataLen} bytes); truncated?`);
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(file, `tensor \`${name}\`: bad shape ${JSON.stringify(t.shape)}`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype === "F32" && end - begin !== 4 * count) {
      throw fail(file, `tensor \`${name}\`: ${end - begin} bytes for ${count} F32 values`);
    }
    return { name, dtype: t.dtype, shape: t.shape, begin, end };
  });
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);

  const outHeader = {};
  if (header.__metadata__ !== undefined) outHeader.__metadata__ = header.__metadata__;
  const parts = [];
  let offset = 0;
  let converted = 0;
  let kept = 0;
  for (const t of tensors) {
    const src = input.subarray(dataStart + t.begin, dataStart + t.end);
    let bytes;
    if (t.dtype === "F32") {
      // Copy to an aligned buffer (the data section need not be 4-byte aligned in the Buffer).
      const words = new Uint32Array(src.length / 4);
      Buffer.from(words.buffer).set(src);
      // safetensors is little-endian; so is every platform Node 20 runs on.
      const half = f16FromF32Buffer(words);
      bytes = Buffer.from(half.buffer, half.byteOffset, half.byteLength);
      converted += 1;
    } else {
      bytes = src;
      kept += 1;
    }
    const dtype = t.dtype === "F32" ? "F16" : t.dtype;
    outHeader[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  // Pad the header with spaces to a multiple of 8 bytes, as the safetensors library does.
  let json = Buffer.from(JSON.stringify(outHeader), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return { bytes: Buffer.concat([len, json, ...parts]), converted, kept };
}

function main(argv) {
  if (argv.length < 1 || argv.length > 2 || argv[0].startsWith("-")) {
    console.error("usage: node scripts/to-fp16.mjs IN.safetensors [OUT.safetensors]");
    return 2;
  }
  const input = argv[0];
  const output = argv[1] ?? join(dirname(input), "model.fp16.safetensors");
  try {
    const { bytes, converted, kept } = convertSafetensors(readFileSync(input), input);
    const tmp = `${output}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, output);
    const mb = (n) => (n / 1e6).toFixed(1);
    const before = statSync(input).size;
    console.log(
      `${input} (${mb(before)} MB) -> ${output} (${mb(bytes.length)} MB): ` +
        `${converted} F32 tensors converted to F16, ${kept} kept`,
    );
    return 0;
  } catch (e) {
    console.error(`error: ${e.userError ? e.message : `${input}: ${e.message}`}`);
    return e.userError ? 2 : 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = main(process.argv.slice(2));
}
