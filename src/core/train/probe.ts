// A linear probe from images, end to end: the feature pass through the zero-shot tower, a seeded
// held-out split, AdamW on the head from the zero-shot head. What the Worker runs as a training job
// and the bench times; the pieces are features.ts, data.ts and linearProbe.ts.
import { zeroShotFeatures, type FeatureOptions, type ImageModelRunner } from './features';
import { selectRows, stratifiedSplit } from './data';
import { trainLinearProbe, type EpochReport, type LinearProbeOptions } from './linearProbe';
import type { LinearHead } from './head';

export interface ProbeImages {
  /** Packed RGB at the model's size, HWC ([count, size, size, 3]). */
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
}

export interface ProbeSettings {
  epochs: number;
  seed: number;
  /** The share of each class held out for the validation accuracy. */
  validationFraction: number;
}

/**
 * tests/node/linear-probe.node.test.ts's recipe for a few hundred images: the pipeline's lr, weight
 * decay and warmup, over batches of 32 (a folder rarely fills the pipeline's batches of 128).
 */
export const FOLDER_RECIPE: Omit<LinearProbeOptions, 'seed' | 'validation' | 'epochs'> = {
  batchSize: 32,
  lr: 1e-3,
  weightDecay: 0.1,
  warmup: 20,
};

export const DEFAULT_PROBE: ProbeSettings = { epochs: 30, seed: 0, validationFraction: 0.25 };

export type ProbeProgress =
  | { phase: 'features'; done: number; total: number }
  | { phase: 'epoch'; epoch: number; epochs: number; loss: number; validation: { accuracy: number; n: number } | null };

export interface ProbeOutcome {
  head: LinearHead;
  trainCount: number;
  /** Held-out accuracy before (the zero-shot head) and after training; null when no image could be held out. */
  validation: { initial: number; accuracy: number; n: number } | null;
}

export async function runLinearProbe(
  engine: ImageModelRunner,
  images: ProbeImages,
  zeroShotHead: LinearHead,
  features: FeatureOptions,
  settings: ProbeSettings,
  onProgress: (p: ProbeProgress) => unknown,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const f = await zeroShotFeatures(engine, images.pixels, images.count, features, (p) => onProgress({ phase: 'features', ...p }), signal);
  const all = { features: f, labels: images.labels };
  const split = stratifiedSplit(images.labels, settings.validationFraction, settings.seed);
  const train = selectRows(all, split.train);
  const validation = split.validation.length > 0 ? selectRows(all, split.validation) : undefined;
  const n = split.validation.length;
  const options: LinearProbeOptions = {
    ...FOLDER_RECIPE,
    epochs: settings.epochs,
    seed: settings.seed,
    ...(validation ? { validation } : {}),
  };
  const onEpoch = (e: EpochReport) => {
    const held = e.validationAccuracy === null ? null : { accuracy: e.validationAccuracy, n };
    return onProgress({ phase: 'epoch', epoch: e.epoch, epochs: e.epochs, loss: e.loss, validation: held });
  };
  const r = await trainLinearProbe(train.features, train.labels, zeroShotHead, options, onEpoch, signal);
  const initial = r.initialValidationAccuracy;
  const final = r.epochs.at(-1)?.validationAccuracy ?? null;
  return {
    head: r.head,
    trainCount: train.features.count,
    validation: initial !== null && final !== null ? { initial, accuracy: final, n } : null,
  };
}
