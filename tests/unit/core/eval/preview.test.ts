// A new current α's first estimate (FrontierEvaluator.preview): a few images of every set before
// the first chunks, reported as one point; their logits become the start of each set's first chunk,
// so the finished evaluation is the one a plain run gives, image for image, with no image run twice.
import { describe, it, expect } from 'vitest';
import { FrontierEvaluator, PREVIEW_IMAGES, type RunLogits } from '../../../../src/core/eval/evaluator';
import type { SetAccuracy } from '../../../../src/core/eval/frontier';
import { evalSet, CLASSES, PREPROCESS, SIZE } from './fixtures';

const opts = { classes: CLASSES, preprocess: PREPROCESS, calibrationBudget: 1 << 20 };
const sets = () => [evalSet('reference', 250), evalSet('shift-a', 120, 'shift'), evalSet('shift-b', 10, 'shift')];

/** A model right on some images and not others, differently at each α; it counts the images it runs, and each run's batch. */
function model(): { run: RunLogits; images: () => number; batches: number[] } {
  let images = 0;
  const batches: number[] = [];
  const run: RunLogits = async (alpha, input) => {
    const n = input.dims[0]!;
    images += n;
    batches.push(n);
    const out = new Float32Array(n * CLASSES);
    for (let i = 0; i < n; i++) {
      const image = Math.round(input.data[i * 3 * SIZE * SIZE]! * 255);
      const right = (image * 7 + Math.round(alpha * 10)) % 5 !== 0;
      out[i * CLASSES + ((image + (right ? 0 : 1)) % CLASSES)] = 2 + (image % 4) / 4;
      out[i * CLASSES + ((image + 2) % CLASSES)] = 1 - alpha;
    }
    return out;
  };
  return { run, images: () => images, batches };
}

const seen = (p: Record<string, SetAccuracy>) => Object.values(p).reduce((n, a) => n + a.n, 0);

async function plainRun(grid: number[], current: number) {
  const m = model();
  const ev = new FrontierEvaluator(m.run, sets(), opts);
  await ev.run(
    ev.plan(grid, current),
    () => false,
    () => undefined,
  );
  return ev;
}

