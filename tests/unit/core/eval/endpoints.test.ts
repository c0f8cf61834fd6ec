import { describe, it, expect } from 'vitest';
import { EndpointLogits } from '../../../../src/core/eval/endpoints';
import { CHUNK } from '../../../../src/core/eval/frontier';
import { evalSet, CLASSES } from './fixtures';

/** Logits where row i puts its mass on class `pick(i)`. */
function oneHot(count: number, pick: (i: number) => number): Float32Array {
  const l = new Float32Array(count * CLASSES);
  for (let i = 0; i < count; i++) l[i * CLASSES + pick(i)] = 1;
  return l;
}

describe('EndpointLogits', () => {
  const set = evalSet('reference', CHUNK + 10);

  it('leaves a set out of the ensemble until both endpoints cover every chunk', () => {
    const e = new EndpointLogits([set], CLASSES);
    e.keep(
      set,
      0,
      0,
      oneHot(set.count, (i) => i % CLASSES),
    );
    e.markChunk('reference', 0, 0);
    e.markChunk('reference', 0, 1);
    e.keep(
      set,
      1,
      0,
      oneHot(CHUNK, () => 0),
    );
    e.markChunk('reference', 1, 0);
    expect(e.isComplete(set)).toBe(false);
    expect(e.ensemble([0.5])).toEqual({});
    e.keep(
      set,
      1,
      CHUNK,
      oneHot(10, () => 0),
    );
    e.markChunk('reference', 1, 1);
    expect(e.isComplete(set)).toBe(true);
    expect(Object.keys(e.ensemble([0, 1]))).toEqual(['0', '1']);
  });

  it('ensembles the endpoints: α = 0 is the zero-shot accuracy, α = 1 the fine-tuned one', () => {
    const e = new EndpointLogits([set], CLASSES);
    // Zero-shot right on every image; fine-tuned right only where the label is 0.
    e.keep(
      set,
      0,
      0,
      oneHot(set.count, (i) => i % CLASSES),
    );
    e.keep(
      set,
      1,
      0,
      oneHot(set.count, () => 0),
    );
    for (const a of [0, 1]) for (const c of [0, 1]) e.markChunk('reference', a, c);
    const labelZero = Array.from(set.labels).filter((l) => l === 0).length;
    const points = e.ensemble([0, 1]);
    expect(points['0']!.reference).toEqual({ correct: set.count, n: set.count, total: set.count });
    expect(points['1']!.reference).toEqual({ correct: labelZero, n: set.count, total: set.count });
  });

  it('refuses to mark a chunk whose logits were never kept', () => {
    expect(() => new EndpointLogits([set], CLASSES).markChunk('reference', 0, 0)).toThrow(/no endpoint logits kept for set 'reference'/);
  });
});
