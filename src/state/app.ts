// The app's controllers, built once around an engine and a store, with one lifecycle: start()
// opens the link's pair, dispose() stops every timer. Components reach them as `AppActions`.
import type { EngineApi, PairRequest, PathBlob } from '../worker/protocol';
import { hashNotes, say, dismiss, useStore, type Store } from './store';
import type { HashState } from './hash';
import { createEvaluation, type EvaluationController } from './controllers/evaluation';
import { createFrontierCache, type FrontierStorage } from './controllers/frontierCache';
import { createUploads, type UploadsController } from './controllers/uploads';
import { createAlphaControl, type AlphaController } from './controllers/alpha';
import { createLayers, type LayersController } from './controllers/layers';
import { createEngineSession, type EngineSession } from './controllers/engineSession';
import { createView, syncHash, type ViewController } from './controllers/view';
import { createSamples, type SamplesController } from './controllers/samples';
import { createLinearProbe, type LinearProbeController } from './controllers/linearProbe';
import { importResults, exportResults } from './imported';
import { createLab, type LabController } from './controllers/lab';
import { createMoved, type MovedController } from './controllers/moved';

export interface AppActions
  extends
    ViewController,
    LabController,
    Omit<SamplesController, 'dispose'>,
    Omit<MovedController, 'dispose'>,
    Omit<LayersController, 'dispose'> {
  loadPair(req: PairRequest, label: string, member?: string | null): Promise<boolean>;
  selectMember(id: string): Promise<boolean>;
  cancelLoad(): void;
  loadEvalFolder(files: PathBlob[], reference?: string | null): Promise<boolean>;
  exportBlended(): Promise<void>;
  /** Starts (or restarts, superseding) the progressive evaluation with the current α first. */
  scheduleEvaluation(delayMs?: number): void;
  cancelEvaluation(): void;
  setAlpha(alpha: number): void;
  setExtrapolate(on: boolean): void;
  togglePlay(): void;
  addUploads(files: Blob[]): Promise<void>;
  removeUpload(id: number): void;
  setCustomLabels(labels: string[] | null, confirmed?: boolean): Promise<void>;
  importResults(file: File): Promise<void>;
  exportResults(): void;
  /** "Fine-tune it yourself": the <class>/<image> folder a linear probe trains on, Start and Cancel. */
  chooseProbeFolder(files: PathBlob[]): void;
  startProbe(options?: { epochs?: number; seed?: number }): Promise<void>;
  cancelProbe(): void;
  dismiss(id: number): void;
  /** The bundled pair's manifest URL (the "Bundled pair" button). */
  bundledPairUrl(): string;
}

export interface AppEnv {
  /** The page's address: relative pair URLs resolve against it. */
  pageUrl: () => string;
  bundledPairUrl: () => string;
  /** Writes the URL's hash (history.replaceState in the page). */
  writeHash: (hash: string) => void;
  /** Where completed frontiers are kept between visits (IndexedDB in the page); none, none kept. */
  frontierStorage?: FrontierStorage | null;
}

export interface App {
  actions: AppActions;
  /** Starts the engine and opens the link's pair (else the bundled one). */
  start(opening: HashState): Promise<void>;
  dispose(): void;
}

