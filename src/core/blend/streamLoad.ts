import { DATA_LOCATION, DATA_TYPE, describeTensor, type OnnxModel } from '../onnx/model';
import { readModelStream, type ChunkSource, type TensorSink } from '../onnx/stream';
import type { TensorProto } from '../onnx/proto';
import { arenaOver, simdKernelAvailable, type ArenaSlot, type WasmArena } from './arena';

const WASM_PAGE = 65536;
// A wasm32 memory holds at most 4 GiB.
const MAX_PAGES = 65536;

/**
 * A wasm memory that grows as the checkpoints stream in. Growing in place costs no copy (engines
 * reserve a wasm32 memory's address space up front), and a region is committed only when written:
 * θ(α)'s regions, reserved before the first blend, take no RAM until it.
 */
class GrowingMemory {
  readonly memory: WebAssembly.Memory;
  private top: number;

  constructor(start: number) {
    this.top = start;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(start / WASM_PAGE), maximum: MAX_PAGES });
  }

  /** The offset of `bytes` more (whole vec4s: the kernel reads 16 bytes at a time), or null past 4 GiB. */
  reserve(bytes: number): number | null {
    const at = this.top;
    const end = at + Math.ceil(bytes / 16) * 16;
    const pages = Math.ceil(end / WASM_PAGE);
    const have = this.memory.buffer.byteLength / WASM_PAGE;
    if (pages > MAX_PAGES) return null;
    try {
      if (pages > have) this.memory.grow(pages - have);
    } catch {
      return null;
    }
    this.top = end;
    return at;
  }
}

/** Bytes of a member's slot for `count` weights: float32, whole vec4s (the kernel reads 16 bytes at a time). */
const slotBytes = (count: number) => 16 * Math.ceil(count / 4);

/** Where a tensor's stored bytes start in its slot: float32 at the start, float16 at the end. */
const dataOffset = (width: number, slot: number, byteLength: number) => (width === 4 ? 0 : slot - byteLength);

/**
 * Member k's float initializers, placed into the memory as they stream in; slot offsets by name.
 * A float32 tensor fills its slot. A float16 one lies at the end of a float32-sized slot, where
 * widening it front to back in place (weights.ts, one tensor's halves copied at a time) never
 * overwrites a half not yet read: so its halves are never held outside the blend memory either.
 */
function placingSink(mem: GrowingMemory, placed: Map<string, number>): TensorSink {
  return {
    place(t: TensorProto, byteLength: number) {
      const width = t.data_type === DATA_TYPE.FLOAT ? 4 : t.data_type === DATA_TYPE.FLOAT16 ? 2 : 0;
      if (width === 0 || t.data_location === DATA_LOCATION.EXTERNAL) return null;
      let expected: number;
      try {
        expected = describeTensor(t).byteLength;
      } catch {
        return null; // a bad header: kept, so that the pair check names it
      }
      if (expected !== byteLength) return null;
      const bytes = slotBytes(byteLength / width);
      const at = mem.reserve(bytes);
      if (at === null) return null;
      placed.set(t.name, at);
      return new Uint8Array(mem.memory.buffer, at + dataOffset(width, bytes, byteLength), byteLength);
    },
  };
}

export interface StreamedMembers {
  models: OnnxModel[];
  /** The blend memory the float weights were read into, laid out for the kernel; null where it cannot run. */
  arena: WasmArena | null;
}

/**
 * Reads K checkpoints (zero-shot first) from their chunks, one after the other, so that no file is
 * ever whole in memory. With `cpuArena` (and WebAssembly SIMD), each float32 initializer is written
 * straight from the stream into its member's slot of the blend memory, and the returned models'
 * raw_data are views of those slots: the pair check and planMemberWeights then read them in place.
 */
export async function streamMembers(
  sources: readonly ChunkSource[],
  labels: readonly string[],
  opts: { cpuArena: boolean },
): Promise<StreamedMembers> {
  const k = sources.length;
  const mem = opts.cpuArena && simdKernelAvailable() ? new GrowingMemory(16 * k) : null;
  const placed = sources.map(() => new Map<string, number>());
  const models: OnnxModel[] = [];
  for (let i = 0; i < k; i++) models.push(await readModelStream(sources[i]!, labels[i], mem ? placingSink(mem, placed[i]!) : undefined));
  if (!mem) return { models, arena: null };
  const at = slotsFor(models[0]!, placed, mem);
  // The memory has its final size now: views made from here on stay valid.
  models.forEach((m, i) => repoint(m, placed[i]!, mem.memory));
  return { models, arena: at ? arenaOver(mem.memory, at, k) : null };
}

/**
 * Every float tensor of the zero-shot model gets a slot: its members where they were placed (a
 * member read elsewhere, an fp16 one, gets a region it is widened into), and θ's region. Null when
 * the memory cannot hold them: the weights are then read from the views into plain arrays.
 */
function slotsFor(zs: OnnxModel, placed: readonly Map<string, number>[], mem: GrowingMemory): Map<string, ArenaSlot> | null {
  const at = new Map<string, ArenaSlot>();
  for (const t of zs.graph.initializer) {
    if (t.data_type !== DATA_TYPE.FLOAT && t.data_type !== DATA_TYPE.FLOAT16) continue;
    const count = describeTensor(t).byteLength / (t.data_type === DATA_TYPE.FLOAT ? 4 : 2);
    const n = Math.ceil(count / 4) * 4;
    const members = placed.map((p) => p.get(t.name) ?? mem.reserve(slotBytes(count)));
    const out = mem.reserve(slotBytes(count));
    if (out === null || members.some((m) => m === null)) return null;
    at.set(t.name, { a: members[0]!, b: members[1] ?? members[0]!, members: members as number[], out, n });
  }
  return at;
}

/** The placed tensors' raw_data, detached by the memory's growth, as views of its final buffer. */
function repoint(model: OnnxModel, placed: ReadonlyMap<string, number>, memory: WebAssembly.Memory): void {
  for (const t of model.graph.initializer) {
    const at = placed.get(t.name);
    if (at === undefined || (t.data_type !== DATA_TYPE.FLOAT && t.data_type !== DATA_TYPE.FLOAT16)) continue;
    const { byteLength } = describeTensor(t);
    const width = t.data_type === DATA_TYPE.FLOAT ? 4 : 2;
    t.raw_data = new Uint8Array(memory.buffer, at + dataOffset(width, slotBytes(byteLength / width), byteLength), byteLength);
  }
}
