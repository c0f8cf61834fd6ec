import { describe, it, expect } from 'vitest';
import { parseModel, serializeModel, type OnnxModel } from '../../src/core/onnx/model';
import { analyzePair, liftInitializers, PairMismatchError } from '../../src/core/onnx/pair';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import {
  buildTestModel,
  randomWeights,
  perturb,
  randomImages,
  maxAbsDiff,
  IMAGE_DIMS,
  WEIGHT_SHAPES,
  EMBED_DIM,
} from '../support/testPair';

const w0 = randomWeights(11);
const w1 = perturb(w0, 12);
const zsBytes = buildTestModel(w0);
const ftBytes = buildTestModel(w1);
const images = randomImages(2, 13);
const input = { data: images, dims: [2, ...IMAGE_DIMS] };

/** The PairMismatchError analyzePair throws for this pair (fails the test if it throws nothing). */
function mismatch(zs: Uint8Array | OnnxModel, ft: Uint8Array | OnnxModel): PairMismatchError {
  const a = zs instanceof Uint8Array ? parseModel(zs) : zs;
  const b = ft instanceof Uint8Array ? parseModel(ft) : ft;
  try {
    analyzePair(a, b);
  } catch (e) {
    expect(e).toBeInstanceOf(PairMismatchError);
    return e as PairMismatchError;
  }
  throw new Error('analyzePair accepted a mismatched pair');
}

/** The fine-tuned model with its graph edited by `edit` (for variants testPair cannot build). */
function edited(bytes: Uint8Array, edit: (m: OnnxModel) => void): Uint8Array {
  const m = parseModel(bytes);
  edit(m);
  return serializeModel(m);
}

