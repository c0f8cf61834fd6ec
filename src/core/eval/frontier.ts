// Evaluation over an α grid, in chunks, so that the frontier appears progressively: the current α
// first, then coarse α before fine, and the first chunk of every set before the rest, so that the
// curve's shape shows within seconds and the intervals shrink as images come in.
import { record } from './ids';
import { emptyCorrectness, markImages, type ImageCorrectness } from './stats';

// Small enough that a new α shows its first point within a second or two on a laptop CPU (one
// chunk per set), large enough that session.run overhead stays negligible.
export const CHUNK = 100;

export interface WorkItem {
  alpha: number;
  setId: string;
  chunk: number;
  start: number;
  end: number;
}

export interface SetCount {
  id: string;
  count: number;
}

/** α values in coarse-to-fine order: the endpoints, the middle, then bisection. */
export function coarseToFine(alphas: readonly number[]): number[] {
  const sorted = [...new Set(alphas)].sort((a, b) => a - b);
  if (sorted.length <= 2) return sorted;
  const out: number[] = [sorted[0]!, sorted[sorted.length - 1]!];
  const seen = new Set(out);
  let intervals: [number, number][] = [[0, sorted.length - 1]];
  while (intervals.length > 0) {
    const next: [number, number][] = [];
    for (const [lo, hi] of intervals) {
      if (hi - lo < 2) continue;
      const mid = Math.floor((lo + hi) / 2);
      if (!seen.has(sorted[mid]!)) {
        out.push(sorted[mid]!);
        seen.add(sorted[mid]!);
      }
      next.push([lo, mid], [mid, hi]);
    }
    intervals = next;
  }
  return out;
}

export function chunksOf(count: number): { chunk: number; start: number; end: number }[] {
  const out = [];
  for (let c = 0; c * CHUNK < count; c++) out.push({ chunk: c, start: c * CHUNK, end: Math.min(count, (c + 1) * CHUNK) });
  return out;
}

/**
 * The order in which to evaluate: a first pass over each set's first chunk — the current α, then the
 * grid in coarse-to-fine order — so the highlighted point and then the curve's shape appear within
 * seconds; then the remaining chunks in the same order, shrinking the intervals. Done items are skipped.
 */
export function planWork(
  grid: readonly number[],
  current: number | null,
  sets: readonly SetCount[],
  isDone: (item: WorkItem) => boolean,
): WorkItem[] {
  const items: WorkItem[] = [];
  const add = (alpha: number, first: boolean) => {
    for (const s of sets) {
      for (const c of chunksOf(s.count)) {
        if ((c.chunk === 0) !== first) continue;
        const item = { alpha, setId: s.id, ...c };
        if (!isDone(item)) items.push(item);
      }
    }
  };
  const order = coarseToFine(grid).filter((a) => a !== current);
  if (current !== null) add(current, true);
  for (const a of order) add(a, true);
  if (current !== null) add(current, false);
  for (const a of order) add(a, false);
  return items;
}

export interface SetAccuracy {
  correct: number;
  /** Images evaluated so far. */
  n: number;
  /** Images in the set. */
  total: number;
  /**
   * Which images were evaluated and predicted right, for paired comparisons between α (the same
   * images at both). Absent where only counts are known (the output-space ensemble, results files).
   */
  images?: ImageCorrectness;
}

/**
 * Per (α, set, chunk) correct counts, and per (α, set) which images were right (a bitset, so that two
 * α can be compared on the same images); accuracies aggregate the chunks done so far.
 */
export class ResultStore {
  private readonly chunks = new Map<string, Map<number, { correct: number; n: number }>>();
  private readonly images = new Map<string, ImageCorrectness>();
  constructor(readonly sets: readonly SetCount[]) {}

  private key(alpha: number, setId: string): string {
    return `${alpha}|${setId}`;
  }

  /** One chunk's outcome: `hits[i]` non-zero when image item.start + i was predicted right. */
  record(item: WorkItem, hits: ArrayLike<number>): void {
    if (hits.length !== item.end - item.start)
      throw new Error(`chunk ${item.chunk} of ${item.setId}: ${hits.length} outcomes for ${item.end - item.start} images`);
    const k = this.key(item.alpha, item.setId);
    let m = this.chunks.get(k);
    if (!m) this.chunks.set(k, (m = new Map()));
    let correct = 0;
    for (let i = 0; i < hits.length; i++) if (hits[i]) correct++;
    m.set(item.chunk, { correct, n: hits.length });
    let bits = this.images.get(k);
    if (!bits) this.images.set(k, (bits = emptyCorrectness(this.sets.find((s) => s.id === item.setId)?.count ?? item.end)));
    markImages(bits, item.start, hits);
  }

  has(item: WorkItem): boolean {
    return this.chunks.get(this.key(item.alpha, item.setId))?.has(item.chunk) ?? false;
  }

  accuracy(alpha: number, setId: string): SetAccuracy | null {
    const m = this.chunks.get(this.key(alpha, setId));
    const total = this.sets.find((s) => s.id === setId)?.count ?? 0;
    if (!m || m.size === 0) return null;
    let correct = 0;
    let n = 0;
    for (const v of m.values()) {
      correct += v.correct;
      n += v.n;
    }
    const bits = this.images.get(this.key(alpha, setId));
    // Copies: a point is a snapshot, and later chunks must not change one already handed out.
    return { correct, n, total, ...(bits ? { images: { correct: bits.correct.slice(), seen: bits.seen.slice() } } : {}) };
  }

  /** Every set's accuracy at α (sets not started yet are absent). */
  point(alpha: number): Record<string, SetAccuracy> {
    // Keyed by set ids: prototype-free, so no id can be the prototype or an inherited function.
    const out = record<SetAccuracy>();
    for (const s of this.sets) {
      const a = this.accuracy(alpha, s.id);
      if (a) out[s.id] = a;
    }
    return out;
  }

  alphas(): number[] {
    return [...new Set([...this.chunks.keys()].map((k) => Number(k.split('|')[0])))].sort((a, b) => a - b);
  }
}

/** Index of the largest logit, over the set's class subset when it has one (wise-ft's masking). */
export function predict(logits: Float32Array, row: number, classes: number, subset: Int32Array | null): number {
  const o = row * classes;
  let best = -1;
  let bestV = -Infinity;
  if (subset) {
    for (const c of subset) {
      const v = logits[o + c]!;
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
  } else {
    for (let c = 0; c < classes; c++) {
      const v = logits[o + c]!;
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
  }
  return best;
}

/** Writes 1 into `hits[i]` when image start + i is predicted right, else 0; returns how many were right. */
export function markCorrect(
  logits: Float32Array,
  labels: Int32Array,
  start: number,
  n: number,
  classes: number,
  subset: Int32Array | null,
  hits: Uint8Array,
): number {
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const right = predict(logits, i, classes, subset) === labels[start + i];
    hits[i] = right ? 1 : 0;
    if (right) correct++;
  }
  return correct;
}

/**
 * The output-space ensemble the paper compares against: argmax of (1-α)·logits₀ + α·logits₁,
 * from the endpoints' stored logits, with no further model runs.
 */
export function ensembleCorrect(
  l0: Float32Array,
  l1: Float32Array,
  alpha: number,
  labels: Int32Array,
  classes: number,
  subset: Int32Array | null,
): number {
  const mixed = new Float32Array(classes);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let c = 0; c < classes; c++) mixed[c] = (1 - alpha) * l0[i * classes + c]! + alpha * l1[i * classes + c]!;
    if (predict(mixed, 0, classes, subset) === labels[i]) correct++;
  }
  return correct;
}
