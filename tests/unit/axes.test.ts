// The frontier's axes (round, held still during evaluation) and the estimate drawn for an α not
// computed yet.
import { describe, it, expect } from 'vitest';
import { roundDomain, holdAxes, boxOf, recordedBox, clampToAxes, FULL } from '../../src/state/axes';
import { interpolateAt, labelledAlphas, isPreview, frontierPoints, FIRST_PASS_IMAGES } from '../../src/state/frontier';
import type { PairSummary } from '../../src/worker/protocol';

describe('round axes', () => {
  it('ticks at multiples of 5 (span ≤ 30 pp), 10 (≤ 60) or 20, with room beyond the extent, within 0–100', () => {
    expect(roundDomain(62.3, 81.7)).toMatchObject({ lo: 60, hi: 85, step: 5, ticks: [60, 65, 70, 75, 80, 85] });
    expect(roundDomain(12, 97)).toMatchObject({ lo: 0, hi: 100, step: 20, ticks: [0, 20, 40, 60, 80, 100] });
    expect(roundDomain(31, 74)).toMatchObject({ lo: 30, hi: 80, step: 10 });
    expect(roundDomain(99.6, 100)).toMatchObject({ lo: 90, hi: 100, step: 5 });
    expect(roundDomain(0, 3)).toMatchObject({ lo: 0, hi: 10 });
    // An interval ending on a round value still gets room: its end is not on the frame.
    expect(roundDomain(40, 60)).toMatchObject({ lo: 35, hi: 65 });
    for (const [a, b] of [
      [3.3, 4.1],
      [17, 88],
      [55, 56],
      [0, 100],
    ] as const) {
      const d = roundDomain(a, b);
      expect(d.ticks.every((t) => t % 5 === 0)).toBe(true);
      expect(d.lo).toBeLessThanOrEqual(a);
      expect(d.hi).toBeGreaterThanOrEqual(b);
    }
  });

  it('hold still for a key: 0–100 until the coarse pass, then that pass, and only widen when something would be cut off', () => {
    const early = holdAxes(null, { key: 'p|mean', known: null, coarse: null, drawn: { x: [50, 60], y: [30, 40] } });
    expect(early).toMatchObject({ basis: 'default', x: FULL, y: FULL });
    const coarse = { x: [52, 71] as [number, number], y: [33, 48] as [number, number] };
    const set = holdAxes(early, { key: 'p|mean', known: null, coarse, drawn: coarse });
    expect(set).toMatchObject({ basis: 'coarse', x: { lo: 50, hi: 75 }, y: { lo: 30, hi: 50 } });
    // Refined points (narrower bars) inside: the very same object, nothing moves.
    expect(holdAxes(set, { key: 'p|mean', known: null, coarse: { x: [55, 70], y: [35, 46] }, drawn: { x: [55, 70], y: [35, 46] } })).toBe(
      set,
    );
    // A point that would be cut off widens its axis only, to a round value.
    const grown = holdAxes(set, { key: 'p|mean', known: null, coarse, drawn: { x: [52, 71], y: [33, 52.5] } });
    expect(grown.basis).toBe('grown');
    expect(grown.x).toBe(set.x);
    expect(grown.y.hi).toBeGreaterThanOrEqual(55);
    // A new shift is a clear moment: chosen again.
    expect(holdAxes(set, { key: 'p|v2', known: null, coarse: { x: [52, 71], y: [10, 20] }, drawn: null }).y).toMatchObject({
      lo: 5,
      hi: 25,
    });
  });

  it('with a recorded sweep known up front, the domain comes from it and the coarse pass does not move it', () => {
    const known = boxOf([
      { x: 40, y: 30 },
      { x: 70, y: 42 },
    ]);
    const a = holdAxes(null, { key: 'k', known, coarse: null, drawn: known });
    expect(a.basis).toBe('known');
    expect(holdAxes(a, { key: 'k', known, coarse: { x: [45, 66], y: [31, 40] }, drawn: { x: [45, 66], y: [31, 40] } })).toBe(a);
  });

  it("a recorded sweep leaves room for the first pass's bars (two half-widths at 100 images), per set or for the mean", () => {
    const sets = {
      reference: { id: 'ref', count: 1000 },
      shifts: [
        { id: 'a', count: 1000 },
        { id: 'b', count: 50 },
      ],
    };
    const pts = [{ reference: 0.5, shift: 0.5, perSet: { ref: 0.5, a: 0.4, b: 0.6 } }];
    const hw = (p: number, n: number) => 2 * 1.959963984540054 * Math.sqrt((p * (1 - p)) / n) * 100;
    const one = recordedBox(pts, sets, 'a')!;
    expect(one.x[0]).toBeCloseTo(50 - hw(0.5, 100), 6);
    expect(one.y[1]).toBeCloseTo(40 + hw(0.4, 100), 6);
    // The mean of a (first 100 of 1000) and b (all 50 of 50): the normal interval of a mean.
    const mean = recordedBox(pts, sets, 'mean')!;
    const half = ((2 * 1.959963984540054 * Math.sqrt((0.4 * 0.6) / 100 + (0.6 * 0.4) / 50)) / 2) * 100;
    expect(mean.y[0]).toBeCloseTo(50 - half, 6);
    expect(recordedBox([], sets, 'mean')).toBeNull();
  });

  it('boxOf includes the error bars', () => {
    expect(
      boxOf([
        { x: 50, y: 40, xErr: [2, 3], yErr: [1, 4] },
        { x: 60, y: 30 },
      ]),
    ).toEqual({ x: [48, 60], y: [30, 44] });
    expect(boxOf([])).toBeNull();
  });
});

