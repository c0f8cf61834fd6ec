// Images/s of the bundled classifier (public/pairs/shapes), the same code in Node (onnxruntime-node)
// and in the page (onnxruntime-web wasm): issue 15, item 1 asks for page ÷ node measured side by
// side. Measurements only: nothing here is used by the app.
import type { InferenceSession } from 'onnxruntime-common';
import type { OrtModule } from '../src/core/runtime/engine';
import type { Manifest } from '../src/core/bundle/manifest';
import { normalizeBatch, type EvalSetData } from '../src/core/eval/sprites';
import { stat, type Stat } from './stat';

/** The batch sizes the rows compare (the app's batch for 32×32 inputs is 100: one chunk). */
export const TP_BATCHES = [50, 100, 250] as const;
/** Images per timed pass: a multiple of every batch size, ~1–3 s of page time here. */
export const TP_POOL = 1000;

/**
 * Session variants. 'all' is both runtimes' default level (onnxruntime-web sets 'all' when none is
 * given), so 'all' is also "default"; 'basic'/'extended' are the levels below it. 'arena' turns on
 * the CPU memory arena and memory pattern, which onnxruntime-node enables by default but
 * onnxruntime-web leaves off unless asked (lib/wasm/session-options.ts: `!!enableCpuMemArena`).
 * 'nospin' stops the intra-op pool's worker threads from spin-waiting between kernels, which on
 * two loaded cores may steal the core the other thread needs.
 */
export type TpVariant = 'all' | 'basic' | 'extended' | 'arena' | 'nospin';

export function tpSessionOptions(variant: TpVariant, ep: 'wasm' | 'cpu', threads?: number): InferenceSession.SessionOptions {
  const o: InferenceSession.SessionOptions = {
    executionProviders: [ep],
    graphOptimizationLevel: variant === 'basic' || variant === 'extended' ? variant : 'all',
  };
  // onnxruntime-web takes its thread count from env.wasm.numThreads (one per page); Node per session.
  if (ep === 'cpu' && threads) Object.assign(o, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  if (variant === 'arena') Object.assign(o, { enableCpuMemArena: true, enableMemPattern: true });
  if (variant === 'nospin') o.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return o;
}

/** The first `count` eval images of the bundle, normalised as the app feeds them (NCHW float32). */
export function poolOf(sets: readonly EvalSetData[], count: number, pre: Manifest['preprocess']): Float32Array {
  const per = 3 * pre.size * pre.size;
  const out = new Float32Array(count * per);
  let at = 0;
  for (const s of sets) {
    const n = Math.min(s.count, count - at);
    if (n <= 0) break;
    out.set(normalizeBatch(s, 0, n, pre), at * per);
    at += n;
  }
  if (at < count) throw new Error(`the bundle has ${at} eval images, fewer than ${count}`);
  return out;
}

/** The pool cut into batches of `bs` (copies: both runtimes then get whole, unshared arrays). */
export function batchesOf(pool: Float32Array, bs: number, size: number): { data: Float32Array; dims: number[] }[] {
  const per = 3 * size * size;
  const n = pool.length / per;
  const out: { data: Float32Array; dims: number[] }[] = [];
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    out.push({ data: pool.slice(s * per, e * per), dims: [e - s, 3, size, size] });
  }
  return out;
}

/** One session.run, reading every output (what the engine does with the logits and embedding). */
export async function runPlain(
  ort: OrtModule,
  s: InferenceSession,
  input: string,
  b: { data: Float32Array; dims: number[] },
): Promise<number> {
  const r = await s.run({ [input]: new ort.Tensor('float32', b.data, b.dims) });
  let sink = 0;
  for (const t of Object.values(r)) sink += (t.data as Float32Array)[0] ?? 0;
  return sink;
}

/** Milliseconds for one pass over the batches. */
export async function timePass(
  batches: readonly { data: Float32Array; dims: number[] }[],
  run: (b: { data: Float32Array; dims: number[] }) => Promise<unknown>,
): Promise<number> {
  const t = performance.now();
  for (const b of batches) await run(b);
  return performance.now() - t;
}

/** One measured case: where, how many threads, which batch and session; ms per pass per round. */
export interface TpCase {
  id: string;
  where: 'node' | 'page' | 'workers';
  /** The onnxruntime-web build (page and Workers): 'asyncify' is the app's, 'plain' the wasm-only one. */
  build?: 'asyncify' | 'plain';
  /** Threads of one session (workers: of each Worker's session). */
  threads: number;
  /** Parallel sessions (2 for the two-Worker case). */
  sessions: number;
  batch: number;
  /** A TpVariant, or 'engine': BlendEngine.run at a fixed α (the app's lifted session, weights fed as inputs). */
  variant: TpVariant | 'engine';
  images: number;
  ms: number[];
}

export interface TpProfile {
  threads: number;
  images: number;
  /** pixelsOf over every set: PNG decode (fast-png) and tile copy, once per pair. */
  decodeMs: number;
  /** normalizeBatch over every image in the evaluator's batches, timed apart. */
  normalizeMs: number;
  /** FrontierEvaluator.run over one α of every set, end to end. */
  evaluatorMs: number;
  /** Of which BlendEngine.run (blend once, then session.run and output copies). */
  runMs: number;
  runs: number;
  /** evaluatorMs − runMs − normalizeMs: counting, endpoint logits, the yield between chunks. */
  restMs: number;
  chunks: number;
  /** As many chained setTimeout(0) yields as chunks, timed alone (the evaluator yields before each). */
  yieldsMs: number;
}

export interface ThroughputReport {
  date: string;
  pool: number;
  rounds: number;
  /** os.loadavg() (1, 5, 15 min) at start, after each round, and at the end. */
  load: { start: number[]; rounds: number[][]; end: number[] };
  cases: (TpCase & { ips: Stat })[];
  profiles: TpProfile[];
  /** FrontierEvaluator over one α of every set in Workers (the sets dealt out): wall ms per rep. */
  workerEval?: { id: string; workers: number; threads: number; images: number; ms: number[] }[];
  /** 60 chained yields in a Worker: setTimeout(0) (the evaluator's) vs a MessageChannel message. */
  workerYields?: { timeoutMs: number; channelMs: number } | null;
  /** Worker groups that did not start, with the error. */
  failed?: Record<string, string>;
  browser: { version: string; crossOriginIsolated: boolean; hardwareConcurrency: number };
  durationS: number;
}

/** Images/s per round (median over rounds is what the table reports). */
export function withIps(c: TpCase): TpCase & { ips: Stat } {
  return { ...c, ips: stat(c.ms.map((m) => c.images / (m / 1000))) };
}
