// The flips view and the per-class table count images from the engine's per-image bitsets. Each
// claim is checked against a naive count over plain booleans, the bitsets never read back.
import { describe, it, expect } from 'vitest';
import { flipsTable, setFlips, shiftsFlips, spread, rightNow, type FlipGroup } from '../../../src/state/flips';
import { classCounts, perClassTable } from '../../../src/state/perClass';
import { lessonSetId, stripIndices } from '../../../src/state/lesson';
import { accuracyTable } from '../../../src/state/table';
import { emptyCorrectness, markImages, type ImageCorrectness } from '../../../src/core/eval/stats';
import { fakePair } from '../../support/fakeEngine';
import type { EvalLabels, FrontierPoints, ResultsKey, SetAccuracy } from '../../../src/worker/protocol';

/** A fixed LCG, so a failure reproduces. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

interface Truth {
  seen: boolean[];
  right: boolean[];
}

/** `total` images in chunks of 10, each chunk computed with probability pSeen; right with pRight. */
function truth(rand: () => number, total: number, pSeen: number, pRight: number): Truth {
  const seen: boolean[] = [];
  const right: boolean[] = [];
  for (let c = 0; c < total; c += 10) {
    const s = rand() < pSeen;
    for (let i = c; i < Math.min(total, c + 10); i++) {
      seen.push(s);
      right.push(s && rand() < pRight);
    }
  }
  return { seen, right };
}

function bitsOf(t: Truth): ImageCorrectness {
  const bits = emptyCorrectness(t.seen.length);
  t.seen.forEach((s, i) => {
    if (s) markImages(bits, i, [t.right[i] ? 1 : 0]);
  });
  return bits;
}

const accFrom = (t: Truth): SetAccuracy => ({
  correct: t.right.filter(Boolean).length,
  n: t.seen.filter(Boolean).length,
  total: t.seen.length,
  images: bitsOf(t),
});

/** The naive group: indices seen at all three whose endpoint verdicts are (zs, ft). */
function naiveGroup(z: Truth, f: Truth, a: Truth, zs: boolean, ft: boolean) {
  const all = z.seen.map((_, i) => i).filter((i) => z.seen[i] && f.seen[i] && a.seen[i] && z.right[i] === zs && f.right[i] === ft);
  return { all, right: all.filter((i) => a.right[i]), wrong: all.filter((i) => !a.right[i]) };
}

function expectGroup(g: FlipGroup, naive: ReturnType<typeof naiveGroup>): void {
  expect(g.count).toBe(naive.all.length);
  expect(g.rightNow).toBe(naive.right.length);
  for (const i of g.samplesRight) expect(naive.right).toContain(i);
  for (const i of g.samplesWrong) expect(naive.wrong).toContain(i);
  expect(g.samplesRight).toHaveLength(Math.min(4, naive.right.length));
  expect(g.samplesWrong).toHaveLength(Math.min(4, naive.wrong.length));
}

