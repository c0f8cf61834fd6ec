// The browser half of `npm run bench`: onnxruntime-web (webgpu build: wasm EP and WebGPU EP) in
// headless Chromium. `?threads=N` sets ort.env.wasm.numThreads before the first session.
import { ortWeb, configureThreads, ortVersion } from '../src/core/runtime/ort-web';
import { requestGpu, type OwnedGpu } from '../src/core/gpu/device';
import { cpuBlendRow, gpuBlendRow, inferenceRows, weightPairsOf, images, stat } from './rows';
import { BlendEngine } from '../src/core/runtime/engine';
import { parseModel, serializeModel, withValues, tensorValues } from '../src/core/onnx/model';
import { mixInto } from '../src/core/blend/cpu';
import { loadBundle, urlSource } from '../src/core/bundle/source';
import { Explorer } from '../src/core/explorer';
import { chunksOf } from '../src/core/eval/frontier';
import { decodeSprite, normalizeBatch } from '../src/core/eval/sprites';
import type { Backend } from '../src/core/runtime/engine';

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
  return { userAgent: navigator.userAgent, crossOriginIsolated, threads, hardwareConcurrency: navigator.hardwareConcurrency, ortWeb: ortVersion, adapter };
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

async function inference(o: { pair: string; size: number; backend: Backend; batches: number[]; steadyReps: number; switchReps: number; engineOnly?: boolean }) {
  const zs = await bytes(`${o.pair}-zs.onnx`);
  const ft = await bytes(`${o.pair}-ft.onnx`);
  return inferenceRows(zs, ft, { ort: ortWeb, backend: o.backend, device: o.backend === 'webgpu' ? await device() : undefined, size: o.size, batches: o.batches, steadyReps: o.steadyReps, switchReps: o.switchReps, engineOnly: o.engineOnly });
}

