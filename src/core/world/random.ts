// numpy's random stream, bit for bit: SeedSequence (numpy/random/bit_generator.pyx), the PCG64 bit
// generator (src/pcg64: 128-bit LCG, XSL-RR output, a buffered upper half for 32-bit draws) and the
// Generator methods tools/world.py calls (src/distributions/distributions.c). The world's images
// are a function of these draws, so the page renders the pipeline's images only if every draw,
// including the rejected ones, is numpy's.
import { FI_DOUBLE, KI_DOUBLE, WI_DOUBLE, ZIGGURAT_NOR_INV_R, ZIGGURAT_NOR_R } from './zigguratTables';

const TWO32 = 4294967296;
const TWO_POW_M53 = 1 / 9007199254740992;
const MASK64 = (1n << 64n) - 1n;

/** Entropy words: each non-negative integer split into uint32 words, lowest first (`_coerce_to_uint32_array`). */
function entropyWords(entropy: readonly (number | bigint)[]): number[] {
  const words: number[] = [];
  for (const e of entropy) {
    let v = BigInt(e);
    if (v < 0n) throw new RangeError(`SeedSequence entropy must be non-negative, got ${e}`);
    if (v === 0n) words.push(0);
    while (v > 0n) {
      words.push(Number(v & 0xffffffffn));
      v >>= 32n;
    }
  }
  return words;
}

/** numpy.random.SeedSequence(entropy) with pool size 4 and no spawn key: its `generate_state(n, uint64)`. */
export function seedSequenceState(entropy: readonly (number | bigint)[], words64: number): bigint[] {
  let hashConst = 0x43b0d7e5;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, 0x931e8875) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const words = entropyWords(entropy);
  const pool = [0, 1, 2, 3].map((i) => hashmix(i < words.length ? words[i]! : 0));
  for (let src = 0; src < 4; src++) for (let dst = 0; dst < 4; dst++) if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
  for (let src = 4; src < words.length; src++) for (let dst = 0; dst < 4; dst++) pool[dst] = mix(pool[dst]!, hashmix(words[src]!));
  let constB = 0x8b51f9dd;
  const out32 = Array.from({ length: words64 * 2 }, (_, i) => {
    let v = (pool[i % 4]! ^ constB) >>> 0;
    constB = Math.imul(constB, 0x58f38ded) >>> 0;
    v = Math.imul(v, constB) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  });
  return Array.from({ length: words64 }, (_, i) => (BigInt(out32[2 * i + 1]!) << 32n) | BigInt(out32[2 * i]!));
}

/** A 128-bit integer as eight 16-bit limbs, lowest first: products of two limbs stay exact in a double. */
function limbs(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(16 * i)) & 0xffffn));
}

const MULTIPLIER = limbs((2549297995355413924n << 64n) + 4865540595714422341n);

/** numpy.random.PCG64 seeded from a SeedSequence, with numpy's Generator methods on top. */
export class NumpyRandom {
  private readonly state: number[];
  private readonly inc: number[];
  private hasUint32 = false;
  private upper32 = 0;
  /** The last 64-bit draw, as two uint32 halves (no allocation per draw). */
  private hi = 0;
  private lo = 0;

  /** `np.random.default_rng(np.random.SeedSequence(entropy))`. */
  constructor(entropy: readonly (number | bigint)[]) {
    const [s0, s1, i0, i1] = seedSequenceState(entropy, 4) as [bigint, bigint, bigint, bigint];
    const initState = (s0 << 64n) | s1;
    const initSeq = (i0 << 64n) | i1;
    this.inc = limbs(((initSeq << 1n) | 1n) & ((1n << 128n) - 1n));
    this.state = limbs(0n);
    this.step();
    this.state.splice(0, 8, ...limbs((this.stateBig() + initState) & ((1n << 128n) - 1n)));
    this.step();
  }

  private stateBig(): bigint {
    return this.state.reduce((acc, l, i) => acc | (BigInt(l) << BigInt(16 * i)), 0n);
  }

