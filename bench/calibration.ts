// `npx tsx bench/calibration.ts [--member ID] [--resamples N] [--seed S]`: the numbers behind the
// README's "Calibration and loss" paragraph ("What to notice on the bundled pair"), computed on the
// bundled pair in Node with the app's code (eval/calibration.ts): NLL and top-label ECE (15 bins) of
// every set and the mean of the shifts at α = 0, 0.5, the recommended α and 1 in weight space and at
// 0.5 and the recommended α in output space; the temperature fitted on the reference set at each α
// and what it does to every set; and the differences the paragraph states, each with a paired
// bootstrap 95% interval over the same images (the same resampled indices on both sides; for the
// mean of the shifts each set is resampled on its own; T is held at its fitted value).
// The point estimates are also checked against the engine's own calibration report.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Explorer } from '../src/core/explorer';
import { loadBundle } from '../src/core/bundle/source';
import { dirSource } from '../src/node/dirSource';
import { ortNode } from '../src/core/runtime/ort-node';
import {
  addOutcome,
  emptySums,
  ece,
  fitTemperature,
  meanNll,
  mixLogits,
  rowOutcome,
  type CalibrationSums,
  type RowOutcome,
} from '../src/core/eval/calibration';
import type { CalibrationReport } from '../src/core/eval/calibrationReport';
import { seededRandom } from '../src/core/train/data';
import { scriptArgs } from './args';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARGS = scriptArgs(
  'npx tsx bench/calibration.ts [--member ID] [--resamples N] [--seed S]\n' +
    '  Calibration and loss on the bundled pair (every image): NLL and ECE at α = 0, 0.5, the recommended α, 1,\n' +
    '  weight and output space, the temperature fitted on the reference set, and paired bootstrap intervals\n' +
    '  (default member e2e-seed0, 1,000 resamples, seed 1).',
  { member: 'e2e-seed0', resamples: 1000, seed: 1 },
);
const RESAMPLES = ARGS.resamples;
const SEED = ARGS.seed;

interface SetInfo {
  id: string;
  role: string;
}
/** One way of scoring the images: set id → each image's outcome. */
type Condition = Record<string, RowOutcome[]>;
interface Logits {
  logits: Float32Array;
  labels: Int32Array;
  classes: number;
  classSubset: Int32Array | null;
}

/** The calibration sums over the images `idx` of `rows` (all of them when idx is null), binned as the app bins. */
function sumsOf(rows: readonly RowOutcome[], idx: ArrayLike<number> | null): CalibrationSums {
  const s = emptySums();
  const n = idx ? idx.length : rows.length;
  for (let k = 0; k < n; k++) {
    addOutcome(s, rows[idx ? idx[k]! : k]!);
  }
  return s;
}

function outcomes(l: Logits, temperature: number): RowOutcome[] {
  const n = l.labels.length;
  return Array.from({ length: n }, (_, i) => rowOutcome(l.logits, i, l.classes, l.classSubset, l.labels[i]!, 1 / temperature));
}

/** NLL and ECE (a fraction) of a set's images `idx`. */
function stats(rows: readonly RowOutcome[], idx: ArrayLike<number> | null): { nll: number; ece: number; acc: number } {
  const s = sumsOf(rows, idx);
  return { nll: meanNll(s), ece: ece(s), acc: s.correct / s.n };
}

/** Per resample, per set, the image indices drawn with replacement (the same draw for every comparison). */
function drawResamples(sets: readonly SetInfo[], counts: Record<string, number>): Record<string, Uint32Array>[] {
  const random = seededRandom(SEED);
  return Array.from({ length: RESAMPLES }, () =>
    Object.fromEntries(
      sets.map((s) => {
        const n = counts[s.id]!;
        const idx = new Uint32Array(n);
        for (let i = 0; i < n; i++) idx[i] = Math.floor(random() * n);
        return [s.id, idx];
      }),
    ),
  );
}

/** The 2.5th and 97.5th percentiles of `values`. */
function interval(values: number[]): [number, number] {
  const v = [...values].sort((a, b) => a - b);
  return [v[Math.floor(0.025 * v.length)]!, v[Math.ceil(0.975 * v.length) - 1]!];
}

const sign = (x: number, digits: number) => `${x < 0 ? '\u2212' : '+'}${Math.abs(x).toFixed(digits)}`;
const withInterval = (d: number, [lo, hi]: [number, number], digits: number) =>
  `${sign(d, digits)} [${sign(lo, digits)}, ${sign(hi, digits)}]${lo > 0 || hi < 0 ? '' : ' (contains 0)'}`;

