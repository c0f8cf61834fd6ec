// The phased job loop shared by the per-layer and soups controllers: phases in order (a phase with
// no work skipped), the next only after the latest job is done, a superseded job starts nothing,
// a failure says why (not for 'no-pair') and clears the flag, dispose stops the timer.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { PhasedJobs } from '../../../src/state/controllers/phasedJobs';
import { EVAL_DEBOUNCE_MS } from '../../../src/state/controllers/evaluation';
import { EngineError } from '../../../src/worker/protocol';
import { deferred, fakePair, type Deferred } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup(works: (string | null)[]) {
  const store = createAppStore();
  store.setState({ pair: fakePair() });
  const started: { id: number; work: string; d: Deferred<{ status: 'done' | 'superseded' }> }[] = [];
  const done: string[] = [];
  const jobs = new PhasedJobs<string>({
    store,
    phases: works.length,
    work: (_s, phase) => works[phase] ?? null,
    start: (id, work) => {
      const d = deferred<{ status: 'done' | 'superseded' }>();
      started.push({ id, work, d });
      return d.promise;
    },
    evaluating: (on) => ({ layerEvaluating: on }),
    failure: 'Test evaluation stopped',
    onDone: (work) => done.push(work),
  });
  return { store, jobs, started, done };
}

describe('phased jobs', () => {
  it('runs the phases in order after the debounce, skipping one with no work, and clears the flag at the end', async () => {
    const { store, jobs, started, done } = setup(['first', null, 'last']);
    jobs.schedule();
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS - 1);
    expect(started).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(started.map((s) => [s.id, s.work])).toEqual([[1, 'first']]);
    expect(store.getState().layerEvaluating).toBe(true);
    started[0]!.d.resolve({ status: 'done' });
    await settle();
    expect(started.map((s) => s.work)).toEqual(['first', 'last']);
    expect(jobs.latest).toBe(2);
    started[1]!.d.resolve({ status: 'done' });
    await settle();
    expect(done).toEqual(['first', 'last']);
    expect(store.getState().layerEvaluating).toBe(false);
  });

  it('a superseded job, or one overtaken by a newer, starts no next phase', async () => {
    const { jobs, started, done } = setup(['a', 'b']);
    jobs.schedule(0);
    vi.advanceTimersByTime(0);
    jobs.supersede();
    started[0]!.d.resolve({ status: 'done' });
    await settle();
    expect(started).toHaveLength(1);
    jobs.schedule(0);
    vi.advanceTimersByTime(0);
    started[1]!.d.resolve({ status: 'superseded' });
    await settle();
    expect(started).toHaveLength(2);
    expect(done).toEqual([]);
  });

  it('a failure says why, except when the engine is between pairs; dispose stops the timer', async () => {
    const { store, jobs, started } = setup(['a']);
    jobs.schedule(0);
    vi.advanceTimersByTime(0);
    started[0]!.d.reject(new Error('out of memory'));
    await settle();
    expect(store.getState().layerEvaluating).toBe(false);
    expect(store.getState().messages.at(-1)!.text).toBe('Test evaluation stopped: out of memory');
    jobs.schedule(0);
    vi.advanceTimersByTime(0);
    started[1]!.d.reject(new EngineError('no-pair', 'no pair is loaded'));
    await settle();
    expect(store.getState().messages).toHaveLength(1);
    jobs.schedule();
    jobs.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});
