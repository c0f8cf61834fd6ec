// The optimizer and schedule of tools/train.py, step for step, so that a probe trained here and one
// trained by the pipeline follow the same recipe.

/** tools/train.py cosine_lr: linear warmup over `warmup` steps, then a half cosine to 0 at `total`. */
export function cosineLr(step: number, total: number, base: number, warmup: number): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(1, total - warmup);
  return base * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t)));
}

/** The schedule both trainers (the probe and end-to-end) take, as tools/train.py's configs name it. */
export interface TrainingSchedule {
  epochs: number;
  /** Images per step; a batch larger than the data is cut to the data (a small folder still trains). */
  batchSize: number;
  /** Peak learning rate of the cosine schedule. */
  lr: number;
  /** AdamW's decoupled weight decay (which tensors it reaches is each trainer's own). */
  weightDecay: number;
  /** Steps of linear warmup. */
  warmup: number;
  /** Seeds the order of the images in each epoch: the same seed, data and options give the same weights, bit for bit. */
  seed: number;
}

export interface AdamWOptions {
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * AdamW as torch.optim.AdamW computes it (Loshchilov & Hutter's decoupled weight decay: the decay
 * multiplies the weights by 1 − lr·wd before the Adam step and never enters the moments), over one
 * flat float64 parameter vector. Float64 because the updates late in a cosine schedule are ~1e-7 of
 * the weights, below float32's resolution at the logit scale (weights near ±40/√D).
 */
export class AdamW {
  readonly m: Float64Array;
  readonly v: Float64Array;
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(
    size: number,
    private readonly opts: AdamWOptions,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  get steps(): number {
    return this.t;
  }

  /** One update of `params` in place from `grad` at learning rate `lr`. */
  step(params: Float64Array, grad: Float64Array, lr: number): void {
    const { beta1: b1, beta2: b2, eps, m, v } = this;
    this.t++;
    const decay = 1 - lr * this.opts.weightDecay;
    const stepSize = lr / (1 - b1 ** this.t);
    const c2 = Math.sqrt(1 - b2 ** this.t);
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]!;
      const mi = (m[i] = b1 * m[i]! + (1 - b1) * g);
      const vi = (v[i] = b2 * v[i]! + (1 - b2) * g * g);
      params[i] = params[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / c2 + eps);
    }
  }
}
