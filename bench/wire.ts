// `npm run bench -- --only-first-screen-bytes [--before=<git ref>]` (issue 15, item 6): the bytes the
// built app moves before its first screen (the recorded frontier and the slider) and in all, raw and
// gzipped, on a cold Chromium profile. vite preview sends every file uncompressed (no
// Content-Encoding), so "gzip" is each response body gzipped here with zlib at level 6 (nginx's and
// Apache's usual setting is 1–6): what a host that gzips would send. With --before, the same
// measurement runs first on the app as it was at that ref (git archive into bench/.out), in the
// same run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page, type Response } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { servedApp } from './firstScreen';

export interface WireFile {
  path: string;
  raw: number;
  gzip: number;
  /** Milliseconds after opening the page when its response finished. */
  atMs: number;
}

export interface WireVisit {
  label: string;
  backend: string;
  /** Opening → the recorded frontier and the slider on screen. */
  firstScreenMs: number;
  firstScreen: { raw: number; gzip: number; files: WireFile[] };
  all: { raw: number; gzip: number; files: WireFile[] };
  /** Whether the server compressed anything (vite preview: no). */
  serverCompressed: boolean;
}

export interface WireReport {
  date: string;
  load: { before: number[]; after: number[] };
  visits: WireVisit[];
}

/** Every finished response of `page` and its workers, with its size raw and gzipped. */
function recordResponses(page: Page, t0: () => number): { files: WireFile[]; compressed: { seen: boolean }; pending: Set<Promise<void>> } {
  const files: WireFile[] = [];
  const compressed = { seen: false };
  const pending = new Set<Promise<void>>();
  const take = async (r: Response, atMs: number) => {
    if (r.headers()['content-encoding']) compressed.seen = true;
    const body = await r.body().catch(() => null);
    if (!body) return;
    const path = new URL(r.url()).pathname;
    files.push({
      path,
      raw: body.byteLength,
      gzip: r.headers()['content-encoding'] ? body.byteLength : gzipSync(body, { level: 6 }).byteLength,
      atMs,
    });
  };
  page.context().on('requestfinished', (req) => {
    const atMs = t0();
    const p = req.response().then((r) => (r && r.status() !== 304 ? take(r, atMs) : undefined));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  });
  return { files, compressed, pending };
}

const sum = (files: WireFile[]) => ({
  raw: files.reduce((s, f) => s + f.raw, 0),
  gzip: files.reduce((s, f) => s + f.gzip, 0),
  files: [...files].sort((a, b) => b.gzip - a.gzip),
});

/** The recorded sweep in the chart's legend and the slider: what a teacher opens the page for. */
async function firstScreenShown(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('.recharts-legend-item-text')].some((e) => e.textContent === 'recorded sweep') &&
      document.querySelector('input[type="range"]') !== null,
    null,
    { timeout: 300_000, polling: 20 },
  );
}

/** Waits until no response has finished for `quietMs` and the loading bars are gone. */
async function settled(page: Page, files: WireFile[], quietMs: number): Promise<void> {
  let count = -1;
  for (;;) {
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
async function visit(base: string, label: string, backend: string, executablePath: string): Promise<WireVisit> {
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-wire-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const start = performance.now();
    const rec = recordResponses(page, () => performance.now() - start);
    await page.goto(`${base}#backend=${backend}`);
    await firstScreenShown(page);
    const firstScreenMs = performance.now() - start;
    console.log(`  ${label}, ${backend}: first screen after ${(firstScreenMs / 1000).toFixed(1)} s`);
    await settled(page, rec.files, 3_000);
    await Promise.all([...rec.pending]);
    return {
      label,
      backend,
      firstScreenMs,
      firstScreen: sum(rec.files.filter((f) => f.atMs <= firstScreenMs)),
      all: sum(rec.files),
      serverCompressed: rec.compressed.seen,
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The app's sources at `ref`, beside this checkout's node_modules, to build as it was. */
function checkoutAt(root: string, ref: string, dir: string): string {
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
    const app = await servedApp(dir, join(out, `dist-wire-${visits.length}`));
    try {
      for (const backend of ['wasm', 'webgpu']) visits.push(await visit(app.base, label, backend, executablePath));
    } finally {
      await app.close();
    }
  }
  return { date: new Date().toISOString(), load: { before: load, after: loadavg() }, visits };
}
