import type { Tensor } from 'onnxruntime-common';
import { membersOf, halvesOf, type WeightTensor } from '../blend/weights';
import type { BlendedTensor, TensorModule, WeightBlender } from '../blend/blender';
import { coefficientMatrix, membersCount, type BlendCoefficients } from '../blend/coefficients';
import { ResourceLedger } from '../runtime/ledger';
import { floatsToHalves } from '../onnx/half';

// θ = Σₖ wₖ·θₖ, four elements per invocation, for many tensors per dispatch. One dispatch per
// tensor cost 0.38 ms of a 0.77 ms CLIP-sized blend on an H100 (154 dispatches, docs/benchmarks.md),
// so tensors are packed: a *group* holds up to S tensors whose members sit back to back, and one
// dispatch blends the whole group. Each tensor starts on a workgroup boundary, so a workgroup
// belongs to one tensor and finds it with a scan of the group's table. The session still needs one
// GPUBuffer per weight (ORT's fromGpuBuffer takes no offset), so each tensor's θ is its own binding
// and S is what the storage-binding limit (10 on SwiftShader, 8 by default) leaves. To leave the
// most, a group's K members share one buffer (member m at m·stride), so S does not shrink with K
// and any K fits; a group whose K members would pass the binding size gets one buffer per member
// instead. The table (each tensor's start, length and member stride, then its K coefficients) is a
// uniform buffer rewritten per blend, so a per-tensor coefficient change costs no new bind group.
const WORKGROUP = 256;
const MAX_GROUPS = 65535;
// Outputs per dispatch beyond this buy little (the scan and the switch grow with S).
const MAX_OUTPUTS = 32;
const ROW_STRIDE = MAX_GROUPS * WORKGROUP;

type Kind = 'f32' | 'f16';

/** Rows of vec4<u32> in a group's table: S (start, length) rows, then S·K coefficients, 4 a row. */
const tableRows = (s: number, k: number) => s + Math.ceil((s * k) / 4);

/** `packed`: the K members in one binding at a stride (table[0].z vec4s); else one binding each. */
function kernel(kind: Kind, k: number, s: number, packed: boolean): string {
  const t = kind === 'f16' ? 'f16' : 'f32';
  const read = (m: number) => (packed ? `members[i + ${m}u * table[0].z]` : `m${m}[i]`);
  // As on the CPU, a member whose weight is 0 is left out and the first other one starts the sum
  // (no 0 + …): one-hot weights give that member exactly, with or without a fused multiply-add,
  // and skip the other members' reads. The branches are uniform: one tensor per workgroup.
  const sum = Array.from(
    { length: k },
    (_, m) =>
      `c = coef(j, ${m}u); if (c != 0.0) { let x = c * vec4<f32>(${read(m)}); if (started) { acc = acc + x; } else { acc = x; started = true; } }`,
  );
  const cases = Array.from({ length: s }, (_, j) => `case ${j}u: { o${j}[local] = v; }`);
  return /* wgsl */ `${kind === 'f16' ? 'enable f16;' : ''}
${kernelBindings(t, k, s, packed).join('\n')}
fn coef(j: u32, m: u32) -> f32 {
  let w = ${4 * s}u + j * ${k}u + m;
  return bitcast<f32>(table[w / 4u][w % 4u]);
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${ROW_STRIDE}u;
  var j = 0u;
  for (var n = 1u; n < ${s}u; n++) { if (i >= table[n].x) { j = n; } }
  let local = i - table[j].x;
  if (local >= table[j].y) { return; }
  var acc = vec4<f32>(0.0);
  var started = false;
  var c: f32;
  ${sum.join('\n  ')}
  let v = vec4<${t}>(acc);
  switch j { ${cases.join(' ')} default: {} }
}`;
}

/** The kernel's bindings in order: the table, the members (one packed binding or K), the S outputs. */
function kernelBindings(t: 'f16' | 'f32', k: number, s: number, packed: boolean): string[] {
  const inputs = packed ? 1 : k;
  const members = packed
    ? [`@group(0) @binding(1) var<storage, read> members: array<vec4<${t}>>;`]
    : Array.from({ length: k }, (_, m) => `@group(0) @binding(${1 + m}) var<storage, read> m${m}: array<vec4<${t}>>;`);
  const outputs = Array.from(
    { length: s },
    (_, j) => `@group(0) @binding(${1 + inputs + j}) var<storage, read_write> o${j}: array<vec4<${t}>>;`,
  );
  return [`@group(0) @binding(0) var<uniform> table: array<vec4<u32>, ${tableRows(s, k)}>;`, ...members, ...outputs];
}

