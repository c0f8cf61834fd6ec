// The blend kernel's WebAssembly module, assembled here from its instructions: there is no wasm
// toolchain in the build, and bytes written out by hand (or a base64 blob) cannot be reviewed.
// The exact kernel computes what mixInto computes — (1-α)·a + α·b in float64, rounded once to
// float32 — so both CPU paths give bit-identical weights; bench/ also assembles the float32x4
// variant (≤ 1 ulp different) from here, to measure it.
//
//   (func (param $out i32) (param $a i32) (param $b i32) (param $n i32) (param $alpha f64)
//     va = f64x2.splat(alpha); vb = f64x2.splat(1 - alpha); end = out + 4n
//     loop while out < end:
//       x = v128.load(a); y = v128.load(b)
//       lo = f32x4.demote_f64x2_zero(promote_low(x)·vb + promote_low(y)·va)
//       hi = the same on lanes 2, 3 (i8x16.shuffle)
//       v128.store(out, shuffle(lo, hi)); out, a, b += 16)
// The memory is imported as e.m; offsets are bytes into it, n a multiple of 4 elements.

export const leb = (n: number): number[] => {
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
export const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];

const I32 = 0x7f,
  F64 = 0x7c,
  V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const simd = (op: number, ...rest: number[]) => [0xfd, ...leb(op), ...rest];
const load = simd(0x00, 4, 0);
const store = simd(0x0b, 4, 0);
const bump = (i: number) => [...get(i), 0x41, 16, 0x6a, ...set(i)];
// (out, a, b, n, alpha: f64) with n a multiple of 4 elements; locals 5.. as declared.
function kernel(exact: boolean): number[] {
  const OUT = 0,
    A = 1,
    B = 2,
    N = 3,
    ALPHA = 4,
    VA = 5,
    VB = 6,
    END = 7,
    X = 8,
    Y = 9;
  const prologue = exact
    ? [...get(ALPHA), ...simd(0x14), ...set(VA), 0x44, ...new Array(6).fill(0), 0xf0, 0x3f, ...get(ALPHA), 0xa1, ...simd(0x14), ...set(VB)]
    : [...get(ALPHA), 0xb6, ...simd(0x13), ...set(VA), 0x43, 0, 0, 0x80, 0x3f, ...get(ALPHA), 0xb6, 0x93, ...simd(0x13), ...set(VB)];
  const promote = simd(0x5f);
  const hiToLo = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  const mulF64 = simd(0xf2),
    addF64 = simd(0xf0),
    mulF32 = simd(0xe6),
    addF32 = simd(0xe4);
  const demote = simd(0x5e);
  const join = simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  // half(k): (1-α)·a + α·b on the two lanes picked by k (k = 0 low, 1 high), as f64x2.
  const half = (hi: boolean) => [
    ...get(X),
    ...(hi ? [...get(X), ...hiToLo] : []),
    ...promote,
    ...get(VB),
    ...mulF64,
    ...get(Y),
    ...(hi ? [...get(Y), ...hiToLo] : []),
    ...promote,
    ...get(VA),
    ...mulF64,
    ...addF64,
    ...demote,
  ];
  const step = exact
    ? [...get(OUT), ...get(A), ...load, ...set(X), ...get(B), ...load, ...set(Y), ...half(false), ...half(true), ...join, ...store]
    : [...get(OUT), ...get(A), ...load, ...get(VB), ...mulF32, ...get(B), ...load, ...get(VA), ...mulF32, ...addF32, ...store];
  const body = [
    ...prologue,
    ...get(OUT),
    ...get(N),
    0x41,
    2,
    0x74,
    0x6a,
    ...set(END),
    0x02,
    0x40,
    ...get(OUT),
    ...get(END),
    0x4f,
    0x0d,
    0,
    0x03,
    0x40,
    ...step,
    ...bump(OUT),
    ...bump(A),
    ...bump(B),
    ...get(OUT),
    ...get(END),
    0x49,
    0x0d,
    0,
    0x0b,
    0x0b,
    0x0b,
  ];
  const locals = vec([
    [2, V128],
    [1, I32],
    [2, V128],
  ]);
  const fn = [...locals, ...body];
  return [...leb(fn.length), ...fn];
}

/** A kernel to export: the exact one (bit-equal to mixInto) or the float32x4 one (bench only). */
export interface MixExport {
  name: string;
  exact: boolean;
}

/**
 * A module importing its memory as e.m (one page minimum) and exporting `fns` in order, all of one
 * function type `params` → (): the framing every kernel here shares.
 */
export function kernelModule(params: readonly number[], fns: readonly { name: string; body: number[] }[]): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec([[0x60, params.length, ...params, 0]])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec(fns.map(() => [0]))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, i]))),
    ...section(10, vec(fns.map((f) => f.body))),
  ]);
}

