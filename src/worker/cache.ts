// Loaded bundles are cached in IndexedDB so the next visit opens instantly and offline. Each entry
// carries the sha256 of its bytes, checked on every read: a corrupted or half-written entry is
// dropped and downloaded again, never used.
import { get, set, del, createStore, type UseStore } from 'idb-keyval';
import { sha256Hex, type BundleSource } from '../core/bundle/source';
import { DownloadError } from '../core/bundle/net';

interface Entry { bytes: Uint8Array; sha256: string; storedAt: number }

let store: UseStore | null = null;
function db(): UseStore | null {
  if (typeof indexedDB === 'undefined') return null;
  return (store ??= createStore('wiseft-explorer', 'bundles'));
}

export interface CacheStats { hits: number; misses: number; corrupt: number }

/**
 * Wraps a source with the cache. manifest.json is fetched first (so an updated bundle is seen) and
 * taken from the cache only when the network fails; every other file comes from the cache when
 * its entry is intact.
 */
export function cachedSource(inner: BundleSource, key: string, stats: CacheStats = { hits: 0, misses: 0, corrupt: 0 }): BundleSource {
  const s = db();
  if (!s) return inner;
  const id = (path: string) => `${key}|${path}`;
  const fromCache = async (path: string): Promise<Uint8Array | null> => {
    try {
      const e = (await get(id(path), s)) as Entry | undefined;
      if (!e) return null;
      if (!(e.bytes instanceof Uint8Array) || (await sha256Hex(e.bytes)) !== e.sha256) {
        stats.corrupt++;
        await del(id(path), s);
        return null;
      }
      return e.bytes;
    } catch {
      return null;
    }
  };
  const put = async (path: string, bytes: Uint8Array) => {
    try {
      await set(id(path), { bytes, sha256: await sha256Hex(bytes), storedAt: Date.now() } satisfies Entry, s);
    } catch {
      // Quota exceeded or private mode: the app works without the cache.
    }
  };
  return {
    label: inner.label,
    ...(inner.url ? { url: inner.url } : {}),
    async read(path, onProgress, expected) {
      if (path === 'manifest.json') {
        try {
          const bytes = await inner.read(path, onProgress);
          await put(path, bytes);
          return bytes;
        } catch (e) {
          // Cancel means stop, not "use the copy from last time".
          if (e instanceof DownloadError && e.kind === 'cancelled') throw e;
          const cached = await fromCache(path);
          if (cached) return cached;
          throw e;
        }
      }
      const cached = await fromCache(path);
      if (cached) {
        stats.hits++;
        onProgress?.(cached.byteLength, cached.byteLength);
        return cached;
      }
      stats.misses++;
      const bytes = await inner.read(path, onProgress, expected);
      await put(path, bytes);
      return bytes;
    },
    async reread(path, onProgress, expected) {
      stats.misses++;
      const bytes = await inner.read(path, onProgress, expected);
      await put(path, bytes);
      return bytes;
    },
  };
}

/** Test hook and "clear cache" button: corrupts nothing, removes one entry. */
export async function forget(key: string, path: string): Promise<void> {
  const s = db();
  if (s) await del(`${key}|${path}`, s);
}
