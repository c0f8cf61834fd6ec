// The engine behind one interface: load a pair bundle, evaluate the frontier over an α grid,
// classify images along α, build custom zero-shot heads, export θ(α). Framework-free: the Worker
// serves it to the UI through comlink, and the CLI and Node tests call it directly.
import { sha256Hex, type LoadedBundle } from './bundle/source';
import type { Manifest, MemberSpec } from './bundle/manifest';
import type { ResultLine } from './eval/results';
import { PairMismatchError } from './onnx/pair';
import { BlendEngine, type Backend, type OrtModule, type EngineInfo } from './runtime/engine';
import { spriteSet, normalizeBatch, normalizeHWC, type EvalSetData } from './eval/sprites';
import { checkDeclaredShapes, checkPairRuns } from './loadCheck';
import { setIdProblem, SET_ID_RULE, record } from './eval/ids';
import { CHUNK, ResultStore, planWork, countCorrect, ensembleCorrect, chunksOf, type SetAccuracy, type WorkItem } from './eval/frontier';
import { TextTower, applyHead, softmax } from './text/head';

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
  contentHash: string;
  sourceUrl: string | null;
  hasText: boolean;
  engine: Pick<EngineInfo, 'backend' | 'blendedBytes' | 'gpuBytes'> & { blendedTensors: number; sharedTensors: number };
  inputSize: number;
}

export interface FrontierUpdate {
  pairHash: string;
  alpha: number;
  point: Record<string, SetAccuracy>;
  progress: { done: number; total: number; chunkSize: number };
}

export interface EnsembleUpdate {
  pairHash: string;
  /** α → set id → accuracy of the output-space ensemble, complete sets only. */
  points: Record<string, Record<string, SetAccuracy>>;
}

export interface Prediction {
  alpha: number;
  /** Probabilities over the classes in use (the pair's or the custom labels). */
  probs: number[];
}

interface LoadedPair {
  /** Results key: the pair's content hash, extended by the eval sets' when the user brought their own. */
  key: string;
  /** What is kept of the bundle: its identity, not its bytes (the engine holds the weights it needs). */
  bundle: { contentHash: string; sourceUrl: string | null };
  manifest: Manifest;
  member: MemberSpec;
  sweeps: PairSummary['sweeps'];
  engine: BlendEngine;
  sets: EvalSetData[];
  results: ResultStore;
  /** Logits of every image of each set at α = 0 and α = 1, for the output-space ensemble. */
  endpoints: Map<string, { l0: Float32Array; l1: Float32Array; done0: Set<number>; done1: Set<number> }>;
  text: TextTower | null;
  custom: { labels: string[]; head: Float32Array; dim: number } | null;
}

export interface UserEvalSet {
  id: string;
  name: string;
  role: 'reference' | 'shift';
  images: Uint8Array[];
  labels: number[];
  classSubset: number[] | null;
}

export interface ExplorerEnv {
  ort: OrtModule;
  backend: Backend;
  device?: GPUDevice;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Images per session.run: whole chunks for small models, fewer for CLIP-sized inputs. */
function batchSize(size: number): number {
  return Math.max(1, Math.min(CHUNK, Math.floor((16 * 2 ** 20) / (3 * size * size * 4))));
}

export class Explorer {
  private pair: LoadedPair | null = null;
  private evalGeneration = 0;

  constructor(private env: ExplorerEnv) {}

  get backend(): Backend {
    return this.env.backend;
  }

  /** Switches execution (e.g. to the CPU after a lost GPU device); the current pair must be reloaded. */
  setEnv(env: ExplorerEnv): void {
    this.env = env;
  }

  get current(): PairSummary | null {
    return this.pair ? summarize(this.pair) : null;
  }

