// The recipe against PyTorch: fixtures/make_torch_probe.py runs tools/train.py's linear-probe step
// (F.cross_entropy, torch.optim.AdamW on weight and bias, cosine_lr) in float64 over fixed batches.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { AdamW, cosineLr } from '../../../../src/core/train/optimizer';
import { batchGradient } from '../../../../src/core/train/linearProbe';

interface TorchProbe {
  classes: number;
  dim: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  totalSteps: number;
  features: number[];
  labels: number[];
  batches: number[][];
  initWeight: number[];
  initBias: number[];
  steps: { lr: number; loss: number; weight: number[]; bias: number[] }[];
}

const ref = JSON.parse(readFileSync(new URL('./fixtures/torch-probe.json', import.meta.url), 'utf8')) as TorchProbe;

describe('the linear-probe step against PyTorch (float64, 5 steps)', () => {
  it("gives torch's learning rate, loss, weight and bias after every step, to 1e-12", () => {
    const { classes: C, dim: D } = ref;
    const x = Float32Array.from(ref.features);
    const labels = Int32Array.from(ref.labels);
    const params = Float64Array.from([...ref.initWeight, ...ref.initBias]);
    const grad = new Float64Array(params.length);
    const opt = new AdamW(params.length, { weightDecay: ref.weightDecay });
    ref.steps.forEach((want, step) => {
      const rows = Int32Array.from(ref.batches[step]!);
      const lr = cosineLr(step, ref.totalSteps, ref.lr, ref.warmup);
      expect(lr).toBeCloseTo(want.lr, 15);
      const loss = batchGradient(params, grad, x, labels, rows, C, D, new Float64Array(rows.length * C));
      expect(Math.abs(loss - want.loss), `loss at step ${step}`).toBeLessThan(1e-12);
      opt.step(params, grad, lr);
      [...want.weight, ...want.bias].forEach((w, i) =>
        expect(Math.abs(params[i]! - w), `parameter ${i} after step ${step}`).toBeLessThan(1e-12),
      );
    });
  });
});
