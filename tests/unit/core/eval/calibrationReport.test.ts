// The evaluator's calibration: the report's ECE and NLL per (α, set) equal those computed from the
// model's logits directly, in weight space and output space, with and without temperature scaling
// (T fitted on the reference set's logits); each number counts its images; logits over the budget
// are dropped oldest α first, leaving that α's plain numbers.
import { describe, it, expect } from 'vitest';
import { FrontierEvaluator } from '../../../../src/core/eval/evaluator';
import { calibrationSums, ece, fitTemperature, meanNll, mixLogits, reliabilityBins } from '../../../../src/core/eval/calibration';
import { normalizeBatch, type EvalSetData } from '../../../../src/core/eval/sprites';
import { evalSet, fakeLogits, CLASSES, PREPROCESS, SIZE } from './fixtures';

/** A model whose logits depend on the image and α smoothly, so that T is neither 1 nor at an edge. */
async function model(alpha: number, input: { data: Float32Array; dims: number[] }): Promise<Float32Array> {
  const base = await fakeLogits(alpha, input);
  const n = input.dims[0]!;
  const plane = 3 * SIZE * SIZE;
  for (let i = 0; i < n; i++) {
    const image = Math.round(input.data[i * plane]! * 255);
    for (let c = 0; c < CLASSES; c++) base[i * CLASSES + c] = 3 * base[i * CLASSES + c]! + Math.sin(image * 1.7 + c * 2.3 + alpha);
  }
  return base;
}

async function logitsOf(set: EvalSetData, alpha: number): Promise<Float32Array> {
  const data = normalizeBatch(set, 0, set.count, PREPROCESS, new Float32Array(set.count * 3 * SIZE * SIZE));
  return model(alpha, { data, dims: [set.count, 3, SIZE, SIZE] });
}

const opts = { classes: CLASSES, preprocess: PREPROCESS, calibrationBudget: 2 ** 20 };
const grid = [0, 0.5, 1];

async function evaluated(sets: EvalSetData[], o = opts): Promise<FrontierEvaluator> {
  const ev = new FrontierEvaluator(model, sets, o);
  await ev.run(
    ev.plan(grid, null),
    () => false,
    () => undefined,
  );
  return ev;
}

