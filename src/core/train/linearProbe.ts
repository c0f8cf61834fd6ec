// The linear probe (the paper's linear-classifier setting): the image tower frozen, its features
// computed once, and only the head trained, from the zero-shot head, with softmax cross-entropy,
// AdamW and a cosine schedule with warmup: tools/train.py `linear_probe`, the same recipe.
//
// Why plain TypeScript and not a library. The model is one [C, D] matrix and a bias; an epoch is two
// matrix products of each batch with it. One epoch (batch 128, AdamW, cosine lr) measured in Node 20
// on this repository's 2-core machine (shared, so two runs each; the scratch script that ran
// TensorFlow.js is not kept, as TensorFlow.js is not a dependency):
//   20,000 × 64 features, 10 classes:    TypeScript 35–61 ms;  TensorFlow.js 4.22 wasm 277–530 ms, cpu 498–903 ms
//   10,000 × 512 features, 1,000 classes: TypeScript 8.6–11 s;  TensorFlow.js 4.22 wasm 17–22 s,    cpu 45–72 s
// At the bundled pair's size the library's per-op dispatch costs more than the arithmetic; at CLIP's
// the blocked loops below still beat its wasm backend, as Node runs it, by 2×. Plain TypeScript also
// keeps float64 master weights and bit-for-bit determinism, and adds no second wasm runtime (and no
// megabytes) beside onnxruntime. Not measured here: TensorFlow.js on WebGPU or threaded wasm in a
// cross-origin-isolated page, which might win at CLIP's size.
import { yieldToEventLoop } from '../util/yield';
import { TrainingError, checkLabelled, seededRandom, shuffleInPlace, type Features, type LabelledFeatures } from './data';
import { AdamW, cosineLr, type TrainingSchedule } from './optimizer';
import { checkHead, type LinearHead } from './head';

/** The probe's weight decay reaches the weight and the bias alike (as tools/train.py's probe). */
export interface LinearProbeOptions extends TrainingSchedule {
  /** Held-out images: their accuracy is measured after every epoch. */
  validation?: LabelledFeatures;
}

/** tools/build.py's linear-classifier member: 5 epochs, batch 128, lr 1e-3, weight decay 0.1, 20 warmup steps. */
export const PIPELINE_RECIPE: Omit<LinearProbeOptions, 'seed' | 'validation'> = {
  epochs: 5,
  batchSize: 128,
  lr: 1e-3,
  weightDecay: 0.1,
  warmup: 20,
};

export interface EpochReport {
  epoch: number;
  epochs: number;
  /** Steps done so far, of `totalSteps`. */
  step: number;
  totalSteps: number;
  /** Mean softmax cross-entropy over this epoch's batches (before each step's update). */
  loss: number;
  /** Accuracy on the validation images after this epoch; null without them. */
  validationAccuracy: number | null;
}

export interface LinearProbeResult {
  head: LinearHead;
  epochs: EpochReport[];
  /** Validation accuracy of the initial (zero-shot) head, for the "before" number; null without validation images. */
  initialValidationAccuracy: number | null;
}

/** Milliseconds of work between two yields to the event loop, so a Worker still reads its messages (a cancel). */
const YIELD_MS = 30;

function checkOptions(o: LinearProbeOptions): void {
  const positiveInt = (v: number, what: string) => {
    if (!(Number.isInteger(v) && v >= 1)) throw new TrainingError(`${what} must be a whole number of at least 1, got ${v}`);
  };
  positiveInt(o.epochs, 'epochs');
  positiveInt(o.batchSize, 'the batch size');
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new TrainingError(`the learning rate must be a positive number, got ${o.lr}`);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0))
    throw new TrainingError(`the weight decay must be zero or positive, got ${o.weightDecay}`);
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0))
    throw new TrainingError(`warmup must be a whole number of steps (0 or more), got ${o.warmup}`);
  if (!Number.isInteger(o.seed)) throw new TrainingError(`the seed must be a whole number, got ${o.seed}`);
}

/**
 * Trains a linear head on fixed features, from `initHead`. Deterministic: the result depends only on
 * the arguments. Reports each epoch through `onProgress` and awaits it (a paused job holds it there); an aborted `signal` stops it between two
 * steps with the signal's reason, and `initHead` is never modified.
 */
