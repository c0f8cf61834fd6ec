import type { InferenceSession, Tensor, Env } from 'onnxruntime-common';
import { parseModel, serializeModel, withValues, type OnnxModel, type InitializerInfo } from '../onnx/model';
import { analyzePair, liftInitializers, bakeInitializers, feedName } from '../onnx/pair';
import { floatsToHalves } from '../onnx/half';
import { extractWeightPairs, type WeightPair } from '../blend/weights';
import { CpuBlender } from '../blend/cpu';
import { GpuBlender } from '../gpu/blend';
import type { TensorProto } from '../onnx/proto';

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
  /** Labels used in error messages. */
  labels?: [string, string];
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
  /** Bytes of the blended weights (one checkpoint's share that changes with α). */
  blendedBytes: number;
  gpuBytes: number;
}

/** A mutex: ORT sessions must not run concurrently, and a blend must not race a run. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * One checkpoint pair, one ORT session, every α: the weights that differ are graph inputs, blended
 * on the GPU (webgpu) or the CPU (wasm, node) when α changes, and fed to each run.
 */
/**
 * One queue for every call into onnxruntime, across all sessions: the web build's wasm (asyncify)
 * cannot take a second call while one is suspended — creating the next pair's session during the
 * current pair's run failed with "memory access out of bounds" on WebGPU.
 */
export const ortQueue = new Serial();