interface Diff {
  label: string;
  nll: number;
  ece: number;
  nllCi: [number, number];
  eceCi: [number, number];
}

/** a − b per set and for the mean of the shifts, NLL and ECE (points), each with its bootstrap interval. */
function compare(sets: readonly SetInfo[], a: Condition, b: Condition, draws: Record<string, Uint32Array>[]): Diff[] {
  const shifts = sets.filter((s) => s.role === 'shift');
  const point = (s: SetInfo, idx: ArrayLike<number> | null) => {
    const [x, y] = [stats(a[s.id]!, idx), stats(b[s.id]!, idx)];
    return { nll: x.nll - y.nll, ece: 100 * (x.ece - y.ece) };
  };
  const boot = Object.fromEntries(sets.map((s) => [s.id, draws.map((d) => point(s, d[s.id]!))]));
  const meanOf = (f: (s: SetInfo) => { nll: number; ece: number }) => {
    const ds = shifts.map(f);
    return { nll: ds.reduce((t, d) => t + d.nll, 0) / ds.length, ece: ds.reduce((t, d) => t + d.ece, 0) / ds.length };
  };
  const row = (label: string, p: { nll: number; ece: number }, rs: { nll: number; ece: number }[]): Diff => ({
    label,
    ...p,
    nllCi: interval(rs.map((r) => r.nll)),
    eceCi: interval(rs.map((r) => r.ece)),
  });
  const rows = sets.map((s) => row(s.id, point(s, null), boot[s.id]!));
  const shiftBoot = draws.map((_, r) => meanOf((s) => boot[s.id]![r]!));
  return [
    ...rows,
    row(
      'mean of shifts',
      meanOf((s) => point(s, null)),
      shiftBoot,
    ),
  ];
}

function printDiff(title: string, diffs: Diff[]): void {
  console.log(`\n${title}  (ΔNLL; ΔECE in points; paired bootstrap 95%)`);
  for (const d of diffs)
    console.log(`  ${d.label.padEnd(15)} NLL ${withInterval(d.nll, d.nllCi, 3)}   ECE ${withInterval(d.ece, d.eceCi, 1)}`);
}

/** One line per set and the mean of the shifts: NLL, ECE (%), accuracy (%). */
function printLevels(title: string, sets: readonly SetInfo[], c: Condition): void {
  const shifts = sets.filter((s) => s.role === 'shift');
  const all = Object.fromEntries(sets.map((s) => [s.id, stats(c[s.id]!, null)]));
  const m = (k: 'nll' | 'ece' | 'acc') => shifts.reduce((t, s) => t + all[s.id]![k], 0) / shifts.length;
  const cells = sets.map((s) => `${s.id} ${all[s.id]!.nll.toFixed(3)} / ${(100 * all[s.id]!.ece).toFixed(1)}%`);
  console.log(`${title.padEnd(22)} ${cells.join(', ')}; mean of shifts ${m('nll').toFixed(3)} / ${(100 * m('ece')).toFixed(1)}%`);
  console.log(`${''.padEnd(22)} accuracy: ${sets.map((s) => `${s.id} ${(100 * all[s.id]!.acc).toFixed(1)}%`).join(', ')}`);
}

/** Each set's logits at α, run afresh by the engine (Explorer.evalLogits). */
async function weightLogits(explorer: Explorer, sets: readonly SetInfo[], alpha: number): Promise<Record<string, Logits>> {
  const out: Record<string, Logits> = {};
  for (const s of sets) out[s.id] = await explorer.evalLogits(alpha, s.id);
  return out;
}

function outputLogits(l0: Record<string, Logits>, l1: Record<string, Logits>, alpha: number): Record<string, Logits> {
  return Object.fromEntries(Object.entries(l0).map(([id, l]) => [id, { ...l, logits: mixLogits(l.logits, l1[id]!.logits, alpha) }]));
}

/** The T fitted on the reference set's logits (the app's fit), and each set's outcomes before and after it. */
function scored(logits: Record<string, Logits>, reference: string): { T: number; before: Condition; after: Condition } {
  const r = logits[reference]!;
  const T = fitTemperature(r.logits, r.labels, r.labels.length, r.classes, r.classSubset).temperature;
  const of = (t: number) => Object.fromEntries(Object.entries(logits).map(([id, l]) => [id, outcomes(l, t)]));
  return { T, before: of(1), after: of(T) };
}

type Scored = ReturnType<typeof scored>;

