import type { WeightPair } from '../blend/weights';

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

/**
 * Holds θ0 and θ1 of every differing tensor in GPU buffers and writes θ(α) into one output buffer
 * per tensor, which ORT reads directly (Tensor.fromGpuBuffer). One blend is one queue submission
 * with no readback.
 */
export class GpuBlender {
  /** GPU buffers alive across all blenders: the leak tests count them. */
  static liveBuffers = 0;
  private readonly tensors: GpuTensor[] = [];
  private readonly params: GPUBuffer;
  private readonly paramData = new ArrayBuffer(16);
  private destroyed = false;
  /** Bytes of GPU memory this blender allocated (θ0, θ1 and θ(α) buffers). */
  readonly allocatedBytes: number;

  constructor(readonly device: GPUDevice, pairs: readonly WeightPair[]) {
    const useF16 = device.features.has('shader-f16');
    const pipelines = new Map<Kind, GPUComputePipeline>();
    const pipelineFor = (kind: Kind): GPUComputePipeline => {
      let p = pipelines.get(kind);
      if (!p) {
        const code = kind === 'f32' ? F32_KERNEL : F16_KERNEL;
        p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
        pipelines.set(kind, p);
      }
      return p;
    };
    this.params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    GpuBlender.liveBuffers++;
    let allocated = 16;
    const maxBinding = device.limits.maxStorageBufferBindingSize;
    try {
      for (const p of pairs) {
        const n = p.zeroShot.length;
        const vec4s = Math.ceil(n / 4);
        const kind: Kind = p.feedDtype === 'float16' && useF16 && p.zeroShotHalf ? 'f16' : 'f32';
        const inBytes = vec4s * (kind === 'f16' ? 8 : 16);
        const outBytes = inBytes;
        if (inBytes > maxBinding) {
          throw new GpuBufferLimitError(`tensor '${p.name}' needs ${inBytes} bytes in one GPU buffer, above this device's limit of ${maxBinding}`);
        }
        const upload = (src: Float32Array | Uint16Array): GPUBuffer => {
          const buf = device.createBuffer({ size: inBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
          const Ctor = src instanceof Float32Array ? Float32Array : Uint16Array;
          new Ctor(buf.getMappedRange()).set(src);
          buf.unmap();
          GpuBlender.liveBuffers++;
          return buf;
        };
        const a = kind === 'f16' ? upload(p.zeroShotHalf!) : upload(p.zeroShot);
        const b = kind === 'f16' ? upload(p.fineTunedHalf!) : upload(p.fineTuned);
        // ORT reads and may copy the input, so the output buffer carries every usage it needs.
        const output = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
        GpuBlender.liveBuffers++;
        allocated += 2 * inBytes + outBytes;
        const pipeline = pipelineFor(kind);
        const bindGroup = device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: a } },
            { binding: 1, resource: { buffer: b } },
            { binding: 2, resource: { buffer: output } },
            { binding: 3, resource: { buffer: this.params } },
          ],
        });
        const groups = Math.ceil(vec4s / WORKGROUP);
        const gx = Math.min(groups, MAX_GROUPS);
        this.tensors.push({ name: p.name, dtype: kind === 'f16' ? 'float16' : 'float32', dims: p.shape, inputs: [a, b], output, bindGroup, pipeline, groups: [gx, Math.ceil(groups / gx)] });
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
    this.allocatedBytes = allocated;
  }

  get outputs(): ReadonlyArray<{ name: string; dtype: 'float32' | 'float16'; dims: number[]; buffer: GPUBuffer }> {
    return this.tensors.map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims, buffer: t.output }));
  }

  /**
   * All tensors in one compute pass, one submission. `timestampWrites` lets a benchmark time that
   * pass on the GPU itself: a wall-clock wait on a sub-millisecond blend also measures submission
   * and completion latency.
   */
  blend(alpha: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    if (this.destroyed) throw new Error('GpuBlender used after destroy()');
    const view = new DataView(this.paramData);
    view.setFloat32(0, alpha, true);
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

  /** Reads θ(α) of one tensor back (tests and export only; the blend path never reads back). */
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

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const t of this.tensors) {
      for (const b of t.inputs) b.destroy();
      t.output.destroy();
      GpuBlender.liveBuffers -= t.inputs.length + 1;
    }
    this.params.destroy();
    GpuBlender.liveBuffers--;
  }
}
