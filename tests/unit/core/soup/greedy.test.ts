// The greedy soup against a reference written from the paper's recipe in the plainest way:
// sort, then loop with an explicit best-so-far. Accuracies come from made-up soups' tables.
import { describe, it, expect } from 'vitest';
import { greedyOrder, greedySoup, soupWeights } from '../../../../src/core/soup/greedy';

/** The paper's recipe, written independently: returns the kept members, sorted list of decisions. */
function referenceGreedy(alone: number[], acc: (soup: number[]) => number): { kept: number[]; decisions: boolean[] } {
  const idx = [...alone.keys()];
  // Selection sort, descending by accuracy, ascending index on ties.
  for (let i = 0; i < idx.length; i++) {
    let best = i;
    for (let j = i + 1; j < idx.length; j++) {
      const a = alone[idx[j]!]!;
      const b = alone[idx[best]!]!;
      if (a > b || (a === b && idx[j]! < idx[best]!)) best = j;
    }
    [idx[i], idx[best]] = [idx[best]!, idx[i]!];
  }
  const kept = [idx[0]!];
  const decisions = [true];
  let bestAcc = alone[idx[0]!]!;
  for (const m of idx.slice(1)) {
    const a = acc([...kept, m]);
    decisions.push(a >= bestAcc);
    if (a >= bestAcc) {
      kept.push(m);
      bestAcc = a;
    }
  }
  return { kept, decisions };
}

/** A deterministic, order-insensitive accuracy for a soup: a hash of its sorted members. */
function tableAccuracy(seed: number): (soup: readonly number[]) => number {
  return (soup) => {
    const key = [...soup].sort((a, b) => a - b).join(',');
    let h = seed;
    for (const c of key) h = (Math.imul(h ^ c.charCodeAt(0), 2654435761) >>> 0) % 1000;
    return h / 1000;
  };
}

describe('greedySoup', () => {
  it('matches the reference recipe on 200 random tables of 2 to 7 members', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const k = 2 + (seed % 6);
      const acc = tableAccuracy(seed);
      // Ties among members alone on purpose (accuracies on a coarse grid): the order must still be stable.
      const alone = Array.from({ length: k }, (_, i) => Math.round(acc([i]) * 10) / 10);
      const steps = await greedySoup(alone, async (s) => acc(s));
      const want = referenceGreedy(alone, acc);
      expect(
        steps.map((s) => s.kept),
        `seed ${seed}`,
      ).toEqual(want.decisions);
      expect(steps.at(-1)!.soup, `seed ${seed}`).toEqual(want.kept);
    }
  });

  it('keeps only the best member when every larger soup is worse on the reference set', async () => {
    const steps = await greedySoup([0.7, 0.9, 0.8], async (s) => 0.9 - 0.1 * s.length);
    expect(steps.map((s) => [s.member, s.kept])).toEqual([
      [1, true],
      [2, false],
      [0, false],
    ]);
    expect(steps.at(-1)!.soup).toEqual([1]);
  });

  it('keeps a candidate whose soup ties the best so far (does not drop)', async () => {
    const steps = await greedySoup([0.5, 0.6], async () => 0.6);
    expect(steps.map((s) => s.kept)).toEqual([true, true]);
  });

  it('orders best first, ties by member index', () => {
    expect(greedyOrder([0.5, 0.7, 0.5, 0.9])).toEqual([3, 1, 0, 2]);
  });

  it('averages the soup members and gives zero-shot and the others 0', () => {
    expect(soupWeights([2, 0], 3)).toEqual([0, 0.5, 0, 0.5]);
    expect(() => soupWeights([3], 3)).toThrow(RangeError);
    expect(() => soupWeights([], 3)).toThrow(RangeError);
  });
});
