// The heavy work (downloads, blending, inference, evaluation, decoding uploads) runs here, behind
// comlink, so the page never blocks. This file implements EngineApi (protocol.ts), owns the choice
// of backend and the GPU device's life: when the device is lost, it says so and moves the pair to
// the CPU path.
import * as Comlink from 'comlink';
import { memberSummary, type Explorer, type UserEvalSet, type PairSummary as CorePairSummary } from '../core/explorer';
import { pacedProgress } from './pacedProgress';
import { loadBundle, urlSource, filesSource, type BundleSource, type LoadProgress, type LoadOptions } from '../core/bundle/source';
import { loadBundleStreamed, type PairFiles } from '../core/bundle/streamed';
import { ortWeb, loadOrtWasm, configureThreads, ortVersion, loadRuntimeWasm, runtimeStep } from '../core/runtime/ort-web';
import { requestGpu, type OwnedGpu } from '../core/gpu/device';
import { chooseRuntime, makeRuntime, type Runtime, type RuntimeDeps } from '../core/runtime/backend';
import { ResourceLedger } from '../core/runtime/ledger';
import { cachedSource } from './cache';
import { watchCspViolations, type NetLimits } from '../core/bundle/net';
import { decodeToModelInput } from './decode';
import { GpuBufferLimitError } from '../core/gpu/blend';
import { ingestEvalFolder } from './evalFolder';
import { toEngineError } from './engineErrors';
import { registerEngineErrors } from './wire';
import { runEvaluationJob, runLayerJob, runSoupJob } from './evaluationJob';
import { sendEvalLabels, sendEvalImages } from './evalSamples';
import { runFineTuneJob, runTrainingJob, type TrainingDeps, type TrainedOutcome } from './trainingJob';
import { openLaneWorkers, requestFrontierEngines } from './evalLanes';
import { trainableZeroShot, withTrainedMember, type TrainedMember } from '../core/train/member';
import { PauseGate } from '../core/train/pause';
import { isOneZip, trainedMemberOnnx, unzipBundle, zipBundleWithMember, zipHoldsBundle } from '../core/bundle/zip';
import {
  EngineError,
  DEBUG_WORKER_NAME,
  type EngineApi,
  type EngineDebugApi,
  type RuntimeInfo,
  type PairRequest,
  type PairSummary,
  type LoadedPairSummary,
  type ResultsKey,
  type CacheStats,
  type TrainingJob,
  type TrainingResult,
} from './protocol';

let explorer: Explorer | null = null;
let runtime: RuntimeInfo | null = null;
let device: GPUDevice | null = null;
// How the current pair was loaded (and which member), to load it again on the CPU if the GPU goes
// away, or with another member. Not the bytes: keeping both checkpoint files alive would cost two
// more copies of the weights (against a wasm memory target of 4× one checkpoint); a URL pair comes back from the IndexedDB
// cache, dropped files from their (disk-backed) Files.
let lastRequest: PairRequest | null = null;
let lastMember: string | null = null;
// The user's own eval sets, when in use: a switch to another member (the same bundle) keeps them,
// where a new pair drops them. The decoded images are small (model-sized RGB).
let userSets: UserEvalSet[] | null = null;
let onRuntimeChange: ((r: RuntimeInfo) => void) | null = null;
// The evaluation job running, so that cancel(id) of an older one leaves a newer one alone.
let runningJob: number | null = null;
// Linear probes trained here: members of the loaded bundle that live in memory until another pair
// loads (their bytes are one checkpoint each, small beside the engine's copies of the weights).
const trained = new Map<string, TrainedMember>();
const trainingJobs = new Map<number, { ctl: AbortController; pause: PauseGate }>();
let probeCount = 0;
const cacheStats: CacheStats = { hits: 0, misses: 0, corrupt: 0 };
// Every engine's sessions and GPU buffers, across fallbacks: what the debug resources() counts.
const ledger = new ResourceLedger();
const runtimeDeps: RuntimeDeps = {
  ort: ortWeb,
  ortVersion,
  configureThreads,
  requestGpu: watchedGpu,
  ledger,
  openLanes: openLaneWorkers,
};

/** Makes `rt` the engine; the caller disposes the one it replaces. */
function adopt(rt: Runtime): RuntimeInfo {
  explorer = rt.explorer;
  device = rt.device;
  runtime = rt.info;
  return rt.info;
}