  /** state = state × multiplier + inc (mod 2^128), limb by limb. */
  private step(): void {
    const s = this.state;
    const next = new Array<number>(8);
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      let acc = carry + this.inc[k]!;
      for (let i = 0; i <= k; i++) acc += s[i]! * MULTIPLIER[k - i]!;
      next[k] = acc % 65536;
      carry = Math.floor(acc / 65536);
    }
    for (let k = 0; k < 8; k++) s[k] = next[k]!;
  }

  /** The next 64-bit output (XSL-RR), left in `hi`/`lo`. */
  private next64(): void {
    this.step();
    const s = this.state;
    const hiWord = (s[4]! + s[5]! * 65536) >>> 0;
    const hiTop = (s[6]! + s[7]! * 65536) >>> 0;
    const xLo = ((s[0]! + s[1]! * 65536) ^ hiWord) >>> 0;
    const xHi = ((s[2]! + s[3]! * 65536) ^ hiTop) >>> 0;
    const rot = hiTop >>> 26;
    if (rot === 0) {
      this.hi = xHi;
      this.lo = xLo;
    } else if (rot < 32) {
      this.lo = ((xLo >>> rot) | (xHi << (32 - rot))) >>> 0;
      this.hi = ((xHi >>> rot) | (xLo << (32 - rot))) >>> 0;
    } else if (rot === 32) {
      this.lo = xHi;
      this.hi = xLo;
    } else {
      const r = rot - 32;
      this.lo = ((xHi >>> r) | (xLo << (32 - r))) >>> 0;
      this.hi = ((xLo >>> r) | (xHi << (32 - r))) >>> 0;
    }
  }

  /** The next raw 64-bit output as a bigint (for tests against numpy's `bit_generator.random_raw`). */
  nextUint64(): bigint {
    this.next64();
    return ((BigInt(this.hi) << 32n) | BigInt(this.lo)) & MASK64;
  }

  /** pcg64_next32: the low half of a fresh draw, its high half kept for the next call. */
  private next32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.upper32;
    }
    this.next64();
    this.hasUint32 = true;
    this.upper32 = this.hi;
    return this.lo;
  }

  private nextDouble(): number {
    this.next64();
    return (this.hi * 2097152 + (this.lo >>> 11)) * TWO_POW_M53;
  }

  /** `rng.random(n)`. */
  random(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.nextDouble();
    return out;
  }

  /** `rng.uniform(low, high, n)`: low + (high − low) × U. */
  uniform(low: number, high: number, n: number): Float64Array {
    const range = high - low;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = low + range * this.nextDouble();
    return out;
  }

  /** `rng.integers(low, high, n)` (int64, high exclusive) for ranges below 2^32: numpy's buffered 32-bit Lemire. */
  integers(low: number, high: number, n: number): Float64Array {
    const rng = high - 1 - low;
    if (!(Number.isInteger(rng) && rng >= 0 && rng < 0xffffffff))
      throw new RangeError(`integers(${low}, ${high}) is outside the ported range`);
    const out = new Float64Array(n).fill(low);
    if (rng === 0) return out;
    const excl = rng + 1;
    const threshold = (0xffffffff - rng) % excl;
    for (let i = 0; i < n; i++) {
      let m = mul32(this.next32(), excl);
      if (m.low < excl) while (m.low < threshold) m = mul32(this.next32(), excl);
      out[i] = low + m.high;
    }
    return out;
  }

  /** `rng.standard_normal(n)`: numpy's 256-layer ziggurat on 64-bit draws. */
  standardNormal(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  private normal(): number {
    for (;;) {
      this.next64();
      const idx = this.lo & 0xff;
      // r >> 8: bit 0 is the sign, bits 1..52 the magnitude (rabs, below 2^52).
      const sign = (this.lo >>> 8) & 1;
      const rabs = (this.hi & 0x1fffffff) * 8388608 + (this.lo >>> 9);
      let x = rabs * WI_DOUBLE[idx]!;
      if (sign) x = -x;
      if (rabs < KI_DOUBLE[idx]!) return x;
      if (idx === 0) {
        for (;;) {
          const xx = -ZIGGURAT_NOR_INV_R * Math.log1p(-this.nextDouble());
          const yy = -Math.log1p(-this.nextDouble());
          if (yy + yy > xx * xx) return Math.floor(rabs / 256) % 2 ? -(ZIGGURAT_NOR_R + xx) : ZIGGURAT_NOR_R + xx;
        }
      }
      if ((FI_DOUBLE[idx - 1]! - FI_DOUBLE[idx]!) * this.nextDouble() + FI_DOUBLE[idx]! < Math.exp(-0.5 * x * x)) return x;
    }
  }
}

/** The 64-bit product of two uint32s as its high and low words (each part exact in a double). */
function mul32(a: number, b: number): { high: number; low: number } {
  const lowPart = (a % 65536) * b;
  const highPart = Math.floor(a / 65536) * b;
  const t = (highPart % 65536) * 65536 + lowPart;
  return { high: Math.floor(highPart / 65536) + Math.floor(t / TWO32), low: t % TWO32 };
}
