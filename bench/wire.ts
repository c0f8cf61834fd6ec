// `npm run bench -- --only-first-screen-bytes [--before=<git ref>]` (issue 15, item 6): the bytes the
// built app moves before its first screen (the recorded frontier and the slider) and in all, raw and
// gzipped, on a cold Chromium profile. vite preview compresses its text responses only (JS, CSS,
// HTML, JSON) and sends wasm, ONNX and PNG as they are, so "gzip" is each file gzipped here with
// zlib at level 6 (nginx's and Apache's usual setting is 1–6): what a host that gzips every
// response would send. With --before, the same
// measurement runs first on the app as it was at that ref (git archive into bench/.out), in the
// same run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { servedApp } from './firstScreen';

export interface WireFile {
  path: string;
  raw: number;
  gzip: number;
  /** Milliseconds after opening the page when its last byte arrived. */
  atMs: number;
}

export interface WireVisit {
  label: string;
  backend: string;
  /** Opening → the pair in the page's state: the recorded frontier's and the slider's data complete. */
  firstScreenMs: number;
  /** What arrived by then: what the first screen waits for. */
  firstScreen: { raw: number; gzip: number; files: WireFile[] };
  /** Opening → the recorded sweep and the slider drawn (a render later, on a loaded machine). */
  shownMs: number;
  /** What arrived by then: also what began after the pair was in, while the page drew it. */
  byShown: { raw: number; gzip: number; files: WireFile[] };
  all: { raw: number; gzip: number; files: WireFile[] };
  /** The responses the server sent compressed, with their Content-Encoding (vite preview: its text files). */
  serverCompressed: string[];
}

export interface WireReport {
  date: string;
  load: { before: number[]; after: number[] };
  visits: WireVisit[];
}

/**
 * Every file `page` and its Workers fetched, once each, with its size raw and gzipped, read from
 * the built app's folder `dist` (what vite preview serves; reading response bodies through the
 * browser stalled on the streamed ones).
 */
function recordResponses(page: Page, t0: () => number, dist: string): { files: WireFile[]; compressed: Set<string> } {
  const files: WireFile[] = [];
  const compressed = new Set<string>();
  page.context().on('requestfinished', (req) => {
    // When its last byte arrived, on the wall clock the page's first screen is stamped with.
    const t = req.timing();
    const atMs = (t.responseEnd >= 0 ? t.startTime + t.responseEnd : Date.now()) - t0();
    void req.response().then((r) => {
      const encoding = r?.headers()['content-encoding'];
      if (encoding) compressed.add(`${new URL(req.url()).pathname} (${encoding})`);
    });
    const url = new URL(req.url());
    if (!url.protocol.startsWith('http')) return;
    const path = decodeURIComponent(url.pathname);
    const file = join(dist, path.endsWith('/') ? `${path}index.html` : path);
    if (files.some((f) => f.path === path) || !existsSync(file) || !statSync(file).isFile()) return;
    files.push({ path, raw: statSync(file).size, gzip: gzipSync(readFileSync(file), { level: 6 }).byteLength, atMs });
  });
  return { files, compressed };
}

/** Totals of `files`, listing the `top` largest (gzipped) of them: the report keeps every file only under `all`. */
const sum = (files: WireFile[], top = Infinity) => ({
  raw: files.reduce((s, f) => s + f.raw, 0),
  gzip: files.reduce((s, f) => s + f.gzip, 0),
  files: [...files].sort((a, b) => b.gzip - a.gzip).slice(0, top),
});

/**
 * Stamps (wall clock, ms) two moments in the page: `__pairAt`, when the pair is in the page's state
 * (the recorded frontier's and the slider's data complete: a store subscription, so exactly then),
 * and `__firstScreenAt`, when the recorded sweep is in the chart's legend and the slider on the
 * page (checked every 10 ms).
 */
