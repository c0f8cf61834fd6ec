// ECE, NLL, the reliability bins and temperature scaling against small reference implementations
// written here from the definitions, in float64 arrays (a softmax per row, a loop over bin edges,
// a brute-force grid over T), plus properties: perfectly calibrated predictions have ECE 0, NLL is
// never negative, a fitted T never raises the NLL it is fitted on, and sums add over chunks.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CALIBRATION_BINS,
  addSums,
  binOf,
  calibrationSums,
  ece,
  fitTemperature,
  meanNll,
  mixLogits,
  nllAt,
  reliabilityBins,
} from '../../../../src/core/eval/calibration';
import { markCorrect } from '../../../../src/core/eval/frontier';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

interface Case {
  logits: Float32Array;
  labels: Int32Array;
  classes: number;
  subset: Int32Array | null;
}

function randomCase(seed: number, n: number, classes: number, scale = 4, subset: number[] | null = null): Case {
  const r = rng(seed);
  const logits = Float32Array.from({ length: n * classes }, () => (r() - 0.5) * 2 * scale);
  const use = subset ?? Array.from({ length: classes }, (_, c) => c);
  // Labels lean to the largest logit, so accuracies are neither 0 nor 1.
  const labels = Int32Array.from({ length: n }, (_, i) => {
    if (r() < 0.5) return use[Math.floor(r() * use.length)]!;
    let best = use[0]!;
    for (const c of use) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    return best;
  });
  return { logits, labels, classes, subset: subset ? Int32Array.from(subset) : null };
}

/** Softmax of one row over the classes in use, at temperature T, written plainly. */
function refProbs(c: Case, row: number, T = 1): { cls: number[]; p: number[] } {
  const cls = c.subset ? [...c.subset] : Array.from({ length: c.classes }, (_, k) => k);
  const z = cls.map((k) => c.logits[row * c.classes + k]! / T);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return { cls, p: e.map((v) => v / s) };
}

function refStats(c: Case, T = 1): { ece: number; nll: number; correct: number; bins: { count: number; conf: number; acc: number }[] } {
  const n = c.labels.length;
  const conf: number[] = [];
  const right: boolean[] = [];
  let nll = 0;
  for (let i = 0; i < n; i++) {
    const { cls, p } = refProbs(c, i, T);
    let arg = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[arg]!) arg = k;
    conf.push(p[arg]!);
    right.push(cls[arg] === c.labels[i]);
    nll += -Math.log(p[cls.indexOf(c.labels[i]!)]!);
  }
  const bins = [];
  let e = 0;
  for (let b = 0; b < CALIBRATION_BINS; b++) {
    const lo = b / CALIBRATION_BINS;
    const hi = (b + 1) / CALIBRATION_BINS;
    const idx = conf.map((_, i) => i).filter((i) => conf[i]! > lo && conf[i]! <= hi);
    const acc = idx.filter((i) => right[i]).length / Math.max(1, idx.length);
    const mc = idx.reduce((s, i) => s + conf[i]!, 0) / Math.max(1, idx.length);
    bins.push({ count: idx.length, conf: mc, acc });
    e += (idx.length / n) * Math.abs(acc - mc);
  }
  return { ece: e, nll: nll / n, correct: right.filter(Boolean).length, bins };
}

const sumsOf = (c: Case, T = 1) => calibrationSums(c.logits, c.labels, 0, c.labels.length, c.classes, c.subset, T);

