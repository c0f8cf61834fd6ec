// The heavy work (downloads, blending, inference, evaluation, decoding uploads) runs here, behind
// comlink, so the page never blocks. This file implements EngineApi (protocol.ts), owns the choice
// of backend and the GPU device's life: when the device is lost, it says so and moves the pair to
// the CPU path.
import * as Comlink from 'comlink';
import { Explorer, type UserEvalSet, type PairSummary as CorePairSummary } from '../core/explorer';
import { loadBundle, urlSource, filesSource, type LoadedBundle, type LoadProgress, type LoadOptions } from '../core/bundle/source';
import { ortWeb, configureThreads, ortVersion } from '../core/runtime/ort-web';
import { requestGpu, type GpuInfo } from '../core/gpu/device';
import { cachedSource } from './cache';
import { watchCspViolations, type NetLimits } from '../core/bundle/net';
import { decodeToModelInput } from './decode';
import { BlendEngine } from '../core/runtime/engine';
import { GpuBlender, GpuBufferLimitError } from '../core/gpu/blend';
import { TextTower } from '../core/text/head';
import { ingestEvalFolder } from './evalFolder';
import { toEngineError } from './engineErrors';
import { registerEngineErrors } from './wire';
import {
  EngineError, DEBUG_WORKER_NAME, type EngineApi, type EngineDebugApi, type BackendChoice, type RuntimeInfo, type PairRequest, type PairSummary,
  type LoadedPairSummary, type ResultsKey, type EvaluationEvent, type CacheStats,
} from './protocol';

let explorer: Explorer | null = null;
let runtime: RuntimeInfo | null = null;
let device: GPUDevice | null = null;
// How the current pair was loaded (and which member), to load it again on the CPU if the GPU goes
// away, or with another member. Not the bytes: keeping both checkpoint files alive would cost two
// more copies of the weights (issue 5's memory row); a URL pair comes back from the IndexedDB
// cache, dropped files from their (disk-backed) Files.
let lastRequest: PairRequest | null = null;
let lastMember: string | null = null;
// The loaded bundle's hash: the core's summary names the results key, which changes with the
// user's eval sets while the bundle does not.
let bundleHash: string | null = null;
// The user's own eval sets, when in use: a switch to another member (the same bundle) keeps them,
// where a new pair drops them. The decoded images are small (model-sized RGB).
let userSets: UserEvalSet[] | null = null;
let onRuntimeChange: ((r: RuntimeInfo) => void) | null = null;
// The evaluation job running, so that cancel(id) of an older one leaves a newer one alone.
let runningJob: number | null = null;
const cacheStats: CacheStats = { hits: 0, misses: 0, corrupt: 0 };

function wasmRuntime(note: string | null): RuntimeInfo {
  return { backend: 'wasm', gpu: null, threads: configureThreads(), ortVersion, note };
}

function toWire(s: CorePairSummary): PairSummary {
  const { contentHash, ...rest } = s;
  return { ...rest, bundleHash: bundleHash ?? contentHash, resultsKey: contentHash as ResultsKey };
}

async function startGpu(): Promise<{ device: GPUDevice; info: GpuInfo }> {
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
  runtime = wasmRuntime(note);
  const old = explorer;
  explorer = new Explorer({ ort: ortWeb, backend: 'wasm' });
  if (lastRequest) {
    try {
      await explorer.loadPair(await loadBundle(sourceFor(lastRequest), undefined, { member: lastMember }));
      if (userSets) await explorer.useEvalSets(userSets);
    } catch {
      // Nothing better to do: the UI shows the note and the user can reload.
    }
  }
  await old?.dispose().catch(() => undefined);
  onRuntimeChange?.(runtime);
}

/**
 * Loads `bundle` on a new wasm explorer and makes it the engine, releasing the GPU. Unlike a lost
 * device, the GPU pair is still in service until the wasm one is ready: if that fails too, the
 * previous pair stays.
 */
async function moveToCpu(bundle: LoadedBundle, note: string): Promise<CorePairSummary> {
  const cpu = new Explorer({ ort: ortWeb, backend: 'wasm' });
  const summary = await cpu.loadPair(bundle);
  const old = explorer;
  const d = device;
  explorer = cpu;
  device = null; // before destroy(): the lost handler then knows the release is on purpose
  runtime = wasmRuntime(note);
  await old?.dispose().catch(() => undefined);
  d?.destroy();
  onRuntimeChange?.(runtime);
  return summary;
}

// Loads in progress, for the UI's Cancel (comlink cannot pass an AbortSignal, so the Worker keeps
// the controllers and the page calls cancelLoad()).
const loads = new Set<AbortController>();

async function download(req: PairRequest, onProgress: (p: LoadProgress) => void, opts: LoadOptions): Promise<LoadedBundle> {
  const ctl = new AbortController();
  loads.add(ctl);
  try {
    return await loadBundle(sourceFor(req, ctl.signal), onProgress, opts);
  } finally {
    loads.delete(ctl);
  }
}

async function loadOnEngine(ex: Explorer, bundle: LoadedBundle): Promise<CorePairSummary> {
  try {
    return await ex.loadPair(bundle);
  } catch (e) {
    // A tensor larger than the device's maxStorageBufferBindingSize cannot be blended on this
    // GPU at all, but the pair is fine: run it on the CPU instead of refusing it.
    if (!(e instanceof GpuBufferLimitError) || ex !== explorer || ex.backend !== 'webgpu') throw e;
    return moveToCpu(bundle, `This pair does not fit this GPU's buffer limits (${e.message}); switched to the CPU (wasm).`);
  }
}

