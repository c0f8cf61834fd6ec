import type { OnnxModel } from '../onnx/model';
import type { TensorProto } from '../onnx/proto';
import { OnnxError, describeTensor, tensorValues, DATA_LOCATION } from '../onnx/model';
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

/**
 * Where θ0 (which 0) or θ1 (which 1) of a tensor is written, as float32. The CPU path hands out views
 * into its wasm memory, so each weight is copied once, from the file to where it is blended.
 */
export type WeightAllocator = (name: string, which: 0 | 1, count: number) => Float32Array;

const newArray: WeightAllocator = (_name, _which, count) => new Float32Array(count);

/** Writes a float32 tensor's values into `out` (raw bytes at any offset in the file, or float_data). */
function float32Into(t: TensorProto, out: Float32Array): Float32Array {
  const raw = t.raw_data;
  if (raw && raw.byteLength > 0 && t.data_location !== DATA_LOCATION.EXTERNAL) {
    if (raw.byteLength !== out.byteLength) throw new OnnxError(`tensor '${t.name}' should hold ${out.byteLength} bytes but holds ${raw.byteLength}`);
    // A byte copy: raw_data sits at an arbitrary offset in the file, `out` is aligned.
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(raw);
    return out;
  }
  out.set(tensorValues(t) as Float32Array);
  return out;
}

/** θ0 and θ1 of every differing tensor, copied out of the files so the file bytes can be freed. */
export function extractWeightPairs(zeroShot: OnnxModel, fineTuned: OnnxModel, names: readonly string[], keepHalf = false, alloc: WeightAllocator = newArray): WeightPair[] {
  const a = new Map(zeroShot.graph.initializer.map((t) => [t.name, t]));
  const b = new Map(fineTuned.graph.initializer.map((t) => [t.name, t]));
  return names.map((name) => {
    const ta = a.get(name)!;
    const tb = b.get(name)!;
    const info = describeTensor(ta);
    if (info.dtype === 'float32') {
      const n = info.byteLength / 4;
      return { name, dtype: 'float32', feedDtype: 'float32', shape: info.shape, zeroShot: float32Into(ta, alloc(name, 0, n)), fineTuned: float32Into(tb, alloc(name, 1, n)) };
    }
    if (info.dtype === 'float16') {
      const ha = tensorValues(ta) as Uint16Array;
      const hb = tensorValues(tb) as Uint16Array;
      return {
        name, dtype: 'float16', feedDtype: keepHalf ? 'float16' : 'float32', shape: info.shape,
        zeroShot: halvesToFloats(ha, alloc(name, 0, ha.length)), fineTuned: halvesToFloats(hb, alloc(name, 1, hb.length)),
        ...(keepHalf ? { zeroShotHalf: ha, fineTunedHalf: hb } : {}),
      };
    }
    throw new OnnxError(`tensor '${name}' differs between the checkpoints but is ${info.dtype}; only float32 and float16 weights can be blended`);
  });
}
