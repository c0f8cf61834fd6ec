// The WebGPU rows, free of ORT and of the DOM: the browser page (bench/page.ts) and the Dawn/Node
// runner for real GPUs (bench/gpu-node.ts) call the same functions on whatever GPUDevice they hold.
import { GpuBlender } from '../src/core/gpu/blend';
import type { WeightPair } from '../src/core/blend/weights';
import type { BlendCpuResult } from './rows';
import { stat, timeIt, type Stat } from './stat';

export interface BlendGpuResult extends BlendCpuResult {
  allocatedBytes: number;
}

/** copyBufferToBuffer of `bytes` bytes, in chunks the device can allocate, recorded into an encoder. */
function copier(device: GPUDevice, bytes: number) {
  const chunk = Math.min(device.limits.maxBufferSize, 256 * 2 ** 20);
  const src = device.createBuffer({ size: chunk, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const dst = device.createBuffer({ size: chunk, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  return {
    record(enc: GPUCommandEncoder) {
      for (let off = 0; off < bytes; off += chunk) enc.copyBufferToBuffer(src, 0, dst, 0, Math.min(chunk, bytes - off));
    },
    copy() {
      const enc = device.createCommandEncoder();
      this.record(enc);
      device.queue.submit([enc.finish()]);
    },
    destroy() {
      src.destroy();
      dst.destroy();
    },
  };
}

function rates(elements: number, blendMs: number[], copyMs: number[]) {
  const moved = { blend: elements * 12, copy: elements * 8 };
  const b = stat(blendMs);
  const c = stat(copyMs);
  const blendGBs = moved.blend / b.median / 1e6;
  const copyGBs = moved.copy / c.median / 1e6;
  return { elements, bytesMoved: moved, blendMs: b, copyMs: c, blendGBs, copyGBs, ratio: blendGBs / copyGBs };
}

/**
 * GpuBlender.blend (one submission) vs copyBufferToBuffer of θ0's bytes, each awaited with
 * onSubmittedWorkDone. A blender passed in is reused and left alive (see gpu-node.ts).
 */
export async function gpuBlendRow(device: GPUDevice, pairs: WeightPair[], reps: number, blender?: GpuBlender): Promise<BlendGpuResult> {
  const gpu = blender ?? new GpuBlender(device, pairs);
  const elements = pairs.reduce((s, p) => s + p.zeroShot.length, 0);
  const c = copier(device, elements * 4);
  gpu.blend({ alpha: 0.5 });
  c.copy();
  await device.queue.onSubmittedWorkDone();
  const blendMs: number[] = [];
  const copyMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    blendMs.push(
      ...(await timeIt(1, async () => {
        gpu.blend({ alpha: 0.1 + (r % 9) * 0.1 });
        await device.queue.onSubmittedWorkDone();
      })),
    );
    copyMs.push(
      ...(await timeIt(1, async () => {
        c.copy();
        await device.queue.onSubmittedWorkDone();
      })),
    );
  }
  const allocatedBytes = gpu.allocatedBytes;
  if (!blender) gpu.destroy();
  c.destroy();
  return { ...rates(elements, blendMs, copyMs), allocatedBytes };
}

/**
 * Two GPU timestamps (needs the 'timestamp-query' feature), read back as milliseconds. Empty
 * compute passes carry the marks around work that has no pass of its own (copies).
 */
export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    this.resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Both marks on one compute pass. */
  get passWrites(): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
  }

  begin(enc: GPUCommandEncoder): void {
    enc.beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0 } }).end();
  }

  end(enc: GPUCommandEncoder): void {
    enc.beginComputePass({ timestampWrites: { querySet: this.querySet, endOfPassWriteIndex: 1 } }).end();
  }

  /** Milliseconds between the two marks of the work submitted last. */
  async read(): Promise<number> {
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(this.querySet, 0, 2, this.resolved, 0);
    enc.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 16);
    this.device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ);
    const [t0, t1] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return Number(t1! - t0!) / 1e6;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
    this.readback.destroy();
  }
}

