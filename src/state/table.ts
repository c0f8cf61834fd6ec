// The accuracy table's numbers, derived from the points: each set's accuracy at the current α and
// its paired differences against both endpoints. A difference is taken on the images computed at
// both α (the engine's per-image bitsets), with its paired 95% interval; early in an evaluation
// that is one chunk, and the interval says how little that shows.
import type { SetAccuracy } from '../core/eval/frontier';
import { excludesZero, meanPairedDifference, pairedDifference, type PairedDifference } from '../core/eval/stats';
import { own } from '../core/eval/ids';
import { alphaKey, type FrontierPoints, type PairSummary, type SetSummary } from '../worker/protocol';
import { meanEstimate, setEstimate, shiftSets, type Estimate } from './frontier';

/** A paired difference in accuracy (fractions), and whether its interval excludes 0. */
export interface Delta extends PairedDifference {
  significant: boolean;
}

export interface TableRow {
  now: Estimate | null;
  /** The current α against α = 0 and α = 1, paired; null until both have an image in common. */
  vsZeroShot: Delta | null;
  vsFineTuned: Delta | null;
}

export interface SetRow extends TableRow {
  set: SetSummary;
}

const withSignificance = (d: PairedDifference | null): Delta | null => (d ? { ...d, significant: excludesZero(d) } : null);

/** now − base on the images evaluated at both α; null without per-image results on either side. */
export function pairedDelta(now: SetAccuracy | undefined, base: SetAccuracy | undefined): Delta | null {
  if (!now?.images || !base?.images) return null;
  return withSignificance(pairedDifference(now.images, base.images));
}

/** The mean over the shift sets of their paired differences; null until every one has one. */
export function meanPairedDelta(nows: (SetAccuracy | undefined)[], bases: (SetAccuracy | undefined)[]): Delta | null {
  const diffs: PairedDifference[] = [];
  for (let i = 0; i < nows.length; i++) {
    const d = pairedDelta(nows[i], bases[i]);
    if (!d) return null;
    diffs.push(d);
  }
  return withSignificance(meanPairedDifference(diffs));
}

/** Every set's row at α, and the mean of the shifts'. */
export function accuracyTable(pair: PairSummary, points: FrontierPoints, alpha: number): { rows: SetRow[]; mean: TableRow } {
  const at = (a: number) => own(points, alphaKey(a)) ?? {};
  const cur = at(alpha);
  const zeroShot = at(0);
  const fineTuned = at(1);
  const rows = pair.sets.map((set) => ({
    set,
    now: setEstimate(own(cur, set.id)),
    vsZeroShot: pairedDelta(own(cur, set.id), own(zeroShot, set.id)),
    vsFineTuned: pairedDelta(own(cur, set.id), own(fineTuned, set.id)),
  }));
  const shifts = shiftSets(pair);
  const of = (p: Record<string, SetAccuracy>) => shifts.map((s) => own(p, s.id));
  const mean = {
    now: meanEstimate(of(cur)),
    vsZeroShot: meanPairedDelta(of(cur), of(zeroShot)),
    vsFineTuned: meanPairedDelta(of(cur), of(fineTuned)),
  };
  return { rows, mean };
}

/**
 * Percentage points with a sign and one decimal, with a true minus sign. A difference that rounds to
 * 0 reads "0.0"; an interval's bound keeps its side ("−0.0"), so an interval that excludes 0 never
 * reads as if it touched it.
 */
export function signedPoints(fraction: number, bound = false): string {
  const r = Math.round(1000 * fraction) / 10;
  if (fraction === 0 || (r === 0 && !bound)) return '0.0';
  return `${fraction > 0 ? '+' : '\u2212'}${Math.abs(r).toFixed(1)}`;
}
