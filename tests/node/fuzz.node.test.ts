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
  type OnnxModel,
} from '../../src/core/onnx/model';
import { isSafeRelativePath } from '../../src/core/bundle/paths';
import { analyzePair } from '../../src/core/onnx/pair';
import { ModelProtoType } from '../../src/core/onnx/proto';
import { ManifestError, parseManifest } from '../../src/core/bundle/manifest';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ResourceLedger } from '../../src/core/runtime/ledger';
import { ortNode } from '../../src/core/runtime/ort-node';
import { buildTestModel, randomWeights, perturb, randomImages, IMAGE_DIMS } from '../support/testPair';
import { Explorer } from '../../src/core/explorer';
import { loadBundle, BundleError } from '../../src/core/bundle/source';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { pngBomb, zipOf, deflatedZeros, crc32 } from '../support/bombs';
import { readImageHeader, checkPixelBudget, ImageTooLargeError, MAX_IMAGE_PIXELS } from '../../src/core/image/header';
import { spriteSet, pixelsOf } from '../../src/core/eval/sprites';
import { unzipEntries, planEvalFolder, EvalFolderError, ZIP_LIMITS } from '../../src/core/eval/folder';
import { ResultStore } from '../../src/core/eval/frontier';
import { toResultLine, parseResults, ResultsError } from '../../src/core/eval/results';
import { setIdProblem, isReservedKey } from '../../src/core/eval/ids';
import { toCurve } from '../../src/state/imported';
import { boundedFetch, DownloadError } from '../../src/core/bundle/net';
import { createServer } from 'node:http';

/** Generous: a case that takes this long is a hang or a runaway allocation, not a slow machine. */
const BOUND_MS = 2000;

// Cases per property: thousands for the cheap ones, the whole file in well under 30 s on 2 cores.
const RUNS = {
  bytes: 15_000,
  truncations: 2_000,
  flips: 6_000,
  headers: 5_000,
  json: 5_000,
  text: 5_000,
  mutations: 5_000,
  escapes: 3_000,
  urls: 15_000,
  engine: 50,
};

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
  const offset = fc.oneof(
    fc.nat(bytes.byteLength - 1),
    fc.nat(structure.length - 1).map((i) => structure[i]!),
  );
  const edit = fc.oneof(
    fc.record({ at: offset, bit: fc.nat(7) }).map(({ at, bit }) => (b: Uint8Array) => {
      b[at]! ^= 1 << bit;
    }),
    fc.record({ at: offset, value: fc.nat(255) }).map(({ at, value }) => (b: Uint8Array) => {
      b[at] = value;
    }),
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
    const external = fc
      .record({
        location: fc.constantFrom('w.bin', 'missing.bin', '../w.bin', '/w.bin', 'http://x/w.bin', ''),
        offset: fc.oneof(count, fc.string({ maxLength: 4 })),
        length: fc.oneof(count, fc.string({ maxLength: 4 })),
      })
      .map(({ location, offset, length }) => [
        { key: 'location', value: location },
        { key: 'offset', value: offset },
        { key: 'length', value: length },
      ]);
    const tensor = fc.record(
      {
        name: fc.constantFrom('w', 'b', 'w'),
        dims: fc.array(int64, { maxLength: 6 }),
        data_type: fc.integer({ min: -2, max: 24 }),
        raw_data: fc.option(fc.oneof(fc.nat(64), fc.constantFrom(4096, 65_536)).map((n) => new Uint8Array(n))),
        float_data: fc.array(fc.float(), { maxLength: 16 }),
        int32_data: fc.array(fc.integer(), { maxLength: 16 }),
        int64_data: fc.array(int64, { maxLength: 8 }),
        data_location: fc.constantFrom(0, 0, 1, 7),
        external_data: fc.option(external),
      },
      { requiredKeys: ['name', 'dims', 'data_type'] },
    );
    const dim = fc.oneof(
      int64.map((v) => ({ dim_value: v })),
      fc.constant({ dim_param: 'batch' }),
    );
    const valueInfo = (name: string) =>
      fc.record({
        name: fc.constant(name),
        type: fc.record({
          tensor_type: fc.record({
            elem_type: fc.integer({ min: -1, max: 20 }),
            shape: fc.record({ dim: fc.array(dim, { maxLength: 4 }) }),
          }),
        }),
      });
    const model = fc
      .record({
        ir_version: fc.oneof(fc.constant(8), int64),
        initializer: fc.array(tensor, { maxLength: 4 }),
        input: fc.array(valueInfo('x'), { maxLength: 2 }),
        output: fc.array(valueInfo('y'), { minLength: 1, maxLength: 2 }),
      })
      .map(({ ir_version, initializer, input, output }) =>
        ModelProtoType.encode(
          ModelProtoType.fromObject({
            ir_version,
            opset_import: [{ domain: '', version: 17 }],
            graph: { name: 'g', node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }], initializer, input, output },
          }),
        ).finish(),
      );
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
      const m = JSON.parse(text) as Record<string, unknown> & { models: { zeroShot: unknown; members?: { model: unknown }[] } };
      if (!m.models.members) return m;
      // The bundled pair is v2: its first member is the v1 fine-tuned model (v2 is built from this below).
      return { ...m, format: 'wiseft-pair/1', models: { zeroShot: m.models.zeroShot, fineTuned: m.models.members[0]!.model } };
    } catch {
      // Being written by someone else right now: the built one serves as well.
    }
  }
  const set = (id: string, role: string, analogue: string) => ({
    id,
    name: `${id} set`,
    role,
    analogue,
    description: `the ${id} images`,
    sprite: { path: `eval/${id}.png`, tile: 32, columns: 2, count: 4 },
    labels: [0, 1, 2, 1],
    classes: null,
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
    text: {
      model: { path: 'text.onnx', bytes: 1 },
      tokenizer: 'tokenizer.json',
      contextLength: 16,
      padId: 0,
      input: 'input_ids',
      output: 'text_embedding',
    },
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

const RELATIVE_PATHS = [
  'models.zeroShot.path',
  'models.fineTuned.path',
  'text.model.path',
  'text.tokenizer',
  'eval.sets.0.sprite.path',
  'eval.sets.1.sprite.path',
];

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
          id: 'e2e-seed0',
          name: 'End-to-end fine-tuning, seed 0',
          kind: 'end-to-end',
          seed: 0,
          description: 'one paragraph',
          model: fineTuned,
          sweeps: {
            weight: { path: 'sweeps/e2e-seed0.weight.jsonl', bytes: 3296, sha256: 'c'.repeat(64) },
            output: { path: 'sweeps/e2e-seed0.output.jsonl', bytes: 3297, sha256: 'd'.repeat(64) },
          },
        },
        {
          id: 'lp-seed1',
          name: 'Linear classifier, seed 1',
          kind: 'linear-classifier',
          seed: 1,
          model: { path: 'members/lp-seed1.onnx', bytes: 1234, sha256: 'e'.repeat(64) },
        },
      ],
    },
  };
}

