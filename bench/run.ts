// `npm run bench [-- --quick | --only-memory | --only-frontier | --only-throughput | --only-probe [--probe-n=N] | --only-train-runtime [--train-reps=N] [--train-epoch-n=N] | --only-world-render [--world-n=N] [--world-epoch-n=N] | --only-first-screen | --only-first-screen-bytes [--before=REF] | --only-app-memory [--before=REF] | --only-lab-speed | --only-frontier-workers [--frontier-rounds=N] | --only-bundle-zip | --only-new-alpha [--before=REF] [--engine-only | --app-only]]`: generates the benchmark pairs if missing (bench/gen-pair.ts), runs
// the rows in Node (onnxruntime-node) and in headless Chromium (onnxruntime-web: wasm EP and
// WebGPU EP on SwiftShader) served by Vite, and writes docs/benchmarks.json and docs/benchmarks.md.
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { readFileSync, writeFileSync, existsSync, createReadStream, statSync, mkdirSync } from 'node:fs';
import { cpus, totalmem, loadavg, release as osRelease } from 'node:os';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createServer, type Plugin } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ortNode } from '../src/core/runtime/ort-node';
import { ensurePairs, OUT, type PairFiles } from './gen-pair';
import { appMemory } from './appMemory';
import { firstScreen, servedApp } from './firstScreen';
import { labSpeed } from './labSpeed';
import { onlyNewAlpha } from './newAlpha';
import { bundleZip } from './bundleZip';
import { wireBytes } from './wire';
import { cpuBlendRow, inferenceRows, weightPairsOf, type Stat, type InferenceResult, type InferenceOptions } from './rows';
import { mixChunked } from './mix-variants';
import { mixInto } from '../src/core/blend/cpu';
import { renderMarkdown, type Report } from './report';
import type { FrontierWorkersRound } from './frontierWorkersReport';
import { laneCount } from '../src/core/eval/lanes';
import { KERNEL_VARIANTS, type GpuNodeReport } from './gpu-rows';
import type { Bench } from './page';
import { TRAIN_CANDIDATES } from './trainCandidates';
import { dirSource } from '../src/node/dirSource';
import { loadBundle } from '../src/core/bundle/source';
import { spriteSet } from '../src/core/eval/sprites';
import { BlendEngine } from '../src/core/runtime/engine';
import {
  TP_BATCHES,
  TP_POOL,
  tpSessionOptions,
  poolOf,
  batchesOf,
  runPlain,
  timePass,
  withIps,
  type TpCase,
  type TpVariant,
  type ThroughputReport,
} from './throughput';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [...CHROMIUM_ARGS];
const BUNDLED = join(ROOT, 'public/pairs/shapes/manifest.json');
const t0 = performance.now();
const log = (s: string) => {
  save();
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);
};

// Repetitions per mode: quick keeps CLIP-sized inference out (it alone takes minutes here).
const R = QUICK
  ? {
      blendReps: 5,
      clipBlendReps: 3,
      steady: 5,
      switch: 5,
      gpuSwitch: 2,
      clipWeb: false,
      clipInference: false,
      clipSteady: 0,
      clipSwitch: 0,
      memory: false,
      threadsClip: false,
    }
  : {
      blendReps: 15,
      clipBlendReps: 7,
      steady: 15,
      switch: 10,
      gpuSwitch: 5,
      clipWeb: true,
      clipInference: true,
      clipSteady: 3,
      clipSwitch: 3,
      memory: true,
      threadsClip: true,
    };

function machine() {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? '?';
  let chromiumVersion = '?';
  try {
    chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* reported as '?' */
  }
  const pkg = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  return {
    cpu: model,
    cores: cpus().length,
    ramGiB: +(totalmem() / 2 ** 30).toFixed(1),
    kernel: osRelease(),
    node: process.version,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    chromium: chromiumVersion,
    onnxruntimeNode: pkg('onnxruntime-node'),
    onnxruntimeWeb: pkg('onnxruntime-web'),
    date: new Date().toISOString(),
  };
}

