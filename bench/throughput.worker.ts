// A bench-only Worker for the Worker throughput cases (bench/throughput-page.ts). It imports
// src/core, not src/worker, and picks per Worker:
// - the onnxruntime-web build: 'asyncify' is the app's (src/core/runtime/ort-web.ts: the webgpu
//   bundle, whose wasm EP runs the 26.8 MB asyncify-instrumented binary), 'plain' is the wasm-only
//   bundle (`onnxruntime-web/wasm`, the 14.2 MB binary without asyncify), which only the wasm EP needs;
// - the thread count of its one session (two single-threaded Workers vs one 2-thread session).
import type { InferenceSession } from 'onnxruntime-common';
import * as ortPlainModule from 'onnxruntime-web/wasm';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { ortWeb } from '../src/core/runtime/ort-web';
import { BlendEngine, type OrtModule } from '../src/core/runtime/engine';
import { tpSessionOptions, batchesOf, runPlain, timePass } from './throughput';
import type { Manifest, EvalSetSpec } from '../src/core/bundle/manifest';
import { spriteSet, pixelsOf, type EvalSetData } from '../src/core/eval/sprites';
import { FrontierEvaluator } from '../src/core/eval/evaluator';

export type WorkerBuild = 'asyncify' | 'plain';
type Msg =
  | {
      kind: 'init';
      build: WorkerBuild;
      threads: number;
      model: Uint8Array;
      fineTuned: Uint8Array;
      pool: Float32Array;
      size: number;
      input: string;
    }
  | { kind: 'warm' | 'run'; batch: number; variant: 'all' | 'engine'; from: number; to: number }
  // The app's evaluation loop on this Worker's share of the sets: 'sets' decodes them (untimed
  // by the page), 'evaluate' runs FrontierEvaluator over one α of them, 'yields' times the two ways
  // to yield to the event loop here.
  | { kind: 'sets'; specs: EvalSetSpec[]; sheets: Uint8Array[]; classes: number; logits: string; preprocess: Manifest['preprocess'] }
  | { kind: 'evaluate'; alpha: number }
  | { kind: 'yields'; n: number };

let ort: OrtModule | null = null;
let session: InferenceSession | null = null;
// The app's path too (lifted graph, weights fed as inputs), besides the plain session.
let engine: BlendEngine | null = null;
let pool: Float32Array | null = null;
let size = 0;
let input = '';
const cache = new Map<string, ReturnType<typeof batchesOf>>();
let evalSets: { sets: EvalSetData[]; classes: number; logits: string; preprocess: Manifest['preprocess'] } | null = null;

/** n chained yields: setTimeout(0) (what FrontierEvaluator uses) and a MessageChannel message. */
async function timeYields(n: number): Promise<{ timeoutMs: number; channelMs: number }> {
  let t = performance.now();
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  const timeoutMs = performance.now() - t;
  const ch = new MessageChannel();
  t = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      ch.port1.onmessage = () => resolve();
      ch.port2.postMessage(null);
    });
  }
  const channelMs = performance.now() - t;
  ch.port1.close();
  return { timeoutMs, channelMs };
}

const post = (m: unknown) => (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(m);

type Reply = { ok: true } & Record<string, unknown>;

globalThis.addEventListener('message', (e: Event) => {
  const m = (e as MessageEvent<Msg>).data;
  void (async () => {
    try {
      post(await handle(m));
    } catch (err) {
      post({ ok: false, error: String(err) });
    }
  })();
});

async function handle(m: Msg): Promise<Reply> {
  if (m.kind === 'init') return init(m);
  if (m.kind === 'sets') {
    const sets = m.specs.map((spec, i) => spriteSet(spec, m.sheets[i]!));
    for (const x of sets) pixelsOf(x);
    evalSets = { sets, classes: m.classes, logits: m.logits, preprocess: m.preprocess };
    return { ok: true };
  }
  if (m.kind === 'evaluate') return evaluate(m.alpha);
  if (m.kind === 'yields') return { ok: true, ...(await timeYields(m.n)) };
  return runShare(m);
}

async function init(m: Extract<Msg, { kind: 'init' }>): Promise<Reply> {
  if (m.build === 'plain') {
    const plain = ortPlainModule as unknown as OrtModule;
    plain.env.wasm.wasmPaths = { wasm: new URL(plainWasmUrl, location.href).href };
    ort = plain;
  } else {
    ort = ortWeb;
  }
  ort.env.logLevel = 'error';
  // Read by onnxruntime-web when the first session initialises its wasm: set before it.
  ort.env.wasm.numThreads = m.threads;
  session = await ort.InferenceSession.create(m.model, tpSessionOptions('all', 'wasm'));
  engine = await BlendEngine.create(m.model, m.fineTuned, { ort, backend: 'wasm', inputName: m.input });
  pool = m.pool;
  size = m.size;
  input = m.input;
  return { ok: true, threads: ort.env.wasm.numThreads };
}

async function evaluate(alpha: number): Promise<Reply> {
  // A fresh evaluator each time (its ResultStore would skip chunks already done), wired as
  // src/core/explorer.ts wires it.
  const e = evalSets!;
  const ev = new FrontierEvaluator(async (a, x) => (await engine!.run(a, x))[e.logits]!.data, e.sets, {
    classes: e.classes,
    preprocess: e.preprocess,
  });
  const t = performance.now();
  await ev.run(
    ev.plan([alpha], null),
    () => false,
    () => undefined,
  );
  return { ok: true, ms: performance.now() - t, images: e.sets.reduce((n, x) => n + x.count, 0) };
}

/** This Worker's share of the pool (images from..to): one untimed run ('warm'), or a timed pass. */
async function runShare(m: Extract<Msg, { kind: 'warm' | 'run' }>): Promise<Reply> {
  const key = `${m.batch}:${m.from}:${m.to}`;
  let batches = cache.get(key);
  if (!batches) {
    const per = 3 * size * size;
    batches = batchesOf(pool!.subarray(m.from * per, m.to * per), m.batch, size);
    cache.set(key, batches);
  }
  const run =
    m.variant === 'engine'
      ? (b: { data: Float32Array; dims: number[] }) => engine!.run(0.5, b)
      : (b: { data: Float32Array; dims: number[] }) => runPlain(ort!, session!, input, b);
  // The first run at a shape allocates: done apart ('warm'), outside the page's timed pass.
  if (m.kind === 'warm') {
    await run(batches[0]!);
    return { ok: true };
  }
  return { ok: true, ms: await timePass(batches, run) };
}
