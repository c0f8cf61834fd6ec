import { describe, it, expect } from 'vitest';
import {
  OnnxError,
  parseModel,
  serializeModel,
  listInitializers,
  tensorValues,
  describeTensor,
  type OnnxModel,
} from '../../src/core/onnx/model';
import { isSafeRelativePath } from '../../src/core/bundle/paths';
import { ModelProtoType, TensorProtoType, type TensorProto } from '../../src/core/onnx/proto';
import { floatToHalf } from '../../src/core/onnx/half';
import { buildTestModel, randomWeights, rng, WEIGHT_SHAPES } from '../support/testPair';

const valid = buildTestModel(randomWeights(21));

/** The OnnxError parseModel throws for these bytes (fails the test if it returns a model). */
function parseError(bytes: Uint8Array, label?: string): OnnxError {
  try {
    parseModel(bytes, label);
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxError);
    return e as OnnxError;
  }
  throw new Error(`parseModel accepted ${bytes.byteLength} bytes that are not a model`);
}

/** A minimal valid model (Identity of `x`) holding the given initializers. */
function modelWith(initializer: object[], extra: { irVersion?: number } = {}): Uint8Array {
  return ModelProtoType.encode(
    ModelProtoType.fromObject({
      ir_version: extra.irVersion ?? 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
        initializer,
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }] } } } }],
        output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }] } } } }],
      },
    }),
  ).finish();
}

const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
const external = (name: string, dims: number[], entries: Record<string, string>) => ({
  name,
  dims,
  data_type: 1,
  data_location: 1,
  external_data: Object.entries(entries).map(([key, value]) => ({ key, value })),
});