export async function trainLinearProbe(
  features: Features,
  labels: Int32Array,
  initHead: LinearHead,
  options: LinearProbeOptions,
  onProgress?: (r: EpochReport) => unknown,
  signal?: AbortSignal,
): Promise<LinearProbeResult> {
  checkHead(initHead, 'the initial head');
  checkOptions(options);
  checkLabelled({ features, labels }, initHead.classes, initHead.dim, 'the training images');
  if (options.validation) checkLabelled(options.validation, initHead.classes, initHead.dim, 'the validation images');
  signal?.throwIfAborted();
  const run = startRun(features, labels, initHead, options);
  const { validation } = options;
  const validationAccuracy = () => (validation ? accuracy(run.params, run.C, run.D, validation) : null);
  const initialValidationAccuracy = validationAccuracy();
  const reports: EpochReport[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const loss = await runEpoch(run, signal);
    const report: EpochReport = {
      epoch: epoch + 1,
      epochs: options.epochs,
      step: run.step,
      totalSteps: run.totalSteps,
      loss,
      validationAccuracy: validationAccuracy(),
    };
    reports.push(report);
    await onProgress?.(report);
  }
  const head: LinearHead = {
    weight: Float32Array.from(run.params.subarray(0, run.C * run.D)),
    bias: Float32Array.from(run.params.subarray(run.C * run.D)),
    classes: run.C,
    dim: run.D,
  };
  checkHead(head, 'the trained head');
  return { head, epochs: reports, initialValidationAccuracy };
}

/** One training run's state between epochs. */
interface ProbeRun {
  /** One flat vector, weight then bias, so AdamW is one loop. */
  params: Float64Array;
  grad: Float64Array;
  opt: AdamW;
  x: Float32Array;
  labels: Int32Array;
  C: number;
  D: number;
  batch: number;
  perEpoch: number;
  totalSteps: number;
  order: Int32Array;
  random: () => number;
  scratch: Float64Array;
  options: LinearProbeOptions;
  step: number;
  lastYield: number;
}

function startRun(features: Features, labels: Int32Array, initHead: LinearHead, options: LinearProbeOptions): ProbeRun {
  const { classes: C, dim: D } = initHead;
  const params = new Float64Array(C * D + C);
  params.set(initHead.weight);
  params.set(initHead.bias, C * D);
  const n = features.count;
  const batch = Math.min(options.batchSize, n);
  // As tools/train.py: full batches only, the remainder of each shuffled epoch is left out.
  const perEpoch = Math.floor(n / batch);
  return {
    params,
    grad: new Float64Array(params.length),
    opt: new AdamW(params.length, { weightDecay: options.weightDecay }),
    x: features.data,
    labels,
    C,
    D,
    batch,
    perEpoch,
    totalSteps: Math.max(1, perEpoch * options.epochs),
    order: Int32Array.from({ length: n }, (_, i) => i),
    random: seededRandom(options.seed),
    scratch: new Float64Array(batch * C),
    options,
    step: 0,
    lastYield: Date.now(),
  };
}

/** One shuffled epoch of steps; returns its mean loss. */
async function runEpoch(run: ProbeRun, signal?: AbortSignal): Promise<number> {
  const { params, grad, batch, C, D, options } = run;
  shuffleInPlace(run.order, run.random);
  let lossSum = 0;
  for (let b = 0; b < run.perEpoch; b++) {
    if (Date.now() - run.lastYield > YIELD_MS) {
      await yieldToEventLoop();
      run.lastYield = Date.now();
    }
    signal?.throwIfAborted();
    const rows = run.order.subarray(b * batch, (b + 1) * batch);
    lossSum += batchGradient(params, grad, run.x, run.labels, rows, C, D, run.scratch);
    run.opt.step(params, grad, cosineLr(run.step, run.totalSteps, options.lr, options.warmup));
    run.step++;
  }
  return lossSum / run.perEpoch;
}

/**
 * Mean cross-entropy of one batch and its gradient (written into `grad`, weight then bias):
 * ∂L/∂logit = (softmax − one-hot) / B, ∂L/∂W = that ⊗ x, ∂L/∂b = that. `scratch` holds B × C.
 *
 * Rows go four at a time through both products, so each weight (and each gradient entry) is read
 * once per four images: at 1000 × 512 the weights are 4 MB of float64, and the one-row loop spent
 * its time moving them (35–43 s an epoch on 10,000 × 512 features against 8.6–11 s blocked).
 */
export function batchGradient(
  params: Float64Array,
  grad: Float64Array,
  x: Float32Array,
  labels: Int32Array,
  rows: Int32Array,
  C: number,
  D: number,
  scratch: Float64Array,
): number {
  batchLogits(params, x, rows, C, D, scratch);
  const loss = logitGradientInPlace(scratch, labels, rows, C);
  accumulateGradient(grad, scratch, x, rows, C, D);
  return loss;
}

