// Actions beside the store: everything that talks to the engine Worker. Stale work is dropped:
// every result carries the pair's content hash and is applied only to that pair, and a newer
// evaluation supersedes the older one inside the Worker.
import { startEngineWorker, proxy, type EngineHandle, type PairRequest, type RuntimeInfo, type LoadedPairSummary } from '../worker/client';
import type { LoadProgress } from '../core/bundle/source';
import { useStore, applyFrontierUpdate, flushFrontierUpdates, applyEnsembleUpdate, say, hashNotes, type Upload, type State } from './store';
import { formatHash } from './hash';
import { isolate, listSome } from './thin';

export const GRID = Array.from({ length: 11 }, (_, i) => i / 10);
export const TRAJECTORY = Array.from({ length: 21 }, (_, i) => i / 20);

let engine: EngineHandle | null = null;
let evalTimer: ReturnType<typeof setTimeout> | null = null;

export function bundledPairUrl(): string {
  return new URL('pairs/shapes/manifest.json', document.baseURI).href;
}

export async function startApp(): Promise<void> {
  engine = startEngineWorker().engine;
  const s = useStore.getState();
  const runtime = await engine.init(s.backendChoice, proxy((r: RuntimeInfo) => {
    useStore.setState({ runtime: r });
    if (r.note) say('error', r.note);
    // The Worker reloaded the pair on the CPU: recompute what is shown.
    void refreshAfterBackendChange();
  }));
  useStore.setState({ runtime });
  if (runtime.note) say('info', runtime.note);
  for (const note of hashNotes) say('info', note);
  syncHash();
  useStore.subscribe(syncHash);
  const requested = s.pairUrl;
  if (requested) {
    const ok = await loadPair({ kind: 'url', url: requested }, requested, s.member);
    if (ok) return;
  }
  await loadPair({ kind: 'url', url: bundledPairUrl() }, 'the bundled pair', requested ? null : s.member);
}

async function refreshAfterBackendChange(): Promise<void> {
  if (!engine) return;
  const pair = await engine.current();
  useStore.setState({ pair, points: {}, ensemble: {}, pointsFor: pair?.contentHash ?? null });
  scheduleEvaluation(0);
}

