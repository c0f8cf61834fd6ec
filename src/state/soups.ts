// Pure derivations for the soups panel: the triangle's cells over zero-shot and two fine-tuned
// members, which cell to evaluate first, and each soup's chart point (reference, shift) from its
// own results, never from the α points.
import { soupKey, weightsMixing, own } from '../core/eval/ids';
import type { FrontierPoints, PairSummary } from '../worker/protocol';
import { meanEstimate, referenceSet, setEstimate, shiftSets, type Estimate } from './frontier';

/** Images per set for the soups' first look and for every triangle cell: the first chunk of each set. */
export const SOUP_FIRST_IMAGES = 100;

/** Grid steps per edge: 0.1, so 11·12/2 = 66 cells. */
export const TRIANGLE_STEPS = 10;

/** The two fine-tuned members the triangle spans (1-based member indices): the first two end-to-end ones, else the first two. */
export function triangleMembers(pair: PairSummary): [number, number] | null {
  const e2e = pair.members.flatMap((m, i) => (m.kind === 'end-to-end' ? [i + 1] : []));
  const pick = e2e.length >= 2 ? e2e : pair.members.map((_, i) => i + 1);
  return pick.length >= 2 ? [pick[0]!, pick[1]!] : null;
}

/** A cell: its barycentric steps (zero-shot, a, b; summing to TRIANGLE_STEPS) and its weights over all K members. */
export interface TriangleCell {
  steps: [number, number, number];
  weights: number[];
}

export function triangleCells(k: number, [a, b]: [number, number]): TriangleCell[] {
  const cells: TriangleCell[] = [];
  for (let i = 0; i <= TRIANGLE_STEPS; i++) {
    for (let j = 0; i + j <= TRIANGLE_STEPS; j++) {
      const z = TRIANGLE_STEPS - i - j;
      const weights = new Array<number>(k).fill(0);
      // Tenths from integers, so a cell's key is the same wherever it is built ("0.3", not "0.30000000000000004").
      weights[0] = z / TRIANGLE_STEPS;
      weights[a] = i / TRIANGLE_STEPS;
      weights[b] = j / TRIANGLE_STEPS;
      cells.push({ steps: [z, i, j], weights });
    }
  }
  return cells;
}

/** The cells with the one nearest the current point first (the WiSE-FT line's α towards member a), then the rest in order. */
export function triangleOrder(cells: readonly TriangleCell[], alpha: number): TriangleCell[] {
  const i = Math.round(Math.min(1, Math.max(0, alpha)) * TRIANGLE_STEPS);
  const first = cells.findIndex((c) => c.steps[1] === i && c.steps[2] === 0);
  return first < 0 ? [...cells] : [cells[first]!, ...cells.filter((_, j) => j !== first)];
}

export interface SoupEstimate {
  reference: Estimate;
  shift: Estimate;
}

/** A soup's reference and shift estimates from its own results (shift: one set, or the mean over the shift sets). */
export function soupEstimate(pair: PairSummary, soupPoints: FrontierPoints, key: string, shift: string): SoupEstimate | null {
  const point = own(soupPoints, key);
  const ref = referenceSet(pair);
  if (!point || !ref) return null;
  const reference = setEstimate(own(point, ref.id));
  const s = shift === 'mean' ? meanEstimate(shiftSets(pair).map((x) => own(point, x.id))) : setEstimate(own(point, shift));
  return reference && s ? { reference, shift: s } : null;
}

/** The key a weights soup's results are under, for this pair. */
export function weightsKey(pair: PairSummary, weights: readonly number[]): string {
  return soupKey(pair.resultsKey, weightsMixing(weights));
}

/** The uniform soup's weights over K members: zero-shot 0, each fine-tuned member 1/(K−1), as the engine builds them. */
export function uniformWeights(k: number): number[] {
  const w = new Array<number>(k).fill(0);
  for (let m = 1; m < k; m++) w[m]! += 1 / (k - 1);
  return w;
}

/** A soup drawn on the main chart: its label and its own results. */
export interface SoupMark {
  kind: 'uniform' | 'greedy' | 'model-stock';
  label: string;
  point: FrontierPoints[string];
}

/** The soups the chart marks, while the panel is open: uniform, greedy (once decided), Model Stock. */
export function soupMarks(
  pair: PairSummary,
  s: { soupsOn: boolean; soupPoints: FrontierPoints; greedySteps: readonly { soupKey: string }[]; stock: { soupKey: string } | null },
): SoupMark[] {
  if (!s.soupsOn) return [];
  const k = pair.members.length + 1;
  const keys: [SoupMark['kind'], string, string | undefined][] = [
    ['uniform', 'uniform soup', weightsKey(pair, uniformWeights(k))],
    ['greedy', 'greedy soup', s.greedySteps.at(-1)?.soupKey],
    ['model-stock', 'Model Stock', s.stock?.soupKey],
  ];
  return keys.flatMap(([kind, label, key]) => {
    const point = key === undefined ? undefined : own(s.soupPoints, key);
    return point ? [{ kind, label, point }] : [];
  });
}

/** A triangle cell's accuracy (reference or shift, as the toggle says), null until computed. */
export interface HeatCell {
  cell: TriangleCell;
  value: number | null;
  n: number;
}

export function triangleHeat(pair: PairSummary, soupPoints: FrontierPoints, view: 'reference' | 'shift', shift: string): HeatCell[] {
  const members = triangleMembers(pair);
  if (!members) return [];
  return triangleCells(pair.members.length + 1, members).map((cell) => {
    const e = soupEstimate(pair, soupPoints, weightsKey(pair, cell.weights), shift);
    const est = e ? e[view] : null;
    return { cell, value: est ? est.value : null, n: est ? est.n : 0 };
  });
}

/** A cell's place in a unit-width triangle: zero-shot at the top, member a bottom left, member b bottom right. */
export function cellPosition([z, a, b]: readonly [number, number, number]): { x: number; y: number } {
  const t = TRIANGLE_STEPS;
  const h = Math.sqrt(3) / 2;
  return { x: 0.5 * (z / t) + 0 * (a / t) + 1 * (b / t), y: h * (1 - z / t) };
}
