// The engine behind one interface: load a pair bundle, evaluate the frontier over an α grid,
// classify images along α, build custom zero-shot heads, export θ(α). Framework-free: the Worker
// serves it to the UI through comlink, and the CLI and Node tests call it directly. A facade: the
// evaluation loop, the endpoint logits and the user's eval sets are their own modules in eval/.
import { readMemberModel, type BundleSource } from './bundle/source';
import { buildFromStreams, isStreamed, type PairFiles, type StreamedBundle } from './bundle/streamed';
import { collectMoved } from './moved/collect';
import type { MovedReport } from './moved/moved';
import type { Manifest, MemberSpec } from './bundle/manifest';
import type { ResultLine } from './eval/results';
import { PairMismatchError } from './onnx/pair';
import { OnnxError } from './onnx/model';
import type { ModelProto } from './onnx/proto';
import { GB, ONE_FILE_WEIGHTS, oneFileOnnx } from './onnx/oneFile';
import { BlendEngine, type Backend, type OrtModule, type EngineInfo } from './runtime/engine';
import type { ResourceLedger } from './runtime/ledger';
import { spriteSet, pendingSpriteSet, attachSheet, normalizeHWC, normalizeBatch, type EvalSetData } from './eval/sprites';
import { checkDeclaredShapes, checkPairRuns } from './loadCheck';
import { CHUNK, type SetAccuracy } from './eval/frontier';
import { FrontierEvaluator } from './eval/evaluator';
import { LOGIT_BUDGET_BYTES } from './eval/calibrationStore';
import type { CalibrationReport, CalibrationRequest, CalibrationStats } from './eval/calibrationReport';
import { blendPoint, engineLogits, PairLanes, type LanePair, type StartLanes } from './eval/lanes';
import { packUserEvalSets, resultsKeyFor, type UserEvalSet } from './eval/userSets';
import { packRgb } from './image/pack';
import { labelsOf, thumbnailsOf, type Thumbnail } from './eval/samples';
import { TextTower, applyHead, softmax } from './text/head';
import { runLinearProbe, type ProbeImages, type ProbeOutcome, type ProbeProgress, type ProbeSettings } from './train/probe';
import type { LinearHead } from './train/head';
import { runEndToEnd, type EndToEndEvent, type EndToEndOutcome, type EndToEndSettings } from './train/endToEnd';
import type { WorldTrainingSpec } from './world/source';

export type { UserEvalSet, MovedReport, LayerUpdate };
import { LayerSettings, type LayerUpdate } from './eval/layerSettings';
import { groupCoefficients } from './blend/groups';
import { SoupSettings, type SoupRecipe, type SoupUpdate } from './soup/soups';
import { openSoupEngine, soupSource } from './soup/soupEngine';

/** A layer group as the page sees it: its id (a dotted module prefix) and how many tensors it blends. */
export interface LayerGroupSummary {
  id: string;
  tensors: number;
}

export interface SetSummary {
  id: string;
  name: string;
  role: 'reference' | 'shift';
  analogue: string | null;
  description: string;
  count: number;
  classSubset: number | null;
}

/** A fine-tuned member of the bundle, as the member selector shows it. */
export interface MemberSummary {
  id: string;
  name: string;
  kind: MemberSpec['kind'];
  seed: number | null;
  description: string;
  hasSweeps: boolean;
  /** The α the bundle recommends for this member and what it was chosen on (never its own eval sets); null when it has none. */
  recommendedAlpha: { alpha: number; chosenOn: string } | null;
}

export interface PairSummary {
  name: string;
  /** Every fine-tuned member of the bundle (v1: one), and the one blended now. */
  members: MemberSummary[];
  member: string;
  /** The member's recorded sweeps on the bundle's eval sets; null with the user's own eval sets. */
  sweeps: { weight: ResultLine[] | null; output: ResultLine[] | null } | null;
  description: string;
  citation: string;
  classes: string[];
  templates: string[];
  sets: SetSummary[];
  /** The bundle's content hash: which pair this is, whatever eval sets are in use. */
  bundleHash: string;
  /** Where this pair's results live: the bundle hash, extended by the eval sets' hash when the user brought their own. */
  resultsKey: string;
  sourceUrl: string | null;
  hasText: boolean;
  /** The text encoder's word-level vocabulary, sorted (TextTower.vocabulary); null without one. */
  vocabulary: string[] | null;
  engine: Pick<EngineInfo, 'backend' | 'blendedBytes' | 'gpuBytes'> & { blendedTensors: number; sharedTensors: number };
  inputSize: number;
  /** The blended tensors' layer groups in graph order: a per-layer α gives one α to each. */
  layers: LayerGroupSummary[];
}

