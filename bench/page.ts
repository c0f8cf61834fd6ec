// The browser half of `npm run bench`: onnxruntime-web (webgpu build: wasm EP and WebGPU EP) in
// headless Chromium. `?threads=N` sets ort.env.wasm.numThreads before the first session.
import { ortWeb, configureThreads, ortVersion } from '../src/core/runtime/ort-web';
import { requestGpu, type OwnedGpu } from '../src/core/gpu/device';
import { cpuBlendRow, gpuBlendRow, inferenceRows, weightPairsOf, images, stat } from './rows';
import { gpuKernelRows, type KernelVariant } from './gpu-rows';
import { BlendEngine } from '../src/core/runtime/engine';
import { parseModel, serializeModel, withValues, tensorValues, DATA_TYPE } from '../src/core/onnx/model';
import { mixInto } from '../src/core/blend/cpu';
import { loadBundle, urlSource } from '../src/core/bundle/source';
import { streamChunks } from '../src/core/onnx/stream';
import { Explorer } from '../src/core/explorer';
import { chunksOf } from '../src/core/eval/frontier';
import { decodeSprite, normalizeBatch, type EvalSetData } from '../src/core/eval/sprites';
import type { Manifest } from '../src/core/bundle/manifest';
import type { Backend } from '../src/core/runtime/engine';
import { probe } from './probe';
import { trainRuntime, fineTuneEpoch } from './trainRuntime';
import { worldRender, worldEpoch } from './worldRender';
import { liveFrontier } from './frontierEngines';
import { tpSetup, tpCase, tpWorkers, tpProfile, tpClose, tpWorkerEval, tpWorkerYields } from './throughput-page';

const params = new URLSearchParams(location.search);
ortWeb.env.logLevel = 'error';
const threads = configureThreads(params.has('threads') ? Number(params.get('threads')) : undefined);

let gpu: OwnedGpu | null = null;
async function device(): Promise<GPUDevice> {
  gpu ??= await requestGpu();
  return gpu.device;
}

