import type { Tensor } from 'onnxruntime-common';
import type { WeightTensor } from './weights';
import type { BlendCoefficients } from './coefficients';
import type { WasmArena } from './arena';
import type { ResourceLedger } from '../runtime/ledger';
import { CpuBlender } from './cpu';
import { GpuBlender } from '../gpu/blend';

export { coefficientMatrix, coefficientsKey, BlendCoefficientsError, type BlendCoefficients } from './coefficients';

/** θ(α) of one tensor, in its checkpoint's dtype (fp16 bits for an fp16 checkpoint). */
export interface BlendedTensor {
  name: string;
  dims: number[];
  dtype: 'float32' | 'float16';
  values: Float32Array | Uint16Array;
}

/** The ORT constructor the feeds are made with (onnxruntime-web's and -node's are the same API). */
export type TensorModule = { Tensor: typeof Tensor };

/**
 * θ = Σₖ wₖ·θₖ for every differing tensor, written in place where the session reads it.
 * One interface for the GPU and the CPU, as onnxruntime's own data managers are: the engine never
 * asks which one it holds.
 */
export interface WeightBlender {
  readonly kind: 'gpu' | 'cpu-simd' | 'cpu-js';
  /** How many members it mixes (2 for a pair): the length of each weight vector. */
  readonly members: number;
  /** Bytes of GPU memory held (the members' and θ's buffers); 0 on the CPU. */
  readonly gpuBytes: number;
  /**
   * The session's weight feeds, by feed name (`feedNames` maps each weight to it). Created at the
   * first call and the same objects after: blend() changes their contents, never their identity.
   */
  feeds(ort: TensorModule, feedNames: ReadonlyMap<string, string>): Readonly<Record<string, Tensor>>;
  blend(c: BlendCoefficients): void;
  /** θ of the last blend in each tensor's checkpoint dtype, for an export (the blend path never reads back). */
  readBlended(): Promise<BlendedTensor[]>;
  dispose(): void;
}

export interface BlendTarget {
  /** Blend on this GPU; else on the CPU. */
  device?: GPUDevice;
  /** Where a CPU blender's pairs were extracted into (else they are copied into a new one). */
  arena?: WasmArena | null;
  ledger?: ResourceLedger;
}

/** A blender over pairs (K = 2) or over K members per tensor, all tensors with the same K. */
export function createBlender(tensors: readonly WeightTensor[], target: BlendTarget): WeightBlender {
  return target.device ? new GpuBlender(target.device, tensors, target.ledger) : new CpuBlender(tensors, target.arena);
}
