// Issue 15, item 2, in the app's own load: the Worker's pair load (loadBundleStreamed, then
// Explorer.loadPair) streams the checkpoints into the engine, so that neither file is ever whole in
// memory, with the same checks, content hash and numbers as a load from bytes; a truncated or
// corrupt stream fails with the manifest's words and leaves the previous pair in service.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Explorer } from '../../src/core/explorer';
import { filesSource, loadBundle, sha256Hex, type BundleSource, type LoadProgress } from '../../src/core/bundle/source';
import { loadBundleStreamed } from '../../src/core/bundle/streamed';
import { ortNode } from '../../src/core/runtime/ort-node';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { buildTestModel, randomWeights, roundToHalf, perturb } from '../support/testPair';

const DIR = 'public/pairs/shapes';
const ZS = 'zeroshot.onnx';
const FT = 'members/e2e-seed0.onnx';

function bundledFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const full = join(d, f);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(DIR, full), new Uint8Array(readFileSync(full)));
    }
  };
  walk(DIR);
  return files;
}

const SCRATCH = 4096;

/**
 * The bundled pair as a source whose streams hand out one reused 4 KiB buffer, refilled for every
 * chunk (as a BYOB read does): a consumer that kept a chunk past the next read, or gathered chunks
 * to join them later, would read other bytes than the file's. It records every whole read of a
 * checkpoint and the largest chunk handed out.
 */
function chunkedSource(files: Map<string, Uint8Array>, edit: (path: string, b: Uint8Array) => Uint8Array = (_, b) => b) {
  const seen = { wholeCheckpointReads: [] as string[], largestChunk: 0, streamed: [] as string[] };
  const inner = memorySource(files);
  const source: BundleSource = {
    label: 'chunked',
    async read(path, onProgress) {
      if (path.endsWith('.onnx') && path !== 'text.onnx') seen.wholeCheckpointReads.push(path);
      const b = await inner.read(path);
      onProgress?.(b.byteLength, b.byteLength);
      return b;
    },
    stream(path, onProgress) {
      seen.streamed.push(path);
      return {
        chunks: (async function* () {
          const bytes = edit(path, await inner.read(path));
          const scratch = new Uint8Array(SCRATCH);
          for (let at = 0; at < bytes.byteLength; at += SCRATCH) {
            const n = Math.min(SCRATCH, bytes.byteLength - at);
            scratch.set(bytes.subarray(at, at + n));
            seen.largestChunk = Math.max(seen.largestChunk, n);
            onProgress?.(at + n, bytes.byteLength);
            yield scratch.subarray(0, n);
          }
        })(),
      };
    },
  };
  return { source, seen };
}

async function withLoadedPair(fn: (ex: Explorer, files: Map<string, Uint8Array>) => Promise<void>): Promise<void> {
  const files = bundledFiles();
  const ex = new Explorer({ ort: ortNode, backend: 'cpu' });
  try {
    await ex.loadPair(await loadBundleStreamed(chunkedSource(files).source, undefined, { evalImages: 'later' }));
    await fn(ex, files);
  } finally {
    await ex.dispose();
  }
}

/** The pair in service is still `hash`, and it still runs. */
async function stillServes(ex: Explorer, hash: string): Promise<void> {
  expect(ex.current!.bundleHash).toBe(hash);
  expect((await ex.exportOnnx(0.5)).byteLength).toBeGreaterThan(0);
}

