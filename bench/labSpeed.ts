// `npm run bench -- --only-lab-speed`: issue 16's speed rows on the built app (vite build, vite
// preview) in a fresh headless Chromium profile, on the wasm backend and the bundled pair, driven
// through the app's own actions (globalThis.wiseft) as the browser tests drive it. Every time is
// taken in the page, from the action to the frame where the DOM shows the result (polled on each
// animation frame), so the slider's debounce and React's render are in it, Playwright's round trip
// is not. Each step starts with the app idle: the live frontier complete and no job running. One
// run on a shared machine: the load average goes with the numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { servedApp } from './firstScreen';
import { stat, type Stat } from './stat';

/** Images per set of the strip's and the triangle's first pass (the app's STRIP_IMAGES, SOUP_FIRST_IMAGES). */
const FIRST_IMAGES = 100;
/** Off the 0.1 grid and never computed before, so every change is new work. */
const PLAIN_ALPHAS = [0.33, 0.47, 0.62, 0.78, 0.14];
const GROUP_ALPHAS = [0.6, 0.7, 0.8, 0.9, 0.4];

export interface LabSpeedReport {
  date: string;
  load: { before: number[]; after: number[] };
  chromium: string;
  pairLoadedMs: number;
  liveFrontierMs: number;
  /** Strip requested → every group's two settings on FIRST_IMAGES images of every set, on screen. */
  stripMs: number;
  strip: { groups: number; imagesPerSet: number };
  triangle: {
    currentMs: number;
    allMs: number;
    cells: number;
    /** Cells drawn in the triangle's first frame, from the soups' own points. */
    fromSoups: number;
    firstCell: string;
    currentFirst: boolean;
  };
  /**
   * One group's α moved → its new point's first estimate on screen (with its fewest images per set),
   * and → FIRST_IMAGES of every set, each change; the app idle before each. A report from before the
   * per-layer first estimate has the first time alone.
   */
  groupChange: { group: string; ms: number[]; stat: Stat; firstImages?: number[]; fullMs?: number[]; fullStat?: Stat };
  /** Plain α moved → first estimate on screen (with its fewest images per set), and → FIRST_IMAGES of every set. */
  plainChange: { ms: number[]; stat: Stat; firstImages?: number[]; fullMs?: number[]; fullStat?: Stat };
}

/** One change's times: to its first point on screen (on `firstImages` per set, the fewest), and to FIRST_IMAGES of every set. */
interface ChangeSample {
  ms: number;
  firstImages: number;
  fullMs: number;
}

/** Milliseconds from `t0` until `check()` holds on an animation frame; in the page, installed before the app loads. */
function installUntil(): void {
  (globalThis as unknown as { __labUntil: unknown }).__labUntil = (check: () => boolean, timeoutMs: number, t0: number) =>
    new Promise<number>((resolve, reject) => {
      const tick = () => {
        if (check()) return resolve(performance.now() - t0);
        if (performance.now() - t0 > timeoutMs) return reject(new Error(`not on screen after ${timeoutMs} ms`));
        requestAnimationFrame(tick);
      };
      tick();
    });
}
type Until = (check: () => boolean, timeoutMs: number, t0: number) => Promise<number>;

/** The frontier complete and no frontier, per-layer or soup job running. */
async function idle(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const s = globalThis.wiseft?.store.getState();
      return !!s && s.fullFrontierMs !== null && !s.evaluating && !s.layerEvaluating && !s.soupEvaluating;
    },
    null,
    { timeout, polling: 100 },
  );
  // A job scheduled behind the slider's debounce has not set its flag yet: look again after it.
  await page.waitForTimeout(500);
  await page.waitForFunction(
    () => {
      const s = globalThis.wiseft!.store.getState();
      return !s.evaluating && !s.layerEvaluating && !s.soupEvaluating;
    },
    null,
    { timeout, polling: 100 },
  );
}

/**
 * A plain α change → the chart's current point at that α drawn from computed images (not the
 * estimate), with the fewest images per set behind it then; and → every set on FIRST_IMAGES images
 * (or all it has) in the store the chart draws from.
 */
