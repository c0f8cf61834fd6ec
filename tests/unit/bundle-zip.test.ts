// A bundle as one .zip (core/bundle/zip.ts): written with a trained member added, read back as a
// dropped folder is, and a hostile zip refused with a message before anything is inflated.
import { describe, it, expect } from 'vitest';
import { zipSync, unzipSync } from 'fflate';
import { filesSource, loadBundle, BundleError } from '../../src/core/bundle/source';
import { parseManifest } from '../../src/core/bundle/manifest';
import { unzipBundle, zipBundleWithMember, listedFiles, isOneZip, zipHoldsBundle, type DroppedFile } from '../../src/core/bundle/zip';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { buildTestModel, perturb, randomWeights } from '../support/testPair';
import { zipOf, deflatedZeros } from '../support/bombs';
import { sha256Hex } from '../../src/core/util/hash';

const asZip = (bytes: Uint8Array, path = 'pair.zip'): DroppedFile[] => [{ path, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }];
const timed = async <T>(f: () => Promise<T>) => {
  const t = performance.now();
  const value = await f().catch((e: unknown) => e);
  return { value, ms: performance.now() - t };
};

async function trainedStandIn(id: string) {
  const bytes = buildTestModel(perturb(randomWeights(1), 99));
  const sha256 = await sha256Hex(bytes);
  return {
    spec: {
      id,
      name: `Linear probe ${id}`,
      kind: 'linear-classifier' as const,
      seed: 3,
      description: 'trained in a test',
      model: { path: 'x' },
    },
    bytes,
    sha256,
  };
}

describe('a zipped bundle, dropped', () => {
  it('loads as its folder does (same content hash), under a wrapping folder, leaving out hidden files and macOS resource forks', async () => {
    const { files } = makeTestBundle({ seed: 1 });
    const entries = Object.fromEntries([...files].map(([p, b]) => [`my-pair/${p}`, b]));
    const zip = zipSync({ ...entries, 'my-pair/.DS_Store': new Uint8Array([0]), '__MACOSX/my-pair/._manifest.json': new Uint8Array([1]) });
    const dropped = await unzipBundle(asZip(zip));
    expect(dropped.map((f) => f.path).sort()).toEqual([...files.keys()].map((p) => `my-pair/${p}`).sort());
    const fromZip = await loadBundle(filesSource(dropped));
    const fromFolder = await loadBundle(memorySource(files));
    expect(fromZip.bundleHash).toBe(fromFolder.bundleHash);
  });

  it('passes a dropped folder through untouched; only one file named .zip is a zipped bundle', async () => {
    const folder: DroppedFile[] = [
      { path: 'p/manifest.json', blob: new Blob(['{}']) },
      { path: 'p/a.zip', blob: new Blob(['x']) },
    ];
    expect(isOneZip(folder)).toBe(false);
    expect(await unzipBundle(folder)).toBe(folder);
    expect(isOneZip(asZip(new Uint8Array(0), 'Pair.ZIP'))).toBe(true);
  });

  it('is told from a zip of eval sets by its directory alone: a manifest.json at the top or in one folder', async () => {
    const blob = (files: Record<string, Uint8Array>) => new Blob([zipSync(files) as Uint8Array<ArrayBuffer>]);
    const one = new Uint8Array([1]);
    expect(await zipHoldsBundle(blob({ 'manifest.json': one, 'zeroshot.onnx': one }))).toBe(true);
    expect(await zipHoldsBundle(blob({ 'my-pair/manifest.json': one }))).toBe(true);
    expect(await zipHoldsBundle(blob({ 'sets/photos/manifest.json': one, 'sets/photos/cat/1.png': one }))).toBe(false);
    expect(await zipHoldsBundle(blob({ 'photos/cat/1.png': one }))).toBe(false);
    expect(await zipHoldsBundle(new Blob(['not a zip']))).toBe(false);
    // A 70,000-entry zip (its end record's count wrapped) is still read to its last entry.
    const many = zipOf([
      ...Array.from({ length: 70_000 }, (_, i) => ({ name: `s/c0/${i}.png`, data: one })),
      { name: 'manifest.json', data: one },
    ]);
    expect(await zipHoldsBundle(new Blob([many as Uint8Array<ArrayBuffer>]))).toBe(true);
  });

  it('refuses a path that leaves the folder, a damaged file and an empty zip, in words', async () => {
    const slip = zipOf([{ name: '../evil.onnx', data: new Uint8Array([1]) }]);
    await expect(unzipBundle(asZip(slip))).rejects.toThrow(
      new BundleError("the zip contains '../evil.onnx', a path outside its folder: refused"),
    );
    await expect(unzipBundle(asZip(new Uint8Array([80, 75, 3, 4, 0, 0])))).rejects.toThrow(/not a readable zip file/);
    await expect(unzipBundle(asZip(zipSync({})))).rejects.toThrow(
      'the zip holds no files: zip the bundle folder (manifest.json and its files)',
    );
  });

  it('refuses a file declaring 3 GB, and files over the total together, from the headers, before inflating', async () => {
    const bomb = zipOf([{ name: 'zeroshot.onnx', data: deflatedZeros(3_000_000_000, 10_000_000), method: 8, size: 3_000_000_000 }]);
    const r = await timed(() => unzipBundle(asZip(bomb)));
    expect(r.value).toBeInstanceOf(BundleError);
    expect((r.value as Error).message).toMatch(
      /^the zip entry 'zeroshot\.onnx' unpacks to 2\.8 GB \(from 2\.\d MB compressed\), more than the 2\.0 GB one file may take: refused without unpacking$/,
    );
    expect(r.ms).toBeLessThan(2000);
    // Zeros deflate to a few bytes: the zip itself is under the total, what it unpacks to is not.
    const two = zipSync({ 'a.onnx': new Uint8Array(600), 'b.onnx': new Uint8Array(600) }, { level: 9 });
    await expect(unzipBundle(asZip(two), { entryBytes: 1000, totalBytes: 1000 })).rejects.toThrow(
      /^the zip's files unpack to more than .* refused without unpacking \(use fewer or smaller files\)$/,
    );
    await expect(unzipBundle(asZip(two), { entryBytes: 100, totalBytes: 100 })).rejects.toThrow(
      /^the zip is 0\.0 GB, more than the 0\.0 GB/,
    );
  });
});