export class BlendEngine {
  /** ORT sessions alive across all engines: the leak tests count them. */
  static liveSessions = 0;
  private blendedAlpha: number | null = null;
  private readonly serial = ortQueue;
  private disposed = false;
  private weightFeeds: Record<string, Tensor> = {};

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    /** The original graph without the blended weights' values: exports bake θ(α) back into it. */
    private readonly skeleton: ReturnType<typeof liftInitializers>,
    /** Feed name and stored dtype of each blended weight. */
    private readonly weights: ReadonlyMap<string, { feed: string; dtype: 'float32' | 'float16' }>,
    readonly info: EngineInfo,
    private readonly cpu: CpuBlender | null,
    private readonly gpu: GpuBlender | null,
  ) {
    if (gpu) {
      for (const o of gpu.outputs) {
        this.weightFeeds[weights.get(o.name)!.feed] = ort.Tensor.fromGpuBuffer(o.buffer, { dataType: o.dtype, dims: o.dims });
      }
    }
  }

  static async create(zeroShotBytes: Uint8Array, fineTunedBytes: Uint8Array, opts: EngineOptions): Promise<BlendEngine> {
    const [la, lb] = opts.labels ?? ['zero-shot model', 'fine-tuned model'];
    const zs = parseModel(zeroShotBytes, la);
    const ft = parseModel(fineTunedBytes, lb);
    return BlendEngine.fromModels(zs, ft, opts);
  }

  static async fromModels(zs: OnnxModel, ft: OnnxModel, opts: EngineOptions): Promise<BlendEngine> {
    const { differing, shared } = analyzePair(zs, ft);
    const names = differing.map((d) => d.name);
    const weightNames = new Set(names);
    const initNames = new Set(zs.graph.initializer.map((t) => t.name));
    const inputName = opts.inputName ?? zs.graph.input.find((v) => !initNames.has(v.name))?.name;
    const inputInfo = zs.graph.input.find((v) => v.name === inputName);
    if (!inputName || !inputInfo) throw new Error(`the model has no image input${opts.inputName ? ` named '${opts.inputName}'` : ''}`);
    const inputDims = inputInfo.type?.tensor_type?.shape?.dim.map((d) => d.dim_param || Number(d.dim_value ?? 0)) ?? [];

    const useGpu = opts.backend === 'webgpu';
    if (useGpu && !opts.device) throw new Error('the webgpu backend needs a GPUDevice');
    const keepHalf = useGpu && opts.device!.features.has('shader-f16');
    // On the CPU, weights go from the files straight into the blend kernel's memory (one copy each).
    const arena = useGpu ? null : CpuBlender.arena(differing.map((d) => ({ name: d.name, count: d.shape.reduce((a, b) => a * b, 1) })));
    const pairs: WeightPair[] = extractWeightPairs(zs, ft, names, keepHalf, arena?.alloc);
    const widen = new Set(pairs.filter((p) => p.dtype === 'float16' && p.feedDtype === 'float32').map((p) => p.name));
    const sessionModel = liftInitializers(zs, weightNames, widen);
    const skeleton = widen.size > 0 ? liftInitializers(zs, weightNames) : sessionModel;
    const weights = new Map(pairs.map((p) => [p.name, { feed: feedName(sessionModel, p.name), dtype: p.dtype }]));
    const modelBytes = serializeModel(sessionModel);

    let gpu: GpuBlender | null = null;
    let cpu: CpuBlender | null = null;
    if (useGpu) {
      gpu = new GpuBlender(opts.device!, pairs);
      // The GPU holds θ0 and θ1 now: the CPU copies go (exports read θ(α) back from the GPU).
      pairs.length = 0;
    } else {
      cpu = new CpuBlender(pairs, arena);
    }

    let session: InferenceSession;
    try {
      session = await ortQueue.run(() => opts.ort.InferenceSession.create(modelBytes, sessionOptions(opts)));
    } catch (e) {
      gpu?.destroy();
      throw new Error(`onnxruntime could not load ${opts.labels?.[0] ?? 'the zero-shot model'} (whose graph serves both checkpoints): ${ortMessage(e)}`, { cause: e });
    }
    BlendEngine.liveSessions++;
    const info: EngineInfo = {
      backend: opts.backend,
      inputName,
      inputDims,
      outputNames: [...session.outputNames],
      outputDims: declaredOutputDims(zs),
      differing,
      shared,
      blendedBytes: differing.reduce((s, d) => s + d.byteLength, 0),
      gpuBytes: gpu?.allocatedBytes ?? 0,
    };
    return new BlendEngine(opts.ort, session, skeleton, weights, info, cpu, gpu);
  }

  get alpha(): number | null {
    return this.blendedAlpha;
  }

  private blendTo(alpha: number): void {
    if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`α must be within [0, 1], got ${alpha}`);
    if (this.blendedAlpha === alpha) return;
    if (this.gpu) {
      this.gpu.blend(alpha);
    } else {
      this.cpu!.blend(alpha);
      for (const p of this.cpu!.pairs) {
        this.weightFeeds[this.weights.get(p.name)!.feed] = new this.ort.Tensor('float32', this.cpu!.outputs.get(p.name)!, p.shape);
      }
    }
    this.blendedAlpha = alpha;
  }

  /** Blends to α if needed, then runs one batch. Calls are serialised. */
  run(alpha: number, input: NamedTensor): Promise<Record<string, NamedTensor>> {
    return this.serial.run(async () => {
      if (this.disposed) throw new Error('this pair was released');
      this.blendTo(alpha);
      const feeds: Record<string, Tensor> = { ...this.weightFeeds, [this.info.inputName]: new this.ort.Tensor('float32', input.data, input.dims) };
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

  /** θ(α) as a standalone ONNX model with blended initializers. */
  exportOnnx(alpha: number): Promise<Uint8Array> {
    return this.serial.run(async () => {
      if (this.disposed) throw new Error('this pair was released');
      this.blendTo(alpha);
      const tensors: TensorProto[] = [];
      // Each weight goes back in its checkpoint's dtype: an fp16 pair exports as fp16.
      const add = (name: string, dims: number[], values: Float32Array | Uint16Array) => {
        const dtype = this.weights.get(name)!.dtype;
        const stored = dtype === 'float16' && values instanceof Float32Array ? floatsToHalves(values) : values;
        const template = { name, dims, data_type: dtype === 'float32' ? 1 : 10, float_data: [], int32_data: [], int64_data: [], double_data: [], uint64_data: [], string_data: [], external_data: [] } as unknown as TensorProto;
        tensors.push(withValues(template, stored));
      };
      if (this.gpu) {
        for (const o of this.gpu.outputs) add(o.name, o.dims, await this.gpu.read(o.name));
      } else {
        for (const p of this.cpu!.pairs) add(p.name, p.shape, this.cpu!.outputs.get(p.name)!);
      }
      return serializeModel(bakeInitializers(this.skeleton, tensors));
    });
  }

  /** Releases the session and every GPU buffer; waits for work in flight. */
  async dispose(): Promise<void> {
    await this.serial.run(async () => {
      if (this.disposed) return;
      this.disposed = true;
      for (const t of Object.values(this.weightFeeds)) if (t.location === 'gpu-buffer') t.dispose();
      this.weightFeeds = {};
      await this.session.release();
      BlendEngine.liveSessions--;
      this.gpu?.destroy();
    });
  }
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