interface GpuTensor {
  name: string;
  /** The checkpoint's dtype, which an export writes. */
  checkpointDtype: 'float32' | 'float16';
  /** The dtype the buffers hold and the session is fed. */
  dtype: 'float32' | 'float16';
  dims: number[];
  output: GPUBuffer;
  /** Position in the coefficient matrix (the order the tensors were given in). */
  row: number;
}

export interface TensorPlan {
  source: WeightTensor;
  row: number;
  kind: Kind;
  vec4s: number;
  /** First vec4 in the group's member buffers, a multiple of the workgroup size. */
  start: number;
}

export interface GroupPlan {
  kind: Kind;
  /** The K members in one buffer (at a stride of `vec4s`), or one buffer each. */
  packed: boolean;
  tensors: TensorPlan[];
  /** vec4s of one member's region. */
  vec4s: number;
}

interface Group {
  tensors: GpuTensor[];
  /** (start, length) of each tensor, written into the table with the coefficients. */
  spans: [number, number][];
  /** vec4s from one member's region to the next (packed groups). */
  stride: number;
  members: GPUBuffer[];
  bindGroup: GPUBindGroup;
  pipeline: GPUComputePipeline;
  groups: [number, number];
  /** Byte offset of this group's table in the table buffer. */
  tableOffset: number;
  outputs: number;
}

export class GpuBufferLimitError extends Error {
  override name = 'GpuBufferLimitError';
}

const vec4Bytes = (kind: Kind) => (kind === 'f16' ? 8 : 16);

/** fp16 weights stay fp16 only where the tensor kept their bits and the device can blend them. */
function kindOf(p: WeightTensor, useF16: boolean): Kind {
  return p.feedDtype === 'float16' && useF16 && halvesOf(p) ? 'f16' : 'f32';
}

/** Workgroups for `vec4s` invocations, as a 2-D grid when one dimension's limit is not enough. */
function dispatchGroups(vec4s: number): [number, number] {
  const groups = Math.max(1, Math.ceil(vec4s / WORKGROUP));
  const gx = Math.min(groups, MAX_GROUPS);
  return [gx, Math.ceil(groups / gx)];
}

/** Outputs per dispatch: what the storage-binding limit leaves after the members' bindings. */
function outputsPerDispatch(limit: number, inputs: number): number {
  return Math.min(MAX_OUTPUTS, limit - inputs);
}

/**
 * Tensors into groups, in order, one kind per group: at most S tensors, and member buffers within
 * the binding size. Planned before anything is allocated, so a tensor too large for one binding
 * fails with nothing to free.
 */
export function planGroups(
  tensors: readonly WeightTensor[],
  useF16: boolean,
  k: number,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxStorageBuffersPerShaderStage'>,
  packMembers = true,
): GroupPlan[] {
  const maxBinding = limits.maxStorageBufferBindingSize;
  const open = new Map<string, GroupPlan>();
  const done: GroupPlan[] = [];
  tensors.forEach((source, row) => {
    const kind = kindOf(source, useF16);
    const vec4s = Math.ceil(membersOf(source)[0]!.length / 4);
    const bytes = vec4s * vec4Bytes(kind);
    if (bytes > maxBinding)
      throw new GpuBufferLimitError(
        `tensor '${source.name}' needs ${bytes} bytes in one GPU buffer, above this device's limit of ${maxBinding}`,
      );
    const packed = packMembers && k * bytes <= maxBinding;
    const s = outputsPerDispatch(limits.maxStorageBuffersPerShaderStage, packed ? 1 : k);
    if (s < 1)
      throw new GpuBufferLimitError(
        `tensor '${source.name}': its ${k} members need one buffer each (${bytes} bytes apiece; together above the binding limit of ${maxBinding}), more than this device's ${limits.maxStorageBuffersPerShaderStage} storage buffers per dispatch`,
      );
    const key = `${kind}:${packed}`;
    let g = open.get(key);
    const start = g ? Math.ceil(g.vec4s / WORKGROUP) * WORKGROUP : 0;
    if (g && (g.tensors.length >= s || (packed ? k : 1) * (start + vec4s) * vec4Bytes(kind) > maxBinding)) {
      done.push(g);
      g = undefined;
    }
    if (!g) {
      g = { kind, packed, tensors: [], vec4s: 0 };
      open.set(key, g);
    }
    const at = g.tensors.length === 0 ? 0 : start;
    g.tensors.push({ source, row, kind, vec4s, start: at });
    g.vec4s = at + vec4s;
  });
  return [...done, ...open.values()];
}