function heap() {
  const m = (performance as unknown as { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
  return m ? { used: m.usedJSHeapSize, total: m.totalJSHeapSize } : null;
}

/** One process, one way: ours (engine, two α) or naive (blend, bake, new session, two α). */
async function memory(o: { pair: string; size: number; mode: 'ours' | 'ours-js' | 'naive' }) {
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
  const sample = () => { peakHeap = Math.max(peakHeap, heap()?.used ?? 0); };
  if (o.mode !== 'naive') {
    const engine = await BlendEngine.create(await bytes(`${o.pair}-zs.onnx`), await bytes(`${o.pair}-ft.onnx`), { ort: ortWeb, backend: 'wasm' });
    sample();
    for (const a of [0.3, 0.7]) { await engine.run(a, input); sample(); }
    const blended = engine.info.blendedBytes;
    await engine.dispose();
    return { peakHeap, blendedBytes: blended };
  }
  const zsb = await bytes(`${o.pair}-zs.onnx`);
  const zs = parseModel(zsb);
  const ft = parseModel(await bytes(`${o.pair}-ft.onnx`));
  const ftBy = new Map(ft.graph.initializer.map((t) => [t.name, t]));
  for (const a of [0.3, 0.7]) {
    const inits = zs.graph.initializer.map((t) => {
      if (t.data_type !== 1) return t;
      const x = tensorValues(t) as Float32Array;
      const y = tensorValues(ftBy.get(t.name)!) as Float32Array;
      mixInto(x, x, y, a);
      return withValues(t, x);
    });
    const s = await ortWeb.InferenceSession.create(serializeModel({ ...zs.proto, graph: { ...zs.graph, initializer: inits } }), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    sample();
    await s.run({ image: new ortWeb.Tensor('float32', input.data, input.dims) });
    sample();
    await s.release();
  }
  return { peakHeap, blendedBytes: zsb.byteLength };
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
  const session = await ortWeb.InferenceSession.create(bundle.zeroShot, { executionProviders: [o.backend === 'webgpu' ? ({ name: 'webgpu', device: env.device } as never) : 'wasm'], graphOptimizationLevel: 'all' });
  const size = m.preprocess.size;
  const bs = Math.max(1, Math.min(250, Math.floor((16 * 2 ** 20) / (3 * size * size * 4))));
  const batches: { data: Float32Array; dims: number[] }[] = [];
  for (const s of sets) {
    for (const c of chunksOf(s.count)) {
      for (let st = c.start; st < c.end; st += bs) {
        const en = Math.min(c.end, st + bs);
        batches.push({ data: normalizeBatch(s, st, en, m.preprocess, new Float32Array((en - st) * 3 * size * size)).slice(), dims: [en - st, 3, size, size] });
      }
    }
  }
  const run = async (b: { data: Float32Array; dims: number[] }) => {
    const r = await session.run({ [m.io.image]: new ortWeb.Tensor('float32', b.data, b.dims) });
    for (const x of Object.values(r)) if (x.location !== 'cpu') { await x.getData(true); x.dispose(); }
  };
  await run(batches[0]!);
  // Interleaved per α (Explorer's evaluate of one α, then the bare loop's same batches), so that
  // load from other processes hits both alike.
  let explorerMs = 0;
  let bareMs = 0;
  for (const a of o.grid) {
    let t = performance.now();
    await ex.evaluate([a], null, () => undefined);
    explorerMs += performance.now() - t;
    t = performance.now();
    for (const b of batches) await run(b);
    bareMs += performance.now() - t;
  }
  await ex.dispose();
  await session.release();
  return { images, explorerMs, bareMs, explorerIps: images / (explorerMs / 1000), bareIps: images / (bareMs / 1000), overhead: explorerMs / bareMs - 1, batches: batches.length };
}


/**
 * Profile of the WebGPU blend kernel: the shipped one (one vec4 per invocation) against
 * grid-stride variants (each invocation loops over vec4s), on one tensor of `elements` floats.
 */
async function gpuKernels(o: { elements: number; reps: number; variants: { wg: number; groups: number | null }[] }) {
  const dev = await device();
  const vec4s = Math.ceil(o.elements / 4);
  const size = vec4s * 16;
  const mk = (usage: number) => dev.createBuffer({ size, usage });
  const a = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST), b = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST), out = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const params = dev.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(params, 0, new Float32Array([0.3, 0, 0, 0]));
  const results: { variant: string; ms: ReturnType<typeof stat>; gbs: number }[] = [];
  for (const v of o.variants) {
    const strided = v.groups !== null;
    const code = `
struct Params { alpha: f32 }
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;
@compute @workgroup_size(${v.wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = arrayLength(&out);
  let w = vec4<f32>(params.alpha);
  ${strided
    ? `let stride = nwg.x * ${v.wg}u * nwg.y;
  for (var i = gid.x + gid.y * nwg.x * ${v.wg}u; i < n; i += stride) { out[i] = mix(a[i], b[i], w); }`
    : `let i = gid.x + gid.y * ${65535 * v.wg}u;
  if (i >= n) { return; }
  out[i] = mix(a[i], b[i], w);`}
}`;
    const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code }), entryPoint: 'main' } });
    const bg = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [a, b, out, params].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const groups = strided ? Math.min(v.groups!, Math.ceil(vec4s / v.wg)) : Math.ceil(vec4s / v.wg);
    const gx = Math.min(groups, 65535);
    const gy = Math.ceil(groups / gx);
    const run = async () => {
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
    };
    await run();
    const ts: number[] = [];
    for (let r = 0; r < o.reps; r++) {
      const t = performance.now();
      await run();
      ts.push(performance.now() - t);
    }
    const s = stat(ts);
    results.push({ variant: strided ? `grid-stride, workgroup ${v.wg}, ${groups} groups` : `one vec4/invocation, workgroup ${v.wg}${v.wg === 256 ? " (shipped)" : ""}`, ms: s, gbs: (12 * vec4s * 4) / s.median / 1e6 });
  }
  for (const x of [a, b, out, params]) x.destroy();
  return results;
}
const bench = { env, blend, inference, memory, frontier, gpuKernels, stat };
(globalThis as unknown as { bench: typeof bench }).bench = bench;
export type Bench = typeof bench;
document.getElementById('status')!.textContent = 'ready';
