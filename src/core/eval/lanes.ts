// Frontier evaluation on several engines at once. On the wasm EP two single-threaded sessions, each
// in its own Worker, ran the bundled classifier about twice as fast as one (bench/analysis.md,
// throughput): each takes whichever core is free, where a 2-thread pool needs both at the same
// moment. The engine the page talks to stays one (the Worker's Explorer); it deals chunks out to
// "lanes", each a copy of the pair's engine behind a RunLogits. Lanes only turn an α and a batch
// into logits: the plan, the results, the endpoint logits, the events and cancellation (the job id,
// the Explorer's generation) stay in the one evaluator, so nothing of that is duplicated or has to
// agree across Workers. The blend is deterministic, so every lane's θ(α) is the same weights.
import type { BlendEngine, BlendPoint, Backend } from '../runtime/engine';
import type { RunLogits } from './evaluator';

/** What a lane needs to build its own copy of the pair's engine (bytes are copied to it). */
export interface LaneFiles {
  zeroShot: Uint8Array;
  fineTuned: Uint8Array;
  inputName: string;
  /** The graph output holding the logits. */
  logits: string;
  /** Labels for error messages (zero-shot first). */
  labels: string[];
}

/** A pair the lanes may open on: whether they do is decided from `pairBytes` (laneCount); `files` is read only when they start. */
export interface LanePair extends Omit<LaneFiles, 'zeroShot' | 'fineTuned'> {
  /** The two checkpoint files' bytes. */
  pairBytes: number;
  files(): Promise<{ zeroShot: Uint8Array; fineTuned: Uint8Array }>;
}

/** Open lanes: one RunLogits each, and their release. */
export interface Lanes {
  runs: RunLogits[];
  dispose(): Promise<void>;
}

/** Starts a pair's lanes (the Worker's: helper Workers); ExplorerEnv.openLanes gives one when a pair should have them. */
export type StartLanes = () => Promise<Lanes>;

/**
 * A loaded pair's lanes. They are not started with the pair: a job starts them once its first
 * estimate of the current α is in (`forChunks`), and a first estimate never starts them
 * (`forEstimate`). Starting them copies the pair into new Workers and builds a session in each,
 * which on 2 cores took the cores from that estimate: with lanes started at load it was slower in
 * every round (bench/analysis.md). Until they are ready the Explorer's own engine runs the chunks.
 * A later first estimate (a new α) never waits behind lane chunks either: the new job supersedes the
 * old, whose lanes stop after their chunk in flight, and evaluate awaits the estimate before its
 * own chunks; once ready, the idle lanes run the estimate. A lane that fails hands its runs back to
 * this engine and the lanes are closed; a failed start leaves this engine alone.
 */
export class PairLanes {
  private start: StartLanes | null;
  private started: Promise<void> | null = null;
  /** The lanes once started; null once their start failed, or they were dropped or closed; undefined before. */
  private ready: Lanes | null | undefined = undefined;
  private closed = false;

  constructor(
    start: StartLanes,
    private readonly local: RunLogits,
  ) {
    this.start = start;
  }

  /** The engines for a first estimate: the lanes if ready, else undefined (the Explorer's engine). Starts nothing. */
  forEstimate(): RunLogits[] | undefined {
    return this.ready ? this.withFallback(this.ready) : undefined;
  }

  /**
   * The engines for a job's chunks, the lanes started now if they were not: `now` the lanes when
   * ready (undefined: the Explorer's engine), `later` lanes still starting, which take over when ready.
   */
  forChunks(): { now?: RunLogits[]; later?: Promise<RunLogits[]> } {
    const started = this.begin();
    if (this.ready === undefined) return { later: started.then(() => (this.ready ? this.withFallback(this.ready) : [])) };
    return this.ready ? { now: this.withFallback(this.ready) } : {};
  }

  /** How many engines the frontier runs on: the lanes (started here if they were not) or 1. */
  async engines(): Promise<number> {
    await this.begin();
    return this.ready ? this.ready.runs.length : 1;
  }

  /** Closes the lanes; ones still starting are closed once started, and none is used after. */
  close(): void {
    this.closed = true;
    this.start = null;
    const lanes = this.ready;
    this.ready = null;
    void lanes?.dispose().catch(() => undefined);
  }

  private begin(): Promise<void> {
    return (this.started ??= this.open());
  }

  private async open(): Promise<void> {
    const start = this.start;
    // Not kept once called: the start holds the pair's files (or how to read them again).
    this.start = null;
    let lanes: Lanes | null = null;
    try {
      lanes = start && !this.closed ? await start() : null;
    } catch {
      // A failed start leaves the Explorer's engine alone.
    }
    if (lanes && this.closed) void lanes.dispose().catch(() => undefined);
    this.ready = this.closed ? null : lanes;
  }

  /** The lanes' runs, each falling back to the Explorer's engine if its helper fails (and then dropping the lanes). */
  private withFallback(lanes: Lanes): RunLogits[] {
    return lanes.runs.map((lane) => async (alpha, input) => {
      try {
        return await lane(alpha, input);
      } catch {
        // A helper Worker that failed (out of memory, crashed) leaves its chunk, and the job, to this engine.
        this.drop(lanes);
        return this.local(alpha, input);
      }
    });
  }

  private drop(lanes: Lanes): void {
    if (this.ready !== lanes) return;
    this.ready = null;
    void lanes.dispose().catch(() => undefined);
  }
}

/**
 * Memory each lane may cost, counted as the two checkpoint files: a lane holds θ0, θ1 and θ(α) plus
 * ORT's copy of the feeds, about 2× the files. 256 MiB of files for all lanes keeps the bundled pair
 * (2.4 MB) and other small pairs parallel, and a CLIP-sized pair (700 MB of files) on one engine,
 * where two more copies of its weights would more than double the page's peak memory.
 */
export const LANE_BUDGET_BYTES = 256 * 2 ** 20;

/**
 * How many lanes (helper engines) to evaluate on; 0 means the Explorer's own engine alone. Never on
 * WebGPU (one device, already parallel), nor on one core, nor when the copies exceed the budget.
 */
export function laneCount(opts: { backend: Backend; cores: number; pairBytes: number; requested?: number | null }): number {
  if (opts.backend !== 'wasm') return 0;
  // Off unless asked for (the bench, the tests' debug hook). Even started after the first estimate
  // (PairLanes), two lanes made the frontier faster in every round but the first estimate slower in
  // 4 of 6 (bench --only-frontier-workers, at load 3–9 on 2 cores: bench/analysis.md). The default
  // waits for rounds at a steady, low load.
  const wanted = opts.requested ?? 0;
  if (wanted < 2) return 0;
  return wanted * opts.pairBytes <= LANE_BUDGET_BYTES ? wanted : 0;
}

/**
 * An α as the engine takes it: inside [0, 1] as a bare α (the engine checks its range), outside as
 * coefficients, which the engine lets extrapolate (θ₀ + α·(θ₁ − θ₀) for α < 0 or α > 1).
 */
export function blendPoint(alpha: number): BlendPoint {
  return alpha >= 0 && alpha <= 1 ? alpha : { alpha };
}

/** The evaluator's model run on `engine`: the logits output at α. Lanes and the Explorer share it. */
export function engineLogits(engine: BlendEngine, logits: string): RunLogits {
  return async (alpha, input) => (await engine.run(blendPoint(alpha), input))[logits]!.data;
}