async function plainChange(page: Page, alpha: number): Promise<ChangeSample> {
  return page.evaluate(
    async ([a, first]) => {
      const until = (globalThis as unknown as { __labUntil: Until }).__labUntil;
      const w = globalThis.wiseft!;
      const sets = () => w.store.getState().pair!.sets;
      const n = (id: string) => w.store.getState().points[String(a)]?.[id]?.n ?? 0;
      const t0 = performance.now();
      w.actions.setAlpha(a);
      const sel = `[data-testid="current-point"][data-alpha="${a.toFixed(2)}"][data-estimate="false"]`;
      const ms = await until(() => document.querySelector(sel) !== null, 120_000, t0);
      const firstImages = Math.min(...sets().map((x) => n(x.id)));
      const fullMs = await until(() => sets().every((x) => n(x.id) >= Math.min(first, x.count)), 120_000, t0);
      return { ms, firstImages, fullMs };
    },
    [alpha, FIRST_IMAGES] as const,
  );
}

/**
 * One group's α moved → the panel's "This setting" line shows the new setting's reference and
 * shift numbers (the star on the chart is drawn from the same point in the same render), with the
 * fewest images per set behind them then; and → every set on FIRST_IMAGES images (or all it has).
 */
async function groupChange(page: Page, group: number, alpha: number): Promise<ChangeSample> {
  return page.evaluate(
    async ([g, a, first]) => {
      const until = (globalThis as unknown as { __labUntil: Until }).__labUntil;
      const w = globalThis.wiseft!;
      const point = () => {
        const s = w.store.getState();
        return s.layerPoints[`${s.pair!.resultsKey}|layers=${s.layerAlphas!.join(',')}`];
      };
      const n = (id: string) => point()?.[id]?.n ?? 0;
      const sets = () => w.store.getState().pair!.sets;
      const t0 = performance.now();
      w.actions.setLayerAlpha(g, a);
      const shown = () => {
        const text = document.querySelector('[data-testid="layer-now"]')?.textContent ?? '…';
        return w.store.getState().layerAlphas![g] === a && point() !== undefined && !text.includes('…');
      };
      const ms = await until(shown, 120_000, t0);
      const firstImages = Math.min(...sets().map((x) => n(x.id)));
      const fullMs = await until(() => sets().every((x) => n(x.id) >= Math.min(first, x.count)), 120_000, t0);
      return { ms, firstImages, fullMs };
    },
    [group, alpha, FIRST_IMAGES] as const,
  );
}

/** Strip requested → no cell of it waiting and its note saying FIRST_IMAGES images per set (the fewest over every setting and set). */
async function strip(page: Page): Promise<number> {
  return page.evaluate(async (n) => {
    const until = (globalThis as unknown as { __labUntil: Until }).__labUntil;
    const t0 = performance.now();
    globalThis.wiseft!.actions.showSensitivity(n);
    const done = () => {
      const note = document.querySelector('[data-testid="strip-note"]')?.textContent ?? '';
      return note.startsWith(`n = ${n} images per set`) && !document.querySelector('[data-testid="strip"] td.muted');
    };
    return until(done, 600_000, t0);
  }, FIRST_IMAGES);
}

/**
 * Triangle requested (the soups panel open and idle) → the current α's cell drawn, and all cells
 * drawn with every started cell on FIRST_IMAGES images of every set. Cells drawn in the triangle's
 * first frame came from points the soups had already (a member alone is a greedy step): the first
 * cell evaluated is the first drawn after that frame.
 */
async function triangle(page: Page, alpha: number): Promise<LabSpeedReport['triangle']> {
  return page.evaluate(
    async ([a, n]) => {
      const until = (globalThis as unknown as { __labUntil: Until }).__labUntil;
      const w = globalThis.wiseft!;
      const circles = () => [...document.querySelectorAll('[data-testid="soup-triangle"] circle')];
      const drawn = () => circles().flatMap((c) => (c.getAttribute('data-computed') === 'true' ? [c.textContent!.split(':')[0]!] : []));
      const current = `zero-shot ${(1 - a).toFixed(1)}, ${a.toFixed(1)}, 0.0`;
      let before: string[] | null = null;
      let firstCell = '';
      const t0 = performance.now();
      w.actions.setTriangle('reference');
      const currentMs = await until(
        () => {
          if (circles().length === 0) return false;
          before ??= drawn();
          firstCell ||= drawn().find((c) => !before!.includes(c)) ?? '';
          return drawn().includes(current);
        },
        600_000,
        t0,
      );
      const complete = () => {
        const s = w.store.getState();
        const full = Object.values(s.soupPoints).every((p) => s.pair!.sets.every((x) => (p[x.id]?.n ?? 0) >= Math.min(n, x.count)));
        return full && drawn().length === circles().length;
      };
      const allMs = await until(complete, 900_000, t0);
      return { currentMs, allMs, cells: circles().length, fromSoups: before!.length, firstCell, currentFirst: firstCell === current };
    },
    [alpha, FIRST_IMAGES] as const,
  );
}

