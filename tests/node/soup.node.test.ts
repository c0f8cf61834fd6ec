// K members in one BlendEngine (zero-shot first, sharing its graph): logits at any coefficients,
// per-tensor overrides included, equal a model blended independently in float64; a one-hot vector
// exports that member's weights bit for bit; the pair API is what it was.
import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { BlendCoefficientsError } from '../../src/core/blend/blender';
import { PairMismatchError } from '../../src/core/onnx/pair';
import { parseModel, tensorValues } from '../../src/core/onnx/model';
import {
  buildTestModel,
  randomWeights,
  perturb,
  randomImages,
  maxAbsDiff,
  roundToHalf,
  IMAGE_DIMS,
  type Weights,
} from '../support/testPair';

const BATCH = 4;
const images = randomImages(BATCH, 5);
const input = { data: images, dims: [BATCH, ...IMAGE_DIMS] };

/** Σₖ wₖ·θₖ per tensor in float64, rounded once; `per` overrides some tensors' weights. */
function soupWeights(members: readonly Weights[], w: readonly number[], per: Record<string, readonly number[]> = {}): Weights {
  const out: Weights = {};
  for (const name of Object.keys(members[0]!)) {
    const ws = per[name] ?? w;
    out[name] = Float32Array.from(members[0]![name]!, (_, i) => members.reduce((s, m, k) => s + ws[k]! * m[name]![i]!, 0));
  }
  return out;
}

async function logitsOf(w: Weights): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(buildTestModel(w));
  const out = await session.run({ image: new ort.Tensor('float32', images, input.dims) });
  await session.release();
  return out.logits!.data as Float32Array;
}

describe.each([false, true])('a K = 3 engine on onnxruntime-node (fp16 weights: %s)', (fp16) => {
  const round = (w: Weights) => (fp16 ? roundToHalf(w) : w);
  const w0 = round(randomWeights(11));
  const members = [w0, round(perturb(w0, 12)), round(perturb(w0, 13, 0.5))];
  const bytes = members.map((w) => buildTestModel(w, { fp16 }));

  it('gives logits equal to an independent float64 soup within 1e-4, uniform and with per-tensor weights', async () => {
    const engine = await BlendEngine.createWithMembers(bytes[0]!, bytes.slice(1), { ort: ortNode, backend: 'cpu' });
    try {
      expect(engine.info.members).toBe(3);
      expect(engine.info.shared.map((d) => d.name)).toEqual(['logit_scale']);
      const per = { 'head.weight': [0, 1, 0], 'visual.conv.weight': [0.5, -0.25, 0.75] };
      for (const [w, p] of [[[0.2, 0.5, 0.3]], [[1 / 3, 1 / 3, 1 / 3]], [[0.1, 0.6, 0.3], per], [[-0.2, 0.7, 0.5]]] as const) {
        const got = (await engine.run({ weights: w, perTensor: p ?? {} }, input)).logits!.data;
        const want = await logitsOf(soupWeights(members, w, p));
        expect(maxAbsDiff(got, want), `w=${w.join(',')}`).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await engine.dispose();
    }
  });

  it('exports a one-hot vector as that member, every blended weight bit for bit', async () => {
    const engine = await BlendEngine.createWithMembers(bytes[0]!, bytes.slice(1), { ort: ortNode, backend: 'cpu' });
    try {
      for (let j = 0; j < 3; j++) {
        const exported = parseModel(await engine.exportOnnx({ weights: [0, 1, 2].map((m) => (m === j ? 1 : 0)) }));
        const member = parseModel(bytes[j]!);
        for (const t of member.graph.initializer) {
          const got = exported.graph.initializer.find((x) => x.name === t.name)!;
          const view = (v: ReturnType<typeof tensorValues>) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          expect(view(tensorValues(got)), `member ${j}, ${t.name}`).toEqual(view(tensorValues(t)));
        }
      }
    } finally {
      await engine.dispose();
    }
  });
});

describe('the K-member engine beside the pair API', () => {
  const w0 = randomWeights(21);
  const w1 = perturb(w0, 22);
  const w2 = perturb(w0, 23);

  it('a pair engine takes { alpha } and per-tensor α as well as a bare α, and caches by coefficients', async () => {
    const engine = await BlendEngine.create(buildTestModel(w0), buildTestModel(w1), { ort: ortNode, backend: 'cpu' });
    try {
      expect(engine.info.members).toBe(2);
      const bare = (await engine.run(0.3, input)).logits!.data;
      const wrapped = (await engine.run({ alpha: 0.3 }, input)).logits!.data;
      expect(wrapped).toEqual(bare);
      const headOnly = (await engine.run({ alpha: 0, perTensor: { 'head.weight': 1, 'head.bias': 1 } }, input)).logits!.data;
      const want = await logitsOf({ ...w0, 'head.weight': w1['head.weight']!, 'head.bias': w1['head.bias']! });
      expect(maxAbsDiff(headOnly, want)).toBeLessThanOrEqual(1e-5);
      await expect(engine.run(1.5, input)).rejects.toThrow(RangeError);
      await expect(engine.run({ weights: [0.2, 0.3, 0.5] }, input)).rejects.toThrow(BlendCoefficientsError);
    } finally {
      await engine.dispose();
    }
  });

  it('refuses an α for three members, and a member that fails the pair check', async () => {
    const engine = await BlendEngine.createWithMembers(buildTestModel(w0), [buildTestModel(w1), buildTestModel(w2)], {
      ort: ortNode,
      backend: 'cpu',
    });
    try {
      await expect(engine.run(0.5, input)).rejects.toThrow(/an α mixes two members, but this blend has 3/);
    } finally {
      await engine.dispose();
    }
    const other = buildTestModel(w2, { activation: 'Sigmoid' });
    await expect(
      BlendEngine.createWithMembers(buildTestModel(w0), [buildTestModel(w1), other], { ort: ortNode, backend: 'cpu' }),
    ).rejects.toBeInstanceOf(PairMismatchError);
  });
});
