// Backend choice and fallback, in one place: which execution provider an Explorer gets, and the
// words that tell the user why it is not the one they asked for. The runtime doors (ort-web,
// ort-node) and the GPU request are passed in, so this runs, and is tested, anywhere.
import { Explorer } from '../explorer';
import type { Backend, OrtModule } from './engine';
import type { GpuInfo, OwnedGpu } from '../gpu/device';
import type { ResourceLedger } from './ledger';
import type { ExplorerEnv } from '../explorer';

export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export interface RuntimeInfo {
  backend: Backend;
  gpu: GpuInfo | null;
  threads: number;
  ortVersion: string;
  /** Why the backend is not the one asked for, in words for the user. */
  note: string | null;
}

export interface RuntimeDeps {
  ort: OrtModule;
  /** The build the wasm EP runs from, where the door has one apart (onnxruntime-web's smaller wasm-only build); else `ort`. */
  wasmOrt?: OrtModule;
  ortVersion: string;
  /** Sets the wasm EP's thread count and returns it. */
  configureThreads(): number;
  /** A GPU device this app owns (the Worker's also watches it for loss). */
  requestGpu(): Promise<OwnedGpu>;
  /** Counts every engine's sessions and GPU buffers, across fallbacks (the leak tests read it). */
  ledger?: ResourceLedger;
  /** Helper engines for the frontier on wasm (never on WebGPU): the Worker's start nested Workers. */
  openLanes?: ExplorerEnv['openLanes'];
}

export interface Runtime {
  explorer: Explorer;
  info: RuntimeInfo;
  /** The GPU device the explorer blends on, which the caller owns and destroys; null on wasm. */
  device: GPUDevice | null;
}

/** One explorer on the wasm EP, or on WebGPU with `gpu`; `note` says why, when it is a fallback. */
export function makeRuntime(deps: RuntimeDeps, gpu: OwnedGpu | null, note: string | null = null): Runtime {
  const threads = deps.configureThreads();
  const ledger = deps.ledger ? { ledger: deps.ledger } : {};
  if (gpu) {
    const explorer = new Explorer({ ort: deps.ort, backend: 'webgpu', device: gpu.device, ...ledger });
    return { explorer, device: gpu.device, info: { backend: 'webgpu', gpu: gpu.info, threads, ortVersion: deps.ortVersion, note } };
  }
  const lanes = deps.openLanes ? { openLanes: deps.openLanes } : {};
  const explorer = new Explorer({ ort: deps.wasmOrt ?? deps.ort, backend: 'wasm', ...ledger, ...lanes });
  return { explorer, device: null, info: { backend: 'wasm', gpu: null, threads, ortVersion: deps.ortVersion, note } };
}

/**
 * The runtime for the user's choice: WebGPU where a device can be had, else wasm with a note
 * saying why. 'auto' turns down a software adapter (SwiftShader): correct, but far slower than
 * wasm, so it is used only when WebGPU is asked for by name.
 */
export async function chooseRuntime(deps: RuntimeDeps, choice: BackendChoice): Promise<Runtime> {
  if (choice === 'wasm') return makeRuntime(deps, null);
  let gpu: OwnedGpu;
  try {
    gpu = await deps.requestGpu();
  } catch (e) {
    return makeRuntime(deps, null, `WebGPU is not available (${(e as Error).message}); using the CPU (wasm).`);
  }
  if (choice === 'auto' && gpu.info.isFallbackAdapter) {
    gpu.device.destroy();
    return makeRuntime(deps, null);
  }
  return makeRuntime(deps, gpu);
}
