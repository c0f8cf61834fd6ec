// The heavy work (downloads, blending, inference, evaluation, decoding uploads) runs here, behind
// comlink, so the page never blocks. This file owns the choice of backend and the GPU device's
// life: when the device is lost, it says so and moves the pair to the CPU path.
import * as Comlink from 'comlink';
import { Explorer, type UserEvalSet, type PairSummary, type FrontierUpdate, type EnsembleUpdate, type Prediction } from '../core/explorer';
import { loadBundle, urlSource, filesSource, type LoadedBundle, type LoadProgress, type LoadOptions } from '../core/bundle/source';
import { ortWeb, configureThreads, ortVersion } from '../core/runtime/ort-web';
import { requestGpu, type GpuInfo } from '../core/gpu/device';
import { cachedSource, type CacheStats } from './cache';
import { watchCspViolations, type NetLimits } from '../core/bundle/net';
import { decodeToModelInput } from './decode';
import { planEvalFolder, unzipEntries, checkEvalImageCount, ZIP_LIMITS } from '../core/eval/folder';
import { BlendEngine, type Backend } from '../core/runtime/engine';
import { GpuBlender, GpuBufferLimitError } from '../core/gpu/blend';
import { TextTower } from '../core/text/head';

export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export interface RuntimeInfo {
  backend: Backend;
  gpu: GpuInfo | null;
  threads: number;
  ortVersion: string;
  /** Why the backend is not the one asked for, in words for the user. */
  note: string | null;
}

export type PairRequest =
  | { kind: 'url'; url: string }
  | { kind: 'files'; files: { path: string; blob: Blob }[] };

export interface DecodedUpload {
  rgb: Uint8Array;
  width: number;
  height: number;
}

let explorer: Explorer | null = null;
let runtime: RuntimeInfo | null = null;
let device: GPUDevice | null = null;
// How the current pair was loaded (and which member), to load it again on the CPU if the GPU goes
// away, or with another member. Not the bytes: keeping both checkpoint files alive would cost two
// more copies of the weights (issue 5's memory row); a URL pair comes back from the IndexedDB
// cache, dropped files from their (disk-backed) Files.
let lastRequest: PairRequest | null = null;
let lastMember: string | null = null;
// The user's own eval sets, when in use: a switch to another member (the same bundle) keeps them,
// where a new pair drops them. The decoded images are small (model-sized RGB).
let userSets: UserEvalSet[] | null = null;
let onRuntimeChange: ((r: RuntimeInfo) => void) | null = null;
const cacheStats: CacheStats = { hits: 0, misses: 0, corrupt: 0 };

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
  const threads = configureThreads();
  runtime = { backend: 'wasm', gpu: null, threads, ortVersion, note };
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
async function moveToCpu(bundle: LoadedBundle, note: string): Promise<PairSummary> {
  const cpu = new Explorer({ ort: ortWeb, backend: 'wasm' });
  const summary = await cpu.loadPair(bundle);
  const old = explorer;
  const d = device;
  explorer = cpu;
  device = null; // before destroy(): the lost handler then knows the release is on purpose
  runtime = { backend: 'wasm', gpu: null, threads: configureThreads(), ortVersion, note };
  await old?.dispose().catch(() => undefined);
  d?.destroy();
  onRuntimeChange?.(runtime);
  return summary;
}

/** The pair summary, and why another member than the one asked for was opened (a stale link). */
export type LoadedPairSummary = PairSummary & { memberNote: string | null };

// Loads in progress, for the UI's Cancel (comlink cannot pass an AbortSignal, so the Worker keeps
// the controllers and the page calls cancelLoad()).
const loads = new Set<AbortController>();

