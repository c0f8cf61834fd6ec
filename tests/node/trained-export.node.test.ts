// A member trained in the page, handed on: its ONNX file and the bundle with it added as one .zip
// (core/bundle/zip.ts), on the bundled pair and the real onnxruntime-node. A short linear probe is
// trained through the Explorer as the Worker trains it; the zip is unpacked as a dropped zip is and
// loaded as a dropped folder is; the new member must give the in-memory member's numbers exactly.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { Explorer } from '../../src/core/explorer';
import { loadBundle, filesSource, type LoadedBundle } from '../../src/core/bundle/source';
import { parseManifest, type Manifest } from '../../src/core/bundle/manifest';
import { listedFiles, unzipBundle, zipBundleWithMember } from '../../src/core/bundle/zip';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { decodeSprite, normalizeBatch, pixelsOf } from '../../src/core/eval/sprites';
import { readHead, writeHead } from '../../src/core/train/head';
import { probeText, trainedMember, withTrainedMember, type TrainedMember } from '../../src/core/train/member';
import { FOLDER_RECIPE } from '../../src/core/train/probe';
import { parseModel, tensorValues } from '../../src/core/onnx/model';
import { analyzePair } from '../../src/core/onnx/pair';
import { sha256Hex } from '../../src/core/util/hash';

const DIR = 'public/pairs/shapes';
const TRAIN = 200;
const EPOCHS = 3;

let bundle: LoadedBundle;
let member: TrainedMember;
let inMemory: Explorer;
let zip: Uint8Array;
let unzipped: Map<string, Uint8Array>;

beforeAll(async () => {
  bundle = await loadBundle(dirSource(DIR));
  inMemory = new Explorer({ ort: ortNode, backend: 'cpu' });
  await inMemory.loadPair(bundle);
  // The first 200 reference images stand in for a dropped folder: this test checks the plumbing, not accuracy.
  const ref = decodeSprite(bundle.manifest.eval!.sets[0]!, bundle.sprites.get('reference')!);
  const images = { pixels: pixelsOf(ref).slice(0, TRAIN * 32 * 32 * 3), labels: ref.labels.slice(0, TRAIN), count: TRAIN };
  const settings = { epochs: EPOCHS, seed: 0, validationFraction: 0.25 };
  const r = await inMemory.linearProbe(images, readHead(bundle.zeroShot), settings, () => undefined);
  const recipe = { epochs: EPOCHS, lr: FOLDER_RECIPE.lr, batchSize: FOLDER_RECIPE.batchSize };
  const facts = { id: 'probe-1', seed: 0, trainCount: r.trainCount, validation: r.validation, recipe };
  member = await trainedMember(writeHead(bundle.zeroShot, r.head), facts, probeText(facts));
  await inMemory.loadPair(await withTrainedMember(bundle, member));
  zip = await zipBundleWithMember(dirSource(DIR), member);
  const files = await unzipBundle([{ path: 'shapes-with-probe-1.zip', blob: new Blob([zip as Uint8Array<ArrayBuffer>]) }]);
  unzipped = new Map(await Promise.all(files.map(async (f) => [f.path, new Uint8Array(await f.blob.arrayBuffer())] as const)));
}, 300_000);

afterAll(async () => {
  await inMemory?.dispose();
});

/** Byte equality by Buffer.equals: vitest's deep equality takes a minute over a 1.2 MB checkpoint. */
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

const exportedManifest = (): Manifest => parseManifest(unzipped.get('manifest.json')!);

