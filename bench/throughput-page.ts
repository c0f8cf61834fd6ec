// The page half of `npm run bench -- --only-throughput` (bench/throughput.ts): onnxruntime-web's
// wasm EP on the bundled classifier, at this page's thread count (`?threads=N`), plus two
// single-threaded sessions in two bench-only Workers, plus a profile of the app's evaluation path
// (FrontierEvaluator over BlendEngine, as src/core/explorer.ts wires it).
import type { InferenceSession } from 'onnxruntime-common';
import { ortWeb } from '../src/core/runtime/ort-web';
import { BlendEngine } from '../src/core/runtime/engine';
import { loadBundle, urlSource, type LoadedBundle } from '../src/core/bundle/source';
import { spriteSet, pixelsOf, normalizeBatch, type EvalSetData } from '../src/core/eval/sprites';
import type { Manifest } from '../src/core/bundle/manifest';
import { FrontierEvaluator, batchSize, type RunLogits } from '../src/core/eval/evaluator';
import type { WorkerBuild } from './throughput.worker';
import { tpSessionOptions, poolOf, batchesOf, runPlain, timePass, TP_POOL, TP_BATCHES, type TpVariant, type TpProfile } from './throughput';

interface State {
  bundle: LoadedBundle;
  pool: Float32Array;
  batches: Map<number, ReturnType<typeof batchesOf>>;
  sessions: Map<TpVariant, InferenceSession>;
  engine: BlendEngine;
  /** Worker groups by name (bench/throughput.worker.ts): a build, a thread count, some Workers. */
  workers: Map<string, Worker[]>;
}
let st: State | null = null;

/** A group of bench Workers (bench/throughput.worker.ts): one build, one thread count each. */
interface WorkerGroup {
  name: string;
  build: WorkerBuild;
  threads: number;
  count: number;
}

/** Loads the bundle, normalises the pool, opens every session and warms it at every batch size. */
export async function tpSetup(o: { manifest: string; variants: TpVariant[]; groups: WorkerGroup[] }) {
  const bundle = await loadBundle(urlSource(o.manifest));
  const m = bundle.manifest;
  const size = m.preprocess.size;
  // Undecoded: poolOf decodes only the sets it reads (the pool is the first set's images).
  const sets = (m.eval?.sets ?? []).map((s) => spriteSet(s, bundle.sprites.get(s.id)!));
  const pool = poolOf(sets, TP_POOL, m.preprocess);
  const batches = new Map(TP_BATCHES.map((b) => [b as number, batchesOf(pool, b, size)]));
  const sessions = new Map<TpVariant, InferenceSession>();
  for (const v of o.variants) {
    const s = await ortWeb.InferenceSession.create(bundle.zeroShot, tpSessionOptions(v, 'wasm'));
    for (const b of batches.values()) await runPlain(ortWeb, s, m.io.image, b[0]!);
    sessions.set(v, s);
  }
  const engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: ortWeb, backend: 'wasm', inputName: m.io.image });
  for (const b of batches.values()) await engine.run(0.5, b[0]!);
  const { workers, failed } = await startWorkerGroups(o.groups, bundle, pool, size);
  st = { bundle, pool, batches, sessions, engine, workers };
  return {
    failed,
    threads: ortWeb.env.wasm.numThreads ?? 0,
    crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    ortWeb: ortWeb.env.versions?.web ?? '?',
  };
}

/** Each group's Workers, each holding the whole pool and its own sessions. */
async function startWorkerGroups(
  groups: WorkerGroup[],
  bundle: LoadedBundle,
  pool: Float32Array,
  size: number,
): Promise<{ workers: Map<string, Worker[]>; failed: Record<string, string> }> {
  const workers = new Map<string, Worker[]>();
  // A group that cannot start (say, a build that will not load here) is reported, not fatal: the
  // run is minutes long and the other cases still count.
  const failed: Record<string, string> = {};
  for (const g of groups) {
    const ws: Worker[] = [];
    try {
      for (let i = 0; i < g.count; i++) {
        const w = new Worker(new URL('./throughput.worker.ts', import.meta.url), { type: 'module' });
        ws.push(w);
        // Every Worker holds the whole pool; a run names the range it takes (its share).
        await ask(w, {
          kind: 'init',
          build: g.build,
          threads: g.threads,
          model: bundle.zeroShot,
          fineTuned: bundle.fineTuned,
          pool,
          size,
          input: bundle.manifest.io.image,
        });
      }
      workers.set(g.name, ws);
    } catch (e) {
      for (const w of ws) w.terminate();
      failed[g.name] = String(e);
    }
  }
  return { workers, failed };
}

function ask(w: Worker, msg: unknown): Promise<{ ok: boolean; ms?: number; error?: string }> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ ok: boolean; ms?: number; error?: string }>) =>
      e.data.ok ? resolve(e.data) : reject(new Error(e.data.error));
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(msg);
  });
}

/** Milliseconds for one pass over the pool: a plain session variant, or the app's engine at α = 0.5. */
export async function tpCase(o: { variant: TpVariant | 'engine'; batch: number }): Promise<number> {
  const s = st!;
  const batches = s.batches.get(o.batch)!;
  const input = s.bundle.manifest.io.image;
  if (o.variant === 'engine') return timePass(batches, (b) => s.engine.run(0.5, b));
  const session = s.sessions.get(o.variant)!;
  return timePass(batches, (b) => runPlain(ortWeb, session, input, b));
}

