// End-to-end fine-tuning from the user's images: the same seeded held-out split as the linear probe
// (data.ts stratifiedSplit), every weight trained by finetune.ts, from the zero-shot head or (LP-FT,
// the bundled members' recipe) from a linear probe's head fitted first (lpft.ts), the result written
// into the zero-shot graph. What the Worker runs as an end-to-end training job.
import { stratifiedSplit } from './data';
import {
  fineTune,
  fineTunedModel,
  PIPELINE_FINETUNE,
  type FineTuneOptions,
  type HeldOutAccuracyPass,
  type ImageSet,
  type Normalisation,
  type TrainingImages,
} from './finetune';
import { writeHead, type LinearHead } from './head';
import { probeStage, type FeaturePass, type FineTuneInit, type ProbeStageProgress } from './lpft';
import type { ProbeImages } from './probe';
import { worldTrainingData, type WorldTrainingSpec } from '../world/source';

export interface EndToEndSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  /** The share of each class held out for the validation accuracy. */
  validationFraction: number;
  /** The head stage 2 starts from: the zero-shot head when absent, or a linear probe fitted first (LP-FT). */
  init?: FineTuneInit;
}

/**
 * The pipeline's recipe (tools/build.py's learning rate, tools/train.py's batch), but 2 epochs: a folder of a few hundred images trains an
 * epoch in seconds on this page's wasm runtime, the pipeline's 5 over 5,000 images would take minutes.
 */
export const PAGE_FINETUNE: Required<Omit<EndToEndSettings, 'seed' | 'validationFraction'>> = {
  epochs: 2,
  lr: PIPELINE_FINETUNE.lr,
  batchSize: PIPELINE_FINETUNE.batchSize,
  // A folder's own images, plain end to end; the labs (state/finetunePresets.ts RECIPE) run LP-FT as the bundled members were.
  init: 'zero-shot',
};

export interface EndToEndProgress {
  step: number;
  steps: number;
  epoch: number;
  epochs: number;
  loss: number;
  /** Held-out accuracy at an epoch's end; null on other steps and when nothing was held out. */
  validation: { accuracy: number; n: number } | null;
}

/**
 * Generated images only, `done` of `total` rendered: the held-out images ('held-out', before anything trains), or a chunk of
 * the training images ('training-render', up to 1,024, when LP-FT's feature pass or a step first needs it).
 */
export interface WorldRender {
  phase: 'held-out' | 'training-render';
  done: number;
  total: number;
}

/**
 * A step of the fine-tune, (LP-FT) a feature batch or an epoch of the probe before it, a render of generated images, or a pass
 * over the held-out images: their features (LP-FT) or the tower's accuracy on them (before the first step, except after LP-FT's
 * probe, which measured the zero-shot head on them, and at each epoch's end).
 */
export type EndToEndEvent = EndToEndProgress | ProbeStageProgress | WorldRender | HeldOutAccuracyPass;

export interface EndToEndOutcome {
  /** The zero-shot graph with every fine-tuned weight in its initializers. */
  model: Uint8Array;
  trainCount: number;
  /** Held-out accuracy of the zero-shot model (`initial`) and of the fine-tuned one; null when nothing was held out. */
  validation: { initial: number; accuracy: number; n: number } | null;
  /** LP-FT: the head stage 1 fitted, the one stage 2 started from; null for a fine-tune from the zero-shot head. */
  probeHead: LinearHead | null;
}

/** Images `rows` of `images`, as a set of their own. */
function selectImages(images: ProbeImages, rows: Int32Array): ImageSet {
  const per = images.pixels.length / Math.max(1, images.count);
  const pixels = new Uint8Array(rows.length * per);
  rows.forEach((r, i) => pixels.set(images.pixels.subarray(r * per, (r + 1) * per), i * per));
  return { pixels, labels: Int32Array.from(rows, (r) => images.labels[r]!), count: rows.length };
}

/** The folder's seeded stratified split, or the world's generated images and its own held-out draw. */
function trainingSplit(
  images: ProbeImages | WorldTrainingSpec,
  settings: EndToEndSettings,
  onRender: (p: WorldRender) => unknown,
): { train: ImageSet | TrainingImages; held?: ImageSet } {
  if ('kind' in images) {
    // A render runs in one go: its events are sent, not awaited, so a pause lands at the next step; a cancel's
    // rejection of that answer is dropped here, and the run stops at its next look at the signal.
    const tell = (phase: WorldRender['phase']) => (p: { done: number; total: number }) =>
      void Promise.resolve(onRender({ phase, ...p })).catch(() => undefined);
    const world = worldTrainingData(images, { heldOut: tell('held-out'), training: tell('training-render') });
    return { train: world.train, held: world.validation };
  }
  const split = stratifiedSplit(images.labels, settings.validationFraction, settings.seed);
  const held = split.validation.length > 0 ? selectImages(images, split.validation) : undefined;
  return { train: selectImages(images, split.train), ...(held ? { held } : {}) };
}

/**
 * The fine-tune's options. After LP-FT (`zeroShotAccuracy` given) it would measure the probe's head before its first step,
 * but the "before" shown is the zero-shot head's, which the probe measured on the same held-out images: the fine-tune takes
 * that number and skips its own pass.
 */
function stageTwoOptions(settings: EndToEndSettings, held: ImageSet | undefined, zeroShotAccuracy: number | undefined): FineTuneOptions {
  const { epochs, lr, batchSize, seed } = settings;
  return {
    ...PIPELINE_FINETUNE,
    ...{ epochs, lr, batchSize, seed },
    ...(held ? { validation: held } : {}),
    ...(held && zeroShotAccuracy !== undefined ? { initialAccuracy: zeroShotAccuracy } : {}),
  };
}

/**
 * Fine-tunes every weight of `zeroShot` on `images` (a folder's, or generated by the world's
 * renderer as the batches need them); a cancelled run (`signal`) throws and returns nothing. LP-FT
 * (`settings.init` 'linear-probe') first fits the head on features `pass` computes, then starts from it.
 */
export async function runEndToEnd(
  zeroShot: Uint8Array,
  images: ProbeImages | WorldTrainingSpec,
  norm: Normalisation,
  settings: EndToEndSettings,
  onProgress: (p: EndToEndEvent) => unknown,
  signal?: AbortSignal,
  pass?: FeaturePass,
): Promise<EndToEndOutcome> {
  const { train, held } = trainingSplit(images, settings, onProgress);
  const n = held?.count ?? 0;
  const { epochs } = settings;
  const probe =
    settings.init === 'linear-probe'
      ? await probeStage(zeroShot, pass, { train, ...(held ? { held } : {}) }, settings, onProgress, signal)
      : null;
  const start = probe ? writeHead(zeroShot, probe.head) : zeroShot;
  const r = await fineTune(
    start,
    train,
    norm,
    stageTwoOptions(settings, held, probe?.initialValidationAccuracy ?? undefined),
    (p) => {
      if ('phase' in p) return onProgress(p);
      const validation = p.validationAccuracy === null ? null : { accuracy: p.validationAccuracy, n };
      return onProgress({ step: p.step, steps: p.totalSteps, epoch: p.epoch, epochs, loss: p.loss, validation });
    },
    () => signal?.aborted ?? false,
  );
  const validation = r.validation ? { ...r.validation, n } : null;
  return { model: fineTunedModel(zeroShot, r.weights), trainCount: train.count, validation, probeHead: probe?.head ?? null };
}
