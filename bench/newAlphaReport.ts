// The `--only-new-alpha` section of docs/benchmarks.md (bench/newAlpha.ts makes the numbers); apart
// from the bench itself so that rendering does not load onnxruntime or a browser.
import type { Stat } from './stat';

export interface EngineVariant {
  name: string;
  perSet: number;
  oneBatch: boolean;
  ms: number[];
  stat: Stat;
}
export interface AppRow {
  label: string;
  liveFrontierMs: number;
  /** Action → the job started (evaluating in the store): the slider's debounce. */
  jobMs: Stat;
  /** Action → every set has images at the new α in the store (the first estimate). */
  storeMs: Stat;
  /** Action → the chart's current point drawn from images at the new α. */
  screenMs: Stat;
  /** Action → 100 images of every set in the store. */
  fullMs: Stat;
  /** Fewest images per set behind each first estimate. */
  firstImages: number[];
}
export interface NewAlphaReport {
  date: string;
  load: { before: number[]; after: number[] };
  engine: { variants: EngineVariant[]; steadyMs: Stat; sets: number } | null;
  batch: { size: number; rows: { batch: number; imagesPerS: number; batchMs: Stat }[] } | null;
  app: AppRow[];
}

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 10 ? `${x.toFixed(0)} ms` : `${x.toFixed(2)} ms`);
const st = (s: Stat) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)}, n=${s.n})`;
const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');
const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');

function engineRows(e: NonNullable<NewAlphaReport['engine']>): string[] {
  return [
    `Engine (bundled pair, onnxruntime-web wasm in Node, one thread): a new α each time, the first estimate's images of all ${e.sets} sets normalised and run, the ways taken in turns. A steady run (the same 16 per set in one batch, at the α just set: no blend) took ${st(e.steadyMs)}.`,
    '',
    '| First estimate | Images | Time (median, range, n) |',
    '|---|---|---|',
    ...e.variants.map((v) => `| ${v.name} | ${v.perSet * e.sets} | ${st(v.stat)} |`),
    '',
  ];
}

function batchRows(b: NonNullable<NewAlphaReport['batch']>): string[] {
  return [
    `Evaluation batch at ${b.size}² (CLIP-sized pair, same runtime, one thread; the largest batch run first, untimed, so onnxruntime's heap is already at its size):`,
    '',
    '| Batch | Images/s | One batch (median, range, n) |',
    '|---|---|---|',
    ...b.rows.map((r) => `| ${r.batch} | ${r.imagesPerS.toFixed(2)} | ${st(r.batchMs)} |`),
    '',
  ];
}

function appRows(x: NewAlphaReport): string[] {
  return [
    'Built app (vite build + vite preview, fresh headless Chromium, `#backend=wasm`, bundled pair), each change from an idle app (live frontier complete, no job running), timed in the page from `actions.setAlpha` (median, range, n):',
    '',
    '| App | Job started (debounce) | First estimate in the store | First estimate on screen | 100 images of every set | Fewest images per set in the first estimate | Live frontier after opening |',
    '|---|---|---|---|---|---|---|',
    ...x.app.map(
      (a) =>
        `| ${a.label} | ${st(a.jobMs)} | ${st(a.storeMs)} | ${st(a.screenMs)}: ≤ 250 ms ${verdict(a.screenMs.median <= 250)} | ${st(a.fullMs)}: ≤ 1 s ${verdict(a.fullMs.median <= 1000)} | ${a.firstImages.join(', ')} | ${ms(a.liveFrontierMs)} |`,
    ),
    '',
  ];
}

export function newAlphaSection(x: NewAlphaReport | undefined): string[] {
  if (!x) return [];
  return [
    '## A new α → its first estimate (issue 15, item 1)',
    '',
    `Measured by \`npm run bench -- --only-new-alpha\` on ${x.date}; **load average (1/5/15 min) ${la(x.load.before)} at start, ${la(x.load.after)} at end**, on 2 cores shared with other work: one run, not a timing guarantee.`,
    '',
    ...(x.engine ? engineRows(x.engine) : []),
    ...(x.batch ? batchRows(x.batch) : []),
    ...(x.app.length ? appRows(x) : []),
  ];
}
