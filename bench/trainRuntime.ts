// The training-runtime candidates in the page (`npm run bench -- --only-train-runtime`): one
// forward + backward step of the bundled image tower (softmax cross-entropy, every parameter's
// gradient) on a batch, timed, per candidate and batch size, in the same page and run:
//   - the hand-written tower (src/core/train/tower.ts) on its WebAssembly SIMD kernel, and on plain
//     TypeScript loops;
//   - TensorFlow.js 4.22 (tfjs-core with the wasm backend, SIMD and threads where the page is
//     cross-origin isolated, and the cpu backend), the same network built from the same initializers.
// Each candidate's loss and gradients on the first batch are compared with the hand-written tower's
// float32 result (itself checked against PyTorch in tests/unit/core/train/tower-torch.test.ts).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself (the union package @tensorflow/tfjs imports these).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { Tower, towerParams, type TowerParam } from '../src/core/train/tower';
import { typescriptRuntime, wasmRuntime, type TowerRuntime } from '../src/core/train/gemm';
import { seededRandom } from '../src/core/train/data';
import type { TrainCandidate } from './trainCandidates';
import { fineTune, PIPELINE_FINETUNE } from '../src/core/train/finetune';
import { loadBundle, urlSource } from '../src/core/bundle/source';
import { decodeSprite } from '../src/core/eval/sprites';

export interface TrainRuntimeRow {
  candidate: string;
  batch: number;
  /** Images through forward + backward per second; null when the candidate failed. */
  imageStepsPerS: number | null;
  msPerStep: number | null;
  /** max over tensors of ‖g − g_ref‖/‖g_ref‖ against the hand-written float32 tower; null when not computed. */
  gradError: number | null;
  lossError: number | null;
  error?: string;
}

interface Batch {
  pixels: Float32Array;
  labels: Int32Array;
  n: number;
}

function batchOf(n: number): Batch {
  const r = seededRandom(n);
  return {
    pixels: Float32Array.from({ length: n * 3 * 32 * 32 }, () => (r() - 0.5) * 4),
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    n,
  };
}

type Step = () => { loss: number; grads: Map<string, Float32Array> };

function handWritten(bytes: Uint8Array, runtime: TowerRuntime, b: Batch): Step {
  const params = towerParams(bytes, runtime.F);
  const tower = new Tower(params, runtime);
  return () => {
    const { loss } = tower.forward(b.pixels, b.labels, b.n);
    tower.backward();
    return { loss, grads: new Map(params.map((p) => [p.name, Float32Array.from(p.grad)])) };
  };
}

/** The same network in TensorFlow.js (NHWC; conv weights [3, 3, cin, cout]; GroupNorm by moments). */
let tfRun = 0;
function tfStep(params: TowerParam[], b: Batch): Step {
  const run = tfRun++;
  const key = (name: string) => `r${run}_${name.replace(/\./g, '_')}`;
  const vars = new Map<string, tf.Variable>();
  for (const p of params) {
    let t = tf.tensor(Float32Array.from(p.value), p.shape);
    if (p.shape.length === 4) t = tf.transpose(t, [2, 3, 1, 0]);
    if (p.shape.length === 3) t = tf.reshape(t, [p.shape[0]!]);
    vars.set(p.name, tf.variable(t, true, key(p.name)));
  }
  const v = (name: string) => vars.get(name)!;
  const x = tf.transpose(tf.tensor(b.pixels, [b.n, 3, 32, 32]), [0, 2, 3, 1]);
  // The head's rows are the classes: the bundled pair's count changed (10 → 20) under a hard-coded 10.
  const classes = params.find((p) => p.name === 'head.weight')!.shape[0]!;
  const onehot = tf.oneHot(tf.tensor1d(b.labels, 'int32'), classes);
  const pad: [[0, 0], [1, 1], [1, 1], [0, 0]] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const loss = (): tf.Scalar => {
    let h: tf.Tensor4D = x as tf.Tensor4D;
    [2, 1, 2, 1, 2, 1].forEach((stride, i) => {
      const c = tf.conv2d(h, v(`encoder.features.${i}.0.weight`) as tf.Tensor4D, stride, pad);
      const [n, H, W, C] = c.shape;
      const g = tf.reshape(c, [n, H, W, 8, C / 8]);
      const { mean, variance } = tf.moments(g, [1, 2, 4], true);
      const normed = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [n, H, W, C]);
      const y = tf.add(tf.mul(normed, v(`encoder.features.${i}.1.weight`)), v(`encoder.features.${i}.1.bias`));
      h = tf.mul(tf.mul(y, 0.5), tf.add(1, tf.erf(tf.mul(y, Math.SQRT1_2)))) as tf.Tensor4D;
    });
    const e = tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, v('encoder.proj') as tf.Tensor2D);
    const z = tf.div(e, tf.norm(e, 'euclidean', 1, true));
    const logits = tf.add(tf.matMul(z as tf.Tensor2D, v('head.weight') as tf.Tensor2D, false, true), v('head.bias'));
    return tf.mean(tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1)));
  };
  return () => {
    const { value, grads } = tf.variableGrads(loss);
    const out = new Map<string, Float32Array>();
    for (const p of params) {
      let g = grads[key(p.name)]!;
      if (p.shape.length === 4) g = tf.transpose(g, [3, 2, 0, 1]);
      out.set(p.name, g.dataSync() as Float32Array);
    }
    const l = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss: l, grads: out };
  };
}

