import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { BlendEngine, type EngineOptions } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { streamMembers } from '../../src/core/blend/streamLoad';
import { OnnxError } from '../../src/core/onnx/model';
import { ModelProtoType } from '../../src/core/onnx/proto';
import { buildTestModel, randomWeights, perturb, roundToHalf, rng, IMAGE_DIMS } from '../support/testPair';

const opts: EngineOptions = { ort: ortNode, backend: 'cpu' };
const bundledZs = new Uint8Array(readFileSync('public/pairs/shapes/zeroshot.onnx'));
const bundledFt = new Uint8Array(readFileSync('public/pairs/shapes/members/e2e-seed0.onnx'));
const bundledFt2 = new Uint8Array(readFileSync('public/pairs/shapes/members/linear-seed0.onnx'));

/** The file in chunks cut at random places (a seeded draw: some tiny, some across tensors). */
function* chunks(bytes: Uint8Array, seed: number): Generator<Uint8Array> {
  const r = rng(seed);
  for (let at = 0; at < bytes.length;) {
    const n = r() < 0.3 ? 1 + Math.floor(r() * 16) : 1 + Math.floor(r() * 70_000);
    yield bytes.slice(at, at + n);
    at += n;
  }
}

async function logitsAt(engine: BlendEngine, alpha: number | { weights: number[] }, images: Float32Array, dims: number[]) {
  return (await engine.run(alpha, { data: images, dims })).logits!.data;
}

function imagesOf(dims: number[], seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1);
}

const same = (a: Uint8Array | Float32Array, b: Uint8Array | Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('BlendEngine.createFromStreams: the checkpoints streamed into the blend memory, never whole', () => {
  const w0 = randomWeights(11);
  const w1 = perturb(w0, 12);
  const pairs = [
    { name: 'the bundled pair', zs: bundledZs, ft: bundledFt, size: 32 },
    { name: 'an fp32 test pair', zs: buildTestModel(w0), ft: buildTestModel(w1), size: IMAGE_DIMS[1] },
    {
      name: 'an fp16 test pair',
      zs: buildTestModel(roundToHalf(w0), { fp16: true }),
      ft: buildTestModel(roundToHalf(w1), { fp16: true }),
      size: IMAGE_DIMS[1],
    },
  ];
  for (const p of pairs) {
    it(`${p.name}: the same logits at every α and the same exported θ(0.3), bit for bit, as from the files' bytes`, async () => {
      const fromBytes = await BlendEngine.create(p.zs, p.ft, opts);
      const streamed = await BlendEngine.createFromStreams([chunks(p.zs, 1), chunks(p.ft, 2)], opts);
      expect(streamed.info.differing).toEqual(fromBytes.info.differing);
      expect(streamed.info.shared).toEqual(fromBytes.info.shared);
      const dims = [2, 3, p.size, p.size];
      const images = imagesOf(dims, 5);
      for (const a of [0, 0.3, 1])
        expect(same(await logitsAt(streamed, a, images, dims), await logitsAt(fromBytes, a, images, dims))).toBe(true);
      expect(same(await streamed.exportOnnx(0.3), await fromBytes.exportOnnx(0.3))).toBe(true);
      await Promise.all([streamed.dispose(), fromBytes.dispose()]);
    });
  }

  it("reads an fp16 pair's halves into the blend memory as well, at the end of the float32 slot each is widened into", async () => {
    const zs = buildTestModel(roundToHalf(w0), { fp16: true });
    const ft = buildTestModel(roundToHalf(w1), { fp16: true });
    const { models, arena } = await streamMembers([chunks(zs, 5), chunks(ft, 6)], ['zs', 'ft'], { cpuArena: true });
    for (const [k, m] of models.entries())
      for (const t of m.graph.initializer.filter((x) => x.data_type === 10)) {
        const slot = arena!.at.get(t.name)!;
        expect(t.raw_data!.buffer).toBe(arena!.memory.buffer);
        expect(t.raw_data!.byteOffset + t.raw_data!.byteLength).toBe(slot.members[k]! + 4 * slot.n);
      }
  });

  it('reads each float32 weight into its slot of one wasm memory, and the model views it there', async () => {
    const { models, arena } = await streamMembers([chunks(bundledZs, 3), chunks(bundledFt, 4)], ['zs', 'ft'], { cpuArena: true });
    expect(arena).not.toBeNull();
    for (const [k, m] of models.entries())
      for (const t of m.graph.initializer.filter((x) => x.data_type === 1)) {
        expect(t.raw_data!.buffer).toBe(arena!.memory.buffer);
        expect(t.raw_data!.byteOffset).toBe(arena!.at.get(t.name)!.members[k]);
      }
  });

  it('three members (a soup) stream as well: the same logits for a three-way blend', async () => {
    const fromBytes = await BlendEngine.createWithMembers(bundledZs, [bundledFt, bundledFt2], opts);
    const streamed = await BlendEngine.createFromStreams([chunks(bundledZs, 7), chunks(bundledFt, 8), chunks(bundledFt2, 9)], opts);
    const dims = [1, 3, 32, 32];
    const images = imagesOf(dims, 6);
    const w = { weights: [0.2, 0.5, 0.3] };
    expect(same(await logitsAt(streamed, w, images, dims), await logitsAt(fromBytes, w, images, dims))).toBe(true);
    await Promise.all([streamed.dispose(), fromBytes.dispose()]);
  });
});

describe('BlendEngine.createFromStreams: bad input is named', () => {
  it('a truncated fine-tuned checkpoint', async () => {
    const cut = bundledFt.slice(0, 700_000);
    const err = await BlendEngine.createFromStreams([chunks(bundledZs, 1), chunks(cut, 2)], opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxError);
    expect((err as Error).message).toMatch(/^fine-tuned model is not a valid ONNX model \(the file ends in the middle of a field\)/);
  });

  it('a tensor whose values are in an external file that was not given', async () => {
    const proto = ModelProtoType.decode(buildTestModel(w1())) as unknown as { graph: { initializer: Record<string, unknown>[] } };
    const t = proto.graph.initializer.find((x) => x.name === 'head.weight')!;
    delete t.raw_data;
    t.data_location = 1;
    t.external_data = [{ key: 'location', value: 'weights.bin' }];
    const external = ModelProtoType.encode(proto as never).finish();
    await expect(BlendEngine.createFromStreams([[buildTestModel(randomWeights(11))], [external]], opts)).rejects.toThrow(
      "fine-tuned model: tensor 'head.weight' keeps its data in 'weights.bin', which was not given (a bundle lists it under the model's externalData)",
    );
  });

  it('a differing tensor of a type that cannot be blended', async () => {
    const withInt = (v: number) => {
      const proto = ModelProtoType.decode(buildTestModel(randomWeights(11))) as unknown as { graph: { initializer: object[] } };
      proto.graph.initializer.push({
        name: 'steps',
        dims: [1],
        data_type: 7,
        raw_data: new Uint8Array(new BigInt64Array([BigInt(v)]).buffer),
      });
      return ModelProtoType.encode(proto as never).finish();
    };
    await expect(BlendEngine.createFromStreams([[withInt(1)], [withInt(2)]], opts)).rejects.toThrow(
      "tensor 'steps' differs between the checkpoints but is int64; only float32 and float16 weights can be blended",
    );
  });
});

function w1() {
  return perturb(randomWeights(11), 12);
}
