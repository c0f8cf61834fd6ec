// The frontier's evaluation: one job at a time, each with an id. A newer job supersedes the older
// (the engine drops its remaining work); cancel() stops the latest. The job id is the one
// cancellation system: a result is applied only when its job is still the latest.
import {
  GRID,
  EXTRAPOLATED_GRID,
  errorCode,
  errorMessage,
  type EngineApi,
  type EvaluationEvent,
  type EvaluationJob,
  type EvaluationResult,
  type FrontierPoints,
  type PairSummary,
} from '../../worker/protocol';
import { createFrontierBuffer, mergeFuller, type FrontierBuffer } from '../frontierEvents';
import { completeAt, completePoints } from '../savedFrontier';
import { imagesEvaluated, measuredRate, type RateSample } from '../progress';
import { say, type Store } from '../store';
import type { FrontierCache, SavedResults } from './frontierCache';

/**
 * A slider drag: wait this long after the last move before evaluating, so a drag is one job. A drag
 * moves every frame (≈ 16 ms), so 50 ms still joins it; longer only delays a new α's first estimate
 * (it was 120 ms), and a job superseded mid-drag costs one small batch (the estimate's first images).
 */
export const EVAL_DEBOUNCE_MS = 50;

export interface EvaluationController {
  /**
   * Starts a job after `delayMs` (restarting the wait), the current α first; nothing while the
   * user's Cancel holds (`evalPaused`).
   */
  schedule(delayMs?: number): void;
  /** Evaluate: lifts a Cancel and starts a job after `delayMs`. */
  resume(delayMs?: number): void;
  /**
   * Has the engine evaluate `alphas` too, though the page has them complete (restored from the
   * frontier cache: the engine then has no logits there, which calibration needs). Kept for the
   * pair's results key until a job with them is done; a Cancel holds it like any job.
   */
  evaluateInEngine(alphas: readonly number[], resultsKey: string): void;
  /** A saved complete frontier of `pair` (IndexedDB), to show with the pair itself; {} when there is none. */
  savedResults(pair: PairSummary): Promise<Partial<SavedResults>>;
  cancel(): void;
  dispose(): void;
}

