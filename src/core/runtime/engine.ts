import type { InferenceSession, Tensor, Env } from 'onnxruntime-common';
import { parseModel, serializeModel, withValues, DATA_TYPE, type OnnxModel, type InitializerInfo } from '../onnx/model';
import { analyzePair, bakeInitializers } from '../onnx/pair';
import { planMemberWeights, findImageInput } from '../blend/plan';
import { createBlender, coefficientsKey, type WeightBlender, type BlendedTensor, type BlendCoefficients } from '../blend/blender';
import type { ModelProto, TensorProto } from '../onnx/proto';
import { layerGroups, tensorDepths, type LayerGroup } from '../blend/groups';
import { ortQueue } from './ortQueue';
import { floatWeights, type WeightsByName } from '../moved/moved';
import { halvesToFloats } from '../onnx/half';
import { ResourceLedger } from './ledger';
import { streamMembers } from '../blend/streamLoad';
import type { ChunkSource } from '../onnx/stream';
import { resolveExternalData, type ExternalFiles } from '../onnx/external';
import type { WasmArena } from '../blend/arena';

/** The parts of onnxruntime-web / onnxruntime-node the engine uses; both export this API. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: typeof Tensor;
  env: Env;
}

/** webgpu and wasm are onnxruntime-web's EPs; cpu is onnxruntime-node's. */
export type Backend = 'webgpu' | 'wasm' | 'cpu';

export interface EngineOptions {
  ort: OrtModule;
  backend: Backend;
  /** Required for webgpu: the device the blend kernel writes into and ORT reads from. */
  device?: GPUDevice;
  /** Name of the image input; defaults to the first graph input that is not a weight. */
  inputName?: string;
  /** Labels used in error messages (zero-shot first; for K members, K labels). */
  labels?: readonly string[];
  /** Counts this engine's session and GPU buffers (the leak tests read it). */
  ledger?: ResourceLedger;
  /** Each member's external data files (zero-shot first), for models saved with external data. */
  externalData?: readonly (ExternalFiles | undefined)[];
}

/** The model with its external tensors read from the files given for member `i`. */
function withExternal(model: OnnxModel, opts: EngineOptions, i: number, label: string): OnnxModel {
  resolveExternalData(model, opts.externalData?.[i] ?? new Map(), label);
  return model;
}

export interface NamedTensor {
  data: Float32Array;
  dims: number[];
}

export interface EngineInfo {
  backend: Backend;
  inputName: string;
  inputDims: (number | string)[];
  outputNames: string[];
  /** Each graph output's declared shape (a dim is a number, a symbolic name, or null when unset); null when the model declares none. */
  outputDims: Record<string, (number | string | null)[] | null>;
  differing: InitializerInfo[];
  shared: InitializerInfo[];
  /** The blended tensors by layer, in graph order: what a per-layer α sets (blend/groups.ts). */
  layerGroups: LayerGroup[];
  /** Members blended: 2 for a pair (zero-shot, fine-tuned), K for a soup. */
  members: number;
  /** Bytes of the blended weights (one checkpoint's share that changes with α). */
  blendedBytes: number;
  gpuBytes: number;
}

/**
 * One checkpoint pair (or K members sharing the zero-shot graph), one ORT session, every α or
 * coefficient vector: the weights that differ are graph inputs, blended on the GPU (webgpu) or
 * the CPU (wasm, node) when the coefficients change, and fed to each run.
 */

/** What a run blends to: an α of a pair, or coefficients (any K, per-tensor overrides). */
export type BlendPoint = number | BlendCoefficients;

