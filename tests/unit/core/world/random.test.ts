// The port of numpy's random stream against values numpy 2.4 printed for the same seeds
// (np.random.default_rng(np.random.SeedSequence(entropy)) and its Generator methods).
import { describe, it, expect } from 'vitest';
import { NumpyRandom, seedSequenceState } from '../../../../src/core/world/random';

describe('numpy random stream', () => {
  it('SeedSequence.generate_state(4, uint64) matches numpy, a word above 2^32 included', () => {
    expect(seedSequenceState([0, 2 ** 40 + 5, 7], 4)).toEqual([
      15519068395737562082n,
      4572129428377235931n,
      15840427839264144547n,
      9617499428354951725n,
    ]);
  });

  it('PCG64 raw 64-bit outputs match bit_generator.random_raw', () => {
    const r = new NumpyRandom([5, 2]);
    expect([r.nextUint64(), r.nextUint64(), r.nextUint64()]).toEqual([4385177791763000526n, 7891910260930521402n, 10909650749636001483n]);
  });

  it('integers (buffered 32-bit Lemire), random, uniform and standard_normal interleave as numpy does', () => {
    const g = new NumpyRandom([7, 1, 2]);
    expect(Array.from(g.integers(0, 10, 5))).toEqual([6, 9, 9, 7, 7]);
    expect(Array.from(g.random(1))).toEqual([0.5792492134281088]);
    expect(Array.from(g.integers(0, 2 ** 31 - 1, 3))).toEqual([572057735, 1550180398, 949010425]);
    expect(Array.from(g.uniform(-20, 20, 2))).toEqual([-16.201723103746378, 13.732443475006583]);
    // A range of one value draws nothing: the next call sees the same stream.
    expect(Array.from(g.integers(1, 2, 3))).toEqual([1, 1, 1]);
    expect(Array.from(g.integers(0, 11, 3))).toEqual([9, 9, 7]);
    const z = g.standardNormal(200_000);
    expect(Array.from(z.subarray(0, 3))).toEqual([-0.3871948035269117, -0.8272862047680961, -1.9100324234437178]);
    // Draw 48,356 lies beyond the ziggurat's base layer (r = 3.654): numpy's tail path, then the rest stays in step.
    expect(z[48_356]).toBe(4.963497852499946);
    expect(z[199_999]).toBe(1.3808994156386423);
  });
});