describe('broken files give an OnnxError that says what is wrong', () => {
  it('says an empty file is empty', () => {
    expect(parseError(new Uint8Array(0), 'zeroshot.onnx').message).toBe('zeroshot.onnx is empty (0 bytes): not an ONNX model');
  });

  it.each([1, 2, 7, 100, 1000, Math.floor(valid.byteLength / 2), valid.byteLength - 100, valid.byteLength - 1])(
    'says a file truncated to %i bytes is not a valid model, and suggests truncation',
    (n) => {
      expect(parseError(valid.subarray(0, n)).message).toMatch(/truncated/);
    },
  );

  it('recognises a PNG, a JSON file, a zip and a Git LFS pointer, and says so', () => {
    const png = Uint8Array.of(
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
      0,
      0,
      0,
      13,
      0x49,
      0x48,
      0x44,
      0x52,
      0,
      0,
      0,
      32,
      0,
      0,
      0,
      32,
      8,
      6,
      0,
      0,
      0,
    );
    expect(parseError(png, 'model.onnx').message).toMatch(/^model\.onnx looks like a PNG image, not an ONNX model/);
    const json = new TextEncoder().encode('{"format": "wiseft-pair/1", "name": "x"}');
    expect(parseError(json).message).toMatch(/looks like JSON text, not an ONNX model/);
    const zip = Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0);
    expect(parseError(zip).message).toMatch(/looks like a zip archive.*unzip/);
    const lfs = new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12345\n');
    expect(parseError(lfs).message).toMatch(/Git LFS pointer.*git lfs pull/);
  });

  it('refuses random bytes', () => {
    const r = rng(5);
    for (let i = 0; i < 20; i++) {
      const bytes = Uint8Array.from({ length: 16 + Math.floor(r() * 4000) }, () => Math.floor(r() * 256));
      expect(parseError(bytes).message).toMatch(/^file (is not (a valid ONNX model|an ONNX model)|looks like .+, not an ONNX model)/);
    }
  });

  it('refuses a nesting of subgraphs deep enough to exhaust the stack, quickly', () => {
    // graph → node → attribute → graph → …, 1000 levels: protobuf's own depth limit must hold.
    const wrap = (tag: number, inner: Uint8Array) => {
      const len: number[] = [];
      for (let n = inner.byteLength; ; n >>>= 7) {
        len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        if (n <= 0x7f) break;
      }
      const out = new Uint8Array(1 + len.length + inner.byteLength);
      out.set([tag, ...len]);
      out.set(inner, 1 + len.length);
      return out;
    };
    let g = new Uint8Array(0);
    for (let i = 0; i < 1_000; i++) g = wrap(0x0a, wrap(0x2a, wrap(0x32, g)));
    const t0 = performance.now();
    const model = wrap(0x3a, g);
    expect(parseError(model).message).toMatch(/protobuf decoding failed: max depth exceeded/);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('refuses a model without a graph, without an IR version, without outputs or without an opset', () => {
    const noGraph = ModelProtoType.encode(ModelProtoType.fromObject({ ir_version: 8, opset_import: [{ version: 17 }] })).finish();
    expect(parseError(noGraph).message).toMatch(/it has no graph/);
    const m = parseModel(valid);
    const without = (edit: (p: OnnxModel['proto']) => void) => {
      const copy = parseModel(serializeModel(m));
      edit(copy.proto);
      return serializeModel(copy);
    };
    expect(
      parseError(
        without((p) => {
          p.ir_version = 0;
        }),
      ).message,
    ).toMatch(/no IR version/);
    expect(
      parseError(
        without((p) => {
          p.graph!.output = [];
        }),
      ).message,
    ).toMatch(/the graph has no outputs/);
    expect(
      parseError(
        without((p) => {
          p.opset_import = [];
        }),
      ).message,
    ).toMatch(/imports no operator set/);
  });
});

describe('parse → serialize → parse', () => {
  it.each([false, true])('keeps every initializer (name, dtype, shape, values) with fp16 weights: %s', (fp16) => {
    const bytes = buildTestModel(randomWeights(22), { fp16 });
    const a = parseModel(bytes);
    const b = parseModel(serializeModel(a));
    expect(listInitializers(b)).toEqual(listInitializers(a));
    for (let i = 0; i < a.graph.initializer.length; i++) {
      expect(tensorValues(b.graph.initializer[i]!)).toEqual(tensorValues(a.graph.initializer[i]!));
    }
    expect(b.graph.node.map((n) => n.op_type)).toEqual(a.graph.node.map((n) => n.op_type));
    expect(
      listInitializers(a)
        .map((t) => t.name)
        .sort(),
    ).toEqual(Object.keys(WEIGHT_SHAPES).sort());
  });
});

describe('listInitializers', () => {
  it('reports dtype, shape, byteLength and location for each way of storing values', () => {
    const halves = [1, -2, 0.5, 65504].map(floatToHalf);
    const model = parseModel(
      modelWith([
        { name: 'raw', dims: [2, 3], data_type: 1, raw_data: f32Bytes([1, 2, 3, 4, 5, 6]) },
        { name: 'typed', dims: [3], data_type: 1, float_data: [1.5, 2.5, 3.5] },
        { name: 'half', dims: [2, 2], data_type: 10, int32_data: halves },
        { name: 'ids', dims: [2], data_type: 7, int64_data: [5, -7] },
        { name: 'scalar', dims: [], data_type: 11, double_data: [Math.PI] },
        external('ext', [4, 8], { location: 'weights.bin', offset: '0', length: '128' }),
      ]),
    );
    expect(listInitializers(model)).toEqual([
      { name: 'raw', dtype: 'float32', shape: [2, 3], byteLength: 24, location: 'raw' },
      { name: 'typed', dtype: 'float32', shape: [3], byteLength: 12, location: 'typed' },
      { name: 'half', dtype: 'float16', shape: [2, 2], byteLength: 8, location: 'typed' },
      { name: 'ids', dtype: 'int64', shape: [2], byteLength: 16, location: 'typed' },
      { name: 'scalar', dtype: 'float64', shape: [], byteLength: 8, location: 'typed' },
      { name: 'ext', dtype: 'float32', shape: [4, 8], byteLength: 128, location: 'external' },
    ]);
    const [raw, typed, half, ids, scalar, ext] = model.graph.initializer as [
      TensorProto,
      TensorProto,
      TensorProto,
      TensorProto,
      TensorProto,
      TensorProto,
    ];
    expect(tensorValues(raw)).toEqual(Float32Array.of(1, 2, 3, 4, 5, 6));
    expect(tensorValues(typed)).toEqual(Float32Array.of(1.5, 2.5, 3.5));
    expect(tensorValues(half)).toEqual(Uint16Array.from(halves));
    expect(tensorValues(ids)).toEqual(BigInt64Array.of(5n, -7n));
    expect(tensorValues(scalar)).toEqual(Float64Array.of(Math.PI));
    expect(() => tensorValues(ext)).toThrow(/keeps its data in an external file \('weights\.bin'\)/);
  });

  it('refuses a tensor whose stored values do not fill its shape', () => {
    const model = parseModel(
      modelWith([
        { name: 'short_raw', dims: [2, 3], data_type: 1, raw_data: f32Bytes([1, 2, 3]) },
        { name: 'short_typed', dims: [4], data_type: 1, float_data: [1] },
      ]),
    );
    expect(() => tensorValues(model.graph.initializer[0]!)).toThrow(
      new OnnxError("tensor 'short_raw' should hold 24 bytes for float32[2, 3] but holds 12"),
    );
    expect(() => tensorValues(model.graph.initializer[1]!)).toThrow(
      new OnnxError("tensor 'short_typed' should hold 4 values in float_data but holds 1"),
    );
  });

  it('refuses an unknown data type with an OnnxError', () => {
    expect(parseError(modelWith([{ name: 'odd', dims: [1], data_type: 99, raw_data: Uint8Array.of(1) }])).message).toBe(
      "unsupported tensor data type 99 (tensor 'odd')",
    );
  });
});

// The app inlines no external data (docs/clip-export.md: it refuses external-data models), so a
// hostile location is never resolved: reading the tensor refuses it, naming the file.
describe('external data is refused, never followed', () => {
  it.each([
    'data/weights.bin',
    '../x.bin',
    'data/../../x.bin',
    '/etc/passwd',
    'http://evil/x',
    'C:\\weights.bin',
    '\\\\server\\share\\x.bin',
    ' //evil/x',
    '%2e%2e/x.bin',
    '.\t./x.bin',
  ])("refuses the tensor stored at '%s' when it is read", (location) => {
    const model = parseModel(modelWith([external('w', [2, 3], { location, offset: '0', length: '24' })]));
    const t = model.graph.initializer[0]!;
    expect(describeTensor(t).location).toBe('external');
    expect(() => tensorValues(t)).toThrow(
      new OnnxError(`tensor 'w' keeps its data in an external file ('${location}'); load the model with its data files`),
    );
  });
});

describe('huge or hostile tensor headers', () => {
  it('refuses dims of [2^40, 2^40] at once, before anything is allocated', () => {
    const t0 = performance.now();
    const e = parseError(modelWith([{ name: 'huge', dims: [2 ** 40, 2 ** 40], data_type: 1 }]));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(e.message).toBe("tensor 'huge' of shape [1099511627776, 1099511627776] is too large");
  });

  it.each([
    [[-1, 4], "tensor 'bad' has a negative dimension [-1, 4]"],
    [['9223372036854775807'], "dimension 0 of tensor 'bad' is not a usable integer (9223372036854775807)"],
    [['-9223372036854775808', 2], "dimension 0 of tensor 'bad' is not a usable integer (-9223372036854775808)"],
    [[2 ** 31, 2 ** 31], "tensor 'bad' of shape [2147483648, 2147483648] is too large"],
  ])('refuses dims %j', (dims, message) => {
    expect(parseError(modelWith([{ name: 'bad', dims, data_type: 1, raw_data: Uint8Array.of(0, 0, 0, 0) }])).message).toBe(message);
  });

  it('refuses raw data that disagrees with a large declared shape without allocating the shape', () => {
    const model = parseModel(modelWith([{ name: 'big', dims: [65536, 65536], data_type: 1, raw_data: f32Bytes([1]) }]));
    const t0 = performance.now();
    expect(() => tensorValues(model.graph.initializer[0]!)).toThrow(
      /should hold 17179869184 bytes for float32\[65536, 65536\] but holds 4/,
    );
    expect(() => tensorValues({ ...model.graph.initializer[0]!, raw_data: new Uint8Array(0) })).toThrow(
      /should hold 4294967296 values in float_data but holds 0/,
    );
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

describe('isSafeRelativePath', () => {
  it.each(['model.onnx', 'eval/reference.png', 'a/b/c.bin', 'dir\\file.bin', 'a..b/c', '...x', 'name with space.onnx'])(
    'accepts %j',
    (p) => {
      expect(isSafeRelativePath(p)).toBe(true);
    },
  );
  it.each([
    '',
    '..',
    '../x',
    'a/../../x',
    '/abs',
    '\\abs',
    'C:x',
    'http://e/x',
    'file:///etc/passwd',
    'a\\..\\x',
    ' x',
    'x ',
    'a\nb',
    '%2E%2e/x',
    'a/%2e%2E',
    'a%2f..%2fx',
    'a%5cb',
    '..#',
    '..?x',
    'a/..#/../x',
    'x?y',
    'a'.repeat(1025),
  ])('refuses %j', (p) => {
    expect(isSafeRelativePath(p)).toBe(false);
  });
});

// Keep TensorProtoType referenced: the constructor below checks that a hand-made tensor, not only a
// decoded one, goes through describeTensor the same way.
describe('describeTensor', () => {
  it('describes a created TensorProto like a decoded one', () => {
    const t = TensorProtoType.create({ name: 'c', dims: [3], data_type: 1, raw_data: f32Bytes([1, 2, 3]) }) as unknown as TensorProto;
    expect(describeTensor(t)).toEqual({ name: 'c', dtype: 'float32', shape: [3], byteLength: 12, location: 'raw' });
  });
});

describe('loading a bundle whose cached file went stale', () => {
  it('reads the file again past the cache when it no longer matches the manifest', async () => {
    const { loadBundle, sha256Hex } = await import('../../src/core/bundle/source');
    const { makeTestBundle } = await import('../support/testBundle');
    const { files, manifest } = makeTestBundle({ sets: [] });
    const zs = files.get('zeroshot.onnx')!;
    const m = {
      ...manifest,
      models: { ...manifest.models, zeroShot: { path: 'zeroshot.onnx', bytes: zs.byteLength, sha256: await sha256Hex(zs) } },
    };
    const fresh = new Map(files);
    fresh.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    const stale = files.get('finetuned.onnx')!; // what an old cache entry would hold under this path
    const reread: string[] = [];
    const source = {
      label: 'cache over fresh files',
      read: async (p: string) => (p === 'zeroshot.onnx' ? stale : fresh.get(p)!),
      reread: async (p: string) => {
        reread.push(p);
        return fresh.get(p)!;
      },
    };
    const b = await loadBundle(source);
    expect(reread).toEqual(['zeroshot.onnx']);
    expect(b.zeroShot).toBe(zs);
  });
});

describe('sprite sheets checked against the manifest', () => {
  async function bundleWithSpriteHash() {
    const { sha256Hex } = await import('../../src/core/bundle/source');
    const { makeTestBundle } = await import('../support/testBundle');
    const { files, manifest } = makeTestBundle();
    const sets = manifest.eval!.sets;
    const ref = files.get(sets[0]!.sprite.path)!;
    const sha256 = await sha256Hex(ref);
    const m = {
      ...manifest,
      eval: { sets: sets.map((s, i) => (i === 0 ? { ...s, sprite: { ...s.sprite, bytes: ref.byteLength, sha256 } } : s)) },
    };
    const fresh = new Map(files);
    fresh.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    return { fresh, ref, refPath: sets[0]!.sprite.path, other: files.get(sets[1]!.sprite.path)! };
  }

  it('a stale cached sprite is read again past the cache', async () => {
    const { loadBundle } = await import('../../src/core/bundle/source');
    const { fresh, ref, refPath, other } = await bundleWithSpriteHash();
    const reread: string[] = [];
    const b = await loadBundle({
      label: 'cache over fresh files',
      read: async (p: string) => (p === refPath ? other : fresh.get(p)!),
      reread: async (p: string) => {
        reread.push(p);
        return fresh.get(p)!;
      },
    });
    expect(reread).toEqual([refPath]);
    expect(b.sprites.get('reference')).toBe(ref);
  });

  it('a sprite that does not match, with nothing to read again, is refused with its path', async () => {
    const { loadBundle } = await import('../../src/core/bundle/source');
    const { fresh, refPath, other } = await bundleWithSpriteHash();
    await expect(loadBundle({ label: 'server', read: async (p: string) => (p === refPath ? other : fresh.get(p)!) })).rejects.toThrow(
      new RegExp(`${refPath}.*(bytes|sha256)`),
    );
  });
});

describe('content hash', () => {
  it('is sha256 over the hashes of the manifest and every file, whether the manifest declares hashes (reused) or not', async () => {
    const { loadBundle, sha256Hex } = await import('../../src/core/bundle/source');
    const { makeTestBundle, memorySource } = await import('../support/testBundle');
    const { files, manifest } = makeTestBundle();
    const entry = async (path: string) => ({ path, bytes: files.get(path)!.byteLength, sha256: await sha256Hex(files.get(path)!) });
    const declared = {
      ...manifest,
      models: { zeroShot: await entry('zeroshot.onnx'), fineTuned: await entry('finetuned.onnx') },
      eval: {
        sets: await Promise.all(manifest.eval!.sets.map(async (s) => ({ ...s, sprite: { ...s.sprite, ...(await entry(s.sprite.path)) } }))),
      },
    };
    for (const m of [manifest, declared]) {
      const withManifest = new Map(files);
      withManifest.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
      const parts = ['manifest.json', 'zeroshot.onnx', 'finetuned.onnx', ...m.eval!.sets.map((s) => s.sprite.path)].map((p) =>
        withManifest.get(p)!,
      );
      const want = (await sha256Hex(new TextEncoder().encode((await Promise.all(parts.map(sha256Hex))).join(':')))).slice(0, 16);
      expect((await loadBundle(memorySource(withManifest))).bundleHash).toBe(want);
    }
  });
});
