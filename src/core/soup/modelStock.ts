// Model Stock (Jang, Yun, Han, "Model Stock: All we need is just a few fine-tuned models", ECCV
// 2024): per layer, the angle θ between the fine-tuning deltas sets how far to move from the
// zero-shot weights towards the fine-tuned members' average:
//   t = k·cosθ / (1 + (k − 1)·cosθ),   θ_ms = t·mean(θ_ft) + (1 − t)·θ_0.
// Pure: weights in, coefficients out. Sums in float64, as in moved/.
import type { BlendCoefficients } from '../blend/coefficients';

/** A layer group: its id and the tensors it blends (LayerGroup's shape, without the depth). */
export interface StockGroup {
  id: string;
  tensors: readonly string[];
}

export interface StockLayer {
  id: string;
  /** Mean cosine between every pair of members' deltas over the group's tensors (null: a delta is zero). */
  cos: number | null;
  /** The interpolation ratio towards the members' average (1 when the cosine is undefined: nothing to shrink). */
  t: number;
}

/** t = k·cosθ / (1 + (k − 1)·cosθ), the paper's eq. for k fine-tuned models. */
export function stockRatio(cos: number, k: number): number {
  return (k * cos) / (1 + (k - 1) * cos);
}

type Values = (name: string) => Float32Array;

/** Dot products of the deltas of members a and b (and their squares) over a group's tensors. */
function deltaDot(group: StockGroup, zero: Values, a: Values, b: Values): { dot: number; aa: number; bb: number } {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (const name of group.tensors) {
    const z = zero(name);
    const x = a(name);
    const y = b(name);
    for (let i = 0; i < z.length; i++) {
      const dx = x[i]! - z[i]!;
      const dy = y[i]! - z[i]!;
      dot += dx * dy;
      aa += dx * dx;
      bb += dy * dy;
    }
  }
  return { dot, aa, bb };
}

/** The group's mean pairwise cosine over the members' deltas; null if any delta is zero. */
export function groupCosine(group: StockGroup, zero: Values, members: readonly Values[]): number | null {
  if (members.length < 2) throw new RangeError(`Model Stock needs at least two fine-tuned members, got ${members.length}`);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++) {
      const { dot, aa, bb } = deltaDot(group, zero, members[i]!, members[j]!);
      if (aa === 0 || bb === 0) return null;
      sum += dot / Math.sqrt(aa * bb);
      pairs++;
    }
  }
  return sum / pairs;
}

/**
 * Per group: cosθ and t from the members' weights (`weightsOf(k)`, k = 0 the zero-shot model,
 * `members` the fine-tuned ones among 1…K−1 to stock); and the blend coefficients over all K members
 * that give θ_ms: per tensor, 1 − t on zero-shot and t/k on each stocked member.
 */
export function modelStock(
  groups: readonly StockGroup[],
  weightsOf: (k: number) => Values,
  members: readonly number[],
  k: number,
): { layers: StockLayer[]; coefficients: BlendCoefficients } {
  const bad = members.find((m) => !(Number.isInteger(m) && m >= 1 && m < k));
  if (bad !== undefined) throw new RangeError(`no fine-tuned member ${bad} among members 1…${k - 1}`);
  const zero = weightsOf(0);
  const ft = members.map(weightsOf);
  const perTensor: Record<string, number[]> = {};
  const layers = groups.map((g) => {
    const cos = groupCosine(g, zero, ft);
    const t = cos === null ? 1 : stockRatio(cos, members.length);
    const w = new Array<number>(k).fill(0);
    w[0] = 1 - t;
    for (const m of members) w[m]! += t / members.length;
    for (const name of g.tensors) perTensor[name] = w;
    return { id: g.id, cos, t };
  });
  const uniform = new Array<number>(k).fill(0);
  uniform[0] = 1;
  return { layers, coefficients: { weights: uniform, perTensor } };
}