describe('ECE, NLL and the reliability bins', () => {
  it.each([
    [1, 500, 10, 4, null],
    [2, 300, 3, 1, null],
    [3, 400, 20, 8, null],
    [4, 250, 12, 3, [1, 4, 5, 9, 11]],
  ] as const)('equal a float64 reference (seed %i, %i images, %i classes)', (seed, n, classes, scale, subset) => {
    const c = randomCase(seed, n, classes, scale, subset ? [...subset] : null);
    for (const T of [1, 0.5, 2.5]) {
      const want = refStats(c, T);
      const s = sumsOf(c, T);
      expect(ece(s)).toBeCloseTo(want.ece, 12);
      expect(meanNll(s)).toBeCloseTo(want.nll, 12);
      expect(s.correct).toBe(want.correct);
      expect(s.n).toBe(n);
      const bins = reliabilityBins(s);
      expect(bins.map((b) => b.count)).toEqual(want.bins.map((b) => b.count));
      bins.forEach((b, i) => {
        if (b.count === 0) return expect(b.accuracy).toBeNull();
        expect(b.accuracy!).toBeCloseTo(want.bins[i]!.acc, 12);
        expect(b.confidence!).toBeCloseTo(want.bins[i]!.conf, 12);
        expect(b.lower).toBeCloseTo(i / 15, 15);
      });
      expect(nllAt(c.logits, c.labels, n, classes, c.subset, T)).toBeCloseTo(want.nll, 12);
    }
  });

  it("counts the frontier's correct predictions, image for image, with and without a class subset", () => {
    for (const subset of [null, [0, 2, 3, 7]]) {
      const c = randomCase(9, 200, 8, 2, subset);
      const hits = new Uint8Array(200);
      const want = markCorrect(c.logits, c.labels, 0, 200, 8, c.subset, hits);
      expect(sumsOf(c).correct).toBe(want);
      // A temperature changes confidences, never the prediction.
      expect(sumsOf(c, 0.3).correct).toBe(want);
      expect(sumsOf(c, 7).correct).toBe(want);
    }
  });

  it('puts a confidence on a bin edge in the lower bin, as b/B < c ≤ (b+1)/B says', () => {
    for (let b = 1; b <= 15; b++) expect(binOf(b / 15)).toBe(b - 1);
    expect(binOf(1)).toBe(14);
    expect(binOf(1e-9)).toBe(0);
    expect(binOf(1 / 15 + 1e-12)).toBe(1);
  });

  it('adds over chunks: sums of two halves are the sums of the whole', () => {
    const c = randomCase(11, 230, 6);
    const a = calibrationSums(c.logits.subarray(0, 100 * 6), c.labels, 0, 100, 6, null);
    const b = calibrationSums(c.logits.subarray(100 * 6), c.labels, 100, 130, 6, null);
    const whole = sumsOf(c);
    const both = addSums(a, b);
    expect(both.n).toBe(whole.n);
    expect(both.correct).toBe(whole.correct);
    expect(both.binCount).toEqual(whole.binCount);
    expect(ece(both)).toBeCloseTo(ece(whole), 12);
    expect(meanNll(both)).toBeCloseTo(meanNll(whole), 12);
  });

  it('gives NaN, not 0, over no images', () => {
    const c = randomCase(1, 0, 4);
    expect(ece(sumsOf(c))).toBeNaN();
    expect(meanNll(sumsOf(c))).toBeNaN();
  });

  it('mixes logits as the output-space ensemble does, in float32', () => {
    const l0 = Float32Array.from([1, 2, 3]);
    const l1 = Float32Array.from([3, 0, -1]);
    expect(Array.from(mixLogits(l0, l1, 0.25))).toEqual(Array.from(Float32Array.from([1.5, 1.5, 2])));
  });
});