function actionsOf(
  store: Store,
  env: AppEnv,
  c: {
    evaluation: EvaluationController;
    uploads: UploadsController;
    alpha: AlphaController;
    session: EngineSession;
    lab: LabController;
    samples: SamplesController;
    probe: LinearProbeController;
    moved: MovedController;
    layers: LayersController;
  },
): AppActions {
  const { evaluation, uploads, alpha, session, lab, samples, probe, moved, layers } = c;
  return {
    ...createView(store),
    ...lab,
    toggleMoved: () => moved.toggleMoved(),
    sortMoved: (key) => moved.sortMoved(key),
    selectMovedTensor: (name) => moved.selectMovedTensor(name),
    setLayersOn: (on) => layers.setLayersOn(on),
    setLayerAlpha: (group, a) => layers.setLayerAlpha(group, a),
    applyPreset: (preset) => layers.applyPreset(preset),
    setLines: (p) => layers.setLines(p),
    showSensitivity: (n) => layers.showSensitivity(n),
    setExtrapolate: (on) => alpha.setExtrapolate(on),
    loadPair: (req, label, member) => session.loadPair(req, label, member),
    selectMember: (id) => session.selectMember(id),
    cancelLoad: () => session.cancelLoad(),
    loadEvalFolder: (files, reference) => session.loadEvalFolder(files, reference),
    exportBlended: () => session.exportBlended(),
    scheduleEvaluation: (delayMs) => evaluation.schedule(delayMs),
    cancelEvaluation: () => evaluation.cancel(),
    setAlpha: (a) => alpha.setAlpha(a),
    togglePlay: () => alpha.togglePlay(),
    addUploads: (files) => uploads.add(files),
    removeUpload: (id) => uploads.remove(id),
    setCustomLabels: (labels, confirmed) => uploads.setCustomLabels(labels, confirmed),
    importResults: (file) => importResults(file, store),
    exportResults: () => exportResults(store),
    chooseProbeFolder: (files) => probe.chooseFolder(files),
    startProbe: (options) => probe.start(options),
    cancelProbe: () => probe.cancel(),
    dismiss: (id) => dismiss(id, store),
    requestThumbnails: (setId, indices) => samples.requestThumbnails(setId, indices),
    setLessonSet: (id) => samples.setLessonSet(id),
    bundledPairUrl: env.bundledPairUrl,
  };
}

export function createApp(engine: EngineApi, env: AppEnv, store: Store = useStore): App {
  const cache = env.frontierStorage ? createFrontierCache(env.frontierStorage, store) : null;
  const evaluation = createEvaluation(engine, store, cache);
  const uploads = createUploads(engine, store);
  const alpha = createAlphaControl(store, evaluation, uploads);
  const samples = createSamples(engine, store);
  const layers = createLayers(engine, store);
  const session = createEngineSession({ engine, store, evaluation, uploads, pageUrl: env.pageUrl, bundledPairUrl: env.bundledPairUrl });
  const lab = createLab(store, alpha);
  const probe = createLinearProbe(engine, store);
  const moved = createMoved(engine, store);
  let unsyncHash: (() => void) | null = null;
  // The link's pair, else the bundled one (with the link's member only if the link named no pair).
  const openLinkedPair = async (): Promise<boolean> => {
    const requested = store.getState().pairUrl;
    if (requested && (await session.loadPair({ kind: 'url', url: requested }, requested, store.getState().member))) return true;
    return session.loadPair({ kind: 'url', url: env.bundledPairUrl() }, 'the bundled pair', requested ? null : store.getState().member);
  };
  return {
    actions: actionsOf(store, env, { evaluation, uploads, alpha, session, lab, samples, probe, moved, layers }),
    async start(opening) {
      await session.init();
      for (const note of hashNotes(opening)) say('info', note, store);
      unsyncHash = syncHash(store, env.writeHash);
      const loaded = await openLinkedPair();
      // A lab link opens at its step's α, which for the last step is the member's recommended α.
      lab.applyStep();
      // The link's labels, checked like typed ones: words the tokenizer does not know are warned of first.
      if (!loaded || !opening.labels) return;
      if (store.getState().pair?.hasText) await uploads.setCustomLabels(opening.labels);
      else
        say(
          'info',
          'The link asks for custom labels, but this pair has no text encoder to build them from: its own classes are used.',
          store,
        );
    },
    dispose() {
      unsyncHash?.();
      evaluation.dispose();
      cache?.dispose();
      uploads.dispose();
      alpha.dispose();
      samples.dispose();
      probe.dispose();
      moved.dispose();
      layers.dispose();
    },
  };
}