/** A module exporting each kernel under its name, each (out, a, b, n, alpha) → (). */
export function mixModuleBytes(exports: readonly MixExport[]): Uint8Array<ArrayBuffer> {
  return kernelModule(
    [I32, I32, I32, I32, F64],
    exports.map((e) => ({ name: e.name, body: kernel(e.exact) })),
  );
}

/** The module the CPU blender runs: the exact kernel alone, as `mix`. */
export function blendModuleBytes(): Uint8Array<ArrayBuffer> {
  return mixModuleBytes([{ name: 'mix', exact: true }]);
}

// The soup kernel: θ = Σₖ wₖ·θₖ over K members with the weights of one tensor, in float64 and
// rounded once to float32, as mixMembersInto computes it. The caller passes only the members whose
// weight is not 0 (so K here may be 1: a one-hot blend is a copy through x·1, exact). One module per K with the member loop
// unrolled: the K pointers and splatted weights live in locals, so the inner loop is the pair
// kernel's with K loads instead of two, and K = 2 computes exactly what `mix` does (x·w₀ + y·w₁,
// the same two roundings).
//
//   (func (param $out i32) (param $table i32) (param $n i32)
//     table: K rows of 16 bytes, { member's byte offset: i32, pad, wₖ: f64 }
//     pₖ = i32.load(table + 16k); wₖ = v128.load64_splat(table + 16k + 8)
//     loop while out < out + 4n:
//       lo = Σₖ promote_low(load(pₖ))·wₖ; hi = the same on lanes 2, 3
//       v128.store(out, shuffle(demote(lo), demote(hi))); out, pₖ += 16)
function soupKernel(k: number): number[] {
  const OUT = 0,
    TABLE = 1,
    N = 2;
  const P = (m: number) => 3 + m;
  const END = 3 + k;
  const W = (m: number) => 4 + k + m;
  const X = 4 + 2 * k,
    LO = 5 + 2 * k,
    HI = 6 + 2 * k;
  const getL = (i: number) => [0x20, ...leb(i)];
  const setL = (i: number) => [0x21, ...leb(i)];
  const i32Load = (offset: number) => [0x28, 2, ...leb(offset)];
  const load64Splat = (offset: number) => simd(0x0a, 3, ...leb(offset));
  const promote = simd(0x5f);
  const hiToLo = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  const mulF64 = simd(0xf2),
    addF64 = simd(0xf0),
    demote = simd(0x5e);
  const join = simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const bumpL = (i: number) => [...getL(i), 0x41, 16, 0x6a, ...setL(i)];
  const prologue: number[] = [];
  for (let m = 0; m < k; m++) {
    prologue.push(...getL(TABLE), ...i32Load(16 * m), ...setL(P(m)));
    prologue.push(...getL(TABLE), ...load64Splat(16 * m + 8), ...setL(W(m)));
  }
  // Member m's term on the low (or high) two lanes, added to the accumulator after the first: the
  // first member starts it, so K = 2 is x·w₀ + y·w₁ with no 0 + … in front (which would turn −0 into +0).
  const term = (m: number, hi: boolean, acc: number) => [
    ...(m > 0 ? getL(acc) : []),
    ...getL(X),
    ...(hi ? [...getL(X), ...hiToLo] : []),
    ...promote,
    ...getL(W(m)),
    ...mulF64,
    ...(m > 0 ? addF64 : []),
    ...setL(acc),
  ];
  const step: number[] = [];
  for (let m = 0; m < k; m++) step.push(...getL(P(m)), ...load, ...setL(X), ...term(m, false, LO), ...term(m, true, HI));
  step.push(...getL(OUT), ...getL(LO), ...demote, ...getL(HI), ...demote, ...join, ...store);
  const bumps = [OUT, ...Array.from({ length: k }, (_, m) => P(m))].flatMap(bumpL);
  const body = [
    ...prologue,
    ...getL(OUT),
    ...getL(N),
    0x41,
    2,
    0x74,
    0x6a,
    ...setL(END),
    0x02,
    0x40,
    ...getL(OUT),
    ...getL(END),
    0x4f,
    0x0d,
    0,
    0x03,
    0x40,
    ...step,
    ...bumps,
    ...getL(OUT),
    ...getL(END),
    0x49,
    0x0d,
    0,
    0x0b,
    0x0b,
    0x0b,
  ];
  const locals = vec([
    [...leb(k + 1), I32],
    [...leb(k + 3), V128],
  ]);
  const fn = [...locals, ...body];
  return [...leb(fn.length), ...fn];
}

/** The soup module for K terms: one export, `soup(out, table, n)`; offsets are bytes into e.m. */
export function soupModuleBytes(k: number): Uint8Array<ArrayBuffer> {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`the soup kernel sums at least one member, got ${k}`);
  return kernelModule([I32, I32, I32], [{ name: 'soup', body: soupKernel(k) }]);
}
