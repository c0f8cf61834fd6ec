// A ViT image classifier built from standard ONNX ops (opset 17) with the project's protobufjs
// schema: no Python, names under our control, seeded PRNG weights. With CLIP_B32 it has the
// architecture and tensor shapes of CLIP ViT-B/32's image tower (width 768, 12 layers, 12 heads,
// patch 32, 224×224, proj 768→512) plus a 1000-class head on the L2-normalised embedding.
//
// Linear weights are stored [in, out] (as PyTorch's ONNX exporter writes them, pre-transposed for
// MatMul), so every element count matches CLIP; conv1 stays [768, 3, 32, 32] without bias.
import { ModelProtoType } from '../src/core/onnx/proto';
import { DATA_TYPE } from '../src/core/onnx/model';
import { floatToHalf } from '../src/core/onnx/half';
import { rng } from '../tests/support/testPair';

export interface VitConfig {
  name: string;
  size: number;
  patch: number;
  width: number;
  layers: number;
  heads: number;
  embed: number;
  classes: number;
}

export const CLIP_B32: VitConfig = {
  name: 'clip-vit-b32',
  size: 224,
  patch: 32,
  width: 768,
  layers: 12,
  heads: 12,
  embed: 512,
  classes: 1000,
};
/** A ~0.3M-parameter ViT at 32×32, the size of the bundled pair: the stand-in for the small-pair rows. */
export const SMALL: VitConfig = { name: 'small-vit', size: 32, patch: 8, width: 64, layers: 4, heads: 4, embed: 64, classes: 10 };

export type Weights = Map<string, { shape: number[]; values: Float32Array }>;

/** Every weight tensor's name and shape, in graph order. */
export function weightShapes(c: VitConfig): [string, number[], 'w' | 'b' | 'ln_w' | 'ln_b'][] {
  const w = c.width;
  const grid = c.size / c.patch;
  const out: [string, number[], 'w' | 'b' | 'ln_w' | 'ln_b'][] = [
    ['visual.conv1.weight', [w, 3, c.patch, c.patch], 'w'],
    ['visual.class_embedding', [w], 'w'],
    ['visual.positional_embedding', [grid * grid + 1, w], 'w'],
    ['visual.ln_pre.weight', [w], 'ln_w'],
    ['visual.ln_pre.bias', [w], 'ln_b'],
  ];
  for (let l = 0; l < c.layers; l++) {
    const p = `visual.transformer.resblocks.${l}`;
    out.push(
      [`${p}.ln_1.weight`, [w], 'ln_w'],
      [`${p}.ln_1.bias`, [w], 'ln_b'],
      [`${p}.attn.in_proj_weight`, [w, 3 * w], 'w'],
      [`${p}.attn.in_proj_bias`, [3 * w], 'b'],
      [`${p}.attn.out_proj.weight`, [w, w], 'w'],
      [`${p}.attn.out_proj.bias`, [w], 'b'],
      [`${p}.ln_2.weight`, [w], 'ln_w'],
      [`${p}.ln_2.bias`, [w], 'ln_b'],
      [`${p}.mlp.c_fc.weight`, [w, 4 * w], 'w'],
      [`${p}.mlp.c_fc.bias`, [4 * w], 'b'],
      [`${p}.mlp.c_proj.weight`, [4 * w, w], 'w'],
      [`${p}.mlp.c_proj.bias`, [w], 'b'],
    );
  }
  out.push(
    ['visual.ln_post.weight', [w], 'ln_w'],
    ['visual.ln_post.bias', [w], 'ln_b'],
    ['visual.proj', [w, c.embed], 'w'],
    ['head.weight', [c.embed, c.classes], 'w'],
    ['head.bias', [c.classes], 'b'],
  );
  return out;
}

export function paramCount(c: VitConfig): number {
  return weightShapes(c).reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
}

/** θ0: uniform init with variance 1/fan_in (LayerNorm scale 1 ± small, biases small). */
export function randomWeights(c: VitConfig, seed: number): Weights {
  const r = rng(seed);
  const out: Weights = new Map();
  for (const [name, shape, kind] of weightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = name.includes('conv1') ? 3 * c.patch * c.patch : shape.length === 2 && !name.includes('positional') ? shape[0]! : c.width;
    const std = kind === 'w' ? 1 / Math.sqrt(fanIn) : 0.02;
    const a = std * Math.sqrt(3);
    const v = new Float32Array(n);
    const base = kind === 'ln_w' ? 1 : 0;
    for (let i = 0; i < n; i++) v[i] = base + a * (2 * r() - 1);
    out.set(name, { shape, values: v });
  }
  return out;
}