/** The batch's logits, [B, C], into `scratch`. */
function batchLogits(params: Float64Array, x: Float32Array, rows: Int32Array, C: number, D: number, scratch: Float64Array): void {
  const B = rows.length;
  const biasAt = C * D;
  const full = B - (B % 4);
  for (let r = 0; r < full; r += 4) {
    const o0 = rows[r]! * D,
      o1 = rows[r + 1]! * D,
      o2 = rows[r + 2]! * D,
      o3 = rows[r + 3]! * D;
    for (let c = 0; c < C; c++) {
      const wo = c * D;
      const b = params[biasAt + c]!;
      let s0 = b,
        s1 = b,
        s2 = b,
        s3 = b;
      for (let d = 0; d < D; d++) {
        const w = params[wo + d]!;
        s0 += w * x[o0 + d]!;
        s1 += w * x[o1 + d]!;
        s2 += w * x[o2 + d]!;
        s3 += w * x[o3 + d]!;
      }
      scratch[r * C + c] = s0;
      scratch[(r + 1) * C + c] = s1;
      scratch[(r + 2) * C + c] = s2;
      scratch[(r + 3) * C + c] = s3;
    }
  }
  for (let r = full; r < B; r++) {
    const o = rows[r]! * D;
    for (let c = 0; c < C; c++) {
      let s = params[biasAt + c]!;
      const wo = c * D;
      for (let d = 0; d < D; d++) s += params[wo + d]! * x[o + d]!;
      scratch[r * C + c] = s;
    }
  }
}

/** The batch's mean loss; the logits in `scratch` are replaced by their gradient. */
function logitGradientInPlace(scratch: Float64Array, labels: Int32Array, rows: Int32Array, C: number): number {
  const B = rows.length;
  let loss = 0;
  for (let r = 0; r < B; r++) {
    const at = r * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, scratch[at + c]!);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += scratch[at + c] = Math.exp(scratch[at + c]! - max);
    const y = labels[rows[r]!]!;
    // log-softmax from the shifted logits: exp never overflows, log never sees 0.
    loss += Math.log(sum) - Math.log(scratch[at + y]!);
    for (let c = 0; c < C; c++) scratch[at + c] = (scratch[at + c]! / sum - (c === y ? 1 : 0)) / B;
  }
  return loss / B;
}

/** ∂L/∂b and ∂L/∂W = Gᵀ X into `grad` (cleared first), from the logits' gradient in `scratch`. */
function accumulateGradient(grad: Float64Array, scratch: Float64Array, x: Float32Array, rows: Int32Array, C: number, D: number): void {
  grad.fill(0);
  const B = rows.length;
  const biasAt = C * D;
  const full = B - (B % 4);
  for (let r = 0; r < B; r++) for (let c = 0; c < C; c++) grad[biasAt + c]! += scratch[r * C + c]!;
  for (let c = 0; c < C; c++) {
    const wo = c * D;
    for (let r = 0; r < full; r += 4) {
      const o0 = rows[r]! * D,
        o1 = rows[r + 1]! * D,
        o2 = rows[r + 2]! * D,
        o3 = rows[r + 3]! * D;
      const g0 = scratch[r * C + c]!,
        g1 = scratch[(r + 1) * C + c]!,
        g2 = scratch[(r + 2) * C + c]!,
        g3 = scratch[(r + 3) * C + c]!;
      for (let d = 0; d < D; d++) grad[wo + d]! += g0 * x[o0 + d]! + g1 * x[o1 + d]! + g2 * x[o2 + d]! + g3 * x[o3 + d]!;
    }
    for (let r = full; r < B; r++) {
      const o = rows[r]! * D;
      const g = scratch[r * C + c]!;
      for (let d = 0; d < D; d++) grad[wo + d]! += g * x[o + d]!;
    }
  }
}

/** Top-1 accuracy of the head in `params` (weight then bias) on labelled features. */
function accuracy(params: Float64Array, C: number, D: number, data: LabelledFeatures): number {
  const { features: f, labels } = data;
  let correct = 0;
  for (let i = 0; i < f.count; i++) {
    let best = -Infinity;
    let arg = -1;
    for (let c = 0; c < C; c++) {
      let s = params[C * D + c]!;
      for (let d = 0; d < D; d++) s += params[c * D + d]! * f.data[i * D + d]!;
      // Ties go to the lower class, as argmax does in numpy and in the evaluator.
      if (s > best) {
        best = s;
        arg = c;
      }
    }
    if (arg === labels[i]) correct++;
  }
  return correct / f.count;
}

/** Top-1 accuracy of a head on labelled features (the "before" and "after" numbers). */
export function headAccuracy(head: LinearHead, data: LabelledFeatures): number {
  checkLabelled(data, head.classes, head.dim, 'the images');
  const params = new Float64Array(head.classes * head.dim + head.classes);
  params.set(head.weight);
  params.set(head.bias, head.classes * head.dim);
  return accuracy(params, head.classes, head.dim, data);
}