/** The summary as the page sees it: every trained member listed beside the bundle's own. */
function toWire(s: CorePairSummary): PairSummary {
  const extra = [...trained.values()].filter((t) => !s.members.some((m) => m.id === t.spec.id)).map((t) => memberSummary(t.spec));
  return { ...s, members: [...s.members, ...extra], resultsKey: s.resultsKey as ResultsKey, trainedHere: [...trained.keys()] };
}

/**
 * The bundle with `member`, its checkpoints left to stream into the engine (never whole in memory);
 * a trained member is in memory already: then the files give the zero-shot model and the sets.
 */
async function openBundle(
  source: BundleSource,
  onProgress: ((p: LoadProgress) => void) | undefined,
  opts: LoadOptions,
): Promise<PairFiles> {
  const t = opts.member ? trained.get(opts.member) : undefined;
  if (!t) return loadBundleStreamed(source, onProgress, opts);
  return withTrainedMember(await loadBundle(source, onProgress, { ...opts, member: null }), t);
}

/** A GPU device whose loss moves the pair to the CPU (unless it was released on purpose). */
async function watchedGpu(): Promise<OwnedGpu> {
  const gpu = await requestGpu();
  const d = gpu.device;
  void d.lost.then(async (lost) => {
    if (device !== d) return; // released on purpose
    device = null;
    await fallBackToCpu(`The GPU device was lost (${lost.reason}${lost.message ? `: ${lost.message}` : ''}); switched to the CPU (wasm).`);
  });
  return gpu;
}

async function fallBackToCpu(note: string): Promise<void> {
  const old = explorer;
  adopt(makeRuntime(runtimeDeps, null, note));
  if (lastRequest) {
    try {
      await explorer!.loadPair(await openBundle(sourceFor(lastRequest), undefined, { member: lastMember }));
      if (userSets) await explorer!.useEvalSets(userSets);
    } catch {
      // Nothing better to do: the UI shows the note and the user can reload.
    }
  }
  await old?.dispose().catch(() => undefined);
  onRuntimeChange?.(runtime!);
}

/**
 * Loads `bundle` on a new wasm explorer and makes it the engine, releasing the GPU. Unlike a lost
 * device, the GPU pair is still in service until the wasm one is ready: if that fails too, the
 * previous pair stays.
 */
async function moveToCpu(bundle: PairFiles, note: string): Promise<CorePairSummary> {
  const cpu = makeRuntime(runtimeDeps, null, note);
  const summary = await cpu.explorer.loadPair(bundle);
  const old = explorer;
  const d = device;
  // device becomes null before destroy(): the lost handler then knows the release is on purpose.
  adopt(cpu);
  await old?.dispose().catch(() => undefined);
  d?.destroy();
  onRuntimeChange?.(cpu.info);
  return summary;
}

// Loads in progress, for the UI's Cancel (comlink cannot pass an AbortSignal, so the Worker keeps
// the controllers and the page calls cancelLoad()).
const loads = new Set<AbortController>();

async function loadOnEngine(ex: Explorer, bundle: PairFiles): Promise<CorePairSummary> {
  try {
    return await ex.loadPair(bundle);
  } catch (e) {
    // A tensor larger than the device's maxStorageBufferBindingSize cannot be blended on this
    // GPU at all, but the pair is fine: run it on the CPU instead of refusing it.
    if (!(e instanceof GpuBufferLimitError) || ex !== explorer || ex.backend !== 'webgpu') throw e;
    return moveToCpu(bundle, `This pair does not fit this GPU's buffer limits (${e.message}); switched to the CPU (wasm).`);
  }
}

// The eval images of the pair just loaded, left out of its load so that the first screen (the
// recorded frontier, the slider) waits for none of them: read on the first call that needs them
// (the page's first evaluation or thumbnails, right after it shows the pair), with their bytes in
// the same loading bar. null: none pending (read with the pair, or the user's own sets in use).
let laterImages: { read: () => Promise<void>; reading: Promise<void> | null } | null = null;

/** Resolves once the pair's eval images are in its sets; a failed read is tried again by the next call. */
function imagesArrived(): Promise<void> {
  const pending = laterImages;
  if (!pending) return Promise.resolve();
  pending.reading ??= pending.read().then(
    () => {
      if (laterImages === pending) laterImages = null;
    },
    (e: unknown) => {
      pending.reading = null;
      throw e;
    },
  );
  return pending.reading;
}

