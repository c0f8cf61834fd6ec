import type { WeightPair } from './weights';

/**
 * θ(α) = (1-α)·θ0 + α·θ1 on the CPU, in float32, into buffers allocated once. Written as a mix
 * rather than θ0 + α·(θ1-θ0) so that α = 0 and α = 1 give the endpoints bit-exactly.
 */
export class CpuBlender {
  readonly outputs: Map<string, Float32Array>;

  constructor(readonly pairs: readonly WeightPair[]) {
    this.outputs = new Map(pairs.map((p) => [p.name, new Float32Array(p.zeroShot.length)]));
  }

  blend(alpha: number): void {
    for (const p of this.pairs) mixInto(this.outputs.get(p.name)!, p.zeroShot, p.fineTuned, alpha);
  }
}

export function mixInto(out: Float32Array, a: Float32Array, b: Float32Array, alpha: number): void {
  const beta = 1 - alpha;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = beta * a[i]! + alpha * b[i]!;
}
