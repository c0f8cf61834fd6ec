// The evaluation's progress as the page shows it: images of the whole frontier, counted from what
// the store holds (whoever computed it: this job, an older one, the frontier cache), so the count
// never goes back and its total does not move with α; and the time left at the measured rate.
import { EXTRAPOLATED_GRID, GRID, alphaKey, sameAlpha, type FrontierPoints, type PairSummary } from '../worker/protocol';
import { own } from '../core/eval/ids';

export interface FrontierProgress {
  /** Images evaluated at the grid's α. */
  done: number;
  /** Images of every set at every grid α: fixed for a pair (and a grid). */
  total: number;
  /** What the evaluation still has to run: the grid's rest, plus the current α's when it is off the grid. */
  left: number;
}

/** Images of `pair`'s sets evaluated at `alpha` (a count past a set's size counts as its size). */
function doneAt(pair: PairSummary, points: FrontierPoints, alpha: number): number {
  const point = own(points, alphaKey(alpha));
  return pair.sets.reduce((n, s) => n + Math.min(own(point, s.id)?.n ?? 0, s.count), 0);
}

export function frontierProgress(pair: PairSummary, points: FrontierPoints, alpha: number, extrapolate: boolean): FrontierProgress {
  const grid = extrapolate ? EXTRAPOLATED_GRID : GRID;
  const perAlpha = pair.sets.reduce((n, s) => n + s.count, 0);
  const done = grid.reduce((n, a) => n + doneAt(pair, points, a), 0);
  const total = grid.length * perAlpha;
  const offGrid = grid.some((a) => sameAlpha(a, alpha)) ? 0 : perAlpha - doneAt(pair, points, alpha);
  return { done, total, left: total - done + offGrid };
}

/** Every image evaluated under the store's results key, at any α: what a rate is measured on. */
export function imagesEvaluated(points: FrontierPoints): number {
  let n = 0;
  for (const point of Object.values(points)) for (const a of Object.values(point)) n += a.n;
  return n;
}

export interface RateSample {
  at: number;
  images: number;
}

/** Images per second between two samples; null until images have come in over a measurable time. */
export function measuredRate(from: RateSample, to: RateSample): number | null {
  const seconds = (to.at - from.at) / 1000;
  return seconds > 0 && to.images > from.images ? (to.images - from.images) / seconds : null;
}

/** "about N s left" (minutes past two), or null while no rate is known. */
export function timeLeftText(left: number, rate: number | null): string | null {
  if (rate === null || !(rate > 0)) return null;
  const seconds = left / rate;
  if (seconds >= 120) return `about ${Math.round(seconds / 60)} min left`;
  return `about ${Math.max(1, Math.round(seconds))} s left`;
}