const RELATIVE_PATHS_V2 = [
  'models.zeroShot.path',
  'models.members.0.model.path',
  'models.members.1.model.path',
  'models.members.0.sweeps.weight.path',
  'models.members.0.sweeps.output.path',
  'text.model.path',
  'text.tokenizer',
  'eval.sets.0.sprite.path',
];

const segment = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', '_', '%', '2', 'e', 'E'), minLength: 1, maxLength: 4 });
/** Paths that leave the bundle's folder, or name another host, in the ways a URL or a server reads them. */
const escapingPath = fc.oneof(
  fc.constantFrom(
    '..',
    '../x',
    '/etc/passwd',
    'http://evil/x',
    'https://evil/x.onnx',
    '//evil/x',
    'file:///etc/passwd',
    'C:\\x.onnx',
    'c:x',
    '\\\\server\\x',
    'javascript:alert(1)',
    'data:application/octet-stream;base64,AA==',
    ' //evil/x',
    '\t../x',
    '.\t./x',
    '%2e%2e/x',
    '.%2E/x',
    'a/%2e%2e/%2e%2e/x',
    'a%2f..%2f..%2fx',
    'x\n',
    '..#',
    '..?x',
    'a/..#/../x',
    '',
  ),
  fc
    .tuple(
      fc.array(segment, { maxLength: 3 }),
      fc.constantFrom('..', '%2e%2e', '.%2e', '%2E.'),
      fc.array(segment, { maxLength: 3 }),
      fc.constantFrom('/', '\\'),
    )
    .map(([pre, up, post, sep]) => [...pre, up, ...post].join(sep)),
  fc
    .tuple(
      fc.constantFrom('/', '\\', 'http://', 'https:', 'ftp://', 'blob:', '//', ' /', '\n//'),
      fc.array(segment, { minLength: 1, maxLength: 3 }),
    )
    .map(([pre, segs]) => pre + segs.join('/')),
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
        const nullable =
          path.length === 4 &&
          path[0] === 'eval' &&
          ['analogue', 'classes'].includes(String(path[3])) &&
          (value === null || original === null);
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
        const e = manifestOutcome(
          JSON.stringify(
            setAt(
              manifest,
              field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
              bad,
            ),
          ),
        );
        expect(e, `${field} = ${JSON.stringify(bad)}`).toBeInstanceOf(ManifestError);
        expect(e!.message).toContain(`${field}: must be a relative path inside the bundle`);
      }),
      { numRuns: RUNS.escapes },
    );
  });

  it('(e) a path isSafeRelativePath accepts resolves, as a URL, inside the bundle folder', () => {
    const base = 'https://host.example/pairs/shapes/';
    const chars = fc.constantFrom(
      '.',
      '.',
      '/',
      '\\',
      '%',
      '2',
      'e',
      'E',
      'f',
      '5',
      'c',
      ':',
      ' ',
      '\t',
      '\n',
      '\r',
      '\0',
      'a',
      'x',
      '?',
      '#',
      '@',
      'é',
    );
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
        for (const [a, b] of [
          [valid, ft],
          [ft, ft],
        ] as const) {
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

// Issue 13: the manifest against the model (class count vs logits width, logits rank), keys that
// are Object.prototype names, and decompression bombs (PNG and zip, built in memory).

/** The test pair's logits output with its declared shape replaced (null: no shape declared). */
function withLogitsDims(bytes: Uint8Array, dims: (number | string)[] | null): Uint8Array {
  const obj = ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: String, bytes: Array }) as {
    graph: { output: { name: string; type: { tensor_type: { shape?: unknown } } }[] };
  };
  const o = obj.graph.output.find((x) => x.name === 'logits')!;
  if (dims === null) delete o.type.tensor_type.shape;
  else o.type.tensor_type.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: String(d) } : { dim_param: d })) };
  return ModelProtoType.encode(ModelProtoType.fromObject(obj)).finish();
}