describe('calibration from the evaluation', () => {
  const sets = [evalSet('reference', 230), evalSet('shift', 140, 'shift')];

  it('gives each set ECE and NLL at each α equal to those of its logits, with the frontier’s counts', async () => {
    const ev = await evaluated(sets);
    const r = ev.calibrationReport({ alpha: 0.5, grid, temperature: false })!;
    expect(r.referenceSet).toBe('reference');
    for (const a of grid)
      for (const set of sets) {
        const s = calibrationSums(await logitsOf(set, a), set.labels, 0, set.count, CLASSES, null);
        const got = r.weight.points[String(a)]![set.spec.id]!;
        expect(got.n).toBe(set.count);
        expect(got.correct).toBe(ev.results.accuracy(a, set.spec.id)!.correct);
        expect(got.ece).toBeCloseTo(ece(s), 12);
        expect(got.nll).toBeCloseTo(meanNll(s), 12);
      }
    expect(r.weight.temperatures).toEqual({});
    const shift = calibrationSums(await logitsOf(sets[1]!, 0.5), sets[1]!.labels, 0, 140, CLASSES, null);
    // Summed per chunk: equal to the last bits of a double.
    const want = reliabilityBins(shift);
    expect(r.weight.reliability.shift!.n).toBe(140);
    r.weight.reliability.shift!.bins.forEach((b, i) => {
      expect(b.count).toBe(want[i]!.count);
      if (b.count > 0) expect(b.confidence!).toBeCloseTo(want[i]!.confidence!, 12);
      expect(b.accuracy).toBe(want[i]!.accuracy);
    });
  });

  it('fits T on the reference set at each α and applies it to every set, in weight and output space', async () => {
    const ev = await evaluated(sets);
    const r = ev.calibrationReport({ alpha: 0.5, grid: [0, 0.25, 0.5, 1], temperature: true })!;
    const ref = sets[0]!;
    for (const a of grid) {
      const fit = fitTemperature(await logitsOf(ref, a), ref.labels, ref.count, CLASSES, null);
      const T = r.weight.temperatures[String(a)]!;
      expect(T.value).toBeCloseTo(fit.temperature, 10);
      expect(T.n).toBe(230);
      expect(T.nll).toBeLessThanOrEqual(T.nllBefore);
      for (const set of sets) {
        const s = calibrationSums(await logitsOf(set, a), set.labels, 0, set.count, CLASSES, null, fit.temperature);
        expect(r.weight.points[String(a)]![set.spec.id]!.nll).toBeCloseTo(meanNll(s), 8);
        expect(r.weight.points[String(a)]![set.spec.id]!.ece).toBeCloseTo(ece(s), 8);
      }
    }
    // 0.25 was not evaluated in weight space; in output space it is mixed from the endpoints.
    expect(r.weight.points['0.25']).toBeUndefined();
    for (const a of [0, 0.25, 0.5, 1]) {
      const mixed = mixLogits(await logitsOf(ref, 0), await logitsOf(ref, 1), a);
      const fit = fitTemperature(mixed, ref.labels, ref.count, CLASSES, null);
      expect(r.output.temperatures[String(a)]!.value).toBeCloseTo(fit.temperature, 10);
      const s = calibrationSums(mixed, ref.labels, 0, ref.count, CLASSES, null, fit.temperature);
      expect(r.output.points[String(a)]!.reference!.nll).toBeCloseTo(meanNll(s), 10);
    }
    // Temperature scaling leaves every prediction as it was.
    const plain = ev.calibrationReport({ alpha: 0.5, grid, temperature: false })!;
    for (const a of grid) expect(r.weight.points[String(a)]!.shift!.correct).toBe(plain.weight.points[String(a)]!.shift!.correct);
  });

  it('reports the images evaluated so far: after the first chunk, n = 100', async () => {
    const ev = new FrontierEvaluator(model, sets, opts);
    let chunks = 0;
    await ev.run(
      ev.plan([0.5], null),
      () => chunks >= 1,
      () => chunks++,
    );
    const r = ev.calibrationReport({ alpha: 0.5, grid: [0.5], temperature: true })!;
    expect(r.weight.points['0.5']!.reference!.n).toBe(100);
    expect(r.weight.temperatures['0.5']!.n).toBe(100);
    const first = (await logitsOf(sets[0]!, 0.5)).subarray(0, 100 * CLASSES);
    const fit = fitTemperature(first, sets[0]!.labels, 100, CLASSES, null);
    expect(r.weight.temperatures['0.5']!.value).toBeCloseTo(fit.temperature, 10);
    // No endpoint is complete: no output-space number.
    expect(r.output.points).toEqual({});
  });

  it('drops the logits of the oldest α over the budget: its plain numbers stay, its temperature goes', async () => {
    // 370 images × 3 classes × 4 bytes = 4,440 bytes per α: room for two α.
    const ev = await evaluated(sets, { ...opts, calibrationBudget: 9000 });
    const plain = ev.calibrationReport({ alpha: 0.5, grid, temperature: false })!;
    const scaled = ev.calibrationReport({ alpha: 0.5, grid, temperature: true })!;
    expect(Object.keys(plain.weight.points).sort()).toEqual(['0', '0.5', '1']);
    expect(ev.calibration!.keptBytes).toBeLessThanOrEqual(9000);
    const kept = Object.keys(scaled.weight.points);
    expect(kept.length).toBe(2);
    // Coarse to fine: 0, 1, then 0.5; the first α written is dropped.
    expect(kept.sort()).toEqual(['0.5', '1']);
  });

  it('keeps nothing for an evaluator that is not asked to', async () => {
    const ev = await evaluated(sets, { classes: CLASSES, preprocess: PREPROCESS } as typeof opts);
    expect(ev.calibration).toBeNull();
    expect(ev.calibrationReport({ alpha: 0, grid, temperature: false })).toBeNull();
  });
});
