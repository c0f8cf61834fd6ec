// A completed live frontier is kept in IndexedDB under its results key, so a second visit shows the
// verified frontier at once, with no evaluation. It lives page-side, not beside the bundle cache in
// the Worker (worker/cache.ts): the page is what knows a frontier is complete and shown (the store's
// points, under the key they were computed for), the entry is what the page shows, so restoring it
// is one read and one setState with no engine round trip, and the evaluation controller skips the
// α already complete in the store whoever filled them. The Worker caches bytes it downloads; this
// caches numbers the page already holds.
import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { PairSummary } from '../../worker/protocol';
import type { State, Store } from '../store';
import { decodeFrontier, encodeFrontier, isCompleteFrontier } from '../savedFrontier';

/** Where entries are kept: IndexedDB in the page, a Map in a test. */
export interface FrontierStorage {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/** IndexedDB, or null where there is none (Node, some private modes). Its own database: the Worker's has one store. */
export function indexedDbFrontierStorage(): FrontierStorage | null {
  if (typeof indexedDB === 'undefined') return null;
  // Opened now, while the pair downloads (idb-keyval opens on first use, hence the read): a repeat
  // visit then reads its frontier without first waiting for the open after the pair has loaded.
  const db: UseStore = createStore('wiseft-results', 'frontiers');
  get('', db).catch(() => undefined);
  return { get: (key) => get(key, db), set: (key, value) => set(key, value, db) };
}

/** What a saved frontier puts in the store (after the pair's resetResults). */
export type SavedResults = Pick<State, 'points' | 'ensemble' | 'cachedAt'>;

export interface FrontierCache {
  /** The saved frontier of `pair`'s results key if there is a sound one, else null. Read once per key. */
  read(pair: PairSummary): Promise<SavedResults | null>;
  /** Shows the saved frontier of `pair`'s results key if there is a sound one; true when it did. Read once per key. */
  restore(pair: PairSummary): Promise<boolean>;
  dispose(): void;
}

class Cache implements FrontierCache {
  /** The results keys already read (restored or not) and already saved, so neither is done twice. */
  private readonly read_ = new Set<string>();
  private readonly saved = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly storage: FrontierStorage,
    private readonly store: Store,
  ) {
    this.unsubscribe = store.subscribe(() => this.saveIfComplete());
  }

  async read(pair: PairSummary): Promise<SavedResults | null> {
    const key = pair.resultsKey;
    if (this.read_.has(key)) return null;
    this.read_.add(key);
    let raw: unknown;
    try {
      raw = await this.storage.get(key);
    } catch (e) {
      console.info(`The saved frontier could not be read (${String(e)}); evaluating afresh.`);
      return null;
    }
    if (raw === undefined) return null;
    const r = decodeFrontier(raw, pair);
    if (typeof r === 'string') {
      console.info(`The saved frontier for ${key} is not used (${r}); evaluating afresh.`);
      return null;
    }
    this.saved.add(key);
    return { points: r.points, ensemble: r.ensemble, cachedAt: r.savedAt };
  }

  async restore(pair: PairSummary): Promise<boolean> {
    const r = await this.read(pair);
    if (!r || this.store.getState().pair?.resultsKey !== pair.resultsKey) return false;
    this.store.setState((s) => ({
      points: { ...s.points, ...r.points },
      ensemble: { ...r.ensemble, ...s.ensemble },
      cachedAt: r.cachedAt,
    }));
    return true;
  }

  dispose(): void {
    this.unsubscribe();
  }

  private saveIfComplete(): void {
    const s = this.store.getState();
    const key = s.pair?.resultsKey;
    if (!s.pair || !key || s.evaluating || s.resultsKey !== key || this.saved.has(key) || !isCompleteFrontier(s.pair, s.points)) return;
    this.saved.add(key);
    this.storage.set(key, encodeFrontier(key, s.points, s.ensemble, Date.now())).catch((e: unknown) => {
      // Quota exceeded or private mode: the next visit evaluates again, nothing else is lost.
      console.info(`The completed frontier could not be saved (${String(e)}).`);
    });
  }
}

export function createFrontierCache(storage: FrontierStorage, store: Store): FrontierCache {
  return new Cache(storage, store);
}
