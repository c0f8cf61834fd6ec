// The accuracy table's deltas are paired: the current α against each endpoint on the images computed
// at both, with a 95% interval, significant only when it excludes 0.
import { describe, it, expect } from 'vitest';
import { accuracyTable, pairedDelta, meanPairedDelta, signedPoints } from '../../../src/state/table';
import { acc, accOf, fakePair } from '../../support/fakeEngine';
import type { FrontierPoints } from '../../../src/worker/protocol';

/** `n` images, the first `right` of them predicted right (then `total` − n not evaluated yet). */
const firstRight = (right: number, n: number, total = n) =>
  accOf(
    Array.from({ length: n }, (_, i) => i < right),
    total,
  );

describe('paired deltas for the table', () => {
  it('+2.0 from 100 images per α (3 fixed, 1 broken) is shown with its interval and is not significant', () => {
    // α = 0.5 gets images 0–62 right; α = 0 gets 0–59 and 63 right: 3 fixed (60–62), 1 broken (63).
    const now = firstRight(63, 100);
    const base = accOf(Array.from({ length: 100 }, (_, i) => i < 60 || i === 63));
    const d = pairedDelta(now, base)!;
    expect(d.n).toBe(100);
    expect(d.diff).toBeCloseTo(0.02, 12);
    expect(d.lo).toBeLessThan(0);
    expect(d.hi).toBeGreaterThan(0);
    expect(d.significant).toBe(false);
  });

  it('the same +2.0 on 1,000 images with every change in its favour is significant', () => {
    const d = pairedDelta(firstRight(720, 1000), firstRight(700, 1000))!;
    expect(d.diff).toBeCloseTo(0.02, 12);
    expect(d.lo).toBeGreaterThan(0);
    expect(d.significant).toBe(true);
  });

  it('pairs only the images computed at both α: 1,000 at α = 1 against the first 100 at α', () => {
    const d = pairedDelta(firstRight(50, 100, 1000), firstRight(1000, 1000))!;
    expect(d.n).toBe(100);
    expect(d.diff).toBeCloseTo(-0.5, 12);
  });

  it('no delta without per-image results on both sides (counts alone cannot be paired)', () => {
    expect(pairedDelta(acc(60, 100), firstRight(50, 100))).toBeNull();
    expect(pairedDelta(firstRight(60, 100), undefined)).toBeNull();
  });

  it('the mean row averages the shift sets’ paired deltas, and waits for every shift', () => {
    const m = meanPairedDelta([firstRight(70, 100), firstRight(40, 100)], [firstRight(60, 100), firstRight(40, 100)])!;
    expect(m.diff).toBeCloseTo(0.05, 12);
    expect(m.n).toBe(200);
    expect(m.lo).toBeLessThan(m.diff);
    expect(m.hi).toBeGreaterThan(m.diff);
    expect(meanPairedDelta([firstRight(70, 100), undefined], [firstRight(60, 100), firstRight(40, 100)])).toBeNull();
  });

  it('accuracyTable: each row has its estimate at α and both deltas; an α not computed has none', () => {
    const pair = fakePair();
    const points: FrontierPoints = {
      '0': { reference: firstRight(100, 200), shift: firstRight(30, 100) },
      '0.5': { reference: firstRight(150, 200), shift: firstRight(60, 100) },
      '1': { reference: firstRight(170, 200), shift: firstRight(50, 100) },
    };
    const t = accuracyTable(pair, points, 0.5);
    const ref = t.rows.find((r) => r.set.id === 'reference')!;
    expect(ref.now!.value).toBeCloseTo(0.75, 12);
    expect(ref.vsZeroShot).toMatchObject({ n: 200, significant: true });
    expect(ref.vsZeroShot!.diff).toBeCloseTo(0.25, 12);
    expect(ref.vsFineTuned!.diff).toBeCloseTo(-0.1, 12);
    expect(t.mean.vsZeroShot!.diff).toBeCloseTo(0.3, 12);
    const none = accuracyTable(pair, points, 0.3);
    expect(none.rows.every((r) => r.now === null && r.vsZeroShot === null && r.vsFineTuned === null)).toBe(true);
    expect(none.mean.vsZeroShot).toBeNull();
  });

  it('signedPoints writes a true minus, and a bound near 0 keeps its sign', () => {
    expect(signedPoints(0.02)).toBe('+2.0');
    expect(signedPoints(-0.0387)).toBe('\u22123.9');
    expect(signedPoints(-0.0004)).toBe('0.0');
    // A bound keeps its side of 0: [−13.0, −0.0] excludes 0, [−13.0, 0.0] would seem to touch it.
    expect(signedPoints(-0.0004, true)).toBe('\u22120.0');
    expect(signedPoints(0.0004, true)).toBe('+0.0');
    expect(signedPoints(0, true)).toBe('0.0');
  });
});
