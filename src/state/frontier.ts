// Pure derivations from the evaluated counts to what the chart and table show.
import type { SetAccuracy } from '../core/eval/frontier';
import { wilson } from '../core/eval/stats';
import type { PairSummary } from '../core/explorer';
import { own, record } from '../core/eval/ids';

export interface Estimate {
  /** Accuracy in [0, 1]. */
  value: number;
  low: number;
  high: number;
  /** Images behind the estimate, and in the full set(s). */
  n: number;
  total: number;
}

export function setEstimate(a: SetAccuracy | undefined): Estimate | null {
  if (!a || !(a.n > 0) || !Number.isFinite(a.correct)) return null;
  const ci = wilson(a.correct, a.n);
  return { value: a.correct / a.n, low: ci.low, high: ci.high, n: a.n, total: a.total };
}

/**
 * The mean over the shift sets, as the paper's "avg shifts". Its 95% interval treats the sets as
 * independent binomials: var = Σ p(1-p)/n / k². Absent until every shift set has results.
 */
export function meanEstimate(accs: (SetAccuracy | undefined)[]): Estimate | null {
  if (accs.length === 0 || accs.some((a) => !a || a.n === 0)) return null;
  const k = accs.length;
  let mean = 0;
  let variance = 0;
  let n = 0;
  let total = 0;
  for (const a of accs as SetAccuracy[]) {
    const p = a.correct / a.n;
    mean += p / k;
    variance += (p * (1 - p)) / a.n / (k * k);
    n += a.n;
    total += a.total;
  }
  const half = 1.959963984540054 * Math.sqrt(variance);
  return { value: mean, low: Math.max(0, mean - half), high: Math.min(1, mean + half), n, total };
}

export interface FrontierPoint {
  alpha: number;
  reference: Estimate;
  shift: Estimate;
  complete: boolean;
  perSet: Record<string, Estimate | null>;
}

export function shiftSets(pair: PairSummary): PairSummary['sets'] {
  return pair.sets.filter((s) => s.role === 'shift');
}

export function referenceSet(pair: PairSummary): PairSummary['sets'][number] | undefined {
  return pair.sets.find((s) => s.role === 'reference');
}

/** One chart point per α with results on the reference and the selected shift (or all, for the mean). */
export function frontierPoints(pair: PairSummary, points: Record<string, Record<string, SetAccuracy>>, shift: string): FrontierPoint[] {
  const ref = referenceSet(pair);
  if (!ref) return [];
  const shifts = shiftSets(pair);
  const out: FrontierPoint[] = [];
  for (const [alphaKey, point] of Object.entries(points)) {
    // Points arrive from the Worker as plain objects keyed by set id: read own keys only, so a set
    // not computed yet is absent, never an inherited constructor (NaN%, "complete").
    const reference = setEstimate(own(point, ref.id));
    const shiftEst = shift === 'mean' ? meanEstimate(shifts.map((s) => own(point, s.id))) : setEstimate(own(point, shift));
    if (!reference || !shiftEst) continue;
    const perSet = record<Estimate | null>();
    for (const s of pair.sets) perSet[s.id] = setEstimate(own(point, s.id));
    const complete = pair.sets.every((s) => own(point, s.id)?.n === s.count);
    out.push({ alpha: Number(alphaKey), reference, shift: shiftEst, complete, perSet });
  }
  return out.sort((a, b) => a.alpha - b.alpha);
}

export const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;
