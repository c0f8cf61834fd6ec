// Loaded bundles are cached in IndexedDB so the next visit opens instantly and offline. Each entry
// carries the sha256 of its bytes, checked on every read: a corrupted or half-written entry is
// dropped and downloaded again, never used. A file over one block (a checkpoint) is stored as
// blocks of 16 MiB behind an index written last: a streamed checkpoint is cached as it passes, and
// read back block by block, so caching never holds it whole (the memory target is 4× one checkpoint).
import { get, set, del, createStore, type UseStore } from 'idb-keyval';
import { sha256Hex, type BundleSource, type Expected, type FileStream } from '../core/bundle/source';
import { DownloadError } from '../core/bundle/net';
import { Sha256 } from '../core/util/sha256';
import type { CacheStats } from './protocol';

export type { CacheStats };

interface Entry {
  bytes: Uint8Array;
  sha256: string;
  storedAt: number;
}

/** A file stored as `blocks` entries `<id>#<i>` (each an Entry); `sha256` is the whole file's. */
interface BlockIndex {
  blocks: number;
  bytes: number;
  sha256: string;
  storedAt: number;
}

/** Large enough that a block's put is cheap beside its bytes, small beside any checkpoint worth streaming. */
export const BLOCK_BYTES = 16 * 2 ** 20;

/** A cached file found intact: its size, its sha256, and its bytes block by block. */
interface Hit {
  /** A file stored whole: its bytes. */
  whole?: Uint8Array;
  bytes: number;
  sha256: string;
  chunks(): AsyncGenerator<Uint8Array>;
}

let store: UseStore | null = null;
function db(): UseStore | null {
  if (typeof indexedDB === 'undefined') return null;
  return (store ??= createStore('wiseft-explorer', 'bundles'));
}

const isEntry = (e: unknown): e is Entry => typeof e === 'object' && e !== null && (e as Entry).bytes instanceof Uint8Array;
const isIndex = (e: unknown): e is BlockIndex =>
  typeof e === 'object' && e !== null && Number.isInteger((e as BlockIndex).blocks) && typeof (e as BlockIndex).sha256 === 'string';

/** One bundle's entries: `<key>|<path>`. */
class BundleCache {
  constructor(
    private s: UseStore,
    private key: string,
    private stats: CacheStats,
  ) {}

  private id(path: string): string {
    return `${this.key}|${path}`;
  }

  /** The intact entry's bytes, whole, or null (absent, unreadable, or corrupt: then also deleted). */
  async read(path: string): Promise<Uint8Array | null> {
    const hit = await this.find(path);
    if (!hit) return null;
    if (hit.whole) return hit.whole;
    const out = new Uint8Array(hit.bytes);
    let at = 0;
    for await (const c of hit.chunks()) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }

  /** The file if every block of it is intact (each is read and checked once here, then again by `chunks`). */
  async find(path: string): Promise<Hit | null> {
    try {
      const e: unknown = await get(this.id(path), this.s);
      if (e === undefined) return null;
      if (isEntry(e) && (await sha256Hex(e.bytes)) === e.sha256)
        return {
          whole: e.bytes,
          bytes: e.bytes.byteLength,
          sha256: e.sha256,
          chunks: async function* () {
            yield e.bytes;
          },
        };
      if (isIndex(e) && (await this.blocksIntact(path, e))) return { bytes: e.bytes, sha256: e.sha256, chunks: () => this.blocks(path, e) };
      this.stats.corrupt++;
      await this.remove(path, isIndex(e) ? e.blocks : 0);
      return null;
    } catch {
      return null;
    }
  }

  private async block(path: string, i: number): Promise<Entry | null> {
    const b: unknown = await get(`${this.id(path)}#${i}`, this.s);
    return isEntry(b) && (await sha256Hex(b.bytes)) === b.sha256 ? b : null;
  }

  private async blocksIntact(path: string, index: BlockIndex): Promise<boolean> {
    let bytes = 0;
    for (let i = 0; i < index.blocks; i++) {
      const b = await this.block(path, i);
      if (!b) return false;
      bytes += b.bytes.byteLength;
    }
    return bytes === index.bytes;
  }

