import type { Tensor } from 'onnxruntime-common';
import type { WeightPair } from '../blend/weights';
import type { BlendCoefficients, BlendedTensor, TensorModule, WeightBlender } from '../blend/blender';
import { sharedLedger, type ResourceLedger } from '../runtime/ledger';
import { floatsToHalves } from '../onnx/half';

// θ(α) = mix(θ0, θ1, α) = θ0·(1-α) + θ1·α, four elements per invocation: a scalar kernel needs more
// than the 65,535 workgroups one dimension allows on CLIP-sized tensors. The 2-D grid covers the rest.
const WORKGROUP = 256;
const MAX_GROUPS = 65535;

const header = /* wgsl */ `
struct Params { alpha: f32, rowStride: u32 }
@group(0) @binding(3) var<uniform> params: Params;
fn index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * params.rowStride; }
`;

const F32_KERNEL = /* wgsl */ `${header}
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = index(gid);
  if (i >= arrayLength(&out)) { return; }
  out[i] = mix(a[i], b[i], vec4<f32>(params.alpha));
}`;

// fp16 weights stored as fp16, blended in f32 and rounded once (needs shader-f16).
const F16_KERNEL = /* wgsl */ `enable f16;
${header}
@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f16>>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = index(gid);
  if (i >= arrayLength(&out)) { return; }
  out[i] = vec4<f16>(mix(vec4<f32>(a[i]), vec4<f32>(b[i]), vec4<f32>(params.alpha)));
}`;

type Kind = 'f32' | 'f16';

interface GpuTensor {
  name: string;
  /** The checkpoint's dtype, which an export writes. */
  checkpointDtype: 'float32' | 'float16';
  /** The dtype the buffers hold and the session is fed. */
  dtype: 'float32' | 'float16';
  dims: number[];
  inputs: GPUBuffer[];
  output: GPUBuffer;
  bindGroup: GPUBindGroup;
  pipeline: GPUComputePipeline;
  groups: [number, number];
}

export class GpuBufferLimitError extends Error {
  override name = 'GpuBufferLimitError';
}

// Params: alpha (f32), rowStride (u32), padded to a uniform buffer's 16-byte minimum.
const PARAMS_BYTES = 16;

/** One compute pipeline per kernel, compiled when a tensor first needs it. */
function pipelineCache(device: GPUDevice): (kind: Kind) => GPUComputePipeline {
  const pipelines = new Map<Kind, GPUComputePipeline>();
  return (kind) => {
    let p = pipelines.get(kind);
    if (!p) {
      const code = kind === 'f32' ? F32_KERNEL : F16_KERNEL;
      p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      pipelines.set(kind, p);
    }
    return p;
  };
}

/** fp16 weights stay fp16 only where the pair kept their bits and the device can blend them. */
function kindOf(p: WeightPair, useF16: boolean): Kind {
  return p.feedDtype === 'float16' && useF16 && p.zeroShotHalf ? 'f16' : 'f32';
}

/** Workgroups for `vec4s` invocations, as a 2-D grid when one dimension's limit is not enough. */
function dispatchGroups(vec4s: number): [number, number] {
  const groups = Math.ceil(vec4s / WORKGROUP);
  const gx = Math.min(groups, MAX_GROUPS);
  return [gx, Math.ceil(groups / gx)];
}

/**
 * Holds θ0 and θ1 of every differing tensor in GPU buffers and writes θ(α) into one output buffer
 * per tensor, which ORT reads directly (Tensor.fromGpuBuffer). One blend is one queue submission
 * with no readback.
 */
export class GpuBlender implements WeightBlender {
  /** @deprecated The count in the shared ledger; pass a ResourceLedger instead. */
  static get liveBuffers(): number {
    return sharedLedger.count('gpu-buffer');
  }

  readonly kind = 'gpu';
  private readonly tensors: GpuTensor[] = [];
  private readonly params: GPUBuffer;
  private readonly paramData = new ArrayBuffer(PARAMS_BYTES);
  private destroyed = false;
  private feedTensors: Record<string, Tensor> | null = null;
  /** Bytes of GPU memory this blender allocated (θ0, θ1 and θ(α) buffers). */
  readonly allocatedBytes: number;

