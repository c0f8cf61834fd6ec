// The door to onnxruntime-web. Only the `webgpu` build: it runs both the WebGPU EP (native
// WebGPU, which accepts our own GPUDevice) and the wasm EP. The default JSEP build ignores a
// device passed to it and, fed buffers from another device, returns silently wrong numbers.
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { OrtModule } from './engine';

ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, globalThis.location?.href).href };

/** Multi-threaded wasm needs cross-origin isolation (SharedArrayBuffer); else one thread. */
export function configureThreads(requested?: number): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // Structural, so the same line type-checks against the page's Navigator and the Worker's WorkerNavigator.
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const threads = isolated ? Math.max(1, requested ?? cores) : 1;
  ort.env.wasm.numThreads = threads;
  return threads;
}

export const ortWeb = ort as unknown as OrtModule;
export const ortVersion: string = ort.env.versions?.web ?? 'unknown';