  private async *blocks(path: string, index: BlockIndex): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < index.blocks; i++) {
      const b = await this.block(path, i);
      // Checked a moment ago: changed since (another tab rewrote the bundle), it is not used.
      if (!b) throw new Error(`the cached copy of ${path} changed while it was read; load the pair again`);
      yield b.bytes;
    }
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > BLOCK_BYTES) return this.writeBlocks(path, bytes);
    await this.put(this.id(path), bytes);
  }

  private async writeBlocks(path: string, bytes: Uint8Array): Promise<void> {
    const blocks = Math.ceil(bytes.byteLength / BLOCK_BYTES);
    for (let i = 0; i < blocks; i++) {
      if (!(await this.put(`${this.id(path)}#${i}`, bytes.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES).slice()))) return;
    }
    await this.putIndex(path, { blocks, bytes: bytes.byteLength, sha256: await sha256Hex(bytes), storedAt: Date.now() });
  }

  /**
   * `chunks`, passed on as they come, stored block by block as they pass; the index goes last,
   * once every block is stored, so a load cut short leaves no entry that could be read. The whole
   * file's sha256, taken as the chunks pass, is handed to `done` before the last chunk is followed by the end.
   */
  async *writeThrough(
    path: string,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    done: (sha256: string) => void,
  ): AsyncGenerator<Uint8Array> {
    const hash = await Sha256.create();
    const block = new Uint8Array(BLOCK_BYTES);
    let fill = 0;
    let blocks = 0;
    let bytes = 0;
    let storing = true;
    let complete = false;
    const flush = async () => {
      // The last, partial block as a copy of its own: a view would store the whole 16 MiB buffer.
      storing &&= await this.put(`${this.id(path)}#${blocks++}`, fill === BLOCK_BYTES ? block : block.slice(0, fill));
      fill = 0;
    };
    try {
      for await (const c of chunks) {
        hash.update(c);
        bytes += c.byteLength;
        for (let at = 0; at < c.byteLength;) {
          const n = Math.min(BLOCK_BYTES - fill, c.byteLength - at);
          block.set(c.subarray(at, at + n), fill);
          fill += n;
          at += n;
          if (fill === BLOCK_BYTES) await flush();
        }
        yield c;
      }
      const sha256 = hash.hex();
      done(sha256);
      // A file within one block is stored whole, as `write` stores it.
      if (blocks === 0) complete = await this.put(this.id(path), block.slice(0, fill));
      else {
        if (fill > 0) await flush();
        complete = storing && (await this.putIndex(path, { blocks, bytes, sha256, storedAt: Date.now() }));
      }
    } finally {
      if (!complete) for (let i = 0; i < blocks; i++) void del(`${this.id(path)}#${i}`, this.s).catch(() => undefined);
    }
  }

  private async put(id: string, bytes: Uint8Array): Promise<boolean> {
    try {
      await set(id, { bytes, sha256: await sha256Hex(bytes), storedAt: Date.now() } satisfies Entry, this.s);
      return true;
    } catch {
      // Quota exceeded or private mode: the app works without the cache.
      return false;
    }
  }

  private async putIndex(path: string, index: BlockIndex): Promise<boolean> {
    try {
      await set(this.id(path), index, this.s);
      return true;
    } catch {
      return false;
    }
  }

  /** The entry and its `blocks` blocks, so that a corrupt file leaves nothing behind. */
  private async remove(path: string, blocks: number): Promise<void> {
    await del(this.id(path), this.s);
    for (let i = 0; i < blocks; i++) await del(`${this.id(path)}#${i}`, this.s);
  }
}

type Read = BundleSource['read'];

/** manifest.json from the network (so an updated bundle is seen); the cached copy only when that fails. */
async function readManifest(inner: BundleSource, cache: BundleCache, path: string, onProgress: Parameters<Read>[1]): Promise<Uint8Array> {
  try {
    const bytes = await inner.read(path, onProgress);
    await cache.write(path, bytes);
    return bytes;
  } catch (e) {
    // Cancel means stop, not "use the copy from last time".
    if (e instanceof DownloadError && e.kind === 'cancelled') throw e;
    const cached = await cache.read(path);
    if (cached) return cached;
    throw e;
  }
}

async function download(
  inner: BundleSource,
  cache: BundleCache,
  stats: CacheStats,
  ...[path, onProgress, expected]: Parameters<Read>
): Promise<Uint8Array> {
  stats.misses++;
  const bytes = await inner.read(path, onProgress, expected);
  await cache.write(path, bytes);
  return bytes;
}

/** A cached file that is not the one the manifest declares now (the bundle changed) is downloaded again. */
function matches(hit: Hit, expected: Expected | undefined): boolean {
  return (expected?.bytes === undefined || hit.bytes === expected.bytes) && (!expected?.sha256 || hit.sha256 === expected.sha256);
}

/** A file's chunks from the cache when intact and current, else from `inner`, stored as they pass. */
function cachedStream(
  inner: BundleSource,
  cache: BundleCache,
  stats: CacheStats,
  ...[path, onProgress, expected]: Parameters<Read>
): FileStream {
  let sha256: string | null = null;
  const chunks = async function* (): AsyncGenerator<Uint8Array> {
    const hit = await cache.find(path);
    if (hit && matches(hit, expected)) {
      stats.hits++;
      sha256 = hit.sha256;
      let loaded = 0;
      for await (const c of hit.chunks()) {
        onProgress?.((loaded += c.byteLength), hit.bytes);
        yield c;
      }
      return;
    }
    stats.misses++;
    const from = inner.stream?.(path, onProgress, expected).chunks ?? [await inner.read(path, onProgress, expected)];
    yield* cache.writeThrough(path, from, (h) => (sha256 = h));
  };
  return { chunks: chunks(), sha256: () => sha256! };
}

/**
 * Wraps a source with the cache. manifest.json is fetched first (so an updated bundle is seen) and
 * taken from the cache only when the network fails; every other file comes from the cache when
 * its entry is intact.
 */
export function cachedSource(inner: BundleSource, key: string, stats: CacheStats = { hits: 0, misses: 0, corrupt: 0 }): BundleSource {
  const s = db();
  if (!s) return inner;
  const cache = new BundleCache(s, key, stats);
  return {
    label: inner.label,
    ...(inner.url ? { url: inner.url } : {}),
    async read(path, onProgress, expected) {
      if (path === 'manifest.json') return readManifest(inner, cache, path, onProgress);
      const cached = await cache.read(path);
      if (!cached) return download(inner, cache, stats, path, onProgress, expected);
      stats.hits++;
      onProgress?.(cached.byteLength, cached.byteLength);
      return cached;
    },
    stream: (path, onProgress, expected) => cachedStream(inner, cache, stats, path, onProgress, expected),
    reread: (path, onProgress, expected) => download(inner, cache, stats, path, onProgress, expected),
  };
}