  constructor(readonly device: GPUDevice, pairs: readonly WeightPair[], private readonly ledger: ResourceLedger = sharedLedger) {
    this.params = this.createBuffer({ size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const useF16 = device.features.has('shader-f16');
    const pipelineFor = pipelineCache(device);
    let allocated = PARAMS_BYTES;
    try {
      for (const p of pairs) allocated += this.addTensor(p, kindOf(p, useF16), pipelineFor);
    } catch (e) {
      this.destroy();
      throw e;
    }
    this.allocatedBytes = allocated;
  }

  get gpuBytes(): number {
    return this.allocatedBytes;
  }

  private createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    const buf = this.device.createBuffer(desc);
    this.ledger.acquire('gpu-buffer');
    return buf;
  }

  private upload(src: Float32Array | Uint16Array, bytes: number): GPUBuffer {
    const buf = this.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    const Ctor = src instanceof Float32Array ? Float32Array : Uint16Array;
    new Ctor(buf.getMappedRange()).set(src);
    buf.unmap();
    return buf;
  }

  /** θ0, θ1 and θ(α) buffers of one tensor and its bind group; returns the bytes allocated. */
  private addTensor(p: WeightPair, kind: Kind, pipelineFor: (kind: Kind) => GPUComputePipeline): number {
    const vec4s = Math.ceil(p.zeroShot.length / 4);
    const bytes = vec4s * (kind === 'f16' ? 8 : 16);
    const maxBinding = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > maxBinding) {
      throw new GpuBufferLimitError(`tensor '${p.name}' needs ${bytes} bytes in one GPU buffer, above this device's limit of ${maxBinding}`);
    }
    const a = kind === 'f16' ? this.upload(p.zeroShotHalf!, bytes) : this.upload(p.zeroShot, bytes);
    const b = kind === 'f16' ? this.upload(p.fineTunedHalf!, bytes) : this.upload(p.fineTuned, bytes);
    // ORT reads and may copy the input, so the output buffer carries every usage it needs.
    const output = this.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const pipeline = pipelineFor(kind);
    const buffers = [a, b, output, this.params];
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const dtype = kind === 'f16' ? 'float16' : 'float32';
    this.tensors.push({ name: p.name, checkpointDtype: p.dtype, dtype, dims: p.shape, inputs: [a, b], output, bindGroup, pipeline, groups: dispatchGroups(vec4s) });
    return 3 * bytes;
  }

  get outputs(): ReadonlyArray<{ name: string; dtype: 'float32' | 'float16'; dims: number[]; buffer: GPUBuffer }> {
    return this.tensors.map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims, buffer: t.output }));
  }

  feeds(ort: TensorModule, feedNames: ReadonlyMap<string, string>): Readonly<Record<string, Tensor>> {
    if (!this.feedTensors) {
      this.feedTensors = {};
      for (const t of this.tensors) this.feedTensors[feedNames.get(t.name)!] = ort.Tensor.fromGpuBuffer(t.output, { dataType: t.dtype, dims: t.dims });
    }
    return this.feedTensors;
  }

  /**
   * All tensors in one compute pass, one submission. `timestampWrites` lets a benchmark time that
   * pass on the GPU itself: a wall-clock wait on a sub-millisecond blend also measures submission
   * and completion latency.
   */
  blend(c: BlendCoefficients, timestampWrites?: GPUComputePassTimestampWrites): void {
    if (this.destroyed) throw new Error('GpuBlender used after destroy()');
    const view = new DataView(this.paramData);
    view.setFloat32(0, c.alpha, true);
    view.setUint32(4, MAX_GROUPS * WORKGROUP, true);
    this.device.queue.writeBuffer(this.params, 0, this.paramData);
    const encoder = this.device.createCommandEncoder({ label: 'wiseft-blend' });
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    for (const t of this.tensors) {
      pass.setPipeline(t.pipeline);
      pass.setBindGroup(0, t.bindGroup);
      pass.dispatchWorkgroups(t.groups[0], t.groups[1]);
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** Reads θ(α) of one tensor back, in the dtype the GPU holds (tests and export only). */
  async read(name: string): Promise<Float32Array | Uint16Array> {
    const t = this.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`no blended tensor '${name}'`);
    const staging = this.device.createBuffer({ size: t.output.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(t.output, 0, staging, 0, t.output.size);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const n = t.dims.reduce((x, y) => x * y, 1);
    const copy = t.dtype === 'float32' ? new Float32Array(staging.getMappedRange()).slice(0, n) : new Uint16Array(staging.getMappedRange()).slice(0, n);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  // Each weight goes back in its checkpoint's dtype: an fp16 pair blended in f32 exports as fp16.
  async readBlended(): Promise<BlendedTensor[]> {
    const out: BlendedTensor[] = [];
    for (const t of this.tensors) {
      const values = await this.read(t.name);
      const stored = t.checkpointDtype === 'float16' && values instanceof Float32Array ? floatsToHalves(values) : values;
      out.push({ name: t.name, dims: t.dims, dtype: t.checkpointDtype, values: stored });
    }
    return out;
  }

  dispose(): void {
    for (const f of Object.values(this.feedTensors ?? {})) f.dispose();
    this.feedTensors = null;
    this.destroy();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const t of this.tensors) {
      for (const b of t.inputs) b.destroy();
      t.output.destroy();
      this.ledger.release('gpu-buffer', t.inputs.length + 1);
    }
    this.params.destroy();
    this.ledger.release('gpu-buffer');
  }
}
