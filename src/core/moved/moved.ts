// "What fine-tuning moved": per tensor, how far each fine-tuned member went from the zero-shot
// weights relative to their size (‖θ₁ − θ₀‖ / ‖θ₀‖), whether two members went the same way (the
// cosine between their deltas) and the distribution of one member's changes. Sums run in float64:
// a CLIP tensor has millions of terms and a float32 sum would lose the small deltas' digits.
import type { OnnxModel } from '../onnx/model';
import { describeTensor, tensorValues } from '../onnx/model';
import { halvesToFloats } from '../onnx/half';

/** Float weights by initializer name, fp16 ones widened to float32 (exactly: every half is a float). */
export type WeightsByName = Map<string, { shape: number[]; values: Float32Array }>;

export interface MovedMember {
  id: string;
  name: string;
  weights: WeightsByName;
}

export const HISTOGRAM_BINS = 41;

/** Counts of θ₁ − θ₀ in `counts.length` equal bins over [−limit, limit]; the middle bin holds 0. */
export interface ChangeHistogram {
  limit: number;
  counts: number[];
}

export interface MovedRow {
  name: string;
  group: string;
  shape: number[];
  params: number;
  /** ‖θ₀‖ of the tensor. */
  zeroShotNorm: number;
  /** Per member (the report's member order): ‖θₖ − θ₀‖ / ‖θ₀‖; null where θ₀ is all zeros. */
  relativeChange: (number | null)[];
  /** Per member: ‖θₖ − θ₀‖, what is left to say where the ratio is undefined. */
  deltaNorm: number[];
  /** Cosine between the compared members' deltas; null without two members or where a delta is 0. */
  cosine: number | null;
  /** Per member: the histogram of its changes. */
  histograms: ChangeHistogram[];
}

export interface MovedTotals {
  params: number;
  relativeChange: (number | null)[];
  cosine: number | null;
}

export interface MovedReport {
  members: { id: string; name: string }[];
  /** The two members (indices into `members`) whose deltas the cosine compares, or null. */
  compared: [number, number] | null;
  rows: MovedRow[];
  /** Per layer group (the name's prefix), in model order. */
  groups: (MovedTotals & { group: string })[];
  overall: MovedTotals;
}

/** Every float32 and float16 initializer of a model, widened to float32. Other dtypes are not weights. */
export function floatWeights(model: OnnxModel): WeightsByName {
  const out: WeightsByName = new Map();
  for (const t of model.graph.initializer) {
    const info = describeTensor(t);
    if (info.dtype === 'float32') out.set(t.name, { shape: info.shape, values: tensorValues(t) as Float32Array });
    else if (info.dtype === 'float16') out.set(t.name, { shape: info.shape, values: halvesToFloats(tensorValues(t) as Uint16Array) });
  }
  return out;
}

/**
 * The layer a tensor belongs to: its name without the last dotted part (`visual.layer1.0.conv1.weight`
 * → `visual.layer1.0.conv1`); ONNX exports also name tensors `onnx::MatMul_123`, which stay alone.
 */
export function layerGroup(name: string): string {
  const cut = name.lastIndexOf('.');
  return cut > 0 ? name.slice(0, cut) : name;
}

/** Σ x², Σ (y − x)² and, with a second member z, Σ (y − x)(z − x) and Σ (z − x)², in float64. */
export function deltaSums(
  zeroShot: Float32Array,
  member: Float32Array,
  other?: Float32Array,
): { base: number; delta: number; dot: number; otherDelta: number } {
  let base = 0;
  let delta = 0;
  let dot = 0;
  let otherDelta = 0;
  for (let i = 0; i < zeroShot.length; i++) {
    const x = zeroShot[i]!;
    const d = member[i]! - x;
    base += x * x;
    delta += d * d;
    if (other) {
      const e = other[i]! - x;
      dot += d * e;
      otherDelta += e * e;
    }
  }
  return { base, delta, dot, otherDelta };
}

export function relativeChange(baseSquares: number, deltaSquares: number): number | null {
  if (baseSquares === 0) return deltaSquares === 0 ? 0 : null;
  return Math.sqrt(deltaSquares / baseSquares);
}

export function cosine(dot: number, aSquares: number, bSquares: number): number | null {
  if (aSquares === 0 || bSquares === 0) return null;
  // Rounding can put |cos| a hair past 1 for parallel deltas.
  return Math.max(-1, Math.min(1, dot / Math.sqrt(aSquares * bSquares)));
}

/** θ₁ − θ₀ in `bins` (odd) equal bins over [−max |Δ|, max |Δ|]. */
export function changeHistogram(zeroShot: Float32Array, member: Float32Array, bins = HISTOGRAM_BINS): ChangeHistogram {
  let limit = 0;
  for (let i = 0; i < zeroShot.length; i++) limit = Math.max(limit, Math.abs(member[i]! - zeroShot[i]!));
  const counts = new Array<number>(bins).fill(0);
  const mid = (bins - 1) / 2;
  for (let i = 0; i < zeroShot.length; i++) {
    const d = member[i]! - zeroShot[i]!;
    // Bin b covers [−limit + b·w, −limit + (b+1)·w) with w = 2·limit / bins; the top edge goes in the last bin.
    const b = limit === 0 ? mid : Math.min(bins - 1, Math.floor(((d + limit) / (2 * limit)) * bins));
    counts[b]!++;
  }
  return { limit, counts };
}

