// A completed live frontier as it is kept in IndexedDB between visits (controllers/frontierCache.ts
// does the reading and writing): the per-α counts with their per-image bitsets, which the table's
// paired intervals need, and the output-space ensemble's counts. Everything read back is checked
// against the loaded pair before it is shown: a bitset whose popcount disagrees with its count, a
// set the pair does not have, a grid α missing, and the entry is refused whole, never half-used.
import { GRID, alphaKey, type FrontierPoints, type PairSummary, type SetAccuracy } from '../worker/protocol';
import { own, record } from '../core/eval/ids';

/** Bumped whenever the layout below changes: an entry of another version is refused, not migrated. */
export const SAVED_FRONTIER_VERSION = 1;

export interface SavedFrontier {
  version: typeof SAVED_FRONTIER_VERSION;
  resultsKey: string;
  /** When the frontier was completed (ms since the epoch). */
  savedAt: number;
  points: FrontierPoints;
  ensemble: FrontierPoints;
}

export interface RestoredFrontier {
  points: FrontierPoints;
  ensemble: FrontierPoints;
  savedAt: number;
}

const fullAt = (pair: PairSummary, point: Record<string, SetAccuracy> | undefined) =>
  pair.sets.every((s) => {
    const a = own(point, s.id);
    return a !== undefined && a.n === s.count && a.images !== undefined;
  });

/** Every grid α has every set at full n, with its per-image bitsets: what a live evaluation completes. */
export function isCompleteFrontier(pair: PairSummary, points: FrontierPoints): boolean {
  return pair.sets.length > 0 && GRID.every((a) => fullAt(pair, own(points, alphaKey(a))));
}

/** The α of `points` (grid or not) whose every set is at full n: nothing left to evaluate there. */
export function completeAt(pair: PairSummary, points: FrontierPoints, alpha: number): boolean {
  return fullAt(pair, own(points, alphaKey(alpha)));
}

/** The α of `points` that are complete. */
export function completePoints(pair: PairSummary, points: FrontierPoints): FrontierPoints {
  return Object.fromEntries(Object.entries(points).filter(([, point]) => fullAt(pair, point)));
}

function copyPoints(points: FrontierPoints): FrontierPoints {
  const out = record<Record<string, SetAccuracy>>();
  for (const [a, point] of Object.entries(points)) {
    const p = (out[a] = record<SetAccuracy>());
    for (const [id, s] of Object.entries(point)) {
      const copy: SetAccuracy = { correct: s.correct, n: s.n, total: s.total };
      if (s.images) copy.images = { correct: s.images.correct.slice(), seen: s.images.seen.slice() };
      p[id] = copy;
    }
  }
  return out;
}

/** The entry for a complete frontier (copies: the store's points stay the store's). */
export function encodeFrontier(resultsKey: string, points: FrontierPoints, ensemble: FrontierPoints, savedAt: number): SavedFrontier {
  return { version: SAVED_FRONTIER_VERSION, resultsKey, savedAt, points: copyPoints(points), ensemble: copyPoints(ensemble) };
}

function popcount(bytes: Uint8Array, mask?: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) for (let b = bytes[i]! & (mask ? mask[i]! : 0xff); b; b &= b - 1) n++;
  return n;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Why `raw` is not one set's accuracy of `count` images, or null when it is. */
function setProblem(raw: unknown, count: number, bitsRequired: boolean): string | null {
  if (typeof raw !== 'object' || raw === null) return 'not an object';
  const a = raw as Record<string, unknown>;
  if (!isCount(a.correct) || !isCount(a.n) || a.total !== count || a.correct > a.n || a.n > count) return 'counts out of range';
  if (a.images === undefined) return bitsRequired ? 'no per-image results' : null;
  const im = a.images as { correct?: unknown; seen?: unknown };
  const bytes = Math.ceil(count / 8);
  if (!(im.correct instanceof Uint8Array) || !(im.seen instanceof Uint8Array) || im.correct.length !== bytes || im.seen.length !== bytes)
    return 'per-image bitsets of the wrong size';
  if (popcount(im.seen) !== a.n || popcount(im.correct, im.seen) !== a.correct) return 'per-image bitsets disagree with the counts';
  return null;
}

/** Why `raw` is not a set of points over the pair's sets, or null when it is. */
function pointsProblem(raw: unknown, pair: PairSummary, bitsRequired: boolean): string | null {
  if (typeof raw !== 'object' || raw === null) return 'no points';
  for (const [a, point] of Object.entries(raw)) {
    if (!(Number(a) >= 0 && Number(a) <= 1) || alphaKey(Number(a)) !== a) return `α '${a.slice(0, 20)}' is not a slider step`;
    if (typeof point !== 'object' || point === null) return `α ${a}: no sets`;
    for (const [id, s] of Object.entries(point as object)) {
      const set = pair.sets.find((x) => x.id === id);
      if (!set) return `α ${a}: a set this pair does not have`;
      const problem = setProblem(s, set.count, bitsRequired);
      if (problem) return `α ${a}, set ${id}: ${problem}`;
    }
  }
  return null;
}

/**
 * The frontier in `raw` if it is a complete, consistent entry for this pair's results key, else
 * why not (a sentence for the console; the caller evaluates afresh).
 */
export function decodeFrontier(raw: unknown, pair: PairSummary): RestoredFrontier | string {
  if (typeof raw !== 'object' || raw === null) return 'not an object';
  const e = raw as Partial<SavedFrontier>;
  if (e.version !== SAVED_FRONTIER_VERSION) return `version ${String(e.version)}, not ${SAVED_FRONTIER_VERSION}`;
  if (e.resultsKey !== pair.resultsKey) return 'saved for other results';
  if (typeof e.savedAt !== 'number' || !Number.isFinite(e.savedAt)) return 'no date';
  const problem = pointsProblem(e.points, pair, true) ?? pointsProblem(e.ensemble, pair, false);
  if (problem) return problem;
  const points = copyPoints(e.points!);
  if (!isCompleteFrontier(pair, points)) return 'not a complete frontier';
  return { points, ensemble: copyPoints(e.ensemble!), savedAt: e.savedAt };
}

/** How a restored frontier is labelled, on the chart and under it. */
export function cachedLabel(savedAt: number): string {
  return `verified live (cached ${new Date(savedAt).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })})`;
}
