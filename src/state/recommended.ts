// The recommended-α callout's numbers: what to notice at the α the bundle recommends for the
// member. The α was chosen on a validation draw that is not in the bundle; the gains at it are
// measured here, live, on the bundle's own sets, as paired differences (the same images at both α)
// with 95% intervals. Nothing is said before the recommended α and both endpoints are computed on
// every image: no partial, stale or interpolated number. A pair with no recommendation (one the
// user brings) gets no callout: the best α on its live grid would be chosen on the very images it
// is measured on, an optimistic number this view does not show.
import { own } from '../core/eval/ids';
import { alphaKey, type FrontierPoints, type PairSummary } from '../worker/protocol';
import { referenceSet, shiftSets } from './frontier';
import { selectedMember } from './members';
import { meanPairedDelta, pairedDelta, signedPoints, type Delta } from './table';

/** One paired difference, in words: a gain or a loss only when its interval excludes 0. */
export interface Finding {
  delta: Delta;
  direction: 'gain' | 'loss' | 'none';
  /** "+4.8 points [+3.1, +6.5]": the difference and its interval, in percentage points. */
  points: string;
  /** "gains +4.8 points [+3.1, +6.5] on 5,000 images", or "not distinguishable from zero on 5,000 images (+0.4 points [−0.8, +1.6])". */
  text: string;
  /** The one-line version: "+4.8 [+3.1, +6.5]", or "≈ 0 (+0.4 [−0.8, +1.6])". */
  short: string;
}

interface Base {
  alpha: number;
  chosenOn: string;
  /** The user's own eval sets are in use (the results key is not the bundle's): the findings are on them. */
  userSets: boolean;
}

export type RecommendationView =
  | (Base & {
      state: 'computing';
      /** Images computed so far at the recommended α and the two endpoints, over all sets, and how many there are. */
      done: number;
      total: number;
    })
  | (Base & {
      state: 'ready';
      /** The mean of the shift sets at α against zero-shot (α = 0) and fine-tuned (α = 1). */
      shiftsVsZeroShot: Finding;
      shiftsVsFineTuned: Finding;
      /** The reference set at α against fine-tuned: what the recommendation costs (or not) in distribution. */
      referenceVsFineTuned: Finding;
      /** Images per set behind the findings (the whole sets). */
      referenceImages: number;
      shiftImages: number;
      shiftSetCount: number;
    });

const count = (n: number) => n.toLocaleString('en');

/** A paired difference as a finding; significant ones keep their sign even when they round to 0.0. */
export function finding(delta: Delta): Finding {
  const direction = !delta.significant ? 'none' : delta.diff > 0 ? 'gain' : 'loss';
  const interval = `[${signedPoints(delta.lo, true)}, ${signedPoints(delta.hi, true)}]`;
  const diff = signedPoints(delta.diff, delta.significant);
  const points = `${diff} points ${interval}`;
  const on = `on ${count(delta.n)} images`;
  const text =
    direction === 'gain'
      ? `gains ${points} ${on}`
      : direction === 'loss'
        ? `loses ${diff.replace('\u2212', '')} points ${interval} ${on}`
        : `not distinguishable from zero ${on} (${points})`;
  const short = direction === 'none' ? `\u2248 0 (${diff} ${interval})` : `${diff} ${interval}`;
  return { delta, direction, points, text, short };
}

/**
 * The callout for the selected member: null when it has no recommended α; 'computing' until the
 * recommended α, α = 0 and α = 1 are computed on every image of every set; then the findings.
 */
export function recommendationView(pair: PairSummary | null, points: FrontierPoints): RecommendationView | null {
  const rec = pair ? selectedMember(pair)?.recommendedAlpha : null;
  if (!pair || !rec) return null;
  const ref = referenceSet(pair);
  const shifts = shiftSets(pair);
  if (!ref || shifts.length === 0) return null;
  const base = { alpha: rec.alpha, chosenOn: rec.chosenOn, userSets: pair.resultsKey !== pair.bundleHash };
  const at = (a: number) => own(points, alphaKey(a)) ?? {};
  const [now, zeroShot, fineTuned] = [at(rec.alpha), at(0), at(1)];
  let done = 0;
  let total = 0;
  let complete = true;
  for (const p of [now, zeroShot, fineTuned])
    for (const s of pair.sets) {
      const r = own(p, s.id);
      const n = Math.min(r?.n ?? 0, s.count);
      done += n;
      total += s.count;
      // Only per-image results can be paired; a set counted without them is not computed for this view.
      if (n < s.count || !r?.images) complete = false;
    }
  if (!complete) return { ...base, state: 'computing', done, total };
  const of = (p: typeof now) => shifts.map((s) => own(p, s.id));
  const shiftsVsZeroShot = meanPairedDelta(of(now), of(zeroShot));
  const shiftsVsFineTuned = meanPairedDelta(of(now), of(fineTuned));
  const referenceVsFineTuned = pairedDelta(own(now, ref.id), own(fineTuned, ref.id));
  if (!shiftsVsZeroShot || !shiftsVsFineTuned || !referenceVsFineTuned) return { ...base, state: 'computing', done, total };
  return {
    ...base,
    state: 'ready',
    shiftsVsZeroShot: finding(shiftsVsZeroShot),
    shiftsVsFineTuned: finding(shiftsVsFineTuned),
    referenceVsFineTuned: finding(referenceVsFineTuned),
    referenceImages: ref.count,
    shiftImages: shifts.reduce((n, s) => n + s.count, 0),
    shiftSetCount: shifts.length,
  };
}
