// Generated training data: the rows a batch asks for are the images world.render gives those rows,
// whichever chunk they fall in and in whatever order the epoch visits them.
import { describe, it, expect } from 'vitest';
import { NumpyRandom } from '../../../../src/core/world/random';
import { applyStyleMix, COLOURS, NON_PHOTO, sampleReference, STYLES } from '../../../../src/core/world/params';
import { render } from '../../../../src/core/world/render';
import { checkWorldSpec, WorldImages, worldHeldOutCount, worldTrainingData } from '../../../../src/core/world/source';
import { seededRandom } from '../../../../src/core/train/data';

const PIXELS = 32 * 32 * 3;

describe('generated world training data', () => {
  it('an epoch visits every row once, chunk by chunk, and batches are the rendered rows, each chunk rendered once and reported', () => {
    const params = sampleReference(new NumpyRandom([4, 2]), 1100, { shortcut: 0.98, hard: 0.5 });
    const all = render(params);
    const heard: { done: number; total: number }[] = [];
    const images = new WorldImages(params, (p) => heard.push(p));
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
    // The last chunk's 76 rows came first (row 1099), then the first chunk's 1,024: each from 0, every 50 images, to its end.
    const reports = (total: number) => [...Array.from({ length: Math.floor(total / 50) + 1 }, (_, i) => i * 50), total];
    expect(heard).toEqual([...reports(76), ...reports(1024)].map((done, i) => ({ done, total: i < reports(76).length ? 76 : 1024 })));
    images.batch(Int32Array.from([5, 1030]));
    expect(heard).toHaveLength(reports(76).length + reports(1024).length);
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

describe('style mix of the generated training images', () => {
  const spec = { kind: 'world', shortcut: 0.8, n: 2000, seed: 0 } as const;
  const pixelsOf = (images: WorldImages, rows: number[]) => images.batch(Int32Array.from(rows)).data.pixels;

  it("0% (or absent) gives finetune_data's photo rows, pixel for pixel", () => {
    const photos = render(sampleReference(new NumpyRandom([0, 2]), 1100, { shortcut: 0.8, hard: 0.5 }));
    const rows = [0, 1, 1023, 1024, 1099];
    for (const styleMix of [undefined, 0]) {
      const got = pixelsOf(worldTrainingData({ ...spec, n: 1100, ...(styleMix === undefined ? {} : { styleMix }) }).train, rows);
      rows.forEach((r, i) => {
        const want = photos.subarray(r * PIXELS, (r + 1) * PIXELS);
        expect(Buffer.from(got.subarray(i * PIXELS, (i + 1) * PIXELS)).equals(Buffer.from(want)), `row ${r}`).toBe(true);
      });
    }
  });

  it("50% draws about half the rows in the five non-photo styles, painting included, with world.py's style backgrounds", () => {
    const rng = new NumpyRandom([0, 2]);
    const p = applyStyleMix(rng, sampleReference(rng, 2000, { shortcut: 0.8, hard: 0.5 }), 0.5);
    const styled = Array.from(p.style).filter((s) => s !== 0);
    // Binomial(2000, 0.5): 4.5 standard deviations either side.
    expect(styled.length).toBeGreaterThan(900);
    expect(styled.length).toBeLessThan(1100);
    expect(new Set(styled)).toEqual(new Set(NON_PHOTO));
    p.style.forEach((s, i) => {
      if (STYLES[s] === 'sketch') expect(p.bg[i]).toBe(COLOURS.indexOf('white'));
      if (STYLES[s] === 'neon') expect(['black', 'brown', 'gray']).not.toContain(COLOURS[p.colour[i]!]);
      expect(p.colour[i], `row ${i}`).not.toBe(p.bg[i]);
    });
  });

  it('a styled job renders its rows as world.render renders the same parameter rows', () => {
    const rng = new NumpyRandom([0, 2]);
    const p = applyStyleMix(rng, sampleReference(rng, 1100, { shortcut: 0.8, hard: 0.5 }), 0.5);
    const all = render(p);
    const train = worldTrainingData({ ...spec, n: 1100, styleMix: 0.5 }).train;
    const rows = [0, 5, 700, 1023, 1024, 1099];
    const got = pixelsOf(train, rows);
    rows.forEach((r, i) => {
      expect(
        Buffer.from(got.subarray(i * PIXELS, (i + 1) * PIXELS)).equals(Buffer.from(all.subarray(r * PIXELS, (r + 1) * PIXELS))),
        `row ${r}`,
      ).toBe(true);
    });
  });

  it('refuses a style mix outside 0–100% in words', () => {
    expect(() => checkWorldSpec({ ...spec, styleMix: 1.2 })).toThrow(/style mix must be between 0 and 1/);
    expect(() => checkWorldSpec({ ...spec, styleMix: Number.NaN })).toThrow(/style mix/);
  });
});
