// The bundled image tower as a trainable network (tools/models.py ImageClassifier): six blocks of
// 3×3 conv (no bias) → GroupNorm(8) → GELU, global mean pool, h·proj, L2 normalisation, linear head;
// softmax cross-entropy on the logits. Built from the checkpoint's initializers (their PyTorch
// names), forward and backward by hand on typed arrays, so its gradients are the ones PyTorch's
// autograd computes for the same weights and batch (tests/unit/core/tower-grad.test.ts).
import { parseModel, tensorValues, describeTensor, type OnnxModel } from '../onnx/model';
import { halvesToFloats } from '../onnx/half';
import { TrainingError } from './data';
import { typescriptRuntime, wasmRuntime, type TowerMemory, type TowerRuntime } from './gemm';
import {
  type Floats,
  type FloatArrayCtor,
  type ConvShape,
  type NormShape,
  outSize,
  matmul,
  matmulTransA,
  matmulTransBAdd,
  im2col,
  col2im,
  groupNorm,
  groupNormBackward,
  gelu,
  geluBackward,
} from './towerOps';

export interface TowerParam {
  name: string;
  shape: number[];
  /** Decayed by AdamW (tools/train.py param_groups: conv and linear weights, not norms or biases). */
  decay: boolean;
  value: Floats;
  grad: Floats;
}

interface Block {
  cin: number;
  cout: number;
  stride: number;
  conv: TowerParam;
  gamma: TowerParam;
  beta: TowerParam;
}

const WIDTHS = [32, 32, 64, 64, 128, 128];
const STRIDES = [2, 1, 2, 1, 2, 1];
const GROUPS = 8;
const EPS = 1e-5;
export const TOWER_INPUT = 32;

function initializer(model: OnnxModel, name: string, shape: readonly number[]): Float32Array {
  const t = model.graph.initializer.find((x) => x.name === name);
  if (!t)
    throw new TrainingError(
      `the checkpoint has no '${name}': end-to-end training needs the bundled image tower (tools/models.py ImageClassifier)`,
    );
  const info = describeTensor(t);
  if (info.shape.join(',') !== shape.join(','))
    throw new TrainingError(`'${name}' is [${info.shape.join(', ')}] but the tower needs [${shape.join(', ')}]`);
  const v = tensorValues(t);
  if (info.dtype === 'float32') return v as Float32Array;
  if (info.dtype === 'float16') return halvesToFloats(v as Uint16Array);
  throw new TrainingError(`'${name}' is ${info.dtype}; training needs float32 or float16 weights`);
}

/** The trainable tensors in checkpoint order, read from an ONNX file's initializers. */
export function towerParams(model: Uint8Array | OnnxModel, F: FloatArrayCtor = Float32Array): TowerParam[] {
  const m = model instanceof Uint8Array ? parseModel(model, 'checkpoint') : model;
  const head = m.graph.initializer.find((x) => x.name === 'head.weight');
  const classes = head ? (describeTensor(head).shape[0] ?? 0) : 0;
  const spec: [string, number[], boolean][] = [['encoder.proj', [128, 64], true]];
  WIDTHS.forEach((w, i) => {
    const cin = i === 0 ? 3 : WIDTHS[i - 1]!;
    spec.push([`encoder.features.${i}.0.weight`, [w, cin, 3, 3], true]);
    spec.push([`encoder.features.${i}.1.weight`, [w, 1, 1], false]);
    spec.push([`encoder.features.${i}.1.bias`, [w, 1, 1], false]);
  });
  spec.push(['head.weight', [classes, 64], true], ['head.bias', [classes], false]);
  return spec.map(([name, shape, decay]) => {
    const v = initializer(m, name, shape);
    return { name, shape, decay, value: F.from(v), grad: new F(v.length) };
  });
}

/** What the forward pass keeps for the backward pass, and the backward pass's buffers, for one batch size. */
interface Saved {
  input: Floats;
  cols: Floats[];
  xhat: Floats[];
  pre: Floats[];
  rstd: Float64Array[];
  act: Floats[];
  /** GELU's derivative at each of its inputs. */
  dgelu: Floats[];
  /** d loss / d act, per block; becomes d loss / d (conv output) in place. */
  dAct: Floats[];
  pooled: Floats;
  embed: Floats;
  norm: Float64Array;
  z: Floats;
  probs: Float64Array;
  logits: Float64Array;
  /** Scratch for the transposes of the backward products. */
  wT: Floats;
  dzT: Floats;
  dwT: Floats;
}