/**
 * Holds every member of every differing tensor in GPU buffers, packed by group, and writes θ into
 * one output buffer per tensor, which ORT reads directly (Tensor.fromGpuBuffer). One blend is one
 * table upload, one compute pass of ⌈tensors / S⌉ dispatches and one submission, with no readback.
 */
export class GpuBlender implements WeightBlender {
  readonly kind = 'gpu';
  readonly members: number;
  /** Dispatches per blend (one per group). */
  readonly dispatches: number;
  private readonly tensors: GpuTensor[] = [];
  private readonly groups: Group[] = [];
  private readonly names: string[];
  private readonly table: GPUBuffer | null = null;
  private readonly tableData: ArrayBuffer;
  private destroyed = false;
  private feedTensors: Record<string, Tensor> | null = null;
  /** Bytes of GPU memory this blender allocated (members, θ and table buffers). */
  readonly allocatedBytes: number;

  /** `packMembers: false` gives every group one buffer per member, as only very large tensors get otherwise (tests). */
  constructor(
    readonly device: GPUDevice,
    pairs: readonly WeightTensor[],
    private readonly ledger: ResourceLedger = new ResourceLedger(),
    opts: { packMembers?: boolean } = {},
  ) {
    const k = membersCount(pairs);
    this.members = k;
    this.names = pairs.map((p) => p.name);
    const limits = device.limits;
    const plans = planGroups(pairs, device.features.has('shader-f16'), k, limits, opts.packMembers ?? true);
    const align = limits.minUniformBufferOffsetAlignment;
    const stride = (outputs: number) => Math.ceil((tableRows(outputs, k) * 16) / align) * align;
    let tableBytes = 0;
    const offsets = plans.map((g) => {
      const at = tableBytes;
      tableBytes += stride(g.tensors.length);
      return at;
    });
    this.tableData = new ArrayBuffer(Math.max(16, tableBytes));
    let allocated = this.tableData.byteLength;
    try {
      this.table = this.createBuffer({ size: this.tableData.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      const pipelineFor = pipelineCache(device, k);
      plans.forEach((g, i) => (allocated += this.addGroup(g, offsets[i]!, pipelineFor)));
    } catch (e) {
      this.destroy();
      throw e;
    }
    this.tensors.sort((a, b) => a.row - b.row);
    this.dispatches = this.groups.length;
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

  /**
   * The group's members: one buffer holding all K at a stride of g.vec4s, or one buffer each.
   * Each buffer goes into `buffers` as it is made, so destroy() frees them if a later one fails.
   */
  private uploadMembers(g: GroupPlan, buffers: GPUBuffer[]): void {
    const regionBytes = g.vec4s * vec4Bytes(g.kind);
    if (g.packed)
      buffers.push(
        this.createBuffer({
          size: Math.max(16, this.members * regionBytes),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
          mappedAtCreation: true,
        }),
      );
    // A mapped range may be fetched once: the packed buffer's serves every member.
    const packedRange = g.packed ? buffers[0]!.getMappedRange() : null;
    for (let m = 0; m < this.members; m++) {
      if (!g.packed)
        buffers.push(
          this.createBuffer({
            size: Math.max(16, regionBytes),
            usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
            mappedAtCreation: true,
          }),
        );
      const range = packedRange ?? buffers[m]!.getMappedRange();
      const base = g.packed ? m * regionBytes : 0;
      for (const t of g.tensors) {
        if (g.kind === 'f16') new Uint16Array(range, base + t.start * 8, t.vec4s * 4).set(halvesOf(t.source)![m]!);
        else new Float32Array(range, base + t.start * 16, t.vec4s * 4).set(membersOf(t.source)[m]!);
      }
    }
    for (const b of buffers) b.unmap();
  }

  /** The members' buffers, θ's buffers and the bind group of one group; returns the bytes allocated. */
  private addGroup(
    g: GroupPlan,
    tableOffset: number,
    pipelineFor: (kind: Kind, outputs: number, packed: boolean) => GPUComputePipeline,
  ): number {
    const group: Group = {
      tensors: [],
      spans: [],
      stride: g.packed ? g.vec4s : 0,
      members: [],
      bindGroup: null!,
      pipeline: pipelineFor(g.kind, g.tensors.length, g.packed),
      groups: dispatchGroups(g.vec4s),
      tableOffset,
      outputs: g.tensors.length,
    };
    // Pushed before the next allocation, so destroy() frees whatever a failure leaves.
    this.groups.push(group);
    this.uploadMembers(g, group.members);
    let bytes = group.members.reduce((sum, b) => sum + b.size, 0);
    for (const t of g.tensors) bytes += this.addOutput(g.kind, t, group);
    const buffers = [...group.members, ...group.tensors.map((t) => t.output)];
    group.bindGroup = this.device.createBindGroup({
      layout: group.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.table!, offset: tableOffset, size: tableRows(group.outputs, this.members) * 16 } },
        ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      ],
    });
    return bytes;
  }

