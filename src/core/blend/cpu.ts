import type { WeightAllocator, WeightPair } from './weights';

/**
 * θ(α) = (1-α)·θ0 + α·θ1 on the CPU, in float32, into buffers allocated once. Written as a mix
 * rather than θ0 + α·(θ1-θ0) so that α = 0 and α = 1 give the endpoints bit-exactly.
 *
 * Where WebAssembly SIMD is available the blend runs in a tiny wasm kernel over θ0, θ1 and θ(α)
 * kept in one wasm memory (the pairs' arrays become views into it, so nothing is held twice): the
 * scalar JS loop reaches about a third of TypedArray.set's bandwidth, the kernel 60–80%
 * (docs/benchmarks.md). It computes exactly what mixInto computes, (1-α)·a + α·b in float64 and
 * rounded once to float32, so both paths give bit-identical weights. Without SIMD, or when the
 * weights do not fit one wasm memory (4 GiB), mixInto runs.
 */
/** θ0, θ1 and θ(α) of every tensor laid out in one wasm memory, for the SIMD kernel. */
export interface WasmArena {
  memory: WebAssembly.Memory;
  mix: SimdMix;
  at: Map<string, { out: number; a: number; b: number; n: number }>;
  /** Views for extractWeightPairs: each weight is copied once, from the file into this memory. */
  alloc: WeightAllocator;
}

export class CpuBlender {
  readonly outputs: Map<string, Float32Array>;
  private readonly simd: WasmArena | null;

  /**
   * The wasm memory for tensors of these element counts, or null where the kernel cannot run (no
   * SIMD, over 4 GiB). Its θ(α) region stays untouched, so uncommitted, until the first blend.
   */
  static arena(tensors: readonly { name: string; count: number }[]): WasmArena | null {
    return wasmArena(tensors);
  }

  /** `arena`: where `pairs` were extracted into (else they are copied into a new one). */
  constructor(readonly pairs: readonly WeightPair[], arena?: WasmArena | null) {
    this.simd = arena ?? wasmResident(pairs);
    if (this.simd) {
      const at = this.simd.at;
      this.outputs = new Map(pairs.map((p) => [p.name, new Float32Array(this.simd!.memory.buffer, at.get(p.name)!.out, p.zeroShot.length)]));
    } else {
      this.outputs = new Map(pairs.map((p) => [p.name, new Float32Array(p.zeroShot.length)]));
    }
  }

  blend(alpha: number): void {
    if (this.simd) {
      for (const t of this.simd.at.values()) this.simd.mix(t.out, t.a, t.b, t.n, alpha);
      return;
    }
    for (const p of this.pairs) mixInto(this.outputs.get(p.name)!, p.zeroShot, p.fineTuned, alpha);
  }
}

export function mixInto(out: Float32Array, a: Float32Array, b: Float32Array, alpha: number): void {
  const beta = 1 - alpha;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = beta * a[i]! + alpha * b[i]!;
}

/** (out, a, b, n, alpha): byte offsets into the memory, n a multiple of 4 elements. */
type SimdMix = (out: number, a: number, b: number, n: number, alpha: number) => void;

// The kernel, assembled by bench/mix-variants.ts (exactModuleBytes), with the memory imported as e.m:
//   (func $mix (param $out i32) (param $a i32) (param $b i32) (param $n i32) (param $alpha f64)
//     va = f64x2.splat(alpha); vb = f64x2.splat(1 - alpha); end = out + 4n
//     loop while out < end:
//       x = v128.load(a); y = v128.load(b)
//       lo = f32x4.demote_f64x2_zero(promote_low(x)·vb + promote_low(y)·va)
//       hi = the same on lanes 2, 3 (i8x16.shuffle)
//       v128.store(out, shuffle(lo, hi)); out, a, b += 16)
const MIX_WASM = 'AGFzbQEAAAABCQFgBX9/f398AAIIAQFlAW0CAAEDAgEABwcBA21peAAACtIBAc8BAwJ7AX8CeyAE/RQhBUQAAAAAAADwPyAEof0UIQYgACADQQJ0aiEHAkAgACAHTw0AA0AgACAB/QAEACEIIAL9AAQAIQkgCP1fIAb98gEgCf1fIAX98gH98AH9XiAIIAj9DQgJCgsMDQ4PCAkKCwwNDg/9XyAG/fIBIAkgCf0NCAkKCwwNDg8ICQoLDA0OD/1fIAX98gH98AH9Xv0NAAECAwQFBgcQERITFBUWF/0LBAAgAEEQaiEAIAFBEGohASACQRBqIQIgACAHSQ0ACwsL';
let mixModule: WebAssembly.Module | null | undefined;

function wasmArena(tensors: readonly { name: string; count: number }[]): WasmArena | null {
  try {
    if (mixModule === undefined) {
      const W = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
      mixModule = W ? new W.Module(Uint8Array.from(atob(MIX_WASM), (c) => c.charCodeAt(0))) : null;
    }
    if (!mixModule) return null;
    let top = 0;
    const at = new Map(tensors.map((t) => {
      const n = Math.ceil(t.count / 4) * 4;
      const slot = { a: top, b: top + 4 * n, out: top + 8 * n, n };
      top += 12 * n;
      return [t.name, slot] as const;
    }));
    const pages = Math.max(1, Math.ceil(top / 65536));
    if (pages > 65536) return null;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const mix = new WebAssembly.Instance(mixModule, { e: { m: memory } }).exports.mix as SimdMix;
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
function wasmResident(pairs: readonly WeightPair[]): WasmArena | null {
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
