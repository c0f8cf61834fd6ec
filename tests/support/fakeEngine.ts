// An EngineApi with no engine behind it, for the state layer's tests in Node: every call is
// recorded, and the test decides what each answers and when (web-llm tests its Worker handler
// against a mocked engine the same way).
import {
  EngineError,
  type EngineApi,
  type EvaluationEvent,
  type EvaluationJob,
  type EvaluationResult,
  type LayerEvent,
  type LayerJob,
  type LayerResult,
  type SoupEvent,
  type SoupJob,
  type SoupResult,
  type LoadedPairSummary,
  type PairSummary,
  type ResultsKey,
  type RuntimeInfo,
  type SetAccuracy,
  type TrainingEvent,
  type TrainingJob,
  type FineTuneJob,
  type TrainingResult,
  type MovedResult,
  type CalibrationReport,
  type CalibrationRequest,
} from '../../src/worker/protocol';
import { emptyCorrectness, markImages } from '../../src/core/eval/stats';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An evaluation the test drives: emit events, then finish it. */
export interface FakeJob {
  job: EvaluationJob;
  emit(e: EvaluationEvent): void;
  finish(r: EvaluationResult): void;
  fail(e: unknown): void;
}

/** A training job the test drives, as FakeJob for an evaluation. */
export interface FakeTraining {
  job: TrainingJob;
  emit(e: TrainingEvent): void;
  finish(r: TrainingResult): void;
  fail(e: unknown): void;
}

/** A per-layer job the test drives. */
export interface FakeSoupJob {
  job: SoupJob;
  emit(e: SoupEvent): void;
  finish(r: SoupResult): void;
}

export interface FakeLayerJob {
  job: LayerJob;
  emit(e: LayerEvent): void;
  finish(r: LayerResult): void;
}

export const RUNTIME: RuntimeInfo = { backend: 'wasm', gpu: null, threads: 1, ortVersion: 'fake', note: null };

export function fakePair(overrides: Partial<PairSummary> = {}): PairSummary {
  return {
    name: 'fake pair',
    members: [{ id: 'ft', name: 'Fine-tuned', kind: 'end-to-end', seed: null, description: '', hasSweeps: false, recommendedAlpha: null }],
    member: 'ft',
    sweeps: null,
    description: '',
    citation: '',
    classes: ['a', 'b'],
    templates: ['{}'],
    sets: [
      { id: 'reference', name: 'reference', role: 'reference', analogue: null, description: '', count: 200, classSubset: null },
      { id: 'shift', name: 'shift', role: 'shift', analogue: null, description: '', count: 100, classSubset: null },
    ],
    bundleHash: 'bundle-1',
    resultsKey: 'bundle-1' as ResultsKey,
    trainedHere: [],
    sourceUrl: null,
    hasText: false,
    vocabulary: null,
    engine: { backend: 'wasm', blendedBytes: 0, gpuBytes: 0, blendedTensors: 1, sharedTensors: 0 },
    inputSize: 8,
    layers: [
      { id: 'encoder.features.0', tensors: 3 },
      { id: 'encoder.features.1', tensors: 3 },
      { id: 'head', tensors: 2 },
    ],
    ...overrides,
  };
}

export const acc = (correct: number, n: number, total = n): SetAccuracy => ({ correct, n, total });

/**
 * A set's result as the engine sends it, per image: `hits[i]` says whether image i was right; the
 * images after hits.length (up to `total`) are not evaluated yet.
 */
export function accOf(hits: readonly (0 | 1 | boolean)[], total = hits.length): SetAccuracy {
  const images = emptyCorrectness(total);
  markImages(
    images,
    0,
    hits.map((h) => (h ? 1 : 0)),
  );
  return { correct: hits.filter(Boolean).length, n: hits.length, total, images };
}