  /** θ's buffer of one tensor of `group`; returns its bytes. */
  private addOutput(kind: Kind, t: TensorPlan, group: Group): number {
    const size = t.vec4s * vec4Bytes(kind);
    // ORT reads and may copy the input, so the output buffer carries every usage it needs.
    const output = this.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const tensor: GpuTensor = {
      name: t.source.name,
      checkpointDtype: t.source.dtype,
      dtype: kind === 'f16' ? 'float16' : 'float32',
      dims: t.source.shape,
      output,
      row: t.row,
    };
    group.tensors.push(tensor);
    group.spans.push([t.start, t.vec4s]);
    this.tensors.push(tensor);
    return size;
  }

  get outputs(): ReadonlyArray<{ name: string; dtype: 'float32' | 'float16'; dims: number[]; buffer: GPUBuffer }> {
    return this.tensors.map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims, buffer: t.output }));
  }

  feeds(ort: TensorModule, feedNames: ReadonlyMap<string, string>): Readonly<Record<string, Tensor>> {
    if (!this.feedTensors) {
      this.feedTensors = {};
      for (const t of this.tensors)
        this.feedTensors[feedNames.get(t.name)!] = ort.Tensor.fromGpuBuffer(t.output, { dataType: t.dtype, dims: t.dims });
    }
    return this.feedTensors;
  }

  /**
   * Every group in one compute pass, one submission. `timestampWrites` lets a benchmark time that
   * pass on the GPU itself: a wall-clock wait on a sub-millisecond blend also measures submission
   * and completion latency.
   */
  blend(c: BlendCoefficients, timestampWrites?: GPUComputePassTimestampWrites): void {
    if (this.destroyed) throw new Error('GpuBlender used after destroy()');
    const k = this.members;
    const w = coefficientMatrix(c, this.names, k);
    const words = new Uint32Array(this.tableData);
    const coefs = new Float32Array(this.tableData);
    for (const g of this.groups) {
      const base = g.tableOffset / 4;
      g.spans.forEach(([start, length], j) => {
        words[base + 4 * j] = start;
        words[base + 4 * j + 1] = length;
        words[base + 4 * j + 2] = g.stride;
        // Rounded to f32 here; 1 − α of α = 0 or 1 is exactly 1 or 0, so the endpoints survive.
        const row = g.tensors[j]!.row;
        for (let m = 0; m < k; m++) coefs[base + 4 * g.outputs + j * k + m] = w[row * k + m]!;
      });
    }
    this.device.queue.writeBuffer(this.table!, 0, this.tableData);
    const encoder = this.device.createCommandEncoder({ label: 'wiseft-blend' });
    const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    for (const g of this.groups) {
      pass.setPipeline(g.pipeline);
      pass.setBindGroup(0, g.bindGroup);
      pass.dispatchWorkgroups(g.groups[0], g.groups[1]);
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
    const copy =
      t.dtype === 'float32'
        ? new Float32Array(staging.getMappedRange()).slice(0, n)
        : new Uint16Array(staging.getMappedRange()).slice(0, n);
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
    for (const g of this.groups) {
      for (const b of g.members) b.destroy();
      for (const t of g.tensors) t.output.destroy();
      this.ledger.release('gpu-buffer', g.members.length + g.tensors.length);
    }
    if (this.table) {
      this.table.destroy();
      this.ledger.release('gpu-buffer');
    }
  }
}

/** One compute pipeline per (kind, outputs, packing), compiled when a group first needs it. */
function pipelineCache(device: GPUDevice, k: number): (kind: Kind, outputs: number, packed: boolean) => GPUComputePipeline {
  const pipelines = new Map<string, GPUComputePipeline>();
  return (kind, outputs, packed) => {
    const key = `${kind}:${outputs}:${packed}`;
    let p = pipelines.get(key);
    if (!p) {
      const code = kernel(kind, k, outputs, packed);
      p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      pipelines.set(key, p);
    }
    return p;
  };
}
