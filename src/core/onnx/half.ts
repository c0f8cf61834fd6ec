// IEEE 754 binary16 <-> binary32, bit-exact, round-to-nearest-even (as numpy's astype does).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

// All 65,536 halves, decoded once: widening a CLIP-sized fp16 checkpoint is then one table lookup
// per weight (the per-value function call made fp16 loads ~6× slower than fp32 ones).
let table: Float32Array | null = null;

export function halvesToFloats(h: Uint16Array, out: Float32Array = new Float32Array(h.length)): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = halfToFloat(i);
  }
  const t = table;
  for (let i = 0; i < h.length; i++) out[i] = t[h[i]!]!;
  return out;
}

export function floatsToHalves(f: Float32Array, out: Uint16Array = new Uint16Array(f.length)): Uint16Array {
  for (let i = 0; i < f.length; i++) out[i] = floatToHalf(f[i]!);
  return out;
}