export interface BlendGpuTimedResult {
  /** GPU timestamps around GpuBlender's compute pass and around the copies: device time only. */
  timestamps: ReturnType<typeof rates> | null;
  /** `perAwait` blends (or copies) submitted back to back, one onSubmittedWorkDone: wall-clock ÷ perAwait. */
  batched: ReturnType<typeof rates> & { perAwait: number };
}

/**
 * The blend row without the per-submission wait in it: on a real GPU a CLIP-sized blend takes well
 * under a millisecond, so the wall-clock row also measures how fast the runtime reports completion.
 */
export async function gpuBlendTimedRow(
  device: GPUDevice,
  pairs: WeightPair[],
  reps: number,
  perAwait: number,
  timer: GpuTimer | null,
  blender?: GpuBlender,
): Promise<BlendGpuTimedResult> {
  const gpu = blender ?? new GpuBlender(device, pairs);
  const elements = pairs.reduce((s, p) => s + p.zeroShot.length, 0);
  const c = copier(device, elements * 4);
  gpu.blend({ alpha: 0.5 });
  c.copy();
  await device.queue.onSubmittedWorkDone();
  const timestamps = timer ? await timestampRates(device, gpu, c, elements, reps, timer) : null;
  const blendMs: number[] = [];
  const copyMs: number[] = [];
  // `perAwait` submissions per wait, each timed as the wait's share.
  const perSubmission = async (submit: (k: number) => void) => {
    const ts = await timeIt(1, async () => {
      for (let k = 0; k < perAwait; k++) submit(k);
      await device.queue.onSubmittedWorkDone();
    });
    return ts.map((t) => t / perAwait);
  };
  for (let r = 0; r < reps; r++) {
    blendMs.push(...(await perSubmission((k) => gpu.blend({ alpha: 0.1 + ((r + k) % 9) * 0.1 }))));
    copyMs.push(...(await perSubmission(() => c.copy())));
  }
  if (!blender) gpu.destroy();
  c.destroy();
  return { timestamps, batched: { ...rates(elements, blendMs, copyMs), perAwait } };
}

/** The blend's compute pass and the copies on the GPU's own clock (device time only). */
async function timestampRates(
  device: GPUDevice,
  gpu: GpuBlender,
  c: ReturnType<typeof copier>,
  elements: number,
  reps: number,
  timer: GpuTimer,
): Promise<BlendGpuTimedResult['timestamps']> {
  const blendMs: number[] = [];
  const copyMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    gpu.blend({ alpha: 0.1 + (r % 9) * 0.1 }, timer.passWrites);
    blendMs.push(await timer.read());
    const enc = device.createCommandEncoder();
    timer.begin(enc);
    c.record(enc);
    timer.end(enc);
    device.queue.submit([enc.finish()]);
    copyMs.push(await timer.read());
  }
  return rates(elements, blendMs, copyMs);
}

export interface KernelVariant {
  wg: number;
  groups: number | null;
}
/** The kernel profile's variants, the same in the browser and on the GPU machine so their rows compare: the shipped kernel (workgroup 256, one element per invocation), a narrower workgroup, and grid-stride loops over 4096, 1024 and 256 workgroups. */
export const KERNEL_VARIANTS: readonly KernelVariant[] = [
  { wg: 256, groups: null },
  { wg: 64, groups: null },
  { wg: 256, groups: 4096 },
  { wg: 256, groups: 1024 },
  { wg: 256, groups: 256 },
];
export interface KernelRow {
  variant: string;
  ms: Stat;
  gbs: number;
  gpuMs?: Stat;
  gpuGBs?: number;
}

/**
 * Profile of the WebGPU blend kernel: the shipped one (one vec4 per invocation) against
 * grid-stride variants (each invocation loops over vec4s), on one tensor of `elements` floats.
 * With a timer, each run is also timed on the GPU.
 */
export async function gpuKernelRows(
  dev: GPUDevice,
  o: { elements: number; reps: number; variants: KernelVariant[] },
  timer: GpuTimer | null = null,
): Promise<KernelRow[]> {
  const vec4s = Math.ceil(o.elements / 4);
  const size = vec4s * 16;
  const mk = (usage: number) => dev.createBuffer({ size, usage });
  const a = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
    b = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
    out = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const params = dev.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(params, 0, new Float32Array([0.3, 0, 0, 0]));
  const results: KernelRow[] = [];
  for (const v of o.variants) results.push(await kernelRow(dev, v, vec4s, [a, b, out, params], o.reps, timer));
  for (const x of [a, b, out, params]) x.destroy();
  return results;
}

