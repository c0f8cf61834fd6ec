// Loaded bundles are cached in IndexedDB so the next visit opens instantly and offline. Each entry
// carries the sha256 of its bytes, checked on every read: a corrupted or half-written entry is
// dropped and downloaded again, never used.
import { get, set, del, createStore, type UseStore } from 'idb-keyval';
import { sha256Hex, type BundleSource } from '../core/bundle/source';
import { DownloadError } from '../core/bundle/net';
import type { CacheStats } from './protocol';

export type { CacheStats };

interface Entry {
  bytes: Uint8Array;
  sha256: string;
  storedAt: number;
}

let store: UseStore | null = null;
function db(): UseStore | null {
  if (typeof indexedDB === 'undefined') return null;
  return (store ??= createStore('wiseft-explorer', 'bundles'));
}

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

  /** The intact entry, or null (absent, unreadable, or corrupt: then also deleted). */
  async read(path: string): Promise<Uint8Array | null> {
    try {
      const e = (await get(this.id(path), this.s)) as Entry | undefined;
      if (!e) return null;
      if (!(e.bytes instanceof Uint8Array) || (await sha256Hex(e.bytes)) !== e.sha256) {
        this.stats.corrupt++;
        await del(this.id(path), this.s);
        return null;
      }
      return e.bytes;
    } catch {
      return null;
    }
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await set(this.id(path), { bytes, sha256: await sha256Hex(bytes), storedAt: Date.now() } satisfies Entry, this.s);
    } catch {
      // Quota exceeded or private mode: the app works without the cache.
    }
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
    reread: (path, onProgress, expected) => download(inner, cache, stats, path, onProgress, expected),
  };
}
