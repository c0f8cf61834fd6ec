import { describe, it, expect } from 'vitest';
import { trainLinearProbe, headAccuracy, type LinearProbeOptions } from '../../../../src/core/train/linearProbe';
import { stratifiedSplit, selectRows, TrainingError, type LabelledFeatures } from '../../../../src/core/train/data';
import type { LinearHead } from '../../../../src/core/train/head';

/** Three Gaussian clusters on the unit sphere in 8 dims, labelled by cluster; a head that knows nothing. */
function blobs(n: number, seed: number): { data: LabelledFeatures; head: LinearHead } {
  const C = 3,
    D = 8;
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const centres = Array.from({ length: C }, () => Array.from({ length: D }, r));
  const x = new Float32Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % C;
    labels[i] = y;
    let norm = 0;
    for (let d = 0; d < D; d++) norm += (x[i * D + d] = centres[y]![d]! + 0.6 * r()) ** 2;
    for (let d = 0; d < D; d++) x[i * D + d]! /= Math.sqrt(norm);
  }
  return {
    data: { features: { data: x, count: n, dim: D }, labels },
    head: { weight: new Float32Array(C * D), bias: new Float32Array(C), classes: C, dim: D },
  };
}

const opts: LinearProbeOptions = { epochs: 8, batchSize: 16, lr: 0.05, weightDecay: 0.01, warmup: 4, seed: 3 };

describe('trainLinearProbe', () => {
  it('learns separable clusters from a blank head: loss falls, held-out accuracy ≥ 90%', async () => {
    const { data, head } = blobs(300, 11);
    const split = stratifiedSplit(data.labels, 0.3, 1);
    const train = selectRows(data, split.train);
    const validation = selectRows(data, split.validation);
    const seen: number[] = [];
    const res = await trainLinearProbe(train.features, train.labels, head, { ...opts, validation }, (r) => seen.push(r.epoch));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(res.epochs.at(-1)!.loss).toBeLessThan(res.epochs[0]!.loss);
    expect(res.initialValidationAccuracy).toBeCloseTo(1 / 3, 1);
    expect(res.epochs.at(-1)!.validationAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(headAccuracy(res.head, validation)).toBe(res.epochs.at(-1)!.validationAccuracy);
    expect(res.epochs.at(-1)!.step).toBe(res.epochs.at(-1)!.totalSteps);
    // The initial head is the caller's: never trained in place.
    expect(head.weight.every((v) => v === 0)).toBe(true);
  });

  it('is deterministic: the same seed gives the same head bit for bit, another seed another head', async () => {
    const { data, head } = blobs(120, 5);
    const a = await trainLinearProbe(data.features, data.labels, head, opts);
    const b = await trainLinearProbe(data.features, data.labels, head, opts);
    const c = await trainLinearProbe(data.features, data.labels, head, { ...opts, seed: 4 });
    expect(new Uint8Array(a.head.weight.buffer)).toEqual(new Uint8Array(b.head.weight.buffer));
    expect(new Uint8Array(a.head.bias.buffer)).toEqual(new Uint8Array(b.head.bias.buffer));
    expect(a.epochs).toEqual(b.epochs);
    expect(Array.from(c.head.weight)).not.toEqual(Array.from(a.head.weight));
  });

  it('trains on fewer images than one batch (a small folder), with one step an epoch', async () => {
    const { data, head } = blobs(9, 2);
    const res = await trainLinearProbe(data.features, data.labels, head, { ...opts, batchSize: 128, epochs: 3 });
    expect(res.epochs.map((e) => e.step)).toEqual([1, 2, 3]);
  });

  it("stops when its signal aborts, with the signal's reason", async () => {
    const { data, head } = blobs(60, 2);
    const ac = new AbortController();
    const run = trainLinearProbe(
      data.features,
      data.labels,
      head,
      { ...opts, epochs: 50 },
      (r) => {
        if (r.epoch === 2) ac.abort(new Error('cancelled by the user'));
      },
      ac.signal,
    );
    await expect(run).rejects.toThrow('cancelled by the user');
  });

  describe('refuses bad input with a message that says what to do', () => {
    const { data, head } = blobs(30, 9);
    const f = data.features;
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        'no images',
        () => trainLinearProbe({ data: new Float32Array(0), count: 0, dim: 8 }, new Int32Array(0), head, opts),
        /nothing to train on \(0 images\); add images first/,
      ],
      [
        'a label out of range',
        () =>
          trainLinearProbe(
            f,
            Int32Array.from(data.labels, (y, i) => (i === 4 ? 3 : y)),
            head,
            opts,
          ),
        /image 4 has label 3, but the head has 3 classes \(0–2\)/,
      ],
      [
        'a negative label',
        () =>
          trainLinearProbe(
            f,
            Int32Array.from(data.labels, (y, i) => (i === 0 ? -1 : y)),
            head,
            opts,
          ),
        /image 0 has label -1/,
      ],
      [
        'features of another dimension',
        () => trainLinearProbe({ ...f, dim: 4, count: 60 }, new Int32Array(60), head, opts),
        /dimension 4 but the head takes 8; compute the features with the model the head belongs to/,
      ],
      ['fewer labels than rows', () => trainLinearProbe(f, data.labels.subarray(1), head, opts), /30 feature rows but 29 labels/],
      [
        'a NaN feature',
        () => trainLinearProbe({ ...f, data: Float32Array.from(f.data, (v, i) => (i === 8 * 7 + 2 ? NaN : v)) }, data.labels, head, opts),
        /image 7 has a non-finite feature \(NaN at dimension 2\)/,
      ],
      [
        'a NaN validation feature',
        () =>
          trainLinearProbe(f, data.labels, head, {
            ...opts,
            validation: { features: { ...f, data: Float32Array.from(f.data, (v, i) => (i === 0 ? NaN : v)) }, labels: data.labels },
          }),
        /the validation images: image 0 has a non-finite feature/,
      ],
      [
        'a head of the wrong size',
        () => trainLinearProbe(f, data.labels, { ...head, bias: new Float32Array(2) }, opts),
        /the initial head should hold 3×8 weights and 3 biases/,
      ],
      ['zero epochs', () => trainLinearProbe(f, data.labels, head, { ...opts, epochs: 0 }), /epochs must be a whole number of at least 1/],
      [
        'a negative learning rate',
        () => trainLinearProbe(f, data.labels, head, { ...opts, lr: -1 }),
        /learning rate must be a positive number/,
      ],
    ];
    for (const [what, run, message] of cases) {
      it(what, async () => {
        const e = await run().then(
          () => null,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(TrainingError);
        expect((e as Error).message).toMatch(message);
      });
    }
  });
});

describe('stratifiedSplit', () => {
  it("holds out the same share of every class, seeded, and never a class's last image", () => {
    const labels = Int32Array.from([...Array(50).fill(0), ...Array(20).fill(1), ...Array(2).fill(2), 3]);
    const a = stratifiedSplit(labels, 0.2, 7);
    const count = (idx: Int32Array, y: number) => Array.from(idx).filter((i) => labels[i] === y).length;
    expect([0, 1, 2, 3].map((y) => count(a.validation, y))).toEqual([10, 4, 1, 0]);
    expect([0, 1, 2, 3].map((y) => count(a.train, y))).toEqual([40, 16, 1, 1]);
    expect(new Set([...a.train, ...a.validation]).size).toBe(labels.length);
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual(a);
    expect(Array.from(stratifiedSplit(labels, 0.2, 8).validation)).not.toEqual(Array.from(a.validation));
    expect(() => stratifiedSplit(labels, 1, 0)).toThrow(/validation share must be in \[0, 1\)/);
  });
});