async function load(req: PairRequest, onProgress: ((p: LoadProgress) => void) | undefined, opts: LoadOptions, keepUserSets = false): Promise<LoadedPairSummary> {
  const ex = need();
  const ctl = new AbortController();
  loads.add(ctl);
  let bundle: LoadedBundle;
  try {
    bundle = await loadBundle(sourceFor(req, ctl.signal), onProgress, opts);
  } finally {
    loads.delete(ctl);
  }
  let summary: PairSummary;
  try {
    summary = await ex.loadPair(bundle);
  } catch (e) {
    // A tensor larger than the device's maxStorageBufferBindingSize cannot be blended on this
    // GPU at all, but the pair is fine: run it on the CPU instead of refusing it.
    if (!(e instanceof GpuBufferLimitError) || ex !== explorer || ex.backend !== 'webgpu') throw e;
    summary = await moveToCpu(bundle, `This pair does not fit this GPU's buffer limits (${e.message}); switched to the CPU (wasm).`);
  }
  lastRequest = req;
  lastMember = summary.member;
  if (!keepUserSets) userSets = null;
  if (userSets) {
    try {
      summary = await need().useEvalSets(userSets);
    } catch {
      userSets = null; // the bundle's own sets stay, as after any load
    }
  }
  return { ...summary, memberNote: bundle.memberNote };
}

function sourceFor(req: PairRequest, signal?: AbortSignal) {
  return req.kind === 'url' ? cachedSource(urlSource(req.url, { ...(signal ? { signal } : {}), limits: netLimits }), req.url, cacheStats) : filesSource(req.files);
}

// The download limits (net.ts's defaults); the browser tests shorten the timeouts.
let netLimits: Partial<NetLimits> = {};
// A rejected fetch blocked by the Content-Security-Policy is told apart from a network failure.
watchCspViolations(self as unknown as Parameters<typeof watchCspViolations>[0]);