describe('a bundle zipped with a trained member', () => {
  it('lists the member last, beside every file of the bundle, and loads with it (a v1 pair becomes format 2)', async () => {
    const { files } = makeTestBundle({ seed: 2 });
    const t = await trainedStandIn('probe-1');
    const progress: [number, number][] = [];
    const zip = await zipBundleWithMember(memorySource(files), t, (done, total) => progress.push([done, total]));
    const entries = unzipSync(zip);
    const m = parseManifest(entries['manifest.json']!);
    expect(m.format).toBe('wiseft-pair/2');
    expect(m.models.members.map((x) => x.id)).toEqual(['fine-tuned', 'probe-1']);
    expect(m.models.members[1]).toMatchObject({
      ...t.spec,
      model: { path: 'trained-probe-1.onnx', bytes: t.bytes.length, sha256: t.sha256 },
    });
    expect(Object.keys(entries).sort()).toEqual(['manifest.json', ...listedFiles(m).map((f) => f.path)].sort());
    expect(progress.at(-1)).toEqual([files.size, files.size]);
    const loaded = await loadBundle(filesSource(await unzipBundle(asZip(zip))), undefined, { member: 'probe-1' });
    expect(Buffer.from(loaded.fineTuned).equals(Buffer.from(t.bytes))).toBe(true);
  });

  it('names the member file so it replaces no file of the bundle, and refuses a listed file that changed', async () => {
    const { files } = makeTestBundle({ seed: 3 });
    const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json')));
    m.models.fineTuned.path = 'trained-probe-1.onnx';
    files.set('trained-probe-1.onnx', files.get('finetuned.onnx')!);
    files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    const t = await trainedStandIn('probe-1');
    const entries = unzipSync(await zipBundleWithMember(memorySource(files), t));
    expect(parseManifest(entries['manifest.json']!).models.members[1]!.model.path).toBe('trained-probe-1-2.onnx');

    m.models.zeroShot = { path: 'zeroshot.onnx', bytes: 5 };
    files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    await expect(zipBundleWithMember(memorySource(files), t)).rejects.toThrow(/zeroshot\.onnx has \d+ bytes but the manifest says 5/);
  });
});
