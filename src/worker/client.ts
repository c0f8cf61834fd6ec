// The main thread's handle on the engine Worker: EngineApi served across comlink. The UI and the
// store reach the engine only through an EngineApi, this one or a test's fake.
import * as Comlink from 'comlink';
import { registerEngineErrors } from './wire';
import { ENGINE_WORKER_NAME, DEBUG_WORKER_NAME, type EngineApi, type EngineDebugApi } from './protocol';

export interface EngineWorker {
  engine: EngineApi;
  /** Only when started for a test. */
  debug: EngineDebugApi | null;
  terminate: () => void;
}

export function startEngineWorker({ debug = false } = {}): EngineWorker {
  registerEngineErrors();
  const worker = new Worker(new URL('./explorer.worker.ts', import.meta.url), {
    type: 'module',
    name: debug ? DEBUG_WORKER_NAME : ENGINE_WORKER_NAME,
  });
  const remote = Comlink.wrap<EngineApi & EngineDebugApi>(worker);
  return { engine: overComlink(remote), debug: debug ? debugOverComlink(remote) : null, terminate: () => worker.terminate() };
}

// Each callback crosses as a proxy (its own message channel); the Worker awaits an evaluation's
// last event before resolving (protocol.ts), so events and result stay in order.
function overComlink(r: Comlink.Remote<EngineApi>): EngineApi {
  return {
    init: (choice, onRuntime) => r.init(choice, Comlink.proxy(onRuntime)),
    loadPair: (req, onProgress, member) => r.loadPair(req, Comlink.proxy(onProgress), member),
    loadMember: (member, onProgress) => r.loadMember(member, Comlink.proxy(onProgress)),
    cancelLoad: () => r.cancelLoad(),
    current: () => r.current(),
    evaluate: (job, onEvent) => r.evaluate(job, Comlink.proxy(onEvent)),
    evaluateLayers: (job, onEvent) => r.evaluateLayers(job, Comlink.proxy(onEvent)),
    evaluateSoups: (job, onEvent) => r.evaluateSoups(job, Comlink.proxy(onEvent)),
    cancel: (jobId) => r.cancel(jobId),
    zipHoldsBundle: (zip) => r.zipHoldsBundle(zip),
    useEvalFolder: (files, reference, onProgress) => r.useEvalFolder(files, reference, Comlink.proxy(onProgress)),
    evalLabels: () => r.evalLabels(),
    evalImages: (setId, indices) => r.evalImages(setId, indices),
    decode: (blob, name) => r.decode(blob, name),
    classify: (images, alphas) => r.classify(images, alphas),
    setCustomLabels: (labels) => r.setCustomLabels(labels),
    unknownWords: (labels) => r.unknownWords(labels),
    exportOnnx: (alpha) => r.exportOnnx(alpha),
    trainLinearProbe: (job, onEvent) => r.trainLinearProbe(job, Comlink.proxy(onEvent)),
    fineTuneEndToEnd: (job, onEvent) => r.fineTuneEndToEnd(job, Comlink.proxy(onEvent)),
    cancelTraining: (jobId) => r.cancelTraining(jobId),
    setTrainingPaused: (jobId, paused) => r.setTrainingPaused(jobId, paused),
    exportTrainedOnnx: (memberId) => r.exportTrainedOnnx(memberId),
    exportBundle: (memberId, onProgress) => r.exportBundle(memberId, Comlink.proxy(onProgress)),
    moved: () => r.moved(),
    calibration: (req) => r.calibration(req),
  };
}

function debugOverComlink(r: Comlink.Remote<EngineDebugApi>): EngineDebugApi {
  return {
    loseDevice: () => r.loseDevice(),
    resources: () => r.resources(),
    cacheStats: () => r.cacheStats(),
    setNetLimits: (limits) => r.setNetLimits(limits),
    setFrontierEngines: (n) => r.setFrontierEngines(n),
    frontierEngines: () => r.frontierEngines(),
    evalLogits: (alpha, setId) => r.evalLogits(alpha, setId),
  };
}