describe('fuzz: a pair whose manifest and model disagree is refused at load, and the loaded pair stays', () => {
  it('(k) on random class counts and declared logits shapes', async () => {
    const ledger = new ResourceLedger();
    const ex = new Explorer({ ort: ortNode, backend: 'cpu', ledger });
    const good = makeTestBundle({ sets: [{ id: 'reference', role: 'reference', count: 10 }] });
    await ex.loadPair(await loadBundle(memorySource(good.files)));
    const before = ex.current!.bundleHash;
    const outcomes = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 2, max: 12 }), fc.constantFrom(5, 5, 10_000)),
        fc.constantFrom<(number | string)[] | null>(
          ['batch', 5],
          ['batch', 5],
          ['batch', 6],
          ['batch'],
          ['batch', 5, 1],
          [5],
          ['batch', 'classes'],
          null,
        ),
        async (classes, dims) => {
          counts.set('loadPair on class/logit mismatches', (counts.get('loadPair on class/logit mismatches') ?? 0) + 1);
          const b = makeTestBundle({ sets: [{ id: 'reference', role: 'reference', count: 10 }], seed: 5 });
          for (const path of ['zeroshot.onnx', 'finetuned.onnx']) b.files.set(path, withLogitsDims(b.files.get(path)!, dims));
          const m = JSON.parse(new TextDecoder().decode(b.files.get('manifest.json')!)) as {
            classes: string[];
            eval: { sets: { labels: number[] }[] };
          };
          m.classes = Array.from({ length: classes }, (_, i) => `class ${i}`);
          m.eval.sets[0]!.labels = m.eval.sets[0]!.labels.map((l) => l % classes);
          b.files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
          const t0 = performance.now();
          try {
            await ex.loadPair(await loadBundle(memorySource(b.files)));
            // Accepted only when the model really has one logit per class in a [batch, classes] output.
            expect(classes).toBe(5);
            outcomes.accepted++;
            await ex.loadPair(await loadBundle(memorySource(good.files)));
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
            expect((e as Error).message).toMatch(/logits|ShapeInference|onnxruntime/);
            outcomes.refused++;
            // A wrong class count is always refused; then the good pair is still the one in service.
            expect(ex.current!.bundleHash).toBe(before);
          }
          expect(performance.now() - t0).toBeLessThan(2 * BOUND_MS);
        },
      ),
      { numRuns: 40 },
    );
    expect(ex.current!.bundleHash).toBe(before);
    expect(ledger.count('blend-session')).toBe(1);
    await ex.dispose();
    console.log(`fuzz: class/logit mismatches: ${outcomes.accepted} accepted, ${outcomes.refused} refused`);
  });
});

