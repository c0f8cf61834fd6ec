// End-to-end fine-tuning of the bundled image tower (tools/train.py `finetune`, the same recipe):
// every parameter trained from the zero-shot checkpoint with softmax cross-entropy, AdamW with
// weight decay on conv and linear weights only (param_groups), a cosine schedule with linear
// warmup, and a random horizontal flip of each image. The result is the checkpoint's initializers
// with new values, same names and shapes, written back into the same graph.
import { parseModel, serializeModel } from '../onnx/model';
import { replaceInitializers } from '../onnx/initializers';
import { yieldToEventLoop } from '../util/yield';
import { TrainingError, seededRandom, shuffleInPlace } from './data';
import { AdamW, cosineLr, type TrainingSchedule } from './optimizer';
import { Tower, towerParams, TOWER_INPUT, type TowerParam } from './tower';
import type { TowerRuntime } from './gemm';

const PIXELS = 3 * TOWER_INPUT * TOWER_INPUT;
const MICRO_BATCH = 32;

/** Weight decay reaches conv, proj and head weights only (tools/train.py param_groups). */
export interface FineTuneOptions extends TrainingSchedule {
  /** Flip each image left-right with probability ½ (tools/train.py augment, flip=True). */
  flip: boolean;
  /** Held-out images whose accuracy is measured before training and at each epoch's end. */
  validation?: ImageSet;
  /**
   * The zero-shot model's accuracy on `validation` when the caller has measured it already (LP-FT: the probe's first number,
   * the zero-shot head on the same images): the pass before the first step is skipped (about a second on the world's
   * held-out images) and this is the result's `initial`. Forward only either way: what trains is unchanged.
   */
  initialAccuracy?: number;
}

/**
 * tools/build.py's recipe for the bundled end-to-end members' second stage: tools/train.py
 * FinetuneConfig's defaults with the learning rate its CHOSEN variant sets ("lr=2e-4", chosen on
 * the validation draw; FinetuneConfig's own default is 1e-4). Its first stage, "kind=lpft", is the
 * linear probe in lpft.ts: this schedule then starts from the probe's head.
 */
export const PIPELINE_FINETUNE: Omit<FineTuneOptions, 'seed'> = {
  epochs: 5,
  batchSize: 128,
  lr: 2e-4,
  weightDecay: 0.1,
  warmup: 20,
  flip: true,
};

/** 8-bit RGB images [count, 32, 32, 3] (the eval sprites' and folder decoder's layout) and labels. */
export interface ImageSet {
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** The manifest's preprocess (mean, std per channel) for the tower's input. */
export interface Normalisation {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * Training images that need not all be in memory: the labels up front, the pixels per batch. An
 * ImageSet is one; the world's renderer (core/world/source.ts) is another, rendering on demand.
 */
export interface TrainingImages {
  count: number;
  labels: Int32Array;
  /** The rows of one epoch, in the order its batches take them. */
  epochOrder(random: () => number): Int32Array;
  /** The images of `rows`, as a set and the rows of it to read (in `rows`' order). */
  batch(rows: Int32Array): { data: ImageSet; rows: Int32Array };
}

/** A set in memory as training images: a full shuffle per epoch, batches read in place. */
function inMemory(set: ImageSet): TrainingImages {
  return {
    count: set.count,
    labels: set.labels,
    epochOrder: (random) =>
      shuffleInPlace(
        Int32Array.from({ length: set.count }, (_, i) => i),
        random,
      ),
    batch: (rows) => ({ data: set, rows }),
  };
}

export interface FineTuneProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  /** This step's mean loss over its batch (before its update). */
  loss: number;
  /** Share of this step's batch the tower got right (before its update). */
  batchAccuracy: number;
  /** Held-out accuracy after an epoch's last step; null on other steps and without validation images. */
  validationAccuracy: number | null;
}

export interface FineTuneResult {
  /** Every trained tensor by its initializer name, float32, in the checkpoint's shapes. */
  weights: Map<string, Float32Array>;
  steps: number;
  losses: number[];
  /** Held-out accuracy of the zero-shot model and after the last epoch; null without validation images. */
  validation: { initial: number; accuracy: number } | null;
}

/** One AdamW per decay group over float64 master weights (see optimizer.ts for why float64). */
class GroupedAdamW {
  private readonly groups: { params: TowerParam[]; master: Float64Array; grad: Float64Array; opt: AdamW }[];

  constructor(params: TowerParam[], weightDecay: number) {
    this.groups = [true, false].map((decay) => {
      const ps = params.filter((p) => p.decay === decay);
      const size = ps.reduce((s, p) => s + p.value.length, 0);
      const master = new Float64Array(size);
      let at = 0;
      for (const p of ps) {
        master.set(p.value, at);
        at += p.value.length;
      }
      return { params: ps, master, grad: new Float64Array(size), opt: new AdamW(size, { weightDecay: decay ? weightDecay : 0 }) };
    });
  }

