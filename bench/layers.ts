// `npx tsx bench/layers.ts [--images N] [--member ID]`: the numbers behind the README's per-layer α
// paragraph, computed on the bundled pair in Node: the sensitivity strip on N images per set (default:
// every image), the LiNeS ramp and its reverse, and α = −0.5 and 1.5, each as reference / mean of
// shifts with paired 95% intervals (the app's statistics, state/table.ts).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Explorer } from '../src/core/explorer';
import { loadBundle } from '../src/core/bundle/source';
import { dirSource } from '../src/node/dirSource';
import { ortNode } from '../src/core/runtime/ort-node';
import { settingKey } from '../src/core/eval/ids';
import type { SetAccuracy } from '../src/core/eval/frontier';
import { sensitivitySettings, sensitivityRows, presetAlphas, settingEstimates, DEFAULT_LINES } from '../src/state/layerAlpha';
import { pairedDelta, meanPairedDelta, signedPoints, type Delta } from '../src/state/table';
import { shiftSets, referenceSet } from '../src/state/frontier';
import type { PairSummary, ResultsKey } from '../src/worker/protocol';
import { scriptArgs } from './args';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARGS = scriptArgs(
  'npx tsx bench/layers.ts [--images N] [--member ID]\n  Per-layer α on the bundled pair: the sensitivity strip, LiNeS, extrapolation.',
  { images: 100_000, member: null as string | null },
);
const images = ARGS.images;

const d = (x: Delta | null) => (x ? `${signedPoints(x.diff)} [${signedPoints(x.lo, true)}, ${signedPoints(x.hi, true)}]` : '—');

function versus(pair: PairSummary, now: Record<string, SetAccuracy>, base: Record<string, SetAccuracy>): string {
  const ref = referenceSet(pair)!;
  const shifts = shiftSets(pair);
  const shift = meanPairedDelta(
    shifts.map((s) => now[s.id]),
    shifts.map((s) => base[s.id]),
  );
  return `reference ${d(pairedDelta(now[ref.id], base[ref.id]))}, mean of shifts ${d(shift)}`;
}

async function main(): Promise<void> {
  const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  const member = ARGS.member;
  await explorer.loadPair(await loadBundle(dirSource(join(ROOT, 'public/pairs/shapes')), undefined, member ? { member } : {}));
  const pair = { ...explorer.current!, resultsKey: explorer.current!.resultsKey as ResultsKey, trainedHere: [] };
  // The ramps are compared with the α the bundle recommends (chosen on validation), not one picked here.
  const uniform = pair.members.find((m) => m.id === pair.member)?.recommendedAlpha?.alpha ?? 0.5;
  await explorer.evaluate([-0.5, 0, uniform, 1, 1.5], null, () => undefined);
  const points = explorer.snapshot()!.points;
  const L = pair.layers.length;
  const lines = presetAlphas('lines', L, uniform, DEFAULT_LINES, false);
  const reverse = presetAlphas('lines-reverse', L, uniform, DEFAULT_LINES, false);
  const strip = sensitivitySettings(L).flatMap(({ reset, only }) => [reset, only]);
  const layerPoints: Record<string, Record<string, SetAccuracy>> = {};
  // Each update carries the setting's whole point so far: the last one per setting is its result.
  await explorer.evaluateLayers([...strip, lines, reverse], images, (u) => (layerPoints[u.settingKey] = u.point));
  console.log(`member ${pair.member}, ${Math.min(images, 1000)} images per set; Δ in pp, paired 95% intervals\n`);
  console.log('| group | (a) reset, Δ reference | (a) reset, Δ shift | (b) only, Δ reference | (b) only, Δ shift |\n|---|---|---|---|---|');
  for (const r of sensitivityRows(pair, layerPoints, points))
    console.log(`| ${r.group} | ${d(r.reset.reference)} | ${d(r.reset.shift)} | ${d(r.only.reference)} | ${d(r.only.shift)} |`);
  for (const [name, alphas] of [
    ['LiNeS ramp', lines],
    ['reverse ramp', reverse],
  ] as const) {
    const e = settingEstimates(pair, layerPoints[settingKey(pair.resultsKey, alphas)]);
    console.log(
      `\n${name} [${alphas.join(', ')}]: ${(100 * e.reference!.value).toFixed(1)} / ${(100 * e.shift!.value).toFixed(1)}; vs α = ${uniform}: ${versus(pair, layerPoints[settingKey(pair.resultsKey, alphas)]!, points[String(uniform)]!)}`,
    );
  }
  for (const a of ['-0.5', '1.5']) {
    const e = settingEstimates(pair, points[a]);
    const base = a === '-0.5' ? '0' : '1';
    console.log(
      `\nα = ${a}: ${(100 * e.reference!.value).toFixed(1)} / ${(100 * e.shift!.value).toFixed(1)}; vs α = ${base}: ${versus(pair, points[a]!, points[base]!)}`,
    );
  }
  await explorer.dispose();
}

await main();