const RESERVED = Object.getOwnPropertyNames(Object.prototype).concat('__proto__', 'prototype');
const anyKey = fc.oneof(
  fc.constantFrom(...RESERVED),
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
);

describe('fuzz: keys that are Object.prototype names never corrupt results', () => {
  it('(l) ResultStore, results lines and imported curves keep every set, whatever its name', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          anyKey.filter((k) => !k.includes(':') && k.trim() === k && k.length > 0 && !/[\r\n]/.test(k)),
          { minLength: 2, maxLength: 6 },
        ),
        (ids) => {
          counts.set('prototype keys through results', (counts.get('prototype keys through results') ?? 0) + 1);
          const store = new ResultStore(ids.map((id) => ({ id, count: 4 })));
          ids.forEach((id, k) =>
            store.record(
              { alpha: 0.5, setId: id, chunk: 0, start: 0, end: 4 },
              [0, 1, 2, 3].map((i) => (i < k % 5 ? 1 : 0)),
            ),
          );
          const point = store.point(0.5);
          expect(Object.keys(point).sort()).toEqual([...ids].sort());
          const line = toResultLine(0.5, point);
          const back = parseResults(JSON.stringify(line));
          const curve = toCurve('f.jsonl', [...back, { ...back[0]!, alpha: 1 }], null);
          expect([curve.reference, ...curve.shifts].sort()).toEqual([...ids].sort());
          for (const p of curve.points) {
            expect(Object.keys(p.perSet).sort()).toEqual([...ids].sort());
            expect(Number.isFinite(p.shift)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('(l) set names from manifests and folders: a reserved name is refused with a message, an accepted one is usable', () => {
    const manifest = validManifest() as { eval: { sets: { id: string }[] } };
    fc.assert(
      fc.property(anyKey, (id) => {
        counts.set('prototype keys as set ids', (counts.get('prototype keys as set ids') ?? 0) + 1);
        const m = structuredClone(manifest);
        m.eval.sets[1]!.id = id;
        const e = manifestOutcome(JSON.stringify(m));
        if (isReservedKey(id)) expect(e?.message).toContain('eval.sets.1.id: ');
        let plan: ReturnType<typeof planEvalFolder> | EvalFolderError;
        try {
          plan = planEvalFolder([`${id}/circle/1.png`, 'reference/circle/1.png'], ['circle', 'square']);
        } catch (err) {
          if (!(err instanceof EvalFolderError)) throw err;
          plan = err;
        }
        if (isReservedKey(id)) expect(plan).toBeInstanceOf(EvalFolderError);
        if (!(plan instanceof EvalFolderError)) for (const s of plan) expect(setIdProblem(s.id)).toBeNull();
      }),
      // Each case validates a whole manifest (zod): 1,000 keep the file's run time in bounds.
      { numRuns: 1_000 },
    );
  });
});

/** A PNG of any declared size: signature and IHDR with right CRC, then an IDAT of `tail` bytes. */
function pngHeader(width: number, height: number, tail: Uint8Array): Uint8Array {
  const be = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  const ihdr = Uint8Array.of(...be(width), ...be(height), 8, 2, 0, 0, 0);
  const type = new TextEncoder().encode('IHDR');
  const idat = new TextEncoder().encode('IDAT');
  return Uint8Array.of(
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...be(13),
    ...type,
    ...ihdr,
    ...be(crc32(type, ihdr)),
    ...be(tail.length),
    ...idat,
    ...tail,
    ...be(crc32(idat, tail)),
    0,
    0,
    0,
    0,
    0x49,
    0x45,
    0x4e,
    0x44,
    0xae,
    0x42,
    0x60,
    0x82,
  );
}

describe("fuzz: decompression bombs are refused from their headers, quickly, with the module's own error", () => {
  const spec = (count: number, columns: number) => ({
    id: 'ref',
    name: 'ref',
    role: 'reference' as const,
    analogue: null,
    sprite: { path: 'eval/ref.png', tile: 8, columns, count },
    labels: Array.from({ length: count }, () => 0),
    classes: null,
  });
  const dim = fc.oneof(
    fc.integer({ min: 0, max: 200 }),
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    fc.constantFrom(20000, 65535, 2 ** 31 - 1, 2 ** 32 - 1),
  );

  it('(m) PNG headers of any size: sprite sheets and the pixel budget', () => {
    fc.assert(
      fc.property(
        dim,
        dim,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.uint8Array({ maxLength: 64 }),
        (w, h, count, columns, tail) => {
          const png = pngHeader(w, h, tail);
          expect(readImageHeader(png)).toEqual({ format: 'png', width: w, height: h });
          timed('pixel budget on PNG headers', () => {
            try {
              checkPixelBudget('x.png', readImageHeader(png)!, png.length);
              expect(w * h).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
            } catch (e) {
              expect(e).toBeInstanceOf(ImageTooLargeError);
            }
            try {
              const set = spriteSet(spec(count, columns), png);
              // Accepted only when the sheet fits the tiles (with a spare row and column at most)...
              expect(w).toBeLessThanOrEqual((columns + 1) * 8);
              // ...and decoding it (garbage data) is bounded by that and refused cleanly.
              pixelsOf(set);
            } catch (e) {
              expect(e).toBeInstanceOf(BundleError);
            }
          });
        },
      ),
      { numRuns: 3_000 },
    );
    // And the real thing: a 20000×20000 sheet that decodes (1.2 GB) is refused in the header.
    const bomb = pngBomb(20000, 20000);
    timed('pixel budget on PNG headers', () => expect(() => spriteSet(spec(10, 10), bomb)).toThrow(BundleError));
  });

  it('(m) zips whose entries declare any size, some of them bombs, and their mutations', () => {
    const bomb = deflatedZeros(1_900_000_000, 10_000_000);
    const small = deflatedZeros(1000, 1000);
    const entry = fc.record({
      name: fc.constantFrom(
        's/c0/a.png',
        's/c0/b.jpg',
        's/c1/c.webp',
        'notes.txt',
        's/.hidden.png',
        '../x.png',
        '__proto__',
        's/c0/__proto__.png',
      ),
      kind: fc.constantFrom('small', 'bomb', 'liar'),
    });
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { maxLength: 3 }),
        (entries, edits) => {
          const zip = zipOf(
            entries.map((e) => ({
              name: e.name,
              method: 8 as const,
              data: e.kind === 'bomb' ? bomb : small,
              size: e.kind === 'bomb' ? 1_900_000_000 : e.kind === 'liar' ? 10 : 1000,
            })),
          );
          for (const { at, value } of edits) zip[at % zip.length] = value;
          timed('unzipEntries on bombs', () => {
            let out: Map<string, Uint8Array>;
            try {
              out = unzipEntries(zip);
            } catch (e) {
              expect(e).toBeInstanceOf(EvalFolderError);
              return;
            }
            let total = 0;
            for (const [name, bytes] of out) {
              expect(name).toMatch(/\.(png|jpe?g|gif|webp|bmp|avif)$/i);
              expect(bytes.length).toBeLessThanOrEqual(ZIP_LIMITS.entryBytes);
              total += bytes.length;
            }
            expect(total).toBeLessThanOrEqual(ZIP_LIMITS.totalBytes);
            // Unmutated: a bomb image entry is never let through.
            if (edits.length === 0)
              expect(
                entries.some(
                  (e) => e.kind === 'bomb' && /\.(png|jpg|webp)$/.test(e.name) && !e.name.includes('/.') && !e.name.startsWith('..'),
                ),
              ).toBe(false);
          });
        },
      ),
      { numRuns: 1_500 },
    );
  });
});