/** What reads `bundle`'s left-out eval images into the engine that has the pair `bundleHash` then, reporting to `onProgress`. */
function laterImagesOf(bundle: PairFiles, bundleHash: string, onProgress: (p: LoadProgress) => void): typeof laterImages {
  const read = bundle.laterSprites;
  if (!read) return null;
  return {
    reading: null,
    read: async () => {
      let last: LoadProgress = { file: 'the eval images', loaded: 0, total: null, bundleLoaded: 0, bundleTotal: null };
      const tick = (p: LoadProgress) => onProgress((last = p));
      try {
        need().attachEvalImages(bundleHash, await read(tick));
        tick({ ...last, ended: 'done' });
      } catch (e) {
        tick({ ...last, ended: 'failed' });
        throw e;
      }
    },
  };
}

/**
 * Reads the manifest and the small files, then the runtime's wasm (a step of its own in the bar,
 * not one of the bundle's files; only the build this backend runs), then builds the engine as the
 * checkpoints stream into it. The Cancel reaches every transfer until the engine is built.
 */
async function openOnEngine(
  ex: Explorer,
  req: PairRequest,
  onProgress: (p: LoadProgress) => void,
  opts: LoadOptions,
): Promise<{ bundle: PairFiles; summary: CorePairSummary }> {
  const ctl = new AbortController();
  loads.add(ctl);
  try {
    const bundle = await openBundle(sourceFor(req, ctl.signal), onProgress, { ...opts, evalImages: 'later' });
    const step = runtimeStep(ex.backend);
    await loadRuntimeWasm(ex.backend, (loaded, total) =>
      onProgress({ file: step, loaded, total, bundleLoaded: loaded, bundleTotal: total }),
    );
    return { bundle, summary: await loadOnEngine(ex, bundle) };
  } finally {
    loads.delete(ctl);
  }
}

async function load(
  req: PairRequest,
  report: (p: LoadProgress) => void,
  opts: LoadOptions,
  keepUserSets = false,
): Promise<LoadedPairSummary> {
  const onProgress = pacedProgress(report);
  const { bundle, summary: first } = await openOnEngine(need(), req, onProgress, opts).finally(onProgress.flush);
  let summary = first;
  lastRequest = req;
  lastMember = summary.member;
  laterImages = keepUserSets && userSets ? null : laterImagesOf(bundle, summary.bundleHash, onProgress);
  if (!keepUserSets) {
    userSets = null;
    trained.clear();
  }
  if (userSets) {
    try {
      summary = await need().useEvalSets(userSets);
    } catch {
      userSets = null; // the bundle's own sets stay, as after any load
    }
  }
  return { ...toWire(summary), memberNote: bundle.memberNote };
}

function sourceFor(req: PairRequest, signal?: AbortSignal) {
  return req.kind === 'url'
    ? cachedSource(urlSource(req.url, { ...(signal ? { signal } : {}), limits: netLimits }), req.url, cacheStats)
    : filesSource(req.files, signal);
}

// The download limits (net.ts's defaults); the browser tests shorten the timeouts.
let netLimits: Partial<NetLimits> = {};
// A rejected fetch blocked by the Content-Security-Policy is told apart from a network failure.
watchCspViolations(self as unknown as Parameters<typeof watchCspViolations>[0]);

