// `npx tsx bench/flips.ts [--alpha A] [--member ID] [--set ID]`: the numbers behind the README's "What
// to notice (the screenshot: the shipped pair at α = 0.50 …)" paragraph in the "eval sets and what
// flips" bullet, computed on the bundled pair in Node with the page's own derivations
// (state/flips.ts, state/perClass.ts, state/table.ts): every set's four flip groups at α (right at
// zero-shot only, fine-tuned only, both, neither) and how many of each α gets right, the five shifts
// added up, the right counts at α and both endpoints with α's paired 95% intervals against each, and
// per-class right counts on one set (default `sketch`) at zero-shot, α and fine-tuned.
// The default α, 0.5, is the one tests/browser/flips.browser.test.ts screenshots.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Explorer } from '../src/core/explorer';
import { loadBundle } from '../src/core/bundle/source';
import { dirSource } from '../src/node/dirSource';
import { ortNode } from '../src/core/runtime/ort-node';
import { flipsTable, shiftsFlips, rightNow, type SetFlips } from '../src/state/flips';
import { perClassTable, type ClassRow } from '../src/state/perClass';
import { pairedDelta, meanPairedDelta, signedPoints, type Delta } from '../src/state/table';
import { shiftSets } from '../src/state/frontier';
import type { PairSummary, ResultsKey, FrontierPoints } from '../src/worker/protocol';
import { scriptArgs } from './args';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARGS = scriptArgs(
  'npx tsx bench/flips.ts [--alpha A] [--member ID] [--set ID]\n' +
    '  What flips on the bundled pair (every image): the four groups at α (default 0.5) per set and over the shifts,\n' +
    '  right counts with paired intervals, and per-class right counts on one set (default sketch; member e2e-seed0).',
  { alpha: 0.5, member: 'e2e-seed0', set: 'sketch' },
);
const ALPHA = ARGS.alpha;
const SET = ARGS.set;
/** The classes the world names rarely in its captions: what fine-tuning on labelled photos was meant to repair. */
const RARE_NAMED = ['star', 'cross', 'heart', 'arrow', 'moon'];

const d = (x: Delta | null) => (x ? `${signedPoints(x.diff)} pp [${signedPoints(x.lo, true)}, ${signedPoints(x.hi, true)}]` : '—');

function flipLine(name: string, f: SetFlips): string {
  const g = (label: string, x: SetFlips['zeroShotOnly']) => `${label} ${x.rightNow} of ${x.count}`;
  const zs = f.zeroShotOnly.count + f.bothRight.count;
  const ft = f.fineTunedOnly.count + f.bothRight.count;
  return (
    `${name.padEnd(15)} n ${f.n}: ${g('zero-shot only (broken)', f.zeroShotOnly)}, ${g('fine-tuned only (fixed)', f.fineTunedOnly)}, ` +
    `${g('both', f.bothRight)}, ${g('neither', f.bothWrong)}; right: α ${rightNow(f)}, zero-shot ${zs}, fine-tuned ${ft}`
  );
}

function printFlips(pair: PairSummary, points: FrontierPoints): void {
  console.log(`\nWhat flips at α = ${ALPHA} ("k of m": of the m images in the group, α gets k right)`);
  const rows = flipsTable(pair, points, ALPHA);
  for (const r of rows) console.log(flipLine(r.set.id, r.flips!));
  console.log(flipLine('five shifts', shiftsFlips(rows)!));
  const at = (a: number) => points[String(a)]!;
  console.log(`\nα = ${ALPHA} − zero-shot / α = ${ALPHA} − fine-tuned / fine-tuned − zero-shot (accuracy, paired 95% intervals)`);
  const line = (now: number, base: number, id: string) => d(pairedDelta(at(now)[id], at(base)[id]));
  for (const s of pair.sets) console.log(`${s.id.padEnd(15)} ${line(ALPHA, 0, s.id)} / ${line(ALPHA, 1, s.id)} / ${line(1, 0, s.id)}`);
  const of = (a: number) => shiftSets(pair).map((s) => at(a)[s.id]);
  const mean = (now: number, base: number) => d(meanPairedDelta(of(now), of(base)));
  console.log(`${'mean of shifts'.padEnd(15)} ${mean(ALPHA, 0)} / ${mean(ALPHA, 1)} / ${mean(1, 0)}`);
}

function printPerClass(rows: ClassRow[]): void {
  const count = (c: ClassRow['now']) => (c ? `${c.correct}` : '—');
  const loss = (r: ClassRow) => (r.zeroShot?.correct ?? 0) - (r.fineTuned?.correct ?? 0);
  console.log(`\nPer class on ${SET}, right at zero-shot → α = ${ALPHA} → fine-tuned, of the class's images; largest loss first`);
  for (const r of [...rows].sort((a, b) => loss(b) - loss(a))) {
    const tag = RARE_NAMED.includes(r.name) ? '  (rare-named)' : '';
    console.log(`${r.name.padEnd(11)} ${count(r.zeroShot)} → ${count(r.now)} → ${count(r.fineTuned)} of ${r.total}${tag}`);
  }
}

async function main(): Promise<void> {
  const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  const member = ARGS.member;
  await explorer.loadPair(await loadBundle(dirSource(join(ROOT, 'public/pairs/shapes')), undefined, { member }));
  const pair: PairSummary = { ...explorer.current!, resultsKey: explorer.current!.resultsKey as ResultsKey, trainedHere: [] };
  await explorer.evaluate([0, ALPHA, 1], null, () => undefined);
  const points = explorer.snapshot()!.points as FrontierPoints;
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`member ${pair.member}, every image (${pair.sets.map((s) => `${s.id} ${s.count}`).join(', ')}); load ${load}`);
  printFlips(pair, points);
  const labels = explorer.evalLabels();
  const rows = perClassTable(pair, points, ALPHA, { resultsKey: labels.resultsKey as ResultsKey, sets: labels.sets }, SET);
  if (!rows) throw new Error(`no labels for set '${SET}'`);
  printPerClass(rows);
  await explorer.dispose();
}

await main();