describe('fuzz: results files with hostile values', () => {
  it('(n) non-finite, out-of-range or non-number accuracies are refused with their line, never dropped', () => {
    const value = fc.oneof(fc.double(), fc.constantFrom('1e999', '-1e999', 'NaN', '"0.5"', 'null', 'true', '[]', '{}'));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 5 }), (values) => {
        counts.set('parseResults on hostile values', (counts.get('parseResults on hostile values') ?? 0) + 1);
        const raw = (v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? JSON.stringify(v) : '1e999') : String(v));
        const text = `{"alpha":0.5,${values.map((v, i) => `"set${i}:top1":${raw(v)}`).join(',')}}`;
        let lines: ReturnType<typeof parseResults>;
        try {
          JSON.parse(text);
        } catch {
          return; // NaN is not JSON: the line is refused as not JSON
        }
        try {
          lines = parseResults(text);
        } catch (e) {
          expect(e).toBeInstanceOf(ResultsError);
          expect((e as Error).message).toMatch(/^line 1/);
          return;
        }
        // Accepted: every value made it, as a fraction.
        expect(Object.keys(lines[0]!).filter((k) => k.endsWith(':top1'))).toHaveLength(values.length);
        for (const [k, v] of Object.entries(lines[0]!)) if (k !== 'alpha') expect(v >= 0 && v <= 1).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });
});

