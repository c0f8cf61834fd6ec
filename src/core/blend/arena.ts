import type { WeightAllocator, WeightPair } from './weights';
import { blendModuleBytes } from './mixKernel';

/** (out, a, b, n, alpha): byte offsets into the memory, n a multiple of 4 elements. */
export type SimdMix = (out: number, a: number, b: number, n: number, alpha: number) => void;

/** Byte offsets of one tensor's θ₀ (a), θ₁ (b) and θ(α) (out) in the arena, n elements each (padded to 4). */
export interface ArenaSlot {
  out: number;
  a: number;
  b: number;
  n: number;
}

/** θ0, θ1 and θ(α) of every tensor laid out in one wasm memory, for the SIMD kernel. */
export interface WasmArena {
  memory: WebAssembly.Memory;
  mix: SimdMix;
  at: Map<string, ArenaSlot>;
  /** Views for extractWeightPairs: each weight is copied once, from the file into this memory. */
  alloc: WeightAllocator;
}

const WASM_PAGE = 65536;
// A wasm32 memory holds at most 4 GiB.
const MAX_PAGES = 65536;

// undefined: not compiled yet; null: this engine cannot run it (no SIMD).
let mixModule: WebAssembly.Module | null | undefined;

function compiledKernel(): WebAssembly.Module | null {
  if (mixModule === undefined) {
    const W = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    mixModule = W ? new W.Module(blendModuleBytes()) : null;
  }
  return mixModule;
}

/** Three regions per tensor, each padded to whole vec4s: the kernel reads and writes 16 bytes at a time. */
function layout(tensors: readonly { name: string; count: number }[]): { at: Map<string, ArenaSlot>; bytes: number } {
  let top = 0;
  const at = new Map(tensors.map((t) => {
    const n = Math.ceil(t.count / 4) * 4;
    const slot = { a: top, b: top + 4 * n, out: top + 8 * n, n };
    top += 12 * n;
    return [t.name, slot] as const;
  }));
  return { at, bytes: top };
}

/**
 * The wasm memory for tensors of these element counts, or null where the kernel cannot run (no
 * SIMD, over 4 GiB). Its θ(α) region stays untouched, so uncommitted, until the first blend.
 */
export function wasmArena(tensors: readonly { name: string; count: number }[]): WasmArena | null {
  try {
    const module = compiledKernel();
    if (!module) return null;
    const { at, bytes } = layout(tensors);
    const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
    if (pages > MAX_PAGES) return null;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const mix = new WebAssembly.Instance(module, { e: { m: memory } }).exports.mix as SimdMix;
    const alloc: WeightAllocator = (name, which, count) => {
      const slot = at.get(name);
      if (!slot || count > slot.n) throw new Error(`no room for tensor '${name}' in the blend memory`);
      return new Float32Array(memory.buffer, which === 0 ? slot.a : slot.b, count);
    };
    return { memory, mix, at, alloc };
  } catch {
    // No SIMD (validation fails), no memory this large: the JS loop.
    mixModule ??= null;
    return null;
  }
}

/** Copies pairs extracted elsewhere into a new arena; the pairs then read from it. */
export function wasmResident(pairs: readonly WeightPair[]): WasmArena | null {
  const arena = wasmArena(pairs.map((p) => ({ name: p.name, count: p.zeroShot.length })));
  if (!arena) return null;
  for (const p of pairs) {
    const a = arena.alloc(p.name, 0, p.zeroShot.length);
    const b = arena.alloc(p.name, 1, p.fineTuned.length);
    a.set(p.zeroShot);
    b.set(p.fineTuned);
    // The pair now reads from wasm memory; its own arrays can be collected.
    (p as { zeroShot: Float32Array }).zeroShot = a;
    (p as { fineTuned: Float32Array }).fineTuned = b;
  }
  return arena;
}
