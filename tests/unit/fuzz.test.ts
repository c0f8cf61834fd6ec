// Property tests for everything that reads untrusted bytes: ONNX files and bundle manifests. Each
// input must either be accepted or refused with the module's own error type, quickly; any other
// exception (a TypeError from a half-validated object, a RangeError from an allocation) is a bug.
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import {
  OnnxError,
  parseModel,
  serializeModel,
  describeTensor,
  tensorValues,
  listInitializers,
  inlineExternalData,
  isSafeRelativePath,
  type OnnxModel,
} from '../../src/core/onnx/model';
import { analyzePair } from '../../src/core/onnx/pair';
import { ModelProtoType } from '../../src/core/onnx/proto';
import { ManifestError, parseManifest } from '../../src/core/bundle/manifest';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { buildTestModel, randomWeights, perturb, randomImages, IMAGE_DIMS } from '../support/testPair';

/** Generous: a case that takes this long is a hang or a runaway allocation, not a slow machine. */
const BOUND_MS = 2000;

// Cases per property: thousands for the cheap ones, the whole file in well under 30 s on 2 cores.
const RUNS = { bytes: 15_000, truncations: 2_000, flips: 6_000, headers: 5_000, json: 5_000, text: 5_000, mutations: 5_000, escapes: 3_000, urls: 15_000, engine: 50 };

const valid = buildTestModel(randomWeights(31));
const validFt = buildTestModel(perturb(randomWeights(31), 32));
const validHalf = buildTestModel(randomWeights(31), { fp16: true });
const validModel = parseModel(valid);

const counts = new Map<string, number>();
let slowest = 0;
afterAll(() => {
  for (const [what, n] of counts) console.log(`fuzz: ${what} ${n} cases`);
  console.log(`fuzz: slowest case ${slowest.toFixed(1)} ms`);
});

/** Runs one case, counts it and fails it when it runs past BOUND_MS. */
function timed<T>(what: string, fn: () => T): T {
  counts.set(what, (counts.get(what) ?? 0) + 1);
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  if (ms > BOUND_MS) throw new Error(`${what}: one case took ${ms.toFixed(0)} ms`);
  return out;
}

/** The value, or the OnnxError it was refused with; any other exception fails the property. */
function onnxOutcome<T>(fn: () => T): T | OnnxError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OnnxError && e.message.length > 0) return e;
    throw e;
  }
}

/** Parses the bytes and, where a model comes out, every later stage that reads its headers. */
function exercise(bytes: Uint8Array): OnnxModel | OnnxError {
  const m = onnxOutcome(() => parseModel(bytes));
  if (m instanceof OnnxError) return m;
  for (const t of m.graph.initializer) {
    onnxOutcome(() => describeTensor(t));
    onnxOutcome(() => tensorValues(t));
  }
  onnxOutcome(() => listInitializers(m));
  onnxOutcome(() => inlineExternalData(m, new Map([['w.bin', new Uint8Array(256)]])));
  onnxOutcome(() => analyzePair(validModel, m));
  onnxOutcome(() => analyzePair(m, m));
  onnxOutcome(() => parseModel(serializeModel(m)));
  return m;
}

/** Byte offsets of the model's structure: everything outside the initializers' raw_data. */
function structuralOffsets(bytes: Uint8Array): number[] {
  const model = parseModel(bytes);
  const inData = new Uint8Array(bytes.byteLength);
  for (const t of model.graph.initializer) {
    const raw = t.raw_data!;
    // Decoded raw_data is a view into `bytes`: its offset is where the tensor's values lie.
    expect(raw.buffer).toBe(bytes.buffer);
    inData.fill(1, raw.byteOffset - bytes.byteOffset, raw.byteOffset - bytes.byteOffset + raw.byteLength);
  }
  return [...inData.keys()].filter((i) => inData[i] === 0);
}

