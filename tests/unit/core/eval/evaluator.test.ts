import { describe, it, expect } from 'vitest';
import { FrontierEvaluator, batchSize } from '../../../../src/core/eval/evaluator';
import { CHUNK } from '../../../../src/core/eval/frontier';
import { pairedDifference } from '../../../../src/core/eval/stats';
import { evalSet, fakeLogits, CLASSES, PREPROCESS } from './fixtures';

const opts = { classes: CLASSES, preprocess: PREPROCESS };

describe('FrontierEvaluator', () => {
  it('counts every image of every set at every α of the plan, the current α first', async () => {
    const sets = [evalSet('reference', 250), evalSet('shift', 30, 'shift')];
    const ev = new FrontierEvaluator(fakeLogits, sets, opts);
    const plan = ev.plan([0, 1], 0.25);
    expect(plan[0]!.alpha).toBe(0.25);
    const seen: number[] = [];
    expect(
      await ev.run(
        plan,
        () => false,
        (item) => seen.push(item.alpha),
      ),
    ).toBe('done');
    expect(seen.length).toBe(plan.length);
    // α = 0 reads the label (all right); α = 1 reads label + 1 (all wrong).
    expect(ev.results.point(0)).toMatchObject({
      reference: { correct: 250, n: 250, total: 250 },
      shift: { correct: 30, n: 30, total: 30 },
    });
    expect(ev.results.point(1)).toMatchObject({ reference: { correct: 0, n: 250, total: 250 }, shift: { correct: 0, n: 30, total: 30 } });
    expect(Object.keys(ev.points()).sort()).toEqual(['0', '0.25', '1']);
    // Per image too: every image right at α = 0 is wrong at α = 1, paired over all 250.
    expect(pairedDifference(ev.results.point(1).reference!.images!, ev.results.point(0).reference!.images!)).toMatchObject({
      diff: -1,
      n: 250,
    });
  });

  it('resumes: a second plan for the same grid has no work left', async () => {
    const ev = new FrontierEvaluator(fakeLogits, [evalSet('reference', 120)], opts);
    await ev.run(
      ev.plan([0, 0.5, 1], null),
      () => false,
      () => undefined,
    );
    expect(ev.plan([0, 0.5, 1], null)).toEqual([]);
    expect(ev.plan([0, 0.75, 1], null).map((i) => i.alpha)).toEqual([0.75, 0.75]);
  });

  it('drops the rest of the plan once stale, recording nothing after', async () => {
    const ev = new FrontierEvaluator(fakeLogits, [evalSet('reference', 3 * CHUNK)], opts);
    let chunks = 0;
    const outcome = await ev.run(
      ev.plan([0.5], null),
      () => chunks >= 1,
      () => chunks++,
    );
    expect(outcome).toBe('superseded');
    expect(chunks).toBe(1);
    expect(ev.results.point(0.5)).toMatchObject({ reference: { correct: expect.any(Number), n: CHUNK, total: 3 * CHUNK } });
  });

  it('keeps the endpoint logits, so the output-space ensemble needs no further runs', async () => {
    let runs = 0;
    const counting = (a: number, i: { data: Float32Array; dims: number[] }) => (runs++, fakeLogits(a, i));
    const ev = new FrontierEvaluator(counting, [evalSet('reference', 150)], opts);
    await ev.run(
      ev.plan([0, 1], null),
      () => false,
      () => undefined,
    );
    const before = runs;
    const ensemble = ev.endpoints.ensemble([0, 0.4, 1]);
    expect(runs).toBe(before);
    expect(ensemble['0']!.reference!.correct).toBe(150);
    expect(ensemble['1']!.reference!.correct).toBe(0);
    // (1-α)·onehot(label) + α·onehot(label+1): the label still wins below α ≈ 0.5.
    expect(ensemble['0.4']!.reference!.correct).toBe(150);
  });

  it('runs CLIP-sized inputs in batches smaller than a chunk', () => {
    expect(batchSize(8)).toBe(CHUNK);
    expect(batchSize(32)).toBe(CHUNK);
    // 8 at 224²: faster per image there than 16 or 27, and a smaller heap (bench/analysis.md).
    expect(batchSize(224)).toBe(8);
    expect(batchSize(336)).toBeGreaterThanOrEqual(1);
    expect(batchSize(336)).toBeLessThan(8);
  });
});
