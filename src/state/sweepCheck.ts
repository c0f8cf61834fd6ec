// Live evaluation confirms the member's recorded sweep point by point: both were measured on the
// same images, so a recorded accuracy outside the live point's 95% interval is not noise but a
// different model, runtime or preprocessing, and the user is told (never silently replaced).
import { alphaKey, type FrontierPoints, type PairSummary } from '../worker/protocol';
import { own } from '../core/eval/ids';
import { wilson } from '../core/eval/stats';
import { completeAt } from './savedFrontier';
import { pct } from './frontier';

export interface SweepDisagreement {
  alpha: number;
  setId: string;
  setName: string;
  /** The recorded sweep's accuracy, a fraction. */
  recorded: number;
  correct: number;
  n: number;
  low: number;
  high: number;
}

/** Every set of every complete live point whose recorded accuracy (same α, same set) lies outside the live 95% interval. */
export function sweepDisagreements(pair: PairSummary | null, points: FrontierPoints): SweepDisagreement[] {
  const lines = pair?.sweeps?.weight;
  if (!pair || !lines) return [];
  const out: SweepDisagreement[] = [];
  for (const line of lines) {
    if (!completeAt(pair, points, line.alpha)) continue;
    const point = own(points, alphaKey(line.alpha));
    for (const set of pair.sets) {
      const recorded = own(line, `${set.id}:top1`);
      const live = own(point, set.id);
      if (typeof recorded !== 'number' || !live) continue;
      const { low, high } = wilson(live.correct, live.n);
      if (recorded < low || recorded > high)
        out.push({ alpha: line.alpha, setId: set.id, setName: set.name, recorded, correct: live.correct, n: live.n, low, high });
    }
  }
  return out;
}

/** Where a disagreement is kept track of: one per (α, set). */
export function disagreementKey(d: Pick<SweepDisagreement, 'alpha' | 'setId'>): string {
  return `${alphaKey(d.alpha)}/${d.setId}`;
}

/** The message: the first disagreement in full, how many more there are. */
export function disagreementText(found: readonly SweepDisagreement[]): string {
  const d = found[0]!;
  const more = found.length > 1 ? ` ${found.length - 1} more point(s) disagree too.` : '';
  return (
    `The live evaluation disagrees with the recorded sweep on '${d.setName}' at α = ${d.alpha}: ` +
    `live ${pct(d.correct / d.n)} (95% interval ${pct(d.low)}–${pct(d.high)}, ${d.n.toLocaleString('en')} images), ` +
    `recorded ${pct(d.recorded)}. The recorded sweep was not measured by this model on these images; the point is marked on the chart.${more}`
  );
}