describe('temperature scaling', () => {
  /** The best T of a fine log grid over [0.01, 100] (2,001 points), by brute force. */
  function bruteForce(c: Case): { T: number; nll: number } {
    let best = { T: 1, nll: Infinity };
    for (let i = 0; i <= 2000; i++) {
      const T = Math.exp(Math.log(0.01) + (Math.log(1e4) * i) / 2000);
      const nll = refStats(c, T).nll;
      if (nll < best.nll) best = { T, nll };
    }
    return best;
  }

  it.each([
    [21, 200, 10, 6],
    [22, 150, 5, 0.5],
    [23, 200, 10, 15],
  ] as const)('finds the brute-force grid’s T (seed %i): overconfident and underconfident logits', (seed, n, classes, scale) => {
    const c = randomCase(seed, n, classes, scale);
    const fit = fitTemperature(c.logits, c.labels, n, classes, null);
    const want = bruteForce(c);
    // The grid's step is 0.46% in T: the fit is at least as good and lands within a step or two.
    expect(fit.nll).toBeLessThanOrEqual(want.nll + 1e-12);
    expect(Math.abs(Math.log(fit.temperature / want.T))).toBeLessThan(0.01);
    expect(fit.nll).toBeCloseTo(refStats(c, fit.temperature).nll, 12);
    expect(fit.nllBefore).toBeCloseTo(refStats(c, 1).nll, 12);
    expect(fit.n).toBe(n);
  });

  it('sharpens underconfident logits (T < 1) and softens overconfident ones (T > 1)', () => {
    // Labels drawn from the softmax of 3·z, logits z: the model is too unsure; T ≈ 1/3.
    const r = rng(5);
    const n = 3000;
    const classes = 4;
    const logits = Float32Array.from({ length: n * classes }, () => (r() - 0.5) * 2);
    const draw = (scale: number) =>
      Int32Array.from({ length: n }, (_, i) => {
        const e = Array.from({ length: classes }, (_, k) => Math.exp(scale * logits[i * classes + k]!));
        let u = r() * e.reduce((a, b) => a + b, 0);
        for (let k = 0; k < classes; k++) if ((u -= e[k]!) <= 0) return k;
        return classes - 1;
      });
    const under = fitTemperature(logits, draw(3), n, classes, null);
    expect(under.temperature).toBeGreaterThan(0.25);
    expect(under.temperature).toBeLessThan(0.45);
    const over = fitTemperature(logits, draw(0.4), n, classes, null);
    expect(over.temperature).toBeGreaterThan(1.8);
  });

  it('keeps T = 1 with no images, and stays in its range when every prediction is right', () => {
    expect(fitTemperature(new Float32Array(0), new Int32Array(0), 0, 3, null)).toMatchObject({ temperature: 1, n: 0 });
    // All right with a margin: the NLL falls as T → 0; the fit stops at the range's edge.
    const logits = Float32Array.from([5, 0, 0, 0, 5, 0]);
    const fit = fitTemperature(logits, Int32Array.from([0, 1]), 2, 3, null);
    expect(fit.temperature).toBeCloseTo(0.01, 6);
    expect(fit.nll).toBeLessThan(fit.nllBefore);
  });
});

describe('properties', () => {
  it('perfectly calibrated predictions have ECE ≈ 0', () => {
    // Groups of m identical rows whose top probability is j/m, exactly j of them right.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 4, max: 40 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        (classes, m, fractions) => {
          const rows: number[] = [];
          const labels: number[] = [];
          for (const f of fractions) {
            // Top probability p = j/m, at least 1/classes (else class 0 is not the top one).
            const j = Math.max(Math.ceil(m / classes) + 1, Math.min(m, Math.round(f * m)));
            if (j > m) continue;
            const p = j / m;
            const rest = (1 - p) / (classes - 1);
            for (let i = 0; i < m; i++) {
              rows.push(Math.log(p), ...Array.from({ length: classes - 1 }, () => (rest > 0 ? Math.log(rest) : -1e4)));
              labels.push(i < j ? 0 : 1);
            }
          }
          if (labels.length === 0) return;
          const s = calibrationSums(Float64Array.from(rows), labels, 0, labels.length, classes, null);
          expect(ece(s)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('NLL is never negative, and ECE lies in [0, 1]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 2, max: 15 }),
        (seed, n, classes) => {
          const c = randomCase(seed, n, classes, 1 + (seed % 20));
          const s = sumsOf(c);
          expect(meanNll(s)).toBeGreaterThanOrEqual(0);
          expect(ece(s)).toBeGreaterThanOrEqual(0);
          expect(ece(s)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a fitted T never raises the NLL it is fitted on, and no other T does better', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 2, max: 10 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (seed, n, classes, other) => {
          const c = randomCase(seed, n, classes, 0.2 + (seed % 30));
          const fit = fitTemperature(c.logits, c.labels, n, classes, null);
          expect(fit.nll).toBeLessThanOrEqual(fit.nllBefore);
          expect(fit.nll).toBeLessThanOrEqual(nllAt(c.logits, c.labels, n, classes, null, other) + 1e-9);
        },
      ),
      { numRuns: 100 },
    );
  });
});