interface Sized {
  mem: TowerMemory;
  values: Floats[];
  grads: Floats[];
  saved: Saved;
}

export interface StepResult {
  loss: number;
  /** Images of the batch whose top logit is their label. */
  correct: number;
}

/**
 * The tower over one set of parameters. Buffers are sized for the last batch size seen; the
 * parameters' `value` and `grad` move into the runtime's memory then (read them through the
 * params after each forward, not from arrays kept earlier).
 */
export class Tower {
  readonly blocks: Block[];
  readonly proj: TowerParam;
  readonly headW: TowerParam;
  readonly headB: TowerParam;
  readonly classes: number;
  private n = 0;
  private saved: Saved | null = null;
  private mem: TowerMemory | null = null;
  private readonly sized = new Map<number, Sized>();
  private labels: Int32Array = new Int32Array(0);

  constructor(
    readonly params: TowerParam[],
    readonly runtime: TowerRuntime = wasmRuntime() ?? typescriptRuntime(),
  ) {
    const by = new Map(params.map((p) => [p.name, p]));
    const get = (name: string) => by.get(name) ?? missing(name);
    this.proj = get('encoder.proj');
    this.headW = get('head.weight');
    this.headB = get('head.bias');
    this.classes = this.headW.shape[0]!;
    this.blocks = WIDTHS.map((cout, i) => ({
      cin: i === 0 ? 3 : WIDTHS[i - 1]!,
      cout,
      stride: STRIDES[i]!,
      conv: get(`encoder.features.${i}.0.weight`),
      gamma: get(`encoder.features.${i}.1.weight`),
      beta: get(`encoder.features.${i}.1.bias`),
    }));
  }

  private sizes(i: number, n: number): { conv: ConvShape; o: number } {
    let size = TOWER_INPUT;
    for (let j = 0; j < i; j++) size = outSize({ cin: 0, n, size, stride: STRIDES[j]! });
    const conv = { cin: this.blocks[i]!.cin, n, size, stride: STRIDES[i]! };
    return { conv, o: outSize(conv) };
  }

  private buffers(n: number, alloc: (length: number) => Floats): Saved {
    const s: Saved = {
      input: alloc(3 * n * TOWER_INPUT ** 2),
      cols: [],
      xhat: [],
      pre: [],
      rstd: [],
      act: [],
      dAct: [],
      dgelu: [],
      pooled: alloc(n * 128),
      embed: alloc(n * 64),
      norm: new Float64Array(n),
      z: alloc(n * 64),
      probs: new Float64Array(n * this.classes),
      logits: new Float64Array(n * this.classes),
      wT: alloc(128 * 128 * 9),
      dzT: alloc(0),
      dwT: alloc(128 * 128 * 9),
    };
    let dzT = 0;
    this.blocks.forEach((b, i) => {
      const { o } = this.sizes(i, n);
      const out = b.cout * n * o * o;
      dzT = Math.max(dzT, out);
      s.cols.push(alloc(b.cin * 9 * n * o * o));
      for (const list of [s.xhat, s.pre, s.act, s.dAct, s.dgelu]) list.push(alloc(out));
      s.rstd.push(new Float64Array(n * GROUPS));
    });
    s.dzT = alloc(dzT);
    return s;
  }

  /** Sizes the buffers for batches of n and moves the parameters into the same memory. */
  /** The buffers for batches of n and the parameters' places in the same memory. */
  private allocate(n: number): Sized {
    let floats = this.params.reduce((sum, p) => sum + 2 * p.value.length, 0);
    this.buffers(n, (length) => {
      floats += length;
      return new this.runtime.F(0);
    });
    const mem = this.runtime.memory(floats);
    const values = this.params.map((p) => mem.alloc(p.value.length));
    const grads = this.params.map((p) => mem.alloc(p.grad.length));
    return { mem, values, grads, saved: this.buffers(n, (length) => mem.alloc(length)) };
  }

  /**
   * Switches to batches of n: the memory sized for them (kept for the next switch back, as a
   * fine-tune's last micro-batch may be smaller), the parameters' current values copied into it.
   */
  private resize(n: number): void {
    let sized = this.sized.get(n);
    if (!sized) {
      if (this.sized.size >= 3) this.sized.clear();
      this.sized.set(n, (sized = this.allocate(n)));
    }
    this.params.forEach((p, i) => {
      const value = sized.values[i]!;
      if (value !== p.value) value.set(p.value);
      p.value = value;
      p.grad = sized.grads[i]!;
    });
    this.mem = sized.mem;
    this.saved = sized.saved;
    this.n = n;
  }

