import type { EvalSetData } from '../../../../src/core/eval/sprites';

export const SIZE = 2;
export const CLASSES = 3;
export const PREPROCESS = {
  size: SIZE,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  resize: 'bilinear',
} as unknown as import('../../../../src/core/bundle/manifest').Manifest['preprocess'];

/**
 * A set whose image i is filled with the value i (so a model can read which image it sees), with
 * labels i % CLASSES.
 */
export function evalSet(id: string, count: number, role: 'reference' | 'shift' = 'reference'): EvalSetData {
  const pixels = new Uint8Array(count * SIZE * SIZE * 3);
  for (let i = 0; i < count; i++) pixels.fill(i % 256, i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3);
  const labels = Int32Array.from({ length: count }, (_, i) => i % CLASSES);
  return {
    spec: {
      id,
      name: id,
      role,
      analogue: null,
      description: '',
      sprite: { path: 'x', tile: SIZE, columns: 1, count },
      labels: [...labels],
      classes: null,
    },
    size: SIZE,
    count,
    pixels,
    sheet: null,
    labels,
    classSubset: null,
  } as EvalSetData;
}

/**
 * A model that reads the image index from the first pixel and predicts its label at α = 0, and the
 * label + 1 at α = 1 (so the fine-tuned end is always wrong); in between, the two logits mix.
 */
export async function fakeLogits(alpha: number, input: { data: Float32Array; dims: number[] }): Promise<Float32Array> {
  const n = input.dims[0]!;
  const plane = 3 * SIZE * SIZE;
  const out = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    const image = Math.round(input.data[i * plane]! * 255);
    out[i * CLASSES + (image % CLASSES)] = 1 - alpha;
    out[i * CLASSES + ((image + 1) % CLASSES)] = alpha + 1e-3;
  }
  return out;
}
