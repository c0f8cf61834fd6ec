// `npm run bench -- --only-new-alpha [--before=REF]` (issue 15, item 1: a new α → its first
// estimate ≤ 250 ms idle, 100 images per set ≤ 1 s). Three parts, one run:
// - engine: the bundled pair on onnxruntime-web's wasm EP in Node (one thread), a new α each time:
//   the first estimate's images run one session.run per set (6 × k) or all sets in one batch (6k),
//   for k = 8 and 16, taken in turns; and one steady run at the same α, so the blend's share shows;
// - batch: the CLIP-sized pair (224²) in the same runtime, images/s at evaluation batches 8, 16 and
//   27 (evaluator.ts batchSize), taken in turns, with the time of one batch (what a first estimate
//   of one set waits for at that batch);
// - app: the built app (vite build, vite preview), before (REF, when given) and after, each in a
//   fresh Chromium on the bundled pair, idle (live frontier complete): a plain α change → the job
//   starts (the debounce), → the first estimate in the store, → on screen, → 100 images of every set.
// Measurements only. One run on a shared machine: the load average goes with the numbers.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { chromium, type Page } from 'playwright-core';
import { BlendEngine, type OrtModule } from '../src/core/runtime/engine';
import { loadBundle } from '../src/core/bundle/source';
import { dirSource } from '../src/node/dirSource';
import { normalizeBatch, spriteSet, type EvalSetData } from '../src/core/eval/sprites';
import type { Manifest } from '../src/core/bundle/manifest';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { servedApp } from './firstScreen';
import { checkoutAt } from './wire';
import type { PairFiles } from './gen-pair';
import { stat, type Stat } from './stat';
import type { AppRow, EngineVariant, NewAlphaReport } from './newAlphaReport';

/** Off the 0.1 grid and never computed before, so every change is new work (as in labSpeed.ts). */
const APP_ALPHAS = [0.33, 0.47, 0.62, 0.78, 0.14, 0.26, 0.53, 0.87];
const FULL_IMAGES = 100;
const ENGINE_REPS = 12;
const CLIP_BATCHES = [8, 16, 27] as const;
const CLIP_ROUNDS = 3;

type Batch = { data: Float32Array; dims: number[] };

/** Images start … start + n − 1 of every set in one batch (oneBatch), or one batch per set. */
function previewBatches(sets: readonly EvalSetData[], n: number, pre: Manifest['preprocess'], oneBatch: boolean): Batch[] {
  const per = 3 * pre.size * pre.size;
  const each = sets.map((s) => normalizeBatch(s, 0, n, pre));
  if (!oneBatch) return each.map((data) => ({ data, dims: [n, 3, pre.size, pre.size] }));
  const data = new Float32Array(sets.length * n * per);
  each.forEach((d, i) => data.set(d, i * n * per));
  return [{ data, dims: [sets.length * n, 3, pre.size, pre.size] }];
}

async function engineRows(bundledDir: string): Promise<NewAlphaReport['engine']> {
  const bundle = await loadBundle(dirSource(bundledDir));
  const m = bundle.manifest;
  const sets = (m.eval?.sets ?? []).map((x) => spriteSet(x, bundle.sprites.get(x.id)!));
  const engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, {
    ort: ort as unknown as OrtModule,
    backend: 'wasm',
    inputName: m.io.image,
  });
  const variants: EngineVariant[] = [16, 8].flatMap((k) =>
    [false, true].map((oneBatch) => ({
      name: `${k} per set, ${oneBatch ? 'one batch' : 'one run per set'}`,
      perSet: k,
      oneBatch,
      ms: [],
      stat: stat([0]),
    })),
  );
  const steady: number[] = [];
  let alpha = 0.013;
  for (const v of variants) for (const b of previewBatches(sets, v.perSet, m.preprocess, v.oneBatch)) await engine.run(0.5, b);
  for (let r = 0; r < ENGINE_REPS; r++)
    for (const v of variants) {
      alpha += 0.0371;
      const t = performance.now();
      // Normalising is part of the path: it is timed, as the evaluator does it per preview.
      for (const b of previewBatches(sets, v.perSet, m.preprocess, v.oneBatch)) await engine.run(alpha % 1, b);
      v.ms.push(performance.now() - t);
      if (v.perSet === 16 && v.oneBatch) {
        const t2 = performance.now();
        for (const b of previewBatches(sets, 16, m.preprocess, true)) await engine.run(alpha % 1, b);
        steady.push(performance.now() - t2);
      }
    }
  await engine.dispose();
  for (const v of variants) v.stat = stat(v.ms);
  return { variants, steadyMs: stat(steady), sets: sets.length };
}

