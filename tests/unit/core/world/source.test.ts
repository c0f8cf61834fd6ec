// Generated training data: the rows a batch asks for are the images world.render gives those rows,
// whichever chunk they fall in and in whatever order the epoch visits them.
import { describe, it, expect } from 'vitest';
import { NumpyRandom } from '../../../../src/core/world/random';
import { sampleReference } from '../../../../src/core/world/params';
import { render } from '../../../../src/core/world/render';
import { checkWorldSpec, WorldImages, worldHeldOutCount, worldTrainingData } from '../../../../src/core/world/source';
import { seededRandom } from '../../../../src/core/train/data';

const PIXELS = 32 * 32 * 3;

describe('generated world training data', () => {
  it('an epoch visits every row once, chunk by chunk, and batches are the rendered rows', () => {
    const params = sampleReference(new NumpyRandom([4, 2]), 1100, { shortcut: 0.98, hard: 0.5 });
    const all = render(params);
    const images = new WorldImages(params);
    const order = images.epochOrder(seededRandom(1));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1100 }, (_, i) => i));
    // Rows from both chunks (1,024 and 76 rows), in the epoch's order.
    const rows = Int32Array.from([1099, 3, 1024, 1023, 0, 512]);
    const { data, rows: at } = images.batch(rows);
    rows.forEach((r, i) => {
      expect(data.labels[at[i]!]).toBe(params.cls[r]);
      const got = data.pixels.subarray(at[i]! * PIXELS, (at[i]! + 1) * PIXELS);
      expect(Buffer.from(got).equals(Buffer.from(all.subarray(r * PIXELS, (r + 1) * PIXELS))), `row ${r}`).toBe(true);
    });
  });

  it('the held-out set is another draw of the same world, a quarter of n within 100–1,000', () => {
    const { train, validation } = worldTrainingData({ kind: 'world', shortcut: 1, n: 400, seed: 0 });
    expect(train.count).toBe(400);
    expect(validation.count).toBe(worldHeldOutCount(400));
    expect(worldHeldOutCount(20_000)).toBe(1000);
    const first = train.batch(Int32Array.from([0])).data.pixels;
    expect(Buffer.from(validation.pixels.subarray(0, PIXELS)).equals(Buffer.from(first))).toBe(false);
  });

  it('refuses a shortcut outside 0–1 and a count that is not a whole number, in words', () => {
    expect(() => checkWorldSpec({ kind: 'world', shortcut: 1.5, n: 10, seed: 0 })).toThrow(/between 0 and 1/);
    expect(() => checkWorldSpec({ kind: 'world', shortcut: 0.5, n: 2.5, seed: 0 })).toThrow(/whole number/);
    expect(() => checkWorldSpec({ kind: 'world', shortcut: Number.NaN, n: 10, seed: 0 })).toThrow(/shortcut/);
  });
});
