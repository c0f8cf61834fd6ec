// The store: the state's types, its initial values, and the few writes every controller shares
// (resetResults, messages). Actions that talk to the engine are controllers (controllers/*.ts),
// each owning its timers; components call them and never write to the store themselves.
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type {
  LoadProgress,
  PairSummary,
  Prediction,
  RuntimeInfo,
  ResultsKey,
  FrontierPoints,
  EvaluationProgress,
  EvalLabels,
  HeldOut,
  MovedResult,
  CalibrationReport,
  FineTuneInit,
} from '../worker/protocol';
import { MODEL_ORDER, type MovedSort } from '../core/moved/table';
import { parseHash, type HashState } from './hash';
import { FINETUNE_PRESETS, findPreset, LAB_IMAGES, RECIPE, unknownPresetMessage, type FineTunePresetId } from './finetunePresets';
import type { ImportedCurve } from './imported';
import type { HidePart } from './lab';
import { PAPER_CURVES } from '../data/paper/paper';
import type { LayerPreset, LinesParams } from './layerAlpha';
import type { GreedyStep, StockLayer } from '../worker/protocol';

export interface PairSlice {
  pair: PairSummary | null;
  runtime: RuntimeInfo | null;
  loading: { label: string; progress: (LoadProgress & { elapsedMs: number }) | null; startedAt: number } | null;
  /**
   * The pair's eval images, read after its first screen (the pair is in use meanwhile: `loading`
   * is null); the loading bar shows them until the last byte. null when none are on their way.
   */
  evalImagesLoading: { progress: LoadProgress & { elapsedMs: number }; startedAt: number } | null;
  /** The last failure to load a pair, in words; the previous pair stays in use. */
  pairError: string | null;
  /** Why the member shown is not the one the link asked for (an id the bundle does not have). */
  memberNote: string | null;
}

export interface AlphaSlice {
  alpha: number;
  playing: boolean;
}

export interface ResultsSlice {
  /** What the points belong to: events for another results key are stale and dropped. */
  resultsKey: ResultsKey | null;
  points: FrontierPoints;
  ensemble: FrontierPoints;
  progress: EvaluationProgress | null;
  evalStartedAt: number | null;
  fullFrontierMs: number | null;
  /** When the frontier shown was completed on an earlier visit (restored from IndexedDB), else null. */
  cachedAt: number | null;
  /**
   * The user pressed Cancel: α moves show their estimate and start no evaluation until Evaluate
   * (or new results: another pair, member or eval sets).
   */
  evalPaused: boolean;
  /** Images per second, measured while the evaluation runs (controllers/evaluation.ts); null until known. */
  evalRate: number | null;
}

export interface LayerSlice {
  /** One α per layer group (the pair's `layers`) while per-layer α is on; null: the uniform α. */
  layerAlphas: number[] | null;
  /** The preset the per-layer α came from; null once a group is set by hand. */
  layerPreset: LayerPreset | null;
  lines: LinesParams;
  /**
   * Per-layer settings' results by setting key (`settingKey`: the results key and the setting),
   * apart from `points`, so a per-layer number is never read as a uniform-α one.
   */
  layerPoints: FrontierPoints;
  /** The sensitivity strip's images per set, while it is shown; null: hidden. */
  sensitivity: number | null;
  layerEvaluating: boolean;
  /** α from −0.5 to 1.5: the frontier extended past zero-shot and fine-tuned. */
  extrapolate: boolean;
}

export interface SoupSlice {
  /** The soups panel is open: the uniform soup, the greedy soup and Model Stock are evaluated and drawn. */
  soupsOn: boolean;
  /** The triangle's heatmap: reference or shift accuracy; null: hidden. */
  triangle: 'reference' | 'shift' | null;
  /** Soups' results by soupKey, apart from `points`: a soup number is never read as an α one. */
  soupPoints: FrontierPoints;
  /** The greedy soup's steps as decided, each with the key of the soup after it. */
  greedySteps: { step: GreedyStep; soupKey: string }[];
  /** How many greedy steps are shown: the animation reveals one at a time. */
  greedyShown: number;
  /** Model Stock's per-layer cosθ and t, and its results key. */
  stock: { layers: StockLayer[]; soupKey: string } | null;
  /** Images per set the soups are evaluated on so far (100 first, then all). */
  soupImages: number | null;
  soupEvaluating: boolean;
}

