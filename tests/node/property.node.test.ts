// The numbers stay right: over random small pairs and random α, the engine's logits on
// onnxruntime-node equal those of a model whose weights were blended independently (float64,
// rounded once) within 1e-4. The wasm and WebGPU halves are in tests/browser/reliability.browser.test.ts.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { ResourceLedger } from '../../src/core/runtime/ledger';
import { buildTestModel, randomWeights, perturb, blendWeights, randomImages, maxAbsDiff, IMAGE_DIMS } from '../support/testPair';

describe('blend property (onnxruntime-node)', () => {
  it('θ(α) logits equal an independent blend within 1e-4 over random pairs and α', async () => {
    const ledger = new ResourceLedger();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0.01, max: 2, noNaN: true }),
        fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
        fc.integer({ min: 1, max: 9 }),
        async (seed, perturbSeed, scale, alpha, batch) => {
          const w0 = randomWeights(seed);
          const w1 = perturb(w0, perturbSeed, scale);
          const images = randomImages(batch, seed ^ perturbSeed);
          const dims = [batch, ...IMAGE_DIMS];
          const engine = await BlendEngine.create(buildTestModel(w0), buildTestModel(w1), { ort: ortNode, backend: 'cpu', ledger });
          try {
            const got = (await engine.run(alpha, { data: images, dims })).logits!.data;
            const ref = await ort.InferenceSession.create(buildTestModel(blendWeights(w0, w1, alpha)));
            const want = (await ref.run({ image: new ort.Tensor('float32', images, dims) })).logits!.data as Float32Array;
            await ref.release();
            expect(maxAbsDiff(got, want), `seed ${seed}/${perturbSeed} scale ${scale} α ${alpha}`).toBeLessThanOrEqual(1e-4);
          } finally {
            await engine.dispose();
          }
        },
      ),
      { numRuns: 30 },
    );
    expect(ledger.count('blend-session')).toBe(0);
  });
});