/** One variant's row: wall clock per awaited submission, and GPU time with a timer. */
async function kernelRow(
  dev: GPUDevice,
  v: KernelVariant,
  vec4s: number,
  buffers: GPUBuffer[],
  reps: number,
  timer: GpuTimer | null,
): Promise<KernelRow> {
  const { run, groups } = kernelRunner(dev, v, vec4s, buffers, timer);
  await run(false);
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await run(false);
    ts.push(performance.now() - t);
  }
  const s = stat(ts);
  const bytes = 12 * vec4s * 4;
  const row: KernelRow = {
    variant:
      v.groups !== null
        ? `grid-stride, workgroup ${v.wg}, ${groups} groups`
        : `one vec4/invocation, workgroup ${v.wg}${v.wg === 256 ? ' (shipped)' : ''}`,
    ms: s,
    gbs: bytes / s.median / 1e6,
  };
  if (timer) {
    const g: number[] = [];
    for (let r = 0; r < reps; r++) {
      await run(true);
      g.push(await timer.read());
    }
    row.gpuMs = stat(g);
    row.gpuGBs = bytes / row.gpuMs.median / 1e6;
  }
  return row;
}

/** The variant's pipeline over `buffers`, and one awaited dispatch of it (`timed`: with the timer's writes). */
function kernelRunner(
  dev: GPUDevice,
  v: KernelVariant,
  vec4s: number,
  buffers: GPUBuffer[],
  timer: GpuTimer | null,
): { run: (timed: boolean) => Promise<void>; groups: number } {
  const pipeline = dev.createComputePipeline({
    layout: 'auto',
    compute: { module: dev.createShaderModule({ code: kernelVariantCode(v) }), entryPoint: 'main' },
  });
  const bg = dev.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = v.groups !== null ? Math.min(v.groups, Math.ceil(vec4s / v.wg)) : Math.ceil(vec4s / v.wg);
  const gx = Math.min(groups, 65535);
  const gy = Math.ceil(groups / gx);
  const run = async (timed: boolean) => {
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass(timed && timer ? { timestampWrites: timer.passWrites } : {});
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    dev.queue.submit([enc.finish()]);
    await dev.queue.onSubmittedWorkDone();
  };
  return { run, groups };
}

/** The variant's WGSL: one vec4 per invocation, or a grid-stride loop when it has a group count. */
function kernelVariantCode(v: KernelVariant): string {
  return `
struct Params { alpha: f32 }
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;
@compute @workgroup_size(${v.wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = arrayLength(&out);
  let w = vec4<f32>(params.alpha);
  ${
    v.groups !== null
      ? `let stride = nwg.x * ${v.wg}u * nwg.y;
  for (var i = gid.x + gid.y * nwg.x * ${v.wg}u; i < n; i += stride) { out[i] = mix(a[i], b[i], w); }`
      : `let i = gid.x + gid.y * ${65535 * v.wg}u;
  if (i >= n) { return; }
  out[i] = mix(a[i], b[i], w);`
  }
}`;
}

/** What bench/gpu-node.ts writes (docs/benchmarks-gpu.json) and bench/report.ts renders. */
export interface GpuNodeReport {
  date: string;
  runtime: { node: string; webgpu: string; dawnFlags: string[]; vkIcd: string | null };
  adapter: Record<string, unknown> & {
    vendor?: string;
    device?: string;
    description?: string;
    shaderF16: boolean;
    timestampQuery: boolean;
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
  };
  pair: { config: { name: string }; params: number; tensors: number };
  correctness: {
    alpha: number;
    tensors: number;
    elements: number;
    maxAbsDiff: number;
    maxRelDiff: number;
    worstTensor: string;
    tolerance: number;
    ok: boolean;
  };
  blend: BlendGpuResult;
  blendTimestamps: BlendGpuTimedResult['timestamps'];
  blendBatched: BlendGpuTimedResult['batched'];
  kernels: { elements: number; rows: KernelRow[] } | null;
  gpuErrors: string[];
  durationS: number;
}
