// The IndexedDB cache of a streamed checkpoint (src/worker/cache.ts), in Chromium: a file over one
// block is stored as blocks behind an index written last, as it streams past, and read back block
// by block; a corrupt block or a file the manifest no longer declares is downloaded again.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { openPage, type Session } from './setup/chromium';

let s: Session;

beforeAll(async () => {
  s = await openPage(new URL('tests/browser/harness.html', inject('baseUrl')).href);
  await s.page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
});
afterAll(async () => s?.close());

interface Visit {
  same: boolean;
  largestChunk: number;
  sha256: string;
  stats: { hits: number; misses: number; corrupt: number };
  downloads: number;
}

async function cacheCheckInPage(base: string) {
  const load = new Function('u', 'return import(u)') as (url: string) => Promise<unknown>;
  const { cachedSource, BLOCK_BYTES } = (await load(`${base}src/worker/cache.ts`)) as typeof import('../../src/worker/cache');
  const { sha256Hex } = (await load(`${base}src/core/util/hash.ts`)) as typeof import('../../src/core/util/hash');
  // Two and a half blocks of bytes no two blocks share.
  const bytes = new Uint8Array(2.5 * BLOCK_BYTES);
  for (let i = 0, x = 7; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const sha256 = await sha256Hex(bytes);
  let downloads = 0;
  const inner = {
    label: 'memory',
    read: async () => bytes,
    stream: () => ({
      chunks: (async function* () {
        downloads++;
        for (let at = 0; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, at + (1 << 20));
      })(),
    }),
  };
  const key = `blocks-test-${Math.random()}`;
  const visit = async (expected: { bytes: number; sha256: string }): Promise<Visit> => {
    const stats = { hits: 0, misses: 0, corrupt: 0 };
    const f = cachedSource(inner, key, stats).stream!('big.onnx', undefined, expected);
    let at = 0;
    let same = true;
    let largestChunk = 0;
    for await (const c of f.chunks) {
      same &&= c.every((v, i) => v === bytes[at + i]);
      at += c.byteLength;
      largestChunk = Math.max(largestChunk, c.byteLength);
    }
    return { same: same && at === bytes.length, largestChunk, sha256: f.sha256!(), stats, downloads };
  };
  const idb = async <T>(fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('wiseft-explorer');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const r = fn(db.transaction('bundles', 'readwrite').objectStore('bundles'));
    const out = await new Promise<T>((res, rej) => {
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    db.close();
    return out;
  };
  const expected = { bytes: bytes.length, sha256 };
  const first = await visit(expected);
  const keys = ((await idb((st) => st.getAllKeys())) as string[]).filter((k) => k.startsWith(key)).sort();
  const again = await visit(expected);
  const whole = await cachedSource(inner, key).read('big.onnx');
  const wholeSame = whole.length === bytes.length && whole.every((v, i) => v === bytes[i]);
  // Flipped bytes in the middle block, under its old sha256.
  const block = (await idb((st) => st.get(`${key}|big.onnx#1`))) as { bytes: Uint8Array; sha256: string; storedAt: number };
  const flipped = block.bytes.slice();
  flipped[12345] = flipped[12345]! ^ 0xff;
  await idb((st) => st.put({ ...block, bytes: flipped }, `${key}|big.onnx#1`));
  const afterCorrupt = await visit(expected);
  // Downloaded and stored again: the index and its three blocks, no stray entry.
  const keysAfter = ((await idb((st) => st.getAllKeys())) as string[]).filter((k) => k.startsWith(key)).length;
  // The manifest now declares another file: the cached one is not used.
  const stale = await visit({ bytes: bytes.length, sha256: '0'.repeat(64) });
  return {
    blockBytes: BLOCK_BYTES,
    sha256,
    keys: keys.map((k) => k.slice(key.length)),
    first,
    again,
    wholeSame,
    afterCorrupt,
    keysAfter,
    stale,
  };
}

describe('the cache of a streamed checkpoint, block by block', () => {
  it('stores a file of 2.5 blocks as 3 blocks and an index as it streams, reads it back in blocks, and downloads a corrupt or stale one again', async () => {
    const r = await s.page.evaluate(cacheCheckInPage, inject('baseUrl'));
    expect(r.keys).toEqual(['|big.onnx', '|big.onnx#0', '|big.onnx#1', '|big.onnx#2']);
    expect(r.first).toMatchObject({ same: true, sha256: r.sha256, stats: { hits: 0, misses: 1, corrupt: 0 }, downloads: 1 });
    // From the cache: not one more download, never more than a block at a time, the sha256 it stored.
    expect(r.again).toMatchObject({ same: true, sha256: r.sha256, stats: { hits: 1, misses: 0, corrupt: 0 }, downloads: 1 });
    expect(r.again.largestChunk).toBe(r.blockBytes);
    expect(r.wholeSame).toBe(true);
    expect(r.afterCorrupt).toMatchObject({ same: true, sha256: r.sha256, stats: { hits: 0, misses: 1, corrupt: 1 }, downloads: 2 });
    expect(r.keysAfter).toBe(4);
    expect(r.stale).toMatchObject({ same: true, stats: { hits: 0, misses: 1, corrupt: 0 }, downloads: 3 });
  });
});
