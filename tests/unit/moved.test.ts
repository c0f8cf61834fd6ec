// The pure parts of "what fine-tuning moved": grouping, the ratio's edge cases, the histogram's bins.
import { describe, it, expect } from 'vitest';
import { changeHistogram, cosine, layerGroup, relativeChange, movedReport, MovedAccumulator } from '../../src/core/moved/moved';

describe('what fine-tuning moved, pure parts', () => {
  it('groups a tensor by its name without the last dotted part; a name without a dot is its own group', () => {
    expect(layerGroup('visual.layer1.0.conv1.weight')).toBe('visual.layer1.0.conv1');
    expect(layerGroup('logit_scale')).toBe('logit_scale');
    expect(layerGroup('onnx::MatMul_123')).toBe('onnx::MatMul_123');
  });

  it('a relative change over all-zero θ₀ is undefined (null) unless nothing moved; a cosine with a zero delta is null', () => {
    expect(relativeChange(0, 0)).toBe(0);
    expect(relativeChange(0, 1)).toBeNull();
    expect(relativeChange(4, 1)).toBe(0.5);
    expect(cosine(1, 0, 1)).toBeNull();
    expect(cosine(2 + 1e-15, 2, 2)).toBe(1);
  });

  it('puts the extreme changes in the edge bins, a zero change in the middle one, and every value somewhere', () => {
    const zs = new Float32Array(5);
    const h = changeHistogram(zs, Float32Array.of(-2, 2, 0, 1, -1), 5);
    expect(h.limit).toBe(2);
    // Bins of width 0.8 over [−2, 2]: [−2, −1.2) [−1.2, −0.4) [−0.4, 0.4) [0.4, 1.2) [1.2, 2].
    expect(h.counts).toEqual([1, 1, 1, 1, 1]);
    expect(changeHistogram(zs, zs, 41).counts[20]).toBe(5);
    expect(changeHistogram(zs, zs, 41).limit).toBe(0);
  });

  it('built one member at a time gives the report built from all members at once; out of order or unfinished is refused', () => {
    const w = (...v: number[]) => new Map([['l.weight', { shape: [v.length], values: Float32Array.from(v) }]]);
    const zs = w(1, 2, 3);
    const members = [
      { id: 'a', name: 'A', weights: w(1, 2, 4) },
      { id: 'lin', name: 'L', weights: w(1, 2, 3) },
      { id: 'b', name: 'B', weights: w(1, 3, 4) },
    ];
    const acc = new MovedAccumulator(zs, members, [0, 2]);
    expect(() => acc.add(1, members[1]!.weights)).toThrow(/in order/);
    members.forEach((m, k) => {
      if (k < 2) acc.add(k, m.weights);
    });
    expect(() => acc.report()).toThrow(/2 of 3 members/);
    acc.add(2, members[2]!.weights);
    const r = acc.report();
    expect(r).toEqual(movedReport(zs, members, [0, 2]));
    // Δa = (0, 0, 1), Δb = (0, 1, 1): cos = 1/√2.
    expect(r.rows[0]!.cosine).toBeCloseTo(Math.SQRT1_2, 15);
    expect(r.rows[0]!.relativeChange).toEqual([1 / Math.sqrt(14), 0, Math.sqrt(2 / 14)]);
  });
});