describe("a first estimate (the Worker's preview: a few images per set) on held axes", () => {
  const axes = { x: roundDomain(40, 60), y: roundDomain(20, 30) };
  const pair = {
    sets: [
      { id: 'ref', role: 'reference', count: 1000 },
      { id: 'a', role: 'shift', count: 1000 },
      { id: 'tiny', role: 'shift', count: 10 },
    ],
  } as unknown as PairSummary;
  const acc = (correct: number, n: number, total: number) => ({ correct, n, total });

  it('is a point with fewer images on some set than the first pass gives it (a set smaller than the pass: all it has)', () => {
    const at = (nRef: number, nA: number) =>
      frontierPoints(pair, { '0.5': { ref: acc(nRef / 2, nRef, 1000), a: acc(nA / 4, nA, 1000), tiny: acc(5, 10, 10) } }, 'mean')[0]!;
    expect(isPreview(at(16, 16))).toBe(true);
    expect(isPreview(at(FIRST_PASS_IMAGES, 16))).toBe(true);
    expect(isPreview(at(FIRST_PASS_IMAGES, FIRST_PASS_IMAGES))).toBe(false);
    expect(isPreview(at(1000, 300))).toBe(false);
  });

  it('widens nothing: its point and bars are cut at the frame, and each cut is marked on the side it goes on beyond', () => {
    // 50% on 16 images: a 95% half-width of about 24 pp, wider than these axes on both sides in x.
    const d = { x: 50, y: 29, xErr: [24, 24] as [number, number], yErr: [3, 4] as [number, number], alpha: 0.5 };
    const { datum, cuts } = clampToAxes(d, axes);
    expect(axes).toMatchObject({ x: { lo: 35, hi: 65 }, y: { lo: 15, hi: 35 } });
    expect(datum).toMatchObject({ x: 50, y: 29, xErr: [15, 15], yErr: [3, 4], alpha: 0.5 });
    expect(cuts).toEqual([
      { x: 35, y: 29, side: 'left' },
      { x: 65, y: 29, side: 'right' },
    ]);
    // A point beyond the frame is drawn on it, marked; its bar keeps the part inside.
    const far = clampToAxes({ x: 52, y: 40, yErr: [8, 8] as [number, number] }, axes);
    expect(far.datum).toMatchObject({ x: 52, y: 35, yErr: [3, 0] });
    expect(far.cuts).toEqual([{ x: 52, y: 35, side: 'above' }]);
  });

  it('a mark inside the axes is returned as it is, with no cut', () => {
    const d = { x: 50, y: 25, xErr: [5, 5] as [number, number], yErr: [2, 2] as [number, number] };
    expect(clampToAxes(d, axes)).toEqual({ datum: d, cuts: [] });
    expect(boxOf([clampToAxes({ x: 50, y: 25, xErr: [30, 30] as [number, number] }, axes).datum])).toEqual({ x: [35, 65], y: [25, 25] });
  });
});

describe('the current α before it is computed', () => {
  const pts = [
    { alpha: 0, x: 40, y: 30 },
    { alpha: 0.5, x: 60, y: 40 },
    { alpha: 1, x: 70, y: 32 },
  ];
  it('is interpolated between the nearest computed α on each side', () => {
    expect(interpolateAt(pts, 0.25)).toEqual({ x: 50, y: 35, from: [0, 0.5] });
    expect(interpolateAt(pts, 0.5)).toEqual({ x: 60, y: 40, from: [0.5, 0.5] });
    expect(interpolateAt(pts.slice(1), 0.2)).toEqual({ x: 60, y: 40, from: [0.5, 0.5] });
    expect(interpolateAt([], 0.2)).toBeNull();
  });

  it('labels 0, 0.5, 1 and the current α, leaving out a label that would overlap the current one', () => {
    const span = { x: 40, y: 20 };
    expect(labelledAlphas(pts, { alpha: 0.33, x: 52, y: 36 }, span).map((p) => p.alpha)).toEqual([0.33, 0, 0.5, 1]);
    expect(labelledAlphas(pts, { alpha: 0.52, x: 60.5, y: 40.1 }, span).map((p) => p.alpha)).toEqual([0.52, 0, 1]);
    expect(labelledAlphas(pts, null, span).map((p) => p.alpha)).toEqual([0, 0.5, 1]);
  });
});