interface Sums {
  base: number;
  delta: number[];
  dot: number;
}

/** Per tensor of the zero-shot model: what is known so far of each member's change. */
interface TensorState {
  name: string;
  shape: number[];
  values: Float32Array;
  sums: Sums;
  histograms: ChangeHistogram[];
}

/**
 * The report built one member at a time, so a caller holds the zero-shot weights, the member
 * being added and at most the first of the two compared members (kept until the second arrives
 * for the dot products): three checkpoints at most, however many members a bundle has.
 */
export class MovedAccumulator {
  private readonly tensors: TensorState[];
  private held: WeightsByName | null = null;
  private added = 0;

  constructor(
    zeroShot: WeightsByName,
    private readonly members: readonly { id: string; name: string }[],
    private readonly compared: [number, number] | null,
  ) {
    if (compared && (compared[0] === compared[1] || !members[compared[0]] || !members[compared[1]]))
      throw new RangeError(`cannot compare members ${compared.join(' and ')} of ${members.length}`);
    this.tensors = [...zeroShot].map(([name, { shape, values }]) => ({
      name,
      shape,
      values,
      sums: { base: deltaSums(values, values).base, delta: [], dot: 0 },
      histograms: [],
    }));
  }

  /** Adds member k (members are added in order, each once). */
  add(k: number, weights: WeightsByName): void {
    const id = this.members[k]?.id;
    if (id === undefined || k !== this.added)
      throw new RangeError(`members are added in order, each once: expected ${this.added}, got ${k}`);
    const all = this.tensors.map((t) => valuesOf(id, weights, t.name, t.values.length));
    this.tensors.forEach((t, i) => {
      t.sums.delta.push(deltaSums(t.values, all[i]!).delta);
      t.histograms.push(changeHistogram(t.values, all[i]!));
    });
    this.added++;
    if (!this.compared || !this.compared.includes(k)) return;
    if (!this.held) {
      this.held = weights;
      return;
    }
    const first = this.held;
    this.tensors.forEach((t, i) => (t.sums.dot = deltaSums(t.values, first.get(t.name)!.values, all[i]!).dot));
    this.held = null;
  }

  report(): MovedReport {
    if (this.added !== this.members.length) throw new Error(`${this.added} of ${this.members.length} members added`);
    const { compared } = this;
    const rows = this.tensors.map((t) => tensorRow(t, compared));
    const sums = this.tensors.map((t) => t.sums);
    const groupNames = [...new Set(rows.map((r) => r.group))];
    const groups = groupNames.map((group) => {
      const rowsOf = rows.filter((r) => r.group === group);
      return {
        group,
        ...totals(
          rowsOf,
          sums.filter((_, i) => rows[i]!.group === group),
          compared,
        ),
      };
    });
    return {
      members: this.members.map((m) => ({ id: m.id, name: m.name })),
      compared,
      rows,
      groups,
      overall: totals(rows, sums, compared),
    };
  }
}

/**
 * The report over every float weight of the zero-shot model, in model order. `compared` names the
 * two members whose deltas the cosine compares (the UI's two end-to-end seeds).
 */
export function movedReport(zeroShot: WeightsByName, members: readonly MovedMember[], compared: [number, number] | null): MovedReport {
  const acc = new MovedAccumulator(zeroShot, members, compared);
  members.forEach((m, k) => acc.add(k, m.weights));
  return acc.report();
}

function valuesOf(member: string, weights: WeightsByName, name: string, count: number): Float32Array {
  const w = weights.get(name);
  if (!w) throw new Error(`the member '${member}' has no weight '${name}', which the zero-shot model has`);
  if (w.values.length !== count)
    throw new Error(`the member '${member}' has ${w.values.length} values in '${name}', the zero-shot model ${count}`);
  return w.values;
}

function tensorRow(t: TensorState, compared: [number, number] | null): MovedRow {
  const { base, delta, dot } = t.sums;
  return {
    name: t.name,
    group: layerGroup(t.name),
    shape: t.shape,
    params: t.values.length,
    zeroShotNorm: Math.sqrt(base),
    relativeChange: delta.map((d) => relativeChange(base, d)),
    deltaNorm: delta.map(Math.sqrt),
    cosine: compared ? cosine(dot, delta[compared[0]]!, delta[compared[1]]!) : null,
    histograms: t.histograms,
  };
}

/** Sums of squares add over tensors: a group's (or the model's) change is that of its tensors concatenated. */
function totals(rows: readonly MovedRow[], sums: readonly Sums[], compared: [number, number] | null): MovedTotals {
  const base = sums.reduce((s, x) => s + x.base, 0);
  const k = sums[0]?.delta.length ?? 0;
  const delta = Array.from({ length: k }, (_, m) => sums.reduce((s, x) => s + x.delta[m]!, 0));
  const dot = sums.reduce((s, x) => s + x.dot, 0);
  return {
    params: rows.reduce((s, r) => s + r.params, 0),
    relativeChange: delta.map((d) => relativeChange(base, d)),
    cosine: compared ? cosine(dot, delta[compared[0]]!, delta[compared[1]]!) : null,
  };
}
