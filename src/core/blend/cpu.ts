import type { Tensor } from 'onnxruntime-common';
import type { WeightPair } from './weights';
import { wasmResident, type WasmArena } from './arena';
import type { BlendCoefficients, BlendedTensor, TensorModule, WeightBlender } from './blender';
import { floatsToHalves } from '../onnx/half';

export type { WasmArena };

/**
 * θ(α) = (1-α)·θ0 + α·θ1 on the CPU, in float32, into buffers allocated once. Written as a mix
 * rather than θ0 + α·(θ1-θ0) so that α = 0 and α = 1 give the endpoints bit-exactly.
 *
 * Where WebAssembly SIMD is available the blend runs in a tiny wasm kernel over θ0, θ1 and θ(α)
 * kept in one wasm memory (the pairs' arrays become views into it, so nothing is held twice): the
 * scalar JS loop reaches about a third of TypedArray.set's bandwidth, the kernel 60–80%
 * (docs/benchmarks.md). It computes exactly what mixInto computes, (1-α)·a + α·b in float64 and
 * rounded once to float32, so both paths give bit-identical weights. Without SIMD, or when the
 * weights do not fit one wasm memory (4 GiB), mixInto runs.
 */
export class CpuBlender implements WeightBlender {
  readonly kind: 'cpu-simd' | 'cpu-js';
  readonly gpuBytes = 0;
  readonly outputs: Map<string, Float32Array>;
  private readonly simd: WasmArena | null;
  private tensors: Record<string, Tensor> | null = null;

  /** `arena`: where `pairs` were extracted into (else they are copied into a new one). */
  constructor(readonly pairs: readonly WeightPair[], arena?: WasmArena | null) {
    this.simd = arena ?? wasmResident(pairs);
    this.kind = this.simd ? 'cpu-simd' : 'cpu-js';
    const simd = this.simd;
    const outputFor = (p: WeightPair) => (simd ? new Float32Array(simd.memory.buffer, simd.at.get(p.name)!.out, p.zeroShot.length) : new Float32Array(p.zeroShot.length));
    this.outputs = new Map(pairs.map((p) => [p.name, outputFor(p)]));
  }

  // The arena's memory has a fixed size (maximum = initial), so its buffer is never detached and
  // these views, and the tensors over them, stay valid for the blender's life.
  feeds(ort: TensorModule, feedNames: ReadonlyMap<string, string>): Readonly<Record<string, Tensor>> {
    if (!this.tensors) {
      this.tensors = {};
      for (const p of this.pairs) this.tensors[feedNames.get(p.name)!] = new ort.Tensor('float32', this.outputs.get(p.name)!, p.shape);
    }
    return this.tensors;
  }

  blend(c: BlendCoefficients): void {
    const alpha = c.alpha;
    if (this.simd) {
      for (const t of this.simd.at.values()) this.simd.mix(t.out, t.a, t.b, t.n, alpha);
      return;
    }
    for (const p of this.pairs) mixInto(this.outputs.get(p.name)!, p.zeroShot, p.fineTuned, alpha);
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

export function mixInto(out: Float32Array, a: Float32Array, b: Float32Array, alpha: number): void {
  const beta = 1 - alpha;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = beta * a[i]! + alpha * b[i]!;
}
