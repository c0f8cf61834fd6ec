// LP-FT's first stage (tools/build.py CHOSEN "kind=lpft", as tools.select runs it): before every
// weight is fine-tuned, the head is fitted on the frozen zero-shot features by the linear probe
// (tools/train.py `linear_probe` with the fine-tune's own config but lr 1e-3), and the fine-tune
// starts from that head instead of the zero-shot one. The same code as the page's linear probe:
// features.ts through the engine at α = 0, linearProbe.ts on them.
import { zeroShotFeatures, type FeatureOptions, type ImageModelRunner } from './features';
import { PIPELINE_RECIPE, trainLinearProbe, type LinearProbeResult } from './linearProbe';
import { readHead } from './head';
import { TrainingError, type Features } from './data';
import type { ImageSet, TrainingImages } from './finetune';
import { RENDER_CHUNK } from '../world/render';

/** What the head of an end-to-end fine-tune starts from: the zero-shot head, or a linear probe's (LP-FT). */
export type FineTuneInit = 'zero-shot' | 'linear-probe';

/** The feature pass's engine (running the zero-shot graph) and how it reads the images. */
export interface FeaturePass {
  engine: ImageModelRunner;
  options: FeatureOptions;
}

export type ProbeStageProgress =
  | { phase: 'features'; done: number; total: number }
  /** The held-out images' features, for the probe's held-out accuracy at each epoch's end. */
  | { phase: 'held-out-features'; done: number; total: number }
  | { phase: 'epoch'; epoch: number; epochs: number; loss: number; validation: { accuracy: number; n: number } | null };

export interface ProbeStageSettings {
  /** The fine-tune's epochs and batch: the pipeline's probe runs with the fine-tune's config (tools/build.py e2e). */
  epochs: number;
  batchSize: number;
  seed: number;
}

/** The pixels of `rows` of `data`, packed in that order. */
function gather(data: ImageSet, rows: Int32Array): Uint8Array {
  const per = data.pixels.length / Math.max(1, data.count);
  const out = new Uint8Array(rows.length * per);
  rows.forEach((r, i) => out.set(data.pixels.subarray(r * per, (r + 1) * per), i * per));
  return out;
}

/**
 * Zero-shot features of every training image in row order. Generated images are rendered a chunk
 * at a time (the renderer's chunk, so each is rendered once), so all of them are never in memory.
 */
export async function trainingFeatures(
  pass: FeaturePass,
  images: ImageSet | TrainingImages,
  onProgress: (p: { done: number; total: number }) => unknown,
  signal?: AbortSignal,
): Promise<Features> {
  const { engine, options } = pass;
  const total = images.count;
  if ('pixels' in images) return zeroShotFeatures(engine, images.pixels, total, options, onProgress, signal);
  let out: Features | null = null;
  for (let a = 0; a < total; a += RENDER_CHUNK) {
    const rows = Int32Array.from({ length: Math.min(RENDER_CHUNK, total - a) }, (_, i) => a + i);
    const b = images.batch(rows);
    const report = (p: { done: number }) => onProgress({ done: a + p.done, total });
    const f = await zeroShotFeatures(engine, gather(b.data, b.rows), rows.length, options, report, signal);
    out ??= { data: new Float32Array(total * f.dim), count: total, dim: f.dim };
    out.data.set(f.data, a * f.dim);
  }
  return out!;
}

/** The held-out images' zero-shot features (up to 1,000 images), reported from 0 so the page names this pass as it starts. */
async function heldOutFeatures(
  pass: FeaturePass,
  held: ImageSet,
  onProgress: (p: ProbeStageProgress) => unknown,
  signal?: AbortSignal,
): Promise<Features> {
  const report = (p: { done: number; total: number }) => onProgress({ phase: 'held-out-features', ...p });
  await report({ done: 0, total: held.count });
  return zeroShotFeatures(pass.engine, held.pixels, held.count, pass.options, report, signal);
}

/**
 * Stage 1 of LP-FT: the probe of the zero-shot head on the frozen features of `train`, with the
 * pipeline's probe recipe (PIPELINE_RECIPE's lr, weight decay and warmup) over the fine-tune's
 * epochs and batch, and the held-out images' accuracy after each epoch when there are any.
 */
export async function probeStage(
  zeroShot: Uint8Array,
  pass: FeaturePass | undefined,
  data: { train: ImageSet | TrainingImages; held?: ImageSet },
  settings: ProbeStageSettings,
  onProgress: (p: ProbeStageProgress) => unknown,
  signal?: AbortSignal,
): Promise<LinearProbeResult> {
  if (!pass) throw new TrainingError('LP-FT needs the zero-shot model for its feature pass; load a pair first');
  const features = await trainingFeatures(pass, data.train, (p) => onProgress({ phase: 'features', ...p }), signal);
  const held = data.held;
  const validation = held ? { features: await heldOutFeatures(pass, held, onProgress, signal), labels: held.labels } : undefined;
  const { epochs, batchSize, seed } = settings;
  const options = { ...PIPELINE_RECIPE, epochs, batchSize, seed, ...(validation ? { validation } : {}) };
  const n = held?.count ?? 0;
  return trainLinearProbe(
    features,
    data.train.labels,
    readHead(zeroShot),
    options,
    (e) => {
      const v = e.validationAccuracy === null ? null : { accuracy: e.validationAccuracy, n };
      return onProgress({ phase: 'epoch', epoch: e.epoch, epochs: e.epochs, loss: e.loss, validation: v });
    },
    signal,
  );
}
