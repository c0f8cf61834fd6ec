import { membersOf, type WeightAllocator, type WeightTensor } from './weights';
import { blendModuleBytes, soupModuleBytes } from './mixKernel';

/** (out, a, b, n, alpha): byte offsets into the memory, n a multiple of 4 elements. */
export type SimdMix = (out: number, a: number, b: number, n: number, alpha: number) => void;

/** Byte offsets of one tensor's members θₖ and of θ in the arena, n elements each (padded to 4). */
export interface ArenaSlot {
  out: number;
  /** θ₀ and θ₁: members[0] and members[1]. */
  a: number;
  b: number;
  members: number[];
  n: number;
}

/** The members and θ of every tensor laid out in one wasm memory, for the SIMD kernels. */
export interface WasmArena {
  memory: WebAssembly.Memory;
  /** The pair kernel, (1 − α)·θ₀ + α·θ₁ (kept as the reference the soup kernel is measured against). */
  mix: SimdMix;
  /** θ = Σₖ wₖ·θₖ of one tensor, `weights` its K coefficients. */
  soup(slot: ArenaSlot, weights: ArrayLike<number>): void;
  /** Members per tensor. */
  k: number;
  at: Map<string, ArenaSlot>;
  /** Views for extractWeightMembers: each weight is copied once, from the file into this memory. */
  alloc: WeightAllocator;
}

const WASM_PAGE = 65536;
// A wasm32 memory holds at most 4 GiB.
const MAX_PAGES = 65536;

// undefined: not compiled yet; null: this engine cannot run it (no SIMD). The soup modules by K.
let mixModule: WebAssembly.Module | null | undefined;
const soupModules = new Map<number, WebAssembly.Module>();

function compiledKernel(): WebAssembly.Module | null {
  if (mixModule === undefined) {
    const W = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    mixModule = W ? new W.Module(blendModuleBytes()) : null;
  }
  return mixModule;
}

function compiledSoup(k: number): WebAssembly.Module {
  let m = soupModules.get(k);
  if (!m) soupModules.set(k, (m = new WebAssembly.Module(soupModuleBytes(k))));
  return m;
}

/**
 * The soup kernel's table first (K rows of 16 bytes, rewritten per tensor per blend), then K + 1
 * regions per tensor, each padded to whole vec4s: the kernel reads and writes 16 bytes at a time.
 * For K = 2 the regions sit where the pair kernel's a, b and out always were.
 */
function layout(tensors: readonly { name: string; count: number }[], k: number): { at: Map<string, ArenaSlot>; bytes: number } {
  let top = 16 * k;
  const at = new Map(
    tensors.map((t) => {
      const n = Math.ceil(t.count / 4) * 4;
      const members = Array.from({ length: k }, (_, m) => top + 4 * n * m);
      const slot = { a: members[0]!, b: members[1]!, members, out: top + 4 * n * k, n };
      top += 4 * n * (k + 1);
      return [t.name, slot] as const;
    }),
  );
  return { at, bytes: top };
}

/**
 * The wasm memory for tensors of these element counts with `k` members each (2 for a pair), or
 * null where the kernel cannot run (no SIMD, over 4 GiB). Its θ region stays untouched, so
 * uncommitted, until the first blend.
 */
export function wasmArena(tensors: readonly { name: string; count: number }[], k = 2): WasmArena | null {
  try {
    if (!compiledKernel()) return null;
    const { at, bytes } = layout(tensors, k);
    const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
    if (pages > MAX_PAGES) return null;
    return arenaOver(new WebAssembly.Memory({ initial: pages, maximum: pages }), at, k);
  } catch {
    // No SIMD (validation fails), no memory this large: the JS loop.
    mixModule ??= null;
    return null;
  }
}

/** Whether this engine runs the SIMD kernel (compiled once). */
export function simdKernelAvailable(): boolean {
  try {
    return compiledKernel() !== null;
  } catch {
    mixModule = null;
    return false;
  }
}

/**
 * The kernels over a memory whose slots are already laid out (`at`; the soup table's 16·k bytes at
 * offset 0). The memory must not grow afterwards: the blender's views into it would be detached.
 */
export function arenaOver(memory: WebAssembly.Memory, at: Map<string, ArenaSlot>, k: number): WasmArena {
  const module = compiledKernel();
  if (!module) throw new Error('the blend kernel needs WebAssembly SIMD');
  const mix = new WebAssembly.Instance(module, { e: { m: memory } }).exports.mix as SimdMix;
  // One instance per count of non-zero weights, made when first needed (index: that count).
  const runs: ((out: number, table: number, n: number) => void)[] = [];
  const runFor = (terms: number) =>
    (runs[terms] ??= new WebAssembly.Instance(compiledSoup(terms), { e: { m: memory } }).exports.soup as (
      out: number,
      table: number,
      n: number,
    ) => void);
  // The table is at offset 0; its pointers change per tensor, its weights per tensor and blend.
  const table = new DataView(memory.buffer, 0, 16 * k);
  const soup = (slot: ArenaSlot, weights: ArrayLike<number>) => {
    let terms = 0;
    for (let m = 0; m < k; m++) {
      // A zero weight leaves its member out (see mixMembersInto): one-hot is that member, −0 included.
      if (weights[m] === 0) continue;
      table.setInt32(16 * terms, slot.members[m]!, true);
      table.setFloat64(16 * terms + 8, weights[m]!, true);
      terms++;
    }
    if (terms === 0) new Float32Array(memory.buffer, slot.out, slot.n).fill(0);
    else runFor(terms)(slot.out, 0, slot.n);
  };
  const alloc: WeightAllocator = (name, which, count) => {
    const slot = at.get(name);
    if (!slot || count > slot.n || !(which >= 0 && which < k))
      throw new Error(`no room for tensor '${name}' (member ${which}) in the blend memory`);
    return new Float32Array(memory.buffer, slot.members[which]!, count);
  };
  return { memory, mix, soup, k, at, alloc };
}

/** Copies tensors extracted elsewhere into a new arena; they then read from it. */
export function wasmResident(tensors: readonly WeightTensor[]): WasmArena | null {
  const k = tensors.length > 0 ? membersOf(tensors[0]!).length : 2;
  const arena = wasmArena(
    tensors.map((t) => ({ name: t.name, count: membersOf(t)[0]!.length })),
    k,
  );
  if (!arena) return null;
  for (const t of tensors) {
    const views = membersOf(t).map((m, which) => {
      const v = arena.alloc(t.name, which, m.length);
      v.set(m);
      return v;
    });
    // The tensor now reads from wasm memory; its own arrays can be collected.
    if ('members' in t) t.members.splice(0, views.length, ...views);
    else {
      (t as { zeroShot: Float32Array }).zeroShot = views[0]!;
      (t as { fineTuned: Float32Array }).fineTuned = views[1]!;
    }
  }
  return arena;
}