export class BlendEngine {
  // The coefficients the feeds hold now, by coefficientsKey: a one-slot cache (why one: blendTo).
  private blendedKey: string | null = null;
  private readonly serial = ortQueue;
  private disposed = false;
  private readonly weightFeeds: Readonly<Record<string, Tensor>>;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    /** The original graph without the blended weights' values: exports bake θ(α) back into it. */
    private readonly skeleton: ModelProto,
    private readonly blender: WeightBlender,
    feedNames: ReadonlyMap<string, string>,
    private readonly ledger: ResourceLedger,
    readonly info: EngineInfo,
    /** The zero-shot model's initializer names in its order: the order weights are listed in. */
    private readonly weightOrder: readonly string[],
  ) {
    this.weightFeeds = blender.feeds(ort, feedNames);
  }

  static async create(zeroShotBytes: Uint8Array, fineTunedBytes: Uint8Array, opts: EngineOptions): Promise<BlendEngine> {
    const [zl, fl] = [opts.labels?.[0] ?? 'zero-shot model', opts.labels?.[1] ?? 'fine-tuned model'];
    const zs = withExternal(parseModel(zeroShotBytes, zl), opts, 0, zl);
    const ft = withExternal(parseModel(fineTunedBytes, fl), opts, 1, fl);
    return BlendEngine.fromModels(zs, ft, opts);
  }

  static async fromModels(zs: OnnxModel, ft: OnnxModel, opts: EngineOptions): Promise<BlendEngine> {
    return BlendEngine.fromMemberModels(zs, [ft], opts);
  }

  /**
   * K = 1 + fineTuned.length members (zero-shot first) in one engine, for soups and the
   * weight-space plane. Each fine-tuned model must pass the pair check against the zero-shot one.
   */
  static async createWithMembers(
    zeroShotBytes: Uint8Array,
    fineTunedBytes: readonly Uint8Array[],
    opts: EngineOptions,
  ): Promise<BlendEngine> {
    const label = (i: number) =>
      opts.labels?.[i] ?? (i === 0 ? 'zero-shot model' : fineTunedBytes.length === 1 ? 'fine-tuned model' : `fine-tuned model ${i}`);
    const zs = withExternal(parseModel(zeroShotBytes, label(0)), opts, 0, label(0));
    return BlendEngine.fromMemberModels(
      zs,
      fineTunedBytes.map((b, i) => withExternal(parseModel(b, label(i + 1)), opts, i + 1, label(i + 1))),
      opts,
    );
  }

  /**
   * The engine from the checkpoints' chunks (a fetch's body, a file's stream; zero-shot first, then
   * each fine-tuned member) instead of their bytes: no file is ever whole in memory. On the CPU each float32 weight goes from the stream
   * straight into the blend kernel's memory (blend/streamLoad.ts), so a pair's peak is θ0 + θ1 +
   * θ(α) and the runtime's copy of the feeds, against that plus both files for `create`.
   */
  static async createFromStreams(sources: readonly ChunkSource[], opts: EngineOptions): Promise<BlendEngine> {
    if (sources.length < 2) throw new Error('a blend needs at least one fine-tuned model besides the zero-shot one');
    const label = (i: number) =>
      opts.labels?.[i] ?? (i === 0 ? 'zero-shot model' : sources.length === 2 ? 'fine-tuned model' : `fine-tuned model ${i}`);
    const { models, arena } = await streamMembers(
      sources,
      sources.map((_, i) => label(i)),
      { cpuArena: opts.backend !== 'webgpu' },
    );
    // External tensors were not in the streams: their slots are filled from the files given.
    models.forEach((m, i) => withExternal(m, opts, i, label(i)));
    return BlendEngine.build(models[0]!, models.slice(1), opts, arena);
  }

  static async fromMemberModels(zs: OnnxModel, fineTuned: readonly OnnxModel[], opts: EngineOptions): Promise<BlendEngine> {
    return BlendEngine.build(zs, fineTuned, opts, null);
  }

  private static async build(
    zs: OnnxModel,
    fineTuned: readonly OnnxModel[],
    opts: EngineOptions,
    arena: WasmArena | null,
  ): Promise<BlendEngine> {
    if (fineTuned.length < 1) throw new Error('a blend needs at least one fine-tuned model besides the zero-shot one');
    const { differing, shared } = analyzeMembers(zs, fineTuned);
    const image = findImageInput(zs, opts.inputName);
    const useGpu = opts.backend === 'webgpu';
    if (useGpu && !opts.device) throw new Error('the webgpu backend needs a GPUDevice');
    const plan = planMemberWeights([zs, ...fineTuned], differing, {
      keepHalf: useGpu && opts.device!.features.has('shader-f16'),
      cpuArena: !useGpu,
      arena: useGpu ? null : arena,
    });
    const modelBytes = serializeModel(plan.sessionModel);
    // Without an injected ledger nothing reads the counts, but the code path stays the same.
    const ledger = opts.ledger ?? new ResourceLedger();
    const blender = createBlender(plan.pairs, { ...(useGpu ? { device: opts.device! } : { arena: plan.arena }), ledger });
    // The GPU holds θ0 and θ1 now: the CPU copies go before the session needs memory (exports
    // read θ(α) back from the GPU).
    if (blender.kind === 'gpu') plan.pairs.length = 0;
    const session = await openBlendSession(modelBytes, opts, blender, fineTuned.length);
    ledger.acquire('blend-session');
    const info = engineInfo(zs, fineTuned.length, opts.backend, { image, session, differing, shared, blender });
    const order = zs.graph.initializer.map((t) => t.name);
    return new BlendEngine(opts.ort, session, plan.skeleton, blender, plan.feedNames, ledger, info, order);
  }

  /**
   * The blend cache is one α. Evaluation and the uploads' classification share this engine (and
   * the ORT queue), so an upload classified between two chunks of a grid α costs two blends: one
   * to the upload's α, one back. A second slot would avoid them but cost a second θ(α) of every
   * blended weight (a third more blend memory, and CLIP-L's CPU arena would pass wasm's 4 GiB);
   * the evaluation plan puts the current α, the uploads' usual α, first, which keeps this rare.
   */
  private blendTo(point: BlendPoint): void {
    // A bare α keeps its range check; coefficients may extrapolate (the blender checks K and finiteness).
    if (typeof point === 'number' && !(point >= 0 && point <= 1)) throw new RangeError(`α must be within [0, 1], got ${point}`);
    const c: BlendCoefficients = typeof point === 'number' ? { alpha: point } : point;
    const key = coefficientsKey(c);
    if (this.blendedKey === key) return;
    // Forgotten first: a blend that throws leaves the feeds in an unknown state.
    this.blendedKey = null;
    this.blender.blend(c);
    this.blendedKey = key;
  }

  /** Blends to α (or to the coefficients) if needed, then runs one batch. Calls are serialised. */
  run(alpha: BlendPoint, input: NamedTensor): Promise<Record<string, NamedTensor>> {
    return this.serial.run(async () => {
      if (this.disposed) throw new Error('this pair was released');
      this.blendTo(alpha);
      const feeds: Record<string, Tensor> = {
        ...this.weightFeeds,
        [this.info.inputName]: new this.ort.Tensor('float32', input.data, input.dims),
      };
      const results = await this.session.run(feeds);
      const out: Record<string, NamedTensor> = {};
      for (const name of this.info.outputNames) {
        const t = results[name]!;
        const data = t.location === 'cpu' ? (t.data as Float32Array) : ((await t.getData(true)) as Float32Array);
        out[name] = { data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), dims: [...t.dims] };
        if (t.location !== 'cpu') t.dispose();
      }
      return out;
    });
  }

  /** θ(α) (or θ of the coefficients) as a standalone ONNX model with blended initializers. */
  async exportOnnx(alpha: BlendPoint): Promise<Uint8Array> {
    return serializeModel(await this.exportModel(alpha));
  }

  /**
   * θ(α) as a model with every weight inline (the blended ones copied out of the blend), for a
   * caller that decides how to write it: one file, or a graph and its data file past 2 GB.
   */
  exportModel(alpha: BlendPoint): Promise<ModelProto> {
    return this.serial.run(async () => {
      if (this.disposed) throw new Error('this pair was released');
      this.blendTo(alpha);
      const tensors = (await this.blender.readBlended()).map(initializerOf);
      return bakeInitializers(this.skeleton, tensors);
    });
  }

  /**
   * Every float weight of member k (0 the zero-shot model) from what the engine already holds:
   * the blended ones by a one-hot blend read back (the GPU path keeps no CPU copy of θₖ; a one-hot
   * blend gives θₖ bit for bit on every path), the shared ones from the skeleton, where they stay
   * baked in. fp16 weights come back widened.
   */
  memberWeights(k: number): Promise<WeightsByName> {
    return this.serial.run(async () => {
      if (this.disposed) throw new Error('this pair was released');
      if (!(Number.isInteger(k) && k >= 0 && k < this.info.members)) throw new RangeError(`no member ${k} of ${this.info.members}`);
      const found = floatWeights({ proto: this.skeleton, graph: this.skeleton.graph! });
      this.blendTo({ weights: Array.from({ length: this.info.members }, (_, i) => (i === k ? 1 : 0)) });
      for (const t of await this.blender.readBlended()) {
        // CPU blenders hand out their live output buffer, which the next blend overwrites: copied.
        const values = t.values instanceof Uint16Array ? halvesToFloats(t.values) : t.values.slice();
        found.set(t.name, { shape: t.dims, values });
      }
      const out: WeightsByName = new Map();
      for (const name of this.weightOrder) if (found.has(name)) out.set(name, found.get(name)!);
      return out;
    });
  }

  /** Releases the session and every GPU buffer; waits for work in flight. */
  async dispose(): Promise<void> {
    await this.serial.run(async () => {
      if (this.disposed) return;
      this.disposed = true;
      await this.session.release();
      this.ledger.release('blend-session');
      this.blender.dispose();
    });
  }
}