async function* chunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) yield new Uint8Array(c as Buffer);
}

async function batchRows(clip: PairFiles): Promise<NonNullable<NewAlphaReport['batch']>> {
  const engine = await BlendEngine.createFromStreams([chunks(clip.zs), chunks(clip.ft)], {
    ort: ort as unknown as OrtModule,
    backend: 'wasm',
  });
  const size = clip.config.size;
  const input = (n: number) => ({ data: new Float32Array(n * 3 * size * size).fill(0.1), dims: [n, 3, size, size] });
  const times = new Map<number, number[]>(CLIP_BATCHES.map((b) => [b, []]));
  // The largest first, untimed: onnxruntime's heap then has its size for every batch after.
  await engine.run(0.4, input(Math.max(...CLIP_BATCHES)));
  for (let r = 0; r < CLIP_ROUNDS; r++)
    for (const b of r % 2 ? [...CLIP_BATCHES].reverse() : CLIP_BATCHES) {
      const t = performance.now();
      await engine.run(0.4, input(b));
      times.get(b)!.push(performance.now() - t);
    }
  await engine.dispose();
  return {
    size,
    rows: CLIP_BATCHES.map((batch) => {
      const ms = times.get(batch)!;
      return { batch, imagesPerS: (batch * ms.length * 1000) / ms.reduce((a, x) => a + x, 0), batchMs: stat(ms) };
    }),
  };
}

/** A plain α change, timed in the page from the action: job started, estimate in the store, on screen, FULL_IMAGES of every set. */
async function appChange(page: Page, alpha: number): Promise<{ job: number; store: number; screen: number; full: number; first: number }> {
  return page.evaluate(
    async ([a, full]) => {
      const w = globalThis.wiseft!;
      const st = () => w.store.getState();
      const n = (id: string) => st().points[String(a)]?.[id]?.n ?? 0;
      const everySet = (k: number) => st().pair!.sets.every((x) => n(x.id) >= Math.min(k, x.count));
      const at: { job?: number; store?: number; full?: number; first?: number } = {};
      const t0 = performance.now();
      const unsubscribe = w.store.subscribe(() => {
        const t = performance.now() - t0;
        if (at.job === undefined && st().evaluating) at.job = t;
        if (at.store === undefined && everySet(1)) [at.store, at.first] = [t, Math.min(...st().pair!.sets.map((x) => n(x.id)))];
        if (at.full === undefined && everySet(full)) at.full = t;
      });
      w.actions.setAlpha(a);
      const sel = `[data-testid="current-point"][data-alpha="${a.toFixed(2)}"][data-estimate="false"]`;
      const screen = await new Promise<number>((resolve) => {
        const tick = () => (document.querySelector(sel) ? resolve(performance.now() - t0) : requestAnimationFrame(tick));
        tick();
      });
      while (at.full === undefined) await new Promise((r) => setTimeout(r, 20));
      unsubscribe();
      return { job: at.job ?? NaN, store: at.store!, screen, full: at.full, first: at.first! };
    },
    [alpha, FULL_IMAGES] as const,
  );
}

async function idle(page: Page): Promise<void> {
  const quiet = () => {
    const s = globalThis.wiseft?.store.getState();
    return !!s && s.fullFrontierMs !== null && !s.evaluating && !s.layerEvaluating && !s.soupEvaluating;
  };
  await page.waitForFunction(quiet, null, { timeout: 900_000, polling: 100 });
  await page.waitForTimeout(500);
  await page.waitForFunction(quiet, null, { timeout: 900_000, polling: 100 });
}

