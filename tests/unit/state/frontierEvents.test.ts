// Chunk events are batched (at most one redraw per FLUSH_MS, the first at once) and applied only to the results key they name;
// a late event never replaces a point that has seen more images.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createFrontierBuffer, mergeChunkEvents, FLUSH_MS } from '../../../src/state/frontierEvents';
import { createAppStore } from '../../../src/state/store';
import type { EvaluationEvent, ResultsKey } from '../../../src/worker/protocol';
import { fakePair, acc } from '../../support/fakeEngine';

type Chunk = Extract<EvaluationEvent, { kind: 'chunk' }>;
const KEY = 'bundle-1' as ResultsKey;
function chunk(alpha: number, n: number, overrides: Partial<Chunk> = {}): Chunk {
  return {
    kind: 'chunk',
    jobId: 1,
    resultsKey: KEY,
    alpha,
    point: { reference: acc(n / 2, n, 200) },
    progress: { done: n / 100, total: 6, chunkSize: 100 },
    ...overrides,
  };
}

describe('frontier events', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a late event never replaces a fuller point', () => {
    const merged = mergeChunkEvents({}, [chunk(0.5, 200), chunk(0.5, 100), chunk(0, 100)]);
    expect(merged['0.5']!.reference!.n).toBe(200);
    expect(merged['0']!.reference!.n).toBe(100);
  });

  it('applies the first event at once, then the rest together once per FLUSH_MS, with the last progress', () => {
    const store = createAppStore();
    store.setState({ pair: fakePair(), resultsKey: KEY });
    let applied = 0;
    const buffer = createFrontierBuffer(store, () => applied++);
    // A new α's first estimate does not wait for a timer.
    buffer.push(chunk(0.5, 100));
    expect(Object.keys(store.getState().points)).toEqual(['0.5']);
    buffer.push(chunk(0, 200));
    buffer.push(chunk(0.5, 200));
    expect(store.getState().points['0']).toBeUndefined();
    vi.advanceTimersByTime(FLUSH_MS - 1);
    expect(applied).toBe(1);
    vi.advanceTimersByTime(1);
    expect(applied).toBe(2);
    expect(Object.keys(store.getState().points).sort()).toEqual(['0', '0.5']);
    expect(store.getState().points['0.5']!.reference!.n).toBe(200);
    expect(store.getState().progress!.done).toBe(2);
    // Quiet for FLUSH_MS after that batch: the next event is applied at once again.
    vi.advanceTimersByTime(FLUSH_MS);
    buffer.push(chunk(0.25, 100));
    expect(applied).toBe(3);
  });

  it("drops events for another results key (a previous pair, or the bundle sets after the user's)", () => {
    const store = createAppStore();
    store.setState({ pair: fakePair({ resultsKey: 'other' as ResultsKey }), resultsKey: 'other' as ResultsKey });
    const buffer = createFrontierBuffer(store);
    buffer.push(chunk(0.5, 100));
    buffer.flush();
    expect(store.getState().points).toEqual({});
  });

  it('dispose stops the timer and drops what is queued', () => {
    const store = createAppStore();
    store.setState({ pair: fakePair(), resultsKey: KEY });
    const buffer = createFrontierBuffer(store);
    buffer.push(chunk(0.5, 100));
    buffer.push(chunk(0, 100));
    buffer.dispose();
    vi.advanceTimersByTime(FLUSH_MS * 2);
    expect(Object.keys(store.getState().points)).toEqual(['0.5']);
  });
});