  /** Softmax cross-entropy (mean over the batch) of `pixels` [n, 3, 32, 32] (normalised), keeping what backward needs. */
  forward(pixels: ArrayLike<number>, labels: Int32Array, n: number): StepResult {
    if (pixels.length !== n * 3 * TOWER_INPUT * TOWER_INPUT)
      throw new TrainingError(`a batch of ${n} images needs ${n * 3 * TOWER_INPUT ** 2} values, got ${pixels.length}`);
    if (labels.length < n) throw new TrainingError(`a batch of ${n} images needs ${n} labels, got ${labels.length}`);
    if (n !== this.n || !this.saved) this.resize(n);
    this.labels = labels;
    const s = this.saved!;
    toChannelMajor(pixels, n, s.input);
    let x: Floats = s.input;
    this.blocks.forEach((b, i) => {
      x = this.blockForward(b, i, x, s);
    });
    meanPool(x, 128, n, 16, s.pooled);
    matmul(s.pooled, this.proj.value, s.embed, n, 128, 64);
    l2Normalize(s.embed, n, 64, s.z, s.norm);
    return this.crossEntropy(s, n);
  }

  private blockForward(b: Block, i: number, x: Floats, s: Saved): Floats {
    const { conv, o } = this.sizes(i, this.n);
    const plane = o * o;
    im2col(x, conv, s.cols[i]!);
    const pre = s.pre[i]!;
    this.mem!.mm(b.conv.value, s.cols[i]!, pre, b.cout, b.cin * 9, this.n * plane);
    const norm: NormShape = { channels: b.cout, groups: GROUPS, n: this.n, plane, eps: EPS };
    // pre holds the convolution's output until GroupNorm overwrites it with GELU's input.
    groupNorm(pre, b.gamma.value, b.beta.value, norm, s.xhat[i]!, pre, s.rstd[i]!);
    gelu(pre, s.act[i]!, s.dgelu[i]!, this.runtime.F === Float32Array);
    return s.act[i]!;
  }

  private crossEntropy(s: Saved, n: number): StepResult {
    const C = this.classes;
    const w = this.headW.value;
    const bias = this.headB.value;
    let loss = 0;
    let correct = 0;
    for (let r = 0; r < n; r++) {
      const logits = s.logits.subarray(r * C, (r + 1) * C);
      let best = 0;
      for (let k = 0; k < C; k++) {
        let v = bias[k]!;
        for (let d = 0; d < 64; d++) v += s.z[r * 64 + d]! * w[k * 64 + d]!;
        logits[k] = v;
        if (v > logits[best]!) best = k;
      }
      const y = this.labels[r]!;
      if (!(y >= 0 && y < C)) throw new TrainingError(`label ${y} is not one of the head's ${C} classes`);
      let sum = 0;
      for (let k = 0; k < C; k++) sum += Math.exp(logits[k]! - logits[best]!);
      for (let k = 0; k < C; k++) s.probs[r * C + k] = Math.exp(logits[k]! - logits[best]!) / sum;
      loss += Math.log(sum) - (logits[y]! - logits[best]!);
      if (best === y) correct++;
    }
    return { loss: loss / n, correct };
  }

  /** The last forward's logits, [n, classes] row-major. */
  logits(): Float64Array {
    if (!this.saved) throw new TrainingError('logits need a forward pass first');
    return Float64Array.from(this.saved.logits);
  }

  /** Gradients of the last forward's mean loss, written into every parameter's `grad` (overwritten). */
  backward(): void {
    const s = this.saved;
    if (!s) throw new TrainingError('backward needs a forward pass first');
    const n = this.n;
    const F = this.runtime.F;
    for (const p of this.params) p.grad.fill(0);
    const dz = this.headBackward(s, n);
    const dEmbed = new F(n * 64);
    l2NormalizeBackward(dz, s.z, s.norm, n, 64, dEmbed);
    // proj is [128, 64]: d proj = pooledᵀ · dEmbed, d pooled = dEmbed · projᵀ.
    matmulTransA(s.pooled, dEmbed, this.proj.grad, n, 128, 64);
    const dPooled = new F(n * 128);
    matmulTransBAdd(dEmbed, this.proj.value, dPooled, n, 128, 64);
    meanPoolBackward(dPooled, 128, n, 16, s.dAct[5]!);
    for (let i = this.blocks.length - 1; i >= 0; i--) this.blockBackward(this.blocks[i]!, i, s);
  }

