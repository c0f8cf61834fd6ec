// The door to onnxruntime-web: two builds, one per backend, and the page downloads only the wasm
// its backend runs. WebGPU: the `webgpu` build (native WebGPU EP, which accepts our own
// GPUDevice; the default JSEP build ignores a device passed to it and, fed buffers from another
// device, returns silently wrong numbers); its wasm is the asyncify one (26.8 MB, 6.7 MB
// gzipped). wasm: the wasm-only build, whose binary has no asyncify (14.2 MB, 3.7 MB gzipped)
// and runs the bundled classifier as fast (bench/analysis.md, item 1).
import * as ortGpu from 'onnxruntime-web/webgpu';
import gpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import cpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { Backend, OrtModule } from './engine';
import { boundedFetch, DEFAULT_LIMITS } from '../bundle/net';

type OrtBuild = typeof ortGpu;
interface Build {
  ort: OrtBuild;
  href: string;
  size: string;
}

const href = (url: string) => new URL(url, globalThis.location?.href).href;
const gpu: Build = { ort: ortGpu, href: href(gpuWasmUrl), size: '~27 MB' };
gpu.ort.env.wasm.wasmPaths = { wasm: gpu.href };
let cpu: Build | null = null;
let cpuLoading: Promise<Build> | null = null;
// The thread count asked for last, for the wasm-only build when it arrives after the ask.
let threadCount = 1;

/**
 * The wasm-only build, imported on demand so that it is a chunk of its own: onnxruntime's thread
 * Workers load the chunk their build is in, and two builds in one chunk both answer a thread's
 * start (measured: the WebGPU build's session never came up).
 */
export function loadOrtWasm(): Promise<OrtModule> {
  cpuLoading ??= import('onnxruntime-web/wasm').then((m) => {
    const ort = m as unknown as OrtBuild;
    cpu = { ort, href: href(cpuWasmUrl), size: '~14 MB' };
    ort.env.wasm.wasmPaths = { wasm: cpu.href };
    ort.env.wasm.numThreads = threadCount;
    return cpu;
  });
  return cpuLoading.then((b) => b.ort as unknown as OrtModule);
}

async function buildFor(backend: Backend): Promise<Build> {
  if (backend === 'webgpu') return gpu;
  await loadOrtWasm();
  return cpu!;
}

/** Multi-threaded wasm needs cross-origin isolation (SharedArrayBuffer); else one thread. */
export function configureThreads(requested?: number): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // Structural, so the same line type-checks against the page's Navigator and the Worker's WorkerNavigator.
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  threadCount = isolated ? Math.max(1, requested ?? cores) : 1;
  // Each build has its own env: both get the same thread count.
  for (const b of [gpu, cpu]) if (b) b.ort.env.wasm.numThreads = threadCount;
  return threadCount;
}

/** The loading bar's name for the runtime's own download on `backend`. */
export function runtimeStep(backend: Backend): string {
  return `the runtime (onnxruntime-web wasm, ${backend === 'webgpu' ? gpu.size : '~14 MB'})`;
}

/**
 * Downloads the wasm of the build `backend` runs, with progress, and hands the bytes to
 * onnxruntime, which would otherwise fetch them unseen at the first session (seconds of a frozen
 * bar). Once per Worker and build. A failed download is left to onnxruntime's own fetch, which
 * says why in its error.
 */
export async function loadRuntimeWasm(backend: Backend, onProgress: (loaded: number, total: number | null) => void): Promise<void> {
  const { ort, href: wasm } = await buildFor(backend);
  if (ort.env.wasm.wasmBinary) return;
  try {
    // The bundle's downloader: a stalled transfer is abandoned after DEFAULT_LIMITS.idleMs (then
    // onnxruntime fetches the file itself, as it did before this step existed).
    ort.env.wasm.wasmBinary = await boundedFetch(wasm, {
      origin: new URL(wasm).origin,
      maxBytes: DEFAULT_LIMITS.maxFileBytes,
      idleMs: DEFAULT_LIMITS.idleMs,
      name: 'the onnxruntime-web wasm',
      onProgress,
    });
  } catch {
    // As above: onnxruntime's own fetch says why in its error if the file is really missing.
  }
}

/** The WebGPU build (its wasm EP too): what the tests and benches that compare EPs side by side load. */
export const ortWeb = ortGpu as unknown as OrtModule;
export const ortVersion: string = ortGpu.env.versions?.web ?? 'unknown';
