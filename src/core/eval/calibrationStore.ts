// What the evaluator keeps for calibration: per (α, set, chunk) the calibration sums at T = 1 (a
// few dozen numbers; they never go), and per (α, set) the logits, within a byte budget, for what
// needs them again: temperature scaling (a T fitted on the reference set's logits, applied to every
// set's). When the budget is reached the logits of the α written least recently are dropped; that
// α keeps its ECE and NLL, and only its temperature-scaled numbers are gone.
import { addSums, type CalibrationSums } from './calibration';
import { chunksOf, type WorkItem } from './frontier';
import type { EvalSetData } from './sprites';

/** Logits kept at most: the bundled pair's 21-α extrapolated frontier needs 5 MB. */
export const LOGIT_BUDGET_BYTES = 128 * 2 ** 20;

interface Entry {
  sums: Map<number, CalibrationSums>;
  logits: Float32Array | null;
  /** Chunks whose logits are all in `logits` (marked once the chunk is recorded). */
  logitChunks: Set<number>;
  /** Logits of this (α, set) were dropped or never fitted the budget: they are not kept again. */
  dropped: boolean;
}

/** Rows of one (α, set) packed with their labels: the recorded chunks' images, in order. */
export interface KeptLogits {
  logits: Float32Array;
  labels: Int32Array;
  n: number;
}

export class CalibrationStore {
  private readonly entries = new Map<string, Entry>();
  private readonly setsById: Map<string, EvalSetData>;
  /** α in the order their logits were last written, oldest first. */
  private recency: number[] = [];
  private bytes = 0;

  constructor(
    sets: readonly EvalSetData[],
    private readonly classes: number,
    private readonly budget = LOGIT_BUDGET_BYTES,
  ) {
    this.setsById = new Map(sets.map((s) => [s.spec.id, s]));
  }

  private key(alpha: number, setId: string): string {
    return `${alpha}|${setId}`;
  }

  private entry(alpha: number, setId: string): Entry {
    const k = this.key(alpha, setId);
    let e = this.entries.get(k);
    if (!e) this.entries.set(k, (e = { sums: new Map(), logits: null, logitChunks: new Set(), dropped: false }));
    return e;
  }

  /** Stores the logits of rows start… of one batch at α (within the budget). */
  keepLogits(set: EvalSetData, alpha: number, start: number, logits: Float32Array): void {
    const e = this.entry(alpha, set.spec.id);
    if (e.dropped) return;
    if (!e.logits) {
      const bytes = set.count * this.classes * 4;
      this.makeRoom(bytes, alpha);
      if (this.bytes + bytes > this.budget) {
        e.dropped = true;
        return;
      }
      e.logits = new Float32Array(set.count * this.classes);
      this.bytes += bytes;
    }
    e.logits.set(logits, start * this.classes);
    this.recency = [...this.recency.filter((a) => a !== alpha), alpha];
  }

  /** Drops the logits of the α written least recently (never `keep`) until `bytes` more fit. */
  private makeRoom(bytes: number, keep: number): void {
    while (this.bytes + bytes > this.budget) {
      const victim = this.recency.find((a) => a !== keep);
      if (victim === undefined) return;
      this.recency = this.recency.filter((a) => a !== victim);
      for (const [k, e] of this.entries) {
        if (!k.startsWith(`${victim}|`) || !e.logits) continue;
        this.bytes -= e.logits.byteLength;
        e.logits = null;
        e.logitChunks.clear();
        e.dropped = true;
      }
    }
  }

  /** One chunk's sums at T = 1; its kept logits (written batch by batch before) now count. */
  record(item: WorkItem, sums: CalibrationSums): void {
    const e = this.entry(item.alpha, item.setId);
    e.sums.set(item.chunk, sums);
    if (e.logits) e.logitChunks.add(item.chunk);
  }

  /** The sums over every chunk recorded at α, or null before the first. */
  sums(alpha: number, setId: string): CalibrationSums | null {
    const e = this.entries.get(this.key(alpha, setId));
    if (!e || e.sums.size === 0) return null;
    let total: CalibrationSums | null = null;
    for (const s of e.sums.values()) total = total ? addSums(total, s) : s;
    return total;
  }

  /** How many chunks are recorded at (α, set): a version, for caches of what is computed from them. */
  chunks(alpha: number, setId: string): number {
    return this.entries.get(this.key(alpha, setId))?.sums.size ?? 0;
  }

  /**
   * The logits of every recorded chunk at (α, set) with their labels, or null when some were not
   * kept (the budget) or none is recorded.
   */
  logits(alpha: number, setId: string): KeptLogits | null {
    const e = this.entries.get(this.key(alpha, setId));
    const set = this.setsById.get(setId);
    if (!e || !set || !e.logits || e.sums.size === 0) return null;
    if ([...e.sums.keys()].some((c) => !e.logitChunks.has(c))) return null;
    const chunks = chunksOf(set.count).filter((c) => e.sums.has(c.chunk));
    const n = chunks.reduce((s, c) => s + c.end - c.start, 0);
    if (n === set.count) return { logits: e.logits, labels: set.labels, n };
    const logits = new Float32Array(n * this.classes);
    const labels = new Int32Array(n);
    let row = 0;
    for (const c of chunks) {
      logits.set(e.logits.subarray(c.start * this.classes, c.end * this.classes), row * this.classes);
      labels.set(set.labels.subarray(c.start, c.end), row);
      row += c.end - c.start;
    }
    return { logits, labels, n };
  }

  /** Bytes of logits kept now. */
  get keptBytes(): number {
    return this.bytes;
  }

  /** Every α with a chunk recorded. */
  alphas(): number[] {
    const out = new Set<number>();
    for (const [k, e] of this.entries) if (e.sums.size > 0) out.add(Number(k.split('|')[0]));
    return [...out].sort((a, b) => a - b);
  }
}