export interface FrontierUpdate {
  resultsKey: string;
  alpha: number;
  point: Record<string, SetAccuracy>;
  progress: { done: number; total: number; chunkSize: number };
}

export interface EnsembleUpdate {
  resultsKey: string;
  /** α → set id → accuracy of the output-space ensemble, complete sets only. */
  points: Record<string, Record<string, SetAccuracy>>;
}

export interface Prediction {
  alpha: number;
  /** Probabilities over the classes in use (the pair's or the custom labels). */
  probs: number[];
}

interface LoadedPair {
  /** The bundle hash, extended by the eval sets' when the user brought their own (see PairSummary). */
  resultsKey: string;
  /** What is kept of the bundle: its identity, not its bytes (the engine holds the weights it needs). */
  bundle: { bundleHash: string; sourceUrl: string | null };
  manifest: Manifest;
  member: MemberSpec;
  sweeps: PairSummary['sweeps'];
  engine: BlendEngine;
  /** The eval sets in use, their results and endpoint logits: replaced whole when the sets change. */
  evaluator: FrontierEvaluator;
  /** The bundle's own eval sets, whose sheets may still be on their way (attachEvalImages). */
  bundleSets: EvalSetData[];
  /** Per-layer settings' results, under keys that extend `resultsKey`: replaced with the evaluator. */
  layerSettings: LayerSettings;
  text: TextTower | null;
  custom: { labels: string[]; head: Float32Array; dim: number } | null;
  /** Where the other members' checkpoints are read from, for the moved report (a URL, files: no bytes). */
  source: BundleSource;
  /** The moved report, computed once per pair on first request. */
  moved: Promise<MovedReport> | null;
  /** Every member in one engine, opened on the first soup request; released with the pair. */
  soupEngine: Promise<BlendEngine> | null;
  /** The soups' results, for the eval sets in use (replaced when the results key changes). */
  soups: SoupSettings | null;
  /** Helper engines the frontier's chunks are dealt to, started after the pair's first estimate (eval/lanes.ts); null: this engine alone. */
  lanes: PairLanes | null;
}

export interface ExplorerEnv {
  ort: OrtModule;
  backend: Backend;
  device?: GPUDevice;
  /** Counts the sessions and GPU buffers this explorer's engines hold (the leak tests read it). */
  ledger?: ResourceLedger;
  /**
   * Whether a newly loaded wasm pair gets helper engines for the frontier (eval/lanes.ts laneCount)
   * and how to start them (the Worker's: helper Workers); null: this engine alone. Starts nothing:
   * the pair's PairLanes starts them after its first estimate.
   */
  openLanes?: (pair: LanePair) => StartLanes | null;
}

export class Explorer {
  private pair: LoadedPair | null = null;
  private evalGeneration = 0;
  // Apart from evalGeneration: a sensitivity strip and the frontier run side by side, neither
  // superseding the other (they share the ORT queue, chunk by chunk).
  private layerGeneration = 0;
  private soupGeneration = 0;

  constructor(private readonly env: ExplorerEnv) {}

  get backend(): Backend {
    return this.env.backend;
  }

  get current(): PairSummary | null {
    return this.pair ? summarize(this.pair) : null;
  }

  private requirePair(): LoadedPair {
    if (!this.pair) throw new Error('no pair is loaded');
    return this.pair;
  }

