// The door to onnxruntime-web. Only the `webgpu` build: it runs both the WebGPU EP (native
// WebGPU, which accepts our own GPUDevice) and the wasm EP. The default JSEP build ignores a
// device passed to it and, fed buffers from another device, returns silently wrong numbers.
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { OrtModule } from './engine';
import { boundedFetch, DEFAULT_LIMITS } from '../bundle/net';

const wasmHref = new URL(wasmUrl, globalThis.location?.href).href;
ort.env.wasm.wasmPaths = { wasm: wasmHref };

/** Multi-threaded wasm needs cross-origin isolation (SharedArrayBuffer); else one thread. */
export function configureThreads(requested?: number): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // Structural, so the same line type-checks against the page's Navigator and the Worker's WorkerNavigator.
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const threads = isolated ? Math.max(1, requested ?? cores) : 1;
  ort.env.wasm.numThreads = threads;
  return threads;
}

/** The loading bar's name for the runtime's own download. */
export const RUNTIME_STEP = 'the runtime (onnxruntime-web wasm, ~27 MB)';

/**
 * Downloads the runtime's wasm with progress and hands the bytes to onnxruntime, which would
 * otherwise fetch them unseen at the first session (27 MB: seconds of a frozen bar). Once per
 * Worker. A failed download is left to onnxruntime's own fetch, which says why in its error.
 */
export async function loadRuntimeWasm(onProgress: (loaded: number, total: number | null) => void): Promise<void> {
  if (ort.env.wasm.wasmBinary) return;
  try {
    // The bundle's downloader: a stalled transfer is abandoned after DEFAULT_LIMITS.idleMs (then
    // onnxruntime fetches the file itself, as it did before this step existed).
    ort.env.wasm.wasmBinary = await boundedFetch(wasmHref, {
      origin: new URL(wasmHref).origin,
      maxBytes: DEFAULT_LIMITS.maxFileBytes,
      idleMs: DEFAULT_LIMITS.idleMs,
      name: 'the onnxruntime-web wasm',
      onProgress,
    });
  } catch {
    // As above: onnxruntime's own fetch says why in its error if the file is really missing.
  }
}

export const ortWeb = ort as unknown as OrtModule;
export const ortVersion: string = ort.env.versions?.web ?? 'unknown';