/** Bit flips and byte overwrites, half of them aimed at the structure (raw_data is most of the file). */
function mutations(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const structure = structuralOffsets(bytes);
  const offset = fc.oneof(fc.nat(bytes.byteLength - 1), fc.nat(structure.length - 1).map((i) => structure[i]!));
  const edit = fc.oneof(
    fc.record({ at: offset, bit: fc.nat(7) }).map(({ at, bit }) => (b: Uint8Array) => { b[at]! ^= 1 << bit; }),
    fc.record({ at: offset, value: fc.nat(255) }).map(({ at, value }) => (b: Uint8Array) => { b[at] = value; }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    // Not bytes.slice(): the test models are Node Buffers, whose slice() shares their memory.
    const out = Uint8Array.from(bytes);
    for (const e of edits) e(out);
    return out;
  });
}

describe('fuzz: parseModel accepts a model or throws OnnxError, never anything else', () => {
  it('(a) on random bytes', () => {
    const prefixed = fc.tuple(fc.nat(200), fc.uint8Array({ maxLength: 2048 })).map(([n, tail]) => {
      // A real header followed by garbage reaches deeper than garbage alone.
      const out = new Uint8Array(n + tail.byteLength);
      out.set(valid.subarray(0, n));
      out.set(tail, n);
      return out;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 4096 }), prefixed), (bytes) => {
        timed('parseModel on random bytes', () => exercise(bytes));
      }),
      { numRuns: RUNS.bytes },
    );
  });

  it('(b) on every truncation of a valid model, and refuses each one', () => {
    for (const model of [valid, validHalf]) {
      for (let n = 0; n < model.byteLength; n++) {
        const got = timed('parseModel on truncations', () => exercise(model.subarray(0, n)));
        if (!(got instanceof OnnxError)) throw new Error(`a model truncated to ${n} of ${model.byteLength} bytes was accepted`);
      }
    }
    // And at random lengths of a longer file: a model followed by a second, cut short.
    const doubled = new Uint8Array([...valid, ...validFt]);
    fc.assert(
      fc.property(fc.integer({ min: valid.byteLength + 1, max: doubled.byteLength - 1 }), (n) => {
        timed('parseModel on truncations', () => exercise(doubled.subarray(0, n)));
      }),
      { numRuns: RUNS.truncations },
    );
  });

  it('(c) on random bit flips and byte overwrites of a valid model', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.oneof(mutations(valid), mutations(validHalf)), (bytes) => {
        if (!(timed('parseModel on bit flips', () => exercise(bytes)) instanceof OnnxError)) parsed++;
      }),
      { numRuns: RUNS.flips },
    );
    console.log(`fuzz: ${parsed} of ${RUNS.flips} flipped models still parsed`);
  });

  it('(d) on models with huge, negative or overflowing dims, odd dtypes and raw_data lengths', () => {
    const int64 = fc.oneof(
      fc.integer({ min: -2, max: 70_000 }),
      fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 2 ** 53 + 2, -(2 ** 53)),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    );
    const count = fc.oneof(fc.nat(64), fc.constantFrom(2 ** 32, 2 ** 53, -1, -(2 ** 40))).map(String);
    const external = fc.record({
      location: fc.constantFrom('w.bin', 'missing.bin', '../w.bin', '/w.bin', 'http://x/w.bin', ''),
      offset: fc.oneof(count, fc.string({ maxLength: 4 })),
      length: fc.oneof(count, fc.string({ maxLength: 4 })),
    }).map(({ location, offset, length }) => [{ key: 'location', value: location }, { key: 'offset', value: offset }, { key: 'length', value: length }]);
    const tensor = fc.record({
      name: fc.constantFrom('w', 'b', 'w'),
      dims: fc.array(int64, { maxLength: 6 }),
      data_type: fc.integer({ min: -2, max: 24 }),
      raw_data: fc.option(fc.oneof(fc.nat(64), fc.constantFrom(4096, 65_536)).map((n) => new Uint8Array(n))),
      float_data: fc.array(fc.float(), { maxLength: 16 }),
      int32_data: fc.array(fc.integer(), { maxLength: 16 }),
      int64_data: fc.array(int64, { maxLength: 8 }),
      data_location: fc.constantFrom(0, 0, 1, 7),
      external_data: fc.option(external),
    }, { requiredKeys: ['name', 'dims', 'data_type'] });
    const dim = fc.oneof(int64.map((v) => ({ dim_value: v })), fc.constant({ dim_param: 'batch' }));
    const valueInfo = (name: string) => fc.record({ name: fc.constant(name), type: fc.record({ tensor_type: fc.record({ elem_type: fc.integer({ min: -1, max: 20 }), shape: fc.record({ dim: fc.array(dim, { maxLength: 4 }) }) }) }) });
    const model = fc.record({
      ir_version: fc.oneof(fc.constant(8), int64),
      initializer: fc.array(tensor, { maxLength: 4 }),
      input: fc.array(valueInfo('x'), { maxLength: 2 }),
      output: fc.array(valueInfo('y'), { minLength: 1, maxLength: 2 }),
    }).map(({ ir_version, initializer, input, output }) =>
      ModelProtoType.encode(ModelProtoType.fromObject({
        ir_version,
        opset_import: [{ domain: '', version: 17 }],
        graph: { name: 'g', node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }], initializer, input, output },
      })).finish());
    fc.assert(
      fc.property(model, (bytes) => {
        timed('parseModel on hostile headers', () => exercise(bytes));
      }),
      { numRuns: RUNS.headers },
    );
  });
});

