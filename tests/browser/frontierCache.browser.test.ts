// A completed live frontier is kept in IndexedDB under its results key: the page reloaded in the same
// profile shows the whole frontier from the cache, labelled as such, with no evaluation run, and the
// same numbers, bitsets included (the table's paired intervals read them).
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { execSync } from 'node:child_process';
import { openPage, type Session } from './setup/chromium';
import { serveBundle, appState, waitForPair, waitForComplete, GRID, type ServedBundle } from './setup/reliability';
import { FULL_FRONTIER_MS, LONG_TEST_MS, PAIR_LOAD_MS, UI_UPDATE_MS } from '../support/timeouts';

let s: Session;
let pair: ServedBundle;

/** Every grid α's counts and bitsets, as text: equal text, equal frontier. */
const frontierText = () =>
  appState(s.page, (st) =>
    JSON.stringify(
      Object.entries(st.points)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([a, p]) => [
          a,
          Object.entries(p).map(([id, x]) => [
            id,
            x.correct,
            x.n,
            x.total,
            Array.from(x.images?.correct ?? []),
            Array.from(x.images?.seen ?? []),
          ]),
        ]),
    ),
  );

/** True once the page's IndexedDB holds an entry under `key` (written after the frontier completes). */
const saved = (key: string) =>
  s.page.evaluate(
    (k) =>
      new Promise<boolean>((resolve) => {
        const open = indexedDB.open('wiseft-results');
        open.onerror = () => resolve(false);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('frontiers')) return resolve(false);
          const get = db.transaction('frontiers').objectStore('frontiers').get(k);
          get.onsuccess = () => resolve(get.result !== undefined);
          get.onerror = () => resolve(false);
        };
      }),
    key,
  );

beforeAll(async () => {
  pair = await serveBundle('frontier-cache', { seed: 21 });
  const pairUrl = new URL(pair.path, inject('baseUrl')).href;
  s = await openPage(`${inject('baseUrl')}?pair=${encodeURIComponent(pairUrl)}#backend=wasm`);
});
afterAll(async () => s?.close());

describe('the frontier cache', () => {
  it(
    'a reload shows the completed frontier at once from IndexedDB, labelled cached, with no evaluation and the same bitsets',
    async () => {
      await waitForPair(s.page, pair.bundleHash, PAIR_LOAD_MS);
      await waitForComplete(s.page, GRID, FULL_FRONTIER_MS);
      const key = (await appState(s.page, (st) => st.pair!.resultsKey))!;
      const firstMs = (await appState(s.page, (st) => st.fullFrontierMs))!;
      expect(await appState(s.page, (st) => st.cachedAt)).toBeNull();
      for (let i = 0; i < 100 && !(await saved(key)); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await saved(key)).toBe(true);
      const first = await frontierText();

      const reloadedAt = Date.now();
      await s.page.reload();
      await waitForPair(s.page, pair.bundleHash, PAIR_LOAD_MS);
      await waitForComplete(s.page, GRID, UI_UPDATE_MS);
      const wallMs = Date.now() - reloadedAt;
      const st = await appState(s.page, (x) => ({
        cachedAt: x.cachedAt,
        progress: x.progress,
        evaluating: x.evaluating,
        ms: x.fullFrontierMs,
      }));
      // No chunk event ever arrived: the engine evaluated nothing on this visit.
      expect(st).toMatchObject({ progress: null, evaluating: false });
      expect(st.cachedAt).not.toBeNull();
      expect(await frontierText()).toBe(first);
      await s.page.locator('[data-testid="frontier-cached"]', { hasText: 'verified live (cached ' }).waitFor({ timeout: UI_UPDATE_MS });
      await s.page.locator('[data-testid="eval-status"]', { hasText: 'verified live (cached ' }).waitFor({ timeout: UI_UPDATE_MS });
      console.log(
        `frontier: first visit ${(firstMs / 1000).toFixed(2)} s evaluated; repeat visit ${st.ms!.toFixed(0)} ms from the pair loaded to the complete frontier (reload to complete ${wallMs} ms); uptime: ${execSync('uptime').toString().trim()}`,
      );
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );
});
