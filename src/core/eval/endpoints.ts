import { record } from './ids';
import { chunksOf, ensembleCorrect, type SetAccuracy } from './frontier';
import type { EvalSetData } from './sprites';

/** α → set id → accuracy. */
export type FrontierPoints = Record<string, Record<string, SetAccuracy>>;

interface SetEndpoints {
  zeroShot: Float32Array;
  fineTuned: Float32Array;
  zeroShotChunks: Set<number>;
  fineTunedChunks: Set<number>;
}

/**
 * Logits of every image of each set at α = 0 and α = 1, kept as the evaluation passes the
 * endpoints: the output-space ensemble at any α is then computed from them with no further runs.
 */
export class EndpointLogits {
  private readonly bySet = new Map<string, SetEndpoints>();

  constructor(
    private readonly sets: readonly EvalSetData[],
    private readonly classes: number,
  ) {}

  static isEndpoint(alpha: number): boolean {
    return alpha === 0 || alpha === 1;
  }

  /** Stores the logits of images start.. of one batch at an endpoint α. */
  keep(set: EvalSetData, alpha: number, start: number, logits: Float32Array): void {
    let e = this.bySet.get(set.spec.id);
    if (!e) {
      const n = set.count * this.classes;
      e = { zeroShot: new Float32Array(n), fineTuned: new Float32Array(n), zeroShotChunks: new Set(), fineTunedChunks: new Set() };
      this.bySet.set(set.spec.id, e);
    }
    (alpha === 0 ? e.zeroShot : e.fineTuned).set(logits, start * this.classes);
  }

  /** Marks a whole chunk as kept (after its last batch): only complete sets enter the ensemble. */
  markChunk(setId: string, alpha: number, chunk: number): void {
    const e = this.bySet.get(setId);
    if (!e) throw new Error(`no endpoint logits kept for set '${setId}'`);
    (alpha === 0 ? e.zeroShotChunks : e.fineTunedChunks).add(chunk);
  }

  isComplete(set: EvalSetData): boolean {
    const e = this.bySet.get(set.spec.id);
    const chunks = chunksOf(set.count).length;
    return e !== undefined && e.zeroShotChunks.size >= chunks && e.fineTunedChunks.size >= chunks;
  }

  /** The endpoints' logits of every image of `set` ([count, classes] each), once both are complete; else null. */
  logitsOf(set: EvalSetData): { zeroShot: Float32Array; fineTuned: Float32Array } | null {
    if (!this.isComplete(set)) return null;
    const e = this.bySet.get(set.spec.id)!;
    return { zeroShot: e.zeroShot, fineTuned: e.fineTuned };
  }

  /** Output-space ensemble accuracies over the grid, for the sets whose endpoints are complete. */
  ensemble(grid: readonly number[]): FrontierPoints {
    const points: FrontierPoints = {};
    for (const set of this.sets) {
      if (!this.isComplete(set)) continue;
      const e = this.bySet.get(set.spec.id)!;
      for (const a of grid) {
        const correct = ensembleCorrect(e.zeroShot, e.fineTuned, a, set.labels, this.classes, set.classSubset);
        (points[String(a)] ??= record<SetAccuracy>())[set.spec.id] = { correct, n: set.count, total: set.count };
      }
    }
    return points;
  }
}