  /**
   * Loads a pair. The previous pair stays in service until the new one is fully ready, and stays
   * if the new one fails: a bad bundle never costs the user what they had.
   */
  async loadPair(bundle: PairFiles): Promise<PairSummary> {
    const m = bundle.manifest;
    // Sprite sheets are checked from their headers here and decoded when an evaluation first needs
    // them: a load for classifying or exporting never inflates them. A load that streams them
    // after the first screen (bundle.laterSprites) gets them through attachEvalImages.
    const sets = (m.eval?.sets ?? []).map((s) => {
      const png = bundle.sprites.get(s.id);
      return png ? spriteSet(s, png) : pendingSpriteSet(s);
    });
    const engine = await this.createEngine(bundle);
    const { bundleHash, text } = await this.proveNewPair(engine, bundle);
    const old = this.pair;
    this.evalGeneration++;
    this.layerGeneration++;
    this.pair = {
      resultsKey: bundleHash,
      bundle: { bundleHash, sourceUrl: bundle.source.url ?? null },
      manifest: m,
      engine,
      member: bundle.member,
      sweeps: bundle.sweeps.weight || bundle.sweeps.output ? bundle.sweeps : null,
      evaluator: newEvaluator(engine, sets, m),
      bundleSets: sets,
      layerSettings: newLayerSettings(bundleHash, engine, sets, m),
      text,
      custom: null,
      source: bundle.source,
      moved: null,
      soupEngine: null,
      soups: null,
      lanes: this.pairLanes(engine, bundle),
    };
    const p = this.pair;
    if (old) await release(old);
    return summarize(p);
  }

  /**
   * The new pair's hash and text tower, once one tiny batch has run through it (README: a bad
   * bundle never costs the user what they had); on any failure its engine and tower are released.
   */
  private async proveNewPair(engine: BlendEngine, bundle: PairFiles): Promise<{ bundleHash: string; text: TextTower | null }> {
    const m = bundle.manifest;
    let text: TextTower | null = null;
    try {
      // A streamed pair's hash is known once the engine has read its checkpoints to their ends.
      const bundleHash = isStreamed(bundle) ? await bundle.contentHash() : bundle.bundleHash;
      validateModelIo(engine.info, m);
      if (m.text && bundle.text)
        text = await TextTower.create(
          this.env.ort,
          bundle.text,
          bundle.tokenizer,
          m.text,
          this.env.backend === 'cpu' ? 'cpu' : 'wasm',
          this.env.ledger,
        );
      await checkPairRuns(engine, text, m);
      return { bundleHash, text };
    } catch (e) {
      await engine.dispose();
      await text?.release();
      throw e;
    }
  }

