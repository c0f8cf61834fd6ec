// The contract between the page and the engine: everything the UI can ask of the engine, and the
// words both sides use. The Worker implements EngineApi (explorer.worker.ts); worker/client.ts
// serves the same interface on the page; tests implement it with a fake engine. A caller cannot
// tell from the types whether a Worker is behind it (web-llm's MLCEngineInterface, both sides).
//
// Type imports from core are the DTOs that cross the Worker boundary as plain objects.
import type { PairSummary as CorePairSummary, MemberSummary, SetSummary, Prediction, LayerGroupSummary } from '../core/explorer';
import type { SetAccuracy } from '../core/eval/frontier';
import type { MovedReport, MovedRow, MovedTotals, ChangeHistogram } from '../core/moved/moved';
import type { ImageCorrectness, PairedDifference } from '../core/eval/stats';
import type { LoadProgress } from '../core/bundle/source';
import type { NetLimits } from '../core/bundle/net';
import type { BackendChoice, RuntimeInfo } from '../core/runtime/backend';
import type { SoupRecipe, SoupUpdate } from '../core/soup/soups';
import type { GreedyStep } from '../core/soup/greedy';
import type { StockLayer } from '../core/soup/modelStock';
import type { WorldTrainingSpec } from '../core/world/source';
import type { FineTuneInit } from '../core/train/lpft';

export type { WorldTrainingSpec };
import type {
  CalibrationReport as CoreCalibrationReport,
  CalibrationRequest,
  CalibrationStats,
  FittedTemperature,
  SpaceCalibration,
} from '../core/eval/calibrationReport';
import type { ReliabilityBin } from '../core/eval/calibration';
import { quantizeAlpha } from '../core/blend/alpha';

export type {
  Prediction,
  SetAccuracy,
  ImageCorrectness,
  PairedDifference,
  LoadProgress,
  MemberSummary,
  SetSummary,
  LayerGroupSummary,
  BackendChoice,
  RuntimeInfo,
  MovedReport,
  MovedRow,
  MovedTotals,
  ChangeHistogram,
  SoupRecipe,
  GreedyStep,
  StockLayer,
  CalibrationRequest,
  CalibrationStats,
  FittedTemperature,
  SpaceCalibration,
  ReliabilityBin,
};

/**
 * What computed results belong to: the pair (zero-shot + member) and the eval sets in use. Equal
 * to the bundle hash until the user brings their own eval sets; then it also hashes those images,
 * so no number from another set can be shown with them.
 */
export type ResultsKey = string & { readonly __brand: 'ResultsKey' };

// The α range and its quantisation live in core (the CLI's per-layer presets use them too).
export { EXTRAPOLATED_RANGE, quantizeAlpha } from '../core/blend/alpha';

/** α outside [0, 1]: an extrapolation, drawn apart from the interpolation. */
export function isExtrapolated(alpha: number): boolean {
  return alpha < 0 || alpha > 1;
}

/** The key of an α in FrontierPoints (the engine's String(α) of a quantised α: "0.3", "0.37", "1.5"). */
export function alphaKey(alpha: number): string {
  return String(quantizeAlpha(alpha, true));
}

/** Two α are the same slider step. A float `===` fails for 0.1 * 3 against 0.3. */
export function sameAlpha(a: number, b: number): boolean {
  return quantizeAlpha(a, true) === quantizeAlpha(b, true);
}

/** The frontier's α grid: the curve's points. */
export const GRID: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);

/** The grid with extrapolation on: −0.5 … 1.5 by 0.1 (GRID's points are the same numbers). */
export const EXTRAPOLATED_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => quantizeAlpha(i / 10 - 0.5, true));

/** On the grid (a curve point), as opposed to an α passed on the way (a drag, a Play step). */
export function isGridAlpha(alpha: number): boolean {
  return GRID.some((g) => Math.abs(g - alpha) < 1e-9);
}

/**
 * α key → set id → counts. Points the engine computed also carry which images were right
 * (`SetAccuracy.images`, two bitsets of count / 8 bytes), so the page can compare two α on the
 * same images (paired deltas); the output-space ensemble's points have counts only.
 */
export type FrontierPoints = Record<string, Record<string, SetAccuracy>>;