/** Calibration along α (controllers/calibration.ts): ECE, NLL and the reliability diagram, from the engine. */
export interface CalibrationSlice {
  /** The calibration panel is open: its report is kept up to date while it is. */
  calibrationOpen: boolean;
  /** Temperature scaling fitted on the reference set at each α, applied to every number shown. */
  temperatureOn: boolean;
  /** The set whose reliability diagram is drawn; null: the reference set. */
  calibrationSet: string | null;
  /** The latest report for the pair shown (its results key), or null. */
  calibration: CalibrationReport | null;
}

export interface EvaluationSlice {
  evaluating: boolean;
}

export interface ViewSlice {
  shift: string;
  showEnsemble: boolean;
  paper: string;
  presenter: boolean;
  pairUrl: string | null;
  backendChoice: HashState['backend'];
  /** The fine-tuned member in the URL: asked for by the link until a pair loads, then the one shown. */
  member: string | null;
  showRecorded: boolean;
}

export interface Upload {
  id: number;
  name: string;
  /** A data URL of the model's input crop, for the thumbnail (never uploaded anywhere). */
  thumbnail: string | null;
  rgb: Uint8Array | null;
  status: 'decoding' | 'ready' | 'error';
  error: string | null;
  /** Predictions along α (the trajectory), for the labels below. */
  trajectory: Prediction[] | null;
  current: Prediction | null;
  labels: string[];
  /** The results key the trajectory was computed under: another pair, member or label set needs a new one. */
  resultsKey: ResultsKey | null;
}

export interface UploadSlice {
  uploads: Upload[];
  customLabels: string[] | null;
  labelError: string | null;
  /** Labels asked for (typed or from a link) with words the tokenizer does not know: not run until confirmed. */
  labelWarning: { labels: string[]; unknown: string[] } | null;
}

export interface LessonSlice {
  /** The class of every eval image, under the results key it belongs to (EngineApi.evalLabels). */
  evalLabels: EvalLabels | null;
  /** Eval thumbnails as data URLs by `thumbnailKey(setId, index)`, all under `thumbnailsKey`. */
  thumbnails: Record<string, string>;
  thumbnailsKey: ResultsKey | null;
  /** The set the flips' thumbnails and the per-class table show; null follows the chart's shift. */
  lessonSet: string | null;
}

/** A thumbnail's key in `thumbnails` (set ids never hold '/'). */
export function thumbnailKey(setId: string, index: number): string {
  return `${setId}/${index}`;
}

export interface ImportSlice {
  /** wise-ft results files plotted beside the live frontier. */
  imported: ImportedCurve[];
}

export interface LabSlice {
  /** The guided lab's step (1-based, `lab=` in the link); null outside lab mode. */
  labStep: number | null;
  /** Parts of the page the link hides (`hide=`). */
  hidden: HidePart[];
  /** The student's mark for the step's prediction, in percent on the chart's axes. */
  prediction: { x: number; y: number } | null;
  revealed: boolean;
}

/** The linear probe trained in the Worker on the user's <class>/<image> folder (controllers/linearProbe.ts). */
/**
 * What a training job is doing, `done` of `total`: decoding the folder, rendering the generated world's held-out images or a
 * chunk of its training images, LP-FT's feature passes (the training images', the held-out ones'), training epoch (probe) or
 * step (end to end), or measuring the held-out accuracy after `epoch` epochs (0: before the first step).
 */
export type ProbeStage =
  | { phase: 'decode' | 'held-out' | 'training-render' | 'held-out-features' | 'features' | 'epoch' | 'step'; done: number; total: number }
  | { phase: 'held-out-accuracy'; epoch: number; done: number; total: number };

