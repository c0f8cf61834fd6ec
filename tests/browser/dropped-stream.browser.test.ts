// A dropped pair folder in Chromium: the Worker's load (loadBundleStreamed, then Explorer.loadPair)
// streams the two checkpoints from their Files, a slice at a time, into the wasm engine, reads neither
// whole, and gives the pair, content hash and θ(α) that the same files give read whole.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { openPage, type Session } from './setup/chromium';

let s: Session;

beforeAll(async () => {
  s = await openPage(new URL('tests/browser/harness.html', inject('baseUrl')).href);
  await s.page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
});
afterAll(async () => s?.close());

async function droppedInPage(base: string) {
  const load = new Function('u', 'return import(u)') as (url: string) => Promise<unknown>;
  const { Explorer } = (await load(`${base}src/core/explorer.ts`)) as typeof import('../../src/core/explorer');
  const { loadBundleStreamed } = (await load(`${base}src/core/bundle/streamed.ts`)) as typeof import('../../src/core/bundle/streamed');
  const { filesSource, loadBundle, sha256Hex } = (await load(
    `${base}src/core/bundle/source.ts`,
  )) as typeof import('../../src/core/bundle/source');
  const { ortWeb } = (await load(`${base}src/core/runtime/ort-web.ts`)) as typeof import('../../src/core/runtime/ort-web');
  const dir = `${base}public/pairs/shapes/`;
  const manifest = await (await fetch(`${dir}manifest.json`)).text();
  // Every file the manifest names: each "path" and the text tower's "tokenizer".
  const named = [...manifest.matchAll(/"(?:path|tokenizer)":\s*"([^"]+)"/g)].map((m) => m[1]!);
  const paths = ['manifest.json', ...new Set(named)];
  const whole: string[] = [];
  const sliced = new Set<string>();
  /** A File that records whether it was read whole or a slice at a time. */
  class Dropped extends File {
    override arrayBuffer() {
      whole.push(this.name);
      return super.arrayBuffer();
    }
    override slice(start?: number, end?: number, contentType?: string) {
      sliced.add(this.name);
      return super.slice(start, end, contentType);
    }
  }
  const files = await Promise.all(
    paths.map(async (p) => ({ path: `shapes/${p}`, blob: new Dropped([await (await fetch(dir + p)).arrayBuffer()], p) as Blob })),
  );
  const a = new Explorer({ ort: ortWeb, backend: 'wasm' });
  const b = new Explorer({ ort: ortWeb, backend: 'wasm' });
  try {
    const fromStreams = await a.loadPair(await loadBundleStreamed(filesSource(files), undefined, { evalImages: 'later' }));
    const checkpointsWhole = whole.filter((n) => n.endsWith('.onnx') && n !== 'text.onnx');
    const fromBytes = await b.loadPair(await loadBundle(filesSource(files), undefined, { evalImages: 'later' }));
    const same: boolean[] = [];
    for (const alpha of [0, 0.4, 1])
      same.push((await sha256Hex(await a.exportOnnx(alpha))) === (await sha256Hex(await b.exportOnnx(alpha))));
    return { checkpointsWhole, sliced: [...sliced], hashes: [fromStreams.bundleHash, fromBytes.bundleHash], same };
  } finally {
    await a.dispose();
    await b.dispose();
  }
}

describe('a dropped pair folder streams its checkpoints in Chromium', () => {
  it('reads neither checkpoint whole (slices of the Blob into the wasm engine) and gives the content hash and θ(α) of a whole read', async () => {
    const r = await s.page.evaluate(droppedInPage, inject('baseUrl'));
    expect(r.checkpointsWhole).toEqual([]);
    expect(r.sliced).toEqual(['zeroshot.onnx', 'members/e2e-seed0.onnx']);
    expect(r.hashes[0]).toBe(r.hashes[1]);
    expect(r.same).toEqual([true, true, true]);
  });
});
