// The pure parts of "what fine-tuning moved": grouping, the ratio's edge cases, the histogram's bins.
import { describe, it, expect } from 'vitest';
import { changeHistogram, cosine, layerGroup, relativeChange } from '../../src/core/moved/moved';

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
});
