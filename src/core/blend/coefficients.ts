// What a blend mixes: the coefficients, checked and expanded to one row per tensor.
import { membersOf, type WeightTensor } from './weights';

/**
 * How θ is mixed from the members (zero-shot first, then the fine-tuned ones): θ = Σₖ wₖ·θₖ.
 * `{ alpha }` is the pair's shorthand, w = [1 − α, α]; `weights` gives one w per member (a soup,
 * K ≥ 2). `perTensor` overrides the weights of some tensors, by tensor name (a per-layer α
 * expands its layer group to the group's tensors); a number there is that tensor's α (K = 2 only).
 * The weights are not normalised: Σ wₖ ≠ 1 is an extrapolation or a task vector, the caller's call.
 */
export type BlendCoefficients = (
  { readonly alpha: number; readonly weights?: undefined } | { readonly weights: readonly number[]; readonly alpha?: undefined }
) & {
  readonly perTensor?: Readonly<Record<string, number | readonly number[]>>;
};

/** Coefficients that cannot mix this blender's members (wrong K, an unknown tensor, not finite). */
export class BlendCoefficientsError extends RangeError {
  override name = 'BlendCoefficientsError';
}

function weightsOf(w: number | readonly number[], k: number, what: string): readonly number[] {
  if (typeof w === 'number') {
    if (k !== 2) throw new BlendCoefficientsError(`${what}: an α mixes two members, but this blend has ${k}; give ${k} weights`);
    // 1 − α in float64: α = 0 and α = 1 give exactly [1, 0] and [0, 1], so the endpoints stay exact.
    w = [1 - w, w];
  }
  if (w.length !== k) throw new BlendCoefficientsError(`${what}: ${w.length} weights for ${k} members`);
  if (!w.every(Number.isFinite)) throw new BlendCoefficientsError(`${what}: weights must be finite numbers, got [${w.join(', ')}]`);
  return w;
}

/**
 * The coefficient matrix [tensor][member], row-major, for tensors in `names`' order. Unknown names
 * in `perTensor` are an error rather than ignored: a misspelt layer would otherwise blend uniformly
 * and look like a result.
 */
export function coefficientMatrix(c: BlendCoefficients, names: readonly string[], k: number): Float64Array {
  const uniform = weightsOf(c.weights ?? c.alpha, k, 'blend coefficients');
  const out = new Float64Array(names.length * k);
  const overrides = c.perTensor ?? {};
  const known = new Set(names);
  for (const name of Object.keys(overrides)) {
    if (!known.has(name)) throw new BlendCoefficientsError(`per-tensor coefficients name '${name}', which is not a blended tensor`);
  }
  names.forEach((name, t) => {
    const own = Object.hasOwn(overrides, name) ? weightsOf(overrides[name]!, k, `tensor '${name}'`) : uniform;
    out.set(own, t * k);
  });
  return out;
}

/** A key for the blend cache: equal for equal coefficients, whatever the order of the overrides. */
export function coefficientsKey(c: BlendCoefficients): string {
  const per = Object.entries(c.perTensor ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([c.weights ?? c.alpha, per]);
}

/** K of every tensor, which must agree: one coefficient row mixes them all. */
export function membersCount(tensors: readonly WeightTensor[]): number {
  const k = tensors.length > 0 ? membersOf(tensors[0]!).length : 2;
  for (const t of tensors) {
    if (membersOf(t).length !== k) throw new Error(`tensor '${t.name}' has ${membersOf(t).length} members, the first tensor ${k}`);
  }
  if (k < 2) throw new Error(`a blend needs at least two members, got ${k}`);
  return k;
}
