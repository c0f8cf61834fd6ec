// Cancel that holds until Evaluate, and the progress the page shows: images of the whole frontier
// (never back, its total fixed while α moves) and the time left at the measured rate.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createEvaluation, EVAL_DEBOUNCE_MS } from '../../../src/state/controllers/evaluation';
import { createUploads } from '../../../src/state/controllers/uploads';
import { createAlphaControl, PLAY_INTERVAL_MS } from '../../../src/state/controllers/alpha';
import { createEngineSession } from '../../../src/state/controllers/engineSession';
import { FLUSH_MS } from '../../../src/state/frontierEvents';
import { frontierProgress, imagesEvaluated, measuredRate, timeLeftText } from '../../../src/state/progress';
import { GRID, EXTRAPOLATED_GRID, type ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, acc } from '../../support/fakeEngine';

const KEY = 'bundle-1' as ResultsKey;
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setup() {
  const engine = new FakeEngine();
  const store = createAppStore();
  store.setState({ pair: fakePair(), resultsKey: KEY, alpha: 0.5 });
  const evaluation = createEvaluation(engine, store);
  const uploads = createUploads(engine, store);
  const alpha = createAlphaControl(store, evaluation, uploads);
  return { engine, store, evaluation, uploads, alpha };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('Cancel holds until Evaluate', () => {
  it('after Cancel, α moves, Play and the extrapolation switch start no job; Evaluate does, at the current α', async () => {
    const { engine, store, evaluation, alpha } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    evaluation.cancel();
    await settle();
    alpha.setAlpha(0.37);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS * 2);
    alpha.togglePlay();
    vi.advanceTimersByTime(PLAY_INTERVAL_MS * 3);
    alpha.togglePlay();
    alpha.setExtrapolate(true);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS * 2);
    expect(engine.jobs).toHaveLength(1);
    expect(store.getState()).toMatchObject({ evaluating: false, evalPaused: true });
    evaluation.resume();
    vi.advanceTimersByTime(0);
    expect(engine.jobs).toHaveLength(2);
    expect(engine.jobs[1]!.job.currentAlpha).toBe(store.getState().alpha);
    expect(store.getState().evalPaused).toBe(false);
    // Lifted: α moves evaluate again.
    alpha.setAlpha(0.2);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    expect(engine.jobs).toHaveLength(3);
  });

  it('a Cancel during the slider wait drops the pending job', () => {
    const { engine, evaluation, alpha } = setup();
    alpha.setAlpha(0.3);
    evaluation.cancel();
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS * 2);
    expect(engine.jobs).toHaveLength(0);
  });

  it('loading another member lifts the Cancel: its evaluation starts', async () => {
    const { engine, store, evaluation, uploads } = setup();
    const sess = createEngineSession({
      engine,
      store,
      evaluation,
      uploads,
      pageUrl: () => 'http://x/',
      bundledPairUrl: () => 'http://x/b',
    });
    engine.pair = fakePair();
    evaluation.cancel();
    engine.nextLoad = { ...fakePair({ bundleHash: 'b2', resultsKey: 'b2' as ResultsKey }), memberNote: null };
    store.setState({ pair: { ...fakePair(), members: [...fakePair().members, { ...fakePair().members[0]!, id: 'ft2' }] } });
    expect(await sess.selectMember('ft2')).toBe(true);
    await settle();
    vi.advanceTimersByTime(0);
    expect(store.getState().evalPaused).toBe(false);
    expect(engine.jobs).toHaveLength(1);
  });
});

describe('the frontier progress', () => {
  const pair = fakePair(); // sets of 200 and 100 images: 300 per α

  it('counts the images at the grid α out of every grid image, whoever computed them', () => {
    const points = {
      '0': { reference: acc(1, 200), shift: acc(1, 100) },
      '0.5': { reference: acc(1, 100, 200) },
      '0.37': { shift: acc(1, 100) },
    };
    expect(frontierProgress(pair, points, 0.5, false)).toEqual({ done: 400, total: 300 * GRID.length, left: 300 * GRID.length - 400 });
    // The total does not move with α; an off-grid α adds its own rest to what is left, not to the count.
    const off = frontierProgress(pair, points, 0.37, false);
    expect(off).toEqual({ done: 400, total: 300 * GRID.length, left: 300 * GRID.length - 400 + 200 });
    expect(frontierProgress(pair, points, 0.5, true).total).toBe(300 * EXTRAPOLATED_GRID.length);
    expect(imagesEvaluated(points)).toBe(500);
  });

  it('the time left needs a measured rate, and reads in seconds, then minutes', () => {
    expect(measuredRate({ at: 0, images: 100 }, { at: 0, images: 200 })).toBeNull();
    expect(measuredRate({ at: 0, images: 100 }, { at: 2000, images: 100 })).toBeNull();
    expect(measuredRate({ at: 1000, images: 100 }, { at: 3000, images: 500 })).toBe(200);
    expect(timeLeftText(1000, null)).toBeNull();
    expect(timeLeftText(1000, 200)).toBe('about 5 s left');
    expect(timeLeftText(60_000, 200)).toBe('about 5 min left');
  });

  it('the evaluation measures its rate from the batches after the first, and keeps it after a Cancel', async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    const job = engine.jobs[0]!;
    const chunk = (alpha: number, n: number) =>
      job.emit({
        kind: 'chunk',
        jobId: 1,
        resultsKey: KEY,
        alpha,
        point: { reference: acc(1, n, 200) },
        progress: { done: 1, total: 2, chunkSize: 100 },
      });
    // The first batch comes after a slow start: it is the baseline, not a rate.
    vi.advanceTimersByTime(5000);
    chunk(0.5, 100);
    vi.advanceTimersByTime(FLUSH_MS);
    expect(store.getState().evalRate).toBeNull();
    vi.advanceTimersByTime(1000 - FLUSH_MS);
    chunk(0.5, 200);
    chunk(0, 200);
    vi.advanceTimersByTime(FLUSH_MS);
    // 300 images after the baseline: the first of them applied at once, 1 s after it; the other
    // batched, FLUSH_MS later.
    const rate = 300 / ((1000 + FLUSH_MS) / 1000);
    expect(store.getState().evalRate).toBeCloseTo(rate, 6);
    evaluation.cancel();
    await settle();
    expect(store.getState().evalRate).toBeCloseTo(rate, 6);
  });
});
