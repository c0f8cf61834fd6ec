// Issue 15, item 6: a load can leave the eval images for after the first screen. The pair is the
// same pair (the same content hash, so the same saved results), its images are read later with
// the same checks, and nothing evaluates before they are there.
import { describe, it, expect } from 'vitest';
import { Explorer } from '../../src/core/explorer';
import { loadBundle, sha256Hex, type LoadProgress } from '../../src/core/bundle/source';
import { ortNode } from '../../src/core/runtime/ort-node';
import { makeTestBundle, memorySource } from '../support/testBundle';

/** The test bundle with every file's size and sha256 declared, as the bundled pair declares them. */
async function declaredBundle(): Promise<Map<string, Uint8Array>> {
  const { files, manifest } = makeTestBundle();
  const spec = async (path: string) => ({ path, bytes: files.get(path)!.byteLength, sha256: await sha256Hex(files.get(path)!) });
  const sets = await Promise.all(manifest.eval!.sets.map(async (s) => ({ ...s, sprite: { ...s.sprite, ...(await spec(s.sprite.path)) } })));
  const m = {
    ...manifest,
    models: { zeroShot: await spec('zeroshot.onnx'), fineTuned: await spec('finetuned.onnx') },
    eval: { ...manifest.eval!, sets },
  };
  const out = new Map(files);
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
  return out;
}

/** A source that records which paths were read, and reports each file whole once read (as a download's last report does). */
function recording(files: Map<string, Uint8Array>) {
  const reads: string[] = [];
  const inner = memorySource(files);
  const read = async (path: string, onProgress?: (loaded: number, total: number | null) => void) => {
    reads.push(path);
    const f = await inner.read(path);
    onProgress?.(f.byteLength, f.byteLength);
    return f;
  };
  return { reads, source: { label: 'memory', read } };
}

describe("a load that leaves the eval images for later (issue 15's first screen)", () => {
  it('reads no sprite sheet, gives the same content hash as a whole load, and the progress total leaves the sheets out', async () => {
    const files = await declaredBundle();
    const whole = await loadBundle(memorySource(files));
    const r = recording(files);
    const seen: LoadProgress[] = [];
    const later = await loadBundle(r.source, (p) => seen.push(p), { evalImages: 'later' });
    expect(r.reads.filter((p) => p.startsWith('eval/'))).toEqual([]);
    expect(later.sprites.size).toBe(0);
    expect(later.bundleHash).toBe(whole.bundleHash);
    const sheets = [...files].filter(([p]) => p.startsWith('eval/')).reduce((n, [, b]) => n + b.byteLength, 0);
    const all = [...files.values()].reduce((n, b) => n + b.byteLength, 0);
    expect(seen.at(-1)).toMatchObject({ bundleLoaded: all - sheets, bundleTotal: all - sheets });
    const images: LoadProgress[] = [];
    const sprites = await later.laterSprites!((p) => images.push(p));
    expect([...sprites.keys()]).toEqual([...whole.sprites.keys()]);
    expect(images.at(-1)).toMatchObject({ bundleLoaded: sheets, bundleTotal: sheets });
  });

  it('a bundle whose sheets declare no sha256 is read whole: its hash needs their bytes', async () => {
    const { files } = makeTestBundle();
    const r = recording(files);
    const b = await loadBundle(r.source, undefined, { evalImages: 'later' });
    expect(b.laterSprites).toBeUndefined();
    expect(b.sprites.size).toBe(3);
  });

  it('a sheet that does not match its declared sha256 fails the later read in words', async () => {
    const files = await declaredBundle();
    const b = await loadBundle(memorySource(files), undefined, { evalImages: 'later' });
    const bad = files.get('eval/shiftA.png')!.slice();
    bad[bad.length - 1]! ^= 1;
    files.set('eval/shiftA.png', bad);
    await expect(b.laterSprites!()).rejects.toThrow(/eval\/shiftA\.png.*sha256/);
  });

  it('the pair loads without its images; evaluating says they have not arrived; once attached, it evaluates as a whole load does', async () => {
    const files = await declaredBundle();
    const whole = new Explorer({ ort: ortNode, backend: 'cpu' });
    await whole.loadPair(await loadBundle(memorySource(files)));
    expect(await whole.evaluate([0.5], null, () => undefined)).toBe('done');
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    const b = await loadBundle(memorySource(files), undefined, { evalImages: 'later' });
    const summary = await explorer.loadPair(b);
    expect(summary.resultsKey).toBe(whole.current!.resultsKey);
    expect(summary.sets.map((s) => s.count)).toEqual([300, 120, 60]);
    await expect(explorer.evaluate([0.5], null, () => undefined)).rejects.toThrow(
      /eval set 'reference': its images \(eval\/reference\.png\) have not arrived yet/,
    );
    // Another pair's images are not taken for this one.
    explorer.attachEvalImages('another pair', await b.laterSprites!());
    await expect(explorer.evaluate([0.5], null, () => undefined)).rejects.toThrow(/have not arrived yet/);
    explorer.attachEvalImages(b.bundleHash, await b.laterSprites!());
    expect(await explorer.evaluate([0.5], null, () => undefined)).toBe('done');
    expect(explorer.snapshot()!.points).toEqual(whole.snapshot()!.points);
    await Promise.all([whole.dispose(), explorer.dispose()]);
  });
});
