// Per-layer α and extrapolation in the app on the bundled pair: the panel's group sliders, the
// LiNeS preset and its sliders, a new setting's first estimate then its first chunks, the
// sensitivity strip at 100 images per set, α = 1.5 drawn as an extrapolated point, and the URL hash
// that reopens all of it. Screenshot: docs/screenshots/layer-alpha.png.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './setup/chromium';
import { appState, withActions } from './setup/page';
import { PREVIEW_IMAGES } from '../../src/core/eval/evaluator';
import { settingKey } from '../../src/core/eval/ids';
import { APP_START_MS, PAIR_LOAD_MS, SLOW_TEST_MS, BUNDLED_FRONTIER_MS, UI_UPDATE_MS, REDRAW_MS } from '../support/timeouts';

const SHOTS = 'docs/screenshots';
let s: Session;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openPage(`${inject('baseUrl')}#backend=wasm&alpha=0.50`);
  await s.page.waitForSelector('[data-testid="backend"]', { timeout: APP_START_MS });
  await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair !== null, undefined, { timeout: PAIR_LOAD_MS, polling: 250 });
});
afterAll(async () => s?.close());

/** The LiNeS ramp computed here, from its formula: base + slope·(ℓ − 1)/(L − 1) in hundredths. */
const ramp = (L: number, base: number, slope: number) =>
  Array.from({ length: L }, (_, l) => Math.round(100 * (base + (slope * l) / (L - 1))) / 100);

describe('per-layer α in the app', () => {
  it(
    'drives the panel, a preset, the strip and α = 1.5, and the link reopens the same view',
    async () => {
      const groups = await appState(s.page, (st) => st.pair!.layers.map((g) => g.id));
      expect(groups).toEqual([...Array.from({ length: 6 }, (_, i) => `encoder.features.${i}`), 'encoder.proj', 'head']);

      await s.page.check('[data-testid="layers-on"]');
      await s.page.waitForSelector('[data-testid="layer-sliders"]');
      expect(await appState(s.page, (st) => st.layerAlphas)).toEqual(Array(8).fill(0.5));
      await s.page.locator('#layer-7').fill('0.9');
      expect(await s.page.textContent('[data-testid="layer-alpha-7"]')).toBe('0.90');

      // Each setting's points as the page gets them, in order: the fewest images per set behind each.
      await s.page.evaluate(() => {
        const w = globalThis as unknown as { layerNs: Record<string, number[]> };
        w.layerNs = {};
        let prev = globalThis.wiseft!.store.getState().layerPoints;
        globalThis.wiseft!.store.subscribe((st) => {
          for (const [k, p] of Object.entries(st.layerPoints))
            if (p !== prev[k]) (w.layerNs[k] ??= []).push(Math.min(...st.pair!.sets.map((x) => p[x.id]?.n ?? 0)));
          prev = st.layerPoints;
        });
      });
      await s.page.click('[data-testid="preset-lines"]');
      await s.page.locator('[data-testid="lines-slope"]').fill('0.6');
      expect(await appState(s.page, (st) => st.layerAlphas)).toEqual(ramp(8, 0.2, 0.6));
      // The setting's own point, under its own key: never in the uniform α's points.
      await s.page.waitForFunction(
        () => {
          const st = globalThis.wiseft!.store.getState();
          return Object.keys(st.layerPoints).some((k) => k.startsWith(`${st.pair!.resultsKey}|layers=`));
        },
        undefined,
        { timeout: BUNDLED_FRONTIER_MS, polling: 500 },
      );
      expect(await appState(s.page, (st) => Object.keys(st.points).every((k) => !k.includes('layers')))).toBe(true);
      await s.page.locator('.recharts-legend-item-text', { hasText: 'per-layer α setting' }).waitFor({ timeout: UI_UPDATE_MS });
      // The ramp's point: first its estimate on a few images of every set (as a new α's), then its first chunks.
      const key = settingKey(await appState(s.page, (st) => st.pair!.resultsKey), ramp(8, 0.2, 0.6));
      await s.page.waitForFunction(
        (k) => {
          const p = globalThis.wiseft!.store.getState().layerPoints[k];
          return p !== undefined && Object.values(p).every((a) => a.n >= 100);
        },
        key,
        { timeout: BUNDLED_FRONTIER_MS, polling: 250 },
      );
      const ns = await s.page.evaluate((k) => (globalThis as unknown as { layerNs: Record<string, number[]> }).layerNs[k]!, key);
      expect(ns[0]).toBe(PREVIEW_IMAGES);
      expect(ns).toContain(100);
      expect(ns.every((n, i) => i === 0 || n >= ns[i - 1]!)).toBe(true);

      await s.page.click('[data-testid="strip-run"]');
      expect(await s.page.locator('[data-testid="strip-row"]').count()).toBe(8);
      // Every cell of the strip filled: 16 settings on 100 images per set, and both endpoints there.
      await s.page.waitForFunction(() => !document.querySelector('[data-testid="strip"] td.muted'), undefined, {
        timeout: BUNDLED_FRONTIER_MS,
        polling: 1000,
      });
      expect(await s.page.textContent('[data-testid="strip-note"]')).toMatch(/^n = 100 images per set \(of 1,000\)/);

      await s.page.check('[data-testid="extrapolate"]');
      await s.page.locator('#alpha').fill('1.5');
      expect(await appState(s.page, (st) => st.alpha)).toBe(1.5);
      await s.page.waitForSelector('[data-testid="extrapolated-point"][data-alpha="1.50"]', { timeout: BUNDLED_FRONTIER_MS });
      expect(await s.page.getAttribute('#alpha', 'data-extrapolated')).toBe('true');
      expect(await s.page.isVisible('[data-testid="alpha-shade"]')).toBe(true);

      // The shaded slider at 1.50 on top, then the panel and its strip: what the feature adds below the chart.
      await s.page.setViewportSize({ width: 1280, height: 800 });
      await s.page.locator('.alpha-control').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      // A loaded machine renders slowly while the extended frontier streams in.
      await s.page.screenshot({ path: join(SHOTS, 'layer-alpha.png'), timeout: UI_UPDATE_MS });

      // On a phone the panel, its sliders and the strip stay within the page's width.
      await s.page.setViewportSize({ width: 390, height: 844 });
      // The chart follows the new width through a ResizeObserver: wait for the page to settle, fail if it never fits.
      await s.page.waitForFunction(() => document.documentElement.scrollWidth <= innerWidth, undefined, {
        timeout: REDRAW_MS,
        polling: 100,
      });

      const hash = await s.page.evaluate(() => location.hash);
      expect(hash).toMatch(/extrapolate=1/);
      expect(hash).toMatch(/preset=lines/);
      expect(hash).toMatch(/sensitivity=100/);
      await s.page.goto('about:blank');
      await s.page.goto(`${inject('baseUrl')}${hash}`);
      await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair !== null, undefined, {
        timeout: PAIR_LOAD_MS,
        polling: 250,
      });
      const reopened = await appState(s.page, (st) => ({
        alpha: st.alpha,
        layers: st.layerAlphas,
        preset: st.layerPreset,
        extrapolate: st.extrapolate,
        n: st.sensitivity,
      }));
      expect(reopened).toEqual({ alpha: 1.5, layers: ramp(8, 0.2, 0.6), preset: 'lines', extrapolate: true, n: 100 });
      await withActions(s.page, (a) => a.setLayersOn(false));
      await s.page.waitForFunction(() => !location.hash.includes('layers='), undefined, { timeout: UI_UPDATE_MS });
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS + BUNDLED_FRONTIER_MS,
  );
});
