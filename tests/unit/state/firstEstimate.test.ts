// A new α's first estimate through the page's evaluation: the slider's wait, then the engine's
// preview point (every set, a few images each) applied at once, then the chunks; the page's points
// end as a one-shot evaluation's. A real FrontierEvaluator stands behind the fake engine's job.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createEvaluation, EVAL_DEBOUNCE_MS } from '../../../src/state/controllers/evaluation';
import { createUploads } from '../../../src/state/controllers/uploads';
import { createAlphaControl } from '../../../src/state/controllers/alpha';
import { FLUSH_MS } from '../../../src/state/frontierEvents';
import { FrontierEvaluator, PREVIEW_IMAGES } from '../../../src/core/eval/evaluator';
import type { SetAccuracy } from '../../../src/core/eval/frontier';
import type { EvaluationEvent, ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, type FakeJob } from '../../support/fakeEngine';
import { evalSet, fakeLogits, CLASSES, PREPROCESS } from '../core/eval/fixtures';

const KEY = 'bundle-1' as ResultsKey;
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
const evaluator = () =>
  new FrontierEvaluator(fakeLogits, [evalSet('reference', 200), evalSet('shift', 100, 'shift')], {
    classes: CLASSES,
    preprocess: PREPROCESS,
  });

/** The job's events as Explorer.evaluate makes them: the current α's preview, then every chunk. */
async function engineEvents(ev: FrontierEvaluator, fake: FakeJob): Promise<EvaluationEvent[]> {
  const { grid, currentAlpha, id } = fake.job;
  const plan = ev.plan(grid, currentAlpha);
  const out: EvaluationEvent[] = [];
  const progress = { done: 0, total: plan.length, chunkSize: 100 };
  const event = (alpha: number, point: Record<string, SetAccuracy>) =>
    out.push({ kind: 'chunk', jobId: id, resultsKey: KEY, alpha, point, progress });
  if (currentAlpha !== null)
    await ev.preview(
      currentAlpha,
      plan,
      () => false,
      (p) => event(currentAlpha, p),
    );
  await ev.run(
    plan,
    () => false,
    (item, p) => event(item.alpha, p),
  );
  return out;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("a new α's first estimate", () => {
  it('is on the page EVAL_DEBOUNCE_MS after the move, every set on its first images; the points end as a one-shot run’s', async () => {
    const engine = new FakeEngine();
    const store = createAppStore();
    store.setState({ pair: fakePair(), resultsKey: KEY, alpha: 0.5 });
    const evaluation = createEvaluation(engine, store);
    const alpha = createAlphaControl(store, evaluation, createUploads(engine, store));
    alpha.setAlpha(0.37);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS - 1);
    expect(engine.jobs).toHaveLength(0);
    vi.advanceTimersByTime(1);
    await settle();
    const job = engine.jobs[0]!;
    expect(job.job.currentAlpha).toBe(0.37);
    const ev = evaluator();
    const [first, ...rest] = await engineEvents(ev, job);
    job.emit(first!);
    // Applied at once, no FLUSH_MS wait: both sets, each with its n (the chart's interval needs it).
    expect(store.getState().points['0.37']).toMatchObject({
      reference: { n: PREVIEW_IMAGES, total: 200 },
      shift: { n: PREVIEW_IMAGES, total: 100 },
    });
    for (const e of rest) job.emit(e);
    vi.advanceTimersByTime(FLUSH_MS);
    // Every chunk applied: the page's point at 0.37 still has both sets, now on every image.
    expect(store.getState().points['0.37']).toMatchObject({ reference: { n: 200 }, shift: { n: 100 } });
    job.finish({ status: 'done', jobId: job.job.id, resultsKey: KEY, points: ev.points() });
    await settle();
    const oneShot = evaluator();
    await oneShot.run(
      oneShot.plan(job.job.grid, 0.37),
      () => false,
      () => undefined,
    );
    expect(store.getState().points).toEqual(oneShot.points());
    evaluation.dispose();
  });
});
