// The app's controllers, built once around an engine and a store, with one lifecycle: start()
// opens the link's pair, dispose() stops every timer. Components reach them as `AppActions`.
import type { EngineApi, PairRequest, PathBlob } from '../worker/protocol';
import { hashNotes, say, dismiss, useStore, type State, type Store } from './store';
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
import { createTrainedExport, type TrainedExportController } from './controllers/trainedExport';
import type { FineTunePresetId } from './finetunePresets';
import { importResults, exportResults } from './imported';
import { createLab, type LabController } from './controllers/lab';
import { createMoved, type MovedController } from './controllers/moved';
import { createSoups, type SoupsController } from './controllers/soups';
import { createSweepCheck } from './controllers/sweepCheck';
import { createCalibration, type CalibrationController } from './controllers/calibration';

export interface AppActions
  extends
    ViewController,
    LabController,
    Omit<SamplesController, 'dispose'>,
    Omit<MovedController, 'dispose'>,
    Omit<LayersController, 'dispose'>,
    Omit<SoupsController, 'dispose'>,
    Omit<CalibrationController, 'dispose'> {
  loadPair(req: PairRequest, label: string, member?: string | null): Promise<boolean>;
  selectMember(id: string): Promise<boolean>;
  cancelLoad(): void;
  loadEvalFolder(files: PathBlob[], reference?: string | null): Promise<boolean>;
  /** One dropped .zip: a bundle (a manifest.json at its top) loads as the pair, anything else as eval sets. */
  loadZip(files: PathBlob[]): Promise<boolean>;
  exportBlended(): Promise<void>;
  /** Evaluate: starts (or restarts, superseding) the progressive evaluation with the current α first, lifting a Cancel. */
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
  /** "Fine-tune it yourself": the <class>/<image> folder a linear probe or an end-to-end fine-tune trains on, Start and Cancel. */
  chooseProbeFolder(files: PathBlob[]): void;
  /** Head only (a linear probe) or every weight (end to end), and the end-to-end settings. */
  setProbeMethod(method: State['probe']['method']): void;
  setFineTuneSettings(patch: Partial<State['probe']['fineTune']>): void;
  /** End to end on the folder or on generated world images; the world's shortcut and count; a lab's settings. */
  setFineTuneSource(source: State['probe']['source']): void;
  setWorldSettings(patch: Partial<State['probe']['world']>): void;
  applyFineTunePreset(id: FineTunePresetId): void;
  startProbe(options?: { epochs?: number; seed?: number }): Promise<void>;
  cancelProbe(): void;
  /** Pauses or resumes the running training job. */
  setProbePaused(paused: boolean): void;
  /** Downloads a member trained in the page: its ONNX file, or the bundle with it as one .zip. */
  exportTrainedOnnx(memberId: string): Promise<void>;
  exportTrainedBundle(memberId: string): Promise<void>;
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

interface Controllers {
  evaluation: EvaluationController;
  uploads: UploadsController;
  alpha: AlphaController;
  session: EngineSession;
  lab: LabController;
  samples: SamplesController;
  probe: LinearProbeController;
  trainedExport: TrainedExportController;
  moved: MovedController;
  layers: LayersController;
  soups: SoupsController;
  calibration: CalibrationController;
}

/** The actions of the views beside the frontier: the lesson, the lab, the probe, moved weights, per-layer α. */
function featureActions(c: Controllers) {
  const { alpha, lab, samples, probe, moved, layers, soups, calibration } = c;
  return {
    ...lab,
    toggleMoved: () => moved.toggleMoved(),
    sortMoved: (key: Parameters<MovedController['sortMoved']>[0]) => moved.sortMoved(key),
    selectMovedTensor: (name: string | null) => moved.selectMovedTensor(name),
    setLayersOn: (on: boolean) => layers.setLayersOn(on),
    setLayerAlpha: (group: number, a: number) => layers.setLayerAlpha(group, a),
    applyPreset: (preset: Parameters<LayersController['applyPreset']>[0]) => layers.applyPreset(preset),
    setLines: (p: Parameters<LayersController['setLines']>[0]) => layers.setLines(p),
    showSensitivity: (n: Parameters<LayersController['showSensitivity']>[0]) => layers.showSensitivity(n),
    setExtrapolate: (on: boolean) => alpha.setExtrapolate(on),
    setSoupsOn: (on: boolean) => soups.setSoupsOn(on),
    setTriangle: (view: Parameters<SoupsController['setTriangle']>[0]) => soups.setTriangle(view),
    setCalibrationOpen: (on: boolean) => calibration.setCalibrationOpen(on),
    setTemperature: (on: boolean) => calibration.setTemperature(on),
    setCalibrationSet: (id: string | null) => calibration.setCalibrationSet(id),
    chooseProbeFolder: (files: Parameters<LinearProbeController['chooseFolder']>[0]) => probe.chooseFolder(files),
    setProbeMethod: (method: Parameters<LinearProbeController['setMethod']>[0]) => probe.setMethod(method),
    setFineTuneSettings: (patch: Parameters<LinearProbeController['setFineTune']>[0]) => probe.setFineTune(patch),
    setFineTuneSource: (source: Parameters<LinearProbeController['setSource']>[0]) => probe.setSource(source),
    setWorldSettings: (patch: Parameters<LinearProbeController['setWorld']>[0]) => probe.setWorld(patch),
    applyFineTunePreset: (id: FineTunePresetId) => probe.applyPreset(id),
    startProbe: (options: Parameters<LinearProbeController['start']>[0]) => probe.start(options),
    cancelProbe: () => probe.cancel(),
    setProbePaused: (paused: boolean) => probe.setPaused(paused),
    exportTrainedOnnx: (memberId: string) => c.trainedExport.exportTrainedOnnx(memberId),
    exportTrainedBundle: (memberId: string) => c.trainedExport.exportTrainedBundle(memberId),
    requestThumbnails: (setId: string, indices: number[]) => samples.requestThumbnails(setId, indices),
    setLessonSet: (id: Parameters<SamplesController['setLessonSet']>[0]) => samples.setLessonSet(id),
  };
}

function actionsOf(store: Store, env: AppEnv, c: Controllers): AppActions {
  const { evaluation, uploads, alpha, session } = c;
  return {
    ...createView(store),
    ...featureActions(c),
    loadPair: (req, label, member) => session.loadPair(req, label, member),
    selectMember: (id) => session.selectMember(id),
    cancelLoad: () => session.cancelLoad(),
    loadEvalFolder: (files, reference) => session.loadEvalFolder(files, reference),
    loadZip: (files) => session.loadZip(files),
    exportBlended: () => session.exportBlended(),
    scheduleEvaluation: (delayMs) => evaluation.resume(delayMs),
    cancelEvaluation: () => evaluation.cancel(),
    setAlpha: (a) => alpha.setAlpha(a),
    togglePlay: () => alpha.togglePlay(),
    addUploads: (files) => uploads.add(files),
    removeUpload: (id) => uploads.remove(id),
    setCustomLabels: (labels, confirmed) => uploads.setCustomLabels(labels, confirmed),
    importResults: (file) => importResults(file, store),
    exportResults: () => exportResults(store),
    dismiss: (id) => dismiss(id, store),
    bundledPairUrl: env.bundledPairUrl,
  };
}

/**
 * Opens what the link asks for: its pair (else the bundled one, with the link's member only if the
 * link named no pair), its lab step, then its labels, checked like typed ones.
 */
async function openLink(store: Store, env: AppEnv, c: Controllers, opening: HashState): Promise<void> {
  const { session, lab, uploads } = c;
  const requested = store.getState().pairUrl;
  const loaded =
    (requested && (await session.loadPair({ kind: 'url', url: requested }, requested, store.getState().member))) ||
    (await session.loadPair({ kind: 'url', url: env.bundledPairUrl() }, 'the bundled pair', requested ? null : store.getState().member));
  // A lab link opens at its step's α, which for the last step is the member's recommended α.
  lab.applyStep();
  if (!loaded || !opening.labels) return;
  if (store.getState().pair?.hasText) await uploads.setCustomLabels(opening.labels);
  else
    say('info', 'The link asks for custom labels, but this pair has no text encoder to build them from: its own classes are used.', store);
}

export function createApp(engine: EngineApi, env: AppEnv, store: Store = useStore): App {
  const cache = env.frontierStorage ? createFrontierCache(env.frontierStorage, store) : null;
  const evaluation = createEvaluation(engine, store, cache);
  const uploads = createUploads(engine, store);
  const alpha = createAlphaControl(store, evaluation, uploads);
  const session = createEngineSession({ engine, store, evaluation, uploads, pageUrl: env.pageUrl, bundledPairUrl: env.bundledPairUrl });
  const c: Controllers = {
    evaluation,
    uploads,
    alpha,
    session,
    lab: createLab(store, alpha),
    samples: createSamples(engine, store),
    probe: createLinearProbe(engine, store),
    trainedExport: createTrainedExport(engine, store),
    moved: createMoved(engine, store),
    layers: createLayers(engine, store),
    soups: createSoups(engine, store),
    calibration: createCalibration(engine, store, evaluation),
  };
  const sweepCheck = createSweepCheck(store);
  let unsyncHash: (() => void) | null = null;
  return {
    actions: actionsOf(store, env, c),
    async start(opening) {
      await session.init();
      for (const note of hashNotes(opening)) say('info', note, store);
      unsyncHash = syncHash(store, env.writeHash);
      await openLink(store, env, c, opening);
    },
    dispose() {
      unsyncHash?.();
      evaluation.dispose();
      sweepCheck.dispose();
      cache?.dispose();
      for (const d of [uploads, alpha, c.samples, c.probe, c.trainedExport, c.moved, c.layers, c.soups, c.calibration]) d.dispose();
    },
  };
}