describe('what flips between the endpoints, at α', () => {
  it('groups equal a naive count over booleans, on random sets with partly computed α', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = random(seed);
      const total = 203 + seed * 37;
      const [z, f, a] = [truth(rand, total, 0.9, 0.6), truth(rand, total, 0.8, 0.75), truth(rand, total, 0.7, 0.7)];
      const got = setFlips(bitsOf(z), bitsOf(f), bitsOf(a), total);
      expect(got.n).toBe(z.seen.filter((_, i) => z.seen[i] && f.seen[i] && a.seen[i]).length);
      expectGroup(got.zeroShotOnly, naiveGroup(z, f, a, true, false));
      expectGroup(got.fineTunedOnly, naiveGroup(z, f, a, false, true));
      expectGroup(got.bothRight, naiveGroup(z, f, a, true, true));
      expectGroup(got.bothWrong, naiveGroup(z, f, a, false, false));
    }
  });

  it('on fully computed sets agree with the accuracy table: rightNow is α’s count, and the flips give both paired deltas', () => {
    const rand = random(9);
    const pair = fakePair();
    const sets = { reference: 200, shift: 100 };
    const points: FrontierPoints = { '0': {}, '1': {}, '0.4': {} };
    for (const [id, total] of Object.entries(sets)) {
      points['0']![id] = accFrom(truth(rand, total, 1, 0.6));
      points['1']![id] = accFrom(truth(rand, total, 1, 0.8));
      points['0.4']![id] = accFrom(truth(rand, total, 1, 0.75));
    }
    const table = accuracyTable(pair, points, 0.4);
    for (const row of flipsTable(pair, points, 0.4)) {
      const f = row.flips!;
      const t = table.rows.find((r) => r.set.id === row.set.id)!;
      expect(f.n).toBe(t.now!.n);
      expect(rightNow(f)).toBe(points['0.4']![row.set.id]!.correct);
      // α − zero-shot: gained where zero-shot was wrong, lost where it was right.
      const vsZeroShot =
        f.fineTunedOnly.rightNow +
        f.bothWrong.rightNow -
        (f.zeroShotOnly.count - f.zeroShotOnly.rightNow) -
        (f.bothRight.count - f.bothRight.rightNow);
      expect(vsZeroShot / f.n).toBeCloseTo(t.vsZeroShot!.diff, 12);
      const vsFineTuned =
        f.zeroShotOnly.rightNow +
        f.bothWrong.rightNow -
        (f.fineTunedOnly.count - f.fineTunedOnly.rightNow) -
        (f.bothRight.count - f.bothRight.rightNow);
      expect(vsFineTuned / f.n).toBeCloseTo(t.vsFineTuned!.diff, 12);
    }
  });

  it('is null for a set until α = 0, α = 1 and the current α all have per-image results', () => {
    const pair = fakePair();
    const some = accFrom({ seen: [true, true], right: [true, false] });
    const rows = flipsTable(pair, { '0': { shift: some }, '1': { shift: some }, '0.5': { reference: some } }, 0.5);
    expect(rows.map((r) => r.flips)).toEqual([null, null]);
  });

  it('adds up the shift sets (not the reference) for the all-shifts row, null until every shift set has flips', () => {
    const rand = random(21);
    const pair = fakePair({
      sets: [
        { id: 'reference', name: 'reference', role: 'reference', analogue: null, description: '', count: 50, classSubset: null },
        { id: 's1', name: 's1', role: 'shift', analogue: null, description: '', count: 60, classSubset: null },
        { id: 's2', name: 's2', role: 'shift', analogue: null, description: '', count: 70, classSubset: null },
      ],
    });
    const truths: Record<string, Truth[]> = {};
    const points: FrontierPoints = { '0': {}, '1': {}, '0.2': {} };
    for (const set of pair.sets) {
      truths[set.id] = ['0', '1', '0.2'].map(() => truth(rand, set.count, 0.8, 0.6));
      ['0', '1', '0.2'].forEach((a, k) => (points[a]![set.id] = accFrom(truths[set.id]![k]!)));
    }
    const sum = shiftsFlips(flipsTable(pair, points, 0.2))!;
    const naive = (zs: boolean, ft: boolean) => ['s1', 's2'].map((id) => naiveGroup(...(truths[id] as [Truth, Truth, Truth]), zs, ft));
    const count = (zs: boolean, ft: boolean) => naive(zs, ft).reduce((x, g) => x + g.all.length, 0);
    const right = (zs: boolean, ft: boolean) => naive(zs, ft).reduce((x, g) => x + g.right.length, 0);
    expect([sum.zeroShotOnly.count, sum.fineTunedOnly.count, sum.bothRight.count, sum.bothWrong.count]).toEqual([
      count(true, false),
      count(false, true),
      count(true, true),
      count(false, false),
    ]);
    expect([sum.zeroShotOnly.rightNow, sum.fineTunedOnly.rightNow, sum.bothRight.rightNow, sum.bothWrong.rightNow]).toEqual([
      right(true, false),
      right(false, true),
      right(true, true),
      right(false, false),
    ]);
    expect(sum.total).toBe(130);
    delete points['1']!.s2;
    expect(shiftsFlips(flipsTable(pair, points, 0.2))).toBeNull();
  });

  it('spreads its samples over the group instead of taking the first few', () => {
    expect(spread([0, 1, 2, 3, 4, 5, 6, 7], 4)).toEqual([1, 3, 5, 7]);
    expect(spread([5, 9], 4)).toEqual([5, 9]);
  });
});

describe('per-class accuracy', () => {
  it('counts each class over its computed images, equal to a naive count', () => {
    const rand = random(11);
    const t = truth(rand, 157, 0.6, 0.5);
    const labels = Int32Array.from({ length: 157 }, () => Math.floor(rand() * 4));
    const got = classCounts(bitsOf(t), labels, 5);
    for (let c = 0; c < 5; c++) {
      const mine = labels.reduce<number[]>((l, x, i) => (x === c && t.seen[i] ? [...l, i] : l), []);
      expect(got[c]).toEqual({ correct: mine.filter((i) => t.right[i]).length, n: mine.length });
    }
    expect(got[4]).toEqual({ correct: 0, n: 0 });
  });

  it('gives rows for the classes the set has, at α and both endpoints, only with labels under the pair’s results key', () => {
    const pair = fakePair({ classes: ['a', 'b', 'c'] });
    const right = (pattern: boolean[]) => accFrom({ seen: pattern.map(() => true), right: pattern });
    const points: FrontierPoints = {
      '0': { shift: right([true, false, true, false]) },
      '1': { shift: right([false, true, true, true]) },
      '0.3': { shift: right([true, true, false, true]) },
    };
    const labels: EvalLabels = { resultsKey: pair.resultsKey, sets: { shift: Int32Array.from([0, 0, 2, 2]) } };
    const rows = perClassTable(pair, points, 0.3, labels, 'shift')!;
    expect(rows.map((r) => [r.name, r.total, r.now, r.zeroShot, r.fineTuned])).toEqual([
      ['a', 2, { correct: 2, n: 2 }, { correct: 1, n: 2 }, { correct: 1, n: 2 }],
      ['c', 2, { correct: 1, n: 2 }, { correct: 1, n: 2 }, { correct: 2, n: 2 }],
    ]);
    expect(perClassTable(pair, points, 0.3, { ...labels, resultsKey: 'other' as ResultsKey }, 'shift')).toBeNull();
    expect(perClassTable(pair, points, 0.7, labels, 'shift')!.map((r) => r.now)).toEqual([null, null]);
  });
});

describe('the lesson’s set and strips', () => {
  const pair = fakePair();
  it('shows the set picked, else the chart’s shift, else the first shift set', () => {
    expect(lessonSetId(pair, 'reference', 'shift')).toBe('reference');
    expect(lessonSetId(pair, null, 'shift')).toBe('shift');
    expect(lessonSetId(pair, 'gone', 'mean')).toBe('shift');
  });
  it('spreads a strip’s images over the set', () => {
    expect(stripIndices(1000)).toEqual([62, 187, 312, 437, 562, 687, 812, 937]);
    expect(stripIndices(3)).toEqual([0, 1, 2]);
  });
});
