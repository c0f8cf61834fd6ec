// The loading bar's figures: the bundle's total counts every file the load reads (the manifest,
// the checkpoints, the sweeps, the sprite sheets; a file with no declared size once it is read),
// and what is loaded never passes it.
import { describe, it, expect } from 'vitest';
import { loadBundle, type LoadProgress } from '../../src/core/bundle/source';
import { makeTestBundle } from '../support/testBundle';

/** In-memory files read in two halves, each reported as a download would be. */
function halvesSource(files: Map<string, Uint8Array>) {
  return {
    label: 'memory in halves',
    async read(path: string, onProgress?: (loaded: number, total: number | null) => void) {
      const f = files.get(path);
      if (!f) throw new Error(`missing ${path}`);
      onProgress?.(f.byteLength >> 1, f.byteLength);
      onProgress?.(f.byteLength, f.byteLength);
      return f;
    },
  };
}

/** The bundle with sizes declared for its checkpoints and for the sprite sheets `sized` picks. */
function declared(sized: (setIndex: number) => boolean) {
  const { files, manifest } = makeTestBundle();
  const size = (path: string) => ({ path, bytes: files.get(path)!.byteLength });
  const m = {
    ...manifest,
    models: { zeroShot: size('zeroshot.onnx'), fineTuned: size('finetuned.onnx') },
    eval: { sets: manifest.eval!.sets.map((s, i) => (sized(i) ? { ...s, sprite: { ...s.sprite, ...size(s.sprite.path) } } : s)) },
  };
  const out = new Map(files);
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
  const all = [...out.values()].reduce((n, f) => n + f.byteLength, 0);
  return { files: out, all };
}

async function progressOf(files: Map<string, Uint8Array>): Promise<LoadProgress[]> {
  const seen: LoadProgress[] = [];
  await loadBundle(halvesSource(files), (p) => seen.push(p));
  return seen;
}

describe('the loading bar over the whole bundle', () => {
  it('with every size declared, the total is every file read, the manifest and sprite sheets included, from the start', async () => {
    const { files, all } = declared(() => true);
    const seen = await progressOf(files);
    expect(new Set(seen.map((p) => p.bundleTotal))).toEqual(new Set([all]));
    expect(seen.at(-1)!.bundleLoaded).toBe(all);
  });

  it('a sprite sheet with no declared size joins the total as it is read; loaded never passes the total', async () => {
    const { files, all } = declared((i) => i !== 1);
    const seen = await progressOf(files);
    for (const p of seen) expect(p.bundleLoaded).toBeLessThanOrEqual(p.bundleTotal!);
    expect(seen[0]!.bundleTotal).toBeLessThan(all);
    expect(seen.at(-1)).toMatchObject({ bundleLoaded: all, bundleTotal: all });
  });

  it('a checkpoint with no declared size leaves the total unknown', async () => {
    const { files } = makeTestBundle();
    const seen = await progressOf(files);
    expect(seen.every((p) => p.bundleTotal === null)).toBe(true);
  });
});
