// A small CLIP-shaped test pair that the tests build themselves: image → conv → relu → linear →
// L2-normalised `embedding` → linear head × a shared logit scale → `logits`. Framework-free, so
// the same builder runs in Node and in the browser harness.
import { seededRandom } from '../../src/core/train/data';
import { ModelProtoType } from '../../src/core/onnx/proto';
import { floatToHalf, halfToFloat } from '../../src/core/onnx/half';

export const IMAGE_DIMS = [3, 8, 8] as const;
export const NUM_CLASSES = 5;
export const EMBED_DIM = 16;

export type Weights = Record<string, Float32Array>;

export const WEIGHT_SHAPES: Record<string, number[]> = {
  'visual.conv.weight': [4, 3, 3, 3],
  'visual.conv.bias': [4],
  'visual.proj.weight': [64, EMBED_DIM],
  'visual.proj.bias': [EMBED_DIM],
  'head.weight': [EMBED_DIM, NUM_CLASSES],
  'head.bias': [NUM_CLASSES],
  // Equal in both checkpoints: stays an initializer after the rewrite.
  logit_scale: [1],
};

/** The test pair with `channels` conv channels: a heavier checkpoint (~channels KiB) for memory tests. */
export function wideShapes(channels: number): Record<string, number[]> {
  const [, h, w] = IMAGE_DIMS;
  return {
    ...WEIGHT_SHAPES,
    'visual.conv.weight': [channels, 3, 3, 3],
    'visual.conv.bias': [channels],
    'visual.proj.weight': [channels * (h / 2) * (w / 2), EMBED_DIM],
  };
}

// The core's mulberry32: the tests' random weights and images come from the same generator as the
// linear probe's shuffles.
export const rng = seededRandom;

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function randomWeights(seed: number, shapes = WEIGHT_SHAPES): Weights {
  const r = rng(seed);
  const w: Weights = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    w[name] = name === 'logit_scale' ? Float32Array.of(10) : Float32Array.from({ length: n }, () => 0.5 * gaussian(r));
  }
  return w;
}

/** θ1 = θ0 + scale·noise on every tensor except the shared logit scale. */
export function perturb(w: Weights, seed: number, scale = 0.3): Weights {
  const r = rng(seed);
  const out: Weights = {};
  for (const [name, v] of Object.entries(w)) out[name] = name === 'logit_scale' ? v.slice() : v.map((x) => x + scale * gaussian(r));
  return out;
}

/** The values an fp16 checkpoint really holds: each weight rounded to binary16 and back. */
export function roundToHalf(w: Weights): Weights {
  const out: Weights = {};
  for (const [name, v] of Object.entries(w)) out[name] = name === 'logit_scale' ? v.slice() : v.map((x) => halfToFloat(floatToHalf(x)));
  return out;
}

/** The independent blend: float64 arithmetic, rounded once to the stored dtype. */
export function blendWeights(w0: Weights, w1: Weights, alpha: number): Weights {
  const out: Weights = {};
  for (const name of Object.keys(w0)) {
    const a = w0[name]!;
    const b = w1[name]!;
    out[name] = Float32Array.from(a, (x, i) => (1 - alpha) * x + alpha * b[i]!);
  }
  return out;
}

export function randomImages(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * IMAGE_DIMS[0] * IMAGE_DIMS[1] * IMAGE_DIMS[2] }, () => 2 * r() - 1);
}

export interface BuildOptions {
  /** Store weights as fp16 initializers, each Cast to float32 (compute stays fp32). */
  fp16?: boolean;
  /** Variants for the mismatch tests. */
  rename?: Record<string, string>;
  activation?: 'Relu' | 'Sigmoid';
  shapes?: Record<string, number[]>;
}

function tensor(name: string, shape: number[], values: Float32Array, fp16: boolean) {
  const raw = fp16
    ? new Uint8Array(Uint16Array.from(values, floatToHalf).buffer)
    : new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return { name, dims: shape, data_type: fp16 ? 10 : 1, raw_data: raw };
}

const dim = (v: number | string) => (typeof v === 'number' ? { dim_value: v } : { dim_param: v });
const valueInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensor_type: { elem_type: 1, shape: { dim: dims.map(dim) } } },
});

export function buildTestModel(w: Weights, opts: BuildOptions = {}): Uint8Array {
  const fp16 = opts.fp16 ?? false;
  const shapes = { ...WEIGHT_SHAPES, ...opts.shapes };
  const nm = (n: string) => opts.rename?.[n] ?? n;
  const nodes: object[] = [];
  const initializers: object[] = [];
  // Each weight reaches the graph through `ref(name)`: directly, or through a Cast from fp16.
  const ref = (name: string): string => {
    const stored = nm(name);
    const values = w[name]!;
    const shape = shapes[name]!;
    if (!fp16 || name === 'logit_scale') {
      initializers.push(tensor(stored, shape, values, false));
      return stored;
    }
    initializers.push(tensor(stored, shape, values, true));
    nodes.push({ op_type: 'Cast', input: [stored], output: [`${stored}.f32`], attribute: [{ name: 'to', type: 2, i: 1 }] });
    return `${stored}.f32`;
  };
  const convW = ref('visual.conv.weight');
  const convB = ref('visual.conv.bias');
  const projW = ref('visual.proj.weight');
  const projB = ref('visual.proj.bias');
  const headW = ref('head.weight');
  const headB = ref('head.bias');
  const scale = ref('logit_scale');
  const classes = shapes['head.weight']![1]!;
  nodes.push(
    {
      op_type: 'Conv',
      input: ['image', convW, convB],
      output: ['conv'],
      attribute: [
        { name: 'strides', type: 7, ints: [2, 2] },
        { name: 'pads', type: 7, ints: [1, 1, 1, 1] },
        { name: 'kernel_shape', type: 7, ints: [3, 3] },
      ],
    },
    { op_type: opts.activation ?? 'Relu', input: ['conv'], output: ['act'] },
    { op_type: 'Flatten', input: ['act'], output: ['flat'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
    { op_type: 'Gemm', input: ['flat', projW, projB], output: ['features'] },
    {
      op_type: 'ReduceL2',
      input: ['features'],
      output: ['norm'],
      attribute: [
        { name: 'axes', type: 7, ints: [1] },
        { name: 'keepdims', type: 2, i: 1 },
      ],
    },
    { op_type: 'Div', input: ['features', 'norm'], output: ['embedding'] },
    { op_type: 'Gemm', input: ['embedding', headW, headB], output: ['head'] },
    { op_type: 'Mul', input: ['head', scale], output: ['logits'] },
  );
  const model = {
    ir_version: 8,
    producer_name: 'wiseft-explorer-tests',
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'test-pair',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('image', ['batch', ...IMAGE_DIMS])],
      output: [valueInfo('embedding', ['batch', EMBED_DIM]), valueInfo('logits', ['batch', classes])],
    },
  };
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
