// Checks scripts/to-fp16.mjs: known binary16 values (from numpy's float32 -> float16 cast), the
// rounding edge cases, and a round trip of a small safetensors file with metadata and an I64
// tensor.   node scripts/to-fp16.test.mjs
import assert from "node:assert/strict";
import { convertSafetensors, f32ToF16Bits, f32BitsToF16Bits } from "./to-fp16.mjs";

// [float32 value, binary16 bits] — expected bits from numpy `np.float32(v).astype(np.float16)`.
const known = [
  [0.0, 0x0000], [-0.0, 0x8000], [1.0, 0x3c00], [-2.0, 0xc000],
  [0.1, 0x2e66], [1 / 3, 0x3555],
  [65504, 0x7bff], // largest finite
  [65519.99, 0x7bff], // just below the halfway point to 65536
  [65520, 0x7c00], // halfway, ties to even -> Infinity
  [1e6, 0x7c00], [-1e6, 0xfc00],
  [2 ** -14, 0x0400], // smallest normal
  [2 ** -14 * (1 - 2 ** -11), 0x0400], // rounds up from the largest subnormal range
  [2 ** -24, 0x0001], // smallest subnormal
  [2 ** -25, 0x0000], // halfway to it, ties to even -> 0
  [2 ** -25 * 1.0000001, 0x0001], // just above halfway
  [2 ** -26, 0x0000],
  [1.5 * 2 ** -24, 0x0002], // subnormal tie -> even
  [2.5 * 2 ** -24, 0x0002], // subnormal tie -> even
  [1 + 2 ** -11, 0x3c00], // normal tie -> even (down)
  [1 + 3 * 2 ** -11, 0x3c02], // normal tie -> even (up)
  [1e-45, 0x0000], // float32 subnormal
  [Infinity, 0x7c00], [-Infinity, 0xfc00], [NaN, 0x7e00],
];
for (const [v, bits] of known) {
  assert.equal(f32ToF16Bits(v), bits, `${v}: got 0x${f32ToF16Bits(v).toString(16)}, want 0x${bits.toString(16)}`);
}
// NaN payloads stay NaN (never become Infinity), with the sign kept.
assert.equal(f32BitsToF16Bits(0x7f800001) & 0x7c00, 0x7c00);
assert.notEqual(f32BitsToF16Bits(0x7f800001) & 0x03ff, 0);
assert.equal(f32BitsToF16Bits(0xffc00000), 0xfe00);

// Every binary16 value converts back to itself through float32 (exactly representable).
const f16ToF32 = (h) => {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
};
for (let h = 0; h < 0x10000; h++) {
  const back = f32ToF16Bits(f16ToF32(h));
  if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads canonicalise
  assert.equal(back, h, `0x${h.toString(16)}`);
}

// A small file: an F32 tensor, an I64 tensor (kept), metadata (kept).
const f32 = new Float32Array([1, -0.5, 65520, 2 ** -24, 0.1, NaN]);
const i64 = new BigInt64Array([7n, -1n]);
const header = {
  __metadata__: { format: "pt" },
  ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] },
  w: { dtype: "F32", shape: [2, 3], data_offsets: [16, 40] },
};
const json = Buffer.from(JSON.stringify(header));
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(json.length));
const file = Buffer.concat([len, json, Buffer.from(i64.buffer), Buffer.from(f32.buffer)]);
const { bytes, converted, kept } = convertSafetensors(file, "tiny.safetensors");
assert.deepEqual([converted, kept], [1, 1]);
const hl = Number(bytes.readBigUInt64LE(0));
assert.equal(hl % 8, 0);
const out = JSON.parse(bytes.subarray(8, 8 + hl).toString());
assert.deepEqual(out.__metadata__, { format: "pt" });
assert.deepEqual(out.ids, { dtype: "I64", shape: [2], data_offsets: [0, 16] });
assert.deepEqual(out.w, { dtype: "F16", shape: [2, 3], data_offsets: [16, 28] });
const data = bytes.subarray(8 + hl);
assert.deepEqual(Buffer.from(data.subarray(0, 16)), Buffer.from(i64.buffer));
const halves = [];
for (let i = 0; i < 6; i++) halves.push(data.readUInt16LE(16 + 2 * i));
assert.deepEqual(halves, [0x3c00, 0xb800, 0x7c00, 0x0001, 0x2e66, 0x7e00]);

// Truncated and malformed inputs are errors naming the file.
assert.throws(() => convertSafetensors(file.subarray(0, file.length - 4), "t.safetensors"), /t\.safetensors: tensor `w`.*truncated/);
assert.throws(() => convertSafetensors(file.subarray(0, 20), "t.safetensors"), /t\.safetensors: header length/);
assert.throws(() => convertSafetensors(Buffer.from("xy"), "t.safetensors"), /not a safetensors file/);

console.log(`to-fp16: ${known.length} known values, all 65536 binary16 round trips, file layout: ok`);
