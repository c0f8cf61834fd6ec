import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import {
  buildTestModel,
  randomWeights,
  perturb,
  blendWeights,
  randomImages,
  maxAbsDiff,
  roundToHalf,
  IMAGE_DIMS,
  type Weights,
} from '../support/testPair';

const ALPHAS = [0, 0.25, 0.5, 0.75, 1];
const BATCH = 6;

// θ(α) of an fp16 pair is the exact mix of its fp16 endpoints, computed in float32 (fp16 weights
// are widened once at load wherever the GPU cannot blend in f16), so the reference is an fp32 model.
async function referenceLogits(w: Weights, images: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(buildTestModel(w));
  const out = await session.run({ image: new ort.Tensor('float32', images, [BATCH, ...IMAGE_DIMS]) });
  await session.release();
  return out.logits!.data as Float32Array;
}

describe.each([
  { fp16: false, tol: 1e-4 },
  { fp16: true, tol: 1e-4 },
])('engine in Node (onnxruntime-node), fp16 weights: $fp16', ({ fp16, tol }) => {
  // An fp16 checkpoint holds fp16-rounded values: the reference blends exactly those.
  const round = (w: Weights) => (fp16 ? roundToHalf(w) : w);
  const w0 = round(randomWeights(1));
  const w1 = round(perturb(w0, 2));
  const images = randomImages(BATCH, 3);

  it(`logits at α ∈ {${ALPHAS.join(', ')}} equal an independently blended model within ${tol}`, async () => {
    const engine = await BlendEngine.create(buildTestModel(w0, { fp16 }), buildTestModel(w1, { fp16 }), { ort: ortNode, backend: 'cpu' });
    expect(engine.info.differing.map((d) => d.name).sort()).toEqual([
      'head.bias',
      'head.weight',
      'visual.conv.bias',
      'visual.conv.weight',
      'visual.proj.bias',
      'visual.proj.weight',
    ]);
    expect(engine.info.shared.map((d) => d.name)).toEqual(['logit_scale']);
    for (const alpha of ALPHAS) {
      const got = await engine.run(alpha, { data: images, dims: [BATCH, ...IMAGE_DIMS] });
      const want = await referenceLogits(blendWeights(w0, w1, alpha), images);
      expect(got.logits!.dims).toEqual([BATCH, 5]);
      expect(maxAbsDiff(got.logits!.data, want), `α=${alpha}`).toBeLessThanOrEqual(tol);
    }
    // The endpoints really differ, so the comparison above is not vacuous.
    const l0 = (await engine.run(0, { data: images, dims: [BATCH, ...IMAGE_DIMS] })).logits!.data;
    const l1 = (await engine.run(1, { data: images, dims: [BATCH, ...IMAGE_DIMS] })).logits!.data;
    expect(maxAbsDiff(l0, l1)).toBeGreaterThan(0.1);
    await engine.dispose();
  });

  it('exports θ(0.3) as a standalone .onnx that reproduces the engine', async () => {
    const engine = await BlendEngine.create(buildTestModel(w0, { fp16 }), buildTestModel(w1, { fp16 }), { ort: ortNode, backend: 'cpu' });
    const bytes = await engine.exportOnnx(0.3);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['image']);
    const exported = await session.run({ image: new ort.Tensor('float32', images, [BATCH, ...IMAGE_DIMS]) });
    const live = await engine.run(0.3, { data: images, dims: [BATCH, ...IMAGE_DIMS] });
    // Not bit-equal: ORT folds constants differently when weights are initializers, and an fp16
    // pair exports fp16 weights (θ(α) rounded to binary16) while the live path blends in float32.
    expect(maxAbsDiff(exported.logits!.data as Float32Array, live.logits!.data)).toBeLessThanOrEqual(fp16 ? 1e-2 : 1e-5);
    if (fp16) {
      const rounded = await ort.InferenceSession.create(buildTestModel(blendWeights(w0, w1, 0.3), { fp16: true }));
      const want = await rounded.run({ image: new ort.Tensor('float32', images, [BATCH, ...IMAGE_DIMS]) });
      expect(maxAbsDiff(exported.logits!.data as Float32Array, want.logits!.data as Float32Array)).toBeLessThanOrEqual(1e-5);
      await rounded.release();
    }
    await session.release();
    await engine.dispose();
  });
});
