// The few operations of the bundled image tower, forward and backward, on plain typed arrays.
// Activations are stored channel-major, [C, N, H, W] ("CNHW"): a 3×3 convolution is then one matrix
// product W[Cout, Cin·9] · cols[Cin·9, N·H·W] whose result is already the next layer's layout, and
// the product's rows are long (N·H·W, not H·W: 16 at the last stage) however deep the layer.
// Float32Array for training, Float64Array for the gradient checks: the same code.
import { erf, erfFast } from './erf';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export type Floats = Float32Array | Float64Array;
export type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** C[M, P] = A[M, K] · B[K, P] (row-major); columns in tiles so a tile of B stays in cache. */
export function matmul(a: Floats, b: Floats, c: Floats, m: number, k: number, p: number): void {
  c.fill(0);
  const TILE = 512;
  for (let j0 = 0; j0 < p; j0 += TILE) {
    const j1 = Math.min(p, j0 + TILE);
    for (let i = 0; i < m; i++) {
      const ci = i * p;
      for (let q = 0; q < k; q++) {
        const w = a[i * k + q]!;
        if (w === 0) continue;
        const bq = q * p;
        for (let j = j0; j < j1; j++) c[ci + j] = c[ci + j]! + w * b[bq + j]!;
      }
    }
  }
}

/** C[K, P] = Aᵀ · B for A[M, K], B[M, P]: the input gradient of a product. */
export function matmulTransA(a: Floats, b: Floats, c: Floats, m: number, k: number, p: number): void {
  c.fill(0);
  const TILE = 512;
  for (let j0 = 0; j0 < p; j0 += TILE) {
    const j1 = Math.min(p, j0 + TILE);
    for (let q = 0; q < k; q++) {
      const cq = q * p;
      for (let i = 0; i < m; i++) {
        const w = a[i * k + q]!;
        const bi = i * p;
        for (let j = j0; j < j1; j++) c[cq + j] = c[cq + j]! + w * b[bi + j]!;
      }
    }
  }
}

/** C[M, K] += A[M, P] · Bᵀ for B[K, P]: the weight gradient of a product (row dot products). */
export function matmulTransBAdd(a: Floats, b: Floats, c: Floats, m: number, k: number, p: number): void {
  for (let i = 0; i < m; i++) {
    const ai = i * p;
    for (let q = 0; q < k; q++) {
      const bq = q * p;
      let s = 0;
      for (let j = 0; j < p; j++) s += a[ai + j]! * b[bq + j]!;
      c[i * k + q] = c[i * k + q]! + s;
    }
  }
}

export interface ConvShape {
  cin: number;
  n: number;
  /** Input height = width. */
  size: number;
  stride: number;
}

export const outSize = (s: ConvShape) => Math.floor((s.size + 2 - 3) / s.stride) + 1;

/** cols[(ci, ky, kx), (n, oy, ox)] = x[ci, n, oy·s + ky − 1, ox·s + kx − 1] (zero outside): padding 1. */
export function im2col(x: Floats, s: ConvShape, cols: Floats): void {
  const { cin, n, size, stride } = s;
  const o = outSize(s);
  const plane = size * size;
  const row = n * o * o;
  for (let ci = 0; ci < cin; ci++)
    for (let ky = 0; ky < 3; ky++)
      for (let kx = 0; kx < 3; kx++) {
        let dst = (ci * 9 + ky * 3 + kx) * row;
        for (let b = 0; b < n; b++) {
          const src = (ci * n + b) * plane;
          for (let oy = 0; oy < o; oy++) {
            const iy = oy * stride + ky - 1;
            const inside = iy >= 0 && iy < size;
            for (let ox = 0; ox < o; ox++, dst++) {
              const ix = ox * stride + kx - 1;
              cols[dst] = inside && ix >= 0 && ix < size ? x[src + iy * size + ix]! : 0;
            }
          }
        }
      }
}

/** The adjoint of im2col: dx[ci, n, iy, ix] = Σ over the columns that read it. */
export function col2im(cols: Floats, s: ConvShape, dx: Floats): void {
  const { cin, n, size, stride } = s;
  const o = outSize(s);
  const plane = size * size;
  const row = n * o * o;
  dx.fill(0);
  for (let ci = 0; ci < cin; ci++)
    for (let ky = 0; ky < 3; ky++)
      for (let kx = 0; kx < 3; kx++) {
        let src = (ci * 9 + ky * 3 + kx) * row;
        for (let b = 0; b < n; b++) {
          const dst = (ci * n + b) * plane;
          for (let oy = 0; oy < o; oy++) {
            const iy = oy * stride + ky - 1;
            const inside = iy >= 0 && iy < size;
            for (let ox = 0; ox < o; ox++, src++) {
              const ix = ox * stride + kx - 1;
              if (inside && ix >= 0 && ix < size) dx[dst + iy * size + ix] = dx[dst + iy * size + ix]! + cols[src]!;
            }
          }
        }
      }
}