  private async createEngine(bundle: PairFiles): Promise<BlendEngine> {
    const m = bundle.manifest;
    const { ort, backend, device, ledger } = this.env;
    const opts = {
      ort,
      backend,
      device,
      inputName: m.io.image,
      labels: [m.models.zeroShot.path, bundle.member.model.path],
      ledger,
      externalData: [bundle.zeroShotExternal, bundle.fineTunedExternal],
    };
    try {
      // Streamed, no checkpoint is ever whole in memory: each weight goes straight into the blend memory.
      if (isStreamed(bundle)) return await buildFromStreams(bundle.checkpoints(), (s) => BlendEngine.createFromStreams(s, opts));
      return await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, opts);
    } catch (e) {
      // With several members the user must know which one does not fit the zero-shot model.
      if (e instanceof PairMismatchError && m.format === 'wiseft-pair/2') {
        throw new PairMismatchError(
          `The fine-tuned member '${bundle.member.id}' (${bundle.member.name}) does not match the zero-shot model. ${e.message}`,
          e.mismatches,
        );
      }
      throw e;
    }
  }

  /** The pair's helper engines, not started yet (PairLanes starts them after the first estimate); null: this engine alone. */
  private pairLanes(engine: BlendEngine, bundle: PairFiles): PairLanes | null {
    if (!this.env.openLanes || engine.info.backend !== 'wasm') return null;
    // A pair with external data is one too large for a second and third copy in helper Workers.
    if (bundle.zeroShotExternal.size > 0 || bundle.fineTunedExternal.size > 0) return null;
    const m = bundle.manifest;
    const start = this.env.openLanes({
      // A streamed pair's files are read again when the lanes start; a whole one's are kept until then.
      ...(isStreamed(bundle) ? streamedLaneFiles(bundle) : wholeLaneFiles(bundle.zeroShot, bundle.fineTuned)),
      inputName: engine.info.inputName,
      logits: m.io.logits,
      labels: [m.models.zeroShot.path, bundle.member.model.path],
    });
    return start ? new PairLanes(start, engineLogits(engine, m.io.logits)) : null;
  }

  /** How many engines the frontier of the loaded pair runs on: its lanes (started now if they were not), or 1 (this engine). */
  async frontierEngines(): Promise<number> {
    return (await this.pair?.lanes?.engines()) ?? 1;
  }

  /**
   * Replaces the eval sets with the user's own (images already at the model's size, RGB). Results
   * start afresh under a key that hashes the pair and the images, so no number from another set
   * can be shown with these.
   */
  async useEvalSets(sets: readonly UserEvalSet[]): Promise<PairSummary> {
    const p = this.requirePair();
    const data = packUserEvalSets(sets, p.manifest.preprocess.size);
    const resultsKey = await resultsKeyFor(p.bundle.bundleHash, data);
    this.evalGeneration++;
    this.layerGeneration++;
    this.soupGeneration++;
    p.resultsKey = resultsKey;
    p.soups = null;
    p.evaluator = newEvaluator(p.engine, data, p.manifest);
    p.layerSettings = newLayerSettings(resultsKey, p.engine, data, p.manifest);
    // The recorded sweeps were measured on the bundle's sets, not these: not comparable.
    p.sweeps = null;
    return summarize(p);
  }

  /**
   * The sprite sheets of the pair `bundleHash` names, read after loadPair (LoadedBundle.laterSprites),
   * each checked from its header as a whole load checks it; for another pair (loaded since), nothing.
   */
  attachEvalImages(bundleHash: string, sprites: ReadonlyMap<string, Uint8Array>): void {
    const p = this.pair;
    if (!p || p.bundle.bundleHash !== bundleHash) return;
    for (const set of p.bundleSets) {
      const png = sprites.get(set.spec.id);
      if (png) attachSheet(set, png);
    }
  }

  /** Stops the frontier's evaluation in flight; its remaining work is dropped (a per-layer job goes on). */
  cancel(): void {
    this.evalGeneration++;
  }

  /** What is already computed, for a view that (re)opens. */
  snapshot(): { resultsKey: string; points: Record<string, Record<string, SetAccuracy>> } | null {
    const p = this.pair;
    return p ? { resultsKey: p.resultsKey, points: p.evaluator.points() } : null;
  }

  /** The class of every image of every eval set in use, under the results key they belong to. */
  evalLabels(): { resultsKey: string; sets: Record<string, Int32Array> } {
    const p = this.requirePair();
    return { resultsKey: p.resultsKey, sets: labelsOf(p.evaluator.sets) };
  }

  /** Small RGBA thumbnails of images `indices` of eval set `setId` (eval/samples.ts). */
  evalImages(setId: string, indices: readonly number[]): { resultsKey: string; setId: string; size: number; images: Thumbnail[] } {
    const p = this.requirePair();
    const set = p.evaluator.sets.find((s) => s.spec.id === setId);
    if (!set) throw new Error(`there is no eval set '${setId.slice(0, 80)}' in use`);
    return { resultsKey: p.resultsKey, setId, ...thumbnailsOf(set, indices) };
  }

  /**
   * Evaluates every set at every α of the grid (and the current α first), progressively. Results
   * are cached per (pair content hash, α, set, chunk), so a restarted evaluation resumes. Calling
   * it again, or cancel(), supersedes the previous call: its remaining work is dropped.
   */
  async evaluate(
    grid: readonly number[],
    current: number | null,
    onUpdate: (u: FrontierUpdate) => void,
    onEnsemble?: (u: EnsembleUpdate) => void,
  ): Promise<'done' | 'superseded'> {
    const generation = ++this.evalGeneration;
    const p = this.requirePair();
    const { evaluator, resultsKey } = p;
    const plan = evaluator.plan(grid, current);
    let done = 0;
    const isStale = () => generation !== this.evalGeneration || this.pair !== p;
    const report = (alpha: number, point: Record<string, SetAccuracy>) =>
      onUpdate({ resultsKey, alpha, point, progress: { done, total: plan.length, chunkSize: CHUNK } });
    // The current α's first estimate on a few images of every set, before its first chunks.
    if (current !== null) await evaluator.preview(current, plan, isStale, (point) => report(current, point), p.lanes?.forEstimate());
    if (isStale()) return 'superseded';
    // Only now, the estimate in, may the helper engines start (eval/lanes.ts PairLanes).
    const { now, later } = p.lanes?.forChunks() ?? {};
    const outcome = await evaluator.run(
      plan,
      isStale,
      (item, point) => {
        done++;
        report(item.alpha, point);
      },
      now,
      later,
    );
    if (outcome === 'done' && onEnsemble) onEnsemble(this.ensemble(grid));
    return outcome;
  }

  /**
   * Evaluates per-layer settings (one α per layer group, in `layers` order) on the first
   * `imagesPerSet` images of every set; a later call supersedes this one, the frontier's
   * evaluation goes on. Results stay per setting, so a larger `imagesPerSet` resumes. With
   * `firstEstimate`, a new setting's point comes first from a few images of every set
   * (LayerSettings.run), as a new α's does.
   */
  async evaluateLayers(
    settings: readonly (readonly number[])[],
    imagesPerSet: number,
    onUpdate: (u: LayerUpdate) => void,
    firstEstimate = false,
  ): Promise<'done' | 'superseded'> {
    const generation = ++this.layerGeneration;
    const p = this.requirePair();
    const layers = p.engine.info.layerGroups.length;
    const wrong = settings.find((s) => s.length !== layers);
    if (wrong) throw new RangeError(`a per-layer setting needs one α for each of the ${layers} layer groups, got ${wrong.length}`);
    const layerSettings = p.layerSettings;
    const isStale = () => generation !== this.layerGeneration || this.pair !== p || p.layerSettings !== layerSettings;
    return layerSettings.run(settings, imagesPerSet, isStale, onUpdate, firstEstimate);
  }

  /**
   * Evaluates soups over every member of the bundle (weights, uniform, greedy, Model Stock) on the
   * first `imagesPerSet` images of each set, each under its own soupKey; a later call supersedes
   * this one, the frontier's evaluation goes on. The members are read on the first call.
   */
  async evaluateSoups(
    recipes: readonly SoupRecipe[],
    imagesPerSet: number,
    onUpdate: (u: SoupUpdate) => void,
  ): Promise<'done' | 'superseded'> {
    const generation = ++this.soupGeneration;
    const p = this.requirePair();
    const { ort, backend, device, ledger } = this.env;
    p.soupEngine ??= openSoupEngine(p.engine, p.manifest, (m) => readMemberModel(p.source, m), { ort, backend, device, ledger }).catch(
      (e: unknown) => {
        p.soupEngine = null;
        throw e;
      },
    );
    const engine = await p.soupEngine;
    if (this.pair !== p) return 'superseded';
    p.soups ??= new SoupSettings(p.resultsKey, soupSource(engine, p.manifest, p.evaluator.sets));
    const soups = p.soups;
    const isStale = () => generation !== this.soupGeneration || this.pair !== p || p.soups !== soups;
    return soups.run(recipes, imagesPerSet, isStale, onUpdate);
  }

  /**
   * Calibration along α from the logits the frontier's evaluation has seen (eval/calibrationReport.ts):
   * ECE and NLL per set at each α of `grid` in weight and output space, temperature scaling fitted
   * on the reference set when asked for, the reliability bins at `alpha`. Runs no model.
   */
  calibration(req: CalibrationRequest): CalibrationReport & { resultsKey: string } {
    const p = this.requirePair();
    const report = p.evaluator.calibrationReport(req);
    if (!report) throw new Error('this evaluator keeps no calibration');
    return { ...report, resultsKey: p.resultsKey };
  }

  /**
   * ECE and NLL per set (T = 1, over the images evaluated so far) at a uniform α the frontier has
   * evaluated, a per-layer setting (one α per layer group) or a soup (its soupKey); {} before any.
   */
  calibrationOf(target: { alpha: number } | { layers: readonly number[] } | { soupKey: string }): Record<string, CalibrationStats> {
    const p = this.requirePair();
    if ('alpha' in target) return p.evaluator.calibrationPoint(target.alpha);
    if ('layers' in target) return p.layerSettings.calibrationOf(target.layers);
    return p.soups?.calibrationOf(target.soupKey) ?? {};
  }

  /**
   * The logits of every image of eval set `setId` at α, run afresh (not the evaluation's): what a
   * test computes calibration from independently. [count, classes], with the labels and class subset.
   */
  async evalLogits(
    alpha: number,
    setId: string,
  ): Promise<{ logits: Float32Array; labels: Int32Array; classes: number; classSubset: Int32Array | null }> {
    const p = this.requirePair();
    const set = p.evaluator.sets.find((s) => s.spec.id === setId);
    if (!set) throw new Error(`there is no eval set '${setId.slice(0, 80)}' in use`);
    const classes = p.manifest.classes.length;
    const size = p.manifest.preprocess.size;
    const logits = new Float32Array(set.count * classes);
    for (let start = 0; start < set.count; start += CHUNK) {
      const n = Math.min(set.count, start + CHUNK) - start;
      const data = normalizeBatch(set, start, start + n, p.manifest.preprocess, new Float32Array(n * 3 * size * size));
      const out = (await p.engine.run(blendPoint(alpha), { data, dims: [n, 3, size, size] }))[p.manifest.io.logits]!.data;
      logits.set(out.subarray(0, n * classes), start * classes);
    }
    return { logits, labels: set.labels.slice(), classes, classSubset: set.classSubset?.slice() ?? null };
  }

  /** Output-space ensemble accuracies over the grid, for the sets whose endpoints are complete. */
  ensemble(grid: readonly number[]): EnsembleUpdate {
    const p = this.requirePair();
    return { resultsKey: p.resultsKey, points: p.evaluator.endpoints.ensemble(grid) };
  }

  /**
   * Class probabilities of each image (RGB at the model's size, HWC) at each α. With custom labels
   * set, the head is the text tower's zero-shot head applied to the blended image embedding.
   */
  async classify(
    images: readonly Uint8Array[],
    alphas: readonly number[],
  ): Promise<{ resultsKey: string; labels: string[]; predictions: Prediction[][] }> {
    const p = this.requirePair();
    const { preprocess, io } = p.manifest;
    const size = preprocess.size;
    const n = images.length;
    const data = normalizeHWC(
      packRgb(images, size, (i) => `image ${i}`),
      n,
      size,
      preprocess,
    );
    const custom = p.custom;
    const labels = custom ? custom.labels : p.manifest.classes;
    const out: Prediction[][] = images.map(() => []);
    for (const alpha of alphas) {
      const r = await p.engine.run(blendPoint(alpha), { data, dims: [n, 3, size, size] });
      const logits = custom ? applyHead(r[io.embedding]!.data, n, custom.head, custom.labels.length, custom.dim) : r[io.logits]!.data;
      const probs = softmax(logits, n, labels.length);
      for (let i = 0; i < n; i++) out[i]!.push({ alpha, probs: Array.from(probs.subarray(i * labels.length, (i + 1) * labels.length)) });
    }
    return { resultsKey: p.resultsKey, labels, predictions: out };
  }

  /** Custom labels: a zero-shot head from the pair's text tower and templates; null restores the pair's head. */
  async setCustomLabels(labels: readonly string[] | null): Promise<void> {
    const p = this.requirePair();
    if (!labels) {
      p.custom = null;
      return;
    }
    if (!p.text) throw new Error('this pair has no text encoder, so custom labels are not available');
    const clean = [...new Set(labels.map((l) => l.trim()).filter((l) => l.length > 0))];
    if (clean.length < 2) throw new Error('give at least two distinct labels');
    const { weight, dim } = await p.text.zeroShotHead(clean, p.manifest.templates, p.manifest.logitScale);
    p.custom = { labels: clean, head: weight, dim };
  }

  /**
   * A linear probe on `images` from `zeroShotHead` (read from this pair's zero-shot model): the
   * features through this engine at α = 0, so it shares the ORT queue with the evaluation and a
   * slider move waits one feature batch at most. Training itself yields to the event loop.
   */
  async linearProbe(
    images: ProbeImages,
    zeroShotHead: LinearHead,
    settings: ProbeSettings,
    onProgress: (p: ProbeProgress) => unknown,
    signal?: AbortSignal,
  ): Promise<ProbeOutcome> {
    const p = this.requirePair();
    const { preprocess, io } = p.manifest;
    return runLinearProbe(p.engine, images, zeroShotHead, { preprocess, embedding: io.embedding }, settings, onProgress, signal);
  }

  /**
   * Fine-tunes every weight of `zeroShot` (the loaded pair's zero-shot checkpoint, which the engine
   * keeps no copy of) on `images`, normalised as the pair's manifest says. Only the bundled tower's
   * architecture can be trained (core/train/tower.ts); another throws a TrainingError naming it.
   * LP-FT's feature pass runs on this engine at α = 0, as the linear probe's does.
   */
  fineTuneEndToEnd(
    zeroShot: Uint8Array,
    images: ProbeImages | WorldTrainingSpec,
    settings: EndToEndSettings,
    onProgress: (p: EndToEndEvent) => unknown,
    signal?: AbortSignal,
  ): Promise<EndToEndOutcome> {
    const p = this.requirePair();
    const { preprocess, io } = p.manifest;
    const pass = { engine: p.engine, options: { preprocess, embedding: io.embedding } };
    return runEndToEnd(zeroShot, images, preprocess, settings, onProgress, signal, pass);
  }

  /** The words of `labels` the pair's tokenizer does not know (TextTower.unknownWords); none without a text encoder. */
  unknownWords(labels: readonly string[]): string[] {
    return this.requirePair().text?.unknownWords(labels) ?? [];
  }

  /**
   * What fine-tuning moved: per tensor, each member's relative change against the zero-shot model,
   * the cosine between two members' deltas, and histograms of the changes. Computed once per pair;
   * a failure (another member's file unreadable) is not kept, so asking again retries.
   */
  moved(): Promise<MovedReport> {
    const p = this.requirePair();
    p.moved ??= collectMoved(p.engine, p.manifest, p.member, (m) => readMemberModel(p.source, m)).catch((e: unknown) => {
      p.moved = null;
      throw e;
    });
    return p.moved;
  }

  /**
   * θ(α) as one self-contained ONNX file: every weight inline, also on a pair whose checkpoints
   * keep theirs in external data files. Past a single file's 2 GB it is refused (before anything is
   * blended) with a message naming the command line, which writes the weights to a file beside it.
   * `limit`: the weights one file is written for (a test lowers it).
   */
  async exportOnnx(alpha: number, limit = ONE_FILE_WEIGHTS): Promise<Uint8Array> {
    const { engine } = this.requirePair();
    const refuse = (bytes: number) =>
      `θ(${alpha}) holds ${GB(bytes)} of weights, too many for a single ONNX file (protobuf's 2 GB): the command line writes it as a graph with its weights in a data file beside it (npx wiseft export --pair <bundle> --alpha ${alpha} --out model.onnx)`;
    const weights = [...engine.info.differing, ...engine.info.shared].reduce((sum, t) => sum + t.byteLength, 0);
    if (weights > limit) throw new OnnxError(refuse(weights));
    return oneFileOnnx(await engine.exportModel(blendPoint(alpha)), refuse, limit);
  }

  /** θ(α) with every weight inline, for a caller that writes it (the CLI splits it past 2 GB: onnx/oneFile.ts). */
  exportModel(alpha: number): Promise<ModelProto> {
    return this.requirePair().engine.exportModel(blendPoint(alpha));
  }

  async dispose(): Promise<void> {
    this.evalGeneration++;
    const p = this.pair;
    this.pair = null;
    if (p) await release(p);
  }
}

