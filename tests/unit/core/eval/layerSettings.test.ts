// Per-layer settings' evaluation: every setting's first chunk before any second one, only up to
// the images asked for, results per setting (the blend is the setting's, never the slot's α), resumed.
import { describe, it, expect } from 'vitest';
import { FrontierEvaluator } from '../../../../src/core/eval/evaluator';
import { LayerSettings } from '../../../../src/core/eval/layerSettings';
import { settingKey } from '../../../../src/core/eval/ids';
import { evalSet, fakeLogits, CLASSES, PREPROCESS } from './fixtures';

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