export type PairRequest = { kind: 'url'; url: string } | { kind: 'files'; files: PathBlob[] };

export interface PathBlob {
  path: string;
  blob: Blob;
}

/**
 * The loaded pair as the page sees it. `bundleHash` names the bundle's bytes (zero-shot + member)
 * and never changes while that pair is loaded; `resultsKey` names what its results belong to.
 */
export type PairSummary = Omit<CorePairSummary, 'resultsKey'> & {
  resultsKey: ResultsKey;
  /**
   * The members trained in this page on this pair, oldest first (each listed in `members`):
   * exportTrainedOnnx and exportBundle take them. Empty again when another pair loads.
   */
  trainedHere: string[];
};

/** The pair summary, and why another member than the one asked for was opened (a stale link). */
export type LoadedPairSummary = PairSummary & { memberNote: string | null };

export interface EvalFolderResult {
  pair: PairSummary;
  /** One sentence per file that could not be used (it names the file and why). */
  skipped: string[];
}

export interface DecodedUpload {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface Classification {
  resultsKey: ResultsKey;
  labels: string[];
  /** Per image, per α asked for. */
  predictions: Prediction[][];
}

/** The class index of every image of every eval set in use (a set's images in evaluation order). */
export interface EvalLabels {
  resultsKey: ResultsKey;
  sets: Record<string, Int32Array>;
}

/** Eval images as small opaque RGBA thumbnails (size × size × 4 bytes each). */
export interface EvalThumbnails {
  resultsKey: ResultsKey;
  setId: string;
  size: number;
  images: { index: number; rgba: Uint8Array }[];
}
/**
 * Calibration along α (ECE, NLL, the reliability bins at the request's α; temperature scaling on
 * request) from the logits the frontier's evaluation has seen, under the results key it belongs to.
 */
export type CalibrationReport = CoreCalibrationReport & { resultsKey: ResultsKey };

/** The logits of one eval set at one α, run afresh: what a test checks the calibration report against. */
export interface EvalLogits {
  logits: Float32Array;
  labels: Int32Array;
  classes: number;
  classSubset: Int32Array | null;
}

/** What fine-tuning moved in the loaded bundle, and which bundle (the page drops a report of another). */
export type MovedResult = MovedReport & { bundleHash: string };

export interface EvaluationProgress {
  done: number;
  total: number;
  chunkSize: number;
}

/** One evaluation of the frontier. A newer job supersedes the running one. */
export interface EvaluationJob {
  /** Chosen by the page, increasing: events and results name it, so stale ones are told apart. */
  id: number;
  grid: readonly number[];
  /** Evaluated first, so the highlighted point appears before the curve. */
  currentAlpha: number | null;
}

/**
 * What a job streams, in order, on one channel. A chunk's `point` is every set's result at its α so
 * far, per-image bitsets included: a copy, never changed by later chunks.
 */
export type EvaluationEvent =
  | {
      kind: 'chunk';
      jobId: number;
      resultsKey: ResultsKey;
      alpha: number;
      point: Record<string, SetAccuracy>;
      progress: EvaluationProgress;
    }
  | { kind: 'ensemble'; jobId: number; resultsKey: ResultsKey; points: FrontierPoints };

/**
 * Per-layer settings to evaluate (one α per layer group of the pair's `layers`, in order), on the
 * first `imagesPerSet` images of each set. A newer layer job supersedes this one; the frontier's
 * evaluation is not touched.
 */
export interface LayerJob {
  id: number;
  settings: readonly (readonly number[])[];
  imagesPerSet: number;
  /**
   * Before the chunks, each setting whose first chunks are still to run gets a first estimate: one
   * event on a few images of every set (the evaluator's PREVIEW_IMAGES), as a new α's first point.
   * Its images are the start of those chunks: none runs twice. Absent: chunks only.
   */
  firstEstimate?: boolean;
}

/** A setting's result so far: `settingKey` extends the pair's results key, so it never mixes with uniform α. */
export interface LayerEvent {
  kind: 'layer-chunk';
  jobId: number;
  resultsKey: ResultsKey;
  settingKey: string;
  alphas: number[];
  point: Record<string, SetAccuracy>;
  progress: EvaluationProgress;
}

export type LayerResult = { status: 'done' | 'superseded'; jobId: number };

/**
 * Soups over every member of the bundle (zero-shot first, then the manifest's members), on the
 * first `imagesPerSet` images of each set. A newer soup job supersedes this one; the frontier's
 * and the per-layer evaluations are not touched.
 */
export interface SoupJob {
  id: number;
  recipes: readonly SoupRecipe[];
  imagesPerSet: number;
}

type OfJob<U> = U extends unknown ? Omit<U, 'resultsKey'> & { jobId: number; resultsKey: ResultsKey } : never;

/**
 * A soup's result so far ('soup-chunk', under its own `soupKey`, never an α key), a greedy step as
 * it is decided, or Model Stock's per-layer cosθ and t.
 */
export type SoupEvent = OfJob<SoupUpdate>;

export type SoupResult = { status: 'done' | 'superseded'; jobId: number };

export type EvaluationResult =
  { status: 'done'; jobId: number; resultsKey: ResultsKey; points: FrontierPoints } | { status: 'superseded'; jobId: number };

/**
 * A linear probe trained in the Worker. The bundled pair ships no training split (its eval sets are
 * the test draw the chart reports), so the images are the user's: a folder laid out <class>/<image>.
 */
export interface TrainingJob {
  /** Chosen by the page: events and the result name it, and cancelTraining(id) stops it. */
  id: number;
  files: PathBlob[];
  epochs: number;
  seed: number;
}

/**
 * End-to-end fine-tuning of every weight of the bundled image tower on the same folder, with the
 * same held-out split as the probe; epochs, learning rate and images per step as the user set them.
 */
export interface FineTuneJob extends TrainingJob {
  lr: number;
  batchSize: number;
  /** 'linear-probe': LP-FT, the head fitted on the frozen features first (the bundled members' recipe); the zero-shot head when absent. */
  init?: FineTuneInit;
  /** Where the images come from: the folder in `files` when absent; the world's renderer, generating them in the Worker as batches need them, for 'world' (then `files` is empty). */
  data?: FineTuneData;
}

export type { FineTuneInit };

/** The images of an end-to-end job: a dropped folder, or the bundled world's reference photos at a chosen shortcut strength. */
export type FineTuneData = { kind: 'folder' } | WorldTrainingSpec;

/** Held-out accuracy and the number of images it is measured on. */
export interface HeldOut {
  accuracy: number;
  n: number;
}

export type TrainingEvent =
  | { kind: 'decode'; jobId: number; done: number; total: number }
  | { kind: 'features'; jobId: number; done: number; total: number }
  /** Generated images: the held-out images rendered, before anything trains. */
  | { kind: 'held-out'; jobId: number; done: number; total: number }
  /** Generated images: a chunk of the training images (up to 1,024) rendered, when LP-FT's feature pass or a step first needs it. */
  | { kind: 'training-render'; jobId: number; done: number; total: number }
  /** LP-FT: the held-out images' zero-shot features, before the probe's first epoch. */
  | { kind: 'held-out-features'; jobId: number; done: number; total: number }
  /** End to end: the tower's accuracy on the held-out images after `epoch` epochs (0: before the first step), `done` of `total` images. */
  | { kind: 'held-out-accuracy'; jobId: number; epoch: number; done: number; total: number }
  | { kind: 'epoch'; jobId: number; epoch: number; epochs: number; loss: number; validation: HeldOut | null }
  /** An end-to-end step; `validation` is set at an epoch's end only. */
  | { kind: 'step'; jobId: number; step: number; steps: number; epoch: number; epochs: number; loss: number; validation: HeldOut | null };

export type TrainingResult =
  | {
      status: 'done';
      jobId: number;
      /** The new member, already listed in `pair.members`; the member blended now is unchanged. */
      member: MemberSummary;
      pair: PairSummary;
      trainCount: number;
      /** Held-out accuracy of the zero-shot head (`initial`) and of the trained one; null when nothing was held out. */
      validation: (HeldOut & { initial: number }) | null;
      /** One sentence per file that could not be used. */
      skipped: string[];
    }
  | { status: 'cancelled'; jobId: number };

/** Everything the UI can ask of the engine. */
export interface EngineApi {
  /** Starts the engine on the backend asked for (or the one that works); `onRuntime` hears of later switches (a lost GPU). */
  init(choice: BackendChoice, onRuntime: (r: RuntimeInfo) => void): Promise<RuntimeInfo>;
  /**
   * Loads a pair with a fine-tuned member (default: the first). An id the bundle lacks (a stale
   * link) opens the default member and says so in memberNote.
   * @throws EngineError; the previous pair stays loaded.
   */
  loadPair(req: PairRequest, onProgress: (p: LoadProgress) => void, member: string | null): Promise<LoadedPairSummary>;
  /** Blends the zero-shot model with another member of the loaded bundle; the user's eval sets stay. */
  loadMember(member: string, onProgress: (p: LoadProgress) => void): Promise<LoadedPairSummary>;
  /** Stops the downloads of every load in progress; each fails with code 'cancelled'. */
  cancelLoad(): Promise<number>;
  current(): Promise<PairSummary | null>;
  /**
   * Runs an evaluation job. Resolves only after every one of its events has reached `onEvent`, so
   * the result's points are the last word on them: nothing of this job arrives later.
   */
  evaluate(job: EvaluationJob, onEvent: (e: EvaluationEvent) => void): Promise<EvaluationResult>;
  /** Runs a per-layer job; resolves after every one of its events has reached `onEvent`, as evaluate does. */
  evaluateLayers(job: LayerJob, onEvent: (e: LayerEvent) => void): Promise<LayerResult>;
  /**
   * Runs a soup job; resolves after every one of its events has reached `onEvent`, as evaluate does.
   * The first soup job of a pair reads every member's checkpoint.
   */
  evaluateSoups(job: SoupJob, onEvent: (e: SoupEvent) => void): Promise<SoupResult>;
  /** Stops job `jobId` if it is the one running (it resolves 'superseded'); a later job is left alone. */
  cancel(jobId: number): Promise<void>;
  /** Whether a dropped .zip is a bundle (a manifest.json at its top) or eval sets; only its directory is read. */
  zipHoldsBundle(zip: Blob): Promise<boolean>;
  /** The user's own eval sets from a <set>/<class>/<image> folder or a zip of one. */
  useEvalFolder(files: PathBlob[], reference: string | null, onProgress: (done: number, total: number) => void): Promise<EvalFolderResult>;
  /** The class of every eval image, so the page can group its per-image results by class. */
  evalLabels(): Promise<EvalLabels>;
  /**
   * Thumbnails of images `indices` (at most 64) of eval set `setId`, at most 64 px wide.
   * @throws EngineError for an unknown set or an index outside it.
   */
  evalImages(setId: string, indices: readonly number[]): Promise<EvalThumbnails>;
  /** Decodes an image to the model's input (RGB at its size). */
  decode(blob: Blob, name: string): Promise<DecodedUpload>;
  classify(images: Uint8Array[], alphas: readonly number[]): Promise<Classification>;
  setCustomLabels(labels: string[] | null): Promise<void>;
  /** The words of `labels` the pair's tokenizer maps to its unknown token, as typed (none for a byte-level BPE). */
  unknownWords(labels: string[]): Promise<string[]>;
  /**
   * θ(α) as one self-contained ONNX file (every weight inline, also on a pair with external data).
   * @throws an Error naming the command line instead when the weights pass a single file's 2 GB.
   */
  exportOnnx(alpha: number): Promise<Uint8Array>;
  /**
   * Trains a linear probe and adds it as an in-memory member of the loaded bundle (select it with
   * loadMember). Resolves after every event has reached `onEvent`; a cancelled job adds nothing.
   */
  trainLinearProbe(job: TrainingJob, onEvent: (e: TrainingEvent) => void): Promise<TrainingResult>;
  /**
   * Fine-tunes every weight of the bundled image tower on the folder and adds the result as an
   * in-memory member, as trainLinearProbe does; one step at a time, so the slider stays live.
   * @throws EngineError 'training' for a pair whose tower this page cannot train.
   */
  fineTuneEndToEnd(job: FineTuneJob, onEvent: (e: TrainingEvent) => void): Promise<TrainingResult>;
  /** Stops training job `jobId` (a probe or an end-to-end fine-tune) if it is running (it resolves 'cancelled'). */
  cancelTraining(jobId: number): Promise<void>;
  /**
   * Pauses (true) or resumes (false) training job `jobId`: paused, it holds between two steps (an
   * epoch, a feature batch, a decoded group of images) and takes no CPU; cancelTraining still stops
   * it. A job that is not running is left alone.
   */
  setTrainingPaused(jobId: number, paused: boolean): Promise<void>;
  /**
   * The ONNX file of member `memberId`, trained in this page: the zero-shot graph with the trained
   * weights in its initializers, the very bytes the engine blends as that member, except that
   * weights it reads from the zero-shot model's external data files are written inline (the file
   * loads alone).
   * @throws EngineError 'unknown-member' for an id no member trained on this pair has; an Error
   * naming the bundle .zip instead when the weights pass a single ONNX file's 2 GB.
   */
  exportTrainedOnnx(memberId: string): Promise<Uint8Array>;
  /**
   * The loaded bundle with member `memberId` (trained in this page) added, as one .zip: its
   * manifest and every file it lists, each checked as a load checks it. Dropped on the page, the
   * zip (or its folder) loads with that member selectable.
   * @throws EngineError 'unknown-member' as exportTrainedOnnx does.
   */
  exportBundle(memberId: string, onProgress: (done: number, total: number) => void): Promise<Uint8Array>;
  /**
   * What fine-tuning moved: per tensor, every member's ‖θₖ − θ₀‖ / ‖θ₀‖, the cosine between two
   * members' deltas, and histograms of the changes. Members other than the loaded one are read
   * (from the cache or the dropped files, else downloaded) on the first call for a pair.
   * @throws EngineError 'no-pair'
   */
  moved(): Promise<MovedResult>;
  /**
   * Calibration along α from what the frontier's evaluation has computed so far: no model runs, and
   * only per-set, per-α numbers and one α's reliability bins cross, never logits.
   * @throws EngineError 'no-pair'
   */
  calibration(req: CalibrationRequest): Promise<CalibrationReport>;
}

export interface ResourceCounts {
  sessions: number;
  gpuBuffers: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  corrupt: number;
}

/** The Worker's name; the debug name also serves EngineDebugApi (a page opened by a test). */
export const ENGINE_WORKER_NAME = 'wiseft-engine';
export const DEBUG_WORKER_NAME = 'wiseft-engine-debug';

/** Hooks for tests only: served by the Worker when the page was opened for a test. */
export interface EngineDebugApi {
  /** Destroys the GPU device, as a driver reset would; false on the CPU. */
  loseDevice(): Promise<boolean>;
  resources(): Promise<ResourceCounts>;
  cacheStats(): Promise<CacheStats>;
  /** Shorter timeouts or caps for the downloads that follow. */
  setNetLimits(limits: Partial<NetLimits>): Promise<void>;
  /**
   * Engines the frontier of the pairs loaded next runs on, on wasm: 1 is the engine Worker alone,
   * n ≥ 2 that many single-threaded helper Workers (still within core/eval/lanes.ts's memory
   * budget); null restores the default.
   */
  setFrontierEngines(n: number | null): Promise<void>;
  /** How many engines the loaded pair's frontier runs on (1 without a pair). */
  frontierEngines(): Promise<number>;
  /** Every image of eval set `setId` run at α afresh: its logits, labels and class subset. */
  evalLogits(alpha: number, setId: string): Promise<EvalLogits>;
}

export type EngineErrorCode =
  | 'no-engine'
  | 'no-pair'
  | 'cancelled'
  | 'download'
  | 'manifest'
  | 'unknown-member'
  | 'bundle'
  | 'onnx'
  | 'pair-mismatch'
  | 'pair-check'
  | 'gpu-limit'
  | 'image-too-large'
  | 'decode'
  | 'eval-folder'
  | 'training'
  | 'internal';

/** An engine failure the UI can branch on by `code`; `message` is a sentence for the user. */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The code of any thrown value (an EngineError's, else 'internal'). */
export function errorCode(e: unknown): EngineErrorCode {
  return e instanceof EngineError ? e.code : 'internal';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
