// The store's initial values and its one reset: every new pair, member, eval-set choice or backend
// starts its results from the same literal.
import { describe, it, expect } from 'vitest';
import {
  createAppStore,
  initialState,
  initialResults,
  resetResults,
  say,
  dismiss,
  hashNotes,
  MAX_MESSAGE_CHARS,
} from '../../../src/state/store';
import { parseHash } from '../../../src/state/hash';
import type { ResultsKey } from '../../../src/worker/protocol';

describe('the store', () => {
  it('opens with what the link asks for, and an unknown paper= as no overlay with a note', () => {
    const h = parseHash('#alpha=0.333&shift=rendition&paper=nosuch&presenter=1');
    const s = initialState(h);
    expect(s).toMatchObject({
      alpha: 0.33,
      shift: 'rendition',
      paper: 'none',
      presenter: true,
      pair: null,
      ...initialResults,
      evaluating: false,
    });
    expect(hashNotes(h)).toEqual([expect.stringContaining('paper=nosuch')]);
    expect(hashNotes(parseHash('#paper=none'))).toEqual([]);
  });

  it('resetResults is the initial results under a key, whatever was computed before', () => {
    const store = createAppStore();
    store.setState({
      points: { '0.5': { r: { correct: 1, n: 1, total: 1 } } },
      progress: { done: 1, total: 2, chunkSize: 100 },
      fullFrontierMs: 5,
      evalStartedAt: 1,
      cachedAt: 7,
      evalPaused: true,
      evalRate: 300,
    });
    store.setState(resetResults('k' as ResultsKey));
    const s = store.getState();
    expect({
      resultsKey: s.resultsKey,
      points: s.points,
      ensemble: s.ensemble,
      progress: s.progress,
      evalStartedAt: s.evalStartedAt,
      fullFrontierMs: s.fullFrontierMs,
      cachedAt: s.cachedAt,
      evalPaused: s.evalPaused,
      evalRate: s.evalRate,
    }).toEqual({ ...initialResults, resultsKey: 'k' });
  });

  it('messages: ids from the store, the newest four kept, long text cut, one dismissed by id', () => {
    const store = createAppStore();
    for (let i = 0; i < 6; i++) say('info', `m${i}`, store);
    expect(store.getState().messages.map((m) => [m.id, m.text])).toEqual([
      [3, 'm2'],
      [4, 'm3'],
      [5, 'm4'],
      [6, 'm5'],
    ]);
    dismiss(4, store);
    expect(store.getState().messages.map((m) => m.id)).toEqual([3, 5, 6]);
    say('error', 'x'.repeat(MAX_MESSAGE_CHARS + 10), store);
    expect(store.getState().messages.at(-1)!.text).toMatch(/… \(10 more characters\)$/);
  });
});