describe("the app's pair load streams the checkpoints into the engine (issue 15, item 2)", () => {
  it('reads neither checkpoint whole, keeps no chunk past the next, and gives the content hash, progress and θ(α) of a load from bytes', async () => {
    const files = bundledFiles();
    const { source, seen } = chunkedSource(files);
    const progress: LoadProgress[] = [];
    const streamed = new Explorer({ ort: ortNode, backend: 'cpu' });
    const whole = new Explorer({ ort: ortNode, backend: 'cpu' });
    try {
      const a = await streamed.loadPair(await loadBundleStreamed(source, (p) => progress.push(p), { evalImages: 'later' }));
      const b = await whole.loadPair(await loadBundle(memorySource(files), undefined, { evalImages: 'later' }));
      expect(seen.wholeCheckpointReads).toEqual([]);
      expect(seen.streamed).toEqual([ZS, FT]);
      expect(seen.largestChunk).toBe(SCRATCH);
      expect(a.bundleHash).toBe(b.bundleHash);
      // θ(α) baked into its graph, byte for byte (compared by sha256: a 1.2 MB toEqual takes seconds).
      for (const alpha of [0, 0.35, 1])
        expect(await sha256Hex(await streamed.exportOnnx(alpha))).toBe(await sha256Hex(await whole.exportOnnx(alpha)));
      // The bar counted the checkpoints' bytes as they streamed, and ends at its total.
      expect(progress.filter((p) => p.file === FT).length).toBeGreaterThan(100);
      const last = progress.at(-1)!;
      expect(last.file).toBe(FT);
      expect(last.bundleLoaded).toBe(last.bundleTotal);
    } finally {
      await streamed.dispose();
      await whole.dispose();
    }
  });

  it("an fp16 pair (both members' weights stored as halves) streams to the θ(α) a load from bytes gives", async () => {
    const w0 = roundToHalf(randomWeights(21));
    const files = makeTestBundle({ seed: 21 }).files;
    files.set('zeroshot.onnx', buildTestModel(w0, { fp16: true }));
    files.set('finetuned.onnx', buildTestModel(roundToHalf(perturb(w0, 22)), { fp16: true }));
    const { source, seen } = chunkedSource(files);
    const streamed = new Explorer({ ort: ortNode, backend: 'cpu' });
    const whole = new Explorer({ ort: ortNode, backend: 'cpu' });
    try {
      const a = await streamed.loadPair(await loadBundleStreamed(source));
      const b = await whole.loadPair(await loadBundle(memorySource(files)));
      expect(seen.wholeCheckpointReads).toEqual([]);
      expect(a.bundleHash).toBe(b.bundleHash);
      for (const alpha of [0, 0.6, 1])
        expect(await sha256Hex(await streamed.exportOnnx(alpha))).toBe(await sha256Hex(await whole.exportOnnx(alpha)));
    } finally {
      await streamed.dispose();
      await whole.dispose();
    }
  });

  it('a truncated checkpoint fails with the size the manifest declares, and the previous pair stays', async () => {
    await withLoadedPair(async (ex, files) => {
      const before = ex.current!.bundleHash;
      const { source } = chunkedSource(files, (p, b) => (p === FT ? b.subarray(0, b.byteLength - 1000) : b));
      await expect(ex.loadPair(await loadBundleStreamed(source))).rejects.toThrow(
        `${FT} has ${files.get(FT)!.byteLength - 1000} bytes but the manifest says ${files.get(FT)!.byteLength}: the download is incomplete or the file was replaced`,
      );
      await stillServes(ex, before);
    });
  });

  it.each([
    ['its framing, so that the ONNX reader fails at once', 0],
    ['its weights, which read as a model', 0.6],
  ])('a checkpoint corrupt in %s fails with the sha256 the manifest declares, and the previous pair stays', async (_, where) => {
    await withLoadedPair(async (ex, files) => {
      const before = ex.current!.bundleHash;
      const corrupt = (p: string, b: Uint8Array) => {
        if (p !== ZS) return b;
        const c = b.slice();
        const at = Math.floor(where * c.byteLength);
        for (let i = at; i < at + 64; i++) c[i] = c[i]! ^ 0xff;
        return c;
      };
      const { source } = chunkedSource(files, corrupt);
      await expect(ex.loadPair(await loadBundleStreamed(source))).rejects.toThrow(
        `${ZS} does not match the sha256 in the manifest: the file is corrupt or was replaced`,
      );
      await stillServes(ex, before);
    });
  });

  it('dropped files stream from their Blobs, and the Cancel stops them mid-file; the previous pair stays', async () => {
    await withLoadedPair(async (ex, files) => {
      const before = ex.current!.bundleHash;
      const blobs = [...files].map(([path, b]) => ({ path: `my-pair/${path}`, blob: new Blob([b as Uint8Array<ArrayBuffer>]) }));
      const ctl = new AbortController();
      const cancelInZs = (p: LoadProgress) => {
        if (p.file === ZS && p.loaded > 0) ctl.abort();
      };
      const bundle = await loadBundleStreamed(filesSource(blobs, ctl.signal), cancelInZs);
      await expect(ex.loadPair(bundle)).rejects.toThrow('the load was cancelled');
      await stillServes(ex, before);
      // Not cancelled, the same files load as the pair they are.
      const again = await ex.loadPair(await loadBundleStreamed(filesSource(blobs)));
      expect(again.bundleHash).toBe((await loadBundle(memorySource(files))).bundleHash);
    });
  });
});
