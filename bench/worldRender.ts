// The world's renderer in the page (`npm run bench -- --only-world-render`): how many reference
// photos per second src/core/world renders (parameters drawn, then world.render's chunks of 1,024),
// and one fine-tuning epoch on generated images, the renderer included, beside the training alone.
import { NumpyRandom } from '../src/core/world/random';
import { sampleReference } from '../src/core/world/params';
import { render } from '../src/core/world/render';
import { worldTrainingData } from '../src/core/world/source';
import { fineTune, PIPELINE_FINETUNE } from '../src/core/train/finetune';
import { loadBundle, urlSource } from '../src/core/bundle/source';

/** n reference photos at `shortcut`, drawn and rendered on the page's thread; the first run warms the JIT. */
export function worldRender(o: { n: number; shortcut: number }) {
  const run = (seed: number) => {
    const t0 = performance.now();
    const p = sampleReference(new NumpyRandom([seed, 2]), o.n, { shortcut: o.shortcut, hard: 0.5 });
    const sampled = performance.now();
    const images = render(p);
    return { sampleMs: sampled - t0, renderMs: performance.now() - sampled, bytes: images.length };
  };
  run(1);
  const r = run(0);
  return { n: o.n, ...r, imagesPerS: o.n / ((r.sampleMs + r.renderMs) / 1000) };
}

/** One epoch of the pipeline's recipe on n generated images, rendered as the batches need them. */
export async function worldEpoch(o: { manifest: string; n: number }) {
  const bundle = await loadBundle(urlSource(o.manifest));
  const t0 = performance.now();
  const { train } = worldTrainingData({ kind: 'world', shortcut: 0.98, n: o.n, seed: 0 });
  const r = await fineTune(bundle.zeroShot, train, bundle.manifest.preprocess, { ...PIPELINE_FINETUNE, epochs: 1, seed: 0 });
  const ms = performance.now() - t0;
  return { n: o.n, steps: r.steps, ms, imageStepsPerS: (r.steps * PIPELINE_FINETUNE.batchSize) / (ms / 1000) };
}