async function bytes(file: string): Promise<Uint8Array> {
  const r = await fetch(`/bench-data/${file}`);
  if (!r.ok) throw new Error(`${file}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function env() {
  let adapter: unknown;
  try {
    await device();
    adapter = gpu!.info;
  } catch (e) {
    adapter = { error: String(e) };
  }
  return {
    userAgent: navigator.userAgent,
    crossOriginIsolated,
    threads,
    hardwareConcurrency: navigator.hardwareConcurrency,
    ortWeb: ortVersion,
    adapter,
  };
}

async function blend(o: { pair: string; reps: number; cpu: boolean; gpu: boolean }) {
  const pairs = weightPairsOf(await bytes(`${o.pair}-zs.onnx`), await bytes(`${o.pair}-ft.onnx`));
  return {
    // Before/after of src/core/blend/cpu.ts: the JS loop CpuBlender ran before, CpuBlender now.
    cpuBefore: o.cpu ? await cpuBlendRow(pairs, o.reps, mixInto) : null,
    cpu: o.cpu ? await cpuBlendRow(pairs, o.reps) : null,
    gpu: o.gpu ? await gpuBlendRow(await device(), pairs, o.reps) : null,
  };
}

async function inference(o: {
  pair: string;
  size: number;
  backend: Backend;
  batches: number[];
  steadyReps: number;
  switchReps: number;
  engineOnly?: boolean;
}) {
  const zs = await bytes(`${o.pair}-zs.onnx`);
  const ft = await bytes(`${o.pair}-ft.onnx`);
  return inferenceRows(zs, ft, {
    ort: ortWeb,
    backend: o.backend,
    device: o.backend === 'webgpu' ? await device() : undefined,
    size: o.size,
    batches: o.batches,
    steadyReps: o.steadyReps,
    switchReps: o.switchReps,
    engineOnly: o.engineOnly,
  });
}

function heap() {
  const m = (performance as unknown as { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
  return m ? { used: m.usedJSHeapSize, total: m.totalJSHeapSize } : null;
}

/** One process, one way: ours (engine, two α) or naive (blend, bake, new session, two α). */
/** A checkpoint's chunks as they arrive, its fetch started only when the reader gets to it. */
async function* fetched(file: string): AsyncGenerator<Uint8Array> {
  const r = await fetch(`/bench-data/${file}`);
  if (!r.ok || !r.body) throw new Error(`${file}: HTTP ${r.status}`);
  yield* streamChunks(r.body);
}

/** BlendEngine from both files' bytes, or streamed from the fetches (never whole in memory). */
async function engineFor(o: { pair: string; fp16?: boolean }, stream: boolean): Promise<BlendEngine> {
  const f = (w: string) => `${o.pair}-${w}${o.fp16 ? '-fp16' : ''}.onnx`;
  const opts = { ort: ortWeb, backend: 'wasm' as const };
  if (stream) return BlendEngine.createFromStreams([fetched(f('zs')), fetched(f('ft'))], opts);
  return BlendEngine.create(await bytes(f('zs')), await bytes(f('ft')), opts);
}

/** Fetch + set up + first run, fp32 or fp16, from bytes or streamed: the setup-time rows. */
async function setup(o: { pair: string; size: number; fp16: boolean; stream: boolean }) {
  const t = performance.now();
  const engine = await engineFor(o, o.stream);
  const created = performance.now() - t;
  await engine.run(0.5, { data: images(1, o.size), dims: [1, 3, o.size, o.size] });
  const total = performance.now() - t;
  await engine.dispose();
  return { createMs: created, setupMs: total };
}

async function memory(o: { pair: string; size: number; mode: 'ours' | 'ours-stream' | 'ours-stream-fp16' | 'ours-js' | 'naive' }) {
  if (o.mode === 'ours-js') {
    // CpuBlender as before the wasm kernel: refuse its 255-byte module, so it takes the JS path.
    const W = globalThis.WebAssembly as unknown as { Module: unknown };
    const Orig = WebAssembly.Module;
    W.Module = function (b: BufferSource) {
      if ((b as Uint8Array).byteLength === 255) throw new Error('bench: wasm blend disabled');
      return new Orig(b);
    };
  }
  const input = { data: images(1, o.size), dims: [1, 3, o.size, o.size] };
  let peakHeap = 0;
  const sample = () => {
    peakHeap = Math.max(peakHeap, heap()?.used ?? 0);
  };
  if (o.mode !== 'naive') {
    const engine = await engineFor({ ...o, fp16: o.mode === 'ours-stream-fp16' }, o.mode.startsWith('ours-stream'));
    sample();
    for (const a of [0.3, 0.7]) {
      await engine.run(a, input);
      sample();
    }
    const blended = engine.info.blendedBytes;
    await engine.dispose();
    return { peakHeap, blendedBytes: blended };
  }
  return { peakHeap, blendedBytes: await naiveMemory(o.pair, input, sample) };
}

/** The naive way at two α: blend, bake into a model, a new session, run; returns one checkpoint's bytes. */
async function naiveMemory(pair: string, input: { data: Float32Array; dims: number[] }, sample: () => void): Promise<number> {
  const zsb = await bytes(`${pair}-zs.onnx`);
  const zs = parseModel(zsb);
  const ft = parseModel(await bytes(`${pair}-ft.onnx`));
  const ftBy = new Map(ft.graph.initializer.map((t) => [t.name, t]));
  for (const a of [0.3, 0.7]) {
    const inits = zs.graph.initializer.map((t) => {
      if (t.data_type !== DATA_TYPE.FLOAT) return t;
      const x = tensorValues(t) as Float32Array;
      const y = tensorValues(ftBy.get(t.name)!) as Float32Array;
      mixInto(x, x, y, a);
      return withValues(t, x);
    });
    const s = await ortWeb.InferenceSession.create(serializeModel({ ...zs.proto, graph: { ...zs.graph, initializer: inits } }), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    sample();
    await s.run({ image: new ortWeb.Tensor('float32', input.data, input.dims) });
    sample();
    await s.release();
  }
  return zsb.byteLength;
}

/** Explorer.evaluate over the grid on the bundled pair vs a bare session.run loop on the same batches. */
async function frontier(o: { manifest: string; grid: number[]; backend: Backend }) {
  const bundle = await loadBundle(urlSource(o.manifest));
  const env = { ort: ortWeb, backend: o.backend, device: o.backend === 'webgpu' ? await device() : undefined };
  const ex = new Explorer(env);
  await ex.loadPair(bundle);
  const m = bundle.manifest;
  const sets = (m.eval?.sets ?? []).map((s) => decodeSprite(s, bundle.sprites.get(s.id)!));
  const images = sets.reduce((s, x) => s + x.count, 0) * o.grid.length;
  // The bare loop: a plain session of the zero-shot model, the same batches (chunks of at most
  // 250 images), once per α of the grid.
  const session = await ortWeb.InferenceSession.create(bundle.zeroShot, {
    executionProviders: [o.backend === 'webgpu' ? ({ name: 'webgpu', device: env.device } as never) : 'wasm'],
    graphOptimizationLevel: 'all',
  });
  const batches = bareBatches(sets, m);
  const run = async (b: { data: Float32Array; dims: number[] }) => {
    const r = await session.run({ [m.io.image]: new ortWeb.Tensor('float32', b.data, b.dims) });
    for (const x of Object.values(r))
      if (x.location !== 'cpu') {
        await x.getData(true);
        x.dispose();
      }
  };
  await run(batches[0]!);
  const { explorerMs, bareMs } = await interleaved(o.grid, ex, async () => {
    for (const b of batches) await run(b);
  });
  await ex.dispose();
  await session.release();
  return {
    images,
    explorerMs,
    bareMs,
    explorerIps: images / (explorerMs / 1000),
    bareIps: images / (bareMs / 1000),
    overhead: explorerMs / bareMs - 1,
    batches: batches.length,
  };
}

/**
 * Explorer's evaluate of one α, then the bare loop, α by α (so that load from other processes hits
 * both alike): the total ms of each.
 */
async function interleaved(grid: number[], ex: Explorer, bareLoop: () => Promise<void>): Promise<{ explorerMs: number; bareMs: number }> {
  let explorerMs = 0;
  let bareMs = 0;
  for (const a of grid) {
    let t = performance.now();
    await ex.evaluate([a], null, () => undefined);
    explorerMs += performance.now() - t;
    t = performance.now();
    await bareLoop();
    bareMs += performance.now() - t;
  }
  return { explorerMs, bareMs };
}

/** Every set's images, normalised once, in the evaluator's chunks cut into batches of at most 250. */
function bareBatches(sets: EvalSetData[], m: Manifest): { data: Float32Array; dims: number[] }[] {
  const size = m.preprocess.size;
  const bs = Math.max(1, Math.min(250, Math.floor((16 * 2 ** 20) / (3 * size * size * 4))));
  const batches: { data: Float32Array; dims: number[] }[] = [];
  for (const s of sets) {
    for (const c of chunksOf(s.count)) {
      for (let st = c.start; st < c.end; st += bs) {
        const en = Math.min(c.end, st + bs);
        batches.push({
          data: normalizeBatch(s, st, en, m.preprocess, new Float32Array((en - st) * 3 * size * size)).slice(),
          dims: [en - st, 3, size, size],
        });
      }
    }
  }
  return batches;
}

/** The kernel profile (bench/gpu-rows.ts) on this page's device. */
async function gpuKernels(o: { elements: number; reps: number; variants: KernelVariant[] }) {
  return gpuKernelRows(await device(), o);
}

const bench = {
  env,
  blend,
  inference,
  memory,
  setup,
  frontier,
  gpuKernels,
  probe,
  trainRuntime,
  fineTuneEpoch,
  worldRender,
  worldEpoch,
  liveFrontier,
  stat,
  tpSetup,
  tpCase,
  tpWorkers,
  tpProfile,
  tpClose,
  tpWorkerEval,
  tpWorkerYields,
};
(globalThis as unknown as { bench: typeof bench }).bench = bench;
export type Bench = typeof bench;
document.getElementById('status')!.textContent = 'ready';