  /** Adds `scale` × each parameter's grad to the step's gradient (a micro-batch's share of the batch). */
  accumulate(scale: number): void {
    for (const g of this.groups) {
      let at = 0;
      for (const p of g.params) {
        const grad = p.grad;
        for (let i = 0; i < grad.length; i++) g.grad[at + i] = g.grad[at + i]! + scale * grad[i]!;
        at += grad.length;
      }
    }
  }

  /** Steps on the accumulated gradient, clears it, and writes the new weights into each parameter's value. */
  step(lr: number): void {
    for (const g of this.groups) {
      g.opt.step(g.master, g.grad, lr);
      g.grad.fill(0);
      let at = 0;
      for (const p of g.params) {
        p.value.set(g.master.subarray(at, at + p.value.length));
        at += p.value.length;
      }
    }
  }
}

function checkImages(data: ImageSet | TrainingImages, classes: number): void {
  const per = TOWER_INPUT * TOWER_INPUT * 3;
  if (data.count < 1) throw new TrainingError('there is nothing to fine-tune on (0 images); add images first');
  if ('pixels' in data && data.pixels.length !== data.count * per)
    throw new TrainingError(`${data.count} images of 32×32 RGB need ${data.count * per} bytes, got ${data.pixels.length}`);
  if (data.labels.length !== data.count)
    throw new TrainingError(`${data.count} images but ${data.labels.length} labels; give one label per image`);
  data.labels.forEach((y) => {
    if (!(y >= 0 && y < classes)) throw new TrainingError(`label ${y} is not one of the head's ${classes} classes`);
  });
}

function checkOptions(o: FineTuneOptions): void {
  const bad = (what: string, v: number) => new TrainingError(`${what} must be a positive number, got ${v}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1)) throw bad('epochs (a whole number)', o.epochs);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw bad('the batch size (a whole number)', o.batchSize);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw bad('the learning rate', o.lr);
  if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay)))
    throw new TrainingError(`the weight decay must be ≥ 0, got ${o.weightDecay}`);
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new TrainingError(`warmup steps must be a whole number ≥ 0, got ${o.warmup}`);
  const a = o.initialAccuracy;
  if (a !== undefined && !(a >= 0 && a <= 1)) throw new TrainingError(`the accuracy before training must be between 0 and 1, got ${a}`);
}

/** The held-out accuracy pass under way: after `epoch` epochs (0: before the first step), `done` of `total` images. */
export interface HeldOutAccuracyPass {
  phase: 'held-out-accuracy';
  epoch: number;
  done: number;
  total: number;
}

/** What fineTune reports: a step, or its held-out accuracy pass (before the first step and at each epoch's end). */
export type FineTuneEvent = FineTuneProgress | HeldOutAccuracyPass;

const CANCELLED = 'fine-tuning was cancelled; the loaded members are unchanged';

/**
 * The tower's accuracy on `data` (no flips), forward only, in micro-batches. A pass over the world's
 * 1,000 held-out images takes seconds: it reports the images done from 0 and yields after each
 * micro-batch, so the page shows it and a pause or cancel lands in it. Forward only: what trains is unchanged.
 */
async function accuracy(
  tower: Tower,
  data: ImageSet,
  norm: Normalisation,
  report: { epoch: number; onProgress: (p: HeldOutAccuracyPass) => unknown; shouldStop: () => boolean },
): Promise<number> {
  const progress = (done: number) => report.onProgress({ phase: 'held-out-accuracy', epoch: report.epoch, done, total: data.count });
  await progress(0);
  let correct = 0;
  for (let m0 = 0; m0 < data.count; m0 += MICRO_BATCH) {
    if (report.shouldStop()) throw new TrainingError(CANCELLED);
    const m = Math.min(MICRO_BATCH, data.count - m0);
    const rows = Int32Array.from({ length: m }, (_, i) => m0 + i);
    const input = new Float32Array(m * PIXELS);
    batchInput(data, rows, norm, new Array<boolean>(m).fill(false), input);
    correct += tower.forward(input, data.labels.subarray(m0, m0 + m), m).correct;
    await progress(m0 + m);
    await yieldToEventLoop();
  }
  return correct / data.count;
}

/**
 * One step's forward and backward over images `rows` in micro-batches, each micro-batch's gradient
 * handed to `accumulate` with its share of the batch; the batch's mean loss and how many were right.
 */
function batchGradient(
  tower: Tower,
  b: { data: ImageSet; rows: Int32Array; norm: Normalisation; flips: boolean[] },
  { input, labels }: { input: Float32Array; labels: Int32Array },
  accumulate: (share: number) => void,
): { loss: number; correct: number } {
  const batch = b.rows.length;
  b.rows.forEach((r, i) => (labels[i] = b.data.labels[r]!));
  batchInput(b.data, b.rows, b.norm, b.flips, input);
  let loss = 0;
  let correct = 0;
  // Micro-batches: every op but the mean of the loss is per image (GroupNorm included), so the
  // batch's gradient is the micro-batches' gradients weighted by their share, exactly; and the
  // tower's buffers stay small enough for the cache (bench: 146 image-steps/s at 32, 114 at 64).
  for (let m0 = 0; m0 < batch; m0 += MICRO_BATCH) {
    const m = Math.min(MICRO_BATCH, batch - m0);
    const r = tower.forward(input.subarray(m0 * PIXELS, (m0 + m) * PIXELS), labels.subarray(m0, m0 + m), m);
    tower.backward();
    accumulate(m / batch);
    loss += (r.loss * m) / batch;
    correct += r.correct;
  }
  return { loss, correct };
}

/** The images `rows` as the tower's input: NCHW float32, (x/255 − mean)/std, flipped where `flips` says. */
export function batchInput(data: ImageSet, rows: Int32Array, norm: Normalisation, flips: boolean[], out: Float32Array): void {
  const S = TOWER_INPUT;
  const plane = S * S;
  rows.forEach((r, b) => {
    const src = r * plane * 3;
    for (let c = 0; c < 3; c++) {
      const scale = 1 / (255 * norm.std[c]!);
      const shift = norm.mean[c]! / norm.std[c]!;
      const dst = (b * 3 + c) * plane;
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          const sx = flips[b] ? S - 1 - x : x;
          out[dst + y * S + x] = data.pixels[src + (y * S + sx) * 3 + c]! * scale - shift;
        }
    }
  });
}

/** The tower from `zeroShot`, the training images and the held-out ones, checked against its head. */
function prepare(zeroShot: Uint8Array, images: ImageSet | TrainingImages, o: FineTuneOptions, runtime?: TowerRuntime) {
  checkOptions(o);
  const params = towerParams(zeroShot, runtime?.F);
  const tower = new Tower(params, runtime);
  checkImages(images, tower.classes);
  const held = o.validation && o.validation.count > 0 ? o.validation : null;
  if (held) checkImages(held, tower.classes);
  return { params, tower, data: 'pixels' in images ? inMemory(images) : images, held };
}

/**
 * Fine-tunes every tensor of `zeroShot` (ONNX bytes of the bundled image classifier) on `data`.
 * Steps per epoch: ⌊count / batch⌋ as tools/train.py (a last partial batch is dropped), at least 1.
 * `shouldStop` is asked between steps: a cancelled run throws TrainingError and changes nothing.
 * `onProgress` hears each step and each micro-batch of the held-out accuracy pass (before the first step unless
 * `o.initialAccuracy` is given, at each epoch's end); it is awaited: a listener that holds it (a paused job) holds the run there.
 */
export async function fineTune(
  zeroShot: Uint8Array,
  images: ImageSet | TrainingImages,
  norm: Normalisation,
  o: FineTuneOptions,
  onProgress: (p: FineTuneEvent) => unknown = () => {},
  shouldStop: () => boolean = () => false,
  runtime?: TowerRuntime,
): Promise<FineTuneResult> {
  const { params, tower, data, held } = prepare(zeroShot, images, o, runtime);
  const heldOut = async (epoch: number) => (held ? accuracy(tower, held, norm, { epoch, onProgress, shouldStop }) : null);
  const initial = held && o.initialAccuracy !== undefined ? o.initialAccuracy : await heldOut(0);
  let latest = initial;
  const batch = Math.min(o.batchSize, data.count);
  const perEpoch = Math.max(1, Math.floor(data.count / batch));
  const total = perEpoch * o.epochs;
  const random = seededRandom(o.seed);
  const buffers = { input: new Float32Array(batch * PIXELS), labels: new Int32Array(batch) };
  const losses: number[] = [];
  let opt: GroupedAdamW | null = null;
  for (let epoch = 0, step = 0; epoch < o.epochs; epoch++) {
    const order = data.epochOrder(random);
    for (let s = 0; s < perEpoch; s++, step++) {
      if (shouldStop()) throw new TrainingError(CANCELLED);
      const rows = order.subarray(s * batch, (s + 1) * batch);
      const flips = Array.from(rows, () => o.flip && random() < 0.5);
      // The optimizer is made after the first forward: the tower moves the parameters into its memory then.
      const { loss, correct } = batchGradient(tower, { ...data.batch(rows), norm, flips }, buffers, (share) =>
        (opt ??= new GroupedAdamW(params, o.weightDecay)).accumulate(share),
      );
      opt!.step(cosineLr(step, total, o.lr, o.warmup));
      losses.push(loss);
      const validationAccuracy = s === perEpoch - 1 ? await heldOut(epoch + 1) : null;
      latest = validationAccuracy ?? latest;
      await onProgress({ step: step + 1, totalSteps: total, epoch: epoch + 1, loss, batchAccuracy: correct / batch, validationAccuracy });
      await yieldToEventLoop();
    }
  }
  const validation = initial !== null && latest !== null ? { initial, accuracy: latest } : null;
  return { weights: new Map(params.map((p) => [p.name, Float32Array.from(p.value)])), steps: total, losses, validation };
}

/** `zeroShot` with the fine-tuned weights in its initializers: the same graph, a new checkpoint. */
export function fineTunedModel(zeroShot: Uint8Array, weights: ReadonlyMap<string, Float32Array>): Uint8Array {
  return serializeModel(replaceInitializers(parseModel(zeroShot, 'zero-shot model'), weights));
}
