// The measurements, framework-free: the browser page (bench/page.ts, onnxruntime-web) and the
// Node runner (bench/run.ts, onnxruntime-node) call the same functions.
import type { InferenceSession } from 'onnxruntime-common';
import { BlendEngine, type Backend, type OrtModule } from '../src/core/runtime/engine';
import { parseModel, serializeModel, withValues, tensorValues, DATA_TYPE, type OnnxModel } from '../src/core/onnx/model';
import { analyzePair } from '../src/core/onnx/pair';
import { extractWeightPairs, type WeightPair } from '../src/core/blend/weights';
import { CpuBlender, mixInto } from '../src/core/blend/cpu';
import { stat, timeIt, type Stat } from './stat';
import type { TensorProto } from '../src/core/onnx/proto';

export { stat, type Stat } from './stat';
export { gpuBlendRow, type BlendGpuResult } from './gpu-rows';

const now = () => performance.now();

/** Deterministic input images in [-1, 1]. */
export function images(n: number, size: number): Float32Array {
  const out = new Float32Array(n * 3 * size * size);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function weightPairsOf(zsBytes: Uint8Array, ftBytes: Uint8Array): WeightPair[] {
  const zs = parseModel(zsBytes);
  const ft = parseModel(ftBytes);
  const { differing } = analyzePair(zs, ft);
  return extractWeightPairs(
    zs,
    ft,
    differing.map((d) => d.name),
  );
}

// ---------------------------------------------------------------------------------------------
// Blend throughput

export interface BlendCpuResult {
  elements: number;
  bytesMoved: { blend: number; copy: number };
  blendMs: Stat;
  copyMs: Stat;
  blendGBs: number;
  copyGBs: number;
  ratio: number;
}

/** CpuBlender.blend over every tensor (θ0, θ1 read, θ(α) written) vs TypedArray.set of θ0 into the same outputs. */
export async function cpuBlendRow(
  pairs: WeightPair[],
  reps: number,
  blendFn?: (out: Float32Array, a: Float32Array, b: Float32Array, alpha: number) => void,
): Promise<BlendCpuResult> {
  const cpu = blendFn ? null : new CpuBlender(pairs);
  const outs = pairs.map((p) => cpu?.outputs.get(p.name) ?? new Float32Array(p.zeroShot.length));
  const elements = pairs.reduce((s, p) => s + p.zeroShot.length, 0);
  const blend = blendFn
    ? (a: number) => pairs.forEach((p, i) => blendFn(outs[i]!, p.zeroShot, p.fineTuned, a))
    : (a: number) => cpu!.blend({ alpha: a });
  blend(0.5); // warm-up (JIT)
  pairs.forEach((p, i) => outs[i]!.set(p.zeroShot));
  const blendMs: number[] = [];
  const copyMs: number[] = [];
  // Interleaved so that load from other processes hits both alike.
  for (let r = 0; r < reps; r++) {
    blendMs.push(...(await timeIt(1, () => blend(0.1 + (r % 9) * 0.1))));
    copyMs.push(...(await timeIt(1, () => pairs.forEach((p, i) => outs[i]!.set(r % 2 ? p.zeroShot : p.fineTuned)))));
  }
  const bytes = { blend: elements * 12, copy: elements * 8 };
  const b = stat(blendMs);
  const c = stat(copyMs);
  const blendGBs = bytes.blend / b.median / 1e6;
  const copyGBs = bytes.copy / c.median / 1e6;
  return { elements, bytesMoved: bytes, blendMs: b, copyMs: c, blendGBs, copyGBs, ratio: blendGBs / copyGBs };
}

// ---------------------------------------------------------------------------------------------
// Inference rows: α switch, weights-as-inputs overhead, steady state

export interface InferenceOptions {
  ort: OrtModule;
  backend: Backend;
  device?: GPUDevice;
  size: number;
  /** Batches for the steady-state comparison (engine vs plain session). */
  batches: number[];
  steadyReps: number;
  switchReps: number;
  /** Skip the naive α switch and the plain session (thread rows). */
  engineOnly?: boolean;
}

export interface InferenceResult {
  createMs: number;
  /** Steady-state ms per batch, engine at a fixed α (weights fed as inputs). */
  engine: Record<string, Stat>;
  /** Steady-state ms per batch, plain session of the original model (initializers). */
  plain: Record<string, Stat>;
  /** New α → logits for one image. */
  switchOurs: Stat | null;
  switchNaive: Stat | null;
  /** Steady inference at batch 1 interleaved with the switches (the overhead baseline). */
  switchSteady?: Stat | null;
  /** Parts of the naive switch (medians): blend + bake + serialize, session create, run. */
  naiveParts: { bakeMs: number; createMs: number; runMs: number } | null;
}

function sessionOptions(o: InferenceOptions): InferenceSession.SessionOptions {
  const eps =
    o.backend === 'webgpu' ? [{ name: 'webgpu', device: o.device } as unknown as InferenceSession.ExecutionProviderConfig] : [o.backend];
  return { graphOptimizationLevel: 'all', executionProviders: eps };
}

async function runSession(ort: OrtModule, s: InferenceSession, data: Float32Array, dims: number[]): Promise<void> {
  const r = await s.run({ image: new ort.Tensor('float32', data, dims) });
  for (const t of Object.values(r)) {
    if (t.location !== 'cpu') {
      await t.getData(true);
      t.dispose();
    }
  }
}

export async function inferenceRows(zsBytes: Uint8Array, ftBytes: Uint8Array, o: InferenceOptions): Promise<InferenceResult> {
  const result: InferenceResult = { createMs: 0, engine: {}, plain: {}, switchOurs: null, switchNaive: null, naiveParts: null };
  const one = { data: images(1, o.size), dims: [1, 3, o.size, o.size] };
  // --- ours
  const t = now();
  const engine = await BlendEngine.create(zsBytes, ftBytes, { ort: o.ort, backend: o.backend, device: o.device });
  await engine.run(0.5, one);
  result.createMs = now() - t;
  // The plain session of the original model (initializers) is open at the same time, and the
  // two are timed alternately, so that load from other processes hits both alike.
  const plain = o.engineOnly ? null : await o.ort.InferenceSession.create(zsBytes, sessionOptions(o));
  for (const b of o.batches) {
    const { engine: te, plain: tp } = await steadyRuns(engine, plain, b, o);
    result.engine[b] = stat(te);
    if (plain) result.plain[b] = stat(tp);
  }
  if (!o.engineOnly) Object.assign(result, await switchRuns(engine, one, o.switchReps));
  await engine.dispose();
  await plain?.release();
  if (o.engineOnly) return result;
  return { ...result, ...(await naiveSwitches(zsBytes, ftBytes, one, o)) };
}

/** ms per run at batch `b`, the engine and the plain session alternately, after one untimed run of each. */
async function steadyRuns(
  engine: BlendEngine,
  plain: InferenceSession | null,
  b: number,
  o: InferenceOptions,
): Promise<{ engine: number[]; plain: number[] }> {
  const data = images(b, o.size);
  const dims = [b, 3, o.size, o.size];
  await engine.run(0.5, { data, dims });
  if (plain) await runSession(o.ort, plain, data, dims);
  const te: number[] = [];
  const tp: number[] = [];
  for (let r = 0; r < o.steadyReps; r++) {
    te.push(...(await timeIt(1, () => engine.run(0.5, { data, dims }))));
    if (plain) tp.push(...(await timeIt(1, () => runSession(o.ort, plain, data, dims))));
  }
  return { engine: te, plain: tp };
}

/** Our α switch (blend, then run one image), `reps` times to a new α. */
async function switchRuns(
  engine: BlendEngine,
  one: { data: Float32Array; dims: number[] },
  reps: number,
): Promise<Pick<InferenceResult, 'switchOurs' | 'switchSteady'>> {
  const alphas = Array.from(
    { length: reps },
    (_, i) => [0.15, 0.35, 0.55, 0.75, 0.95, 0.25, 0.45, 0.65, 0.85, 0.05][i % 10]! + 0.001 * Math.floor(i / 10),
  );
  // Each switch is paired with a steady run at the α just set (same engine, same image), so
  // the switch overhead is measured against inference under the same load.
  const sw: number[] = [];
  const steady1: number[] = [];
  for (let i = 0; i < reps; i++) {
    sw.push(...(await timeIt(1, () => engine.run(alphas[i]!, one))));
    steady1.push(...(await timeIt(1, () => engine.run(alphas[i]!, one))));
  }
  return { switchOurs: stat(sw), switchSteady: stat(steady1) };
}

/**
 * The naive α switch: blend the initializers, bake them into a model, create a session, run. The
 * parsed checkpoints and their float32 values are kept between switches (not timed), as a naive
 * app would; everything from α to logits is timed.
 */
async function naiveSwitches(
  zsBytes: Uint8Array,
  ftBytes: Uint8Array,
  one: { data: Float32Array; dims: number[] },
  o: InferenceOptions,
): Promise<Pick<InferenceResult, 'switchNaive' | 'naiveParts'>> {
  const zs = parseModel(zsBytes);
  const values = naiveValues(zs, parseModel(ftBytes));
  const parts = { bake: [] as number[], create: [] as number[], run: [] as number[] };
  const naive: number[] = [];
  for (let i = 0; i < o.switchReps; i++) {
    const alpha = 0.1 + 0.8 * ((i * 0.618) % 1);
    const t0 = now();
    const inits = zs.graph.initializer.map((x) => {
      const v = values.get(x.name);
      if (!v) return x;
      mixInto(v.out, v.a, v.b, alpha);
      return withValues(v.t, v.out);
    });
    const bytes = serializeModel({ ...zs.proto, graph: { ...zs.graph, initializer: inits } });
    const t1 = now();
    const s = await o.ort.InferenceSession.create(bytes, sessionOptions(o));
    const t2 = now();
    await runSession(o.ort, s, one.data, one.dims);
    const t3 = now();
    await s.release();
    naive.push(t3 - t0);
    parts.bake.push(t1 - t0);
    parts.create.push(t2 - t1);
    parts.run.push(t3 - t2);
  }
  const naiveParts = { bakeMs: stat(parts.bake).median, createMs: stat(parts.create).median, runMs: stat(parts.run).median };
  return { switchNaive: stat(naive), naiveParts };
}

/** Each differing float32 initializer's two values and an output to blend into. */
function naiveValues(zs: OnnxModel, ft: OnnxModel): Map<string, { t: TensorProto; a: Float32Array; b: Float32Array; out: Float32Array }> {
  const { differing } = analyzePair(zs, ft);
  const names = new Set(differing.map((d) => d.name));
  const ftByName = new Map(ft.graph.initializer.map((x) => [x.name, x]));
  const values = new Map<string, { t: TensorProto; a: Float32Array; b: Float32Array; out: Float32Array }>();
  for (const x of zs.graph.initializer) {
    if (!names.has(x.name) || x.data_type !== DATA_TYPE.FLOAT) continue;
    const a = tensorValues(x) as Float32Array;
    values.set(x.name, { t: x, a, b: tensorValues(ftByName.get(x.name)!) as Float32Array, out: new Float32Array(a.length) });
  }
  if (values.size !== names.size) throw new Error('the naive switch is implemented for float32 pairs only');
  return values;
}