// A manifest that follows docs/bundle-format.md, or the bundled pair's own where it is there.
function validManifest(): Record<string, unknown> {
  const bundled = 'public/pairs/shapes/manifest.json';
  if (existsSync(bundled)) {
    try {
      const text = readFileSync(bundled, 'utf8');
      parseManifest(text);
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Being written by someone else right now: the built one serves as well.
    }
  }
  const set = (id: string, role: string, analogue: string) => ({
    id, name: `${id} set`, role, analogue, description: `the ${id} images`,
    sprite: { path: `eval/${id}.png`, tile: 32, columns: 2, count: 4 },
    labels: [0, 1, 2, 1], classes: null,
  });
  return {
    format: 'wiseft-pair/1',
    name: 'Shapes world · tiny CLIP',
    description: 'a test pair',
    citation: 'none',
    models: {
      zeroShot: { path: 'zeroshot.onnx', bytes: 1234, sha256: 'a'.repeat(64) },
      fineTuned: { path: 'finetuned.onnx', bytes: 1234, sha256: 'b'.repeat(64) },
    },
    io: { image: 'image', embedding: 'embedding', logits: 'logits' },
    text: { model: { path: 'text.onnx', bytes: 1 }, tokenizer: 'tokenizer.json', contextLength: 16, padId: 0, input: 'input_ids', output: 'text_embedding' },
    logitScale: 100,
    templates: ['a photo of a {}.', 'a drawing of a {}.'],
    classes: ['circle', 'square', 'triangle'],
    preprocess: { size: 32, resize: 'bicubic', crop: 'center', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], layout: 'NCHW' },
    eval: { sets: [set('reference', 'reference', 'ImageNet'), set('sketch', 'shift', 'ImageNetSketch')] },
  };
}

type Json = fc.JsonValue;

/** Every path into the value; of long arrays only the first and last few elements. */
function pathsOf(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = at.length ? [at] : [];
  if (Array.isArray(v)) {
    const idx = v.length <= 4 ? v.keys() : [0, 1, v.length - 2, v.length - 1].values();
    for (const i of idx) out.push(...pathsOf(v[i]!, [...at, i]));
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) out.push(...pathsOf(v[k]!, [...at, k]));
  }
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(root);
  let o = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(o)) o.splice(Number(last), 1);
    else delete o[last];
  } else {
    o[last] = value;
  }
  return copy;
}

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The ManifestError parseManifest throws, or null when it accepts; anything else fails the property. */
function manifestOutcome(input: string | Uint8Array): ManifestError | null {
  try {
    timed('parseManifest', () => parseManifest(input));
    return null;
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    expect(e.message).toMatch(/^manifest\.json (is not valid JSON: |is invalid — (\(root\)|[\w.]+): )/);
    return e;
  }
}

const RELATIVE_PATHS = ['models.zeroShot.path', 'models.fineTuned.path', 'text.model.path', 'text.tokenizer', 'eval.sets.0.sprite.path', 'eval.sets.1.sprite.path'];