/** θ1 = θ0 + noise of `rel` × each tensor's spread (every tensor differs). */
export function perturb(w: Weights, seed: number, rel = 0.1): Weights {
  const r = rng(seed);
  const out: Weights = new Map();
  for (const [name, { shape, values }] of w) {
    let s = 0;
    for (let i = 0; i < values.length; i++) s += Math.abs(values[i]!);
    const scale = Math.max(1e-3, (rel * s) / values.length) * Math.sqrt(3);
    const v = new Float32Array(values.length);
    for (let i = 0; i < v.length; i++) v[i] = values[i]! + scale * (2 * r() - 1);
    out.set(name, { shape, values: v });
  }
  return out;
}

export function blend(w0: Weights, w1: Weights, alpha: number): Weights {
  const out: Weights = new Map();
  for (const [name, { shape, values: a }] of w0) {
    const b = w1.get(name)!.values;
    const v = new Float32Array(a.length);
    for (let i = 0; i < v.length; i++) v[i] = (1 - alpha) * a[i]! + alpha * b[i]!;
    out.set(name, { shape, values: v });
  }
  return out;
}

const dim = (v: number | string) => (typeof v === 'number' ? { dim_value: v } : { dim_param: v });
const valueInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim: dims.map(dim) } } },
});
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });
const float = (name: string, v: number) => ({ name, type: 1, f: v });

function i64(name: string, values: number[], dims = [values.length]) {
  return { name, dims, data_type: DATA_TYPE.INT64, raw_data: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) };
}
function f32(name: string, values: number[], dims = [values.length]) {
  return { name, dims, data_type: DATA_TYPE.FLOAT, raw_data: new Uint8Array(Float32Array.from(values).buffer) };
}

/** Nodes and initializers of a graph being written; each node's output is a fresh name unless given. */
class GraphBuilder {
  readonly nodes: object[] = [];
  readonly inits: object[] = [];
  private k = 0;

  constructor(
    private readonly w: Weights,
    private readonly fp16: boolean,
  ) {}

  node(op: string, inputs: string[], attrs: object[] = [], out?: string): string {
    const o = out ?? `t${this.k++}`;
    this.nodes.push({ op_type: op, input: inputs, output: [o], name: `${op}_${this.nodes.length}`, attribute: attrs });
    return o;
  }

  /** A weight as an initializer; an fp16 checkpoint stores it as fp16 with a Cast to f32 (weights-only fp16). */
  ref(name: string): string {
    const { shape, values } = this.w.get(name)!;
    if (!this.fp16) {
      this.inits.push({
        name,
        dims: shape,
        data_type: DATA_TYPE.FLOAT,
        raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      });
      return name;
    }
    const h = new Uint16Array(values.length);
    for (let i = 0; i < h.length; i++) h[i] = floatToHalf(values[i]!);
    this.inits.push({ name, dims: shape, data_type: DATA_TYPE.FLOAT16, raw_data: new Uint8Array(h.buffer) });
    return this.node('Cast', [name], [int('to', 1)], `${name}.f32`);
  }

  ln(x: string, p: string): string {
    return this.node('LayerNormalization', [x, this.ref(`${p}.weight`), this.ref(`${p}.bias`)], [int('axis', -1), float('epsilon', 1e-5)]);
  }

  linear(x: string, wName: string, bName: string): string {
    return this.node('Add', [this.node('MatMul', [x, this.ref(wName)]), this.ref(bName)]);
  }
}

/** Shapes, indices and scalars the graph's nodes refer to by name. */
function constants(c: VitConfig): object[] {
  const W = c.width;
  const grid = c.size / c.patch;
  const hd = W / c.heads;
  return [
    i64('c.patch_shape', [0, W, grid * grid]),
    i64('c.qkv_shape', [0, 0, 3, c.heads, hd]),
    i64('c.merge_shape', [0, 0, W]),
    i64('c.idx0', [0], []),
    i64('c.idx1', [1], []),
    i64('c.idx2', [2], []),
    i64('c.cls_tail', [1, W]),
    i64('c.first', [0]),
    i64('c.one', [1]),
    f32('c.scale', [1 / Math.sqrt(hd)], []),
    f32('c.half', [0.5], []),
    f32('c.one_f', [1], []),
    f32('c.rsqrt2', [Math.SQRT1_2], []),
    f32('logit_scale', [100], []),
  ];
}

