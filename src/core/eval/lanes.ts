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

/** A pair the lanes may open on: its checkpoints are read only once lanes are wanted (laneCount, from `pairBytes`). */
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

/** Opens `count` lanes on a pair; the Worker's implementation starts helper Workers. */
export type OpenLanes = (pair: LanePair, count: number) => Promise<Lanes>;

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
  // Off unless asked for (the bench, the tests' debug hook): on this 2-core machine under load two lanes
  // gained −2 to +8% (bench --only-frontier-workers); the default waits for a measurement on free cores.
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