/** The same manifest in format v2, with two members (one with recorded sweeps): v2 paths fuzzed too. */
function validManifestV2(): Record<string, unknown> {
  const v1 = validManifest();
  const { zeroShot, fineTuned } = v1.models as { zeroShot: unknown; fineTuned: unknown };
  return {
    ...v1,
    format: 'wiseft-pair/2',
    models: {
      zeroShot,
      members: [
        {
          id: 'e2e-seed0', name: 'End-to-end fine-tuning, seed 0', kind: 'end-to-end', seed: 0, description: 'one paragraph', model: fineTuned,
          sweeps: { weight: { path: 'sweeps/e2e-seed0.weight.jsonl', bytes: 3296, sha256: 'c'.repeat(64) }, output: { path: 'sweeps/e2e-seed0.output.jsonl', bytes: 3297, sha256: 'd'.repeat(64) } },
        },
        { id: 'lp-seed1', name: 'Linear classifier, seed 1', kind: 'linear-classifier', seed: 1, model: { path: 'members/lp-seed1.onnx', bytes: 1234, sha256: 'e'.repeat(64) } },
      ],
    },
  };
}

const RELATIVE_PATHS_V2 = ['models.zeroShot.path', 'models.members.0.model.path', 'models.members.1.model.path', 'models.members.0.sweeps.weight.path', 'models.members.0.sweeps.output.path', 'text.model.path', 'text.tokenizer', 'eval.sets.0.sprite.path'];

const segment = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', '_', '%', '2', 'e', 'E'), minLength: 1, maxLength: 4 });
/** Paths that leave the bundle's folder, or name another host, in the ways a URL or a server reads them. */
const escapingPath = fc.oneof(
  fc.constantFrom('..', '../x', '/etc/passwd', 'http://evil/x', 'https://evil/x.onnx', '//evil/x', 'file:///etc/passwd', 'C:\\x.onnx', 'c:x', '\\\\server\\x',
    'javascript:alert(1)', 'data:application/octet-stream;base64,AA==', ' //evil/x', '\t../x', '.\t./x', '%2e%2e/x', '.%2E/x', 'a/%2e%2e/%2e%2e/x', 'a%2f..%2f..%2fx', 'x\n', '..#', '..?x', 'a/..#/../x', ''),
  fc.tuple(fc.array(segment, { maxLength: 3 }), fc.constantFrom('..', '%2e%2e', '.%2e', '%2E.'), fc.array(segment, { maxLength: 3 }), fc.constantFrom('/', '\\'))
    .map(([pre, up, post, sep]) => [...pre, up, ...post].join(sep)),
  fc.tuple(fc.constantFrom('/', '\\', 'http://', 'https:', 'ftp://', 'blob:', '//', ' /', '\n//'), fc.array(segment, { minLength: 1, maxLength: 3 })).map(([pre, segs]) => pre + segs.join('/')),
);

