// Which set the lesson views (the flips' thumbnails, per-class accuracy) show, and which images
// stand for a set in its strip.
import { own } from '../core/eval/ids';
import type { EvalLabels, PairSummary } from '../worker/protocol';

/** Images in each set's strip. */
export const STRIP_IMAGES = 8;

/**
 * The set the lesson shows: the one picked there, else the chart's selected shift, else the first
 * shift set (the chart shows the mean), else the first set.
 */
export function lessonSetId(pair: PairSummary, picked: string | null, chartShift: string): string | null {
  const has = (id: string | null) => id !== null && pair.sets.some((s) => s.id === id);
  if (has(picked)) return picked;
  if (has(chartShift)) return chartShift;
  return (pair.sets.find((s) => s.role === 'shift') ?? pair.sets[0])?.id ?? null;
}

/** `k` image indices spread evenly over a set of `count` (all of them for a smaller set). */
export function stripIndices(count: number, k = STRIP_IMAGES): number[] {
  if (count <= k) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: k }, (_, j) => Math.floor(((j + 0.5) * count) / k));
}

/** The class name of image `index` of a set, when its labels under the pair's results key are known. */
export function imageClass(pair: PairSummary, labels: EvalLabels | null, setId: string, index: number): string | null {
  if (!labels || labels.resultsKey !== pair.resultsKey) return null;
  const c = own(labels.sets, setId)?.[index];
  return c === undefined ? null : (pair.classes[c] ?? null);
}