export class FakeEngine implements EngineApi {
  calls: { method: keyof EngineApi; args: unknown[] }[] = [];
  jobs: FakeJob[] = [];
  trainings: FakeTraining[] = [];
  layerJobs: FakeLayerJob[] = [];
  soupJobs: FakeSoupJob[] = [];
  cancelled: number[] = [];
  /** What loadPair/loadMember answer next (an Error to fail). */
  nextLoad: LoadedPairSummary | Error = { ...fakePair(), memberNote: null };
  /** When set, what a load of this request answers instead of nextLoad. */
  loadFor: ((req: unknown) => LoadedPairSummary | Error) | null = null;
  pair: PairSummary | null = null;
  onRuntime: ((r: RuntimeInfo) => void) | null = null;
  classifyAnswers: Deferred<Awaited<ReturnType<EngineApi['classify']>>>[] = [];
  /** The moved reports asked for, answered by the test. */
  movedAnswers: Deferred<MovedResult>[] = [];
  /** The calibration reports asked for, answered by the test (each with its request). */
  calibrationAnswers: (Deferred<CalibrationReport> & { req: CalibrationRequest })[] = [];

  private record(method: keyof EngineApi, args: unknown[]): void {
    this.calls.push({ method, args });
  }

  callsOf(method: keyof EngineApi): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  async init(choice: Parameters<EngineApi['init']>[0], onRuntime: (r: RuntimeInfo) => void) {
    this.record('init', [choice]);
    this.onRuntime = onRuntime;
    return RUNTIME;
  }

  private async load(req: unknown): Promise<LoadedPairSummary> {
    const next = this.loadFor ? this.loadFor(req) : this.nextLoad;
    if (next instanceof Error) throw next;
    const { memberNote: _note, ...pair } = next;
    this.pair = pair;
    return next;
  }

  loadPair(...args: Parameters<EngineApi['loadPair']>) {
    this.record('loadPair', args);
    return this.load(args[0]);
  }

  loadMember(...args: Parameters<EngineApi['loadMember']>) {
    this.record('loadMember', args);
    return this.load(args[0]);
  }

  async cancelLoad() {
    this.record('cancelLoad', []);
    return 0;
  }

  async current() {
    return this.pair;
  }

  evaluate(job: EvaluationJob, onEvent: (e: EvaluationEvent) => void): Promise<EvaluationResult> {
    this.record('evaluate', [job]);
    const d = deferred<EvaluationResult>();
    this.jobs.push({ job, emit: onEvent, finish: d.resolve, fail: d.reject });
    return d.promise;
  }

  evaluateLayers(job: LayerJob, onEvent: (e: LayerEvent) => void): Promise<LayerResult> {
    this.record('evaluateLayers', [job]);
    const d = deferred<LayerResult>();
    this.layerJobs.push({ job, emit: onEvent, finish: d.resolve });
    return d.promise;
  }

  evaluateSoups(job: SoupJob, onEvent: (e: SoupEvent) => void): Promise<SoupResult> {
    this.record('evaluateSoups', [job]);
    const d = deferred<SoupResult>();
    this.soupJobs.push({ job, emit: onEvent, finish: d.resolve });
    return d.promise;
  }

  async cancel(jobId: number) {
    this.record('cancel', [jobId]);
    this.cancelled.push(jobId);
  }

  async useEvalFolder(...args: Parameters<EngineApi['useEvalFolder']>) {
    this.record('useEvalFolder', args);
    if (!this.pair) throw new EngineError('no-pair', 'load a pair first');
    // The user's sets: a new results key, the same bundle.
    this.pair = { ...this.pair, resultsKey: `${this.pair.bundleHash}+user` as ResultsKey, sweeps: null };
    return { pair: this.pair, skipped: [] };
  }

  /**
   * The fake pair's labels: image i of every set is class i mod the number of classes, unless the
   * test sets `labels` (by set id).
   */
  labels: Record<string, Int32Array> | null = null;

  async evalLabels() {
    this.record('evalLabels', []);
    if (!this.pair) throw new EngineError('no-pair', 'no pair is loaded');
    const classes = this.pair.classes.length;
    const sets = Object.fromEntries(this.pair.sets.map((s) => [s.id, Int32Array.from({ length: s.count }, (_, i) => i % classes)]));
    return { resultsKey: this.pair.resultsKey, sets: this.labels ?? sets };
  }

