import type { Tensor } from 'onnxruntime-common';
import { membersOf, type WeightTensor } from './weights';
import { wasmResident, type WasmArena } from './arena';
import type { BlendedTensor, TensorModule, WeightBlender } from './blender';
import { coefficientMatrix, membersCount, type BlendCoefficients } from './coefficients';
import { floatsToHalves } from '../onnx/half';

export type { WasmArena };

/**
 * θ = Σₖ wₖ·θₖ on the CPU (a pair: (1-α)·θ0 + α·θ1), in float32, into buffers allocated once.
 * Written as a weighted sum rather than θ0 + α·(θ1-θ0) so that α = 0 and α = 1, and any one-hot
 * weights, give that member bit-exactly.
 *
 * Where WebAssembly SIMD is available the blend runs in a tiny wasm kernel over θ0, θ1 and θ(α)
 * kept in one wasm memory (the pairs' arrays become views into it, so nothing is held twice): the
 * scalar JS loop reaches about a third of TypedArray.set's bandwidth, the kernel 60–80%
 * (docs/benchmarks.md). It computes exactly what mixMembersInto computes, the sum in float64 in
 * member order and rounded once to float32, so both paths give bit-identical weights. Without
 * SIMD, or when the weights do not fit one wasm memory (4 GiB), mixMembersInto runs.
 */
export class CpuBlender implements WeightBlender {
  readonly kind: 'cpu-simd' | 'cpu-js';
  readonly gpuBytes = 0;
  readonly members: number;
  readonly outputs: Map<string, Float32Array>;
  private readonly simd: WasmArena | null;
  private readonly names: string[];
  private tensors: Record<string, Tensor> | null = null;

  /** `arena`: where `pairs` were extracted into (else they are copied into a new one). */
  constructor(
    readonly pairs: readonly WeightTensor[],
    arena?: WasmArena | null,
  ) {
    this.members = membersCount(pairs);
    this.simd = arena ?? wasmResident(pairs);
    if (this.simd && this.simd.k !== this.members)
      throw new Error(`the blend memory holds ${this.simd.k} members per tensor, the tensors ${this.members}`);
    this.kind = this.simd ? 'cpu-simd' : 'cpu-js';
    const simd = this.simd;
    const outputFor = (p: WeightTensor) => {
      const n = membersOf(p)[0]!.length;
      return simd ? new Float32Array(simd.memory.buffer, simd.at.get(p.name)!.out, n) : new Float32Array(n);
    };
    this.outputs = new Map(pairs.map((p) => [p.name, outputFor(p)]));
    this.names = pairs.map((p) => p.name);
  }

  // The arena's memory never grows once the blender has it (a fixed size, or a streamed load's
  // memory at its final size), so its buffer is never detached and these views, and the tensors
  // over them, stay valid for the blender's life.
  feeds(ort: TensorModule, feedNames: ReadonlyMap<string, string>): Readonly<Record<string, Tensor>> {
    if (!this.tensors) {
      this.tensors = {};
      for (const p of this.pairs) this.tensors[feedNames.get(p.name)!] = new ort.Tensor('float32', this.outputs.get(p.name)!, p.shape);
    }
    return this.tensors;
  }

  blend(c: BlendCoefficients): void {
    const k = this.members;
    const w = coefficientMatrix(c, this.names, k);
    this.pairs.forEach((p, t) => {
      const row = w.subarray(t * k, (t + 1) * k);
      if (this.simd) this.simd.soup(this.simd.at.get(p.name)!, row);
      else mixMembersInto(this.outputs.get(p.name)!, membersOf(p), row);
    });
  }

  async readBlended(): Promise<BlendedTensor[]> {
    return this.pairs.map((p) => {
      const values = this.outputs.get(p.name)!;
      return { name: p.name, dims: p.shape, dtype: p.dtype, values: p.dtype === 'float16' ? floatsToHalves(values) : values };
    });
  }

  dispose(): void {
    this.tensors = null;
  }
}

/**
 * Σₖ wₖ·θₖ in float64, member by member in order, rounded once to float32. A member whose weight
 * is 0 is left out rather than added as 0·θₖ: a one-hot vector then gives that member bit for bit
 * (−0 stays −0, and an Inf or NaN in an unused member cannot leak in), and the SIMD kernel skips
 * its reads. The first remaining term starts the sum (no 0 + …), so with w = [1 − α, α], 0 < α < 1,
 * this is mixInto's (1-α)·a + α·b operation for operation.
 */
export function mixMembersInto(out: Float32Array, members: readonly Float32Array[], weights: ArrayLike<number>): void {
  const n = out.length;
  const used = members.filter((_, m) => weights[m] !== 0);
  const w = Array.from(weights).filter((x) => x !== 0);
  if (used.length === 0) {
    out.fill(0);
    return;
  }
  const first = used[0]!;
  const w0 = w[0]!;
  if (used.length === 1) {
    for (let i = 0; i < n; i++) out[i] = w0 * first[i]!;
    return;
  }
  if (used.length === 2) {
    // The pair as its own loop: no inner loop over members on the path every JS-only blend takes.
    const b = used[1]!;
    const w1 = w[1]!;
    for (let i = 0; i < n; i++) out[i] = w0 * first[i]! + w1 * b[i]!;
    return;
  }
  const k = used.length;
  for (let i = 0; i < n; i++) {
    let acc = w0 * first[i]!;
    for (let m = 1; m < k; m++) acc += w[m]! * used[m]![i]!;
    out[i] = acc;
  }
}

export function mixInto(out: Float32Array, a: Float32Array, b: Float32Array, alpha: number): void {
  const beta = 1 - alpha;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = beta * a[i]! + alpha * b[i]!;
}
