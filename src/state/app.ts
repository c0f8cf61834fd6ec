// The app's controllers, built once around an engine and a store, with one lifecycle: start()
// opens the link's pair, dispose() stops every timer. Components reach them as `AppActions`.
import type { EngineApi, PairRequest, PathBlob } from '../worker/protocol';
import { hashNotes, say, dismiss, useStore, type Store } from './store';
import type { HashState } from './hash';
import { createEvaluation, type EvaluationController } from './controllers/evaluation';
import { createUploads, type UploadsController } from './controllers/uploads';
import { createAlphaControl, type AlphaController } from './controllers/alpha';
import { createLayers, type LayersController } from './controllers/layers';
import { createEngineSession, type EngineSession } from './controllers/engineSession';
import { createView, syncHash, type ViewController } from './controllers/view';
import { importResults, exportResults } from './imported';

export interface AppActions extends ViewController, Omit<LayersController, 'dispose'> {
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
  setCustomLabels(labels: string[] | null): Promise<void>;
  importResults(file: File): Promise<void>;
  exportResults(): void;
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
    layers: LayersController;
  },
): AppActions {
  const { evaluation, uploads, alpha, session, layers } = c;
  return {
    ...createView(store),
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
    setCustomLabels: (labels) => uploads.setCustomLabels(labels),
    importResults: (file) => importResults(file, store),
    exportResults: () => exportResults(store),
    dismiss: (id) => dismiss(id, store),
    bundledPairUrl: env.bundledPairUrl,
  };
}

export function createApp(engine: EngineApi, env: AppEnv, store: Store = useStore): App {
  const evaluation = createEvaluation(engine, store);
  const uploads = createUploads(engine, store);
  const alpha = createAlphaControl(store, evaluation, uploads);
  const layers = createLayers(engine, store);
  const session = createEngineSession({ engine, store, evaluation, uploads, pageUrl: env.pageUrl, bundledPairUrl: env.bundledPairUrl });
  let unsyncHash: (() => void) | null = null;
  return {
    actions: actionsOf(store, env, { evaluation, uploads, alpha, session, layers }),
    async start(opening) {
      await session.init();
      for (const note of hashNotes(opening)) say('info', note, store);
      unsyncHash = syncHash(store, env.writeHash);
      const requested = store.getState().pairUrl;
      if (requested && (await session.loadPair({ kind: 'url', url: requested }, requested, store.getState().member))) return;
      await session.loadPair({ kind: 'url', url: env.bundledPairUrl() }, 'the bundled pair', requested ? null : store.getState().member);
    },
    dispose() {
      unsyncHash?.();
      evaluation.dispose();
      uploads.dispose();
      alpha.dispose();
      layers.dispose();
    },
  };
}