  /**
   * Loads a pair. The previous pair stays in service until the new one is fully ready, and stays
   * if the new one fails: a bad bundle never costs the user what they had.
   */
  async loadPair(bundle: LoadedBundle): Promise<PairSummary> {
    const m = bundle.manifest;
    // Sprite sheets are checked from their headers here and decoded when an evaluation first needs
    // them: a load for classifying or exporting never inflates them.
    const sets = (m.eval?.sets ?? []).map((s) => spriteSet(s, bundle.sprites.get(s.id)!));
    let engine: BlendEngine;
    try {
      engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: this.env.ort, backend: this.env.backend, device: this.env.device, inputName: m.io.image, labels: [m.models.zeroShot.path, bundle.member.model.path] });
    } catch (e) {
      // With several members the user must know which one does not fit the zero-shot model.
      if (e instanceof PairMismatchError && m.format === 'wiseft-pair/2') {
        throw new PairMismatchError(`The fine-tuned member '${bundle.member.id}' (${bundle.member.name}) does not match the zero-shot model. ${e.message}`, e.mismatches);
      }
      throw e;
    }
    let text: TextTower | null = null;
    try {
      for (const name of [m.io.embedding, m.io.logits]) {
        if (!engine.info.outputNames.includes(name)) throw new Error(`the image model has no output '${name}' (it has ${engine.info.outputNames.join(', ')})`);
      }
      const s = engine.info.inputDims;
      if (s.length !== 4 || s[1] !== 3 || (typeof s[2] === 'number' && s[2] !== m.preprocess.size)) {
        throw new Error(`the image model's input '${engine.info.inputName}' is [${s.join(', ')}], not [N, 3, ${m.preprocess.size}, ${m.preprocess.size}] as the manifest says`);
      }
      checkDeclaredShapes(engine.info, m);
      if (m.text && bundle.text) text = await TextTower.create(this.env.ort, bundle.text, bundle.tokenizer, m.text, this.env.backend === 'cpu' ? 'cpu' : 'wasm');
      // One tiny batch through the new pair before it replaces the current one (README: a bad
      // bundle never costs the user what they had).
      await checkPairRuns(engine, text, m);
    } catch (e) {
      await engine.dispose();
      await text?.release();
      throw e;
    }
    const old = this.pair;
    this.evalGeneration++;
    this.pair = {
      key: bundle.contentHash, bundle: { contentHash: bundle.contentHash, sourceUrl: bundle.source.url ?? null }, manifest: m, engine, sets,
      member: bundle.member, sweeps: bundle.sweeps.weight || bundle.sweeps.output ? bundle.sweeps : null,
      results: new ResultStore(sets.map((s) => ({ id: s.spec.id, count: s.count }))),
      endpoints: new Map(),
      text,
      custom: null,
    };
    if (old) await release(old);
    return summarize(this.pair);
  }

  /**
   * Replaces the eval sets with the user's own (images already at the model's size, RGB). Results
   * start afresh under a key that hashes the pair and the images, so no number from another set
   * can be shown with these.
   */
  async useEvalSets(sets: readonly UserEvalSet[]): Promise<PairSummary> {
    const p = this.pair;
    if (!p) throw new Error('no pair is loaded');
    if (sets.length === 0) throw new Error('no eval sets');
    for (const s of sets) {
      const problem = setIdProblem(s.id);
      if (problem) throw new Error(`${problem}: set ids need ${SET_ID_RULE}`);
    }
    if (new Set(sets.map((s) => s.id)).size !== sets.length) throw new Error('two eval sets have the same id');
    const size = p.manifest.preprocess.size;
    const data: EvalSetData[] = sets.map((s) => {
      const pixels = new Uint8Array(s.images.length * size * size * 3);
      s.images.forEach((img, i) => {
        if (img.length !== size * size * 3) throw new Error(`set '${s.id}': image ${i} is not ${size}×${size} RGB`);
        pixels.set(img, i * size * size * 3);
      });
      return {
        spec: {
          id: s.id, name: s.name, role: s.role, analogue: null, description: `${s.images.length} images you provided`,
          sprite: { path: 'user', tile: size, columns: 1, count: s.images.length }, labels: s.labels, classes: s.classSubset,
        },
        size, count: s.images.length, pixels, sheet: null, labels: Int32Array.from(s.labels), classSubset: s.classSubset ? Int32Array.from(s.classSubset) : null,
      };
    });
    if (data.filter((d) => d.spec.role === 'reference').length !== 1) throw new Error('exactly one set must be the reference');
    const parts = [new TextEncoder().encode(p.bundle.contentHash), ...data.flatMap((d) => [d.pixels!, new Uint8Array(d.labels.buffer), new TextEncoder().encode(`${d.spec.id}:${d.spec.role}`)])];
    const hashes = await Promise.all(parts.map(sha256Hex));
    this.evalGeneration++;
    p.sets = data;
    p.key = (await sha256Hex(new TextEncoder().encode(hashes.join(':')))).slice(0, 16);
    p.results = new ResultStore(data.map((d) => ({ id: d.spec.id, count: d.count })));
    p.endpoints = new Map();
    // The recorded sweeps were measured on the bundle's sets, not these: not comparable.
    p.sweeps = null;
    return summarize(p);
  }

  /** Stops any evaluation in flight; its remaining work is dropped. */
  cancel(): void {
    this.evalGeneration++;
  }

  /** What is already computed, for a view that (re)opens. */
  snapshot(): { pairHash: string; points: Record<string, Record<string, SetAccuracy>> } | null {
    const p = this.pair;
    if (!p) return null;
    const points: Record<string, Record<string, SetAccuracy>> = {};
    for (const a of p.results.alphas()) points[String(a)] = p.results.point(a);
    return { pairHash: p.key, points };
  }

  /**
   * Evaluates every set at every α of the grid (and the current α first), progressively. Results
   * are cached per (pair content hash, α, set, chunk), so a restarted evaluation resumes. Calling
   * it again, or cancel(), supersedes the previous call: its remaining work is dropped.
   */
  async evaluate(grid: readonly number[], current: number | null, onUpdate: (u: FrontierUpdate) => void, onEnsemble?: (u: EnsembleUpdate) => void): Promise<'done' | 'superseded'> {
    const generation = ++this.evalGeneration;
    const p = this.pair;
    if (!p) throw new Error('no pair is loaded');
    const setsById = new Map(p.sets.map((s) => [s.spec.id, s]));
    const plan = planWork(grid, current, p.sets.map((s) => ({ id: s.spec.id, count: s.count })), (item) => p.results.has(item));
    const classes = p.manifest.classes.length;
    const size = p.manifest.preprocess.size;
    const bs = batchSize(size);
    const input = new Float32Array(bs * 3 * size * size);
    let done = 0;
    for (const item of plan) {
      // Back to the event loop between chunks: ORT's run can resolve through microtasks alone, and
      // without this a Worker would not see a new α, a cancel or an upload until the whole plan ends.
      await yieldToEventLoop();
      if (generation !== this.evalGeneration || this.pair !== p) return 'superseded';
      const set = setsById.get(item.setId)!;
      let correct = 0;
      for (let start = item.start; start < item.end; start += bs) {
        const end = Math.min(item.end, start + bs);
        const n = end - start;
        const data = normalizeBatch(set, start, end, p.manifest.preprocess, input);
        const out = await p.engine.run(item.alpha, { data, dims: [n, 3, size, size] });
        if (generation !== this.evalGeneration || this.pair !== p) return 'superseded';
        const logits = out[p.manifest.io.logits]!.data;
        correct += countCorrect(logits, set.labels, start, n, classes, set.classSubset);
        if (item.alpha === 0 || item.alpha === 1) this.keepEndpoint(p, set, item.alpha, start, logits.subarray(0, n * classes));
      }
      p.results.record(item, correct);
      if (item.alpha === 0 || item.alpha === 1) this.markEndpoint(p, set, item);
      done++;
      onUpdate({ pairHash: p.key, alpha: item.alpha, point: p.results.point(item.alpha), progress: { done, total: plan.length, chunkSize: CHUNK } });
    }
    if (onEnsemble) onEnsemble(this.ensemble(grid));
    return 'done';
  }

  private keepEndpoint(p: LoadedPair, set: EvalSetData, alpha: number, start: number, logits: Float32Array): void {
    const classes = p.manifest.classes.length;
    let e = p.endpoints.get(set.spec.id);
    if (!e) p.endpoints.set(set.spec.id, (e = { l0: new Float32Array(set.count * classes), l1: new Float32Array(set.count * classes), done0: new Set(), done1: new Set() }));
    (alpha === 0 ? e.l0 : e.l1).set(logits, start * classes);
  }

  private markEndpoint(p: LoadedPair, set: EvalSetData, item: WorkItem): void {
    const e = p.endpoints.get(set.spec.id)!;
    (item.alpha === 0 ? e.done0 : e.done1).add(item.chunk);
  }

  /** Output-space ensemble accuracies over the grid, for the sets whose endpoints are complete. */
  ensemble(grid: readonly number[]): EnsembleUpdate {
    const p = this.pair!;
    const classes = p.manifest.classes.length;
    const points: EnsembleUpdate['points'] = {};
    for (const set of p.sets) {
      const e = p.endpoints.get(set.spec.id);
      const chunks = chunksOf(set.count).length;
      if (!e || e.done0.size < chunks || e.done1.size < chunks) continue;
      for (const a of grid) {
        (points[String(a)] ??= record<SetAccuracy>())[set.spec.id] = { correct: ensembleCorrect(e.l0, e.l1, a, set.labels, classes, set.classSubset), n: set.count, total: set.count };
      }
    }
    return { pairHash: p.key, points };
  }

  /**
   * Class probabilities of each image (RGB at the model's size, HWC) at each α. With custom labels
   * set, the head is the text tower's zero-shot head applied to the blended image embedding.
   */
  async classify(images: readonly Uint8Array[], alphas: readonly number[]): Promise<{ pairHash: string; labels: string[]; predictions: Prediction[][] }> {
    const p = this.pair;
    if (!p) throw new Error('no pair is loaded');
    const size = p.manifest.preprocess.size;
    const n = images.length;
    const pixels = new Uint8Array(n * size * size * 3);
    images.forEach((img, i) => {
      if (img.length !== size * size * 3) throw new Error(`image ${i} is not ${size}×${size} RGB`);
      pixels.set(img, i * size * size * 3);
    });
    const data = normalizeHWC(pixels, n, size, p.manifest.preprocess);
    const custom = p.custom;
    const labels = custom ? custom.labels : p.manifest.classes;
    const out: Prediction[][] = images.map(() => []);
    for (const alpha of alphas) {
      const r = await p.engine.run(alpha, { data, dims: [n, 3, size, size] });
      const logits = custom ? applyHead(r[p.manifest.io.embedding]!.data, n, custom.head, custom.labels.length, custom.dim) : r[p.manifest.io.logits]!.data;
      const probs = softmax(logits, n, labels.length);
      for (let i = 0; i < n; i++) out[i]!.push({ alpha, probs: Array.from(probs.subarray(i * labels.length, (i + 1) * labels.length)) });
    }
    return { pairHash: p.key, labels, predictions: out };
  }

  /** Custom labels: a zero-shot head from the pair's text tower and templates; null restores the pair's head. */
  async setCustomLabels(labels: readonly string[] | null): Promise<void> {
    const p = this.pair;
    if (!p) throw new Error('no pair is loaded');
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

  async exportOnnx(alpha: number): Promise<Uint8Array> {
    if (!this.pair) throw new Error('no pair is loaded');
    return this.pair.engine.exportOnnx(alpha);
  }

  async dispose(): Promise<void> {
    this.evalGeneration++;
    const p = this.pair;
    this.pair = null;
    if (p) await release(p);
  }
}

