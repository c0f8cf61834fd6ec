// A bench-only Worker for the two-Worker throughput case (bench/throughput-page.ts): one
// single-threaded onnxruntime-web session per Worker, so two Workers run two sessions in parallel
// instead of one session's 2-thread pool. It imports src/core's ORT door, not src/worker.
import type { InferenceSession } from 'onnxruntime-common';
import { ortWeb, configureThreads } from '../src/core/runtime/ort-web';
import { BlendEngine } from '../src/core/runtime/engine';
import { tpSessionOptions, batchesOf, runPlain, timePass } from './throughput';

type Msg =
  | { kind: 'init'; model: Uint8Array; fineTuned: Uint8Array; pool: Float32Array; size: number; input: string }
  | { kind: 'warm' | 'run'; batch: number; variant: 'all' | 'engine' };

ortWeb.env.logLevel = 'error';
// One thread per Worker: the point of this case.
configureThreads(1);
let session: InferenceSession | null = null;
// The app's path too (lifted graph, weights fed as inputs), since it runs faster than the plain one.
let engine: BlendEngine | null = null;
let pool: Float32Array | null = null;
let size = 0;
let input = '';
const cache = new Map<number, ReturnType<typeof batchesOf>>();

const post = (m: unknown) => (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(m);

globalThis.addEventListener('message', (e: Event) => {
  const m = (e as MessageEvent<Msg>).data;
  void (async () => {
    try {
      if (m.kind === 'init') {
        session = await ortWeb.InferenceSession.create(m.model, tpSessionOptions('all', 'wasm'));
        engine = await BlendEngine.create(m.model, m.fineTuned, { ort: ortWeb, backend: 'wasm', inputName: m.input });
        pool = m.pool;
        size = m.size;
        input = m.input;
        post({ ok: true });
        return;
      }
      let batches = cache.get(m.batch);
      if (!batches) {
        batches = batchesOf(pool!, m.batch, size);
        cache.set(m.batch, batches);
      }
      const run = m.variant === 'engine' ? (b: { data: Float32Array; dims: number[] }) => engine!.run(0.5, b) : (b: { data: Float32Array; dims: number[] }) => runPlain(ortWeb, session!, input, b);
      // The first run at a shape allocates: done apart ('warm'), outside the page's timed pass.
      if (m.kind === 'warm') {
        await run(batches[0]!);
        post({ ok: true });
        return;
      }
      post({ ok: true, ms: await timePass(batches, run) });
    } catch (err) {
      post({ ok: false, error: String(err) });
    }
  })();
});
