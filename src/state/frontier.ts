// Pure derivations from the evaluated counts to what the chart and table show.
import type { SetAccuracy } from '../core/eval/frontier';
import { wilson } from '../core/eval/stats';
import type { PairSummary } from '../worker/protocol';
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

/** Images per set of the Worker's first pass at an α (its first chunk): the first points' interval, which the axes allow for. */
export const FIRST_PASS_IMAGES = 100;

/**
 * A first estimate: a point with fewer images on some set than the first pass will give it (the
 * Worker's preview of a new current α or per-layer setting, PREVIEW_IMAGES per set). Its bars are
 * about 3.5× the first pass's, and within a second its first pass replaces it.
 */
export function isPreview(p: FrontierPoint): boolean {
  return Object.values(p.perSet).some((e) => e !== null && e.n < Math.min(FIRST_PASS_IMAGES, e.total));
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

/**
 * Where the point of an α not computed yet is expected: on the straight line between the nearest
 * computed α on each side (or at the only side there is). An estimate for the chart, so the current
 * point stays on screen while its α is evaluated; never a number for the table. Null when nothing
 * is computed.
 */
export function interpolateAt<P extends { alpha: number; x: number; y: number }>(
  points: readonly P[],
  alpha: number,
): { x: number; y: number; from: [number, number] } | null {
  let below: P | null = null;
  let above: P | null = null;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    if (p.alpha <= alpha && (!below || p.alpha > below.alpha)) below = p;
    if (p.alpha >= alpha && (!above || p.alpha < above.alpha)) above = p;
  }
  if (!below && !above) return null;
  const a = below ?? above!;
  const b = above ?? below!;
  const t = b.alpha === a.alpha ? 0 : (alpha - a.alpha) / (b.alpha - a.alpha);
  return { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y), from: [a.alpha, b.alpha] };
}

/**
 * The points that get a small α label: the current α first, then 0, 0.5 and 1. A label is left out
 * when its point is within `near` of one already labelled (in units of the axes' spans), where the
 * two labels would overlap; the current α's label always stays.
 */
export function labelledAlphas<P extends { alpha: number; x: number; y: number }>(
  curve: readonly P[],
  current: P | null,
  span: { x: number; y: number },
  near = 0.07,
): P[] {
  const out: P[] = current ? [current] : [];
  for (const a of [0, 0.5, 1]) {
    const p = curve.find((q) => q.alpha === a);
    if (!p || out.some((q) => q.alpha === a || Math.hypot((q.x - p.x) / span.x, (q.y - p.y) / span.y) < near)) continue;
    out.push(p);
  }
  return out;
}
