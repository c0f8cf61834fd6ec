import { describe, it, expect } from 'vitest';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { ortNode } from '../../src/core/runtime/ort-node';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { decodeSprite, normalizeBatch } from '../../src/core/eval/sprites';
import * as ort from 'onnxruntime-node';
import { buildTestModel, blendWeights, randomWeights, perturb } from '../support/testPair';
import { predict } from '../../src/core/eval/frontier';

const GRID = [0, 0.5, 1];

describe('Explorer in Node', () => {
  it('evaluates every set at every α, and the counts equal an independent evaluation of a blended model', async () => {
    const { files, manifest } = makeTestBundle();
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(memorySource(files)));
    const updates: number[] = [];
    expect(await explorer.evaluate(GRID, 0.3, (u) => updates.push(u.alpha))).toBe('done');
    // The current α comes first.
    expect(updates[0]).toBe(0.3);
    const snap = explorer.snapshot()!;
    const w0 = randomWeights(1);
    const w1 = perturb(w0, 2);
    for (const alpha of [...GRID, 0.3]) {
      const session = await ort.InferenceSession.create(buildTestModel(blendWeights(w0, w1, alpha)));
      for (const spec of manifest.eval!.sets) {
        const set = decodeSprite(spec, files.get(spec.sprite.path)!);
        const input = normalizeBatch(set, 0, set.count, manifest.preprocess);
        const out = await session.run({ image: new ort.Tensor('float32', input, [set.count, 3, 8, 8]) });
        const logits = out.logits!.data as Float32Array;
        let correct = 0;
        for (let i = 0; i < set.count; i++) if (predict(logits, i, 5, set.classSubset) === set.labels[i]) correct++;
        // Exact counts, or within one image where a near-tie flips between two ORT graphs.
        expect(Math.abs(snap.points[String(alpha)]![spec.id]!.correct - correct), `α=${alpha} ${spec.id}`).toBeLessThanOrEqual(1);
        expect(snap.points[String(alpha)]![spec.id]!.n).toBe(set.count);
      }
      await session.release();
    }
    await explorer.dispose();
  });

  it('keeps the loaded pair when a mismatched pair fails to load', async () => {
    const good = makeTestBundle();
    const bad = makeTestBundle({ seed: 3, fineTuned: { shapes: { 'head.weight': [16, 6], 'head.bias': [6] } } });
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(memorySource(good.files)));
    const before = explorer.current!.bundleHash;
    await expect(explorer.loadPair(await loadBundle(memorySource(bad.files)))).rejects.toThrow(
      /head\.weight.*float32\[16, 5\].*float32\[16, 6\]/,
    );
    expect(explorer.current!.bundleHash).toBe(before);
    expect(await explorer.evaluate([0], null, () => undefined)).toBe('done');
    await explorer.dispose();
  });
});