describe('pair check: mismatched checkpoints give a specific error', () => {
  it('names the old and the new name, and the side missing each, when a tensor was renamed', async () => {
    const renamed = buildTestModel(w1, { rename: { 'head.bias': 'classifier.bias' } });
    const e = mismatch(zsBytes, renamed);
    expect(e.mismatches).toEqual([
      { name: 'head.bias', kind: 'missing', zeroShot: 'float32[5]', fineTuned: 'missing' },
      { name: 'classifier.bias', kind: 'missing', zeroShot: 'missing', fineTuned: 'float32[5]' },
    ]);
    expect(e.message).toContain("'head.bias' (float32[5]) is missing from the fine-tuned model");
    expect(e.message).toContain("'classifier.bias' (float32[5]) is missing from the zero-shot model");
    expect(e.message).toContain("renamed 'head.bias' → 'classifier.bias'?");
    // The engine refuses the pair with the same error, before onnxruntime sees it.
    await expect(BlendEngine.create(zsBytes, renamed, { ort: ortNode, backend: 'cpu' })).rejects.toThrow(e.message);
  });

  it('names both shapes when a tensor changed shape', async () => {
    const shapes = { 'head.weight': [EMBED_DIM, 6], 'head.bias': [6] };
    const wide = buildTestModel(perturb(randomWeights(11, { ...WEIGHT_SHAPES, ...shapes }), 12), { shapes });
    const e = mismatch(zsBytes, wide);
    expect(e.mismatches.map((m) => [m.name, m.kind])).toEqual([
      ['head.weight', 'shape'],
      ['head.bias', 'shape'],
    ]);
    expect(e.message).toContain("'head.weight' (zero-shot float32[16, 5], fine-tuned float32[16, 6])");
    expect(e.message).toContain("'head.bias' (zero-shot float32[5], fine-tuned float32[6])");
    await expect(BlendEngine.create(zsBytes, wide, { ort: ortNode, backend: 'cpu' })).rejects.toBeInstanceOf(PairMismatchError);
  });

  it('names both dtypes when one checkpoint is the fp16 variant of the other', async () => {
    const half = buildTestModel(w1, { fp16: true });
    const e = mismatch(zsBytes, half);
    // The shared logit scale stays float32 in the fp16 export; the six weights differ in dtype.
    expect(e.mismatches).toHaveLength(6);
    expect(e.mismatches.every((m) => m.kind === 'dtype')).toBe(true);
    expect(e.message).toContain('6 tensors differ in name, dtype or shape');
    expect(e.message).toContain("'visual.conv.weight' (zero-shot float32[4, 3, 3, 3], fine-tuned float16[4, 3, 3, 3])");
    expect(e.message).toContain('and 3 more');
    await expect(BlendEngine.create(half, zsBytes, { ort: ortNode, backend: 'cpu' })).rejects.toThrow(
      /float16\[4, 3, 3, 3\].*float32\[4, 3, 3, 3\]/,
    );
  });

  it('names the differing node when the graphs differ (Relu vs Sigmoid)', async () => {
    const sigmoid = buildTestModel(w1, { activation: 'Sigmoid' });
    const e = mismatch(zsBytes, sigmoid);
    expect(e.mismatches).toEqual([]);
    expect(e.message).toContain('their graphs differ at node #1 Relu (conv → act) vs #1 Sigmoid (conv → act)');
    await expect(BlendEngine.create(zsBytes, sigmoid, { ort: ortNode, backend: 'cpu' })).rejects.toThrow(/Relu.*Sigmoid/);
  });

  it('names both input signatures when the inputs differ', () => {
    const bigger = edited(ftBytes, (m) => {
      m.graph.input[0]!.type!.tensor_type!.shape!.dim[2]!.dim_value = 16;
      m.graph.input[0]!.type!.tensor_type!.shape!.dim[3]!.dim_value = 16;
    });
    expect(mismatch(zsBytes, bigger).message).toContain(
      'their inputs differ (zero-shot image: float32[batch, 3, 8, 8]; fine-tuned image: float32[batch, 3, 16, 16])',
    );
    const renamed = edited(ftBytes, (m) => {
      m.graph.input[0]!.name = 'pixels';
    });
    expect(mismatch(zsBytes, renamed).message).toMatch(/inputs differ \(zero-shot image: .*; fine-tuned pixels: /);
  });

  it('names both output lists when the outputs differ', () => {
    const noEmbedding = edited(ftBytes, (m) => {
      m.graph.output = m.graph.output.filter((v) => v.name !== 'embedding');
    });
    expect(mismatch(zsBytes, noEmbedding).message).toContain(
      'their outputs differ (zero-shot embedding: float32[batch, 16], logits: float32[batch, 5]; fine-tuned logits: float32[batch, 5])',
    );
    const halfLogits = edited(ftBytes, (m) => {
      m.graph.output[1]!.type!.tensor_type!.elem_type = 10;
    });
    expect(mismatch(zsBytes, halfLogits).message).toContain('fine-tuned embedding: float32[batch, 16], logits: float16[batch, 5])');
  });
});

describe('pair check: pairs that can be blended', () => {
  it('accepts an identical pair (θ1 = θ0) with 0 differing tensors, and runs it', async () => {
    const { differing, shared } = analyzePair(parseModel(zsBytes), parseModel(buildTestModel(w0)));
    expect(differing).toEqual([]);
    expect(shared.map((s) => s.name).sort()).toEqual(Object.keys(WEIGHT_SHAPES).sort());
    const engine = await BlendEngine.create(zsBytes, buildTestModel(w0), { ort: ortNode, backend: 'cpu' });
    expect(engine.info.blendedBytes).toBe(0);
    const a = await engine.run(0, input);
    const b = await engine.run(0.7, input);
    expect(maxAbsDiff(a.logits!.data, b.logits!.data)).toBe(0);
    // The exported θ(α) of an identical pair is the checkpoint itself.
    const exported = parseModel(await engine.exportOnnx(0.7));
    expect(exported.graph.initializer.map((t) => t.name).sort()).toEqual(Object.keys(WEIGHT_SHAPES).sort());
    await engine.dispose();
  });

  it('lifts correctly a model whose initializers are also listed as graph inputs (IR < 4 style)', async () => {
    const ir3 = (bytes: Uint8Array) =>
      edited(bytes, (m) => {
        m.proto.ir_version = 3;
        for (const t of m.graph.initializer) {
          m.graph.input.push({
            name: t.name,
            type: { tensor_type: { elem_type: t.data_type, shape: { dim: t.dims.map((d) => ({ dim_value: d })) } } },
          });
        }
      });
    const zs = parseModel(ir3(zsBytes));
    const ft = parseModel(ir3(ftBytes));
    const { differing, shared } = analyzePair(zs, ft);
    expect(differing).toHaveLength(6);
    expect(shared.map((s) => s.name)).toEqual(['logit_scale']);

    const lifted = liftInitializers(zs, new Set(differing.map((d) => d.name)));
    const inputs = lifted.graph!.input.map((v) => v.name);
    // Each weight is listed once (as the new input), the kept initializer keeps its entry.
    expect(inputs.sort()).toEqual(['image', 'logit_scale', ...differing.map((d) => d.name)].sort());
    expect(lifted.graph!.initializer.map((t) => t.name)).toEqual(['logit_scale']);

    const engine = await BlendEngine.create(ir3(zsBytes), ir3(ftBytes), { ort: ortNode, backend: 'cpu' });
    const reference = await BlendEngine.create(zsBytes, ftBytes, { ort: ortNode, backend: 'cpu' });
    expect(engine.info.inputName).toBe('image');
    for (const alpha of [0, 0.5, 1]) {
      const got = await engine.run(alpha, input);
      const want = await reference.run(alpha, input);
      expect(maxAbsDiff(got.logits!.data, want.logits!.data), `α=${alpha}`).toBeLessThanOrEqual(1e-6);
    }
    await engine.dispose();
    await reference.dispose();
  });

  it('keeps a loaded engine running after a failed create for a bad pair', async () => {
    const engine = await BlendEngine.create(zsBytes, ftBytes, { ort: ortNode, backend: 'cpu' });
    const before = await engine.run(0.5, input);

    await expect(
      BlendEngine.create(zsBytes, buildTestModel(w1, { activation: 'Sigmoid' }), { ort: ortNode, backend: 'cpu' }),
    ).rejects.toThrow(PairMismatchError);
    await expect(BlendEngine.create(zsBytes, zsBytes.subarray(0, 100), { ort: ortNode, backend: 'cpu' })).rejects.toThrow(
      /fine-tuned model/,
    );
    // A pair that passes the check but that onnxruntime refuses (an operator it does not know).
    const unknownOp = (bytes: Uint8Array) =>
      edited(bytes, (m) => {
        m.graph.node[1]!.op_type = 'NoSuchOp';
      });
    await expect(BlendEngine.create(unknownOp(zsBytes), unknownOp(ftBytes), { ort: ortNode, backend: 'cpu' })).rejects.toThrow(
      /onnxruntime could not load the zero-shot model \(whose graph serves both checkpoints\): .*NoSuchOp/,
    );

    const after = await engine.run(0.5, input);
    expect(maxAbsDiff(after.logits!.data, before.logits!.data)).toBe(0);
    expect((await engine.run(1, input)).logits!.dims).toEqual([2, 5]);
    await engine.dispose();
  });
});