  /** Thumbnails of 2×2 px whose red channel is the image's index mod 256 (a test can tell them apart). */
  async evalImages(setId: string, indices: readonly number[]) {
    this.record('evalImages', [setId, indices]);
    const set = this.pair?.sets.find((s) => s.id === setId);
    if (!this.pair || !set) throw new EngineError('internal', `there is no eval set '${setId}' in use`);
    const images = indices.map((index) => {
      if (index < 0 || index >= set.count) throw new EngineError('internal', `eval set '${setId}' has no image ${index}`);
      const rgba = new Uint8Array(2 * 2 * 4);
      for (let p = 0; p < 4; p++) rgba.set([index % 256, 0, 0, 255], p * 4);
      return { index, rgba };
    });
    return { resultsKey: this.pair.resultsKey, setId, size: 2, images };
  }

  async decode(...args: Parameters<EngineApi['decode']>) {
    this.record('decode', args);
    return { rgb: new Uint8Array(8 * 8 * 3), width: 8, height: 8 };
  }

  classify(...args: Parameters<EngineApi['classify']>) {
    this.record('classify', args);
    const d = deferred<Awaited<ReturnType<EngineApi['classify']>>>();
    this.classifyAnswers.push(d);
    return d.promise;
  }

  async setCustomLabels(labels: string[] | null) {
    this.record('setCustomLabels', [labels]);
  }

  /** What unknownWords answers: the labels' words not in this list (none when it is null). */
  vocabulary: string[] | null = null;

  async unknownWords(labels: string[]) {
    this.record('unknownWords', [labels]);
    const known = this.vocabulary;
    return known ? [...new Set(labels.flatMap((l) => l.split(/\s+/)).filter((w) => w && !known.includes(w.toLowerCase())))] : [];
  }

  async exportOnnx(alpha: number) {
    this.record('exportOnnx', [alpha]);
    return new Uint8Array(0);
  }

  trainLinearProbe(job: TrainingJob, onEvent: (e: TrainingEvent) => void): Promise<TrainingResult> {
    this.record('trainLinearProbe', [job]);
    const d = deferred<TrainingResult>();
    this.trainings.push({ job, emit: onEvent, finish: d.resolve, fail: d.reject });
    return d.promise;
  }

  fineTuneEndToEnd(job: FineTuneJob, onEvent: (e: TrainingEvent) => void): Promise<TrainingResult> {
    this.record('fineTuneEndToEnd', [job]);
    const d = deferred<TrainingResult>();
    this.trainings.push({ job, emit: onEvent, finish: d.resolve, fail: d.reject });
    return d.promise;
  }

  async cancelTraining(jobId: number) {
    this.record('cancelTraining', [jobId]);
  }

  /** What zipHoldsBundle answers. */
  zipIsBundle = false;

  async zipHoldsBundle(zip: Blob) {
    this.record('zipHoldsBundle', [zip]);
    return this.zipIsBundle;
  }

  async setTrainingPaused(jobId: number, paused: boolean) {
    this.record('setTrainingPaused', [jobId, paused]);
  }

  /** What an export answers next (an Error to fail). */
  nextExport: Uint8Array | Error = new Uint8Array([1, 2, 3]);

  private answerExport(): Promise<Uint8Array> {
    return this.nextExport instanceof Error ? Promise.reject(this.nextExport) : Promise.resolve(this.nextExport);
  }

  exportTrainedOnnx(memberId: string) {
    this.record('exportTrainedOnnx', [memberId]);
    return this.answerExport();
  }

  exportBundle(memberId: string, onProgress: (done: number, total: number) => void) {
    this.record('exportBundle', [memberId]);
    onProgress(1, 1);
    return this.answerExport();
  }

  moved() {
    this.record('moved', []);
    if (!this.pair) return Promise.reject(new EngineError('no-pair', 'load a pair first'));
    const d = deferred<MovedResult>();
    this.movedAnswers.push(d);
    return d.promise;
  }

  calibration(req: CalibrationRequest) {
    this.record('calibration', [req]);
    if (!this.pair) return Promise.reject(new EngineError('no-pair', 'load a pair first'));
    const d = deferred<CalibrationReport>();
    this.calibrationAnswers.push({ ...d, req });
    return d.promise;
  }
}
