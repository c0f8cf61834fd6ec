// Calibration along the path: the top-label expected calibration error over equal-width confidence
// bins (Guo et al., ICML 2017; 15 bins, as is standard), the negative log-likelihood of the true
// class, the reliability diagram's bins, and temperature scaling (one scalar T dividing the logits,
// fitted to minimise NLL on one set). Pure: logits and labels in, numbers out, float64 throughout.
//
// Probabilities are a softmax over the classes in use: the set's class subset when it has one (the
// classes wise-ft masks the prediction to), else every class. The prediction is `predict`'s (the
// first largest logit), so a set's `correct` here is the frontier's count, image for image.

/** Equal-width confidence bins of the ECE and the reliability diagram. */
export const CALIBRATION_BINS = 15;

/**
 * Sums over images, additive across chunks: ECE, NLL and the reliability diagram are computed from
 * them. Bin b holds the confidences c with b/B < c ≤ (b+1)/B (a confidence is never 0).
 */
export interface CalibrationSums {
  n: number;
  correct: number;
  /** Σ −log p(true class). */
  nll: number;
  /** Per bin: images, Σ confidence, images predicted right. */
  binCount: number[];
  binConfidence: number[];
  binCorrect: number[];
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence and accuracy of the bin's images; null for an empty bin. */
  confidence: number | null;
  accuracy: number | null;
}

export function emptySums(bins = CALIBRATION_BINS): CalibrationSums {
  const zeros = () => new Array<number>(bins).fill(0);
  return { n: 0, correct: 0, nll: 0, binCount: zeros(), binConfidence: zeros(), binCorrect: zeros() };
}

/** a + b, a new object. */
export function addSums(a: CalibrationSums, b: CalibrationSums): CalibrationSums {
  if (a.binCount.length !== b.binCount.length) throw new Error(`cannot add sums over ${a.binCount.length} and ${b.binCount.length} bins`);
  return {
    n: a.n + b.n,
    correct: a.correct + b.correct,
    nll: a.nll + b.nll,
    binCount: a.binCount.map((v, i) => v + b.binCount[i]!),
    binConfidence: a.binConfidence.map((v, i) => v + b.binConfidence[i]!),
    binCorrect: a.binCorrect.map((v, i) => v + b.binCorrect[i]!),
  };
}

/** The bin b with b/B < c ≤ (b+1)/B, by the same comparisons a loop over bin edges makes. */
export function binOf(confidence: number, bins = CALIBRATION_BINS): number {
  let b = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
  // ceil(c·B) can land one off the comparison c > b/B at an edge, through rounding.
  while (b > 0 && confidence <= b / bins) b--;
  while (b < bins - 1 && confidence > (b + 1) / bins) b++;
  return b;
}

/** One image: the top-label confidence, whether the prediction is right, −log p(true class), at 1/T = `invT`. */
export interface RowOutcome {
  confidence: number;
  correct: boolean;
  nll: number;
}

/**
 * Softmax statistics of row `row` of `logits` ([rows, classes]) for true class `label`, over the
 * classes in use (`subset`, or all). A label outside the classes in use has probability 0: its NLL
 * is Infinity and the image counts as wrong.
 */
export function rowOutcome(
  logits: ArrayLike<number>,
  row: number,
  classes: number,
  subset: ArrayLike<number> | null,
  label: number,
  invT = 1,
): RowOutcome {
  const o = row * classes;
  const count = subset ? subset.length : classes;
  const cls = (k: number) => (subset ? subset[k]! : k);
  let best = -1;
  let max = -Infinity;
  let inUse = false;
  for (let k = 0; k < count; k++) {
    const c = cls(k);
    const v = logits[o + c]!;
    // Strictly greater: the first largest logit wins, as `predict` decides.
    if (v > max) {
      max = v;
      best = c;
    }
    if (c === label) inUse = true;
  }
  let sum = 0;
  for (let k = 0; k < count; k++) sum += Math.exp((logits[o + cls(k)]! - max) * invT);
  const confidence = 1 / sum;
  const nll = inUse ? Math.log(sum) - (logits[o + label]! - max) * invT : Infinity;
  return { confidence, correct: best === label, nll };
}

/**
 * The sums over `n` rows of `logits` whose labels are labels[labelStart …], at temperature T
 * (the logits divided by T before the softmax).
 */
export function calibrationSums(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  labelStart: number,
  n: number,
  classes: number,
  subset: ArrayLike<number> | null,
  temperature = 1,
  bins = CALIBRATION_BINS,
): CalibrationSums {
  const s = emptySums(bins);
  const invT = 1 / temperature;
  for (let i = 0; i < n; i++) {
    addOutcome(s, rowOutcome(logits, i, classes, subset, labels[labelStart + i]!, invT));
  }
  return s;
}

