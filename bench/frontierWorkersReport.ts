// The `--only-frontier-workers` section of docs/benchmarks.md (bench/frontierEngines.ts makes the
// numbers in the page); apart from the bench itself so that rendering loads no browser.
import type { LiveFrontierRun } from './frontierEngines';

export interface FrontierWorkersRound extends LiveFrontierRun {
  round: number;
  /** Load average (1/5/15 min) before and after this case. */
  load: { before: number[]; after: number[] };
}

export interface FrontierWorkersReport {
  date: string;
  /** Frontier engines the app uses by default on this machine (eval/lanes.ts laneCount): 1, or the lanes'. */
  defaultEngines: number;
  rounds: FrontierWorkersRound[];
}

const s = (x: number) => (x < 0 ? 'never' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');

function row(r: FrontierWorkersRound): string {
  const perS = Math.round(r.images / (r.liveFrontierMs / 1000));
  return (
    `| ${r.round} | ${r.engines} | ${s(r.firstEstimateMs)} | ${s(r.coarseMs)}: ${verdict(r.coarseMs >= 0 && r.coarseMs <= 8000)} | ` +
    `${s(r.liveFrontierMs)} (${perS.toLocaleString('en')} images/s): ${verdict(r.liveFrontierMs <= 60_000)} | ${s(r.newAlphaFirstEstimateMs)} | ` +
    `${s(r.loadPairMs)} | ${la(r.load.before)} → ${la(r.load.after)} |`
  );
}

export function frontierWorkersSection(x: FrontierWorkersReport | undefined): string[] {
  if (!x) return [];
  const images = x.rounds[0]?.images ?? 0;
  return [
    '## Live frontier on 1 and 2 engines (bundled pair, page wasm; issue 15, item 1)',
    '',
    `Measured by \`npm run bench -- --only-frontier-workers --frontier-rounds=${Math.max(...x.rounds.map((r) => r.round))}\` on ${x.date}: the engine Worker in headless Chromium, as the app runs it minus the UI (events counted, not drawn), on 1 engine (the Worker alone) and on 2 helper engines (single-threaded lanes, core/eval/lanes.ts), the order alternating by round. Every time is from \`evaluate\` (the pair loaded, a job for the 11 grid α with the current α 0.5): the current α's first estimate (its first event), the 11 coarse points (every grid α with a point on ≥ 100 images of every set), the whole frontier (${images.toLocaleString('en')} images); then a new α off the grid with the frontier done (its first event). On 2 shared cores, one run: read each row with its load. The app's default here: ${x.defaultEngines === 1 ? '1 engine' : `${x.defaultEngines} lanes`}.`,
    '',
    '| Round | Engines | First estimate of the current α | 11 coarse points (≤ 8 s) | Live frontier (≤ 60 s) | A new α afterwards | Pair load | Load average before → after |',
    '|---|---|---|---|---|---|---|---|',
    ...x.rounds.map(row),
    '',
  ];
}
