// A completed frontier survives the trip through IndexedDB exactly (bitsets included), an entry that
// is corrupt, partial or for other results is refused with a reason, and a second visit (a new store
// on the same storage) shows the saved frontier without asking the engine to evaluate anything.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { decodeFrontier, encodeFrontier, isCompleteFrontier, SAVED_FRONTIER_VERSION } from '../../../src/state/savedFrontier';
import { createFrontierCache, type FrontierStorage } from '../../../src/state/controllers/frontierCache';
import { createEvaluation } from '../../../src/state/controllers/evaluation';
import { createAppStore } from '../../../src/state/store';
import { GRID, alphaKey, type FrontierPoints, type ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, accOf, acc } from '../../support/fakeEngine';

const KEY = 'bundle-1' as ResultsKey;
const pair = fakePair();

/** Every grid α at full n on both sets of the fake pair, each image right or not by a fixed pattern. */
function completePoints(): FrontierPoints {
  const points: FrontierPoints = {};
  for (const [i, a] of GRID.entries()) {
    points[alphaKey(a)] = {
      reference: accOf(Array.from({ length: 200 }, (_, k) => (k * 7 + i) % 3 !== 0)),
      shift: accOf(Array.from({ length: 100 }, (_, k) => (k + i) % 4 === 0)),
    };
  }
  return points;
}

const ensemble = (): FrontierPoints => ({ '0.5': { reference: acc(120, 200), shift: acc(30, 100) } });