/** Counts one image's outcome into `s`, in its confidence bin (the sums are additive, so any order gives the same report). */
export function addOutcome(s: CalibrationSums, r: RowOutcome): void {
  const b = binOf(r.confidence, s.binCount.length);
  s.n++;
  s.nll += r.nll;
  s.binCount[b]!++;
  s.binConfidence[b]! += r.confidence;
  if (r.correct) {
    s.correct++;
    s.binCorrect[b]!++;
  }
}

/** Top-label ECE: Σ_b (n_b / N)·|accuracy_b − confidence_b|; NaN over no images. */
export function ece(s: CalibrationSums): number {
  if (s.n === 0) return NaN;
  let e = 0;
  for (let b = 0; b < s.binCount.length; b++) e += Math.abs(s.binCorrect[b]! - s.binConfidence[b]!);
  return e / s.n;
}

/** Mean −log p(true class); NaN over no images. */
export function meanNll(s: CalibrationSums): number {
  return s.n === 0 ? NaN : s.nll / s.n;
}

/** The reliability diagram: per bin, its edges, its count, its mean confidence and accuracy. */
export function reliabilityBins(s: CalibrationSums): ReliabilityBin[] {
  const bins = s.binCount.length;
  return s.binCount.map((count, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count,
    confidence: count > 0 ? s.binConfidence[b]! / count : null,
    accuracy: count > 0 ? s.binCorrect[b]! / count : null,
  }));
}

/** Mean NLL of `n` rows (labels[0 … n)) at temperature T. */
export function nllAt(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
  classes: number,
  subset: ArrayLike<number> | null,
  temperature: number,
): number {
  const invT = 1 / temperature;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += rowOutcome(logits, i, classes, subset, labels[i]!, invT).nll;
  return sum / n;
}

/** Where the temperature is searched: T from 1/100 to 100. */
export const TEMPERATURE_RANGE = { min: 0.01, max: 100 } as const;

export interface TemperatureFit {
  temperature: number;
  /** Mean NLL at the fitted T and at T = 1 (fitted ≤ before, always). */
  nll: number;
  nllBefore: number;
  n: number;
}

/**
 * The T in TEMPERATURE_RANGE minimising the mean NLL of `n` rows, searched over log T: a coarse
 * grid finds the lowest bracket, a golden-section search narrows it. NLL is convex in 1/T (a
 * log-sum-exp of lines minus a line), hence unimodal in log T, so the bracket holds the minimum. A
 * fit that would not lower the NLL (no images, a flat or infinite NLL) keeps T = 1.
 */
export function fitTemperature(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
  classes: number,
  subset: ArrayLike<number> | null,
): TemperatureFit {
  const f = (logT: number) => nllAt(logits, labels, n, classes, subset, Math.exp(logT));
  const before = n > 0 ? f(0) : NaN;
  const keep = { temperature: 1, nll: before, nllBefore: before, n };
  if (n === 0 || !Number.isFinite(before)) return keep;
  const lo = Math.log(TEMPERATURE_RANGE.min);
  const hi = Math.log(TEMPERATURE_RANGE.max);
  const steps = 32;
  const grid = Array.from({ length: steps + 1 }, (_, i) => lo + ((hi - lo) * i) / steps);
  const values = grid.map(f);
  let k = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[k]!) k = i;
  const search = goldenSection(f, grid[Math.max(0, k - 1)]!, grid[Math.min(steps, k + 1)]!);
  // The best point seen: the search's, else the grid's (a minimum at the range's edge).
  const [logT, best] = values[k]! < search.fx ? [grid[k]!, values[k]!] : [search.x, search.fx];
  if (!(best < before)) return keep;
  return { temperature: Math.exp(logT), nll: best, nllBefore: before, n };
}

/** Golden-section search for the minimum of a unimodal `f` on [a, b]: the better of its last two points. */
function goldenSection(f: (x: number) => number, a: number, b: number): { x: number; fx: number } {
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < 60 && b - a > 1e-9; i++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = f(d);
    }
  }
  return fc <= fd ? { x: c, fx: fc } : { x: d, fx: fd };
}

/**
 * The output-space ensemble's logits at α, (1 − α)·l0 + α·l1, rounded to float32 as
 * `ensembleCorrect` rounds them, so its predictions are the ensemble's counted ones.
 */
export function mixLogits(l0: Float32Array, l1: Float32Array, alpha: number, out = new Float32Array(l0.length)): Float32Array {
  for (let i = 0; i < l0.length; i++) out[i] = (1 - alpha) * l0[i]! + alpha * l1[i]!;
  return out;
}