class Evaluation implements EvaluationController {
  private latestJob = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly buffer: FrontierBuffer;
  /** Where the rate is measured from: the first batch applied since the evaluation (re)started. */
  private rateFrom: (RateSample & { resultsKey: string }) | null = null;
  /** α the engine must evaluate though the page has them (evaluateInEngine), for one results key. */
  private inEngine: { resultsKey: string; alphas: number[] } | null = null;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
    private readonly cache: FrontierCache | null,
  ) {
    this.buffer = createFrontierBuffer(store, this.measure);
  }

  schedule(delayMs = EVAL_DEBOUNCE_MS): void {
    if (this.store.getState().evalPaused) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  resume(delayMs = 0): void {
    this.store.setState({ evalPaused: false });
    this.schedule(delayMs);
  }

  evaluateInEngine(alphas: readonly number[], resultsKey: string): void {
    const known = this.inEngine?.resultsKey === resultsKey ? this.inEngine.alphas : [];
    this.inEngine = { resultsKey, alphas: [...new Set([...known, ...alphas])] };
    this.schedule(0);
  }

  async savedResults(pair: PairSummary): Promise<Partial<SavedResults>> {
    return (await this.cache?.read(pair)) ?? {};
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.rateFrom = null;
    void this.engine.cancel(this.latestJob);
    this.store.setState({ evaluating: false, evalPaused: true });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buffer.dispose();
    this.latestJob++;
  }

  // The first batch is the baseline, not a rate: it carries the time to start (a session's first
  // run compiles its kernels), which the images after it do not pay again.
  private readonly measure = (): void => {
    const s = this.store.getState();
    const key = s.pair?.resultsKey;
    if (!key || !s.evaluating) return;
    const now: RateSample = { at: performance.now(), images: imagesEvaluated(s.points) };
    if (this.rateFrom?.resultsKey !== key) this.rateFrom = { ...now, resultsKey: key };
    const rate = measuredRate(this.rateFrom, now);
    if (rate !== null) this.store.setState({ evalRate: rate });
  };

  // Chunk points of an older job of the same results key are still right (counts only grow),
  // so events are filtered by results key, not by job.
  private readonly onEvent = (e: EvaluationEvent): void => {
    if (e.kind === 'chunk') this.buffer.push(e);
    // A job's ensemble covers its own grid only: the α it skipped keep theirs.
    else this.store.setState((s) => (s.pair?.resultsKey === e.resultsKey ? { ensemble: { ...s.ensemble, ...e.points } } : {}));
  };

  /**
   * The job for what is not complete in the store yet (whoever filled it: this engine, or the
   * frontier cache), or null when every grid α and the current one are complete.
   */
  private nextJob(id: number, pair: PairSummary, points: FrontierPoints, alpha: number, extrapolate: boolean): EvaluationJob | null {
    const extra = this.inEngine?.resultsKey === pair.resultsKey ? this.inEngine.alphas : [];
    const grid = [...new Set([...(extrapolate ? EXTRAPOLATED_GRID : GRID).filter((a) => !completeAt(pair, points, a)), ...extra])];
    const currentAlpha = completeAt(pair, points, alpha) ? null : alpha;
    return grid.length === 0 && currentAlpha === null ? null : { id, grid, currentAlpha };
  }

  private async run(): Promise<void> {
    this.timer = null;
    const pair = this.store.getState().pair;
    if (!pair) return;
    const id = ++this.latestJob;
    const startedAt = this.store.getState().evalStartedAt ?? performance.now();
    this.store.setState({ evaluating: true, evalStartedAt: startedAt });
    if (this.cache && (await this.cache.restore(pair))) this.markComplete(startedAt);
    const s = this.store.getState();
    // Cancel may come while the cache is read, before the engine knows this job's id.
    if (id !== this.latestJob || s.pair !== pair || s.evalPaused) return;
    const job = this.nextJob(id, pair, s.points, s.alpha, s.extrapolate);
    if (!job) {
      // Complete already (restored with the pair, or earlier): nothing to evaluate.
      this.markComplete(startedAt);
      return this.store.setState({ evaluating: false });
    }
    try {
      this.finish(id, await this.engine.evaluate(job, this.onEvent), startedAt);
    } catch (e) {
      this.rateFrom = null;
      this.store.setState({ evaluating: false });
      // The engine is between pairs (reloading it on the CPU after a lost GPU): the session
      // evaluates again when the pair is back, so there is nothing to tell the user.
      if (errorCode(e) === 'no-pair') return;
      say('error', `Evaluation stopped: ${errorMessage(e)}`, this.store);
    }
  }

  private finish(id: number, r: EvaluationResult, startedAt: number): void {
    this.buffer.flush();
    if (r.status !== 'done' || id !== this.latestJob || this.store.getState().pair?.resultsKey !== r.resultsKey) return;
    this.rateFrom = null;
    if (this.inEngine?.resultsKey === r.resultsKey) this.inEngine = null;
    // Every event of the job has been applied (EngineApi.evaluate): its points are the last word,
    // but for the α it skipped, complete in the store already (restored from the cache).
    this.store.setState((x) => ({
      points: x.pair ? mergeFuller(r.points, completePoints(x.pair, x.points)) : r.points,
      resultsKey: r.resultsKey,
      evaluating: false,
      fullFrontierMs: x.fullFrontierMs ?? performance.now() - startedAt,
    }));
  }

  /** The frontier came complete from the cache: the time from the pair's load to it shown. */
  private markComplete(startedAt: number): void {
    this.store.setState((x) => ({ fullFrontierMs: x.fullFrontierMs ?? performance.now() - startedAt }));
  }
}

export function createEvaluation(engine: EngineApi, store: Store, cache: FrontierCache | null = null): EvaluationController {
  return new Evaluation(engine, store, cache);
}