const api = {
  async init(choice: BackendChoice, onChange?: (r: RuntimeInfo) => void): Promise<RuntimeInfo> {
    onRuntimeChange = onChange ?? null;
    const threads = configureThreads();
    let note: string | null = null;
    if (choice !== 'wasm') {
      try {
        const gpu = await startGpu();
        if (choice === 'auto' && gpu.info.isFallbackAdapter) {
          // A software adapter (SwiftShader) is correct but far slower than wasm: use it only on request.
          device = null;
          gpu.device.destroy();
          explorer = new Explorer({ ort: ortWeb, backend: 'wasm' });
          runtime = { backend: 'wasm', gpu: null, threads, ortVersion, note: null };
          return runtime;
        }
        device = gpu.device;
        explorer = new Explorer({ ort: ortWeb, backend: 'webgpu', device: gpu.device });
        runtime = { backend: 'webgpu', gpu: gpu.info, threads, ortVersion, note };
        return runtime;
      } catch (e) {
        note = `WebGPU is not available (${(e as Error).message}); using the CPU (wasm).`;
      }
    }
    explorer = new Explorer({ ort: ortWeb, backend: 'wasm' });
    runtime = { backend: 'wasm', gpu: null, threads, ortVersion, note };
    return runtime;
  },

  runtime(): RuntimeInfo | null {
    return runtime;
  },

  /**
   * Loads a pair with a fine-tuned member (default: the first). An id the bundle lacks (a stale
   * link) opens the default member and says so in memberNote rather than failing the load.
   */
  loadPair(req: PairRequest, onProgress?: (p: LoadProgress) => void, member: string | null = null): Promise<LoadedPairSummary> {
    return load(req, onProgress, { member, unknownMember: 'default' });
  },

  /**
   * Blends the current bundle's zero-shot model with another member. The pair is set up again
   * from the cache (a URL pair) or the dropped Files, so only the new member's file is fetched:
   * the zero-shot weights are baked into the engine's session and blend buffers, and keeping its
   * bytes around to reuse would cost one more copy of the weights the whole time. On failure
   * (an unknown id, a member that does not match) the current member stays.
   */
  loadMember(member: string, onProgress?: (p: LoadProgress) => void): Promise<LoadedPairSummary> {
    if (!lastRequest) throw new Error('load a pair first');
    return load(lastRequest, onProgress, { member, unknownMember: 'error' }, true);
  },

  /** Stops the downloads of every load in progress; each fails with "the load was cancelled". */
  cancelLoad(): number {
    for (const c of loads) c.abort();
    return loads.size;
  },

  /** Test hook: shorter timeouts or caps for the downloads that follow. */
  setNetLimits(limits: Partial<NetLimits>): void {
    netLimits = { ...limits };
  },

  current(): PairSummary | null {
    return explorer?.current ?? null;
  },

  snapshot() {
    return explorer?.snapshot() ?? null;
  },

  evaluate(grid: number[], current: number | null, onUpdate: (u: FrontierUpdate) => void, onEnsemble: (u: EnsembleUpdate) => void): Promise<'done' | 'superseded'> {
    return need().evaluate(grid, current, onUpdate, onEnsemble);
  },

  cancel(): void {
    explorer?.cancel();
  },

  /**
   * The user's own eval sets from a dropped folder (<set>/<class>/<image>) or a zip of one.
   * Undecodable files are skipped and named in the result.
   */
  async loadEvalFolder(files: { path: string; blob: Blob }[], reference: string | null, onProgress?: (done: number, total: number) => void): Promise<{ pair: PairSummary; skipped: string[] }> {
    const ex = need();
    const pair = ex.current;
    if (!pair) throw new Error('load a pair first');
    let entries = files;
    if (files.length === 1 && /\.zip$/i.test(files[0]!.path)) {
      // The zip itself is read whole (its central directory is at the end): bounded like what it unpacks to.
      if (files[0]!.blob.size > ZIP_LIMITS.totalBytes) throw new Error(`the zip is ${(files[0]!.blob.size / 2 ** 30).toFixed(1)} GB, more than the ${ZIP_LIMITS.totalBytes / 2 ** 30} GB of images this page reads at once`);
      const unzipped = unzipEntries(new Uint8Array(await files[0]!.blob.arrayBuffer()));
      entries = [...unzipped].map(([path, bytes]) => ({ path, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    }
    const plan = planEvalFolder(entries.map((f) => f.path), pair.classes);
    const byPath = new Map(entries.map((f) => [f.path.replace(/\\/g, '/').replace(/^\/+/, ''), f.blob]));
    const refId = reference && plan.some((s) => s.id === reference) ? reference : plan[0]!.id;
    const total = plan.reduce((n, s) => n + s.files.length, 0);
    checkEvalImageCount(total, pair.inputSize);
    let done = 0;
    const skipped: string[] = [];
    const sets: UserEvalSet[] = [];
    for (const s of plan) {
      const images: Uint8Array[] = [];
      const labels: number[] = [];
      for (const f of s.files) {
        try {
          images.push((await decodeToModelInput(byPath.get(f.path)!, f.path, pair.inputSize, 'bicubic')).rgb);
          labels.push(f.label);
        } catch (e) {
          // The message names the file and why (not an image; too many pixels, and how many).
          skipped.push((e as Error).message);
        }
        onProgress?.(++done, total);
      }
      if (images.length > 0) sets.push({ id: s.id, name: s.id, role: s.id === refId ? 'reference' : 'shift', images, labels, classSubset: s.classSubset });
    }
    if (!sets.some((x) => x.role === 'reference')) throw new Error(`no image of the reference set '${refId}' could be decoded`);
    const summary = await ex.useEvalSets(sets);
    userSets = sets;
    return { pair: summary, skipped };
  },

  async decode(blob: Blob, name: string): Promise<DecodedUpload> {
    const pair = need().current;
    if (!pair) throw new Error('no pair is loaded');
    const r = await decodeToModelInput(blob, name, pair.inputSize, 'bicubic');
    return Comlink.transfer(r, [r.rgb.buffer]);
  },

  classify(images: Uint8Array[], alphas: number[]): Promise<{ pairHash: string; labels: string[]; predictions: Prediction[][] }> {
    return need().classify(images, alphas);
  },

  setCustomLabels(labels: string[] | null): Promise<void> {
    return need().setCustomLabels(labels);
  },

  async exportOnnx(alpha: number): Promise<Uint8Array> {
    const bytes = await need().exportOnnx(alpha);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },

  /** Test hooks: simulate a lost device; count live resources; cache statistics. */
  loseDevice(): boolean {
    if (!device) return false;
    device.destroy();
    return true;
  },
  resources(): { sessions: number; gpuBuffers: number } {
    return { sessions: BlendEngine.liveSessions + TextTower.liveSessions, gpuBuffers: GpuBlender.liveBuffers };
  },
  cacheStats(): CacheStats {
    return { ...cacheStats };
  },
};

function need(): Explorer {
  if (!explorer) throw new Error('the engine is not started');
  return explorer;
}

export type WorkerApi = typeof api;
Comlink.expose(api);