/** Serves bench/.out/ at /bench-data/ next to the Vite dev server's own files. */
function benchData(): Plugin {
  return {
    name: 'bench-data',
    // No file watcher: the tree holds virtualenvs whose files would exhaust inotify watches (and
    // nothing changes during a run). An inline `watch: null` is dropped by mergeConfig.
    configResolved(config) {
      (config.server as { watch: unknown }).watch = null;
    },
    configureServer(server) {
      server.middlewares.use('/bench-data', (req, res, next) => {
        const file = join(OUT, basename(decodeURIComponent((req.url ?? '').split('?')[0]!)));
        if (!existsSync(file)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        createReadStream(file).pipe(res);
      });
    },
  };
}

interface Opened {
  browser: Browser;
  page: Page;
  close: () => Promise<void>;
}

async function openBench(base: string, query = ''): Promise<Opened> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const page = await browser.newPage();
  page.on('pageerror', (e) => log(`page error: ${String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('VerifyEachNodeIsAssignedToAnEp')) log(`console: ${m.text()}`);
  });
  await page.goto(`${base}bench/index.html${query}`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 });
  return { browser, page, close: () => browser.close() };
}

/** Peak RSS (VmHWM) of each renderer process of this browser, read from /proc via the pid CDP reports. */
async function rendererPeak(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
  let peak = 0;
  for (const p of info.processInfo.filter((x) => x.type === 'renderer')) {
    try {
      const kb = Number(readFileSync(`/proc/${p.id}/status`, 'utf8').match(/VmHWM:\s*(\d+)/)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      /* the process is gone */
    }
  }
  await cdp.detach();
  return peak;
}

type Call = <K extends keyof Bench>(page: Page, fn: K, arg?: Parameters<Bench[K]>[0]) => Promise<Awaited<ReturnType<Bench[K]>>>;
const call: Call = (page, fn, arg) =>
  page.evaluate(([f, a]) => (globalThis as unknown as { bench: Record<string, (x: unknown) => unknown> }).bench[f as string]!(a), [
    fn,
    arg,
  ] as const) as never;

async function startVite(): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await createServer({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false },
    logLevel: 'warn',
    plugins: [benchData()],
  });
  await server.listen();
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') throw new Error('vite did not start');
  return { base: `http://127.0.0.1:${addr.port}/`, close: () => server.close() };
}

/** Writes docs/benchmarks.json and re-renders docs/benchmarks.md from it (with bench/analysis.md when `withAnalysis`). */
function writeDocs(report: Report, withAnalysis: boolean): void {
  const analysis = join(ROOT, 'bench/analysis.md');
  writeFileSync(join(ROOT, 'docs/benchmarks.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(
    join(ROOT, 'docs/benchmarks.md'),
    renderMarkdown(report, withAnalysis && existsSync(analysis) ? readFileSync(analysis, 'utf8') : '', gpuNodeReport()),
  );
}

/** `--only-memory` / `--only-frontier`: re-measures those rows into the existing docs/benchmarks.json. */
async function onlyRows(what: 'memory' | 'frontier'): Promise<void> {
  const [small, clip] = (await ensurePairs(false, log)) as [PairFiles, PairFiles];
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const started = report.durationS ?? 0;
  current = report;
  const v = await startVite();
  try {
    if (what === 'memory') await memoryRows(v.base, report, clip, small);
    else await frontierRow(v.base, report);
  } finally {
    await v.close();
  }
  report.notes.push(
    what === 'memory'
      ? `The memory rows were re-measured by \`npm run bench -- --only-memory\` on ${new Date().toISOString()} (after this run), with the code of that day.`
      : `The frontier row was re-measured by \`npm run bench -- --only-frontier\` right after this run (${new Date().toISOString()}), with Explorer and the bare loop interleaved per α.`,
  );
  save();
  // save() stamps this re-measurement's duration; the header reports the full run's.
  report.durationS = started;
  writeDocs(report, true);
}

/**
 * `--only-throughput`: images/s of the bundled classifier in Node and in the page, side by side in
 * one run (issue 15, item 1), into the `throughput` field of the existing docs/benchmarks.json.
 */
async function onlyThroughput(): Promise<void> {
  if (!existsSync(BUNDLED)) throw new Error('--only-throughput needs the bundled pair (public/pairs/shapes)');
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const started = report.durationS ?? 0;
  const v = await startVite();
  try {
    report.throughput = await throughputRows(v.base);
  } finally {
    await v.close();
  }
  report.durationS = started;
  writeDocs(report, report.mode === 'full');
  log(`wrote the throughput section into docs/benchmarks.json and docs/benchmarks.md (${report.throughput.durationS.toFixed(0)} s)`);
}

// Timed rounds of every throughput case (after one untimed warm-up round); TP_ROUNDS=1 for a quick check.
const TP_ROUNDS = Number(process.env.TP_ROUNDS ?? 3);

/**
 * Worker groups, all in the 1-thread page (each Worker sets its own thread count): the app's build
 * (asyncify) and the wasm-only build, single-threaded pairs and one 2-thread session.
 */
const TP_GROUPS = [
  { name: 'async-1t', build: 'asyncify', threads: 1, count: 2 },
  { name: 'plain-1t', build: 'plain', threads: 1, count: 2 },
  { name: 'async-2t', build: 'asyncify', threads: 2, count: 1 },
  { name: 'plain-2t', build: 'plain', threads: 2, count: 1 },
] as const;
type TpGroup = (typeof TP_GROUPS)[number];
// Batch 50 was no faster than 100 anywhere in the first (smoke) run: 100 (the app's) and 250.
const TP_TIMED_BATCHES = [100, 250] as const;
const TP_MANIFEST = '/pairs/shapes/manifest.json';

type NodeSession = Awaited<ReturnType<typeof ortNode.InferenceSession.create>>;
/** A throughput case with the pass that measures it (ms for the whole pool). */
type TpTimed = TpCase & { fn: () => Promise<number> };
type TpLoad = ThroughputReport['load'];
const loadText = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/** The Node side: the bundled pair's plain sessions (1 and 2 threads) and the app's engine, each warmed. */
interface TpNode {
  input: string;
  batches: Map<number, ReturnType<typeof batchesOf>>;
  sessions: Map<number, NodeSession>;
  engine: BlendEngine;
}

async function throughputRows(base: string): Promise<ThroughputReport> {
  const t = performance.now();
  const load: TpLoad = { start: loadavg(), rounds: [], end: [] };
  log(`throughput: load average at start ${loadText(load.start)}`);
  const node = await tpNode();
  // Two pages in two browsers, open at once so that their cases interleave round by round: one
  // wasm thread (with the two single-threaded Workers), and two threads (= the app's default here).
  const p1 = await openBench(base, '?threads=1');
  const p2 = await openBench(base, '?threads=2');
  try {
    const [web1, web2] = await tpSetupPages(p1.page, p2.page);
    const cases = [...tpNodeCases(node), ...tpPageCases(p1.page, p2.page), ...tpWorkerCases(p1.page, web1.failed)];
    await tpRounds(cases, load);
    const evaluation = await tpEvaluationPath(p1.page, p2.page, web1.failed);
    await call(p1.page, 'tpClose');
    await call(p2.page, 'tpClose');
    load.end = loadavg();
    log(`throughput: load average at end ${loadText(load.end)}`);
    const { hardwareConcurrency, crossOriginIsolated } = web2;
    return {
      date: new Date().toISOString(),
      pool: TP_POOL,
      rounds: TP_ROUNDS,
      load,
      cases: cases.map(({ fn: _fn, ...c }) => withIps(c)),
      profiles: evaluation.profiles,
      failed: web1.failed,
      workerEval: evaluation.workerEval,
      workerYields: evaluation.workerYields,
      browser: { version: p2.browser.version(), crossOriginIsolated, hardwareConcurrency },
      durationS: (performance.now() - t) / 1000,
    };
  } finally {
    await p1.close();
    await p2.close();
    for (const s of node.sessions.values()) await s.release();
    await node.engine.dispose();
  }
}

/** Loads the bundled pair in both pages: the Worker groups go in the 1-thread page, the session variants in both. */
async function tpSetupPages(p1: Page, p2: Page) {
  const web1 = await call(p1, 'tpSetup', { manifest: TP_MANIFEST, variants: ['all', 'extended'], groups: [...TP_GROUPS] });
  const web2 = await call(p2, 'tpSetup', { manifest: TP_MANIFEST, variants: ['all', 'extended', 'arena', 'nospin'], groups: [] });
  log(`throughput: pages ready (threads ${web1.threads} and ${web2.threads}, isolated=${String(web2.crossOriginIsolated)})`);
  for (const [g, e] of Object.entries(web1.failed)) log(`throughput: Worker group ${g} did not start: ${e}`);
  return [web1, web2] as const;
}

/** Node: the same files, the same pool of normalised images as the page builds. */
async function tpNode(): Promise<TpNode> {
  const bundle = await loadBundle(dirSource(dirname(BUNDLED)));
  const m = bundle.manifest;
  const input = m.io.image;
  const sets = (m.eval?.sets ?? []).map((x) => spriteSet(x, bundle.sprites.get(x.id)!));
  const pool = poolOf(sets, TP_POOL, m.preprocess);
  const batches = new Map(TP_BATCHES.map((b) => [b as number, batchesOf(pool, b, m.preprocess.size)]));
  const sessions = new Map<number, NodeSession>();
  for (const th of [1, 2]) {
    const s = await ortNode.InferenceSession.create(bundle.zeroShot, tpSessionOptions('all', 'cpu', th));
    for (const b of batches.values()) await runPlain(ortNode, s, input, b[0]!);
    sessions.set(th, s);
  }
  // The app's engine on Node (BlendEngine's session options: onnxruntime-node's default threads = cores).
  const engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: ortNode, backend: 'cpu', inputName: input });
  for (const b of batches.values()) await engine.run(0.5, b[0]!);
  return { input, batches, sessions, engine };
}

function tpCase(c: Omit<TpCase, 'ms' | 'images' | 'id'>, fn: () => Promise<number>): TpTimed {
  const id = `${c.where}${c.build ? `-${c.build}` : ''}-${c.threads}t${c.sessions > 1 ? `x${c.sessions}` : ''}-b${c.batch}-${c.variant}`;
  return { ...c, id, images: TP_POOL, ms: [], fn };
}

function tpNodeCases(node: TpNode): TpTimed[] {
  const cases: TpTimed[] = [];
  for (const th of [1, 2])
    for (const b of TP_TIMED_BATCHES)
      cases.push(
        tpCase({ where: 'node', threads: th, sessions: 1, batch: b, variant: 'all' }, () =>
          timePass(node.batches.get(b)!, (x) => runPlain(ortNode, node.sessions.get(th)!, node.input, x)),
        ),
      );
  cases.push(
    tpCase({ where: 'node', threads: cpus().length, sessions: 1, batch: 100, variant: 'engine' }, () =>
      timePass(node.batches.get(100)!, (x) => node.engine.run(0.5, x)),
    ),
  );
  return cases;
}

/** In each page: its plain session at both batches, its other session variants and the app's engine at 100. */
function tpPageCases(p1: Page, p2: Page): TpTimed[] {
  const cases: TpTimed[] = [];
  for (const [th, p, variants] of [
    [1, p1, ['extended']],
    [2, p2, ['extended', 'arena', 'nospin']],
  ] as const) {
    const add = (batch: number, variant: TpVariant | 'engine') =>
      cases.push(
        tpCase({ where: 'page', build: 'asyncify', threads: th, sessions: 1, batch, variant }, () => call(p, 'tpCase', { variant, batch })),
      );
    for (const b of TP_TIMED_BATCHES) add(b, 'all');
    for (const v of variants) add(100, v);
    add(100, 'engine');
  }
  return cases;
}

/** The Worker groups that started, as the app's Workers would use them (batch 100). */
function tpWorkerCases(p1: Page, failed: Record<string, string>): TpTimed[] {
  const [a1, p1t, a2, p2t] = TP_GROUPS;
  const uses: [TpGroup, number, 'all' | 'engine'][] = [
    [a1, 2, 'all'],
    [a1, 2, 'engine'],
    [p1t, 1, 'engine'],
    [p1t, 2, 'all'],
    [p1t, 2, 'engine'],
    [a2, 1, 'engine'],
    [p2t, 1, 'engine'],
  ];
  return uses
    .filter(([group]) => !failed[group.name])
    .map(([group, use, variant]) =>
      tpCase({ where: 'workers', build: group.build, threads: group.threads, sessions: use, batch: 100, variant }, () =>
        call(p1, 'tpWorkers', { group: group.name, use, batch: 100, variant }),
      ),
    );
}

/** One untimed round, then TP_ROUNDS timed ones; the load average after each. */
async function tpRounds(cases: TpTimed[], load: TpLoad): Promise<void> {
  // The untimed round: Chromium compiles wasm with its baseline tier (Liftoff) and tiers up hot
  // functions in the background; on two loaded cores that takes seconds, and the first smoke run
  // measured the first cases of each page 2–3× slower than the later ones.
  for (const c of cases) await c.fn();
  log(`throughput: warm-up round done, load ${loadText(loadavg())}`);
  for (let r = 0; r < TP_ROUNDS; r++) {
    // Alternate the order, so that neither end of a round always meets the same load.
    for (const c of r % 2 ? [...cases].reverse() : cases) c.ms.push(await c.fn());
    load.rounds.push(loadavg());
    log(`throughput: round ${r + 1}/${TP_ROUNDS} done, load ${loadText(load.rounds[r]!)}`);
  }
}

/** The evaluation path: its profile in each page, the evaluation loop in Workers, the cost of its yields. */
async function tpEvaluationPath(
  p1: Page,
  p2: Page,
  failed: Record<string, string>,
): Promise<Pick<ThroughputReport, 'profiles' | 'workerEval' | 'workerYields'>> {
  log('throughput: profile of the evaluation path (one α, every set), 2 threads then 1');
  const profiles = [await call(p2, 'tpProfile', { alpha: 0.5 }), await call(p1, 'tpProfile', { alpha: 0.5 })];
  const workerEval = await tpWorkerEval(p1, failed);
  const workerYields = failed['async-1t'] ? null : await call(p1, 'tpWorkerYields', { group: 'async-1t', n: 60 });
  return { profiles, workerEval, workerYields };
}

/**
 * The evaluation loop itself in Workers, as the app runs it (one Worker, 2 threads) and as the
 * lever would (two Workers, 1 thread each), alternately, twice.
 */
async function tpWorkerEval(p1: Page, failed: Record<string, string>): Promise<NonNullable<ThroughputReport['workerEval']>> {
  log('throughput: FrontierEvaluator in Workers (1 × 2 threads, 2 × 1 thread, 1 × 1 thread)');
  const evalCases = [
    { id: 'evaluator-1worker-2t', group: 'async-2t', use: 1, workers: 1, threads: 2 },
    { id: 'evaluator-2workers-1t', group: 'async-1t', use: 2, workers: 2, threads: 1 },
    { id: 'evaluator-1worker-1t', group: 'async-1t', use: 1, workers: 1, threads: 1 },
  ]
    .filter((c) => !failed[c.group])
    .map((c) => ({ ...c, images: 0, ms: [] as number[] }));
  for (let r = 0; r < 2; r++) {
    for (const c of r % 2 ? [...evalCases].reverse() : evalCases) {
      const x = await call(p1, 'tpWorkerEval', { group: c.group, use: c.use, alpha: 0.5 });
      c.ms.push(x.ms);
      c.images = x.images;
    }
  }
  return evalCases.map(({ group: _g, use: _u, ...c }) => c);
}

/**
 * `--only-probe [--probe-n=N]`: one linear probe on N images (default 1000) in the page on the wasm
 * EP, feature pass included, printed with the load average before and after (not written to
 * docs/benchmarks.json: one run on a shared machine, not a row of the full report).
 */
async function onlyProbe(): Promise<void> {
  const n = Number(/^--probe-n=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--probe-n=')) ?? '')?.[1] ?? 1000);
  const before = loadavg();
  const v = await startVite();
  try {
    const p = await openBench(v.base);
    try {
      const r = await call(p.page, 'probe', { manifest: '/pairs/shapes/manifest.json', n });
      const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
      log(
        `linear probe on ${r.n} images incl. feature pass, page wasm: ${(r.totalMs / 1000).toFixed(2)} s ` +
          `(feature pass ${(r.featuresMs / 1000).toFixed(2)} s, ${r.epochs} epochs on ${r.trainCount} images ${(r.trainMs / 1000).toFixed(2)} s); ` +
          `load average ${load(before)} before, ${load(loadavg())} after`,
      );
    } finally {
      await p.close();
    }
  } finally {
    await v.close();
  }
}

/**
 * `--only-world-render [--world-n=N] [--world-epoch-n=N]`: the world's renderer in TypeScript
 * (bench/worldRender.ts), reference photos per second in the page (default 2,048: two render
 * chunks), then one fine-tuning epoch on N generated images (default 1,024), the renderer included;
 * printed with the load average (not written to docs/benchmarks.json: one run on a shared machine).
 */
async function onlyWorldRender(): Promise<void> {
  const arg = (name: string, d: number) =>
    Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? d);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const v = await startVite();
  try {
    const p = await openBench(v.base);
    try {
      for (const shortcut of [0, 0.98]) {
        const l0 = loadavg();
        const r = await call(p.page, 'worldRender', { n: arg('world-n', 2048), shortcut });
        log(
          `world renderer (TypeScript, page main thread), ${r.n} reference photos at shortcut ${shortcut}: ${r.imagesPerS.toFixed(0)} images/s ` +
            `(parameters ${r.sampleMs.toFixed(0)} ms, pixels ${r.renderMs.toFixed(0)} ms); load average ${load(l0)} before, ${load(loadavg())} after`,
        );
      }
      const l0 = loadavg();
      const e = await call(p.page, 'worldEpoch', { manifest: '/pairs/shapes/manifest.json', n: arg('world-epoch-n', 1024) });
      log(
        `fine-tune, one epoch of ${e.n} generated images (${e.steps} steps of 128, rendered as batches need them), page wasm SIMD: ` +
          `${(e.ms / 1000).toFixed(1)} s, ${e.imageStepsPerS.toFixed(1)} image-steps/s; load average ${load(l0)} before, ${load(loadavg())} after`,
      );
    } finally {
      await p.close();
    }
  } finally {
    await v.close();
  }
}

/**
 * `--only-train-runtime [--train-reps=N] [--train-epoch-n=N]`: the training-runtime candidates for
 * end-to-end fine-tuning (bench/trainRuntime.ts), one forward + backward step of the bundled image
 * tower at batch 32 and 64, in the page, then one fine-tuning epoch of N images (default 2,000), each printed with the load average before and after and the
 * candidate's download size (not written to docs/benchmarks.json: one run on a shared machine).
 */
async function onlyTrainRuntime(): Promise<void> {
  const reps = Number(/^--train-reps=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--train-reps=')) ?? '')?.[1] ?? 5);
  const epochN = Number(/^--train-epoch-n=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--train-epoch-n=')) ?? '')?.[1] ?? 2000);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const v = await startVite();
  try {
    const p = await openBench(v.base);
    try {
      for (const batch of [32, 64])
        for (const candidate of TRAIN_CANDIDATES) {
          const slow = candidate.startsWith('TensorFlow') || candidate.includes('TypeScript');
          const l0 = loadavg();
          const {
            row: x,
            crossOriginIsolated,
            hardwareConcurrency,
          } = await call(p.page, 'trainRuntime', {
            candidate,
            batch,
            reps: slow ? Math.max(1, Math.ceil(reps / 3)) : reps,
            model: '/pairs/shapes/zeroshot.onnx',
          });
          log(
            `${x.candidate}, batch ${x.batch}: ` +
              (x.imageStepsPerS === null
                ? `failed: ${x.error}`
                : `${x.imageStepsPerS.toFixed(1)} image-steps/s (${x.msPerStep!.toFixed(0)} ms a step); ` +
                  `loss ${x.lossError?.toExponential(1)} and gradients ${x.gradError?.toExponential(1)} (worst tensor, ‖Δ‖/‖g‖) from the hand-written float32 tower`) +
              `; page crossOriginIsolated ${crossOriginIsolated}, ${hardwareConcurrency} threads; load average ${load(l0)} before, ${load(loadavg())} after`,
          );
        }
      log(`download: ${trainRuntimeSizes()}`);
      const l0 = loadavg();
      const e = await call(p.page, 'fineTuneEpoch', { manifest: '/pairs/shapes/manifest.json', n: epochN });
      log(
        `fine-tune, one epoch of ${e.n} images (${e.steps} steps of ${e.batch}, the pipeline's recipe, micro-batches of 32), page wasm SIMD: ` +
          `${(e.ms / 1000).toFixed(1)} s, ${e.imageStepsPerS.toFixed(1)} image-steps/s (loss ${e.firstLoss.toFixed(3)} → ${e.lastLoss.toFixed(3)}); ` +
          `load average ${load(l0)} before, ${load(loadavg())} after`,
      );
    } finally {
      await p.close();
    }
  } finally {
    await v.close();
  }
}

/** What each candidate adds to the page, from the files it would ship (minified, uncompressed). */
function trainRuntimeSizes(): string {
  const kb = (files: string[]) => (files.reduce((s, f) => s + statSync(join(ROOT, f)).size, 0) / 1024).toFixed(0);
  const tfw = 'node_modules/@tensorflow/tfjs-backend-wasm/dist/';
  const own = [
    'src/core/train/tower.ts',
    'src/core/train/towerOps.ts',
    'src/core/train/gemm.ts',
    'src/core/train/gemmKernel.ts',
    'src/core/train/erf.ts',
  ];
  return (
    `hand-written: ${kb(own)} KB of TypeScript source (the wasm kernel is assembled in the page); ` +
    `TensorFlow.js: tfjs-core ${kb(['node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js'])} KB + wasm backend ${kb([`${tfw}tf-backend-wasm.min.js`])} KB ` +
    `+ its SIMD wasm ${kb([`${tfw}tfjs-backend-wasm-simd.wasm`])} KB (threaded ${kb([`${tfw}tfjs-backend-wasm-threaded-simd.wasm`])} KB), ` +
    `cpu backend ${kb(['node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js'])} KB`
  );
}

/**
 * `--only-frontier-workers [--frontier-rounds=N]`: the bundled pair's live frontier in the page on 1
 * engine (the engine Worker alone) and on 2 (helper Workers, core/eval/lanes.ts), alternated in one
 * run, each printed with the load average before and after, and written into the `frontierWorkers`
 * field of the existing docs/benchmarks.json, like --only-lab-speed.
 */
async function onlyFrontierWorkers(): Promise<void> {
  if (!existsSync(BUNDLED)) throw new Error('--only-frontier-workers needs the bundled pair (public/pairs/shapes)');
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const rounds = Number(/^--frontier-rounds=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--frontier-rounds=')) ?? '')?.[1] ?? 1);
  const out: FrontierWorkersRound[] = [];
  const v = await startVite();
  try {
    const p = await openBench(v.base);
    try {
      for (let r = 0; r < rounds; r++)
        for (const engines of r % 2 === 0 ? [1, 2] : [2, 1]) {
          const before = loadavg();
          const x = await call(p.page, 'liveFrontier', { manifest: '/pairs/shapes/manifest.json', engines });
          out.push({ ...x, round: r + 1, load: { before, after: loadavg() } });
          log(frontierWorkersLine(out.at(-1)!));
        }
    } finally {
      await p.close();
    }
  } finally {
    await v.close();
  }
  report.frontierWorkers = { date: new Date().toISOString(), defaultEngines: bundledDefaultEngines(), rounds: out };
  writeDocs(report, report.mode === 'full');
}

function frontierWorkersLine(x: FrontierWorkersRound): string {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  return (
    `round ${x.round}, live frontier, bundled pair, page wasm, ${x.engines} engine${x.engines > 1 ? 's' : ''}: ${(x.liveFrontierMs / 1000).toFixed(1)} s ` +
    `for ${x.images} images (${Math.round(x.images / (x.liveFrontierMs / 1000))} images/s); first estimate of the current α ` +
    `${x.firstEstimateMs.toFixed(0)} ms; 11 coarse points ${(x.coarseMs / 1000).toFixed(2)} s; a new α afterwards ${x.newAlphaFirstEstimateMs.toFixed(0)} ms; ` +
    `pair load ${x.loadPairMs.toFixed(0)} ms; load average ${load(x.load.before)} before, ${load(x.load.after)} after`
  );
}

/** The frontier engines the app uses on the bundled pair here by default (laneCount, its first member). */
function bundledDefaultEngines(): number {
  const m = JSON.parse(readFileSync(BUNDLED, 'utf8')) as {
    models: { zeroShot: { bytes: number }; members: { model: { bytes: number } }[] };
  };
  const pairBytes = m.models.zeroShot.bytes + (m.models.members[0]?.model.bytes ?? 0);
  return Math.max(1, laneCount({ backend: 'wasm', cores: cpus().length, pairBytes }));
}

/**
 * `--only-first-screen-bytes [--before=REF]`: bench/wire.ts (issue 15, item 6), into the
 * `firstScreenBytes` field of the existing docs/benchmarks.json, like --only-throughput.
 */
async function onlyFirstScreenBytes(): Promise<void> {
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const before = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length) ?? null;
  report.firstScreenBytes = await wireBytes(ROOT, OUT, CHROMIUM, before);
  const mb = (x: number) => `${(x / 1e6).toFixed(2)} MB`;
  for (const v of report.firstScreenBytes.visits) {
    log(
      `${v.label}, ${v.backend}: first screen ${mb(v.firstScreen.raw)} raw, ${mb(v.firstScreen.gzip)} gzip (pair in state ${(v.firstScreenMs / 1000).toFixed(1)} s; ` +
        `${mb(v.byShown.gzip)} gzip by the time it was drawn, ${(v.shownMs / 1000).toFixed(1)} s); ` +
        `in all ${mb(v.all.raw)} raw, ${mb(v.all.gzip)} gzip; largest: ${v.firstScreen.files
          .slice(0, 4)
          .map((f) => `${f.path} ${mb(f.gzip)}`)
          .join(', ')}`,
    );
  }
  writeDocs(report, report.mode === 'full');
  const l = report.firstScreenBytes.load;
  log(`load average ${l.before.map((x) => x.toFixed(2)).join(' ')} before, ${l.after.map((x) => x.toFixed(2)).join(' ')} after`);
}

/**
 * `--only-lab-speed`: bench/labSpeed.ts (issue 16's speed rows), printed and written into the
 * `labSpeed` field of the existing docs/benchmarks.json, like --only-first-screen-bytes.
 */
async function onlyLabSpeed(): Promise<void> {
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const r = await labSpeed(ROOT, join(OUT, 'dist-lab-speed'), CHROMIUM);
  report.labSpeed = r;
  const s = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  const met = (ok: boolean) => (ok ? 'met' : 'missed');
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const t = r.triangle;
  log(`built app, wasm, bundled pair: pair loaded ${s(r.pairLoadedMs)}, live frontier complete ${s(r.liveFrontierMs)} after opening`);
  log(
    `sensitivity strip (${r.strip.groups} groups × 2 settings, ${r.strip.imagesPerSet} images per set): ${s(r.stripMs)} (target ≤ 30 s: ${met(r.stripMs <= 30_000)})`,
  );
  log(
    `triangle (${t.cells} cells, ${t.fromSoups} from the soups' points): current cell ${s(t.currentMs)}, all ${s(t.allMs)}; ` +
      `first cell evaluated "${t.firstCell}" (current first: ${String(t.currentFirst)})`,
  );
  for (const [name, c] of [
    [`group ${r.groupChange.group} α`, r.groupChange],
    ['plain α', r.plainChange],
  ] as const) {
    log(
      `${name} change → new point on screen: median ${s(c.stat.median)} (${c.ms.map(s).join(', ')}) (target ≤ 300 ms: ${met(c.stat.median <= 300)})`,
    );
    if (c.fullStat && c.firstImages)
      log(
        `${name} change → 100 images of every set: median ${s(c.fullStat.median)}; first estimate on ${c.firstImages.join(', ')} images per set`,
      );
  }
  log(`load average ${load(r.load.before)} before, ${load(r.load.after)} after`);
  writeDocs(report, report.mode === 'full');
}

/** `--only-first-screen`: bench/firstScreen.ts, printed (one cold and one repeat visit). */
async function onlyFirstScreen(): Promise<void> {
  const r = await firstScreen(ROOT, join(OUT, 'dist-first-screen'), CHROMIUM);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  log(
    `built app, cold profile, wasm: pair loaded ${s(r.cold.pairLoadedMs)} after opening; recorded frontier and recommended α ` +
      `on screen ${s(r.cold.firstScreenAfterPairMs)} after that, the callout's paired numbers ${s(r.cold.calloutNumbersAfterPairMs)}; ` +
      `live frontier complete ${s(r.cold.liveFrontierMs)} after opening`,
  );
  log(
    `repeat visit, same profile: pair loaded ${s(r.repeat.pairLoadedMs)}; verified frontier ${s(r.repeat.verifiedAfterPairMs)} ` +
      `and the callout's numbers ${s(r.repeat.calloutNumbersAfterPairMs)} after that`,
  );
  log(`load average ${load(r.load.before)} before, ${load(r.load.after)} after`);
}

/** `--only-bundle-zip`: bench/bundleZip.ts on the bundled pair, printed (5 runs). */
async function onlyBundleZip(): Promise<void> {
  const r = await bundleZip(dirname(BUNDLED), 5);
  const ms = (x: Stat) => `median ${x.median.toFixed(0)} ms (${x.min.toFixed(0)}–${x.max.toFixed(0)}, n = ${x.n})`;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  log(
    `bundled pair + a member as one .zip (${(r.zipBytes / 2 ** 20).toFixed(1)} MB, ${r.files} files), Node: write ${ms(r.writeMs)}, unpack ${ms(r.unpackMs)}`,
  );
  log(`load average ${load(r.load.before)} before, ${load(r.load.after)} after`);
}

/**
 * `--only-app-memory [--before=REF]`: bench/appMemory.ts (issue 15, item 2 in the built app), into
 * the `appMemory` field of the existing docs/benchmarks.json, like --only-first-screen-bytes.
 */
async function onlyAppMemory(): Promise<void> {
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const before = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length) ?? null;
  const [small, clip] = (await ensurePairs(false, log)) as [PairFiles, PairFiles];
  report.appMemory = await appMemory(ROOT, OUT, CHROMIUM, before, { small, clip }, log);
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  log(`load average ${la(report.appMemory.load.before)} before, ${la(report.appMemory.load.after)} after`);
  writeDocs(report, report.mode === 'full');
}

async function main(): Promise<void> {
  if (process.argv.includes('--only-bundle-zip')) return onlyBundleZip();
  if (process.argv.includes('--only-new-alpha')) {
    const [, clip] = (await ensurePairs(false, log)) as [PairFiles, PairFiles];
    const read = () => JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
    return onlyNewAlpha({ root: ROOT, out: OUT, bundled: BUNDLED, clip, executablePath: CHROMIUM, log }, read, (r) =>
      writeDocs(r as Report, (r as Report).mode === 'full'),
    );
  }
  if (process.argv.includes('--only-probe')) return onlyProbe();
  if (process.argv.includes('--only-lab-speed')) return onlyLabSpeed();
  if (process.argv.includes('--only-first-screen-bytes')) return onlyFirstScreenBytes();
  if (process.argv.includes('--only-app-memory')) return onlyAppMemory();
  if (process.argv.includes('--only-train-runtime')) return onlyTrainRuntime();
  if (process.argv.includes('--only-world-render')) return onlyWorldRender();
  if (process.argv.includes('--only-first-screen')) return onlyFirstScreen();
  if (process.argv.includes('--only-frontier-workers')) return onlyFrontierWorkers();
  if (process.argv.includes('--only-throughput')) return onlyThroughput();
  if (process.argv.includes('--only-memory')) return onlyRows('memory');
  if (process.argv.includes('--only-frontier')) return onlyRows('frontier');
  return fullRun();
}

/** `npm run bench [-- --quick]`: every row of the report, saved after each step. */
async function fullRun(): Promise<void> {
  log(`bench ${QUICK ? '--quick' : '(full)'}`);
  const pairs = await ensurePairs(false, log);
  const [small, clip] = pairs as [PairFiles, PairFiles];
  const bundledPresent = existsSync(BUNDLED);
  const report = newReport(pairs, bundledPresent);
  current = report;
  await nodeCpuBlendRows(report, clip);
  await nodeInferenceRows(report, small, clip);
  const vite = await startVite();
  try {
    await webRows(vite.base, report, small, clip);
    if (R.clipInference) await webClipWasmRow(vite.base, report, clip);
    await webOneThreadRows(vite.base, report, small, clip);
    if (R.memory) await memoryRows(vite.base, report, clip, small);
    if (bundledPresent && !QUICK) await frontierRow(vite.base, report);
  } finally {
    await vite.close();
  }
  if (bundledPresent && !QUICK) {
    log('web: first load of the built app (vite build + preview)');
    report.web.firstLoad = await firstLoad();
  }
  save();
  log(`wrote docs/benchmarks.json and docs/benchmarks.md (${(report.durationS ?? 0).toFixed(0)} s)`);
}

/** The report's header: the machine, the pairs' sizes, and notes on what this mode leaves out. */
function newReport(pairs: readonly PairFiles[], bundledPresent: boolean): Report {
  const m = machine();
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, load ${m.load}`);
  const report: Report = { mode: QUICK ? 'quick' : 'full', machine: m, browser: null, pairs: {}, node: {}, web: {}, notes: [] };
  if (bundledPresent && QUICK)
    report.notes.push(
      "Quick mode skips the bundled pair's frontier and first-load rows (6 sets × 1000 images per α: minutes on this machine); `npm run bench` runs them.",
    );
  if (!bundledPresent)
    report.notes.push(
      "The bundled pair (public/pairs/shapes/manifest.json) is not present: its rows (frontier throughput, first load) are skipped. The small-pair rows use small-vit, a generated ViT of the bundled pair's size (218k parameters, 32×32).",
    );
  for (const p of pairs) {
    report.pairs[p.config.name] = { params: p.params, fp32Bytes: statSync(p.zs).size, fp16Bytes: statSync(p.zs16).size, config: p.config };
  }
  return report;
}

/** Node (onnxruntime-node): CPU blend throughput of the CLIP-sized pair. */
async function nodeCpuBlendRows(report: Report, clip: PairFiles): Promise<void> {
  log('node: CPU blend throughput, CLIP-sized pair');
  const wp = weightPairsOf(readFileSync(clip.zs), readFileSync(clip.ft));
  const variants: Record<string, unknown> = {};
  // Before/after of the change to src/core/blend/cpu.ts: the JS loop (mixInto, what CpuBlender
  // ran before) and a chunked JS loop, against CpuBlender now (wasm SIMD kernel).
  variants['before: JS loop (mixInto)'] = await cpuBlendRow(wp, R.clipBlendReps + 2, mixInto);
  if (!QUICK) variants['tried: chunked JS loop (64k)'] = await cpuBlendRow(wp, R.clipBlendReps + 2, mixChunked);
  variants['after: CpuBlender (wasm SIMD)'] = await cpuBlendRow(wp, R.clipBlendReps + 2);
  report.node.cpuBlendClip = variants;
  wp.length = 0;
}

/** Node (onnxruntime-node, cpu EP): inference rows of the small pair, and of the CLIP-sized pair in a full run. */
async function nodeInferenceRows(report: Report, small: PairFiles, clip: PairFiles): Promise<void> {
  const rows = (zs: string, ft: string, size: number, o: Omit<InferenceOptions, 'ort' | 'backend' | 'size'>) =>
    inferenceRows(readFileSync(zs), readFileSync(ft), { ort: ortNode, backend: 'cpu', size, ...o });
  log('node: inference rows, small pair (cpu EP)');
  report.node.small = await rows(small.zs, small.ft, small.config.size, {
    batches: [1, 8],
    steadyReps: R.steady * 2,
    switchReps: R.switch,
  });
  if (!R.clipInference) return;
  log('node: inference rows, CLIP-sized pair (cpu EP)');
  report.node.clip = await rows(clip.zs, clip.ft, clip.config.size, {
    batches: [1, 8],
    steadyReps: R.clipSteady,
    switchReps: R.clipSwitch,
  });
  log('node: inference rows, CLIP-sized fp16 pair (cpu EP, engine only: α switch)');
  report.node.clip16 = await rows(clip.zs16, clip.ft16, clip.config.size, {
    batches: [1],
    steadyReps: 3,
    switchReps: R.clipSwitch,
    engineOnly: true,
  });
}

/** Opens the bench page in a fresh browser, runs `fn` on it and closes the browser, whatever happens. */
async function inBench<T>(base: string, query: string, fn: (b: Opened) => Promise<T>): Promise<T> {
  const b = await openBench(base, query);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

/** Browser (onnxruntime-web), one page: its environment, blend throughput, the small pair's inference rows. */
async function webRows(base: string, report: Report, small: PairFiles, clip: PairFiles): Promise<void> {
  await inBench(base, '', async (b) => {
    report.browser = { version: b.browser.version(), ...(await call(b.page, 'env')) };
    log(
      `browser: ${report.browser.version}, isolated=${String(report.browser.crossOriginIsolated)}, threads=${String(report.browser.threads)}`,
    );
    await webBlendRows(b.page, report, small, clip);
    log('web: inference rows, small pair, wasm EP');
    const pair = { pair: small.config.name, size: small.config.size };
    report.web.smallWasm = await call(b.page, 'inference', {
      ...pair,
      backend: 'wasm',
      batches: [1, 8],
      steadyReps: R.steady * 2,
      switchReps: R.switch,
    });
    log('web: inference rows, small pair, WebGPU EP (SwiftShader)');
    report.web.smallWebgpu = await call(b.page, 'inference', {
      ...pair,
      backend: 'webgpu',
      batches: QUICK ? [1] : [1, 8],
      steadyReps: QUICK ? 3 : R.steady,
      switchReps: R.gpuSwitch,
    });
  });
}

/** Blend throughput in the page (CPU and WebGPU); in a full run also the CLIP-sized pair and the WebGPU kernel's variants. */
async function webBlendRows(page: Page, report: Report, small: PairFiles, clip: PairFiles): Promise<void> {
  log('web: blend throughput, small pair (CPU, WebGPU)');
  report.web.blendSmall = await call(page, 'blend', { pair: small.config.name, reps: R.blendReps * 2, cpu: true, gpu: true });
  if (!R.clipWeb) return;
  log('web: blend throughput, CLIP-sized pair (CPU, WebGPU kernel and copy)');
  report.web.blendClip = await call(page, 'blend', { pair: clip.config.name, reps: R.clipBlendReps, cpu: true, gpu: true });
  log('web: WebGPU blend kernel profile (shipped vs grid-stride variants, 16M floats)');
  report.web.gpuKernels = await call(page, 'gpuKernels', {
    elements: 16 * 2 ** 20,
    reps: 5,
    variants: [...KERNEL_VARIANTS],
  });
}

/** The CLIP-sized pair on the wasm EP, in a fresh browser: the wasm heap of the rows before it never shrinks. */
async function webClipWasmRow(base: string, report: Report, clip: PairFiles): Promise<void> {
  await inBench(base, '', async (b) => {
    log('web: inference rows, CLIP-sized pair, wasm EP (all threads)');
    report.web.clipWasm = await call(b.page, 'inference', {
      pair: clip.config.name,
      size: clip.config.size,
      backend: 'wasm',
      batches: [1, 8],
      steadyReps: R.clipSteady,
      switchReps: R.clipSwitch,
    });
  });
}

/** One wasm thread: the small pair, and in a full run the CLIP-sized pair at batch 1. */
async function webOneThreadRows(base: string, report: Report, small: PairFiles, clip: PairFiles): Promise<void> {
  await inBench(base, '?threads=1', async (b) => {
    log('web: 1 wasm thread: small pair (and CLIP-sized at batch 1)');
    const engineOnly = { backend: 'wasm', switchReps: 0, engineOnly: true } as const;
    report.web.threads1Small = await call(b.page, 'inference', {
      pair: small.config.name,
      size: small.config.size,
      batches: [1, 8],
      steadyReps: R.steady * 2,
      ...engineOnly,
    });
    if (R.threadsClip)
      report.web.threads1Clip = await call(b.page, 'inference', {
        pair: clip.config.name,
        size: clip.config.size,
        batches: [1],
        steadyReps: R.clipSteady,
        ...engineOnly,
      });
  });
}

/** Peak memory, each way in a fresh browser, plus the baseline renderer. */
async function memoryRows(base: string, report: Report, clip: PairFiles, small: PairFiles): Promise<void> {
  // Streamed (the loader since issue 15) and from both files' bytes (before it), side by side.
  delete report.web.memory_ours_js;
  for (const mode of ['ours-stream', 'ours-stream-fp16', 'ours', 'naive'] as const) {
    const b = await openBench(base);
    try {
      log(`web: memory, CLIP-sized pair, ${mode}`);
      const r = await call(b.page, 'memory', { pair: clip.config.name, size: clip.config.size, mode });
      report.web[`memory_${mode.replaceAll('-', '_')}`] = { ...r, rendererPeakRss: await rendererPeak(b.browser) };
    } finally {
      await b.close();
    }
  }
  await setupRows(base, report, clip);
  // The baseline: a renderer that loaded the page and ORT's wasm, nothing else.
  const b = await openBench(base);
  try {
    await call(b.page, 'inference', {
      pair: small.config.name,
      size: small.config.size,
      backend: 'wasm',
      batches: [1],
      steadyReps: 1,
      switchReps: 0,
      engineOnly: true,
    });
    report.web.memory_baseline = { rendererPeakRss: await rendererPeak(b.browser) };
  } finally {
    await b.close();
  }
}

const SETUP_REPS = 3;

/** Fetch + set up + first run of the CLIP-sized pair on wasm, fp32 and fp16, from bytes and streamed. */
async function setupRows(base: string, report: Report, clip: PairFiles): Promise<void> {
  const rows: Record<string, { createMs: number[]; setupMs: number[] }> = {};
  for (const fp16 of [false, true])
    for (const stream of [false, true]) {
      const key = `${fp16 ? 'fp16' : 'fp32'}-${stream ? 'stream' : 'bytes'}`;
      const b = await openBench(base);
      try {
        log(`web: setup, CLIP-sized pair, ${key}`);
        rows[key] = { createMs: [], setupMs: [] };
        for (let rep = 0; rep < SETUP_REPS; rep++) {
          const r = (await call(b.page, 'setup', { pair: clip.config.name, size: clip.config.size, fp16, stream })) as {
            createMs: number;
            setupMs: number;
          };
          rows[key].createMs.push(r.createMs);
          rows[key].setupMs.push(r.setupMs);
        }
      } finally {
        await b.close();
      }
    }
  report.web.setup_clip = rows;
}

async function frontierRow(base: string, report: Report): Promise<void> {
  const b = await openBench(base);
  try {
    log('web: frontier throughput, bundled pair (wasm)');
    report.web.frontier = await call(b.page, 'frontier', { manifest: '/pairs/shapes/manifest.json', grid: [0, 0.5, 1], backend: 'wasm' });
  } finally {
    await b.close();
  }
}

/** The real-GPU measurement (bench/gpu-node.ts), made apart from this run, rendered beside it. */
function gpuNodeReport(): GpuNodeReport | null {
  const file = join(ROOT, 'docs/benchmarks-gpu.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as GpuNodeReport) : null;
}

let current: Report | null = null;
/** Writes what is measured so far (after every step: a run cut short still leaves its rows). */
function save(): void {
  const report = current;
  if (!report) return;
  report.durationS = (performance.now() - t0) / 1000;
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeDocs(report, !QUICK);
}

/** The built app (vite build into bench/.out/dist, vite preview): page open → first complete frontier. */
async function firstLoad(): Promise<{ runs: { openToFrontierMs: number; fullFrontierMs: number }[]; median: Stat | null }> {
  const app = await servedApp(ROOT, join(OUT, 'dist'));
  const runs: { openToFrontierMs: number; fullFrontierMs: number }[] = [];
  try {
    for (let i = 0; i < 1; i++) {
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
      try {
        const page = await browser.newPage();
        const t = performance.now();
        await page.goto(app.base);
        await page.waitForFunction(
          () =>
            (globalThis as unknown as { wiseft?: { store: { getState(): { fullFrontierMs: number | null } } } }).wiseft?.store.getState()
              .fullFrontierMs != null,
          null,
          { timeout: 600_000, polling: 100 },
        );
        const openToFrontierMs = performance.now() - t;
        const fullFrontierMs = await page.evaluate(
          () =>
            (globalThis as unknown as { wiseft: { store: { getState(): { fullFrontierMs: number } } } }).wiseft.store.getState()
              .fullFrontierMs,
        );
        runs.push({ openToFrontierMs, fullFrontierMs });
      } finally {
        await browser.close();
      }
    }
  } finally {
    await app.close();
  }
  const { stat } = await import('./rows');
  return { runs, median: runs.length ? stat(runs.map((r) => r.openToFrontierMs)) : null };
}

export type { InferenceResult };
if (process.argv.includes('--render')) {
  // Re-renders docs/benchmarks.md from docs/benchmarks.json (after editing bench/analysis.md).
  const report = JSON.parse(readFileSync(join(ROOT, 'docs/benchmarks.json'), 'utf8')) as Report;
  const analysisFile = join(ROOT, 'bench/analysis.md');
  writeFileSync(
    join(ROOT, 'docs/benchmarks.md'),
    renderMarkdown(report, report.mode === 'full' && existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : '', gpuNodeReport()),
  );
} else {
  await main();
}
process.exit(0);
