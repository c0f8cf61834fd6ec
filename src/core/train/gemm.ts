// Where the tower's buffers live and who multiplies them: plain typed arrays and a TypeScript
// product (float64 for the gradient checks, or float32 where WebAssembly SIMD is missing), or one
// WebAssembly memory holding every buffer and the SIMD kernel of gemmKernel.ts (float32, training).
//
// Why a hand-written runtime and not a library: `npm run bench -- --only-train-runtime`, headless
// Chromium, one forward + backward step of the bundled tower, this repository's 2-core machine
// shared with other work (two runs, load average 10–12 and 16–17; every row of a run in one page):
//   batch 32: this kernel 146 / 81 image-steps/s; the same code on plain TypeScript loops 16 / 10;
//             TensorFlow.js 4.22 cpu 1.9 / 1.4 (its gradients agree with these to 1.5e-6);
//             TensorFlow.js 4.22 wasm fails: its wasm backend has no Conv2DBackpropFilter kernel,
//             so it cannot train a convolution at all (and its threaded build did not start here).
//   batch 64: 114 image-steps/s for this kernel (the buffers outgrow the cache: fine-tuning steps in
//             micro-batches of 32), TensorFlow.js cpu 1.5.
// TensorFlow.js would also add ~0.8 MB beside onnxruntime (core 287 KB, wasm backend 146 KB, its
// SIMD wasm 415 KB); this runtime is ~33 KB of source and a ~1 KB kernel assembled in the page,
// with its gradients checked against PyTorch. Not measured: TensorFlow.js on WebGPU (no GPU machine
// was lent; SwiftShader would measure correctness only) and threads (2 busy cores here).
import { gemmModuleBytes } from './gemmKernel';
import { matmul, type Floats, type FloatArrayCtor } from './towerOps';

/** The buffers of one batch size and the product over them. */
export interface TowerMemory {
  /** `length` zeroed floats. */
  alloc(length: number): Floats;
  /** C[m, p] = A[m, k] · B[k, p], row-major, all three from this memory's alloc. */
  mm(a: Floats, b: Floats, c: Floats, m: number, k: number, p: number): void;
}

export interface TowerRuntime {
  readonly name: 'wasm-simd' | 'typescript';
  readonly F: FloatArrayCtor;
  /** A memory for `floats` floats in all (the sum of the allocs to come). */
  memory(floats: number): TowerMemory;
}

export function typescriptRuntime(F: FloatArrayCtor = Float32Array): TowerRuntime {
  return {
    name: 'typescript',
    F,
    memory: () => ({ alloc: (n) => new F(n), mm: matmul }),
  };
}

let gemmModule: WebAssembly.Module | null | undefined;

/** The SIMD runtime, or null where WebAssembly or its SIMD instructions are missing. */
export function wasmRuntime(): TowerRuntime | null {
  if (gemmModule === undefined) {
    const W = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    const bytes = gemmModuleBytes();
    gemmModule = W && W.validate(bytes) ? new W.Module(bytes) : null;
  }
  const module = gemmModule;
  if (!module) return null;
  return { name: 'wasm-simd', F: Float32Array, memory: (floats) => wasmMemory(module, floats) };
}

type Gemm = (a: number, b: number, c: number, m: number, k: number, p: number, pn: number) => void;

function wasmMemory(module: WebAssembly.Module, floats: number): TowerMemory {
  // Every alloc is rounded up to 4 floats, so each starts 16-byte aligned; the 4·4096 spare covers
  // the rounding of up to 4096 allocs.
  const bytes = 4 * (floats + 4 * 4096);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  const gemm = new WebAssembly.Instance(module, { e: { m: memory } }).exports.gemm as Gemm;
  let top = 0;
  return {
    alloc(n) {
      if (top + 4 * n > memory.buffer.byteLength)
        throw new Error(`the tower's memory is full (${top} of ${memory.buffer.byteLength} bytes)`);
      const view = new Float32Array(memory.buffer, top, n);
      top += 16 * Math.ceil(n / 4);
      return view;
    },
    mm(a, b, c, m, k, p) {
      if (a.buffer !== memory.buffer || b.buffer !== memory.buffer || c.buffer !== memory.buffer)
        throw new Error("the tower's product needs buffers from its own memory");
      const m4 = m - (m % 4);
      const p8 = p - (p % 8);
      if (m4 > 0 && p8 > 0 && k > 0) gemm(a.byteOffset, b.byteOffset, c.byteOffset, m4, k, p, p8);
      productRange(a, b, c, k, p, 0, m4, p8, p);
      productRange(a, b, c, k, p, m4, m, 0, p);
    },
  };
}

/** C[i, j] = Σ A[i, q]·B[q, j] for rows [i0, i1) and columns [j0, j1): the edges the kernel leaves. */
function productRange(a: Floats, b: Floats, c: Floats, k: number, p: number, i0: number, i1: number, j0: number, j1: number): void {
  for (let i = i0; i < i1; i++)
    for (let j = j0; j < j1; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a[i * k + q]! * b[q * p + j]!;
      c[i * p + j] = s;
    }
}
