// The calibration report the page draws: per α of a grid and per set, ECE and NLL in weight space
// (θ(α)'s logits, as evaluated) and in output space (the endpoints' logits mixed), optionally after
// temperature scaling fitted on the reference set at each α; and the reliability diagram's bins at
// one α. Computed in the engine from logits it already has: only these few numbers leave it.
// Everything is computed from the images evaluated so far, and each number carries its n.
import {
  calibrationSums,
  ece,
  fitTemperature,
  meanNll,
  mixLogits,
  reliabilityBins,
  type CalibrationSums,
  type ReliabilityBin,
} from './calibration';
import type { CalibrationStore } from './calibrationStore';
import type { EndpointLogits } from './endpoints';
import { record } from './ids';
import type { EvalSetData } from './sprites';

export interface CalibrationRequest {
  /** The α whose reliability diagram is drawn (the slider's). */
  alpha: number;
  /** The α of the chart (the frontier's grid); `alpha` is added. */
  grid: readonly number[];
  /** Temperature scaling on: every number after dividing the logits by the T fitted at its α. */
  temperature: boolean;
}

/** One set's calibration at one α, over its `n` images evaluated so far. */
export interface CalibrationStats {
  n: number;
  correct: number;
  ece: number;
  nll: number;
}

/** The T fitted on the reference set at one α, over its `n` images evaluated so far. */
export interface FittedTemperature {
  value: number;
  n: number;
  /** The reference set's mean NLL at T = 1 and at the fitted T. */
  nllBefore: number;
  nll: number;
}

export interface SpaceCalibration {
  /** α key → set id → stats (sets with no image yet, or no T when one is asked for, are absent). */
  points: Record<string, Record<string, CalibrationStats>>;
  /** α key → the fitted temperature (only with `temperature` on). */
  temperatures: Record<string, FittedTemperature>;
  /** Set id → the reliability diagram at the request's α. */
  reliability: Record<string, { n: number; bins: ReliabilityBin[] }>;
}

export interface CalibrationReport {
  alpha: number;
  temperature: boolean;
  /** The set temperatures are fitted on; null when the sets have none (then no T). */
  referenceSet: string | null;
  /** θ(α): the weights blended, as the frontier evaluates them. */
  weight: SpaceCalibration;
  /** The output-space ensemble (1 − α)·logits₀ + α·logits₁; only sets whose endpoints are complete. */
  output: SpaceCalibration;
}

const MAX_CACHED = 5000;

function statsOf(s: CalibrationSums): CalibrationStats {
  return { n: s.n, correct: s.correct, ece: ece(s), nll: meanNll(s) };
}

/**
 * Builds reports for one evaluator's store and endpoints. Temperature fits and scaled sums are
 * cached under the number of chunks they were computed from, so a report while the evaluation
 * runs recomputes only what new chunks changed.
 */
export class CalibrationReporter {
  private readonly cache = new Map<string, unknown>();
  private readonly reference: EvalSetData | null;

  constructor(
    private readonly store: CalibrationStore,
    private readonly endpoints: EndpointLogits,
    private readonly sets: readonly EvalSetData[],
    private readonly classes: number,
  ) {
    this.reference = sets.find((s) => s.spec.role === 'reference') ?? null;
  }

  private cached<T>(key: string, compute: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const v = compute();
    this.cache.set(key, v);
    return v;
  }

  report(req: CalibrationRequest): CalibrationReport {
    const alphas = [...new Set([...req.grid, req.alpha])];
    return {
      alpha: req.alpha,
      temperature: req.temperature,
      referenceSet: this.reference?.spec.id ?? null,
      weight: this.space(
        alphas,
        req,
        (a, set, T) => this.weightSums(a, set, T),
        (a) => this.weightFit(a),
      ),
      output: this.space(
        alphas,
        req,
        (a, set, T) => this.outputSums(a, set, T),
        (a) => this.outputFit(a),
      ),
    };
  }

  private space(
    alphas: readonly number[],
    req: CalibrationRequest,
    sums: (alpha: number, set: EvalSetData, T: number) => CalibrationSums | null,
    fit: (alpha: number) => FittedTemperature | null,
  ): SpaceCalibration {
    const out: SpaceCalibration = { points: {}, temperatures: {}, reliability: record() };
    for (const a of alphas) {
      let T = 1;
      if (req.temperature) {
        const f = fit(a);
        if (!f) continue;
        out.temperatures[String(a)] = f;
        T = f.value;
      }
      const point = record<CalibrationStats>();
      for (const set of this.sets) {
        const s = sums(a, set, T);
        if (!s || s.n === 0) continue;
        point[set.spec.id] = statsOf(s);
        if (a === req.alpha) out.reliability[set.spec.id] = { n: s.n, bins: reliabilityBins(s) };
      }
      if (Object.keys(point).length > 0) out.points[String(a)] = point;
    }
    return out;
  }

  /** θ(α)'s sums: the recorded ones at T = 1, else from the kept logits (null when they were not kept). */
  private weightSums(alpha: number, set: EvalSetData, T: number): CalibrationSums | null {
    const id = set.spec.id;
    if (T === 1) return this.store.sums(alpha, id);
    return this.cached(`w|${alpha}|${id}|${this.store.chunks(alpha, id)}|${T}`, () => {
      const kept = this.store.logits(alpha, id);
      return kept && calibrationSums(kept.logits, kept.labels, 0, kept.n, this.classes, set.classSubset, T);
    });
  }

  private weightFit(alpha: number): FittedTemperature | null {
    const ref = this.reference;
    if (!ref) return null;
    return this.cached(`w|fit|${alpha}|${this.store.chunks(alpha, ref.spec.id)}`, () => {
      const kept = this.store.logits(alpha, ref.spec.id);
      return kept && fitted(fitTemperature(kept.logits, kept.labels, kept.n, this.classes, ref.classSubset));
    });
  }

  private outputSums(alpha: number, set: EvalSetData, T: number): CalibrationSums | null {
    const e = this.endpoints.logitsOf(set);
    if (!e) return null;
    return this.cached(`o|${alpha}|${set.spec.id}|${T}`, () =>
      calibrationSums(mixLogits(e.zeroShot, e.fineTuned, alpha), set.labels, 0, set.count, this.classes, set.classSubset, T),
    );
  }

  private outputFit(alpha: number): FittedTemperature | null {
    const ref = this.reference;
    const e = ref && this.endpoints.logitsOf(ref);
    if (!ref || !e) return null;
    return this.cached(`o|fit|${alpha}|${ref.spec.id}`, () =>
      fitted(fitTemperature(mixLogits(e.zeroShot, e.fineTuned, alpha), ref.labels, ref.count, this.classes, ref.classSubset)),
    );
  }
}

function fitted(f: ReturnType<typeof fitTemperature>): FittedTemperature | null {
  return f.n === 0 ? null : { value: f.temperature, n: f.n, nllBefore: f.nllBefore, nll: f.nll };
}