// Issue 13, item 2: the download reader against hosts that send endless, slow, stalling or lying
// bodies, from a Node server on 127.0.0.1 (bounded: every body stops after 3 s, the server after
// the block). Each case must end in bytes within the limits or a DownloadError, and in time.
describe('fuzz: boundedFetch against endless and slow streams (a local server)', () => {
  interface Plan {
    chunks: { size: number; delayMs: number }[];
    endless: boolean;
    contentLength: 'none' | 'true' | 'lie-high';
    expected: 'none' | 'exact' | 'low' | 'high';
  }
  const plan: fc.Arbitrary<Plan> = fc.record({
    chunks: fc.array(
      fc.record({
        size: fc.oneof(fc.nat(64), fc.integer({ min: 1000, max: 70_000 })),
        delayMs: fc.oneof(fc.constant(0), fc.nat(40), fc.constantFrom(250, 700)),
      }),
      { maxLength: 8 },
    ),
    endless: fc.boolean(),
    contentLength: fc.constantFrom('none', 'true', 'lie-high'),
    expected: fc.constantFrom('none', 'exact', 'low', 'high'),
  });
  const IDLE_MS = 500;
  const TOTAL_MS = 1500;
  const MAX_BYTES = 200_000;

  it('(g) every case ends in bytes within the limits or a DownloadError, within the timeouts', { timeout: 120_000 }, async () => {
    const plans = new Map<string, Plan>();
    const server = createServer((req, res) => {
      const p = plans.get(new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '');
      if (!p) return void res.writeHead(404).end();
      const finite = p.chunks.reduce((s, c) => s + c.size, 0);
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
      if (p.contentLength === 'true' && !p.endless) headers['Content-Length'] = String(finite);
      if (p.contentLength === 'lie-high') headers['Content-Length'] = String(finite + 10_000_000);
      res.writeHead(200, headers);
      const t0 = Date.now();
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (Date.now() - t0 > 3000) return void res.destroy();
        const c = p.chunks[i++] ?? (p.endless ? { size: 16_384, delayMs: 0 } : null);
        if (!c) return void res.end();
        res.write(new Uint8Array(c.size).fill(i & 0xff), () => void setTimeout(next, c.delayMs));
      };
      next();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    server.unref();
    const outcomes: Record<string, number> = {};
    let id = 0;
    try {
      await fc.assert(
        fc.asyncProperty(plan, async (p) => {
          counts.set('boundedFetch on hostile streams', (counts.get('boundedFetch on hostile streams') ?? 0) + 1);
          const key = String(++id);
          plans.set(key, p);
          const finite = p.chunks.reduce((s, c) => s + c.size, 0);
          const expectedBytes =
            p.expected === 'none'
              ? undefined
              : p.expected === 'exact'
                ? finite
                : p.expected === 'low'
                  ? Math.floor(finite / 2)
                  : finite + 1000;
          const t0 = performance.now();
          try {
            const bytes = await boundedFetch(`${origin}/f?id=${key}`, {
              origin,
              name: 'f.onnx',
              maxBytes: MAX_BYTES,
              idleMs: IDLE_MS,
              totalMs: TOTAL_MS,
              ...(expectedBytes !== undefined ? { expectedBytes } : {}),
            });
            expect(bytes.byteLength).toBeLessThanOrEqual(Math.min(MAX_BYTES, expectedBytes ?? Infinity));
            expect(p.endless).toBe(false);
            expect(bytes.byteLength).toBe(finite);
            outcomes.ok = (outcomes.ok ?? 0) + 1;
          } catch (e) {
            if (!(e instanceof DownloadError)) throw e;
            expect(e.message.length).toBeGreaterThan(0);
            outcomes[e.kind] = (outcomes[e.kind] ?? 0) + 1;
          }
          // The deadline, plus one idle period of slack for the abort to land.
          expect(performance.now() - t0).toBeLessThan(TOTAL_MS + IDLE_MS + 500);
          plans.delete(key);
        }),
        { numRuns: 60 },
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    console.log(`fuzz: boundedFetch outcomes ${JSON.stringify(outcomes)}`);
    expect(outcomes.ok ?? 0).toBeGreaterThan(0);
    expect((outcomes['too-large'] ?? 0) + (outcomes.timeout ?? 0)).toBeGreaterThan(0);
  });
});
