// What flips between the endpoints, and what the current α does with it: each image computed at
// α = 0, α = 1 and the current α falls in one of four groups by the endpoints' verdicts (right at
// zero-shot only, at fine-tuned only, at both, at neither), and each group splits by the verdict at α.
// WiSE-FT's promise is in the first two rows: an α between keeps much of what either end got right.
import type { SetAccuracy } from '../core/eval/frontier';
import type { ImageCorrectness } from '../core/eval/stats';
import { own } from '../core/eval/ids';
import { alphaKey, type FrontierPoints, type PairSummary, type SetSummary } from '../worker/protocol';

/** Image i's bit in one of ImageCorrectness's bitsets. */
export function imageBit(bits: Uint8Array, i: number): boolean {
  return (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) === 1;
}

/** Images of one group, how many of them the current α gets right, and a few of each kind. */
export interface FlipGroup {
  count: number;
  rightNow: number;
  /** Image indices, spread over the group: right at the current α, and wrong at it. */
  samplesRight: number[];
  samplesWrong: number[];
}

export interface SetFlips {
  /** Images computed at α = 0, α = 1 and the current α: what every count rests on. */
  n: number;
  total: number;
  /** Right at zero-shot, wrong at fine-tuned: what fine-tuning broke. */
  zeroShotOnly: FlipGroup;
  /** Wrong at zero-shot, right at fine-tuned: what fine-tuning fixed. */
  fineTunedOnly: FlipGroup;
  bothRight: FlipGroup;
  bothWrong: FlipGroup;
}

/** `k` elements of `list` evenly spread over it (all of them when it has no more than k). */
export function spread(list: readonly number[], k: number): number[] {
  if (list.length <= k) return [...list];
  return Array.from({ length: k }, (_, j) => list[Math.floor(((j + 0.5) * list.length) / k)]!);
}

function group(right: number[], wrong: number[], samples: number): FlipGroup {
  return {
    count: right.length + wrong.length,
    rightNow: right.length,
    samplesRight: spread(right, samples),
    samplesWrong: spread(wrong, samples),
  };
}

/** The four groups over the images of a set of `total` computed at all three α. */
export function setFlips(
  zeroShot: ImageCorrectness,
  fineTuned: ImageCorrectness,
  now: ImageCorrectness,
  total: number,
  samples = 4,
): SetFlips {
  // [zero-shot right][fine-tuned right][right now] → image indices.
  const groups = [0, 1, 2, 3].map(() => [[], []] as [number[], number[]]);
  let n = 0;
  for (let i = 0; i < total; i++) {
    if (!imageBit(zeroShot.seen, i) || !imageBit(fineTuned.seen, i) || !imageBit(now.seen, i)) continue;
    n++;
    const g = (imageBit(zeroShot.correct, i) ? 2 : 0) + (imageBit(fineTuned.correct, i) ? 1 : 0);
    groups[g]![imageBit(now.correct, i) ? 1 : 0].push(i);
  }
  const of = (g: number) => group(groups[g]![1], groups[g]![0], samples);
  return { n, total, zeroShotOnly: of(2), fineTunedOnly: of(1), bothRight: of(3), bothWrong: of(0) };
}

export interface FlipsRow {
  set: SetSummary;
  /** Null until the set has per-image results at α = 0, α = 1 and the current α. */
  flips: SetFlips | null;
}

function flipsOf(zeroShot?: SetAccuracy, fineTuned?: SetAccuracy, now?: SetAccuracy): SetFlips | null {
  if (!zeroShot?.images || !fineTuned?.images || !now?.images) return null;
  const f = setFlips(zeroShot.images, fineTuned.images, now.images, now.total);
  return f.n > 0 ? f : null;
}

/** Every set's flips at α. */
export function flipsTable(pair: PairSummary, points: FrontierPoints, alpha: number): FlipsRow[] {
  const at = (a: number) => own(points, alphaKey(a)) ?? {};
  const [zeroShot, fineTuned, now] = [at(0), at(1), at(alpha)];
  return pair.sets.map((set) => ({ set, flips: flipsOf(own(zeroShot, set.id), own(fineTuned, set.id), own(now, set.id)) }));
}

const GROUP_NAMES = ['zeroShotOnly', 'fineTunedOnly', 'bothRight', 'bothWrong'] as const;

/**
 * The shift sets' flips added up, each image counted in its own set (no thumbnails: a sample belongs
 * to one set); null until every shift set has flips.
 */
export function shiftsFlips(rows: readonly FlipsRow[]): SetFlips | null {
  const shifts = rows.filter((r) => r.set.role === 'shift');
  if (shifts.length === 0 || shifts.some((r) => !r.flips)) return null;
  const empty = (): FlipGroup => ({ count: 0, rightNow: 0, samplesRight: [], samplesWrong: [] });
  const sum: SetFlips = { n: 0, total: 0, zeroShotOnly: empty(), fineTunedOnly: empty(), bothRight: empty(), bothWrong: empty() };
  for (const { flips } of shifts) {
    sum.n += flips!.n;
    sum.total += flips!.total;
    for (const g of GROUP_NAMES) {
      sum[g].count += flips![g].count;
      sum[g].rightNow += flips![g].rightNow;
    }
  }
  return sum;
}

/** Right at the current α, over the images the flips rest on: the sum of the groups' rightNow. */
export function rightNow(f: SetFlips): number {
  return f.zeroShotOnly.rightNow + f.fineTunedOnly.rightNow + f.bothRight.rightNow + f.bothWrong.rightNow;
}
