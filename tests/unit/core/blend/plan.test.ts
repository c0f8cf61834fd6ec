import { describe, it, expect } from 'vitest';
import { parseModel } from '../../../../src/core/onnx/model';
import { analyzePair } from '../../../../src/core/onnx/pair';
import { planWeights, findImageInput } from '../../../../src/core/blend/plan';
import { buildTestModel, randomWeights, perturb, roundToHalf } from '../../../support/testPair';

function models(fp16: boolean) {
  const w0 = roundToHalf(randomWeights(1));
  const zs = parseModel(buildTestModel(w0, { fp16 }));
  const ft = parseModel(buildTestModel(roundToHalf(perturb(w0, 2)), { fp16 }));
  return { zs, ft, differing: analyzePair(zs, ft).differing };
}

describe('findImageInput', () => {
  it('finds the first input that is not a weight, or the one named, with its dims', () => {
    const { zs } = models(false);
    expect(findImageInput(zs)).toEqual({ inputName: 'image', inputDims: ['batch', 3, 8, 8] });
    expect(() => findImageInput(zs, 'pixels')).toThrow("the model has no image input named 'pixels'");
  });
});

describe('planWeights', () => {
  it('lifts every differing weight to a session input fed under its own name (fp32)', () => {
    const { zs, ft, differing } = models(false);
    const plan = planWeights(zs, ft, differing, { keepHalf: false, cpuArena: true });
    expect(plan.pairs.map((p) => p.name)).toEqual(differing.map((d) => d.name));
    expect(plan.arena).not.toBeNull();
    expect([...plan.feedNames.values()].sort()).toEqual(differing.map((d) => d.name).sort());
    expect(plan.skeleton).toBe(plan.sessionModel);
    const inputs = plan.sessionModel.graph!.input.map((v) => v.name);
    for (const d of differing) expect(inputs).toContain(d.name);
    expect(plan.sessionModel.graph!.initializer.map((t) => t.name)).toEqual(['logit_scale']);
  });

  it('widens fp16 weights to f32 feeds on the CPU, and exports from an unwidened skeleton', () => {
    const { zs, ft, differing } = models(true);
    const plan = planWeights(zs, ft, differing, { keepHalf: false, cpuArena: false });
    expect(plan.arena).toBeNull();
    expect(plan.pairs.every((p) => p.dtype === 'float16' && p.feedDtype === 'float32')).toBe(true);
    expect(plan.skeleton).not.toBe(plan.sessionModel);
    const sessionInputs = new Map(plan.sessionModel.graph!.input.map((v) => [v.name, v.type?.tensor_type?.elem_type]));
    for (const [name, feed] of plan.feedNames) {
      expect(sessionInputs.get(feed), name).toBe(1);
    }
  });

  it('keeps fp16 bits for a GPU that blends in f16', () => {
    const { zs, ft, differing } = models(true);
    const plan = planWeights(zs, ft, differing, { keepHalf: true, cpuArena: false });
    expect(plan.pairs.every((p) => p.feedDtype === 'float16' && p.zeroShotHalf instanceof Uint16Array)).toBe(true);
    expect(plan.skeleton).toBe(plan.sessionModel);
  });
});
