// `npx tsx bench/appMemoryTimeline.ts [--dumps] [--warm] [--warm-code] [--js-flags=...]` (issue 15,
// item 2: where the first visit's peak comes from). One cold visit of the built app to the
// CLIP-sized bench pair on wasm, as bench/appMemory.ts makes it, with the renderer's RSS sampled
// every 100 ms next to the load's progress, so the peak can be placed (the download, the blend and
// the session, the check batch). --dumps adds Chrome's memory-infra accounts (V8, Oilpan,
// PartitionAlloc, malloc; not the wasm memories) at 600 MiB downloaded and after the load
// (DUMP_FILTER=<regex> lists the deeper accounts it matches); --warm visits again from the cache;
// --warm-code visits the small pair first on the same profile (the runtime's wasm compiled and
// cached, the pair not). Prints the timeline and the peak. Single runs vary by ~0.1× one checkpoint.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type CDPSession } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/support/chromiumArgs';
import { ensurePairs, OUT, type PairFiles } from './gen-pair';
import { serveApp } from './appMemory';

const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Bytes loaded at which the first dump is taken: the first checkpoint and most of the second. */
const DUMP_AT = 600 * 2 ** 20;

/** The largest renderer of the browser on `profile` (the page and its Workers): its pid, RSS and peak. */
function rendererRss(profile: string): { pid: number; rss: number; hwm: number } {
  const ours = new RegExp(`--user-data-dir=${profile}(?:[\\s\\0]|$)`);
  let rss = 0;
  let hwm = 0;
  let largest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (!cmd.includes('--type=renderer') || !ours.test(cmd)) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const r = Number(/VmRSS:\s*(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      if (r > rss) [rss, largest] = [r, Number(pid)];
      hwm = Math.max(hwm, Number(/VmHWM:\s*(\d+)/.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      /* gone */
    }
  }
  return { pid: largest, rss, hwm };
}

interface Sample {
  t: number;
  rss: number;
  hwm: number;
  loaded: number | null;
  inState: boolean;
}

interface Dump {
  pid: number;
  allocators: Record<string, { attrs?: Record<string, { value: string }> }>;
}

/** A memory-infra dump of every process (Chrome's allocators' own accounts), through the page's DevTools session. */
async function memoryDump(session: CDPSession): Promise<Dump[]> {
  // The tracing events' types are loose in playwright's protocol typings: this is the part used.
  const cdp = session as unknown as {
    on(e: string, f: (x: never) => void): void;
    off(e: string, f: (x: never) => void): void;
    once(e: string, f: () => void): void;
    send(m: string, p?: object): Promise<unknown>;
  };
  const events: { name: string; ph: string; pid: number; args?: { dumps?: { allocators?: Dump['allocators'] } } }[] = [];
  const collect = (e: { value: typeof events }) => events.push(...e.value);
  cdp.on('Tracing.dataCollected', collect);
  await cdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['disabled-by-default-memory-infra'], memoryDumpConfig: { triggers: [] } },
    transferMode: 'ReportEvents',
  });
  await cdp.send('Tracing.requestMemoryDump', { deterministic: false, levelOfDetail: 'detailed' });
  const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
  await cdp.send('Tracing.end');
  await done;
  cdp.off('Tracing.dataCollected', collect);
  return events
    .filter((e) => e.ph === 'v' && e.args?.dumps?.allocators)
    .map((e) => ({ pid: e.pid, allocators: e.args!.dumps!.allocators! }));
}

/** The allocator accounts of at least 4 MiB, three levels deep, of the renderer `pid`. */
function printDump(label: string, dumps: Dump[], pid: number): void {
  const size = (a: Dump['allocators'][string] | undefined) => parseInt(a?.attrs?.size?.value ?? '0', 16);
  const d = dumps.find((x) => x.pid === pid);
  if (!d) return console.log(`  memory-infra dump ${label}: none of renderer ${pid}`);
  const rows = Object.keys(d.allocators)
    .filter((k) => k.split('/').length <= 3 && size(d.allocators[k]) >= 4 * 2 ** 20)
    .sort()
    .map((k) => `    ${k}: ${(size(d.allocators[k]) / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  memory-infra dump ${label} (pid ${d.pid}):\n${rows.join('\n')}`);
  if (process.env.DUMP_FILTER) {
    const f = new RegExp(process.env.DUMP_FILTER);
    for (const k of Object.keys(d.allocators)
      .filter((x) => f.test(x) && size(d.allocators[x]) >= 2 ** 19)
      .sort())
      console.log(`      ${k}: ${(size(d.allocators[k]) / 2 ** 20).toFixed(1)} MiB`);
  }
}

