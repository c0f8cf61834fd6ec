// End-to-end fine-tuning from the user's images: the same seeded held-out split as the linear probe
// (data.ts stratifiedSplit), every weight trained by finetune.ts, the result written into the
// zero-shot graph. What the Worker runs as an end-to-end training job.
import { stratifiedSplit } from './data';
import { fineTune, fineTunedModel, PIPELINE_FINETUNE, type ImageSet, type Normalisation } from './finetune';
import type { ProbeImages } from './probe';

export interface EndToEndSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  /** The share of each class held out for the validation accuracy. */
  validationFraction: number;
}

/**
 * The pipeline's recipe (tools/train.py), but 2 epochs: a folder of a few hundred images trains an
 * epoch in seconds on this page's wasm runtime, the pipeline's 5 over 5,000 images would take minutes.
 */
export const PAGE_FINETUNE: Omit<EndToEndSettings, 'seed' | 'validationFraction'> = {
  epochs: 2,
  lr: PIPELINE_FINETUNE.lr,
  batchSize: PIPELINE_FINETUNE.batchSize,
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

export interface EndToEndOutcome {
  /** The zero-shot graph with every fine-tuned weight in its initializers. */
  model: Uint8Array;
  trainCount: number;
  validation: { initial: number; accuracy: number; n: number } | null;
}

/** Images `rows` of `images`, as a set of their own. */
function selectImages(images: ProbeImages, rows: Int32Array): ImageSet {
  const per = images.pixels.length / Math.max(1, images.count);
  const pixels = new Uint8Array(rows.length * per);
  rows.forEach((r, i) => pixels.set(images.pixels.subarray(r * per, (r + 1) * per), i * per));
  return { pixels, labels: Int32Array.from(rows, (r) => images.labels[r]!), count: rows.length };
}

/** Fine-tunes every weight of `zeroShot` on `images`; a cancelled run (`signal`) throws and returns nothing. */
export async function runEndToEnd(
  zeroShot: Uint8Array,
  images: ProbeImages,
  norm: Normalisation,
  settings: EndToEndSettings,
  onProgress: (p: EndToEndProgress) => unknown,
  signal?: AbortSignal,
): Promise<EndToEndOutcome> {
  const split = stratifiedSplit(images.labels, settings.validationFraction, settings.seed);
  const train = selectImages(images, split.train);
  const held = split.validation.length > 0 ? selectImages(images, split.validation) : undefined;
  const n = split.validation.length;
  const { epochs, lr, batchSize, seed } = settings;
  const options = { ...PIPELINE_FINETUNE, epochs, lr, batchSize, seed, ...(held ? { validation: held } : {}) };
  const r = await fineTune(
    zeroShot,
    train,
    norm,
    options,
    (p) => {
      const validation = p.validationAccuracy === null ? null : { accuracy: p.validationAccuracy, n };
      return onProgress({ step: p.step, steps: p.totalSteps, epoch: p.epoch, epochs, loss: p.loss, validation });
    },
    () => signal?.aborted ?? false,
  );
  const validation = r.validation ? { ...r.validation, n } : null;
  return { model: fineTunedModel(zeroShot, r.weights), trainCount: train.count, validation };
}