/** The image model must have the outputs and the input shape the manifest names. */
function validateModelIo(info: EngineInfo, m: Manifest): void {
  for (const name of [m.io.embedding, m.io.logits]) {
    if (!info.outputNames.includes(name))
      throw new Error(`the image model has no output '${name}' (it has ${info.outputNames.join(', ')})`);
  }
  const s = info.inputDims;
  if (s.length !== 4 || s[1] !== 3 || (typeof s[2] === 'number' && s[2] !== m.preprocess.size)) {
    throw new Error(
      `the image model's input '${info.inputName}' is [${s.join(', ')}], not [N, 3, ${m.preprocess.size}, ${m.preprocess.size}] as the manifest says`,
    );
  }
  checkDeclaredShapes(info, m);
}

function newEvaluator(engine: BlendEngine, sets: readonly EvalSetData[], m: Manifest): FrontierEvaluator {
  return new FrontierEvaluator(engineLogits(engine, m.io.logits), sets, {
    classes: m.classes.length,
    preprocess: m.preprocess,
    calibrationBudget: LOGIT_BUDGET_BYTES,
  });
}

function newLayerSettings(resultsKey: string, engine: BlendEngine, sets: readonly EvalSetData[], m: Manifest): LayerSettings {
  const groups = engine.info.layerGroups;
  return new LayerSettings(resultsKey, (alphas) => {
    const coefficients = groupCoefficients(groups, alphas);
    // The evaluator's α is the setting's slot, a label: the blend is always the setting's.
    const run = async (_slot: number, input: { data: Float32Array; dims: number[] }) =>
      (await engine.run(coefficients, input))[m.io.logits]!.data;
    // ECE and NLL per setting (their sums, no logits): `wiseft eval --layers --calibration`.
    return new FrontierEvaluator(run, sets, { classes: m.classes.length, preprocess: m.preprocess, calibrationBudget: 0 });
  });
}

