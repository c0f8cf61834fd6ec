// Per-layer α and extrapolation through the real engine on onnxruntime-node: a per-layer setting
// with every group at α is the uniform α blend bit for bit (logits and exported weights), its
// results live under their own key, and an α past 1 blends θ₀ + α·(θ₁ − θ₀).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { groupCoefficients } from '../../src/core/blend/groups';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { decodeSprite, normalizeBatch } from '../../src/core/eval/sprites';
import { predict } from '../../src/core/eval/frontier';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { buildTestModel, blendWeights, randomWeights, perturb } from '../support/testPair';

const pairDir = 'public/pairs/shapes';

describe('a per-layer setting on the bundled pair (zero-shot + e2e-seed0)', () => {
  const zs = new Uint8Array(readFileSync(`${pairDir}/zeroshot.onnx`));
  const ft = new Uint8Array(readFileSync(`${pairDir}/members/e2e-seed0.onnx`));
  const n = 8;
  const data = Float32Array.from({ length: n * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));

  it('with every group at α gives the logits and the exported model of the uniform α, bit for bit', async () => {
    const engine = await BlendEngine.create(zs, ft, { ort: ortNode, backend: 'cpu', inputName: 'image' });
    try {
      const groups = engine.info.layerGroups;
      expect(groups.length).toBe(8);
      for (const alpha of [0, 0.3, 1, 1.5]) {
        const uniform = alpha >= 0 && alpha <= 1 ? alpha : { alpha };
        const perLayer = groupCoefficients(
          groups,
          groups.map(() => alpha),
        );
        const a = (await engine.run(uniform, { data, dims: [n, 3, 32, 32] })).logits!.data;
        const b = (await engine.run(perLayer, { data, dims: [n, 3, 32, 32] })).logits!.data;
        expect(b, `α=${alpha}`).toEqual(a);
        expect(await engine.exportOnnx(perLayer), `α=${alpha}`).toEqual(await engine.exportOnnx(uniform));
      }
      // Not the same run twice: one group set apart changes the logits.
      const headOnly = groupCoefficients(
        groups,
        groups.map((_, i) => (i === groups.length - 1 ? 1 : 0)),
      );
      const h = (await engine.run(headOnly, { data, dims: [n, 3, 32, 32] })).logits!.data;
      const z = (await engine.run(0, { data, dims: [n, 3, 32, 32] })).logits!.data;
      expect(h).not.toEqual(z);
    } finally {
      await engine.dispose();
    }
  });
});

describe('Explorer: per-layer settings and extrapolated α', () => {
  it('keeps a setting under its own key, and all groups at α score exactly as the frontier at α', async () => {
    const { files } = makeTestBundle();
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(memorySource(files)));
    const pair = explorer.current!;
    expect(pair.layers.length).toBeGreaterThan(1);
    await explorer.evaluate([0.4], 0.4, () => {});
    const uniform = explorer.snapshot()!.points['0.4']!;
    const updates: { settingKey: string; point: Record<string, { correct: number; n: number }> }[] = [];
    const setting = pair.layers.map(() => 0.4);
    expect(await explorer.evaluateLayers([setting], 100, (u) => updates.push(u))).toBe('done');
    const last = updates.at(-1)!;
    expect(last.settingKey).not.toBe(pair.resultsKey);
    expect(last.settingKey.startsWith(pair.resultsKey)).toBe(true);
    for (const [set, acc] of Object.entries(last.point)) {
      expect(acc.n, set).toBe(Math.min(100, uniform[set]!.total));
      // The first 100 images of a set, counted from the frontier's per-image bitset.
      const bits = uniform[set]!.images!.correct;
      let right = 0;
      for (let i = 0; i < acc.n; i++) if (bits[i >> 3]! & (1 << (i & 7))) right++;
      expect(acc.correct, set).toBe(right);
    }
    await expect(explorer.evaluateLayers([[0.4]], 100, () => {})).rejects.toThrow(/one α for each of the \d+ layer groups, got 1/);
    await explorer.dispose();
  });

  it('evaluates α = 1.5 as θ₀ + 1.5·(θ₁ − θ₀), and α = 1 stays the fine-tuned model', async () => {
    const { files, manifest } = makeTestBundle();
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(memorySource(files)));
    expect(await explorer.evaluate([1, 1.5], 1.5, () => {})).toBe('done');
    const points = explorer.snapshot()!.points;
    const w0 = randomWeights(1);
    const w1 = perturb(w0, 2);
    const session = await ort.InferenceSession.create(buildTestModel(blendWeights(w0, w1, 1.5)));
    for (const spec of manifest.eval!.sets) {
      const set = decodeSprite(spec, files.get(spec.sprite.path)!);
      const input = normalizeBatch(set, 0, set.count, manifest.preprocess);
      const logits = (await session.run({ image: new ort.Tensor('float32', input, [set.count, 3, 8, 8]) })).logits!.data as Float32Array;
      let correct = 0;
      for (let i = 0; i < set.count; i++) if (predict(logits, i, 5, set.classSubset) === set.labels[i]) correct++;
      // Within one image where a near-tie flips between two ORT graphs (as the frontier test allows).
      expect(Math.abs(points['1.5']![spec.id]!.correct - correct), spec.id).toBeLessThanOrEqual(1);
    }
    await session.release();
    await explorer.dispose();
  });
});
