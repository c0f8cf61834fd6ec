import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { OnnxError, parseModel, serializeModel, tensorBytes, describeTensor, type OnnxModel } from '../../src/core/onnx/model';
import { readModelStream, streamChunks, type TensorSink } from '../../src/core/onnx/stream';
import { ModelProtoType, type TensorProto } from '../../src/core/onnx/proto';
import { buildTestModel, randomWeights, perturb } from '../support/testPair';

const bundled = new Uint8Array(readFileSync('public/pairs/shapes/zeroshot.onnx'));
// Plain Uint8Arrays: protobufjs hands out Node Buffers, whose slice() is a view (a byte stream
// would detach the shared pool under every other buffer).
const small = new Uint8Array(buildTestModel(randomWeights(3)));
const half = new Uint8Array(buildTestModel(perturb(randomWeights(4), 5), { fp16: true }));

/** A model whose initializers keep their values in the typed fields (float_data, int64_data), not raw_data. */
const typed = new Uint8Array(
  ModelProtoType.encode(
    ModelProtoType.fromObject({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
        initializer: [
          { name: 'w', dims: [3], data_type: 1, float_data: [1.5, -2, 0.25] },
          { name: 'shape', dims: [2], data_type: 7, int64_data: [4, -1] },
          { name: 'raw', dims: [2], data_type: 1, raw_data: new Uint8Array(new Float32Array([7, 8]).buffer), doc_string: 'after raw' },
        ],
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }] } } } }],
        output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }] } } } }],
      },
    }),
  ).finish(),
);

/** `bytes` cut at the given offsets (sorted, deduplicated; empty chunks included). */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  return at.slice(1).map((end, i) => bytes.slice(at[i]!, end));
}

function expectSameModel(streamed: OnnxModel, parsed: OnnxModel): void {
  const a = streamed.graph.initializer;
  const b = parsed.graph.initializer;
  expect(a.map((t) => describeTensor(t))).toEqual(b.map((t) => describeTensor(t)));
  a.forEach((t, i) => expect(sameBytes(tensorBytes(t), tensorBytes(b[i]!)), `tensor '${t.name}'`).toBe(true));
  // Everything else (nodes, inputs, opsets, doc strings) by its canonical encoding.
  expect(sameBytes(serializeModel(streamed), serializeModel(parsed))).toBe(true);
}

// Buffer's compare, not toEqual: a deep equality walks a megabyte element by element for seconds.
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

const cutsFor = (n: number) => fc.array(fc.integer({ min: 0, max: n }), { maxLength: 24 });

describe('readModelStream: the streaming reader reads what parseModel reads', () => {
  for (const [name, bytes, runs] of [
    ['the bundled zero-shot checkpoint', bundled, 8],
    ['a generated fp32 model', small, 60],
    ['a generated fp16 model', half, 60],
    ['a model with typed-field and int64 initializers', typed, 60],
  ] as const) {
    it(`the same initializers (names, dims, dtype, bytes) and graph for any chunking of ${name}`, async () => {
      const parsed = parseModel(bytes);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          expectSameModel(await readModelStream(chunked(bytes, cuts)), parsed);
        }),
        { numRuns: runs },
      );
    });
  }

  it('reads a ReadableStream as well as an iterable: a byte stream through one reused buffer, any other chunk by chunk', async () => {
    const parts = chunked(small, [10, 500, 501, 2000]);
    const byteStream = () =>
      new ReadableStream({
        type: 'bytes',
        start(c) {
          for (const p of parts) c.enqueue(p.slice());
          c.close();
        },
      });
    const plainStream = () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of parts) c.enqueue(p.slice());
          c.close();
        },
      });
    // A 7-byte buffer: every tensor and most fields span many reads into the same memory.
    for (const stream of [byteStream(), plainStream(), new Blob([new Uint8Array(small)]).stream()])
      expectSameModel(await readModelStream(streamChunks(stream, 7)), parseModel(small));
    // Every chunk of the byte stream lies in a 64-byte buffer: ours (handed back by each read), not the source's.
    for await (const c of streamChunks(byteStream(), 64)) expect(c.buffer.byteLength).toBe(64);
  });

  it("writes each raw_data straight into the sink's view, and the tensor reads from there", async () => {
    const memory = new Uint8Array(1 << 20);
    let top = 0;
    const placed = new Map<string, number>();
    const sink: TensorSink = {
      place(t: TensorProto, n: number) {
        placed.set(t.name, top);
        top += n;
        return memory.subarray(top - n, top);
      },
    };
    const streamed = await readModelStream(chunked(small, [100, 101, 1000]), 'small', sink);
    const parsed = parseModel(small);
    expectSameModel(streamed, parsed);
    for (const t of streamed.graph.initializer) {
      const off = placed.get(t.name)!;
      expect(t.raw_data!.buffer).toBe(memory.buffer);
      const reference = tensorBytes(parsed.graph.initializer.find((p) => p.name === t.name)!);
      expect(sameBytes(memory.subarray(off, off + t.raw_data!.byteLength), reference)).toBe(true);
    }
    expect(placed.size).toBe(parsed.graph.initializer.length);
  });
});

describe('readModelStream: bad input gets the message parseModel gives', () => {
  it('any truncation of a model: both readers refuse it, or both read the same model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: small.length - 1 }), cutsFor(small.length), async (end, cuts) => {
        const prefix = small.slice(0, end);
        let expected: OnnxModel | OnnxError;
        try {
          expected = parseModel(prefix);
        } catch (e) {
          expected = e as OnnxError;
        }
        const got = await readModelStream(
          chunked(
            prefix,
            cuts.filter((c) => c <= end),
          ),
        ).catch((e: unknown) => e);
        if (expected instanceof Error) {
          expect(got).toBeInstanceOf(OnnxError);
          // The same diagnosis up to the decoder's own words ("index out of range" vs "ends in the middle").
          expect((got as Error).message.split(' (')[0]).toBe(expected.message.split(' (')[0]);
        } else expectSameModel(got as OnnxModel, expected);
      }),
      { numRuns: 150 },
    );
  });

  it('names a lookalike file and an empty one', async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    await expect(readModelStream([png], 'photo.png')).rejects.toThrow('photo.png looks like a PNG image, not an ONNX model');
    await expect(readModelStream([], 'empty.onnx')).rejects.toThrow('empty.onnx is empty (0 bytes)');
  });

  it("passes the source's own failure through (a dropped connection is not a malformed file)", async () => {
    async function* dropped() {
      yield small.slice(0, 500);
      throw new TypeError('network error');
    }
    await expect(readModelStream(dropped(), 'zs')).rejects.toThrow(new TypeError('network error'));
  });

  it('refuses a tensor whose fields after its data contradict what its data was placed as', async () => {
    // data_location EXTERNAL written after raw_data: the bytes already placed cannot be its values.
    const contradicting = ModelProtoType.encode(
      ModelProtoType.fromObject({
        ...ModelProtoType.toObject(ModelProtoType.decode(typed)),
        graph: {
          ...ModelProtoType.toObject(ModelProtoType.decode(typed)).graph,
          initializer: [{ name: 'raw', dims: [2], data_type: 1, raw_data: new Uint8Array(8), data_location: 1 }],
        },
      }),
    ).finish();
    const sink: TensorSink = { place: (_t, n) => new Uint8Array(n) };
    await expect(readModelStream([contradicting], 'm', sink)).rejects.toThrow(/tensor 'raw': fields stored after its data/);
  });
});