// Plain JavaScript, as a string: tsx names a serialised function's inner functions with a helper
// (`__name`) the page does not have.
const STAMP_FIRST_SCREEN = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  let handle;
  Object.defineProperty(globalThis, 'wiseft', {
    configurable: true,
    get: () => handle,
    set(v) {
      handle = v;
      v.store.subscribe((st) => {
        if (st.pair && globalThis.__pairAt === undefined) globalThis.__pairAt = now();
      });
    },
  });
  const timer = setInterval(() => {
    const shown =
      [...document.querySelectorAll('.recharts-legend-item-text')].some((e) => e.textContent === 'recorded sweep') &&
      document.querySelector('input[type="range"]') !== null;
    if (!shown) return;
    globalThis.__firstScreenAt = now();
    clearInterval(timer);
  }, 10);
})();`;

/** Milliseconds after `start` (wall clock) when the pair was in the page's state, and when the first screen was on it. */
async function firstScreenShown(page: Page, start: number): Promise<{ pairMs: number; shownMs: number }> {
  const at = await page.waitForFunction(
    () => {
      const g = globalThis as unknown as { __pairAt?: number; __firstScreenAt?: number };
      return g.__firstScreenAt && g.__pairAt ? [g.__pairAt, g.__firstScreenAt] : null;
    },
    null,
    { timeout: 300_000, polling: 100 },
  );
  const [pair, shown] = (await at.jsonValue()) as [number, number];
  return { pairMs: pair - start, shownMs: shown - start };
}

/** Waits until no response has finished for `quietMs` and the loading bars are gone. */
async function settled(page: Page, files: WireFile[], quietMs: number): Promise<void> {
  let count = -1;
  const deadline = performance.now() + 600_000;
  while (performance.now() < deadline) {
    // Both bars: the pair's load, and (after the first screen) its eval images.
    const loading = await page.evaluate(() => {
      type Bars = { loading: unknown; evalImagesLoading?: unknown };
      const s = (globalThis as unknown as { wiseft?: { store: { getState(): Bars } } }).wiseft?.store.getState();
      return s?.loading ?? s?.evalImagesLoading ?? null;
    });
    if (files.length === count && loading === null) return;
    count = files.length;
    await page.waitForTimeout(quietMs);
  }
}

/** One cold visit of the app served at `base`. */
async function visit(base: string, dist: string, label: string, backend: string, executablePath: string): Promise<WireVisit> {
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-wire-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.addInitScript({ content: STAMP_FIRST_SCREEN });
    const start = Date.now();
    const rec = recordResponses(page, () => start, dist);
    await page.goto(`${base}#backend=${backend}`);
    const { pairMs, shownMs } = await firstScreenShown(page, start);
    console.log(
      `  ${label}, ${backend}: pair in the page's state after ${(pairMs / 1000).toFixed(1)} s, first screen on it after ${(shownMs / 1000).toFixed(1)} s`,
    );
    await settled(page, rec.files, 3_000);
    return {
      label,
      backend,
      firstScreenMs: pairMs,
      firstScreen: sum(
        rec.files.filter((f) => f.atMs <= pairMs),
        4,
      ),
      shownMs,
      byShown: sum(
        rec.files.filter((f) => f.atMs <= shownMs),
        4,
      ),
      all: sum(rec.files),
      serverCompressed: [...rec.compressed],
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The app's sources at `ref`, beside this checkout's node_modules, to build as it was. */
export function checkoutAt(root: string, ref: string, dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const top = execFileSync('git', ['-C', root, 'ls-tree', '--name-only', ref], { encoding: 'utf8' }).split('\n');
  const configs = top.filter((f) => /^tsconfig.*\.json$/.test(f));
  const tar = execFileSync('git', ['-C', root, 'archive', ref, 'index.html', 'vite.config.ts', ...configs, 'src', 'public'], {
    maxBuffer: 1 << 30,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar, maxBuffer: 1 << 30 });
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Both backends' first screens on the built app (and on `before`'s, when given), one cold visit each. */
export async function wireBytes(root: string, out: string, executablePath: string, before: string | null): Promise<WireReport> {
  const load = loadavg();
  const visits: WireVisit[] = [];
  const apps: [string, string][] = [
    ...(before ? ([[`before (${before})`, checkoutAt(root, before, join(out, 'before-src'))]] as [string, string][]) : []),
    ['after', root],
  ];
  for (const [label, dir] of apps) {
    const dist = join(out, `dist-wire-${visits.length}`);
    const app = await servedApp(dir, dist);
    try {
      for (const backend of ['wasm', 'webgpu']) visits.push(await visit(app.base, dist, label, backend, executablePath));
    } finally {
      await app.close();
    }
  }
  return { date: new Date().toISOString(), load: { before: load, after: loadavg() }, visits };
}
