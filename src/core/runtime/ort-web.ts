// The door to onnxruntime-web: two builds, one per backend, and the page downloads only the one
// its backend runs. WebGPU: the `webgpu` build (native WebGPU EP, which accepts our own
// GPUDevice; the default JSEP build ignores a device passed to it and, fed buffers from another
// device, returns silently wrong numbers); its wasm is the asyncify one (26.8 MB, 6.7 MB
// gzipped). wasm: the wasm-only build, whose binary has no asyncify (14.2 MB, 3.7 MB gzipped)
// and runs the bundled classifier as fast (bench/analysis.md, item 1).
import * as ortGpu from 'onnxruntime-web/webgpu';
import * as ortCpu from 'onnxruntime-web/wasm';
import gpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import cpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { Backend, OrtModule } from './engine';
import { boundedFetch, DEFAULT_LIMITS } from '../bundle/net';

type OrtBuild = typeof ortGpu;
const builds: Record<'webgpu' | 'wasm', { ort: OrtBuild; href: string; size: string }> = {
  webgpu: { ort: ortGpu, href: new URL(gpuWasmUrl, globalThis.location?.href).href, size: '~27 MB' },
  wasm: { ort: ortCpu as OrtBuild, href: new URL(cpuWasmUrl, globalThis.location?.href).href, size: '~14 MB' },
};
for (const b of Object.values(builds)) b.ort.env.wasm.wasmPaths = { wasm: b.href };

const buildFor = (backend: Backend) => builds[backend === 'webgpu' ? 'webgpu' : 'wasm'];

/** Multi-threaded wasm needs cross-origin isolation (SharedArrayBuffer); else one thread. */
export function configureThreads(requested?: number): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // Structural, so the same line type-checks against the page's Navigator and the Worker's WorkerNavigator.
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const threads = isolated ? Math.max(1, requested ?? cores) : 1;
  // Each build has its own env: both get the same thread count.
  for (const b of Object.values(builds)) b.ort.env.wasm.numThreads = threads;
  return threads;
}

/** The loading bar's name for the runtime's own download on `backend`. */
export function runtimeStep(backend: Backend): string {
  return `the runtime (onnxruntime-web wasm, ${buildFor(backend).size})`;
}

/**
 * Downloads the wasm of the build `backend` runs, with progress, and hands the bytes to
 * onnxruntime, which would otherwise fetch them unseen at the first session (seconds of a frozen
 * bar). Once per Worker and build. A failed download is left to onnxruntime's own fetch, which
 * says why in its error.
 */
export async function loadRuntimeWasm(backend: Backend, onProgress: (loaded: number, total: number | null) => void): Promise<void> {
  const { ort, href } = buildFor(backend);
  if (ort.env.wasm.wasmBinary) return;
  try {
    // The bundle's downloader: a stalled transfer is abandoned after DEFAULT_LIMITS.idleMs (then
    // onnxruntime fetches the file itself, as it did before this step existed).
    ort.env.wasm.wasmBinary = await boundedFetch(href, {
      origin: new URL(href).origin,
      maxBytes: DEFAULT_LIMITS.maxFileBytes,
      idleMs: DEFAULT_LIMITS.idleMs,
      name: 'the onnxruntime-web wasm',
      onProgress,
    });
  } catch {
    // As above: onnxruntime's own fetch says why in its error if the file is really missing.
  }
}

/** The build that runs `backend`: an engine's sessions and tensors must all come from it. */
export function ortFor(backend: Backend): OrtModule {
  return buildFor(backend).ort as unknown as OrtModule;
}

/** The WebGPU build (its wasm EP too): what the tests and benches that compare EPs side by side load. */
export const ortWeb = ortGpu as unknown as OrtModule;
/** The wasm-only build: what the app runs on the wasm backend. */
export const ortWasm = ortCpu as unknown as OrtModule;
export const ortVersion: string = ortGpu.env.versions?.web ?? 'unknown';