async function release(p: LoadedPair): Promise<void> {
  await p.engine.dispose();
  await p.text?.release();
}

function summarize(p: LoadedPair): PairSummary {
  const m = p.manifest;
  return {
    name: m.name,
    members: m.models.members.map((x) => ({
      id: x.id, name: x.name, kind: x.kind, seed: x.seed ?? null, description: x.description ?? '', hasSweeps: Boolean(x.sweeps?.weight || x.sweeps?.output),
    })),
    member: p.member.id,
    sweeps: p.sweeps,
    description: m.description ?? '',
    citation: m.citation ?? '',
    classes: m.classes,
    templates: m.templates,
    sets: p.sets.map((s) => ({
      id: s.spec.id, name: s.spec.name, role: s.spec.role, analogue: s.spec.analogue ?? null,
      description: s.spec.description ?? '', count: s.count, classSubset: s.classSubset?.length ?? null,
    })),
    contentHash: p.key,
    sourceUrl: p.bundle.sourceUrl,
    hasText: p.text !== null,
    engine: { backend: p.engine.info.backend, blendedBytes: p.engine.info.blendedBytes, gpuBytes: p.engine.info.gpuBytes, blendedTensors: p.engine.info.differing.length, sharedTensors: p.engine.info.shared.length },
    inputSize: m.preprocess.size,
  };
}