/**
 * Wall-clock milliseconds for the first `use` Workers of a group to run the pool at once, each its
 * equal share (warmed at that shape first, untimed).
 */
export async function tpWorkers(o: { group: string; use: number; batch: number; variant: 'all' | 'engine' }): Promise<number> {
  const ws = st!.workers.get(o.group)!.slice(0, o.use);
  const share = TP_POOL / o.use;
  const msg = (w: number, kind: 'warm' | 'run') => ({ kind, batch: o.batch, variant: o.variant, from: w * share, to: (w + 1) * share });
  await Promise.all(ws.map((w, i) => ask(w, msg(i, 'warm'))));
  const t = performance.now();
  await Promise.all(ws.map((w, i) => ask(w, msg(i, 'run'))));
  return performance.now() - t;
}

/**
 * The app's evaluation loop (FrontierEvaluator over BlendEngine, one α, every set) split over the
 * first `use` Workers of a group, the sets dealt out in turn: wall-clock ms and images. Decoding
 * the sheets happens first, untimed (once per pair in the app).
 */
export async function tpWorkerEval(o: { group: string; use: number; alpha: number }): Promise<{ ms: number; images: number }> {
  const s = st!;
  const m = s.bundle.manifest;
  const ws = s.workers.get(o.group)!.slice(0, o.use);
  const specs = m.eval?.sets ?? [];
  await Promise.all(
    ws.map((w, i) => {
      const mine = specs.filter((_, k) => k % ws.length === i);
      return ask(w, {
        kind: 'sets',
        specs: mine,
        sheets: mine.map((x) => s.bundle.sprites.get(x.id)!),
        classes: m.classes.length,
        logits: m.io.logits,
        preprocess: m.preprocess,
      });
    }),
  );
  const t = performance.now();
  await Promise.all(ws.map((w) => ask(w, { kind: 'evaluate', alpha: o.alpha })));
  return { ms: performance.now() - t, images: specs.reduce((n, x) => n + x.sprite.count, 0) };
}

/** n chained setTimeout(0) and MessageChannel yields, timed in a Worker of the group (the app's evaluator runs in a Worker). */
export async function tpWorkerYields(o: { group: string; n: number }): Promise<{ timeoutMs: number; channelMs: number }> {
  return (await ask(st!.workers.get(o.group)![0]!, { kind: 'yields', n: o.n })) as unknown as { timeoutMs: number; channelMs: number };
}

/**
 * Where the app's evaluation time goes, one α over every set: sprite decoding (once per pair),
 * normalisation, BlendEngine.run, and the rest of FrontierEvaluator (counting, endpoint logits, the
 * event-loop yield between chunks). Normalisation is timed apart over the same batches, since the
 * evaluator does not expose it; the evaluator is wired as src/core/explorer.ts wires it.
 */
export async function tpProfile(o: { alpha: number }): Promise<TpProfile> {
  const s = st!;
  const m = s.bundle.manifest;
  const pre = m.preprocess;
  const sets = (m.eval?.sets ?? []).map((x) => spriteSet(x, s.bundle.sprites.get(x.id)!));
  const { decodeMs, normalizeMs } = decodeAndNormalize(sets, pre);
  let runMs = 0;
  let runs = 0;
  const run: RunLogits = async (alpha, input) => {
    const t0 = performance.now();
    const r = (await s.engine.run(alpha, input))[m.io.logits]!.data;
    runMs += performance.now() - t0;
    runs++;
    return r;
  };
  const ev = new FrontierEvaluator(run, sets, { classes: m.classes.length, preprocess: pre });
  const plan = ev.plan([o.alpha], null);
  const t = performance.now();
  await ev.run(
    plan,
    () => false,
    () => undefined,
  );
  const evaluatorMs = performance.now() - t;
  const images = sets.reduce((n, x) => n + x.count, 0);
  return {
    yieldsMs: await chainedYields(plan.length),
    threads: ortWeb.env.wasm.numThreads ?? 0,
    images,
    decodeMs,
    normalizeMs,
    evaluatorMs,
    runMs,
    runs,
    restMs: evaluatorMs - runMs - normalizeMs,
    chunks: plan.length,
  };
}

/** Decoding every sheet (once per pair in the app), then normalising every batch the evaluator would make. */
function decodeAndNormalize(sets: EvalSetData[], pre: Manifest['preprocess']): { decodeMs: number; normalizeMs: number } {
  const size = pre.size;
  let t = performance.now();
  for (const x of sets) pixelsOf(x);
  const decodeMs = performance.now() - t;
  const bs = batchSize(size);
  const buf = new Float32Array(bs * 3 * size * size);
  t = performance.now();
  for (const x of sets) for (let i = 0; i < x.count; i += bs) normalizeBatch(x, i, Math.min(x.count, i + bs), pre, buf);
  return { decodeMs, normalizeMs: performance.now() - t };
}

/**
 * `n` chained setTimeout(0) yields, alone: the evaluator yields so before every chunk, and chained
 * from timer callbacks, browsers clamp such timeouts to ≥ 4 ms after five levels.
 */
async function chainedYields(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  return performance.now() - t;
}

export async function tpClose(): Promise<void> {
  const s = st;
  st = null;
  if (!s) return;
  for (const ws of s.workers.values()) for (const w of ws) w.terminate();
  for (const x of s.sessions.values()) await x.release();
  await s.engine.dispose();
}
