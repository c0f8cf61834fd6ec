// The recorded sweep confirmed by the live evaluation: a recorded accuracy outside a complete live
// point's 95% interval is named to the user once, by set and α.
import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createSweepCheck } from '../../../src/state/controllers/sweepCheck';
import { sweepDisagreements } from '../../../src/state/sweepCheck';
import type { ResultsKey } from '../../../src/worker/protocol';
import { fakePair, acc, accOf } from '../../support/fakeEngine';

// Sets of 200 (reference) and 100 (shift) images; recorded: 90% and 50% at α = 0.5, 50% and 50% at α = 0.
const pair = fakePair({
  sweeps: {
    weight: [
      { alpha: 0, 'reference:top1': 0.5, 'shift:top1': 0.5 },
      { alpha: 0.5, 'reference:top1': 0.9, 'shift:top1': 0.5 },
    ],
    output: null,
  },
});
/** Every image evaluated (a complete point, per-image results included), half of them right. */
const halfRight = (n: number) => accOf(Array.from({ length: n }, (_, i) => i % 2 === 0));
const half = { reference: halfRight(200), shift: halfRight(100) };

describe('the recorded sweep against the live points', () => {
  it('flags a set whose recorded accuracy is outside the live interval, at complete points only', () => {
    expect(sweepDisagreements(pair, { '0': half, '0.5': half })).toEqual([
      expect.objectContaining({ alpha: 0.5, setId: 'reference', recorded: 0.9, correct: 100, n: 200 }),
    ]);
    // 100 of 200 images: the point is not complete, nothing is claimed yet.
    expect(sweepDisagreements(pair, { '0.5': { reference: acc(50, 100, 200), shift: acc(50, 100) } })).toEqual([]);
    expect(sweepDisagreements({ ...pair, sweeps: null }, { '0.5': half })).toEqual([]);
  });

  it('says so once, naming the set and α; another results key is checked afresh', () => {
    const store = createAppStore();
    store.setState({ pair });
    const check = createSweepCheck(store);
    store.setState({ points: { '0.5': half } });
    store.setState({ points: { '0.5': half, '0': half } });
    const texts = store.getState().messages.map((m) => m.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain("on 'reference' at α = 0.5");
    expect(texts[0]).toContain('recorded 90.0%');
    store.setState({ pair: { ...pair, resultsKey: 'other' as ResultsKey }, points: {} });
    store.setState({ points: { '0.5': half } });
    expect(store.getState().messages).toHaveLength(2);
    check.dispose();
    store.setState({ pair, points: {} });
    store.setState({ points: { '0.5': half } });
    expect(store.getState().messages).toHaveLength(2);
  });
});
