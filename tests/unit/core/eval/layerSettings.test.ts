// Per-layer settings' evaluation: every setting's first chunk before any second one, only up to
// the images asked for, results per setting (the blend is the setting's, never the slot's α), resumed;
// a first estimate on a few images of every set before the chunks, with no image run twice.
import { describe, it, expect } from 'vitest';
import { FrontierEvaluator, PREVIEW_IMAGES } from '../../../../src/core/eval/evaluator';
import { LayerSettings, type LayerUpdate } from '../../../../src/core/eval/layerSettings';
import { settingKey } from '../../../../src/core/eval/ids';
import { evalSet, fakeLogits, CLASSES, PREPROCESS, SIZE } from './fixtures';

const sets = [evalSet('reference', 250), evalSet('shift', 150, 'shift')];
/** A setting's model is fakeLogits at its first group's α: [0, …] all right, [1, …] all wrong. */
const settings = () =>
  new LayerSettings(
    'k',
    (alphas) => new FrontierEvaluator((_slot, input) => fakeLogits(alphas[0]!, input), sets, { classes: CLASSES, preprocess: PREPROCESS }),
  );

describe('LayerSettings', () => {
  it("plans each setting's first chunk before any second one, and no image past imagesPerSet", () => {
    const plan = settings().plan(
      [
        [0, 1],
        [1, 0],
      ],
      200,
    );
    expect(plan.map((p) => `${p.alphas.join('')} ${p.item.setId} ${p.item.chunk}`)).toEqual([
      '01 reference 0',
      '01 shift 0',
      '10 reference 0',
      '10 shift 0',
      '01 reference 1',
      '01 shift 1',
      '10 reference 1',
      '10 shift 1',
    ]);
  });

  it('keeps each setting under its own key with its own blend, and resumes where it stopped', async () => {
    const ls = settings();
    const last: Record<string, Record<string, { correct: number; n: number }>> = {};
    expect(
      await ls.run(
        [
          [0, 1],
          [1, 0],
        ],
        100,
        () => false,
        (u) => (last[u.settingKey] = u.point),
      ),
    ).toBe('done');
    expect(last[settingKey('k', [0, 1])]).toMatchObject({ reference: { correct: 100, n: 100 }, shift: { correct: 100, n: 100 } });
    expect(last[settingKey('k', [1, 0])]).toMatchObject({ reference: { correct: 0, n: 100 }, shift: { correct: 0, n: 100 } });
    expect(
      ls.plan(
        [
          [0, 1],
          [1, 0],
        ],
        100,
      ),
    ).toEqual([]);
    expect(ls.plan([[0, 1]], 1000).map((p) => p.item.chunk)).toEqual([1, 1, 2]);
  });

  it('stops when stale', async () => {
    let calls = 0;
    expect(
      await settings().run(
        [[0, 1]],
        1000,
        () => ++calls > 2,
        () => undefined,
      ),
    ).toBe('superseded');
  });
});

/**
 * Settings whose model is right on some images and not others, differently for each first-group α,
 * with calibration sums kept as the app's are; `images()` counts every image any setting has run.
 */
function counted(): { ls: LayerSettings; images: () => number } {
  let images = 0;
  const ls = new LayerSettings('k', (alphas) => {
    const run = async (_slot: number, input: { data: Float32Array; dims: number[] }) => {
      const n = input.dims[0]!;
      images += n;
      const out = new Float32Array(n * CLASSES);
      for (let i = 0; i < n; i++) {
        const image = Math.round(input.data[i * 3 * SIZE * SIZE]! * 255);
        const right = (image * 7 + Math.round(10 * alphas[0]!)) % 5 !== 0;
        out[i * CLASSES + ((image + (right ? 0 : 1)) % CLASSES)] = 2 + (image % 4) / 4;
      }
      return out;
    };
    return new FrontierEvaluator(run, sets, { classes: CLASSES, preprocess: PREPROCESS, calibrationBudget: 0 });
  });
  return { ls, images: () => images };
}

const fewest = (u: LayerUpdate) => Math.min(...sets.map((s) => u.point[s.spec.id]?.n ?? 0));
const TWO = [
  [0.3, 1],
  [0.7, 0],
];

describe('LayerSettings, first estimate', () => {
  it("gives each new setting a point on PREVIEW_IMAGES images of every set before any chunk; no image runs twice, and the points end as a run's without it", async () => {
    const { ls, images } = counted();
    const updates: LayerUpdate[] = [];
    expect(
      await ls.run(
        TWO,
        200,
        () => false,
        (u) => updates.push(u),
        true,
      ),
    ).toBe('done');
    const [a, b] = TWO.map((x) => settingKey('k', x));
    expect(updates.slice(0, 2).map((u) => u.settingKey)).toEqual([a, b]);
    for (const u of updates.slice(0, 2)) {
      expect(u.point).toMatchObject({ reference: { n: PREVIEW_IMAGES, total: 250 }, shift: { n: PREVIEW_IMAGES, total: 150 } });
      expect(u.progress.done).toBe(0);
    }
    // After the estimates, every update is a chunk's: each set on at least its first chunk or its estimate.
    expect(updates.slice(2).every((u) => fewest(u) >= PREVIEW_IMAGES)).toBe(true);
    expect(updates.at(-1)!.progress).toMatchObject({ done: 8, total: 8 });
    // 200 of the reference and 150 of the shift set per setting, each image once.
    expect(images()).toBe(2 * (200 + 150));

    const plain = counted();
    const last = new Map<string, LayerUpdate>();
    await plain.ls.run(
      TWO,
      200,
      () => false,
      (u) => last.set(u.settingKey, u),
    );
    const mine = new Map(updates.map((u) => [u.settingKey, u]));
    for (const key of [a!, b!]) expect(mine.get(key)!.point).toEqual(last.get(key)!.point);
    // Calibration sums add the estimate's batch and the chunk's rest: the same numbers, in another order.
    for (const x of TWO) {
      const want = plain.ls.calibrationOf(x);
      const got = ls.calibrationOf(x);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [id, c] of Object.entries(got)) {
        expect({ n: c.n, correct: c.correct }).toEqual({ n: want[id]!.n, correct: want[id]!.correct });
        expect(c.nll).toBeCloseTo(want[id]!.nll, 12);
      }
    }
  });

  it('a setting whose first chunks are done gets none; one superseded after its estimate resumes from it, its images not run again', async () => {
    const { ls, images } = counted();
    const setting = [[0.3, 1]];
    let stale = false;
    const first: LayerUpdate[] = [];
    const outcome = await ls.run(
      setting,
      1000,
      () => stale,
      (u) => {
        first.push(u);
        stale = true;
      },
      true,
    );
    expect(outcome).toBe('superseded');
    expect(first.map(fewest)).toEqual([PREVIEW_IMAGES]);
    expect(images()).toBe(2 * PREVIEW_IMAGES);

    const again: LayerUpdate[] = [];
    expect(
      await ls.run(
        setting,
        100,
        () => false,
        (u) => again.push(u),
        true,
      ),
    ).toBe('done');
    // The estimate is not run or sent again: the first chunks start from its images.
    expect(again.map((u) => u.progress.done)).toEqual([1, 2]);
    expect(images()).toBe(200);

    const more: LayerUpdate[] = [];
    expect(
      await ls.run(
        setting,
        1000,
        () => false,
        (u) => more.push(u),
        true,
      ),
    ).toBe('done');
    expect(more.every((u) => fewest(u) >= 100)).toBe(true);
    expect(images()).toBe(250 + 150);
  });
});
