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
 * One tensor of a soup: θₖ of each of K ≥ 2 members, zero-shot first, with the same name, dtype
 * and shape. A WeightPair is the K = 2 case under the names the pair code uses.
 */
export interface WeightMembers {
  name: string;
  dtype: 'float32' | 'float16';
  feedDtype: 'float32' | 'float16';
  shape: number[];
  members: Float32Array[];
  /** fp16 bit patterns of every member, kept only where a GPU can blend in f16 directly. */
  membersHalf?: Uint16Array[];
}

export type WeightTensor = WeightPair | WeightMembers;

/** θₖ of each member, zero-shot first (a pair's two arrays, not copies). */
export function membersOf(t: WeightTensor): Float32Array[] {
  return 'members' in t ? t.members : [t.zeroShot, t.fineTuned];
}

export function halvesOf(t: WeightTensor): Uint16Array[] | undefined {
  if ('members' in t) return t.membersHalf;
  return t.zeroShotHalf && t.fineTunedHalf ? [t.zeroShotHalf, t.fineTunedHalf] : undefined;
}

/**
 * Where member `which` of a tensor (0 the zero-shot, 1… the fine-tuned ones) is written, as
 * float32. The CPU path hands out views into its wasm memory, so each weight is copied once, from
 * the file to where it is blended.
 */
export type WeightAllocator = (name: string, which: number, count: number) => Float32Array;

const newArray: WeightAllocator = (_name, _which, count) => new Float32Array(count);

/** Writes a float32 tensor's values into `out` (raw bytes at any offset in the file, or float_data). */
function float32Into(t: TensorProto, out: Float32Array): Float32Array {
  const raw = t.raw_data;
  if (raw && raw.byteLength > 0 && t.data_location !== DATA_LOCATION.EXTERNAL) {
    if (raw.byteLength !== out.byteLength)
      throw new OnnxError(`tensor '${t.name}' should hold ${out.byteLength} bytes but holds ${raw.byteLength}`);
    // Streamed straight into the blend memory (blend/streamLoad.ts): already where it belongs.
    if (raw.buffer === out.buffer && raw.byteOffset === out.byteOffset) return out;
    // A byte copy: raw_data sits at an arbitrary offset in the file, `out` is aligned.
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(raw);
    return out;
  }
  out.set(tensorValues(t) as Float32Array);
  return out;
}

/** θ0 and θ1 of every differing tensor, copied out of the files so the file bytes can be freed. */
export function extractWeightPairs(
  zeroShot: OnnxModel,
  fineTuned: OnnxModel,
  names: readonly string[],
  keepHalf = false,
  alloc: WeightAllocator = newArray,
): WeightPair[] {
  return extractWeightMembers([zeroShot, fineTuned], names, keepHalf, alloc).map(
    ({ members: [zeroShot, fineTuned], membersHalf, ...t }) => ({
      ...t,
      zeroShot: zeroShot!,
      fineTuned: fineTuned!,
      ...(membersHalf ? { zeroShotHalf: membersHalf[0]!, fineTunedHalf: membersHalf[1]! } : {}),
    }),
  );
}

/** θₖ of every differing tensor in each model (zero-shot first), copied out of the files. */
export function extractWeightMembers(
  models: readonly OnnxModel[],
  names: readonly string[],
  keepHalf = false,
  alloc: WeightAllocator = newArray,
): WeightMembers[] {
  const inits = models.map((m) => new Map(m.graph.initializer.map((t) => [t.name, t])));
  return names.map((name) => {
    const ts = inits.map((byName) => byName.get(name)!);
    const info = describeTensor(ts[0]!);
    if (info.dtype === 'float32') {
      const n = info.byteLength / 4;
      return {
        name,
        dtype: 'float32',
        feedDtype: 'float32',
        shape: info.shape,
        members: ts.map((t, k) => float32Into(t, alloc(name, k, n))),
      };
    }
    if (info.dtype === 'float16') {
      const halves = ts.map((t) => tensorValues(t) as Uint16Array);
      return {
        name,
        dtype: 'float16',
        feedDtype: keepHalf ? 'float16' : 'float32',
        shape: info.shape,
        members: halves.map((h, k) => halvesToFloats(h, alloc(name, k, h.length))),
        ...(keepHalf ? { membersHalf: halves } : {}),
      };
    }
    throw new OnnxError(
      `tensor '${name}' differs between the checkpoints but is ${info.dtype}; only float32 and float16 weights can be blended`,
    );
  });
}