// Patch embedding: conv stride = patch, then [N, W, g²] → [N, g², W], class token, positions.
function patchEmbedding(g: GraphBuilder, c: VitConfig): string {
  const conv = g.node(
    'Conv',
    ['image', g.ref('visual.conv1.weight')],
    [ints('kernel_shape', [c.patch, c.patch]), ints('strides', [c.patch, c.patch])],
  );
  const patches = g.node('Transpose', [g.node('Reshape', [conv, 'c.patch_shape'])], [ints('perm', [0, 2, 1])]);
  const n = g.node('Slice', [g.node('Shape', ['image']), 'c.first', 'c.one']);
  const cls = g.node('Expand', [g.ref('visual.class_embedding'), g.node('Concat', [n, 'c.cls_tail'], [int('axis', 0)])]);
  return g.node('Add', [g.node('Concat', [cls, patches], [int('axis', 1)]), g.ref('visual.positional_embedding')]);
}

/** One pre-LN transformer block: multi-head self-attention, then the GELU MLP, each residual. */
function residualBlock(g: GraphBuilder, x: string, l: number): string {
  const p = `visual.transformer.resblocks.${l}`;
  const qkv = g.linear(g.ln(x, `${p}.ln_1`), `${p}.attn.in_proj_weight`, `${p}.attn.in_proj_bias`);
  const heads = g.node('Transpose', [g.node('Reshape', [qkv, 'c.qkv_shape'])], [ints('perm', [2, 0, 3, 1, 4])]); // [3, N, h, T, d]
  const q = g.node('Gather', [heads, 'c.idx0'], [int('axis', 0)]);
  const kk = g.node('Gather', [heads, 'c.idx1'], [int('axis', 0)]);
  const v = g.node('Gather', [heads, 'c.idx2'], [int('axis', 0)]);
  const scores = g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [kk], [ints('perm', [0, 1, 3, 2])])]), 'c.scale']);
  const attn = g.node('MatMul', [g.node('Softmax', [scores], [int('axis', -1)]), v]);
  const merged = g.node('Reshape', [g.node('Transpose', [attn], [ints('perm', [0, 2, 1, 3])]), 'c.merge_shape']);
  x = g.node('Add', [x, g.linear(merged, `${p}.attn.out_proj.weight`, `${p}.attn.out_proj.bias`)]);
  const h = g.linear(g.ln(x, `${p}.ln_2`), `${p}.mlp.c_fc.weight`, `${p}.mlp.c_fc.bias`);
  // GELU as Erf: 0.5·x·(1 + erf(x/√2))
  const gelu = g.node('Mul', [g.node('Mul', [h, 'c.half']), g.node('Add', [g.node('Erf', [g.node('Mul', [h, 'c.rsqrt2'])]), 'c.one_f'])]);
  return g.node('Add', [x, g.linear(gelu, `${p}.mlp.c_proj.weight`, `${p}.mlp.c_proj.bias`)]);
}

/** The class token's features, projected and normalised (embedding), and the zero-shot head (logits). */
function outputs(g: GraphBuilder, x: string): void {
  const pooled = g.ln(g.node('Gather', [x, 'c.idx0'], [int('axis', 1)]), 'visual.ln_post');
  const feat = g.node('MatMul', [pooled, g.ref('visual.proj')]);
  const norm = g.node('ReduceL2', [feat], [ints('axes', [1]), int('keepdims', 1)]);
  g.node('Div', [feat, norm], [], 'embedding');
  g.node('Mul', [g.linear('embedding', 'head.weight', 'head.bias'), 'logit_scale'], [], 'logits');
}

export function buildModel(c: VitConfig, w: Weights, opts: { fp16?: boolean } = {}): Uint8Array {
  const g = new GraphBuilder(w, opts.fp16 ?? false);
  g.inits.push(...constants(c));
  let x = g.ln(patchEmbedding(g, c), 'visual.ln_pre');
  for (let l = 0; l < c.layers; l++) x = residualBlock(g, x, l);
  outputs(g, x);
  const model = {
    ir_version: 8,
    producer_name: 'wiseft-explorer-bench',
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: c.name,
      node: g.nodes,
      initializer: g.inits,
      input: [valueInfo('image', ['batch', 3, c.size, c.size])],
      output: [valueInfo('embedding', ['batch', c.embed]), valueInfo('logits', ['batch', c.classes])],
    },
  };
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

export function randomImages(c: VitConfig, n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * 3 * c.size * c.size);
  for (let i = 0; i < out.length; i++) out[i] = 2 * r() - 1;
  return out;
}