describe.each([
  { format: 'v1', manifest: validManifest() as Json, relativePaths: RELATIVE_PATHS },
  { format: 'v2', manifest: validManifestV2() as Json, relativePaths: RELATIVE_PATHS_V2 },
])('fuzz: parseManifest ($format) accepts a manifest or throws ManifestError naming the field', ({ manifest, relativePaths }) => {

  it('accepts the manifest the mutations start from', () => {
    expect(manifestOutcome(JSON.stringify(manifest))).toBeNull();
  });

  it('(e) on random JSON values, random text and random bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(manifestOutcome(JSON.stringify(v))).toBeInstanceOf(ManifestError);
      }),
      { numRuns: RUNS.json },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), (input) => {
        expect(manifestOutcome(input)).toBeInstanceOf(ManifestError);
      }),
      { numRuns: RUNS.text },
    );
  });

  it('(e) on mutations of a valid manifest: a replaced or removed field is named', () => {
    const paths = pathsOf(manifest);
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 4, nil: undefined }), (path, value) => {
        const original = path.reduce<Json>((o, k) => (o as Record<string | number, Json>)[k]!, manifest);
        const e = manifestOutcome(JSON.stringify(setAt(manifest, path, value)));
        // A value of another JSON type is always wrong, and the message must say where; the
        // nullable fields excepted, where null and a value are both right.
        const nullable = path.length === 4 && path[0] === 'eval' && ['analogue', 'classes'].includes(String(path[3])) && (value === null || original === null);
        if (value !== undefined && kindOf(value) !== kindOf(original) && !nullable) {
          expect(e).toBeInstanceOf(ManifestError);
          expect(e!.message).toContain(`${path.join('.')}: `);
        }
        // A removed element shortens its array: the array is named; a removed field is named itself.
        if (value === undefined && e) {
          const named = typeof path[path.length - 1] === 'number' ? path.slice(0, -1) : path;
          if (!e.message.includes(`${named.join('.')}`)) expect(e.message).toMatch(/eval\.sets\.\d+\.\w+/);
        }
      }),
      { numRuns: RUNS.mutations },
    );
  });

  it('(e) on paths that leave the bundle: "..", absolute paths, URLs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...relativePaths), escapingPath, (field, bad) => {
        const e = manifestOutcome(JSON.stringify(setAt(manifest, field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)), bad)));
        expect(e, `${field} = ${JSON.stringify(bad)}`).toBeInstanceOf(ManifestError);
        expect(e!.message).toContain(`${field}: must be a relative path inside the bundle`);
      }),
      { numRuns: RUNS.escapes },
    );
  });

  it('(e) a path isSafeRelativePath accepts resolves, as a URL, inside the bundle folder', () => {
    const base = 'https://host.example/pairs/shapes/';
    const chars = fc.constantFrom('.', '.', '/', '\\', '%', '2', 'e', 'E', 'f', '5', 'c', ':', ' ', '\t', '\n', '\r', '\0', 'a', 'x', '?', '#', '@', 'é');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: chars, maxLength: 12 }), escapingPath, fc.string({ unit: 'grapheme', maxLength: 8 })), (p) => {
        counts.set('isSafeRelativePath vs URL', (counts.get('isSafeRelativePath vs URL') ?? 0) + 1);
        if (!isSafeRelativePath(p)) return;
        const url = new URL(p, base);
        expect(url.origin, JSON.stringify(p)).toBe('https://host.example');
        expect(url.pathname.startsWith('/pairs/shapes/'), `${JSON.stringify(p)} → ${url.href}`).toBe(true);
      }),
      { numRuns: RUNS.urls },
    );
  });
});

describe('fuzz: BlendEngine.create on flipped-bit models (onnxruntime-node)', () => {
  it('(f) either loads and runs, or fails with an Error that has a message', async () => {
    const images = { data: randomImages(1, 33), dims: [1, ...IMAGE_DIMS] };
    const flipped = mutations(valid).filter((b) => !(onnxOutcome(() => parseModel(b)) instanceof OnnxError));
    const outcomes = { loaded: 0, refused: 0 };
    const settle = async (p: () => Promise<unknown>) => {
      try {
        await p();
        outcomes.loaded++;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message.length).toBeGreaterThan(0);
        outcomes.refused++;
      }
    };
    await fc.assert(
      fc.asyncProperty(flipped, async (ft) => {
        counts.set('BlendEngine.create on flipped models', (counts.get('BlendEngine.create on flipped models') ?? 0) + 1);
        const t0 = performance.now();
        // Against the intact model (the pair check's turn), and as both sides (onnxruntime's turn).
        for (const [a, b] of [[valid, ft], [ft, ft]] as const) {
          await settle(async () => {
            const engine = await BlendEngine.create(a, b, { ort: ortNode, backend: 'cpu' });
            try {
              await engine.run(0.5, images);
            } finally {
              await engine.dispose();
            }
          });
        }
        expect(performance.now() - t0).toBeLessThan(2 * BOUND_MS);
      }),
      { numRuns: RUNS.engine },
    );
    console.log(`fuzz: BlendEngine on flipped models: ${outcomes.loaded} loaded and ran, ${outcomes.refused} refused`);
  });
});
