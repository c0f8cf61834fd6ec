// The recommended-α callout: nothing before the recommended α and both endpoints are computed on
// every image; then the mean of shifts against both endpoints and the reference against fine-tuned,
// as paired differences phrased as a gain or a loss only when the interval excludes 0.
import { describe, it, expect } from 'vitest';
import { finding, recommendationView } from '../../../src/state/recommended';
import { acc, accOf, fakePair } from '../../support/fakeEngine';
import type { FrontierPoints, PairSummary } from '../../../src/worker/protocol';

const CHOSEN_ON = 'validation draw (seed 101, 2,000 images per set)';

/** The fake pair (reference: 200 images, shift: 100) whose member recommends α = 0.6. */
const pair = (recommendedAlpha: { alpha: number; chosenOn: string } | null = { alpha: 0.6, chosenOn: CHOSEN_ON }): PairSummary =>
  fakePair({
    members: [{ id: 'ft', name: 'Fine-tuned', kind: 'end-to-end', seed: null, description: '', hasSweeps: false, recommendedAlpha }],
  });

/** `n` images, the first `right` of them predicted right (then `total` − n not evaluated yet). */
const firstRight = (right: number, n: number, total = n) =>
  accOf(
    Array.from({ length: n }, (_, i) => i < right),
    total,
  );

/** Every set complete at 0, 0.6 and 1: shift 40 → 70 → 69 right of 100; reference 100 → 150 → 170 of 200. */
const complete = (): FrontierPoints => ({
  '0': { reference: firstRight(100, 200), shift: firstRight(40, 100) },
  '0.6': { reference: firstRight(150, 200), shift: firstRight(70, 100) },
  '1': { reference: firstRight(170, 200), shift: firstRight(69, 100) },
});

describe('the recommended-α callout', () => {
  it('shows nothing for a member without a recommended α (a pair the user brought) or with no pair', () => {
    expect(recommendationView(pair(null), complete())).toBeNull();
    expect(recommendationView(null, complete())).toBeNull();
  });

  it('says "computing" with the images done, never a number, until α, 0 and 1 are computed on every image', () => {
    expect(recommendationView(pair(), {})).toEqual({
      alpha: 0.6,
      chosenOn: CHOSEN_ON,
      userSets: false,
      state: 'computing',
      done: 0,
      total: 900,
    });
    // The table would already show a delta from the first chunk; the callout waits for the whole sets.
    const partial = complete();
    partial['0.6'] = { reference: firstRight(50, 100, 200), shift: firstRight(70, 100) };
    expect(recommendationView(pair(), partial)).toMatchObject({ state: 'computing', done: 800, total: 900 });
    expect(recommendationView(pair(), partial)).not.toHaveProperty('shiftsVsZeroShot');
    // Another α computed in full says nothing about the recommended one.
    const elsewhere = complete();
    elsewhere['0.5'] = elsewhere['0.6']!;
    delete elsewhere['0.6'];
    expect(recommendationView(pair(), elsewhere)).toMatchObject({ state: 'computing', done: 600 });
    // Counts without per-image results cannot be paired: still computing.
    const counted = complete();
    counted['1'] = { reference: acc(170, 200), shift: acc(69, 100) };
    expect(recommendationView(pair(), counted)).toMatchObject({ state: 'computing' });
  });

  it('once computed: a gain vs zero-shot, no difference vs fine-tuned, and a loss on the reference, each with its interval and image count', () => {
    const v = recommendationView(pair(), complete())!;
    if (v.state !== 'ready') throw new Error(`expected the findings, got ${v.state}`);
    expect([v.alpha, v.chosenOn, v.referenceImages, v.shiftImages, v.shiftSetCount, v.userSets]).toEqual([
      0.6,
      CHOSEN_ON,
      200,
      100,
      1,
      false,
    ]);
    // With the user's own eval sets (their results key), the same α is reported on their images.
    expect(recommendationView({ ...pair(), resultsKey: 'bundle-1+user' as PairSummary['resultsKey'] }, complete())).toMatchObject({
      state: 'ready',
      userSets: true,
    });
    expect(v.shiftsVsZeroShot.direction).toBe('gain');
    expect(v.shiftsVsZeroShot.delta.diff).toBeCloseTo(0.3, 12);
    expect(v.shiftsVsZeroShot.text).toMatch(/^gains \+30\.0 points \[\+\d+\.\d, \+\d+\.\d\] on 100 images$/);
    expect(v.shiftsVsZeroShot.short).toMatch(/^\+30\.0 \[\+\d+\.\d, \+\d+\.\d\]$/);
    expect(v.shiftsVsFineTuned.direction).toBe('none');
    expect(v.shiftsVsFineTuned.text).toMatch(
      /^not distinguishable from zero on 100 images \(\+1\.0 points \[\u2212\d+\.\d, \+\d+\.\d\]\)$/,
    );
    expect(v.shiftsVsFineTuned.short).toMatch(/^\u2248 0 \(\+1\.0 \[\u2212\d+\.\d, \+\d+\.\d\]\)$/);
    expect(v.referenceVsFineTuned.direction).toBe('loss');
    expect(v.referenceVsFineTuned.delta.n).toBe(200);
    expect(v.referenceVsFineTuned.text).toMatch(/^loses 10\.0 points \[\u2212\d+\.\d, \u2212\d+\.\d\] on 200 images$/);
    expect(v.referenceVsFineTuned.short).toMatch(/^\u221210\.0 \[\u2212\d+\.\d, \u2212\d+\.\d\]$/);
  });

  it('follows the selected member: another member without a recommendation shows nothing', () => {
    const p = pair();
    const two = {
      ...p,
      members: [...p.members, { ...p.members[0]!, id: 'lp', kind: 'linear-classifier' as const, recommendedAlpha: null }],
    };
    expect(recommendationView(two, complete())).not.toBeNull();
    expect(recommendationView({ ...two, member: 'lp' }, complete())).toBeNull();
  });
});

describe('a finding in words', () => {
  const d = (diff: number, lo: number, hi: number, n = 1000) => ({ diff, lo, hi, n, significant: lo > 0 || hi < 0 });

  it('rounds to one decimal of a point, with true minus signs and thousands separators', () => {
    const f = finding(d(0.04849, 0.031, 0.0651, 5000));
    expect(f.text).toBe('gains +4.8 points [+3.1, +6.5] on 5,000 images');
    expect(finding(d(-0.0081, -0.0149, -0.0012)).text).toBe('loses 0.8 points [\u22121.5, \u22120.1] on 1,000 images');
  });

  it('an interval that includes 0 is never a gain, however large the difference', () => {
    const f = finding(d(0.09, -0.001, 0.2, 100));
    expect(f.direction).toBe('none');
    expect(f.text).toBe('not distinguishable from zero on 100 images (+9.0 points [\u22120.1, +20.0])');
  });

  it('a significant difference that rounds to 0.0 keeps its sign, and so does a bound near 0', () => {
    expect(finding(d(0.0004, 0.0001, 0.0008)).short).toBe('+0.0 [+0.0, +0.1]');
    expect(finding(d(0.0004, -0.0001, 0.0008)).short).toBe('\u2248 0 (0.0 [\u22120.0, +0.1])');
  });
});
