import type { Tensor } from 'onnxruntime-common';
import type { WeightPair } from './weights';
import type { WasmArena } from './arena';
import type { ResourceLedger } from '../runtime/ledger';
import { CpuBlender } from './cpu';
import { GpuBlender } from '../gpu/blend';

/**
 * How θ is mixed from its endpoints. Today one α for every tensor of a pair; a soup (K members)
 * adds per-member weights and per-layer α a per-tensor override, as new optional fields, so the
 * callers of blend() and the cache keyed on it do not change.
 */
export interface BlendCoefficients {
  readonly alpha: number;
}

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
 * θ(α) = (1−α)·θ₀ + α·θ₁ for every differing tensor, written in place where the session reads it.
 * One interface for the GPU and the CPU, as onnxruntime's own data managers are: the engine never
 * asks which one it holds.
 */
export interface WeightBlender {
  readonly kind: 'gpu' | 'cpu-simd' | 'cpu-js';
  /** Bytes of GPU memory held (θ₀, θ₁ and θ(α) buffers); 0 on the CPU. */
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

export function createBlender(pairs: readonly WeightPair[], target: BlendTarget): WeightBlender {
  return target.device ? new GpuBlender(target.device, pairs, target.ledger) : new CpuBlender(pairs, target.arena);
}