class MapStorage implements FrontierStorage {
  readonly map = new Map<string, unknown>();
  // IndexedDB stores a structured clone: so does this.
  async get(key: string) {
    return this.map.has(key) ? structuredClone(this.map.get(key)) : undefined;
  }
  async set(key: string, value: unknown) {
    this.map.set(key, structuredClone(value));
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('the saved frontier', () => {
  it('round-trips exactly through a structured clone: counts, totals and every bitset byte', () => {
    const points = completePoints();
    const saved = structuredClone(encodeFrontier(KEY, points, ensemble(), 1_764_000_000_000));
    const back = decodeFrontier(saved, pair);
    expect(back).toEqual({ points, ensemble: ensemble(), savedAt: 1_764_000_000_000 });
    if (typeof back === 'string') throw new Error(back);
    for (const a of Object.keys(points)) {
      for (const id of ['reference', 'shift']) {
        expect(Array.from(back.points[a]![id]!.images!.correct)).toEqual(Array.from(points[a]![id]!.images!.correct));
        expect(Array.from(back.points[a]![id]!.images!.seen)).toEqual(Array.from(points[a]![id]!.images!.seen));
      }
    }
  });

  it('refuses, with a reason, entries that are corrupt, partial, of another version or for other results', () => {
    const good = () => encodeFrontier(KEY, completePoints(), ensemble(), 1);
    const flipped = good();
    flipped.points['0.3']!.reference!.images!.correct[4]! ^= 0b100;
    expect(decodeFrontier(flipped, pair)).toMatch(/α 0.3, set reference: per-image bitsets disagree/);
    const partial = good();
    delete partial.points['0.7'];
    expect(decodeFrontier(partial, pair)).toBe('not a complete frontier');
    const short = good();
    short.points['0']!.shift!.images!.seen = new Uint8Array(3);
    expect(decodeFrontier(short, pair)).toMatch(/wrong size/);
    const stranger = good();
    stranger.points['0']!.other = acc(1, 1);
    expect(decodeFrontier(stranger, pair)).toMatch(/a set this pair does not have/);
    expect(decodeFrontier({ ...good(), version: SAVED_FRONTIER_VERSION + 1 }, pair)).toMatch(/version/);
    expect(decodeFrontier(good(), fakePair({ resultsKey: 'bundle-1+user' as ResultsKey }))).toBe('saved for other results');
    expect(decodeFrontier('garbage', pair)).toBe('not an object');
    expect(decodeFrontier(good(), pair)).not.toBeTypeOf('string');
  });

  it('is complete only when every grid α has every set at full n with its bitsets', () => {
    const points = completePoints();
    expect(isCompleteFrontier(pair, points)).toBe(true);
    points['0.1'] = { ...points['0.1'], shift: acc(10, 50, 100) };
    expect(isCompleteFrontier(pair, points)).toBe(false);
  });
});

describe('the frontier cache between visits', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('saves a frontier when its evaluation completes, and a second visit shows it with no evaluation', async () => {
    const storage = new MapStorage();
    const first = createAppStore();
    first.setState({ pair, resultsKey: KEY, alpha: 0.5 });
    const engine = new FakeEngine();
    const cache = createFrontierCache(storage, first);
    createEvaluation(engine, first, cache).schedule(0);
    vi.advanceTimersByTime(0);
    await settle();
    expect(storage.map.size).toBe(0);
    engine.jobs[0]!.emit({ kind: 'ensemble', jobId: 1, resultsKey: KEY, points: ensemble() });
    engine.jobs[0]!.finish({ status: 'done', jobId: 1, resultsKey: KEY, points: completePoints() });
    await settle();
    expect(storage.map.has(KEY)).toBe(true);
    cache.dispose();

    const second = createAppStore();
    second.setState({ pair, resultsKey: KEY, alpha: 0.5 });
    const engine2 = new FakeEngine();
    createEvaluation(engine2, second, createFrontierCache(storage, second)).schedule(0);
    vi.advanceTimersByTime(0);
    await settle();
    expect(engine2.jobs).toHaveLength(0);
    const s = second.getState();
    expect(s).toMatchObject({ points: completePoints(), ensemble: ensemble(), evaluating: false });
    expect(s.cachedAt).not.toBeNull();
    expect(s.fullFrontierMs).not.toBeNull();
  });

  it('a corrupt entry is ignored with a console note, and the frontier is evaluated afresh', async () => {
    const storage = new MapStorage();
    const bad = encodeFrontier(KEY, completePoints(), {}, 1);
    bad.points['1']!.shift!.correct += 1;
    storage.map.set(KEY, bad);
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const store = createAppStore();
    store.setState({ pair, resultsKey: KEY, alpha: 0.5 });
    const engine = new FakeEngine();
    createEvaluation(engine, store, createFrontierCache(storage, store)).schedule(0);
    vi.advanceTimersByTime(0);
    await settle();
    expect(info).toHaveBeenCalledWith(expect.stringMatching(/not used \(α 1, set shift: /));
    expect(engine.jobs.map((j) => j.job.grid)).toEqual([GRID]);
    expect(store.getState().cachedAt).toBeNull();
    info.mockRestore();
  });

  it('after a restore, a new α is evaluated alone, and the restored grid points stay', async () => {
    const storage = new MapStorage();
    storage.map.set(KEY, encodeFrontier(KEY, completePoints(), ensemble(), 1));
    const store = createAppStore();
    store.setState({ pair, resultsKey: KEY, alpha: 0.37 });
    const engine = new FakeEngine();
    createEvaluation(engine, store, createFrontierCache(storage, store)).schedule(0);
    vi.advanceTimersByTime(0);
    await settle();
    expect(engine.jobs.map((j) => j.job)).toEqual([{ id: 1, grid: [], currentAlpha: 0.37 }]);
    const at37 = { reference: accOf(Array(200).fill(1)), shift: accOf(Array(100).fill(0)) };
    engine.jobs[0]!.emit({ kind: 'ensemble', jobId: 1, resultsKey: KEY, points: {} });
    engine.jobs[0]!.finish({ status: 'done', jobId: 1, resultsKey: KEY, points: { '0.37': at37 } });
    await settle();
    expect(store.getState().points).toEqual({ ...completePoints(), '0.37': at37 });
    expect(store.getState().ensemble).toEqual(ensemble());
  });
});