function syncHash(): void {
  const s = useStore.getState();
  const hash = formatHash({ alpha: s.alpha, shift: s.shift, ensemble: s.showEnsemble, paper: s.paper, presenter: s.presenter, pair: s.pairUrl, backend: s.backendChoice, member: s.member, recorded: s.showRecorded });
  if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

/**
 * Loads a pair with its default fine-tuned member, or `member` (a link's member=; an id the bundle
 * lacks opens the default with a note). On failure says why and keeps the previous pair, its
 * results and α.
 */
export async function loadPair(req: PairRequest, label: string, member: string | null = null): Promise<boolean> {
  if (!engine) return false;
  const e = engine;
  if (req.kind === 'url') {
    // A relative ?pair= or typed path is relative to this page: the Worker would resolve it
    // against its own script's URL (…/assets/), a different folder.
    try {
      req = { kind: 'url', url: new URL(req.url, location.href).href };
    } catch {
      useStore.setState({ pairError: `Could not load ${label}: '${req.url}' is not a URL.` });
      say('error', `Could not load ${label}: '${req.url}' is not a URL.${useStore.getState().pair ? ' The previous pair is still loaded.' : ''}`);
      return false;
    }
  }
  const isBundled = req.kind === 'url' && req.url === bundledPairUrl();
  return showLoad(label, (progress) => e.loadPair(req, progress, member), { pairUrl: req.kind === 'url' && !isBundled ? req.url : null }, 'The previous pair is still loaded.');
}

/**
 * Blends the zero-shot model with another fine-tuned member of the loaded bundle. α, the view and
 * the uploads stay; the results start afresh (they are keyed per member). On failure the current
 * member, its results and α stay.
 */
export async function selectMember(id: string): Promise<boolean> {
  const pair = useStore.getState().pair;
  if (!engine || !pair || id === pair.member) return false;
  const e = engine;
  const name = pair.members.find((m) => m.id === id)?.name ?? id;
  return showLoad(`the member '${name}'`, (progress) => e.loadMember(id, progress), {}, 'The previous member is still loaded.');
}

async function showLoad(label: string, call: (progress: (p: LoadProgress) => void) => Promise<LoadedPairSummary>, extra: Partial<State>, kept: string): Promise<boolean> {
  useStore.setState({ loading: { label, progress: null, startedAt: performance.now() }, pairError: null });
  try {
    const { memberNote, ...pair } = await call(proxy((p: LoadProgress) => useStore.setState((s) => (s.loading ? { loading: { ...s.loading, progress: { ...p, elapsedMs: performance.now() - s.loading.startedAt } } } : {}))));
    useStore.setState((s) => ({
      ...extra,
      // The member goes in the URL only where there is a choice: a v1 link stays as it was.
      member: pair.members.length > 1 ? pair.member : null,
      memberNote: memberNote ? `The link asks for a fine-tuned member this pair does not have: ${memberNote}.` : null,
      pair,
      loading: null,
      points: {},
      ensemble: {},
      pointsFor: pair.contentHash,
      progress: null,
      fullFrontierMs: null,
      evalStartedAt: null,
      shift: s.shift === 'mean' || pair.sets.some((x) => x.id === s.shift && x.role === 'shift') ? s.shift : 'mean',
      customLabels: null,
      uploads: s.uploads.map((u) => ({ ...u, trajectory: null, current: null, forPair: null })),
    }));
    const note = useStore.getState().memberNote;
    if (note) say('info', note);
    scheduleEvaluation(0);
    void refreshUploads();
    return true;
  } catch (e) {
    // One sentence each: the engine's messages often end without a full stop, and the note about
    // the previous pair follows.
    const text = (e as Error).message.trim();
    const message = /[.!?]$/.test(text) ? text : `${text}.`;
    useStore.setState({ loading: null, pairError: `Could not load ${label}: ${message}` });
    say('error', `Could not load ${label}: ${message}${useStore.getState().pair ? ` ${kept}` : ''}`);
    return false;
  }
}

/** The Cancel next to the loading bar: the load in progress fails with "the load was cancelled". */
export function cancelLoad(): void {
  void engine?.cancelLoad();
}

/** Starts (or restarts, superseding) the progressive evaluation with the current α first. */
export function scheduleEvaluation(delayMs = 120): void {
  if (evalTimer) clearTimeout(evalTimer);
  evalTimer = setTimeout(() => void runEvaluation(), delayMs);
}

async function runEvaluation(): Promise<void> {
  const s = useStore.getState();
  if (!engine || !s.pair) return;
  const pairHash = s.pair.contentHash;
  const startedAt = s.evalStartedAt ?? performance.now();
  useStore.setState({ evaluating: true, evalStartedAt: startedAt });
  try {
    const result = await engine.evaluate(GRID, s.alpha, proxy(applyFrontierUpdate), proxy(applyEnsembleUpdate));
    flushFrontierUpdates();
    if (result === 'done') {
      // Progress callbacks travel on their own channel and may land after the result: the
      // Worker's snapshot is the complete, authoritative set of points for this pair.
      const snap = await engine.snapshot();
      const now = useStore.getState();
      if (snap && snap.pairHash === pairHash && now.pair?.contentHash === pairHash) {
        useStore.setState((x) => ({ points: snap.points, pointsFor: pairHash, evaluating: false, fullFrontierMs: x.fullFrontierMs ?? performance.now() - startedAt }));
      }
    }
  } catch (e) {
    useStore.setState({ evaluating: false });
    say('error', `Evaluation stopped: ${(e as Error).message}`);
  }
}

export function cancelEvaluation(): void {
  void engine?.cancel();
  useStore.setState({ evaluating: false });
}

let uploadsTimer: ReturnType<typeof setTimeout> | null = null;

export function setAlpha(alpha: number): void {
  const a = Math.min(1, Math.max(0, Math.round(alpha * 100) / 100));
  if (a === useStore.getState().alpha) return;
  useStore.setState({ alpha: a });
  scheduleEvaluation();
  if (uploadsTimer) clearTimeout(uploadsTimer);
  uploadsTimer = setTimeout(() => void refreshUploads(true), 60);
}

let playTimer: ReturnType<typeof setInterval> | null = null;
export function togglePlay(): void {
  if (playTimer) {
    clearInterval(playTimer);
    playTimer = null;
    useStore.setState({ playing: false });
    return;
  }
  useStore.setState({ playing: true });
  if (useStore.getState().alpha >= 1) setAlpha(0);
  playTimer = setInterval(() => {
    const a = useStore.getState().alpha;
    if (a >= 1) {
      togglePlay();
      return;
    }
    setAlpha(a + 0.02);
  }, 120);
}

let uploadId = 0;

/** Images shown at once: each has its own trajectory chart, and every α change classifies them all. */
export const MAX_UPLOADS = 24;

/**
 * Decodes and classifies images in the Worker; the bytes never leave the page. At most MAX_UPLOADS
 * are kept, the newest first; what is not kept is said, and never decoded.
 */
export async function addUploads(all: File[]): Promise<void> {
  if (!engine) return;
  const e = engine;
  const files = all.slice(0, MAX_UPLOADS);
  const fresh: Upload[] = files.map((f) => ({
    id: ++uploadId, name: f.name || 'pasted image', thumbnail: null, rgb: null, status: 'decoding', error: null, trajectory: null, current: null, labels: [], forPair: null,
  }));
  const older = useStore.getState().uploads.length;
  const removed = Math.max(0, older + fresh.length - MAX_UPLOADS);
  useStore.setState((s) => ({ uploads: [...fresh, ...s.uploads].slice(0, MAX_UPLOADS) }));
  if (all.length > files.length) {
    say('info', `Kept ${files.length} of the ${all.length.toLocaleString('en')} images you added (this page shows at most ${MAX_UPLOADS} at a time); the other ${(all.length - files.length).toLocaleString('en')} were not decoded.${removed > 0 ? ` The ${removed} earlier image${removed === 1 ? ' was' : 's were'} removed to make room.` : ''}`);
  } else if (removed > 0) {
    say('info', `Removed the ${removed} oldest image${removed === 1 ? '' : 's'} to make room: this page shows at most ${MAX_UPLOADS} at a time.`);
  }
  // Images dropped while the first pair is still loading wait for it (they are decoded at its size).
  await whenPairLoaded();
  await Promise.all(files.map(async (file, i) => {
    const id = fresh[i]!.id;
    try {
      const decoded = await e.decode(file, file.name || 'pasted image');
      const size = useStore.getState().pair?.inputSize ?? 0;
      const thumbnail = rgbToDataUrl(decoded.rgb, size);
      patchUpload(id, { rgb: decoded.rgb, thumbnail, status: 'ready' });
    } catch (err) {
      patchUpload(id, { status: 'error', error: (err as Error).message });
    }
  }));
  await refreshUploads();
}

function whenPairLoaded(): Promise<void> {
  if (useStore.getState().pair) return Promise.resolve();
  return new Promise((resolve) => {
    const off = useStore.subscribe((st) => {
      if (st.pair) {
        off();
        resolve();
      }
    });
  });
}

function patchUpload(id: number, patch: Partial<Upload>): void {
  useStore.setState((s) => ({ uploads: s.uploads.map((u) => (u.id === id ? { ...u, ...patch } : u)) }));
}

export function removeUpload(id: number): void {
  useStore.setState((s) => ({ uploads: s.uploads.filter((u) => u.id !== id) }));
}

let classifyGeneration = 0;

/** Top classes at the current α for every upload, and the α trajectory for new ones. */
export async function refreshUploads(alphaOnly = false): Promise<void> {
  const s = useStore.getState();
  if (!engine || !s.pair) return;
  const ready = s.uploads.filter((u) => u.status === 'ready' && u.rgb);
  if (ready.length === 0) return;
  const generation = ++classifyGeneration;
  const alpha = s.alpha;
  try {
    const needTrajectory = alphaOnly ? [] : ready.filter((u) => !u.trajectory || u.forPair !== s.pair!.contentHash);
    if (needTrajectory.length > 0) {
      const r = await engine.classify(needTrajectory.map((u) => u.rgb!), TRAJECTORY);
      if (generation !== classifyGeneration) return;
      needTrajectory.forEach((u, i) => patchUpload(u.id, { trajectory: r.predictions[i]!, labels: r.labels, forPair: r.pairHash }));
    }
    const r = await engine.classify(ready.map((u) => u.rgb!), [alpha]);
    if (generation !== classifyGeneration || useStore.getState().alpha !== alpha) return;
    if (useStore.getState().pair?.contentHash !== r.pairHash) return;
    ready.forEach((u, i) => patchUpload(u.id, { current: r.predictions[i]![0]!, labels: r.labels }));
  } catch (err) {
    say('error', `Classification failed: ${(err as Error).message}`);
  }
}

export async function setCustomLabels(labels: string[] | null): Promise<void> {
  if (!engine) return;
  try {
    await engine.setCustomLabels(labels);
    useStore.setState((s) => ({ customLabels: labels, labelError: null, uploads: s.uploads.map((u) => ({ ...u, trajectory: null })) }));
    await refreshUploads();
  } catch (e) {
    useStore.setState({ labelError: (e as Error).message });
  }
}

export async function exportBlended(): Promise<void> {
  const s = useStore.getState();
  if (!engine || !s.pair) return;
  try {
    const bytes = await engine.exportOnnx(s.alpha);
    const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    // With several members the file says which one α = 1 is.
    a.download = `wiseft-alpha-${s.alpha.toFixed(2)}${s.pair.members.length > 1 ? `-${s.pair.member}` : ''}.onnx`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (e) {
    say('error', `Export failed: ${(e as Error).message}`);
  }
}

function rgbToDataUrl(rgb: Uint8Array, size: number): string | null {
  if (!size) return null;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(size, size);
  for (let i = 0, j = 0; i < size * size; i++, j += 3) {
    img.data[i * 4] = rgb[j]!;
    img.data[i * 4 + 1] = rgb[j + 1]!;
    img.data[i * 4 + 2] = rgb[j + 2]!;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}

/** Test hook: exposes the engine handle to browser tests (counts, device loss). */
export function engineHandle(): EngineHandle | null {
  return engine;
}

/** The user's own eval sets: a dropped <set>/<class>/<image> folder or zip replaces the pair's sets. */
export async function loadEvalFolder(files: { path: string; blob: Blob }[], reference: string | null = null): Promise<boolean> {
  if (!engine) return false;
  useStore.setState({ loading: { label: 'your eval images', progress: null, startedAt: performance.now() }, pairError: null });
  try {
    const r = await engine.loadEvalFolder(files, reference, proxy((done: number, total: number) => useStore.setState((s) => (s.loading ? {
      loading: { ...s.loading, progress: { file: `image ${done} of ${total}`, loaded: done, total, bundleLoaded: 0, bundleTotal: null, elapsedMs: performance.now() - s.loading.startedAt } },
    } : {}))));
    useStore.setState({ pair: r.pair, loading: null, points: {}, ensemble: {}, pointsFor: r.pair.contentHash, progress: null, fullFrontierMs: null, evalStartedAt: null, shift: 'mean' });
    const sets = r.pair.sets.map((x) => `${isolate(x.name)} (${x.count}${x.role === 'reference' ? ', reference' : ''})`);
    say('info', `Using your eval sets: ${listSome(sets, 8, 200)}.${r.skipped.length ? ` Skipped ${r.skipped.length.toLocaleString('en')} file(s): ${listSome(r.skipped, 3, 240)}.` : ''}`);
    scheduleEvaluation(0);
    return true;
  } catch (e) {
    const message = (e as Error).message;
    useStore.setState({ loading: null, pairError: `Could not use those eval images: ${message}` });
    say('error', `Could not use those eval images: ${message}. The current eval sets are still in use.`);
    return false;
  }
}
