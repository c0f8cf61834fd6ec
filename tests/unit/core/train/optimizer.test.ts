import { describe, it, expect } from 'vitest';
import { AdamW, cosineLr } from '../../../../src/core/train/optimizer';
import { batchGradient } from '../../../../src/core/train/linearProbe';

describe('AdamW (torch.optim.AdamW, decoupled weight decay)', () => {
  it('two steps on one weight match the arithmetic by hand (lr 0.1, wd 0.01, β = 0.9, 0.999)', () => {
    const p = Float64Array.of(1);
    const opt = new AdamW(1, { weightDecay: 0.01 });
    // Step 1, g = 1: m = 0.1, v = 0.001; m̂ = 1, v̂ = 1; p = 1·(1 − 0.1·0.01) − 0.1·1/(1 + 1e-8).
    opt.step(p, Float64Array.of(1), 0.1);
    expect(p[0]).toBeCloseTo(0.999 - 0.1, 8);
    expect(p[0]).toBeCloseTo(0.899000001, 9);
    // Step 2, g = −2: m = 0.09 − 0.2 = −0.11, v = 0.000999 + 0.004 = 0.004999;
    // m̂ = −0.11/0.19 = −0.5789474, √v̂ = √(0.004999/0.001999) = 1.5813761;
    // p = 0.899·0.999 + 0.1·0.5789474/1.5813761 = 0.898101 + 0.0366104 = 0.9347114.
    opt.step(p, Float64Array.of(-2), 0.1);
    expect(opt.m[0]).toBeCloseTo(-0.11, 12);
    expect(opt.v[0]).toBeCloseTo(0.004999, 12);
    expect(p[0]).toBeCloseTo(0.9347114, 6);
    expect(opt.steps).toBe(2);
  });

  it('weight decay never enters the moments: a zero gradient only shrinks the weight by lr·wd', () => {
    const p = Float64Array.of(2, -4);
    const opt = new AdamW(2, { weightDecay: 0.5 });
    opt.step(p, new Float64Array(2), 0.1);
    expect(Array.from(p)).toEqual([2 * 0.95, -4 * 0.95]);
    expect(Array.from(opt.m)).toEqual([0, 0]);
  });
});

describe('cosineLr (tools/train.py cosine_lr)', () => {
  it('warms up linearly, peaks at the base rate, halves mid-way and ends at 0', () => {
    expect(cosineLr(0, 120, 1e-3, 20)).toBeCloseTo(1e-3 / 20, 15);
    expect(cosineLr(19, 120, 1e-3, 20)).toBeCloseTo(1e-3, 15);
    expect(cosineLr(20, 120, 1e-3, 20)).toBeCloseTo(1e-3, 15);
    expect(cosineLr(70, 120, 1e-3, 20)).toBeCloseTo(0.5e-3, 15);
    expect(cosineLr(120, 120, 1e-3, 20)).toBeCloseTo(0, 15);
    expect(cosineLr(0, 10, 1, 0)).toBe(1);
  });
});

describe('batchGradient (softmax cross-entropy of a linear head)', () => {
  it('2 classes × 2 dims, one image: loss log(1 + e) and gradient (p − onehot) ⊗ x by hand', () => {
    // W = I, b = 0, x = (1, 2), y = 0: logits (1, 2), p0 = 1/(1 + e) = 0.2689414, p1 = 0.7310586.
    const params = Float64Array.of(1, 0, 0, 1, 0, 0);
    const grad = new Float64Array(6);
    const loss = batchGradient(params, grad, Float32Array.of(1, 2), Int32Array.of(0), Int32Array.of(0), 2, 2, new Float64Array(2));
    expect(loss).toBeCloseTo(1.3132616875182228, 12);
    const q = 0.7310585786300049;
    const want = [-q, -2 * q, q, 2 * q, -q, q];
    want.forEach((w, i) => expect(grad[i]).toBeCloseTo(w, 12));
  });

  it('matches central finite differences on 7 images (the four-row blocks and the remainder), 3 classes × 5 dims', () => {
    const C = 3,
      D = 5,
      N = 7;
    let s = 7;
    const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const x = Float32Array.from({ length: N * D }, r);
    const labels = Int32Array.from({ length: N }, (_, i) => i % C);
    const rows = Int32Array.of(6, 0, 3, 1, 5, 2, 4);
    const params = Float64Array.from({ length: C * D + C }, r);
    const grad = new Float64Array(params.length);
    const scratch = new Float64Array(N * C);
    batchGradient(params, grad, x, labels, rows, C, D, scratch);
    const h = 1e-6;
    for (let i = 0; i < params.length; i++) {
      const p = params.slice();
      p[i]! += h;
      const up = batchGradient(p, new Float64Array(p.length), x, labels, rows, C, D, scratch);
      p[i]! -= 2 * h;
      const down = batchGradient(p, new Float64Array(p.length), x, labels, rows, C, D, scratch);
      expect(grad[i]!, `parameter ${i}`).toBeCloseTo((up - down) / (2 * h), 7);
    }
  });
});