describe('a trained member exported as a bundle (.zip)', () => {
  it('holds a manifest that passes the schema, with the member appended saying how it was trained, and every file it lists', () => {
    const m = exportedManifest();
    expect(m.format).toBe('wiseft-pair/2');
    expect(m.models.members.map((x) => x.id)).toEqual([...bundle.manifest.models.members.map((x) => x.id), 'probe-1']);
    const added = m.models.members.at(-1)!;
    expect(added).toMatchObject({ id: 'probe-1', kind: 'linear-classifier', seed: 0, name: member.spec.name });
    expect(added.description).toContain(`${EPOCHS} epochs, learning rate ${FOLDER_RECIPE.lr}, batches of ${FOLDER_RECIPE.batchSize}`);
    expect(added.description).toMatch(/Held-out accuracy on \d+ images of the folder: \d+\.\d% zero-shot → \d+\.\d%/);
    expect(added.model).toEqual({ path: 'trained-probe-1.onnx', bytes: member.bytes.length, sha256: member.sha256 });
    expect(sameBytes(unzipped.get(added.model.path), member.bytes)).toBe(true);
    // Everything else as the bundle has it, byte for byte.
    expect([...unzipped.keys()].sort()).toEqual(['manifest.json', ...listedFiles(m).map((f) => f.path)].sort());
    for (const f of listedFiles(bundle.manifest))
      expect(sameBytes(unzipped.get(f.path), readFileSync(`${DIR}/${f.path}`)), f.path).toBe(true);
  });

  it('passes the pair check: the member is the zero-shot graph with the same tensors, only their values trained', () => {
    const zs = parseModel(unzipped.get(bundle.manifest.models.zeroShot.path)!, 'zero-shot');
    const ft = parseModel(unzipped.get('trained-probe-1.onnx')!, 'probe-1');
    // A probe trains the head alone: the two head tensors are all that differ.
    expect(
      analyzePair(zs, ft)
        .differing.map((t) => t.name)
        .sort(),
    ).toEqual(['head.bias', 'head.weight']);
  });

  it('loads from the unpacked zip with the new member selectable, whose frontier point at α = 1 equals the in-memory member’s on the same images', async () => {
    const files = [...unzipped].map(([path, bytes]) => ({ path: `shapes/${path}`, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    const loaded = await loadBundle(filesSource(files), undefined, { member: 'probe-1' });
    const fromZip = new Explorer({ ort: ortNode, backend: 'cpu' });
    try {
      const summary = await fromZip.loadPair(loaded);
      expect(summary.member).toBe('probe-1');
      expect(summary.members.map((x) => x.id)).toContain('probe-1');
      await fromZip.evaluate([1], null, () => undefined);
      await inMemory.evaluate([1], null, () => undefined);
      const got = fromZip.snapshot()!.points['1']!;
      const want = inMemory.snapshot()!.points['1']!;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const id of Object.keys(want)) {
        expect(got[id]!.n, id).toBe(want[id]!.n);
        expect(got[id]!.correct, id).toBe(want[id]!.correct);
        expect(got[id]!.images, id).toEqual(want[id]!.images);
      }
      expect((await fromZip.evalLogits(1, 'reference')).logits).toEqual((await inMemory.evalLogits(1, 'reference')).logits);
    } finally {
      await fromZip.dispose();
    }
  }, 300_000);
});

describe("a trained member's ONNX file", () => {
  it('run on its own in onnxruntime gives the logits the engine computes for the in-memory member at α = 1', async () => {
    const session = await ortNode.InferenceSession.create(member.bytes);
    const ref = decodeSprite(bundle.manifest.eval!.sets[0]!, bundle.sprites.get('reference')!);
    const x = normalizeBatch(ref, 0, 64, bundle.manifest.preprocess);
    const out = await session.run({ [bundle.manifest.io.image]: new ortNode.Tensor('float32', x, [64, 3, 32, 32]) });
    const alone = out[bundle.manifest.io.logits]!.data as Float32Array;
    const engine = (await inMemory.evalLogits(1, 'reference')).logits.subarray(0, alone.length);
    let worst = 0;
    for (let i = 0; i < alone.length; i++) worst = Math.max(worst, Math.abs(alone[i]! - engine[i]!));
    // The same weights; onnxruntime may batch the two runs differently, so float rounding only.
    expect(worst).toBeLessThan(1e-4);
  });

  it('is what exportOnnx(1) writes with that member loaded: every initializer the same to the bit', async () => {
    const blended = parseModel(await inMemory.exportOnnx(1), 'exported at α = 1');
    const trained = parseModel(member.bytes, 'probe-1');
    const values = (m: typeof trained) => new Map(m.graph.initializer.map((t) => [t.name, tensorValues(t)]));
    const a = values(blended);
    const b = values(trained);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, v] of b) expect(a.get(name), name).toEqual(v);
    expect(await sha256Hex(member.bytes)).toBe(member.sha256);
  });
});