describe('the current α’s first estimate', () => {
  it('comes first, on the first images of every set, then the chunks; the result is a plain run’s', async () => {
    const m = model();
    const ev = new FrontierEvaluator(m.run, sets(), opts);
    const plan = ev.plan([0, 1], 0.3);
    const events: { alpha: number; point: Record<string, SetAccuracy> }[] = [];
    await ev.preview(
      0.3,
      plan,
      () => false,
      (point) => events.push({ alpha: 0.3, point }),
    );
    expect(events).toHaveLength(1);
    const first = events[0]!.point;
    expect(Object.keys(first).sort()).toEqual(['reference', 'shift-a', 'shift-b']);
    expect(first.reference).toMatchObject({ n: PREVIEW_IMAGES, total: 250 });
    expect(first['shift-b']).toMatchObject({ n: Math.min(PREVIEW_IMAGES, 10), total: 10 });
    // Nothing recorded yet: the preview is not a chunk.
    expect(ev.results.point(0.3)).toEqual({});
    expect(
      await ev.run(
        plan,
        () => false,
        (item, point) => events.push({ alpha: item.alpha, point }),
      ),
    ).toBe('done');
    // Every set at 0.3 stays in each of its points, and the images seen there only grow.
    const at = events.filter((e) => e.alpha === 0.3).map((e) => e.point);
    for (const p of at) expect(Object.keys(p).sort()).toEqual(['reference', 'shift-a', 'shift-b']);
    for (let i = 1; i < at.length; i++) expect(seen(at[i]!)).toBeGreaterThanOrEqual(seen(at[i - 1]!));
    expect(seen(at[at.length - 1]!)).toBe(250 + 120 + 10);
    const plain = await plainRun([0, 1], 0.3);
    expect(ev.points()).toEqual(plain.points());
    // Calibration sums add the preview's batch and the chunk's rest: the same numbers, in another order.
    const cal = plain.calibrationPoint(0.3);
    for (const [id, c] of Object.entries(ev.calibrationPoint(0.3))) {
      expect({ n: c.n, correct: c.correct }).toEqual({ n: cal[id]!.n, correct: cal[id]!.correct });
      expect(c.ece).toBeCloseTo(cal[id]!.ece, 12);
      expect(c.nll).toBeCloseTo(cal[id]!.nll, 12);
    }
    expect(Object.keys(ev.calibrationPoint(0.3)).sort()).toEqual(Object.keys(cal).sort());
    expect(ev.endpoints.ensemble([0, 0.3, 1])).toEqual(plain.endpoints.ensemble([0, 0.3, 1]));
    // No image run twice: the preview's images are the start of their first chunk.
    expect(m.images()).toBe(3 * (250 + 120 + 10));
  });

  it('at an endpoint, keeps its logits for the output-space ensemble as a plain run does', async () => {
    const ev = new FrontierEvaluator(model().run, sets(), opts);
    const plan = ev.plan([0, 1], 1);
    await ev.preview(
      1,
      plan,
      () => false,
      () => undefined,
    );
    await ev.run(
      plan,
      () => false,
      () => undefined,
    );
    const plain = await plainRun([0, 1], 1);
    expect(ev.endpoints.ensemble([0, 0.5, 1])).toEqual(plain.endpoints.ensemble([0, 0.5, 1]));
    expect(ev.points()).toEqual(plain.points());
  });

  it('once stale, reports nothing and keeps nothing; a later run counts every image once', async () => {
    const m = model();
    const ev = new FrontierEvaluator(m.run, sets(), opts);
    const plan = ev.plan([0.5], 0.3);
    let runs = 0;
    const reported: unknown[] = [];
    await ev.preview(
      0.3,
      plan,
      () => ++runs > 1,
      (p) => reported.push(p),
    );
    expect(reported).toEqual([]);
    await ev.run(
      ev.plan([0.5], 0.3),
      () => false,
      () => undefined,
    );
    expect(ev.points()).toEqual((await plainRun([0.5], 0.3)).points());
  });

  it('is not run where every first chunk is that small already (it would complete α before any chunk is recorded)', async () => {
    const ev = new FrontierEvaluator(model().run, [evalSet('reference', PREVIEW_IMAGES), evalSet('shift', 5, 'shift')], opts);
    const reported: unknown[] = [];
    await ev.preview(
      0.3,
      ev.plan([], 0.3),
      () => false,
      (p) => reported.push(p),
    );
    expect(reported).toEqual([]);
  });

  it('is not run for sets whose first chunk is done, and skips an α with none left', async () => {
    const ev = new FrontierEvaluator(model().run, sets(), opts);
    await ev.run(
      ev.plan([], 0.3),
      () => false,
      () => undefined,
    );
    const reported: unknown[] = [];
    await ev.preview(
      0.3,
      ev.plan([], 0.3),
      () => false,
      (p) => reported.push(p),
    );
    expect(reported).toEqual([]);
  });

  it("runs each set's first images in a run of its own, and the point equals each set's first images evaluated alone", async () => {
    const m = model();
    const ev = new FrontierEvaluator(m.run, sets(), opts);
    const reported: Record<string, SetAccuracy>[] = [];
    await ev.preview(
      0.3,
      ev.plan([], 0.3),
      () => false,
      (p) => reported.push(p),
    );
    // PREVIEW_IMAGES of the reference, of shift-a and of shift-b's 10: one run each.
    expect(m.batches).toEqual([PREVIEW_IMAGES, PREVIEW_IMAGES, Math.min(PREVIEW_IMAGES, 10)]);
    // The same point as each set's first images evaluated alone, set by set.
    const alone = model();
    for (const s of sets()) {
      const one = new FrontierEvaluator(alone.run, [s, evalSet('other', 200, 'shift')], opts);
      const got: Record<string, SetAccuracy>[] = [];
      await one.preview(
        0.3,
        one.plan([], 0.3),
        () => false,
        (p) => got.push(p),
      );
      expect(reported[0]![s.spec.id]).toEqual(got[0]![s.spec.id]);
    }
  });
});

describe('the first estimate on two lanes', () => {
  it('deals the sets out over the lanes, and the finished evaluation counts every image once, as one engine does', async () => {
    const [a, b] = [model(), model()];
    const ev = new FrontierEvaluator(a.run, sets(), opts);
    const plan = ev.plan([0, 1], 0.3);
    const reported: Record<string, SetAccuracy>[] = [];
    await ev.preview(
      0.3,
      plan,
      () => false,
      (p) => reported.push(p),
      [a.run, b.run],
    );
    expect(Object.keys(reported[0]!).sort()).toEqual(['reference', 'shift-a', 'shift-b']);
    // Sets 0 and 2 on the first lane, set 1 on the second: one run per set.
    expect(a.batches).toEqual([PREVIEW_IMAGES, Math.min(PREVIEW_IMAGES, 10)]);
    expect(b.batches).toEqual([PREVIEW_IMAGES]);
    await ev.run(
      plan,
      () => false,
      () => undefined,
      [a.run, b.run],
    );
    expect(a.images() + b.images()).toBe(3 * (250 + 120 + 10));
    expect(ev.points()).toEqual((await plainRun([0, 1], 0.3)).points());
  });
});