const api: EngineApi = {
  async init(choice, onRuntime) {
    onRuntimeChange = onRuntime;
    // The wasm-only build's code (its binary only when a pair loads on it): the wasm backend runs
    // it, and WebGPU falls back to it.
    runtimeDeps.wasmOrt = await loadOrtWasm();
    return adopt(await chooseRuntime(runtimeDeps, choice));
  },

  async loadPair(req, onProgress, member) {
    return load(await unzippedRequest(req), onProgress, { member, unknownMember: 'default' });
  },

  /**
   * The pair is set up again from the cache (a URL pair) or the dropped Files, so only the new
   * member's file is fetched: the zero-shot weights are baked into the engine's session and blend
   * buffers, and keeping its bytes around to reuse would cost one more copy of the weights the
   * whole time. On failure (an unknown id, a member that does not match) the current member stays.
   */
  async loadMember(member, onProgress) {
    if (!lastRequest) throw new EngineError('no-pair', 'load a pair first');
    return load(lastRequest, onProgress, { member, unknownMember: 'error' }, true);
  },

  async cancelLoad() {
    for (const c of loads) c.abort();
    return loads.size;
  },

  async current() {
    const s = explorer?.current;
    return s ? toWire(s) : null;
  },

  async evaluate(job, onEvent) {
    const ex = need();
    if (!ex.current) throw new EngineError('no-pair', 'no pair is loaded');
    runningJob = job.id;
    try {
      await imagesArrived();
      // Cancelled, or a newer job came, while the images arrived: this one is over before it began.
      if (runningJob !== job.id) return { status: 'superseded', jobId: job.id };
      return await runEvaluationJob(ex, job, onEvent);
    } finally {
      if (runningJob === job.id) runningJob = null;
    }
  },

  async evaluateLayers(job, onEvent) {
    const ex = need();
    if (!ex.current) throw new EngineError('no-pair', 'no pair is loaded');
    await imagesArrived();
    return runLayerJob(ex, job, onEvent);
  },

  async evaluateSoups(job, onEvent) {
    const ex = need();
    if (!ex.current) throw new EngineError('no-pair', 'no pair is loaded');
    await imagesArrived();
    return runSoupJob(ex, job, onEvent);
  },

  async cancel(jobId) {
    if (runningJob !== jobId) return;
    runningJob = null;
    explorer?.cancel();
  },

  zipHoldsBundle(zip) {
    return zipHoldsBundle(zip);
  },

  async useEvalFolder(files, reference, onProgress) {
    const ex = need();
    const pair = ex.current;
    if (!pair) throw new EngineError('no-pair', 'load a pair first');
    const { sets, skipped } = await ingestEvalFolder(files, pair, reference, onProgress);
    const summary = await ex.useEvalSets(sets);
    userSets = sets;
    laterImages = null; // the bundle's own images are not in use any more
    return { pair: toWire(summary), skipped };
  },

  async evalLabels() {
    return sendEvalLabels(needPair());
  },

  async evalImages(setId, indices) {
    await imagesArrived();
    return sendEvalImages(needPair(), setId, indices);
  },

  async decode(blob, name) {
    const pair = need().current;
    if (!pair) throw new EngineError('no-pair', 'no pair is loaded');
    const r = await decodeToModelInput(blob, name, pair.inputSize, 'bicubic');
    return Comlink.transfer(r, [r.rgb.buffer]);
  },

  async classify(images, alphas) {
    const r = await need().classify(images, alphas);
    return { resultsKey: r.resultsKey as ResultsKey, labels: r.labels, predictions: r.predictions };
  },

  setCustomLabels(labels) {
    return need().setCustomLabels(labels);
  },

  async unknownWords(labels) {
    return need().unknownWords(labels);
  },

  async exportOnnx(alpha) {
    const bytes = await need().exportOnnx(alpha);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },

  trainLinearProbe(job, onEvent) {
    return trainInWorker(job, (deps, signal) => runTrainingJob(deps, job, onEvent, signal));
  },

  fineTuneEndToEnd(job, onEvent) {
    return trainInWorker(job, (deps, signal) => runFineTuneJob(deps, job, onEvent, signal));
  },

  async cancelTraining(jobId) {
    trainingJobs.get(jobId)?.ctl.abort(new EngineError('cancelled', 'the training was cancelled'));
  },

  async setTrainingPaused(jobId, paused) {
    const pause = trainingJobs.get(jobId)?.pause;
    if (paused) pause?.pause();
    else pause?.resume();
  },

  async exportTrainedOnnx(memberId) {
    // Self-contained: what the member still reads from the zero-shot's data files is written inline.
    const t = trainedOfPair(memberId);
    const bytes = await trainedMemberOnnx(sourceFor(lastRequest!), t);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },

  async exportBundle(memberId, onProgress) {
    const t = trainedOfPair(memberId);
    const zip = await zipBundleWithMember(sourceFor(lastRequest!), t, onProgress);
    return Comlink.transfer(zip, [zip.buffer as ArrayBuffer]);
  },

  async moved() {
    const ex = need();
    const pair = ex.current;
    if (!pair) throw new EngineError('no-pair', 'load a pair first');
    return { ...(await ex.moved()), bundleHash: pair.bundleHash };
  },

  async calibration(req) {
    const r = needPair().calibration(req);
    return { ...r, resultsKey: r.resultsKey as ResultsKey };
  },
};