/** The largest gap between this script's NLL/ECE/T and the engine's own report over the same α and sets. */
function checkAgainstEngine(report: CalibrationReport, scoredReport: CalibrationReport, mine: Record<string, Scored>): string {
  let gap = 0;
  for (const [key, s] of Object.entries(mine)) {
    const [space, a] = key.split(':') as ['w' | 'o', string];
    const at = (r: CalibrationReport) => (space === 'w' ? r.weight : r.output);
    gap = Math.max(gap, Math.abs(at(scoredReport).temperatures[a]!.value - s.T));
    for (const [r, c] of [
      [report, s.before],
      [scoredReport, s.after],
    ] as const)
      for (const [id, rows] of Object.entries(c)) {
        const e = at(r).points[a]![id]!;
        const m = stats(rows, null);
        gap = Math.max(gap, Math.abs(e.nll - m.nll), Math.abs(e.ece - m.ece));
      }
  }
  return gap.toExponential(1);
}

async function main(): Promise<void> {
  const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  const member = ARGS.member;
  await explorer.loadPair(await loadBundle(dirSource(join(ROOT, 'public/pairs/shapes')), undefined, { member }));
  const pair = explorer.current!;
  const sets: SetInfo[] = pair.sets.map((s) => ({ id: s.id, role: s.role }));
  const reference = sets.find((s) => s.role === 'reference')!.id;
  // A member without a recommendation (the linear one) is measured at 0.7, the end-to-end members' α.
  const recommendation = pair.members.find((m) => m.id === pair.member)?.recommendedAlpha?.alpha ?? null;
  const recommended = recommendation ?? 0.7;
  const weightAlphas = [...new Set([0, 0.5, recommended, 1])].sort((a, b) => a - b);
  const outputAlphas = [...new Set([0.5, recommended])];
  await explorer.evaluate(weightAlphas, null, () => undefined);
  const logits: Record<string, Record<string, Logits>> = {};
  for (const a of weightAlphas) logits[a] = await weightLogits(explorer, sets, a);
  const mine: Record<string, Scored> = {};
  for (const a of weightAlphas) mine[`w:${a}`] = scored(logits[a]!, reference);
  for (const a of outputAlphas) mine[`o:${a}`] = scored(outputLogits(logits[0]!, logits[1]!, a), reference);
  const report = (temperature: boolean) => explorer.calibration({ alpha: recommended, grid: weightAlphas, temperature });
  const counts = Object.fromEntries(sets.map((s) => [s.id, mine['w:0']!.before[s.id]!.length]));
  console.log(
    `member ${pair.member}, images per set: ${sets.map((s) => `${s.id} ${counts[s.id]}`).join(', ')}; ` +
      `${RESAMPLES} resamples, seed ${SEED}; recommended α ${recommendation ?? 'none (0.7 measured)'}; load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  console.log(`engine's report vs this script: largest gap in NLL/ECE/T ${checkAgainstEngine(report(false), report(true), mine)}`);
  printAll(sets, mine, drawResamples(sets, counts), weightAlphas, outputAlphas);
  await explorer.dispose();
}

function printAll(
  sets: readonly SetInfo[],
  mine: Record<string, Scored>,
  draws: Record<string, Uint32Array>[],
  weightAlphas: number[],
  outputAlphas: number[],
): void {
  const name = (k: string) => (k.startsWith('w:') ? `weight α=${k.slice(2)}` : `output α=${k.slice(2)}`);
  console.log('\nLevels (NLL / ECE per set; T = 1, then after the T fitted on the reference set at that α)');
  for (const [k, s] of Object.entries(mine)) {
    printLevels(name(k), sets, s.before);
    printLevels(`  after T = ${s.T.toFixed(3)}`, sets, s.after);
  }
  const [zs, ft] = [mine['w:0']!.before, mine['w:1']!.before];
  printDiff('fine-tuned − zero-shot', compare(sets, ft, zs, draws));
  for (const a of weightAlphas.filter((x) => x > 0 && x < 1)) {
    printDiff(`weight α=${a} − zero-shot`, compare(sets, mine[`w:${a}`]!.before, zs, draws));
    printDiff(`weight α=${a} − fine-tuned`, compare(sets, mine[`w:${a}`]!.before, ft, draws));
  }
  for (const a of outputAlphas) {
    printDiff(`output α=${a} − zero-shot`, compare(sets, mine[`o:${a}`]!.before, zs, draws));
    printDiff(`output α=${a} − fine-tuned`, compare(sets, mine[`o:${a}`]!.before, ft, draws));
    printDiff(`output α=${a} − weight α=${a}`, compare(sets, mine[`o:${a}`]!.before, mine[`w:${a}`]!.before, draws));
  }
  for (const [k, s] of Object.entries(mine))
    printDiff(`${name(k)}: after T = ${s.T.toFixed(3)} − before`, compare(sets, s.after, s.before, draws));
}

await main();