async function timeline(url: string, name: string, profile: string, args: string[], dumps = false): Promise<Sample[]> {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
  });
  const samples: Sample[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = dumps ? await context.newCDPSession(page) : null;
    const t0 = performance.now();
    await page.goto(url);
    let doneAt: number | null = null;
    let downloaded = false;
    while (doneAt === null || performance.now() - doneAt < 4_000) {
      const s = await page.evaluate((n) => {
        const st = (
          globalThis as unknown as {
            wiseft?: {
              store: { getState(): { pair: { name: string } | null; loading: { progress: { bundleLoaded: number } | null } | null } };
            };
          }
        ).wiseft?.store.getState();
        return { loaded: st?.loading?.progress?.bundleLoaded ?? null, inState: st?.pair?.name === n };
      }, name);
      samples.push({ t: performance.now() - t0, ...rendererRss(profile), ...s });
      if (cdp && !downloaded && (s.loaded ?? 0) >= DUMP_AT) {
        downloaded = true;
        printDump(`at ${((s.loaded ?? 0) / 2 ** 20).toFixed(0)} MiB loaded`, await memoryDump(cdp), rendererRss(profile).pid);
      }
      if (s.inState && doneAt === null) doneAt = performance.now();
      if (performance.now() - t0 > 600_000) throw new Error('the pair did not load in 10 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    if (cdp) printDump('after the pair is in state', await memoryDump(cdp), rendererRss(profile).pid);
  } finally {
    await context.close();
  }
  return samples;
}

function print(samples: Sample[], checkpoint: number, base: number): void {
  const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)}`;
  let last = -Infinity;
  for (const s of samples) {
    if (s.t - last < 1000 && s !== samples[samples.length - 1]) continue;
    last = s.t;
    console.log(
      `${(s.t / 1000).toFixed(1)} s  rss ${mib(s.rss)} MiB  hwm ${mib(s.hwm)} MiB (${((s.hwm - base) / checkpoint).toFixed(2)}×)  loaded ${s.loaded === null ? '—' : mib(s.loaded)} MiB${s.inState ? '  [pair in state]' : ''}`,
    );
  }
  const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
  console.log(
    `highest sampled RSS ${mib(peak.rss)} MiB at ${(peak.t / 1000).toFixed(1)} s (loaded ${peak.loaded === null ? '—' : mib(peak.loaded)} MiB, in state: ${peak.inState})`,
  );
}

const loadNow = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const [small, clip] = (await ensurePairs(false, () => undefined)) as [PairFiles, PairFiles];
  const jsFlags = process.argv.filter((a) => a.startsWith('--js-flags='));
  const served = await serveApp(ROOT, join(OUT, 'dist-app-memory-timeline'), [
    ['bench-clip', clip],
    ['bench-small', small],
  ]);
  const open = (folder: string) => `${served.base}?pair=${folder}/manifest.json#backend=wasm`;
  const checkpoint = readFileSync(clip.zs).byteLength;
  console.log(`load average ${loadNow()}; flags ${jsFlags.join(' ') || 'none'}`);
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-app-memory-tl-'));
  try {
    const baseline = await timeline(open('bench-small'), `bench ${small.config.name}`, profile, jsFlags);
    const base = Math.max(...baseline.map((s) => s.hwm));
    console.log(`baseline (small pair) peak ${(base / 2 ** 20).toFixed(0)} MiB`);
    let p = profile;
    if (!process.argv.includes('--warm-code')) p = mkdtempSync(join(tmpdir(), 'wiseft-app-memory-tl-'));
    print(await timeline(open('bench-clip'), `bench ${clip.config.name}`, p, jsFlags, process.argv.includes('--dumps')), checkpoint, base);
    if (process.argv.includes('--warm')) {
      console.log('warm (same profile, from the cache):');
      print(
        await timeline(open('bench-clip'), `bench ${clip.config.name}`, p, jsFlags, process.argv.includes('--dumps')),
        checkpoint,
        base,
      );
    }
    if (p !== profile) rmSync(p, { recursive: true, force: true });
  } finally {
    await served.close();
    rmSync(profile, { recursive: true, force: true });
    console.log(`load average ${loadNow()}`);
  }
}

await main();