export interface NormShape {
  channels: number;
  groups: number;
  n: number;
  /** H·W. */
  plane: number;
  eps: number;
}

/**
 * GroupNorm forward (F.group_norm: biased variance over each sample's group of channels and all
 * pixels, then the per-channel affine). Writes x̂ and y = x̂·γ + β; keeps 1/σ per (sample, group).
 */
export function groupNorm(x: Floats, gamma: Floats, beta: Floats, s: NormShape, xhat: Floats, y: Floats, rstd: Float64Array): void {
  const per = s.channels / s.groups;
  const count = per * s.plane;
  for (let b = 0; b < s.n; b++)
    for (let g = 0; g < s.groups; g++) {
      let sum = 0;
      let sq = 0;
      for (let c = g * per; c < (g + 1) * per; c++) {
        const base = (c * s.n + b) * s.plane;
        for (let p = 0; p < s.plane; p++) sum += x[base + p]!;
      }
      const mean = sum / count;
      for (let c = g * per; c < (g + 1) * per; c++) {
        const base = (c * s.n + b) * s.plane;
        for (let p = 0; p < s.plane; p++) sq += (x[base + p]! - mean) ** 2;
      }
      const r = 1 / Math.sqrt(sq / count + s.eps);
      rstd[b * s.groups + g] = r;
      for (let c = g * per; c < (g + 1) * per; c++) {
        const base = (c * s.n + b) * s.plane;
        const gm = gamma[c]!;
        const bt = beta[c]!;
        for (let p = 0; p < s.plane; p++) {
          const h = (xhat[base + p] = (x[base + p]! - mean) * r);
          y[base + p] = h * gm + bt;
        }
      }
    }
}

/**
 * GroupNorm backward: dγ, dβ accumulated; dx = (1/σ)(d − mean(d) − x̂·mean(d·x̂)) over each
 * (sample, group), where d = dy·γ. dx may alias dy.
 */
export function groupNormBackward(
  dy: Floats,
  xhat: Floats,
  gamma: Floats,
  rstd: Float64Array,
  s: NormShape,
  dx: Floats,
  dgamma: Floats,
  dbeta: Floats,
): void {
  const per = s.channels / s.groups;
  const count = per * s.plane;
  for (let b = 0; b < s.n; b++)
    for (let g = 0; g < s.groups; g++) {
      let md = 0;
      let mdx = 0;
      for (let c = g * per; c < (g + 1) * per; c++) {
        const base = (c * s.n + b) * s.plane;
        const gm = gamma[c]!;
        let sg = 0;
        let sb = 0;
        for (let p = 0; p < s.plane; p++) {
          const d = dy[base + p]!;
          const h = xhat[base + p]!;
          sg += d * h;
          sb += d;
        }
        dgamma[c] = dgamma[c]! + sg;
        dbeta[c] = dbeta[c]! + sb;
        md += sb * gm;
        mdx += sg * gm;
      }
      md /= count;
      mdx /= count;
      const r = rstd[b * s.groups + g]!;
      for (let c = g * per; c < (g + 1) * per; c++) {
        const base = (c * s.n + b) * s.plane;
        const gm = gamma[c]!;
        for (let p = 0; p < s.plane; p++) dx[base + p] = r * (dy[base + p]! * gm - md - xhat[base + p]! * mdx);
      }
    }
}

/**
 * y = x·Φ(x) and its derivative Φ(x) + x·φ(x), elementwise: the backward pass then only multiplies.
 * `fast` takes erfFast (float32 training) instead of the float64-exact erf.
 */
export function gelu(x: Floats, y: Floats, dydx: Floats, fast: boolean): void {
  const e = fast ? erfFast : erf;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const cdf = 0.5 * (1 + e(v * Math.SQRT1_2));
    y[i] = v * cdf;
    dydx[i] = cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
  }
}

/** dy ·= dy/dx, elementwise, in place. */
export function geluBackward(dydx: Floats, dy: Floats): void {
  for (let i = 0; i < dy.length; i++) dy[i] = dy[i]! * dydx[i]!;
}