/**
 * The pair check of each fine-tuned model against the zero-shot one (so every member shares its
 * graph); a weight is blended when any member changed it.
 */
/** The runtime's session of the blended graph; if it cannot load, the blender's memory goes with it. */
async function openBlendSession(
  modelBytes: Uint8Array,
  opts: EngineOptions,
  blender: WeightBlender,
  fineTuned: number,
): Promise<InferenceSession> {
  try {
    return await ortQueue.run(() => opts.ort.InferenceSession.create(modelBytes, sessionOptions(opts)));
  } catch (e) {
    blender.dispose();
    throw new Error(
      `onnxruntime could not load ${opts.labels?.[0] ?? 'the zero-shot model'} (whose graph serves ${fineTuned === 1 ? 'both checkpoints' : `all ${1 + fineTuned} members`}): ${ortMessage(e)}`,
      { cause: e },
    );
  }
}

function engineInfo(
  zs: OnnxModel,
  fineTuned: number,
  backend: EngineOptions['backend'],
  built: {
    image: ReturnType<typeof findImageInput>;
    session: InferenceSession;
    differing: InitializerInfo[];
    shared: InitializerInfo[];
    blender: WeightBlender;
  },
): EngineInfo {
  const { image, session, differing, shared, blender } = built;
  return {
    backend,
    ...image,
    outputNames: [...session.outputNames],
    outputDims: declaredOutputDims(zs),
    differing,
    shared,
    layerGroups: layerGroups(
      tensorDepths(
        zs.graph,
        differing.map((d) => d.name),
      ),
    ),
    members: 1 + fineTuned,
    blendedBytes: differing.reduce((s, d) => s + d.byteLength, 0),
    gpuBytes: blender.gpuBytes,
  };
}

