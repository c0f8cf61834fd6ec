// Alternatives to mixInto for the CPU-blend row: a chunked JS loop and a tiny hand-written wasm
// SIMD module (no toolchain: the bytes are assembled below). The wasm kernel computes exactly what
// mixInto computes — (1-α)·a + α·b in float64, rounded once to float32 — so results are bit-equal;
// a float32x4 variant (≤ 1 ulp different) is measured too.
//
// The wasm kernels need θ0, θ1 and θ(α) in wasm memory; the bench copies them in once (untimed),
// as a blender that owned its buffers there would.

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];

const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const simd = (op: number, ...rest: number[]) => [0xfd, ...leb(op), ...rest];
const load = simd(0x00, 4, 0);
const store = simd(0x0b, 4, 0);
const bump = (i: number) => [...get(i), 0x41, 16, 0x6a, ...set(i)];
// (out, a, b, n, alpha: f64) with n a multiple of 4 elements; locals 5.. as declared.
function kernel(exact: boolean): number[] {
  const OUT = 0, A = 1, B = 2, N = 3, ALPHA = 4, VA = 5, VB = 6, END = 7, X = 8, Y = 9;
  const prologue = exact
    ? [...get(ALPHA), ...simd(0x14), ...set(VA), 0x44, ...new Array(6).fill(0), 0xf0, 0x3f, ...get(ALPHA), 0xa1, ...simd(0x14), ...set(VB)]
    : [...get(ALPHA), 0xb6, ...simd(0x13), ...set(VA), 0x43, 0, 0, 0x80, 0x3f, ...get(ALPHA), 0xb6, 0x93, ...simd(0x13), ...set(VB)];
  const promote = simd(0x5f);
  const hiToLo = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  const mulF64 = simd(0xf2), addF64 = simd(0xf0), mulF32 = simd(0xe6), addF32 = simd(0xe4);
  const demote = simd(0x5e);
  const join = simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  // half(k): (1-α)·a + α·b on the two lanes picked by k (k = 0 low, 1 high), as f64x2.
  const half = (hi: boolean) => [
    ...get(X), ...(hi ? [...get(X), ...hiToLo] : []), ...promote, ...get(VB), ...mulF64,
    ...get(Y), ...(hi ? [...get(Y), ...hiToLo] : []), ...promote, ...get(VA), ...mulF64, ...addF64, ...demote,
  ];
  const step = exact
    ? [...get(OUT), ...get(A), ...load, ...set(X), ...get(B), ...load, ...set(Y), ...half(false), ...half(true), ...join, ...store]
    : [...get(OUT), ...get(A), ...load, ...get(VB), ...mulF32, ...get(B), ...load, ...get(VA), ...mulF32, ...addF32, ...store];
  const body = [
    ...prologue,
    ...get(OUT), ...get(N), 0x41, 2, 0x74, 0x6a, ...set(END),
    0x02, 0x40, ...get(OUT), ...get(END), 0x4f, 0x0d, 0,
    0x03, 0x40, ...step, ...bump(OUT), ...bump(A), ...bump(B), ...get(OUT), ...get(END), 0x49, 0x0d, 0, 0x0b,
    0x0b, 0x0b,
  ];
  const locals = vec([[2, V128], [1, I32], [2, V128]]);
  const fn = [...locals, ...body];
  return [...leb(fn.length), ...fn];
}

/** The module src/core/blend/cpu.ts embeds: only the exact kernel, exported as `mix`. */
export function exactModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, 5, I32, I32, I32, I32, F64, 0];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([type])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('mix'), 0x00, 0]])),
    ...section(10, vec([kernel(true)])),
  ]);
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, 5, I32, I32, I32, I32, F64, 0];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([type])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [0]])),
    ...section(7, vec([[...name('exact'), 0x00, 0], [...name('fast'), 0x00, 1]])),
    ...section(10, vec([kernel(true), kernel(false)])),
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
      for (let i = 0; i < n; i++) res[k === 'exact' ? 'exactMaxUlp' : 'fastMaxUlp'] = Math.max(res[k === 'exact' ? 'exactMaxUlp' : 'fastMaxUlp'], Math.abs(gi[i]! - wi[i]!));
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
    const o = out.subarray(s, e), x = a.subarray(s, e), y = b.subarray(s, e);
    const m = e - s;
    for (let i = 0; i < m; i++) o[i] = beta * x[i]! + alpha * y[i]!;
  }
}
