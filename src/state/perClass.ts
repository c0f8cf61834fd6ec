// Per-class accuracy of one set at the current α and at both endpoints, from the per-image bitsets
// and the class of each image (EngineApi.evalLabels). Each count is over the images of that class
// computed so far at that α, so a row says what it rests on.
import type { SetAccuracy } from '../core/eval/frontier';
import type { ImageCorrectness } from '../core/eval/stats';
import { own } from '../core/eval/ids';
import { alphaKey, type EvalLabels, type FrontierPoints, type PairSummary } from '../worker/protocol';
import { imageBit } from './flips';

export interface ClassCount {
  correct: number;
  n: number;
}

/** Right and computed images of each class (classes a set does not use have n = 0). */
export function classCounts(bits: ImageCorrectness, labels: Int32Array, classes: number): ClassCount[] {
  const out = Array.from({ length: classes }, () => ({ correct: 0, n: 0 }));
  for (let i = 0; i < labels.length; i++) {
    if (!imageBit(bits.seen, i)) continue;
    const c = out[labels[i]!];
    if (!c) continue;
    c.n++;
    if (imageBit(bits.correct, i)) c.correct++;
  }
  return out;
}

export interface ClassRow {
  classIndex: number;
  name: string;
  /** Images of this class in the set. */
  total: number;
  now: ClassCount | null;
  zeroShot: ClassCount | null;
  fineTuned: ClassCount | null;
}

/**
 * One row per class the set has images of, at α and both endpoints (null where that α has no
 * per-image results yet); null without the set's labels under the pair's results key.
 */
export function perClassTable(
  pair: PairSummary,
  points: FrontierPoints,
  alpha: number,
  labels: EvalLabels | null,
  setId: string,
): ClassRow[] | null {
  const setLabels = labels && labels.resultsKey === pair.resultsKey ? own(labels.sets, setId) : undefined;
  if (!setLabels) return null;
  const classes = pair.classes.length;
  const countsAt = (a: number) => {
    const acc: SetAccuracy | undefined = own(own(points, alphaKey(a)) ?? {}, setId);
    return acc?.images ? classCounts(acc.images, setLabels, classes) : null;
  };
  const [now, zeroShot, fineTuned] = [countsAt(alpha), countsAt(0), countsAt(1)];
  const totals = new Array<number>(classes).fill(0);
  for (const l of setLabels) if (l >= 0 && l < classes) totals[l]!++;
  return pair.classes
    .map((name, c) => ({
      classIndex: c,
      name,
      total: totals[c]!,
      now: now?.[c] ?? null,
      zeroShot: zeroShot?.[c] ?? null,
      fineTuned: fineTuned?.[c] ?? null,
    }))
    .filter((r) => r.total > 0);
}