export interface ProbeSlice {
  probe: {
    /** The folder picked for training: its name and how many files it holds. */
    folder: { name: string; files: number } | null;
    /** The job running, by id; null when none. */
    running: number | null;
    /** The running job holds between two steps until resumed (Cancel still stops it). */
    paused: boolean;
    /** What trains: the head alone (a linear probe) or every weight of the image tower (end to end). */
    method: 'linear-probe' | 'end-to-end';
    /**
     * End-to-end settings (the pipeline's recipe, fewer epochs: core/train/endToEnd.ts PAGE_FINETUNE), and the head it starts
     * from: the zero-shot one, or a linear probe's fitted first (LP-FT, the bundled members' recipe).
     */
    fineTune: { epochs: number; lr: number; batchSize: number; init: FineTuneInit };
    /** Where an end-to-end job's images come from: the folder picked, or the world's renderer in the Worker. */
    source: 'folder' | 'world';
    /** The generated world: how often the background has the class's colour (0–1), how many training images, and the share in non-photo styles (0–1). */
    world: { shortcut: number; n: number; styleMix: number };
    /** The lab the settings came from (a link's `finetune=`, finetunePresets.ts); null once one is changed by hand. */
    preset: FineTunePresetId | null;
    stage: ProbeStage | null;
    /** The last training loss reported, live while training. */
    loss: number | null;
    /** Held-out accuracy after the last epoch, live while training. */
    validation: HeldOut | null;
    /** The last probe trained: the member it became, and its held-out accuracy before (zero-shot) and after. */
    result: { memberId: string; memberName: string; trainCount: number; validation: (HeldOut & { initial: number }) | null } | null;
    error: string | null;
  };
}

/**
 * core/train/endToEnd.ts PAGE_FINETUNE (tools/build.py's lr and batch, 2 epochs), copied so the page
 * bundle does not pull the training runtime in; tests/unit/state/linearProbe.test.ts keeps them equal.
 */
export const PAGE_FINETUNE = { epochs: 2, lr: 2e-4, batchSize: 128, init: 'zero-shot' } as const;

export const initialProbe: ProbeSlice['probe'] = {
  folder: null,
  running: null,
  paused: false,
  method: 'linear-probe',
  fineTune: PAGE_FINETUNE,
  source: 'folder',
  world: { shortcut: FINETUNE_PRESETS[1]!.shortcut, n: LAB_IMAGES, styleMix: 0 },
  preset: null,
  stage: null,
  loss: null,
  validation: null,
  result: null,
  error: null,
};

/** The probe slice a link opens: a lab's settings (`finetune=`), or the defaults with a message naming the labs there are. */
export function probeFromLink(name: string | null): ProbeSlice['probe'] {
  if (name === null) return initialProbe;
  const preset = findPreset(name);
  if (!preset) return { ...initialProbe, error: unknownPresetMessage(name) };
  const world = { shortcut: preset.shortcut, n: LAB_IMAGES, styleMix: 0 };
  return { ...initialProbe, method: 'end-to-end', source: 'world', fineTune: { ...RECIPE }, world, preset: preset.id };
}

/** A download of a member trained in the page under way (controllers/trainedExport.ts): which, and how far. */
export interface TrainedExportSlice {
  trainedExport: { memberId: string; what: 'onnx' | 'bundle'; done: number; total: number } | null;
}

/** "What fine-tuning moved": the panel (collapsed until opened), its report for the pair, its sort and the tensor clicked. */
export interface MovedSlice {
  movedOpen: boolean;
  moved:
    | { status: 'none' }
    | { status: 'computing'; bundleHash: string }
    | { status: 'ready'; report: MovedResult }
    | { status: 'failed'; bundleHash: string; error: string };
  movedSort: MovedSort;
  /** The tensor whose histogram is shown, by name. */
  movedTensor: string | null;
}

