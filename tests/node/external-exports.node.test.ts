// What each download writes on a pair whose checkpoints keep their weights in external data files
// (the bundled pair re-saved so: tests/support/externalBundle.ts), checked on the real
// onnxruntime-node: every .onnx is loaded from a folder of its own, as a user who downloaded it
// alone has it, and must give the numbers the engine gives for the same α or member.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Explorer } from '../../src/core/explorer';
import { loadBundle, filesSource, type LoadedBundle } from '../../src/core/bundle/source';
import { parseManifest } from '../../src/core/bundle/manifest';
import { listedFiles, trainedMemberOnnx, unzipBundle, zipBundleWithMember } from '../../src/core/bundle/zip';
import { dirSource } from '../../src/node/dirSource';
import * as ort from 'onnxruntime-node';
import { ortNode } from '../../src/core/runtime/ort-node';
import { decodeSprite, normalizeBatch, pixelsOf } from '../../src/core/eval/sprites';
import { readHead, writeHead, type LinearHead } from '../../src/core/train/head';
import { fineTunedModel } from '../../src/core/train/finetune';
import {
  endToEndText,
  probeText,
  trainableZeroShot,
  trainedMember,
  withTrainedMember,
  type TrainedMember,
} from '../../src/core/train/member';
import { FOLDER_RECIPE } from '../../src/core/train/probe';
import { DATA_LOCATION, parseModel, serializeModel, tensorValues } from '../../src/core/onnx/model';
import { namesExternalData } from '../../src/core/onnx/oneFile';
import { analyzePair } from '../../src/core/onnx/pair';
import { writeOnnx } from '../../cli/wiseft';
import { externalBundle } from '../support/externalBundle';

const IMAGES = 64;

let dir: string;
let bundle: LoadedBundle;
let explorer: Explorer;
let head: LinearHead;
/** A probe written into the zero-shot checkpoint as a page job now writes it: from its inline copy. */
let inline: TrainedMember;
/** The same head written into the zero-shot file as read, which names its data file for every other weight. */
let naming: TrainedMember;

function facts(id: string) {
  return {
    id,
    seed: 0,
    trainCount: 150,
    validation: null,
    recipe: { epochs: 2, lr: FOLDER_RECIPE.lr, batchSize: FOLDER_RECIPE.batchSize },
  };
}

beforeAll(async () => {
  dir = await externalBundle();
  bundle = await loadBundle(dirSource(dir));
  explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  await explorer.loadPair(bundle);
  const ref = decodeSprite(bundle.manifest.eval!.sets[0]!, bundle.sprites.get('reference')!);
  const images = { pixels: pixelsOf(ref).slice(0, 200 * 32 * 32 * 3), labels: ref.labels.slice(0, 200), count: 200 };
  const zeroShot = await trainableZeroShot(bundle.zeroShot, bundle.zeroShotExternal);
  const r = await explorer.linearProbe(images, readHead(zeroShot), { epochs: 2, seed: 0, validationFraction: 0.25 }, () => undefined);
  head = r.head;
  inline = await trainedMember(writeHead(zeroShot, head), facts('probe-1'), probeText(facts('probe-1')));
  const weights = new Map([
    ['head.weight', head.weight],
    ['head.bias', head.bias],
  ]);
  naming = await trainedMember(fineTunedModel(bundle.zeroShot, weights), facts('probe-2'), probeText(facts('probe-2')));
}, 300_000);

afterAll(async () => {
  await explorer?.dispose();
});

/** The first IMAGES reference images as the model's input. */
function input(): Float32Array {
  return normalizeBatch(
    decodeSprite(bundle.manifest.eval!.sets[0]!, bundle.sprites.get('reference')!),
    0,
    IMAGES,
    bundle.manifest.preprocess,
  );
}

