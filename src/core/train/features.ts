// The features a linear probe trains on: the zero-shot image tower's embeddings, computed once.
import type { Manifest } from '../bundle/manifest';
import type { BlendPoint, NamedTensor } from '../runtime/engine';
import { normalizeHWC } from '../eval/sprites';
import { batchSize } from '../eval/evaluator';
import { TrainingError, type Features } from './data';

/** What runs the image model: a BlendEngine (of any pair or soup whose first member is the zero-shot model). */
export interface ImageModelRunner {
  run(point: BlendPoint, input: NamedTensor): Promise<Record<string, NamedTensor>>;
  readonly info: { readonly members: number };
}

export interface FeatureOptions {
  preprocess: Manifest['preprocess'];
  /** The graph output holding the L2-normalised embedding (manifest io.embedding). */
  embedding: string;
  /** Images per session.run (a batch, a memory bound); the evaluator's batch for this size when omitted. */
  batch?: number;
}

/**
 * Embeddings of `count` images (packed RGB, HWC, [count, size, size, 3], as packRgb and the eval
 * sets hold them) through the zero-shot weights: α = 0 (weights [1, 0, …] in a soup), so the
 * fine-tuned members in the same engine change nothing. In batches, reporting the images done after
 * each; an aborted `signal` stops it between batches with the signal's reason.
 */
export async function zeroShotFeatures(
  engine: ImageModelRunner,
  pixels: Uint8Array,
  count: number,
  opts: FeatureOptions,
  onProgress?: (p: { done: number; total: number }) => unknown,
  signal?: AbortSignal,
): Promise<Features> {
  const size = opts.preprocess.size;
  const per = size * size * 3;
  if (!(Number.isInteger(count) && count >= 1))
    throw new TrainingError(`there are no images to compute features for (count ${count}); add images first`);
  if (pixels.length !== count * per)
    throw new TrainingError(
      `${count} images of ${size}×${size} RGB need ${count * per} bytes but ${pixels.length} were given; resize the images to the model's ${size}px first`,
    );
  const batch = Math.max(1, Math.floor(opts.batch ?? batchSize(size)));
  const input = new Float32Array(Math.min(batch, count) * 3 * size * size);
  // A bare α for a pair: the same blend key as the evaluation's α = 0, so no re-blend between them.
  const zeroShot: BlendPoint =
    engine.info.members === 2 ? 0 : { weights: Array.from({ length: engine.info.members }, (_, k) => (k === 0 ? 1 : 0)) };
  let data: Float32Array | null = null;
  let dim = 0;
  signal?.throwIfAborted();
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const x = normalizeHWC(
      pixels.subarray(start * per, (start + n) * per),
      n,
      size,
      opts.preprocess,
      input.subarray(0, n * 3 * size * size),
    );
    const out = (await engine.run(zeroShot, { data: x, dims: [n, 3, size, size] }))[opts.embedding];
    if (!out || out.dims.length !== 2 || out.dims[0] !== n || (data && out.dims[1] !== dim)) {
      throw new TrainingError(
        `the image model's output '${opts.embedding}' is ${out ? `[${out.dims.join(', ')}]` : 'missing'} for ${n} images, not [${n}, D]; check io.embedding in the manifest`,
      );
    }
    if (!data) {
      dim = out.dims[1]!;
      data = new Float32Array(count * dim);
    }
    data.set(out.data.subarray(0, n * dim), start * dim);
    await onProgress?.({ done: start + n, total: count });
    signal?.throwIfAborted();
  }
  return { data: data!, count, dim };
}
