// `npm run bench -- --only-first-screen`: the teaching issue's two first-screen figures on the built
// app (vite build, vite preview) in a cold Chromium profile: pair loaded → the recorded frontier and
// the recommended-α callout on screen; then, after the live frontier completed once, a reload in the
// same profile: pair loaded → the verified frontier restored from IndexedDB. One run each, printed
// with the load average (a shared machine: read them as one sample, not a timing guarantee).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview } from 'vite';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';

interface StoreView {
  pair: unknown;
  fullFrontierMs: number | null;
  cachedAt: number | null;
}
type Probe = 'pair' | 'firstScreen' | 'calloutNumbers' | 'live' | 'restored';

/** Milliseconds from `t0` until the page's state passes `probe` (checked in the page every 20 ms). */
async function until(page: Page, probe: Probe, t0: number, timeout: number): Promise<number> {
  await page.waitForFunction(
    (what) => {
      const s = (globalThis as unknown as { wiseft?: { store: { getState(): StoreView } } }).wiseft?.store.getState();
      if (!s) return false;
      if (what === 'pair') return s.pair !== null;
      if (what === 'live') return s.fullFrontierMs !== null;
      if (what === 'restored') return s.cachedAt !== null;
      // The callout's paired numbers need the recommended α and both endpoints on every image.
      if (what === 'calloutNumbers') return document.querySelector('[data-testid="recommended"][data-state="ready"]') !== null;
      // The recorded sweep in the chart's legend and the callout (its α and Go button) on screen.
      const legend = [...document.querySelectorAll('.recharts-legend-item-text')].some((e) => e.textContent === 'recorded sweep');
      return legend && document.querySelector('[data-testid="recommended"]') !== null;
    },
    probe,
    { timeout, polling: 20 },
  );
  return performance.now() - t0;
}

/** The built app served by vite preview (the full bench's first-load row uses it too). */
export async function servedApp(root: string, outDir: string): Promise<{ base: string; close: () => Promise<void> }> {
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const addr = server.httpServer.address();
  if (!addr || typeof addr === 'string') throw new Error('vite preview did not start');
  return { base: `http://127.0.0.1:${addr.port}/`, close: () => new Promise<void>((r) => server.httpServer.close(() => r())) };
}

export interface FirstScreen {
  cold: { pairLoadedMs: number; firstScreenAfterPairMs: number; calloutNumbersAfterPairMs: number; liveFrontierMs: number };
  repeat: { pairLoadedMs: number; verifiedAfterPairMs: number; calloutNumbersAfterPairMs: number };
  load: { before: number[]; after: number[] };
}

export async function firstScreen(root: string, outDir: string, executablePath: string): Promise<FirstScreen> {
  const before = loadavg();
  const app = await servedApp(root, outDir);
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-first-screen-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    let t0 = performance.now();
    await page.goto(`${app.base}#backend=wasm`);
    const pair = await until(page, 'pair', t0, 180_000);
    const shown = await until(page, 'firstScreen', t0, 60_000);
    const numbers = await until(page, 'calloutNumbers', t0, 900_000);
    const live = await until(page, 'live', t0, 900_000);
    // The frontier is saved when it completes; give the write a moment before the reload reads it.
    await page.waitForTimeout(2_000);
    t0 = performance.now();
    await page.reload();
    const pair2 = await until(page, 'pair', t0, 180_000);
    const restored = await until(page, 'restored', t0, 60_000);
    const numbers2 = await until(page, 'calloutNumbers', t0, 60_000);
    return {
      cold: { pairLoadedMs: pair, firstScreenAfterPairMs: shown - pair, calloutNumbersAfterPairMs: numbers - pair, liveFrontierMs: live },
      repeat: { pairLoadedMs: pair2, verifiedAfterPairMs: restored - pair2, calloutNumbersAfterPairMs: numbers2 - pair2 },
      load: { before, after: loadavg() },
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await app.close();
  }
}