async function release(p: LoadedPair): Promise<void> {
  // Not awaited: lanes still starting are closed once started, without holding up the next pair.
  p.lanes?.close();
  await p.engine.dispose();
  // A soup engine that failed to open holds nothing.
  await (await p.soupEngine?.catch(() => null))?.dispose();
  await p.text?.release();
}

export function memberSummary(x: MemberSpec): MemberSummary {
  return {
    id: x.id,
    name: x.name,
    kind: x.kind,
    seed: x.seed ?? null,
    description: x.description ?? '',
    hasSweeps: Boolean(x.sweeps?.weight || x.sweeps?.output),
    recommendedAlpha: x.recommendedAlpha ? { alpha: x.recommendedAlpha.alpha, chosenOn: x.recommendedAlpha.chosenOn } : null,
  };
}

function summarize(p: LoadedPair): PairSummary {
  const m = p.manifest;
  return {
    name: m.name,
    members: m.models.members.map(memberSummary),
    member: p.member.id,
    sweeps: p.sweeps,
    description: m.description ?? '',
    citation: m.citation ?? '',
    classes: m.classes,
    templates: m.templates,
    sets: p.evaluator.sets.map((s) => ({
      id: s.spec.id,
      name: s.spec.name,
      role: s.spec.role,
      analogue: s.spec.analogue ?? null,
      description: s.spec.description ?? '',
      count: s.count,
      classSubset: s.classSubset?.length ?? null,
    })),
    bundleHash: p.bundle.bundleHash,
    resultsKey: p.resultsKey,
    sourceUrl: p.bundle.sourceUrl,
    hasText: p.text !== null,
    vocabulary: p.text?.vocabulary() ?? null,
    engine: {
      backend: p.engine.info.backend,
      blendedBytes: p.engine.info.blendedBytes,
      gpuBytes: p.engine.info.gpuBytes,
      blendedTensors: p.engine.info.differing.length,
      sharedTensors: p.engine.info.shared.length,
    },
    inputSize: m.preprocess.size,
    layers: p.engine.info.layerGroups.map((g) => ({ id: g.id, tensors: g.tensors.length })),
  };
}

/** A streamed pair's checkpoints for the lanes: read again from their source, and how large they are (unknown: never lanes). */
function streamedLaneFiles(bundle: StreamedBundle): Pick<LanePair, 'pairBytes' | 'files'> {
  return { pairBytes: bundle.checkpointBytes ?? Infinity, files: () => bundle.readCheckpoints() };
}

/** A whole pair's checkpoints for the lanes: only the two files are kept for them, not the bundle. */
function wholeLaneFiles(zeroShot: Uint8Array, fineTuned: Uint8Array): Pick<LanePair, 'pairBytes' | 'files'> {
  return { pairBytes: zeroShot.byteLength + fineTuned.byteLength, files: async () => ({ zeroShot, fineTuned }) };
}
