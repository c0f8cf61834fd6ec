import { describe, it, expect } from 'vitest';
import { buildTestModel, randomWeights, EMBED_DIM, NUM_CLASSES } from '../../../support/testPair';
import { parseModel, serializeModel, tensorValues, OnnxError } from '../../../../src/core/onnx/model';
import { replaceInitializers } from '../../../../src/core/onnx/initializers';
import { readHead, writeHead } from '../../../../src/core/train/head';
import { TrainingError } from '../../../../src/core/train/data';
import { floatToHalf } from '../../../../src/core/onnx/half';

describe('replaceInitializers', () => {
  const model = () => parseModel(buildTestModel(randomWeights(1)));

  it('replaces only the named tensors, in place and in order, fp32 as fp32 and fp16 as fp16', () => {
    const m = model();
    const v = Float32Array.from({ length: 4 }, (_, i) => i + 0.5);
    const out = parseModel(serializeModel(replaceInitializers(m, new Map([['visual.conv.bias', v]]))));
    expect(out.graph.initializer.map((t) => t.name)).toEqual(m.graph.initializer.map((t) => t.name));
    expect(tensorValues(out.graph.initializer.find((t) => t.name === 'visual.conv.bias')!)).toEqual(v);
    expect(tensorValues(out.graph.initializer.find((t) => t.name === 'head.bias')!)).toEqual(
      tensorValues(m.graph.initializer.find((t) => t.name === 'head.bias')!),
    );
    const half = parseModel(buildTestModel(randomWeights(1), { fp16: true }));
    const h = parseModel(serializeModel(replaceInitializers(half, new Map([['visual.conv.bias', v]])))).graph.initializer.find(
      (t) => t.name === 'visual.conv.bias',
    )!;
    expect(h.data_type).toBe(10);
    expect(Array.from(tensorValues(h) as Uint16Array)).toEqual(Array.from(v, floatToHalf));
  });

  it('refuses a missing tensor, a wrong count and a non-float tensor, naming each', () => {
    const m = model();
    expect(() => replaceInitializers(m, new Map([['nope', new Float32Array(1)]]))).toThrow(/the model has no initializer 'nope'/);
    expect(() => replaceInitializers(m, new Map([['visual.conv.bias', new Float32Array(3)]]))).toThrow(
      /'visual.conv.bias' is float32\[4\] \(4 values\), but 3 values were given/,
    );
    expect(() => replaceInitializers(m, new Map([['visual.conv.bias', new Float32Array(3)]]))).toThrow(OnnxError);
  });
});

describe('readHead / writeHead', () => {
  it('refuses a [dim, classes] head rather than guess its layout', () => {
    // The test pair's head is Gemm(embedding, W[D, C]) without transB: not the layout the probe writes.
    const bytes = buildTestModel(randomWeights(2));
    expect(() => readHead(bytes)).toThrow(TrainingError);
    expect(() => readHead(bytes)).toThrow(
      new RegExp(
        `'head.weight' \\[${EMBED_DIM}, ${NUM_CLASSES}\\] and 'head.bias' \\[${NUM_CLASSES}\\]; a linear probe needs weight \\[classes, dim\\] and bias \\[classes\\]`,
      ),
    );
  });

  it('reads and writes a [classes, dim] head, and refuses one of another dimension even with resize', () => {
    const bytes = buildTestModel(randomWeights(3), { shapes: { 'head.weight': [NUM_CLASSES, EMBED_DIM] } });
    const head = readHead(bytes);
    expect([head.classes, head.dim]).toEqual([NUM_CLASSES, EMBED_DIM]);
    const twice = { ...head, weight: head.weight.map((x) => 2 * x) };
    expect(readHead(writeHead(bytes, twice)).weight).toEqual(twice.weight);
    const narrow = { weight: new Float32Array(NUM_CLASSES * 4), bias: new Float32Array(NUM_CLASSES), classes: NUM_CLASSES, dim: 4 };
    expect(() => writeHead(bytes, narrow, { resize: true })).toThrow(/train the head on features of this model/);
  });
});
