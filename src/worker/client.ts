// The main thread's handle on the engine Worker. The UI and the store reach the engine only here.
import * as Comlink from 'comlink';
import type { WorkerApi } from './explorer.worker';

export type EngineHandle = Comlink.Remote<WorkerApi>;

export function startEngineWorker(): { engine: EngineHandle; terminate: () => void } {
  const worker = new Worker(new URL('./explorer.worker.ts', import.meta.url), { type: 'module', name: 'wiseft-engine' });
  return { engine: Comlink.wrap<WorkerApi>(worker), terminate: () => worker.terminate() };
}

export const proxy = Comlink.proxy;
export type { BackendChoice, RuntimeInfo, PairRequest, DecodedUpload, LoadedPairSummary } from './explorer.worker';