  private headBackward(s: Saved, n: number): Floats {
    const C = this.classes;
    const dz = new this.runtime.F(n * 64);
    const w = this.headW.value;
    for (let r = 0; r < n; r++)
      for (let k = 0; k < C; k++) {
        const g = (s.probs[r * C + k]! - (k === this.labels[r] ? 1 : 0)) / n;
        this.headB.grad[k] = this.headB.grad[k]! + g;
        for (let d = 0; d < 64; d++) {
          this.headW.grad[k * 64 + d] = this.headW.grad[k * 64 + d]! + g * s.z[r * 64 + d]!;
          dz[r * 64 + d] = dz[r * 64 + d]! + g * w[k * 64 + d]!;
        }
      }
    return dz;
  }

  /**
   * Backward through block i: s.dAct[i] in, the conv weight's gradient and s.dAct[i − 1] out. The
   * two products are the forward product's layout again: dW = (cols · dZᵀ)ᵀ, dCols = Wᵀ · dZ.
   */
  private blockBackward(b: Block, i: number, s: Saved): void {
    const { conv, o } = this.sizes(i, this.n);
    const np = this.n * o * o;
    const dz = s.dAct[i]!;
    geluBackward(s.dgelu[i]!, dz);
    const norm: NormShape = { channels: b.cout, groups: GROUPS, n: this.n, plane: o * o, eps: EPS };
    groupNormBackward(dz, s.xhat[i]!, b.gamma.value, s.rstd[i]!, norm, dz, b.gamma.grad, b.beta.grad);
    const K = b.cin * 9;
    transpose(dz, b.cout, np, s.dzT);
    this.mem!.mm(s.cols[i]!, s.dzT, s.dwT, K, np, b.cout);
    transpose(s.dwT, K, b.cout, b.conv.grad);
    if (i === 0) return; // the pixels need no gradient
    transpose(b.conv.value, b.cout, K, s.wT);
    const dCols = s.cols[i]!; // the columns are not needed again: their buffer takes their gradient
    this.mem!.mm(s.wT, dz, dCols, K, b.cout, np);
    col2im(dCols, conv, s.dAct[i - 1]!);
  }
}

/** out[c, r] = x[r, c] for x [rows, cols]. */
function transpose(x: Floats, rows: number, cols: number, out: Floats): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!;
}

function missing(name: string): never {
  throw new TrainingError(`the tower has no parameter '${name}'`);
}

/** [n, 3, H, W] → [3, n, H, W]. */
function toChannelMajor(pixels: ArrayLike<number>, n: number, out: Floats): void {
  const plane = TOWER_INPUT * TOWER_INPUT;
  for (let b = 0; b < n; b++)
    for (let c = 0; c < 3; c++) {
      const src = (b * 3 + c) * plane;
      const dst = (c * n + b) * plane;
      for (let p = 0; p < plane; p++) out[dst + p] = pixels[src + p]!;
    }
}

/** pooled[n, c] = mean over the plane of x[c, n, ·]. */
function meanPool(x: Floats, channels: number, n: number, plane: number, pooled: Floats): void {
  for (let c = 0; c < channels; c++)
    for (let b = 0; b < n; b++) {
      let sum = 0;
      const base = (c * n + b) * plane;
      for (let p = 0; p < plane; p++) sum += x[base + p]!;
      pooled[b * channels + c] = sum / plane;
    }
}

function meanPoolBackward(dPooled: Floats, channels: number, n: number, plane: number, dx: Floats): void {
  for (let c = 0; c < channels; c++)
    for (let b = 0; b < n; b++) {
      const g = dPooled[b * channels + c]! / plane;
      const base = (c * n + b) * plane;
      for (let p = 0; p < plane; p++) dx[base + p] = g;
    }
}

/** z = e / ‖e‖ per row (tools/models.py: z / sqrt(sum(z²)), no epsilon). */
function l2Normalize(e: Floats, n: number, d: number, z: Floats, norm: Float64Array): void {
  for (let r = 0; r < n; r++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += e[r * d + j]! ** 2;
    const len = (norm[r] = Math.sqrt(sq));
    for (let j = 0; j < d; j++) z[r * d + j] = e[r * d + j]! / len;
  }
}

/** de = (dz − z·(z·dz)) / ‖e‖. */
function l2NormalizeBackward(dz: Floats, z: Floats, norm: Float64Array, n: number, d: number, de: Floats): void {
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += z[r * d + j]! * dz[r * d + j]!;
    for (let j = 0; j < d; j++) de[r * d + j] = (dz[r * d + j]! - z[r * d + j]! * dot) / norm[r]!;
  }
}