function analyzeMembers(zs: OnnxModel, fineTuned: readonly OnnxModel[]): { differing: InitializerInfo[]; shared: InitializerInfo[] } {
  const analyses = fineTuned.map((ft) => analyzePair(zs, ft));
  if (analyses.length === 1) return analyses[0]!;
  const changed = new Set(analyses.flatMap((a) => a.differing.map((d) => d.name)));
  const all = [...analyses[0]!.differing, ...analyses[0]!.shared];
  const order = new Map(zs.graph.initializer.map((t, i) => [t.name, i]));
  all.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { differing: all.filter((d) => changed.has(d.name)), shared: all.filter((d) => !changed.has(d.name)) };
}

/** A blended tensor as an initializer, in its checkpoint's dtype: an fp16 pair exports as fp16. */
function initializerOf(t: BlendedTensor): TensorProto {
  const template = {
    name: t.name,
    dims: t.dims,
    data_type: t.dtype === 'float32' ? DATA_TYPE.FLOAT : DATA_TYPE.FLOAT16,
    float_data: [],
    int32_data: [],
    int64_data: [],
    double_data: [],
    uint64_data: [],
    string_data: [],
    external_data: [],
  } as unknown as TensorProto;
  return withValues(template, t.values);
}

/** The shapes the model's graph declares for its outputs, as the load-time checks read them. */
function declaredOutputDims(m: OnnxModel): EngineInfo['outputDims'] {
  const out: EngineInfo['outputDims'] = Object.create(null) as EngineInfo['outputDims'];
  for (const o of m.graph.output) {
    const shape = o.type?.tensor_type?.shape;
    out[o.name] = shape ? shape.dim.map((d) => d.dim_param || Number(d.dim_value ?? 0) || null) : null;
  }
  return out;
}

/**
 * onnxruntime's message without its C++ source location and function signature (for an opset
 * it does not know: "/onnxruntime_src/…/model_load_utils.h:46 void onnxruntime::…(const std::…&, …)
 * ONNX Runtime only guarantees…"), on one line.
 */
export function ortMessage(e: unknown): string {
  let m = e instanceof Error ? e.message : String(e);
  m = m.replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '');
  const at = /^\S+\.(?:h|hpp|cc|cpp|c):\d+ /.exec(m);
  if (at) {
    m = m.slice(at[0].length);
    // The signature runs to the parenthesis that closes its parameter list.
    const open = m.indexOf('(');
    if (open > 0 && !/\s[A-Z]/.test(m.slice(0, open).replace(/^\S+ /, ''))) {
      let depth = 0;
      for (let i = open; i < m.length; i++) {
        if (m[i] === '(') depth++;
        else if (m[i] === ')' && --depth === 0) {
          m = m.slice(i + 1).replace(/^\s*const\b/, '');
          break;
        }
      }
    }
  }
  return m.replace(/\s+/g, ' ').trim() || 'no message';
}

function sessionOptions(opts: EngineOptions): InferenceSession.SessionOptions {
  const base: InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  switch (opts.backend) {
    case 'webgpu':
      return { ...base, executionProviders: [{ name: 'webgpu', device: opts.device }] };
    case 'wasm':
      return { ...base, executionProviders: ['wasm'] };
    case 'cpu':
      return { ...base, executionProviders: ['cpu'] };
  }
}
