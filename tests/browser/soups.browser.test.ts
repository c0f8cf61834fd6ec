// Soups in the app on the bundled pair: the panel evaluates the uniform soup, the greedy soup (its
// steps listed one at a time, each kept or rejected) and Model Stock on 100 images per set, draws
// them on the chart under their own keys, and the triangle fills cells, current point first; the
// URL hash keeps the panel and the triangle's view. Screenshot: docs/screenshots/soups.png.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './setup/chromium';
import { appState } from './setup/page';
import { APP_START_MS, PAIR_LOAD_MS, SLOW_TEST_MS, BUNDLED_FRONTIER_MS, UI_UPDATE_MS } from '../support/timeouts';

const SHOTS = 'docs/screenshots';
let s: Session;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openPage(`${inject('baseUrl')}#backend=wasm&alpha=0.50`);
  await s.page.waitForSelector('[data-testid="backend"]', { timeout: APP_START_MS });
  await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair !== null, undefined, { timeout: PAIR_LOAD_MS, polling: 250 });
});
afterAll(async () => s?.close());

describe('soups in the app', () => {
  it(
    'drives the soups panel and a few triangle cells; soups stay under their own keys and in the link',
    async () => {
      await s.page.check('[data-testid="soups-on"]');
      // Every greedy step shown, one per member, each kept or rejected.
      await s.page.waitForFunction(() => document.querySelectorAll('[data-testid="greedy-step"]').length === 3, undefined, {
        timeout: BUNDLED_FRONTIER_MS,
        polling: 500,
      });
      const steps = await s.page.locator('[data-testid="greedy-step"]').allTextContents();
      expect(steps[0]).toMatch(/kept$/);
      for (const t of steps)
        expect(t).toMatch(/^(e2e-seed0|e2e-seed1|linear-seed0): alone \d+\.\d% on the reference set.*(kept|rejected)$/);
      await s.page.waitForFunction(() => document.querySelectorAll('[data-testid="soup-table"] tbody tr').length === 3, undefined, {
        timeout: BUNDLED_FRONTIER_MS,
        polling: 500,
      });
      await s.page.locator('.recharts-legend-item-text', { hasText: /^Model Stock \(n=\d+\)$/ }).waitFor({ timeout: UI_UPDATE_MS });
      expect(await appState(s.page, (st) => Object.keys(st.soupPoints).every((k) => k.startsWith(`${st.pair!.resultsKey}|soup:`)))).toBe(
        true,
      );
      expect(await appState(s.page, (st) => Object.keys(st.points).every((k) => !k.includes('soup')))).toBe(true);

      await s.page.check('[data-testid="triangle-on"]');
      await s.page.waitForFunction(
        () => document.querySelectorAll('[data-testid="soup-triangle"] circle[data-computed="true"]').length >= 4,
        undefined,
        {
          timeout: BUNDLED_FRONTIER_MS,
          polling: 500,
        },
      );
      expect(await s.page.locator('[data-testid="soup-triangle"] circle').count()).toBe(66);
      // The current α's cell (zero-shot 0.5, e2e-seed0 0.5) is the first one evaluated.
      expect(
        await s.page
          .locator('[data-testid="soup-triangle"] circle[data-computed="true"] title', { hasText: /^zero-shot 0\.5, 0\.5, 0\.0:/ })
          .count(),
      ).toBe(1);
      expect(await s.page.textContent('[data-testid="triangle-caption"]')).toMatch(/of 66 cells on a 0\.1 grid, n = 100 images per set/);
      await s.page.waitForFunction(() => location.hash.includes('soups=1') && location.hash.includes('triangle=reference'), undefined, {
        timeout: UI_UPDATE_MS,
      });
      await s.page.click('[data-testid="triangle-shift"]');
      await s.page.waitForFunction(() => location.hash.includes('triangle=shift'), undefined, { timeout: UI_UPDATE_MS });

      await s.page.setViewportSize({ width: 1280, height: 800 });
      await s.page.locator('[data-testid="soups-panel"]').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await s.page.screenshot({ path: join(SHOTS, 'soups.png'), timeout: UI_UPDATE_MS });
    },
    SLOW_TEST_MS,
  );
});