async function load(req: PairRequest, onProgress: (p: LoadProgress) => void, opts: LoadOptions, keepUserSets = false): Promise<LoadedPairSummary> {
  const ex = need();
  const bundle = await download(req, onProgress, opts);
  let summary = await loadOnEngine(ex, bundle);
  lastRequest = req;
  lastMember = summary.member;
  bundleHash = bundle.contentHash;
  if (!keepUserSets) userSets = null;
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
  return req.kind === 'url' ? cachedSource(urlSource(req.url, { ...(signal ? { signal } : {}), limits: netLimits }), req.url, cacheStats) : filesSource(req.files);
}

// The download limits (net.ts's defaults); the browser tests shorten the timeouts.
let netLimits: Partial<NetLimits> = {};
// A rejected fetch blocked by the Content-Security-Policy is told apart from a network failure.
watchCspViolations(self as unknown as Parameters<typeof watchCspViolations>[0]);

async function startEngine(choice: BackendChoice): Promise<RuntimeInfo> {
  if (choice === 'wasm') return startOnWasm(null);
  let gpu: Awaited<ReturnType<typeof startGpu>>;
  try {
    gpu = await startGpu();
  } catch (e) {
    return startOnWasm(`WebGPU is not available (${(e as Error).message}); using the CPU (wasm).`);
  }
  if (choice === 'auto' && gpu.info.isFallbackAdapter) {
    // A software adapter (SwiftShader) is correct but far slower than wasm: use it only on request.
    device = null;
    gpu.device.destroy();
    return startOnWasm(null);
  }
  device = gpu.device;
  explorer = new Explorer({ ort: ortWeb, backend: 'webgpu', device: gpu.device });
  runtime = { backend: 'webgpu', gpu: gpu.info, threads: configureThreads(), ortVersion, note: null };
  return runtime;
}

function startOnWasm(note: string | null): RuntimeInfo {
  explorer = new Explorer({ ort: ortWeb, backend: 'wasm' });
  runtime = wasmRuntime(note);
  return runtime;
}

const api: EngineApi = {
  async init(choice, onRuntime) {
    onRuntimeChange = onRuntime;
    return startEngine(choice);
  },

  loadPair(req, onProgress, member) {
    return load(req, onProgress, { member, unknownMember: 'default' });
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
    runningJob = job.id;
    // The page's handler answers each event in order on one channel: once the last one is
    // answered, every event of this job has been applied, and the result can be the last word.
    let delivered: Promise<unknown> = Promise.resolve();
    const send = (e: EvaluationEvent) => {
      delivered = Promise.resolve(onEvent(e)).catch(() => undefined);
    };
    const status = await ex.evaluate(
      job.grid, job.currentAlpha,
      (u) => send({ kind: 'chunk', jobId: job.id, resultsKey: u.pairHash as ResultsKey, alpha: u.alpha, point: u.point, progress: u.progress }),
      (u) => send({ kind: 'ensemble', jobId: job.id, resultsKey: u.pairHash as ResultsKey, points: u.points }),
    );
    await delivered;
    if (runningJob === job.id) runningJob = null;
    const snap = status === 'done' ? ex.snapshot() : null;
    if (!snap) return { status: 'superseded', jobId: job.id };
    return { status: 'done', jobId: job.id, resultsKey: snap.pairHash as ResultsKey, points: snap.points };
  },

  async cancel(jobId) {
    if (runningJob !== jobId) return;
    runningJob = null;
    explorer?.cancel();
  },

  async useEvalFolder(files, reference, onProgress) {
    const ex = need();
    const pair = ex.current;
    if (!pair) throw new EngineError('no-pair', 'load a pair first');
    const { sets, skipped } = await ingestEvalFolder(files, pair, reference, onProgress);
    const summary = await ex.useEvalSets(sets);
    userSets = sets;
    return { pair: toWire(summary), skipped };
  },

  async decode(blob, name) {
    const pair = need().current;
    if (!pair) throw new EngineError('no-pair', 'no pair is loaded');
    const r = await decodeToModelInput(blob, name, pair.inputSize, 'bicubic');
    return Comlink.transfer(r, [r.rgb.buffer]);
  },

  async classify(images, alphas) {
    const r = await need().classify(images, alphas);
    return { resultsKey: r.pairHash as ResultsKey, labels: r.labels, predictions: r.predictions };
  },

  setCustomLabels(labels) {
    return need().setCustomLabels(labels);
  },

  async exportOnnx(alpha) {
    const bytes = await need().exportOnnx(alpha);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },
};

const debugApi: EngineDebugApi = {
  async loseDevice() {
    if (!device) return false;
    device.destroy();
    return true;
  },
  async resources() {
    return { sessions: BlendEngine.liveSessions + TextTower.liveSessions, gpuBuffers: GpuBlender.liveBuffers };
  },
  async cacheStats() {
    return { ...cacheStats };
  },
  async setNetLimits(limits) {
    netLimits = { ...limits };
  },
};

function need(): Explorer {
  if (!explorer) throw new EngineError('no-engine', 'the engine is not started');
  return explorer;
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