/** `files` written to a new folder and `model` (one of them) loaded from there by path, run on the images. */
async function runFrom(files: Record<string, Uint8Array>, model: string): Promise<Float32Array> {
  const folder = mkdtempSync(join(tmpdir(), 'wiseft-download-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(folder, name), bytes);
  // By path, as a user opens a download: onnxruntime reads a data file the graph names from beside it.
  const session = await ort.InferenceSession.create(join(folder, model));
  try {
    const out = await session.run({ image: new ort.Tensor('float32', input(), [IMAGES, 3, 32, 32]) });
    return out.logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The engine's logits for the same images at α, with `member` loaded (the bundle's own when absent). */
async function engineLogits(alpha: number, member?: TrainedMember): Promise<Float32Array> {
  if (!member) return (await explorer.evalLogits(alpha, 'reference')).logits;
  const ex = new Explorer({ ort: ortNode, backend: 'cpu' });
  try {
    await ex.loadPair(await withTrainedMember(bundle, member));
    return (await ex.evalLogits(alpha, 'reference')).logits;
  } finally {
    await ex.dispose();
  }
}

/** Largest difference over the first IMAGES rows: onnxruntime may batch two runs differently, so float rounding only. */
function worst(alone: Float32Array, engine: Float32Array): number {
  expect(alone.length).toBe(IMAGES * bundle.manifest.classes.length);
  return alone.reduce((m, v, i) => Math.max(m, Math.abs(v - engine[i]!)), 0);
}

describe('downloads on a pair with external data, each loaded alone in onnxruntime', () => {
  it('a file that names a data file it is not given does not load alone: the checks below can fail', async () => {
    await expect(runFrom({ 'zeroshot.onnx': bundle.zeroShot }, 'zeroshot.onnx')).rejects.toThrow();
    await expect(runFrom({ 'trained.onnx': naming.bytes }, 'trained.onnx')).rejects.toThrow();
  });

  it('θ(α) as .onnx holds every weight inline and gives the engine’s logits at the same α', async () => {
    for (const alpha of [0.5, 1]) {
      const bytes = await explorer.exportOnnx(alpha);
      expect(namesExternalData(parseModel(bytes).proto)).toBe(false);
      expect(worst(await runFrom({ 'theta.onnx': bytes }, 'theta.onnx'), await engineLogits(alpha)), `α=${alpha}`).toBeLessThan(1e-4);
    }
  });

  it('a probe trained on the pair is written from an inline zero-shot copy: its ONNX is those bytes and runs alone as the member does', async () => {
    // Why the copy: the file as read keeps the head in its data file, which a probe cannot start from.
    expect(() => readHead(bundle.zeroShot)).toThrow(/keeps its data in an external file \('zeroshot\.onnx\.data'\)/);
    expect(namesExternalData(parseModel(inline.bytes).proto)).toBe(false);
    const file = await trainedMemberOnnx(dirSource(dir), inline);
    expect(Buffer.from(file).equals(Buffer.from(inline.bytes))).toBe(true);
    expect(worst(await runFrom({ 'probe-1.onnx': file }, 'probe-1.onnx'), await engineLogits(1, inline))).toBeLessThan(1e-4);
  });

  it('an end-to-end fine-tune trains the tower from the same inline copy: its member differs in weights beyond the head and runs alone as the member does', async () => {
    const ref = decodeSprite(bundle.manifest.eval!.sets[0]!, bundle.sprites.get('reference')!);
    const images = { pixels: pixelsOf(ref).slice(0, 64 * 32 * 32 * 3), labels: ref.labels.slice(0, 64), count: 64 };
    const zeroShot = await trainableZeroShot(bundle.zeroShot, bundle.zeroShotExternal);
    const settings = { epochs: 1, lr: 1e-3, batchSize: 16, seed: 0, validationFraction: 0.25 };
    const r = await explorer.fineTuneEndToEnd(zeroShot, images, settings, () => undefined);
    const e2e = await trainedMember(r.model, facts('e2e-1'), endToEndText(facts('e2e-1'), 1));
    const model = parseModel(await trainedMemberOnnx(dirSource(dir), e2e));
    expect(namesExternalData(model.proto)).toBe(false);
    const moved = analyzePair(parseModel(zeroShot), model).differing.map((t) => t.name);
    expect(moved.filter((n) => !n.startsWith('head.')).length).toBeGreaterThan(0);
    expect(worst(await runFrom({ 'e2e-1.onnx': e2e.bytes }, 'e2e-1.onnx'), await engineLogits(1, e2e))).toBeLessThan(1e-4);
  }, 120_000);

  it('a member naming the zero-shot’s data gets it inline; its trained weights were never read from that data', async () => {
    const trained = parseModel(naming.bytes).graph.initializer.filter((t) => t.name.startsWith('head.'));
    expect(trained.map((t) => t.data_location ?? DATA_LOCATION.DEFAULT)).toEqual([DATA_LOCATION.DEFAULT, DATA_LOCATION.DEFAULT]);
    const file = await trainedMemberOnnx(dirSource(dir), naming);
    const model = parseModel(file);
    expect(namesExternalData(model.proto)).toBe(false);
    expect(tensorValues(model.graph.initializer.find((t) => t.name === 'head.weight')!)).toEqual(head.weight);
    const alone = await runFrom({ 'probe-2.onnx': file }, 'probe-2.onnx');
    expect(worst(alone, await engineLogits(1, naming))).toBeLessThan(1e-4);
    expect(worst(alone, await engineLogits(1, inline))).toBeLessThan(1e-4);
  });

  it('past a single file’s limit the page refuses θ(α) and a member’s ONNX, naming what to use instead', async () => {
    await expect(explorer.exportOnnx(0.5, 100_000)).rejects.toThrow(
      /^θ\(0\.5\) holds [\d.]+ GB of weights, too many for a single ONNX file \(protobuf's 2 GB\): the command line writes it as a graph with its weights in a data file beside it \(npx wiseft export --pair <bundle> --alpha 0\.5 --out model\.onnx\)$/,
    );
    await expect(trainedMemberOnnx(dirSource(dir), naming, 100_000)).rejects.toThrow(
      /member 'probe-2' holds [\d.]+ GB of weights, too many for a single ONNX file \(protobuf's 2 GB\): download the bundle with it \(\.zip\)/,
    );
  });

  it('the CLI writes θ(α) past the limit as a graph and its .data beside it, which together give the engine’s logits', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'wiseft-cli-split-')), 'theta.onnx');
    expect(await writeOnnx(out, await explorer.exportModel(0.5), 100_000)).toEqual([out, `${out}.data`]);
    const graph = new Uint8Array(readFileSync(out));
    expect(namesExternalData(parseModel(graph).proto)).toBe(true);
    const files = { 'theta.onnx': graph, 'theta.onnx.data': new Uint8Array(readFileSync(`${out}.data`)) };
    expect(worst(await runFrom(files, 'theta.onnx'), await engineLogits(0.5))).toBeLessThan(1e-4);
    const small = join(mkdtempSync(join(tmpdir(), 'wiseft-cli-one-')), 'theta.onnx');
    expect(await writeOnnx(small, await explorer.exportModel(0.5))).toEqual([small]);
    expect(existsSync(`${small}.data`)).toBe(false);
  });
});

describe('the bundle with a trained member (.zip) on a pair with external data', () => {
  async function roundTrip(member: TrainedMember) {
    const zip = await zipBundleWithMember(dirSource(dir), member);
    const files = await unzipBundle([{ path: 'with.zip', blob: new Blob([zip as Uint8Array<ArrayBuffer>]) }]);
    const manifest = parseManifest(new Uint8Array(await files.find((f) => f.path === 'manifest.json')!.blob.arrayBuffer()));
    expect(files.map((f) => f.path).sort()).toEqual(['manifest.json', ...listedFiles(manifest).map((f) => f.path)].sort());
    const loaded = await loadBundle(filesSource(files), undefined, { member: member.spec.id });
    const ex = new Explorer({ ort: ortNode, backend: 'cpu' });
    try {
      await ex.loadPair(loaded);
      expect(
        worst(
          (await ex.evalLogits(1, 'reference')).logits.subarray(0, IMAGES * bundle.manifest.classes.length),
          await engineLogits(1, member),
        ),
      ).toBe(0);
    } finally {
      await ex.dispose();
    }
    return manifest.models.members.at(-1)!.model;
  }

  it('lists the zero-shot’s data files for a member that reads them, none for a self-contained one, and loads back to the same logits', async () => {
    const zeroShotData = bundle.manifest.models.zeroShot.externalData!;
    expect((await roundTrip(naming)).externalData).toEqual(zeroShotData);
    expect((await roundTrip(inline)).externalData).toBeUndefined();
  }, 300_000);

  it('refuses, before reading a file, a zip the page would not load again, naming what to do instead', async () => {
    const dataBytes = bundle.manifest.models.zeroShot.externalData![0]!.bytes!;
    await expect(
      zipBundleWithMember(dirSource(dir), naming, undefined, { entryBytes: dataBytes - 1, totalBytes: 2 ** 32 }),
    ).rejects.toThrow(
      /^zeroshot\.onnx\.data is 0\.0 GB, more than the 0\.0 GB a file in a bundle \.zip may take: 'Download its ONNX' writes the member alone \(when its weights fit one file's 2 GB\), to list in the bundle folder's manifest/,
    );
    await expect(
      zipBundleWithMember(dirSource(dir), naming, undefined, { entryBytes: 2 ** 31, totalBytes: 2 * dataBytes }),
    ).rejects.toThrow(
      /^the bundle with the member is 0\.0 GB, more than the 0\.0 GB a bundle \.zip may hold: 'Download its ONNX' writes the member alone/,
    );
  });

  it('refuses a member naming a data file the zero-shot model does not list: the zip would lack it', async () => {
    const model = parseModel(naming.bytes);
    for (const t of model.graph.initializer) for (const e of t.external_data) if (e.key === 'location') e.value = 'other.onnx.data';
    const stray = { ...naming, bytes: serializeModel(model) };
    await expect(zipBundleWithMember(dirSource(dir), stray)).rejects.toThrow(
      "member 'probe-2' reads weights from 'other.onnx.data', which the zero-shot model does not list under externalData",
    );
  });
});
