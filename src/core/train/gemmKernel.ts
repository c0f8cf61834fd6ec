// The training runtime's one hot loop, C = A·B in float32, as a WebAssembly SIMD module assembled
// here from its instructions (as core/blend/mixKernel.ts assembles the blend kernel: no wasm
// toolchain in the build). Every convolution product of the tower, forward and backward, is this
// product in some layout (tower.ts). A 4×8 block of C lives in eight f32x4 registers while the
// kernel walks K: per step two loads of B's row, four splats of A's column, eight multiply-adds.
// Blocks of 8 columns outermost, so B's 8-column strip stays in L1 while every row block uses it.
//
//   (func (param $a $b $c $m $k $p $pn i32)   ;; byte offsets; m rows (multiple of 4), pn columns
//     for j in 0..pn step 8: for i in 0..m step 4:  ;; (multiple of 8) of row stride p, depth k ≥ 1
//       acc[r][h] = 0; for q in 0..k: b = B[q, j..j+8]; acc[r] += splat(A[i+r, q])·b
//       C[i+r, j..j+8] = acc[r])
import { kernelModule, leb, vec } from '../blend/mixKernel';

const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];
const simd = (op: number, ...rest: number[]) => [0xfd, ...leb(op), ...rest];
const i32 = (v: number) => [0x41, ...sleb(v)];
const add = 0x6a;
const mul = 0x6c;
const shl = 0x74;
const geU = 0x4f;
const ltU = 0x49;

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const [A, B, C, M, K, P, PN] = [0, 1, 2, 3, 4, 5, 6];
const [J, I, PA0, PA1, PA2, PA3, PB, END, KB, PBS, PC] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
const ACC = (r: number, h: number) => 18 + 2 * r + h;
const [B0, B1, AV] = [26, 27, 28];
const PA = [PA0, PA1, PA2, PA3];

const load = (offset: number) => simd(0x00, 4, ...leb(offset));
const store = (offset: number) => simd(0x0b, 4, ...leb(offset));
const f32Load = [0x2a, 2, 0];
const splat = simd(0x13);
const fmul = simd(0xe6);
const fadd = simd(0xe4);
const zero = simd(0x0c, ...new Array<number>(16).fill(0));
const bump = (l: number, by: number[]) => [...get(l), ...by, add, ...set(l)];

/** The depth loop: acc[r][h] += splat(*pa_r)·b_h, then pa_r += 4, pb += row stride, until pa0 = end. */
function depthLoop(): number[] {
  const rows = PA.flatMap((pa, r) => [
    ...get(pa),
    ...f32Load,
    ...splat,
    ...set(AV),
    ...[0, 1].flatMap((h) => [...get(ACC(r, h)), ...get(AV), ...get(h === 0 ? B0 : B1), ...fmul, ...fadd, ...set(ACC(r, h))]),
    ...bump(pa, i32(4)),
  ]);
  const body = [...get(PB), ...load(0), ...set(B0), ...get(PB), ...load(16), ...set(B1), ...rows, ...bump(PB, get(PBS))];
  return [0x03, 0x40, ...body, ...get(PA0), ...get(END), ltU, 0x0d, 0, 0x0b];
}

/** One 4×8 block of C at rows i, columns j. */
function block(): number[] {
  const rowPtrs = [
    ...get(A),
    ...get(I),
    ...get(KB),
    mul,
    add,
    ...set(PA0),
    ...[1, 2, 3].flatMap((r) => [...get(PA[r - 1]!), ...get(KB), add, ...set(PA[r]!)]),
    ...get(PA0),
    ...get(KB),
    add,
    ...set(END),
    ...get(B),
    ...get(J),
    ...i32(2),
    shl,
    add,
    ...set(PB),
  ];
  const clear = [0, 1, 2, 3].flatMap((r) => [0, 1].flatMap((h) => [...zero, ...set(ACC(r, h))]));
  const out = [
    ...get(C),
    ...get(I),
    ...get(PBS),
    mul,
    add,
    ...get(J),
    ...i32(2),
    shl,
    add,
    ...set(PC),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(PC),
      ...get(ACC(r, 0)),
      ...store(0),
      ...get(PC),
      ...get(ACC(r, 1)),
      ...store(16),
      ...bump(PC, get(PBS)),
    ]),
  ];
  return [...rowPtrs, ...clear, ...depthLoop(), ...out];
}

function gemmBody(): number[] {
  const loopOver = (v: number, bound: number, step: number, inner: number[]) => [
    ...i32(0),
    ...set(v),
    0x02,
    0x40,
    0x03,
    0x40,
    ...get(v),
    ...get(bound),
    geU,
    0x0d,
    1,
    ...inner,
    ...bump(v, i32(step)),
    0x0c,
    0,
    0x0b,
    0x0b,
  ];
  const prologue = [...get(K), ...i32(2), shl, ...set(KB), ...get(P), ...i32(2), shl, ...set(PBS)];
  const body = [...prologue, ...loopOver(J, PN, 8, loopOver(I, M, 4, block())), 0x0b];
  const locals = vec([
    [11, I32],
    [11, V128],
  ]);
  const fn = [...locals, ...body];
  return [...leb(fn.length), ...fn];
}

/** A module importing its memory as e.m and exporting `gemm(a, b, c, m, k, p, pn)`. */
export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  return kernelModule([I32, I32, I32, I32, I32, I32, I32], [{ name: 'gemm', body: gemmBody() }]);
}
