import { describe, it, expect } from 'vitest';
import { thumbnailOf, thumbnailsOf, thumbnailScale, labelsOf, MAX_THUMBNAILS_PER_CALL } from '../../../../src/core/eval/samples';
import type { EvalSetData } from '../../../../src/core/eval/sprites';
import { evalSet } from './fixtures';

/** A set of `count` tiles of `tile` px with pseudo-random pixels (a fixed LCG). */
function noisySet(count: number, tile: number): EvalSetData {
  const set = evalSet('noisy', count);
  let x = 12345;
  const pixels = Uint8Array.from({ length: count * tile * tile * 3 }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % 256;
  });
  return { ...set, size: tile, pixels };
}

describe('eval thumbnails', () => {
  it('shrink a tile by the smallest integer factor that fits, never enlarging one', () => {
    expect(thumbnailScale(224, 64)).toEqual({ factor: 4, size: 56 });
    expect(thumbnailScale(32, 64)).toEqual({ factor: 1, size: 32 });
    expect(thumbnailScale(336, 64)).toEqual({ factor: 6, size: 56 });
  });

  it('are the mean of each factor × factor block, opaque, equal to a naive per-pixel average', () => {
    const tile = 9;
    const set = noisySet(3, tile);
    const got = thumbnailOf(set, 2, 4); // factor 3, 3×3 px
    const pixel = (x: number, y: number, c: number) => set.pixels![((2 * tile + y) * tile + x) * 3 + c]!;
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (const dy of [0, 1, 2]) for (const dx of [0, 1, 2]) sum += pixel(3 * x + dx, 3 * y + dy, c);
          expect(got[(y * 3 + x) * 4 + c], `pixel ${x},${y} channel ${c}`).toBe(Math.round(sum / 9));
        }
        expect(got[(y * 3 + x) * 4 + 3]).toBe(255);
      }
    }
  });

  it('at factor 1 are the tile itself, and name their index', () => {
    const set = noisySet(4, 5);
    const { size, images } = thumbnailsOf(set, [3, 0]);
    expect(size).toBe(5);
    expect(images.map((t) => t.index)).toEqual([3, 0]);
    const rgb = [...images[0]!.rgba].filter((_, i) => i % 4 !== 3);
    expect(rgb).toEqual([...set.pixels!.subarray(3 * 75, 4 * 75)]);
  });

  it('refuse an index outside the set and more than the per-call cap', () => {
    const set = noisySet(4, 2);
    expect(() => thumbnailsOf(set, [4])).toThrow(/has no image 4 \(it has 4\)/);
    expect(() => thumbnailsOf(set, [-1])).toThrow(/has no image -1/);
    expect(() => thumbnailsOf(set, [1.5])).toThrow(/has no image 1.5/);
    const big = noisySet(MAX_THUMBNAILS_PER_CALL + 1, 2);
    expect(() =>
      thumbnailsOf(
        big,
        Array.from({ length: MAX_THUMBNAILS_PER_CALL + 1 }, (_, i) => i),
      ),
    ).toThrow(/at most 64/);
  });
});

describe('eval labels', () => {
  it('are every set’s classes by id, copied so the page may keep them', () => {
    const a = evalSet('a', 5);
    const b = evalSet('constructor-ish', 2, 'shift');
    const labels = labelsOf([a, b]);
    expect(Object.keys(labels)).toEqual(['a', 'constructor-ish']);
    expect([...labels.a!]).toEqual([0, 1, 2, 0, 1]);
    labels.a![0] = 9;
    expect(a.labels[0]).toBe(0);
  });
});