/**
 * Runs one training job on the loaded pair's zero-shot checkpoint; its member joins the bundle's
 * (select it with loadMember). A job cancelled, or outlived by its pair, adds nothing.
 */
async function trainInWorker(
  job: TrainingJob,
  run: (deps: TrainingDeps, signal: AbortSignal) => Promise<TrainedOutcome | 'cancelled'>,
): Promise<TrainingResult> {
  const ex = need();
  const pair = ex.current;
  const req = lastRequest;
  if (!pair || !req) throw new EngineError('no-pair', 'load a pair first');
  const ctl = new AbortController();
  const pause = new PauseGate();
  trainingJobs.set(job.id, { ctl, pause });
  try {
    // The zero-shot checkpoint, from the cache or the dropped files: the engine keeps no copy of it.
    const loaded = await loadBundle(sourceFor(req, ctl.signal), undefined, { member: null });
    const zeroShot = await trainableZeroShot(loaded.zeroShot, loaded.zeroShotExternal);
    await imagesArrived();
    const deps = { explorer: ex, zeroShot, pair, memberId: nextProbeId(pair.members.map((m) => m.id)), pause };
    const r = await run(deps, ctl.signal);
    if (r === 'cancelled') return { status: 'cancelled', jobId: job.id };
    if (lastRequest !== req)
      throw new EngineError('training', 'another pair was loaded while the model trained; train it again on this pair');
    trained.set(r.member.spec.id, r.member);
    const summary = toWire(need().current!);
    const { trainCount, validation, skipped } = r;
    return { status: 'done', jobId: job.id, member: memberSummary(r.member.spec), pair: summary, trainCount, validation, skipped };
  } finally {
    trainingJobs.delete(job.id);
  }
}

/** A member trained on the loaded pair (the list empties when another pair loads). */
function trainedOfPair(memberId: string): TrainedMember {
  const t = trained.get(memberId);
  if (!t || !lastRequest) throw new EngineError('unknown-member', `no member '${memberId.slice(0, 80)}' was trained on the loaded pair`);
  return t;
}

/** A dropped .zip of a bundle, unpacked once: switching members or training reads its files, not the zip again. */
async function unzippedRequest(req: PairRequest): Promise<PairRequest> {
  return req.kind === 'files' && isOneZip(req.files) ? { kind: 'files', files: await unzipBundle(req.files) } : req;
}

function nextProbeId(taken: readonly string[]): string {
  let id: string;
  do id = `probe-${++probeCount}`;
  while (taken.includes(id) || trained.has(id));
  return id;
}

const debugApi: EngineDebugApi = {
  async loseDevice() {
    if (!device) return false;
    device.destroy();
    return true;
  },
  async resources() {
    return { sessions: ledger.count('blend-session') + ledger.count('text-session'), gpuBuffers: ledger.count('gpu-buffer') };
  },
  async cacheStats() {
    return { ...cacheStats };
  },
  async setNetLimits(limits) {
    netLimits = { ...limits };
  },
  async setFrontierEngines(n) {
    requestFrontierEngines(n);
  },
  async frontierEngines() {
    return (await explorer?.frontierEngines()) ?? 1;
  },
  async evalLogits(alpha, setId) {
    await imagesArrived();
    const r = await needPair().evalLogits(alpha, setId);
    return Comlink.transfer(r, [r.logits.buffer as ArrayBuffer]);
  },
};

function need(): Explorer {
  if (!explorer) throw new EngineError('no-engine', 'the engine is not started');
  return explorer;
}

function needPair(): Explorer {
  const ex = need();
  if (!ex.current) throw new EngineError('no-pair', 'no pair is loaded');
  return ex;
}

/** Every failure leaves the Worker as an EngineError with a code (wire.ts carries it across). */
function withCodes<T extends object>(impl: T): T {
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(impl) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        throw toEngineError(e);
      }
    };
  }
  return out as T;
}

registerEngineErrors();
// The debug hooks only for a page opened by a test (client.ts names the Worker so).
Comlink.expose(withCodes(self.name === DEBUG_WORKER_NAME ? { ...api, ...debugApi } : api));