async function appRow(label: string, root: string, dist: string, executablePath: string): Promise<AppRow> {
  const app = await servedApp(root, dist);
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-new-alpha-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.log(`page error: ${String(e)}`));
    await page.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
    const t0 = performance.now();
    await page.goto(`${app.base}#backend=wasm&alpha=0.50`);
    await page.waitForFunction(() => globalThis.wiseft?.store.getState().fullFrontierMs != null, null, { timeout: 900_000, polling: 100 });
    const liveFrontierMs = performance.now() - t0;
    const s: Awaited<ReturnType<typeof appChange>>[] = [];
    for (const a of APP_ALPHAS) {
      await idle(page);
      s.push(await appChange(page, a));
    }
    const of = (k: 'job' | 'store' | 'screen' | 'full') => stat(s.map((x) => x[k]));
    return {
      label,
      liveFrontierMs,
      jobMs: of('job'),
      storeMs: of('store'),
      screenMs: of('screen'),
      fullMs: of('full'),
      firstImages: s.map((x) => x.first),
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await app.close();
  }
}

interface NewAlphaOptions {
  root: string;
  out: string;
  bundled: string;
  clip: PairFiles | null;
  executablePath: string;
  before: string | null;
  /** Without the built apps (the engine and batch rows alone: two minutes, for profiling). */
  engineOnly: boolean;
  /** The built apps alone (for profiling the page's path). */
  appOnly: boolean;
  log: (s: string) => void;
}

export async function newAlpha(opts: NewAlphaOptions): Promise<NewAlphaReport> {
  const before = loadavg();
  ort.env.wasm.numThreads = 1;
  if (!opts.appOnly) opts.log('new α: engine rows (bundled pair, wasm in Node, one thread)');
  const engine = opts.appOnly ? null : await engineRows(dirname(opts.bundled));
  if (!opts.appOnly) opts.log('new α: batch rows (CLIP-sized pair, 224²)');
  const batch = opts.clip && !opts.appOnly ? await batchRows(opts.clip) : null;
  const apps: [string, string][] = opts.engineOnly
    ? []
    : [
        ...(opts.before
          ? ([[`before (${opts.before})`, checkoutAt(opts.root, opts.before, join(opts.out, 'before-src-new-alpha'))]] as [
              string,
              string,
            ][])
          : []),
        ['after', opts.root],
      ];
  const app: AppRow[] = [];
  for (const [i, [label, dir]] of apps.entries()) {
    opts.log(`new α: the built app, ${label}`);
    app.push(await appRow(label, dir, join(opts.out, `dist-new-alpha-${i}`), opts.executablePath));
  }
  return { date: new Date().toISOString(), load: { before, after: loadavg() }, engine, batch, app };
}

/**
 * `--only-new-alpha [--before=REF] [--engine-only | --app-only]`: the rows above into the `newAlpha` field of the
 * existing docs/benchmarks.json (`write` re-renders the docs), like --only-app-memory.
 */
export async function onlyNewAlpha(
  ctx: Omit<NewAlphaOptions, 'before' | 'engineOnly' | 'appOnly'>,
  read: () => { newAlpha?: NewAlphaReport },
  write: (r: { newAlpha?: NewAlphaReport }) => void,
): Promise<void> {
  const before = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length) ?? null;
  const r = await newAlpha({
    ...ctx,
    before,
    engineOnly: process.argv.includes('--engine-only'),
    appOnly: process.argv.includes('--app-only'),
  });
  const s = (x: Stat) => `${x.median.toFixed(0)} ms (${x.min.toFixed(0)}–${x.max.toFixed(0)})`;
  for (const v of r.engine?.variants ?? []) ctx.log(`engine: ${v.name}: ${s(v.stat)}`);
  if (r.engine) ctx.log(`engine: steady run (16 per set, one batch, no blend): ${s(r.engine.steadyMs)}`);
  for (const b of r.batch?.rows ?? [])
    ctx.log(`batch ${b.batch} at ${r.batch!.size}²: ${b.imagesPerS.toFixed(2)} images/s, one batch ${s(b.batchMs)}`);
  for (const a of r.app)
    ctx.log(
      `app ${a.label}: job ${s(a.jobMs)}, store ${s(a.storeMs)}, screen ${s(a.screenMs)}, 100/set ${s(a.fullMs)}; first images ${a.firstImages.join(',')}`,
    );
  ctx.log(
    `load average ${r.load.before.map((x) => x.toFixed(2)).join(' ')} before, ${r.load.after.map((x) => x.toFixed(2)).join(' ')} after`,
  );
  const report = read();
  report.newAlpha = r;
  write(report);
}