function compare(got: ReturnType<Step>, ref: ReturnType<Step>): { gradError: number; lossError: number } {
  let worst = 0;
  for (const [name, want] of ref.grads) {
    const g = got.grads.get(name)!;
    let d = 0;
    let s = 0;
    want.forEach((w, i) => {
      d += (g[i]! - w) ** 2;
      s += w * w;
    });
    worst = Math.max(worst, Math.sqrt(d / s));
  }
  return { gradError: worst, lossError: Math.abs(got.loss - ref.loss) / Math.abs(ref.loss) };
}

/** Times `step` over `reps` steps after one warm-up step, which is also compared with `ref`. */
async function timed(
  candidate: string,
  b: Batch,
  reps: number,
  make: () => Step | Promise<Step>,
  ref: ReturnType<Step> | null,
): Promise<TrainRuntimeRow> {
  try {
    const step = await Promise.race([
      make(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('did not start within 120 s')), 120_000)),
    ]);
    const first = step();
    const check = ref ? compare(first, ref) : { gradError: null, lossError: null };
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) step();
    const ms = (performance.now() - t0) / reps;
    return { candidate, batch: b.n, imageStepsPerS: b.n / (ms / 1000), msPerStep: ms, ...check };
  } catch (e) {
    return {
      candidate,
      batch: b.n,
      imageStepsPerS: null,
      msPerStep: null,
      gradError: null,
      lossError: null,
      error: String(e).slice(0, 300),
    };
  }
}

async function tfBackend(name: 'wasm' | 'cpu'): Promise<void> {
  // Threaded: its pthread workers importScripts() a blob of the bundled script, which fails under
  // Vite's module serving here (measured: "Failed to execute 'importScripts'" and the backend never
  // becomes ready), so the SIMD build runs single-threaded, as the hand-written kernel does.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (name === 'wasm')
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    });
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js could not start its ${name} backend`);
  await tf.ready();
}

/** One candidate at one batch size: timed over `reps` steps, checked against the hand-written tower. */
export async function trainRuntime(o: { candidate: TrainCandidate; batch: number; reps: number; model: string }) {
  const bytes = new Uint8Array(await (await fetch(o.model)).arrayBuffer());
  const b = batchOf(o.batch);
  const ref = handWritten(bytes, typescriptRuntime(Float32Array), b)();
  const make = async (): Promise<Step> => {
    if (o.candidate === 'hand-written, wasm SIMD kernel') {
      const wasm = wasmRuntime();
      if (!wasm) throw new Error('this browser has no WebAssembly SIMD');
      return handWritten(bytes, wasm, b);
    }
    if (o.candidate === 'hand-written, plain TypeScript') return handWritten(bytes, typescriptRuntime(Float32Array), b);
    await tfBackend(o.candidate.endsWith('wasm') ? 'wasm' : 'cpu');
    return tfStep(towerParams(bytes), b);
  };
  const row = await timed(o.candidate, b, o.reps, make, ref);
  return { row, crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency };
}

/**
 * One epoch of end-to-end fine-tuning as the app would run it (core/train/finetune.ts with the
 * pipeline's recipe: batch 128 in micro-batches of 32, AdamW, flips), on the bundled reference
 * images cycled to n: only the time is measured, which does not depend on what the images show.
 */
export async function fineTuneEpoch(o: { manifest: string; n: number }) {
  const bundle = await loadBundle(urlSource(o.manifest));
  const m = bundle.manifest;
  const spec = m.eval!.sets.find((s) => s.role === 'reference') ?? m.eval!.sets[0]!;
  const set = decodeSprite(spec, bundle.sprites.get(spec.id)!);
  const per = 32 * 32 * 3;
  const pixels = new Uint8Array(o.n * per);
  const labels = new Int32Array(o.n);
  for (let i = 0; i < o.n; i++) {
    pixels.set(set.pixels!.subarray((i % set.count) * per, ((i % set.count) + 1) * per), i * per);
    labels[i] = set.labels[i % set.count]!;
  }
  const t0 = performance.now();
  const r = await fineTune(bundle.zeroShot, { pixels, labels, count: o.n }, m.preprocess, { ...PIPELINE_FINETUNE, epochs: 1, seed: 0 });
  const ms = performance.now() - t0;
  const images = r.steps * PIPELINE_FINETUNE.batchSize;
  return {
    n: o.n,
    steps: r.steps,
    batch: PIPELINE_FINETUNE.batchSize,
    ms,
    imageStepsPerS: images / (ms / 1000),
    firstLoss: r.losses[0]!,
    lastLoss: r.losses.at(-1)!,
  };
}