export interface Message {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface MessageSlice {
  messages: Message[];
  /** The id of the last message said. */
  messageSeq: number;
}

export type State = PairSlice &
  AlphaSlice &
  LayerSlice &
  SoupSlice &
  CalibrationSlice &
  ResultsSlice &
  EvaluationSlice &
  ViewSlice &
  UploadSlice &
  LessonSlice &
  ImportSlice &
  LabSlice &
  ProbeSlice &
  TrainedExportSlice &
  MovedSlice &
  MessageSlice;
export type Store = StoreApi<State>;

/** What a new pair, member or eval-set choice starts from: nothing computed under its key yet. */
export const initialResults: ResultsSlice = {
  resultsKey: null,
  points: {},
  ensemble: {},
  progress: null,
  evalStartedAt: null,
  fullFrontierMs: null,
  cachedAt: null,
  evalPaused: false,
  evalRate: null,
};

// A paper= the app has no curve for (a typo, an old link) opens with no overlay, and the URL is
// rewritten without it at start, with a note: a link must not keep claiming a view it does not
// show. (An unknown shift= is dropped the same way once the pair's sets are known.)
const paperIds = PAPER_CURVES.map((c) => c.id);
const knownPaper = (paper: string) => paper === 'none' || paperIds.includes(paper);

/** What the opening link asked for that this app does not have, in words (said once the app starts). */
export function hashNotes(h: HashState): string[] {
  return knownPaper(h.paper)
    ? []
    : [
        `The link asks for a paper curve this app does not have (paper=${h.paper.slice(0, 40)}; it has ${paperIds.join(', ')}): no overlay is shown.`,
      ];
}

// Each slice's start; the opening link sets the fields it names. Fresh objects per call: each store owns its own.

function pairStart(): PairSlice {
  return { pair: null, runtime: null, loading: null, evalImagesLoading: null, pairError: null, memberNote: null };
}

function layerStart(h: HashState): LayerSlice {
  return {
    layerAlphas: h.layers,
    layerPreset: h.preset,
    lines: h.lines,
    layerPoints: {},
    sensitivity: h.sensitivity,
    layerEvaluating: false,
    extrapolate: h.extrapolate,
  };
}

function soupStart(h: HashState): SoupSlice {
  return {
    soupsOn: h.soups,
    triangle: h.triangle,
    soupPoints: {},
    greedySteps: [],
    greedyShown: 0,
    stock: null,
    soupImages: null,
    soupEvaluating: false,
  };
}

function calibrationStart(h: HashState): CalibrationSlice {
  return { calibrationOpen: h.calibration, temperatureOn: h.temperature, calibrationSet: null, calibration: null };
}

function viewStart(h: HashState): ViewSlice {
  return {
    shift: h.shift,
    showEnsemble: h.ensemble,
    paper: knownPaper(h.paper) ? h.paper : 'none',
    presenter: h.presenter,
    pairUrl: h.pair,
    backendChoice: h.backend,
    member: h.member,
    showRecorded: h.recorded,
  };
}

function uploadAndLessonStart(): UploadSlice & LessonSlice {
  return {
    uploads: [],
    customLabels: null,
    labelError: null,
    labelWarning: null,
    evalLabels: null,
    thumbnails: {},
    thumbnailsKey: null,
    lessonSet: null,
  };
}

function movedStart(): MovedSlice {
  return { movedOpen: false, moved: { status: 'none' }, movedSort: MODEL_ORDER, movedTensor: null };
}

export function initialState(h: HashState = parseHash('')): State {
  return {
    ...pairStart(),
    alpha: h.alpha,
    playing: false,
    ...layerStart(h),
    ...soupStart(h),
    ...calibrationStart(h),
    ...initialResults,
    evaluating: false,
    ...viewStart(h),
    ...uploadAndLessonStart(),
    imported: [],
    labStep: h.lab,
    hidden: h.hide,
    prediction: null,
    revealed: false,
    probe: probeFromLink(h.finetune),
    trainedExport: null,
    ...movedStart(),
    messages: [],
    messageSeq: 0,
  };
}

/** The link the page was opened with. */
export const openingHash: HashState = typeof location !== 'undefined' ? parseHash(location.hash, location.search) : parseHash('');

/** A store of its own (a test's); the app uses `useStore`. */
export function createAppStore(init: State = initialState()): UseBoundStore<Store> {
  return create<State>()(() => init);
}

export const useStore = createAppStore(initialState(openingHash));

/** Results start afresh under `key`: the one literal for every new pair, member, eval sets or backend. */
export function resetResults(key: ResultsKey | null): ResultsSlice {
  return { ...initialResults, resultsKey: key };
}

/** A toast is read, not scrolled: longer text is cut (lists in messages are already cut by listSome). */
export const MAX_MESSAGE_CHARS = 600;

export function say(kind: 'error' | 'info', text: string, store: Store = useStore): void {
  const shown =
    text.length > MAX_MESSAGE_CHARS
      ? `${text.slice(0, MAX_MESSAGE_CHARS)}… (${(text.length - MAX_MESSAGE_CHARS).toLocaleString('en')} more characters)`
      : text;
  store.setState((s) => ({
    messageSeq: s.messageSeq + 1,
    messages: [...s.messages.slice(-3), { id: s.messageSeq + 1, kind, text: shown }],
  }));
}

export function dismiss(id: number, store: Store = useStore): void {
  store.setState((s) => ({ messages: s.messages.filter((m) => m.id !== id) }));
}
