import { describe, it, expect } from 'vitest';
import {
  emptyCorrectness,
  excludesZero,
  markImages,
  meanPairedDifference,
  newcombePaired,
  pairedDifference,
  pairedTable,
  type ImageCorrectness,
} from '../../../../src/core/eval/stats';
import { ResultStore } from '../../../../src/core/eval/frontier';

/** Bitsets over `count` images with the given images seen, and those of them in `right` right. */
function bits(count: number, seen: Iterable<number>, right: Iterable<number>): ImageCorrectness {
  const b = emptyCorrectness(count);
  const r = new Set(right);
  for (const i of seen) markImages(b, i, [r.has(i) ? 1 : 0]);
  return b;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Deterministic uniform [0, 1) (mulberry32), so the coverage check never flakes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('newcombePaired: the paired difference of two accuracies with its 95% interval', () => {
  it("matches the literature's worked example: Cavo et al. (2012) in Fagerland, Lydersen & Laake, −0.0621 (−0.1186 to −0.0046)", () => {
    // Complete response before and after consolidation therapy: 59 both, 6 before only, 16 after only, 80 neither
    // (Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables, 2017, ch. 8; Stat Med 2014).
    const d = newcombePaired({ both: 59, onlyA: 6, onlyB: 16, neither: 80 })!;
    expect(d.n).toBe(161);
    expect(d.diff).toBeCloseTo(-0.0621, 4);
    expect(d.lo).toBeCloseTo(-0.1186, 4);
    expect(d.hi).toBeCloseTo(-0.0046, 4);
    expect(excludesZero(d)).toBe(true);
  });

  it('swapping the two α negates the difference and mirrors the interval', () => {
    const ab = newcombePaired({ both: 40, onlyA: 9, onlyB: 3, neither: 48 })!;
    const ba = newcombePaired({ both: 40, onlyA: 3, onlyB: 9, neither: 48 })!;
    expect(ba.diff).toBeCloseTo(-ab.diff, 12);
    expect(ba.lo).toBeCloseTo(-ab.hi, 12);
    expect(ba.hi).toBeCloseTo(-ab.lo, 12);
  });

  it('the same predictions at both α: a difference of 0 whose interval holds 0, so not significant', () => {
    const d = newcombePaired({ both: 70, onlyA: 0, onlyB: 0, neither: 30 })!;
    expect(d.diff).toBe(0);
    expect(d.lo).toBeLessThanOrEqual(0);
    expect(d.hi).toBeGreaterThanOrEqual(0);
    expect(excludesZero(d)).toBe(false);
  });

  it('+2 points on 100 images (3 fixed, 1 broken) is not significant; +20 points (22 fixed, 2 broken) is', () => {
    const small = newcombePaired({ both: 60, onlyA: 3, onlyB: 1, neither: 36 })!;
    expect(small.diff).toBeCloseTo(0.02, 12);
    expect(small.lo).toBeLessThan(0);
    expect(excludesZero(small)).toBe(false);
    const large = newcombePaired({ both: 50, onlyA: 22, onlyB: 2, neither: 26 })!;
    expect(large.lo).toBeGreaterThan(0);
    expect(excludesZero(large)).toBe(true);
  });

  it('stays inside [−1, 1] at the extremes and is null with no paired image', () => {
    const all = newcombePaired({ both: 0, onlyA: 20, onlyB: 0, neither: 0 })!;
    expect(all.diff).toBe(1);
    expect(all.hi).toBeLessThanOrEqual(1);
    expect(all.lo).toBeGreaterThan(0);
    expect(newcombePaired({ both: 0, onlyA: 0, onlyB: 0, neither: 0 })).toBeNull();
  });

  it('covers the true difference in about 95% of simulated paired samples of 100 images', () => {
    // Cell probabilities: right at both, at a only, at b only, at neither; true difference 0.05.
    const cells = [0.6, 0.1, 0.05, 0.25];
    const random = rng(14);
    let covered = 0;
    const runs = 4000;
    for (let r = 0; r < runs; r++) {
      const t = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
      for (let i = 0; i < 100; i++) {
        const u = random();
        if (u < cells[0]!) t.both++;
        else if (u < cells[0]! + cells[1]!) t.onlyA++;
        else if (u < cells[0]! + cells[1]! + cells[2]!) t.onlyB++;
        else t.neither++;
      }
      const d = newcombePaired(t)!;
      if (d.lo <= 0.05 && 0.05 <= d.hi) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.975);
  });
});

describe('per-image bitsets', () => {
  it('pairedTable counts only the images seen at both α', () => {
    // a: images 0–199 seen, right on 0–119; b: images 100–299 seen, right on 100–179 and 250–299.
    const a = bits(300, range(0, 200), range(0, 120));
    const b = bits(300, range(100, 300), [...range(100, 180), ...range(250, 300)]);
    // Shared: 100–199. Right at both: 100–119; a only: none; b only: 120–179; neither: 180–199.
    expect(pairedTable(a, b)).toEqual({ both: 20, onlyA: 0, onlyB: 60, neither: 20 });
    const d = pairedDifference(a, b)!;
    expect(d.n).toBe(100);
    expect(d.diff).toBeCloseTo(-0.6, 12);
  });

  it('a set whose size is not a multiple of 8 keeps its last images apart', () => {
    const a = bits(13, range(0, 13), [12]);
    const b = bits(13, range(0, 13), []);
    expect(pairedTable(a, b)).toEqual({ both: 0, onlyA: 1, onlyB: 0, neither: 12 });
  });

  it('no image in common: no difference', () => {
    expect(pairedDifference(bits(200, range(0, 100), []), bits(200, range(100, 200), []))).toBeNull();
  });

  it('re-marking an image replaces its outcome', () => {
    const b = emptyCorrectness(8);
    markImages(b, 0, [1, 1, 1]);
    markImages(b, 1, [0]);
    expect(pairedTable(b, b)).toEqual({ both: 2, onlyA: 0, onlyB: 0, neither: 1 });
  });
});

describe('meanPairedDifference: the mean over independent shift sets', () => {
  it('averages the differences and combines the interval sides in quadrature (MOVER)', () => {
    const m = meanPairedDifference([
      { diff: 0.1, lo: 0.04, hi: 0.18, n: 100 },
      { diff: -0.02, lo: -0.1, hi: 0.04, n: 300 },
    ])!;
    expect(m.diff).toBeCloseTo(0.04, 12);
    expect(m.lo).toBeCloseTo(0.04 - Math.hypot(0.06, 0.08) / 2, 12);
    expect(m.hi).toBeCloseTo(0.04 + Math.hypot(0.08, 0.06) / 2, 12);
    expect(m.n).toBe(400);
    expect(meanPairedDifference([])).toBeNull();
  });
});

describe('ResultStore keeps which images were right', () => {
  it("a point carries each set's bitset, restricted to the chunks done, and later chunks do not change it", () => {
    const store = new ResultStore([{ id: 'ref', count: 150 }]);
    const hits = (n: number, right: (i: number) => boolean) => Array.from({ length: n }, (_, i) => (right(i) ? 1 : 0));
    store.record(
      { alpha: 0, setId: 'ref', chunk: 0, start: 0, end: 100 },
      hits(100, (i) => i < 70),
    );
    store.record(
      { alpha: 1, setId: 'ref', chunk: 1, start: 100, end: 150 },
      hits(50, () => true),
    );
    const zero = store.point(0).ref!;
    expect(zero).toMatchObject({ correct: 70, n: 100, total: 150 });
    // α = 1 has chunk 1 only: nothing in common with α = 0 yet.
    expect(pairedDifference(store.point(1).ref!.images!, zero.images!)).toBeNull();
    store.record(
      { alpha: 1, setId: 'ref', chunk: 0, start: 0, end: 100 },
      hits(100, (i) => i < 80),
    );
    const one = store.point(1).ref!;
    expect(one).toMatchObject({ correct: 130, n: 150 });
    expect(pairedTable(one.images!, zero.images!)).toEqual({ both: 70, onlyA: 10, onlyB: 0, neither: 20 });
    store.record(
      { alpha: 0, setId: 'ref', chunk: 1, start: 100, end: 150 },
      hits(50, () => false),
    );
    // The point handed out before is a snapshot.
    expect(pairedTable(one.images!, zero.images!).neither).toBe(20);
    expect(pairedTable(store.point(1).ref!.images!, store.point(0).ref!.images!)).toEqual({ both: 70, onlyA: 60, onlyB: 0, neither: 20 });
  });

  it('refuses a chunk whose outcomes do not match its images', () => {
    const store = new ResultStore([{ id: 'ref', count: 100 }]);
    expect(() => store.record({ alpha: 0, setId: 'ref', chunk: 0, start: 0, end: 100 }, [1, 0])).toThrow(/2 outcomes for 100 images/);
  });
});
