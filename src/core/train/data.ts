// Training data for a linear probe: feature rows with their labels, the checks that turn a bad
// input into a message the user can act on, and the seeded stratified split that holds out a
// validation share of each class.

/** Anything wrong with the data or settings of a training run; the message is meant for the user. */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Feature rows: [count, dim] row-major (the zero-shot tower's L2-normalised embeddings). */
export interface Features {
  data: Float32Array;
  count: number;
  dim: number;
}

/** Labelled features; labels are class indices into the head's rows. */
export interface LabelledFeatures {
  features: Features;
  labels: Int32Array;
}

/**
 * Every check a training run needs before its first step: sizes agree, labels are classes of the
 * head, values are finite. `what` names the data in the message ("the training images").
 */
export function checkLabelled(d: LabelledFeatures, classes: number, dim: number, what: string): void {
  const { features: f, labels } = d;
  if (f.count === 0 || labels.length === 0) throw new TrainingError(`${what}: there is nothing to train on (0 images); add images first`);
  if (f.dim !== dim)
    throw new TrainingError(
      `${what}: features have dimension ${f.dim} but the head takes ${dim}; compute the features with the model the head belongs to`,
    );
  if (f.data.length !== f.count * f.dim)
    throw new TrainingError(`${what}: ${f.count} rows of dimension ${f.dim} need ${f.count * f.dim} values but there are ${f.data.length}`);
  if (labels.length !== f.count)
    throw new TrainingError(`${what}: ${f.count} feature rows but ${labels.length} labels; give one label per image`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!(y >= 0 && y < classes))
      throw new TrainingError(
        `${what}: image ${i} has label ${y}, but the head has ${classes} classes (0–${classes - 1}); map each label to one of the head's classes`,
      );
  }
  const bad = f.data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    throw new TrainingError(
      `${what}: image ${Math.floor(bad / f.dim)} has a non-finite feature (${f.data[bad]} at dimension ${bad % f.dim}); recompute its features or leave the image out`,
    );
  }
}

/** A small seeded generator (mulberry32): the same seed gives the same shuffles on every engine. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates in place with the given generator. */
export function shuffleInPlace(a: Int32Array, random: () => number): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/**
 * Indices of a seeded split, stratified by class: each class gives round(fraction × its count) of
 * its images to validation, but keeps at least one for training, and a class with two or more
 * images gives at least one to validation (so a small folder still has a validation number for
 * every class it has). Indices are in ascending order within each part.
 */
export function stratifiedSplit(
  labels: Int32Array,
  validationFraction: number,
  seed: number,
): { train: Int32Array; validation: Int32Array } {
  if (!(validationFraction >= 0 && validationFraction < 1))
    throw new TrainingError(`the validation share must be in [0, 1), got ${validationFraction}`);
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    let list = byClass.get(y);
    if (!list) byClass.set(y, (list = []));
    list.push(i);
  });
  const random = seededRandom(seed);
  const train: number[] = [];
  const validation: number[] = [];
  // Classes in ascending order, so the draw does not depend on which class came first.
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = shuffleInPlace(Int32Array.from(byClass.get(y)!), random);
    let k = Math.round(validationFraction * idx.length);
    if (validationFraction > 0 && idx.length >= 2) k = Math.max(1, k);
    k = Math.min(k, idx.length - 1);
    validation.push(...idx.subarray(0, k));
    train.push(...idx.subarray(k));
  }
  return { train: Int32Array.from(train).sort(), validation: Int32Array.from(validation).sort() };
}

/** The rows `indices` of labelled features, as a new set. */
export function selectRows(d: LabelledFeatures, indices: Int32Array): LabelledFeatures {
  const { dim } = d.features;
  const data = new Float32Array(indices.length * dim);
  const labels = new Int32Array(indices.length);
  indices.forEach((r, i) => {
    if (!(r >= 0 && r < d.features.count)) throw new TrainingError(`row ${r} is out of range (there are ${d.features.count} rows)`);
    data.set(d.features.data.subarray(r * dim, (r + 1) * dim), i * dim);
    labels[i] = d.labels[r]!;
  });
  return { features: { data, count: indices.length, dim }, labels };
}
