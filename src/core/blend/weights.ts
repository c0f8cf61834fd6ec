import type { OnnxModel } from '../onnx/model';
import { OnnxError, describeTensor, tensorValues } from '../onnx/model';
import { halvesToFloats } from '../onnx/half';

/**
 * One tensor to blend. Both endpoints are widened to float32; fp16 weights stay fp16 only where a
 * GPU with shader-f16 blends them (then the fp16 bits are kept too).
 */
export interface WeightPair {
  name: string;
  /** The dtype stored in the checkpoint. */
  dtype: 'float32' | 'float16';
  /** The dtype θ(α) is fed to the session in. */
  feedDtype: 'float32' | 'float16';
  shape: number[];
  zeroShot: Float32Array;
  fineTuned: Float32Array;
  /** fp16 bit patterns of both endpoints, kept only where a GPU can blend in f16 directly. */
  zeroShotHalf?: Uint16Array;
  fineTunedHalf?: Uint16Array;
}

/** θ0 and θ1 of every differing tensor, copied out of the files so the file bytes can be freed. */
export function extractWeightPairs(zeroShot: OnnxModel, fineTuned: OnnxModel, names: readonly string[], keepHalf = false): WeightPair[] {
  const a = new Map(zeroShot.graph.initializer.map((t) => [t.name, t]));
  const b = new Map(fineTuned.graph.initializer.map((t) => [t.name, t]));
  return names.map((name) => {
    const ta = a.get(name)!;
    const tb = b.get(name)!;
    const info = describeTensor(ta);
    if (info.dtype === 'float32') {
      return { name, dtype: 'float32', feedDtype: 'float32', shape: info.shape, zeroShot: tensorValues(ta) as Float32Array, fineTuned: tensorValues(tb) as Float32Array };
    }
    if (info.dtype === 'float16') {
      const ha = tensorValues(ta) as Uint16Array;
      const hb = tensorValues(tb) as Uint16Array;
      return {
        name, dtype: 'float16', feedDtype: keepHalf ? 'float16' : 'float32', shape: info.shape,
        zeroShot: halvesToFloats(ha), fineTuned: halvesToFloats(hb),
        ...(keepHalf ? { zeroShotHalf: ha, fineTunedHalf: hb } : {}),
      };
    }
    throw new OnnxError(`tensor '${name}' differs between the checkpoints but is ${info.dtype}; only float32 and float16 weights can be blended`);
  });
}

export function weightBytes(pairs: readonly WeightPair[]): number {
  return pairs.reduce((s, p) => s + p.zeroShot.length * (p.dtype === 'float16' ? 2 : 4), 0);
}
