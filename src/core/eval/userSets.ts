import { setIdProblem, SET_ID_RULE } from './ids';
import { packRgb } from '../image/pack';
import { sha256Hex, combineHashes } from '../util/hash';
import type { EvalSetData } from './sprites';

export interface UserEvalSet {
  id: string;
  name: string;
  role: 'reference' | 'shift';
  images: Uint8Array[];
  labels: number[];
  classSubset: number[] | null;
}

/**
 * The user's own eval sets (images already at the model's size, RGB) as the evaluation reads a
 * bundle's: checked (ids, one reference) and packed into one pixel buffer each.
 */
export function packUserEvalSets(sets: readonly UserEvalSet[], size: number): EvalSetData[] {
  if (sets.length === 0) throw new Error('no eval sets');
  for (const s of sets) {
    const problem = setIdProblem(s.id);
    if (problem) throw new Error(`${problem}: set ids need ${SET_ID_RULE}`);
  }
  if (new Set(sets.map((s) => s.id)).size !== sets.length) throw new Error('two eval sets have the same id');
  const data = sets.map((s) => userSetData(s, size));
  if (data.filter((d) => d.spec.role === 'reference').length !== 1) throw new Error('exactly one set must be the reference');
  return data;
}

function userSetData(s: UserEvalSet, size: number): EvalSetData {
  const count = s.images.length;
  return {
    spec: {
      id: s.id,
      name: s.name,
      role: s.role,
      analogue: null,
      description: `${count} images you provided`,
      sprite: { path: 'user', tile: size, columns: 1, count },
      labels: s.labels,
      classes: s.classSubset,
    },
    size,
    count,
    pixels: packRgb(s.images, size, (i) => `set '${s.id}': image ${i}`),
    sheet: null,
    labels: Int32Array.from(s.labels),
    classSubset: s.classSubset ? Int32Array.from(s.classSubset) : null,
  };
}

/**
 * The key results are stored under with the user's sets: it hashes the pair and every image,
 * label and role, so no number measured on other sets can be shown with these.
 */
export async function resultsKeyFor(bundleHash: string, sets: readonly EvalSetData[]): Promise<string> {
  const text = (s: string) => new TextEncoder().encode(s);
  const parts = [
    text(bundleHash),
    ...sets.flatMap((d) => [d.pixels!, new Uint8Array(d.labels.buffer), text(`${d.spec.id}:${d.spec.role}`)]),
  ];
  return combineHashes(await Promise.all(parts.map(sha256Hex)));
}