async function times<T>(page: Page, values: readonly number[], change: (v: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const v of values) {
    await idle(page, 600_000);
    out.push(await change(v));
  }
  return out;
}

/** A row's samples: each change's two times, with their medians, and the images per set behind each first point. */
function samples(c: readonly ChangeSample[]): Required<LabSpeedReport['plainChange']> {
  const ms = c.map((x) => x.ms);
  const fullMs = c.map((x) => x.fullMs);
  return { ms, stat: stat(ms), firstImages: c.map((x) => x.firstImages), fullMs, fullStat: stat(fullMs) };
}

/** The steps in one page, each from an idle app: plain α changes, the strip, per-layer changes, the triangle. */
async function steps(page: Page, t0: number): Promise<Omit<LabSpeedReport, 'date' | 'load' | 'chromium'>> {
  await page.waitForFunction(() => globalThis.wiseft?.store.getState().pair != null, null, { timeout: 180_000, polling: 20 });
  const pairLoadedMs = performance.now() - t0;
  await page.waitForFunction(() => globalThis.wiseft!.store.getState().fullFrontierMs !== null, null, { timeout: 900_000, polling: 100 });
  const liveFrontierMs = performance.now() - t0;
  const plain: ChangeSample[] = [];
  for (const a of PLAIN_ALPHAS) {
    await idle(page, 600_000);
    plain.push(await plainChange(page, a));
  }
  await page.evaluate(() => globalThis.wiseft!.actions.setAlpha(0.5));
  await idle(page, 600_000);
  const stripMs = await strip(page);
  const groups = await page.evaluate(() => globalThis.wiseft!.store.getState().pair!.layers.map((g) => g.id));
  await page.evaluate(() => globalThis.wiseft!.actions.showSensitivity(null));
  await page.evaluate(() => globalThis.wiseft!.actions.setLayersOn(true));
  const g = groups.length - 1;
  const group = await times(page, GROUP_ALPHAS, (a) => groupChange(page, g, a));
  await page.evaluate(() => globalThis.wiseft!.actions.setLayersOn(false));
  await page.evaluate(() => globalThis.wiseft!.actions.setSoupsOn(true));
  await idle(page, 900_000);
  const tri = await triangle(page, 0.5);
  return {
    pairLoadedMs,
    liveFrontierMs,
    stripMs,
    strip: { groups: groups.length, imagesPerSet: FIRST_IMAGES },
    triangle: tri,
    groupChange: { group: groups[g]!, ...samples(group) },
    plainChange: samples(plain),
  };
}

export async function labSpeed(root: string, outDir: string, executablePath: string): Promise<LabSpeedReport> {
  const before = loadavg();
  const app = await servedApp(root, outDir);
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-lab-speed-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.log(`page error: ${String(e)}`));
    // tsx names a serialised function's inner functions with a helper (`__name`) the page lacks: an identity stands in.
    await page.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
    await page.addInitScript(installUntil);
    const t0 = performance.now();
    await page.goto(`${app.base}#backend=wasm&alpha=0.50`);
    const r = await steps(page, t0);
    // The user agent's version is reduced (156.0.0.0): the browser's own says which build ran.
    const product = ((await (await context.newCDPSession(page)).send('Browser.getVersion')) as { product: string }).product;
    const chromiumVersion = product.split('/')[1] ?? product;
    return { date: new Date().toISOString(), load: { before, after: loadavg() }, chromium: chromiumVersion, ...r };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await app.close();
  }
}
