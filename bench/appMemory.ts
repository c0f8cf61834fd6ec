// `npm run bench -- --only-app-memory [--before=<git ref>]` (issue 15, item 2, in the app): the
// renderer's peak RSS while the built app loads the CLIP-sized bench pair (bench/gen-pair.ts) from
// a ?pair= link on wasm, in a fresh profile (IndexedDB empty: the download, cached as it passes)
// and again in a fresh browser on that profile (the pair from the cache), each against the same
// app's peak on the small bench pair (0.8 MiB per checkpoint) served and opened the same way (the
// baseline: the app, the runtime, the load path; like the CLIP pair, no eval sets, so neither
// evaluates). With --before, the app as it was at that ref is measured first, in the same run.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { chromium, type Page } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { checkoutAt } from './wire';
import type { PairFiles } from './gen-pair';

export interface AppMemoryVisit {
  app: string;
  visit: 'baseline (small pair)' | 'cold (download)' | 'warm (cache)';
  /** Peak RSS (VmHWM) of the profile's largest renderer, the page and its Workers. */
  peakRss: number;
  /** Opening → the pair in the page's state. */
  pairMs: number;
}

export interface AppMemoryReport {
  date: string;
  load: { before: number[]; after: number[] };
  pair: string;
  checkpointBytes: number;
  visits: AppMemoryVisit[];
}

const BUNDLE = 'bench-clip';
const SMALL_BUNDLE = 'bench-small';

/** A wiseft-pair/1 manifest for the bench pair, its checkpoints' sizes and sha256 declared as the bundled pair declares them. */
function benchManifest(clip: PairFiles): string {
  const spec = (path: string, file: string) => ({
    path,
    bytes: statSync(file).size,
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  });
  const c = clip.config;
  return JSON.stringify({
    format: 'wiseft-pair/1',
    name: `bench ${c.name}`,
    io: { image: 'image', embedding: 'embedding', logits: 'logits' },
    logitScale: 100,
    templates: ['a photo of a {}.'],
    classes: Array.from({ length: c.classes }, (_, i) => `class ${i}`),
    preprocess: { size: c.size, resize: 'bicubic', crop: 'center', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], layout: 'NCHW' },
    models: { zeroShot: spec('zs.onnx', clip.zs), fineTuned: spec('ft.onnx', clip.ft) },
  });
}

/** The app at `root` built into `dist` with the bench pairs beside it (linked, before the server lists its files), served. */
export async function serveApp(root: string, dist: string, pairs: [string, PairFiles][]) {
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
  for (const [folder, p] of pairs) {
    mkdirSync(join(dist, folder), { recursive: true });
    writeFileSync(join(dist, folder, 'manifest.json'), benchManifest(p));
    symlinkSync(p.zs, join(dist, folder, 'zs.onnx'));
    symlinkSync(p.ft, join(dist, folder, 'ft.onnx'));
  }
  const server = await preview({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: dist },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const addr = server.httpServer.address();
  if (!addr || typeof addr === 'string') throw new Error('vite preview did not start');
  return { base: `http://127.0.0.1:${addr.port}/`, close: () => new Promise<void>((r) => server.httpServer.close(() => r())) };
}

/**
 * The largest VmHWM among the renderers of the browser using `profile`. Their command lines name it;
 * a zygote-forked renderer rewrites its own as one string (arguments joined by spaces), so the
 * switches are looked for in the whole line.
 */
function rendererPeak(profile: string): number {
  let peak = 0;
  // mkdtemp's names are letters, digits and dashes: nothing to escape.
  const ours = new RegExp(`--user-data-dir=${profile}(?:[\\s\\0]|$)`);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (!cmd.includes('--type=renderer') || !ours.test(cmd)) continue;
      peak = Math.max(peak, Number(/VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024);
    } catch {
      /* the process is gone */
    }
  }
  if (peak === 0) throw new Error(`no renderer of the browser on ${profile} found in /proc`);
  return peak;
}

/** Opens `url` in a fresh browser on `profile`; the time to the pair named `name` in the state, and the renderer's peak. */
async function visit(url: string, name: string, profile: string, executablePath: string): Promise<{ pairMs: number; peakRss: number }> {
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const t0 = performance.now();
    await page.goto(url);
    await waitForPair(page, name);
    const pairMs = performance.now() - t0;
    // The cache's last writes and the first blend settle; the peak is a high-water mark.
    await page.waitForTimeout(3_000);
    return { pairMs, peakRss: rendererPeak(profile) };
  } finally {
    await context.close();
  }
}

async function waitForPair(page: Page, name: string): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const s = (
        globalThis as unknown as { wiseft?: { store: { getState(): { pair: { name: string } | null; messages?: unknown } } } }
      ).wiseft?.store.getState();
      return s?.pair?.name === n;
    },
    name,
    { timeout: 900_000, polling: 100 },
  );
}

/** Each app (`before`'s, when given, then this checkout's): baseline, cold and warm, every visit in a fresh browser. */
export async function appMemory(
  root: string,
  out: string,
  executablePath: string,
  before: string | null,
  pairs: { small: PairFiles; clip: PairFiles },
  log: (s: string) => void,
): Promise<AppMemoryReport> {
  const load = loadavg();
  const { small, clip } = pairs;
  const apps: [string, string][] = [
    ...(before ? ([[`before (${before})`, checkoutAt(root, before, join(out, 'before-src'))]] as [string, string][]) : []),
    ['after', root],
  ];
  const visits: AppMemoryVisit[] = [];
  for (const [i, [app, dir]] of apps.entries()) {
    const served = await serveApp(dir, join(out, `dist-app-memory-${i}`), [
      [BUNDLE, clip],
      [SMALL_BUNDLE, small],
    ]);
    const open = (folder: string) => `${served.base}?pair=${folder}/manifest.json#backend=wasm`;
    const profile = mkdtempSync(join(tmpdir(), 'wiseft-app-memory-'));
    const baseProfile = mkdtempSync(join(tmpdir(), 'wiseft-app-memory-base-'));
    try {
      const base = await visit(open(SMALL_BUNDLE), `bench ${small.config.name}`, baseProfile, executablePath);
      const cold = await visit(open(BUNDLE), `bench ${clip.config.name}`, profile, executablePath);
      const warm = await visit(open(BUNDLE), `bench ${clip.config.name}`, profile, executablePath);
      visits.push({ app, visit: 'baseline (small pair)', ...base });
      visits.push({ app, visit: 'cold (download)', ...cold }, { app, visit: 'warm (cache)', ...warm });
      for (const v of visits.filter((x) => x.app === app))
        log(`${app}, ${v.visit}: renderer peak ${(v.peakRss / 2 ** 20).toFixed(0)} MiB, pair in ${(v.pairMs / 1000).toFixed(1)} s`);
    } finally {
      await served.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(baseProfile, { recursive: true, force: true });
    }
  }
  return {
    date: new Date().toISOString(),
    load: { before: load, after: loadavg() },
    pair: clip.config.name,
    checkpointBytes: statSync(clip.zs).size,
    visits,
  };
}
