// CLIP preprocessing, done exactly as torchvision does on a PIL image: Resize(size) of the short
// side with Pillow's bicubic (or bilinear) filter, then CenterCrop(size). Canvas scaling is not
// bicubic and measurably shifts embeddings, so the resampling is reimplemented here with Pillow's
// own fixed-point arithmetic (libImaging/Resample.c): separable, horizontal pass first, 8-bit
// intermediate, coefficients with 22 fractional bits.

const PRECISION_BITS = 32 - 8 - 2;

export interface RgbImage {
  width: number;
  height: number;
  /** 8-bit RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

function bilinear(x: number): number {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
}

interface Coeffs {
  bounds: Int32Array;
  weights: Int32Array[];
}

function precompute(inSize: number, outSize: number, filter: (x: number) => number, support: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const sup = support * filterscale;
  const bounds = new Int32Array(outSize * 2);
  const weights: Int32Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    // Pillow truncates toward zero with a C cast of (center ± support + 0.5).
    const xmin = Math.max(Math.trunc(center - sup + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + sup + 0.5), inSize) - xmin;
    const k = new Float64Array(xmax);
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      total += w;
    }
    const fixed = new Int32Array(xmax);
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x]! / total : 0;
      fixed[x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
    weights.push(fixed);
  }
  return { bounds, weights };
}

const clip8 = (v: number) => {
  const r = Math.floor(v / 2 ** PRECISION_BITS);
  return r < 0 ? 0 : r > 255 ? 255 : r;
};

function resampleHorizontal(src: RgbImage, outW: number, c: Coeffs): RgbImage {
  const out = new Uint8Array(outW * src.height * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * 3;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = c.bounds[xx * 2]!;
      const xmax = c.bounds[xx * 2 + 1]!;
      const k = c.weights[xx]!;
      let r = half,
        g = half,
        b = half;
      for (let x = 0; x < xmax; x++) {
        const p = row + (x + xmin) * 3;
        const w = k[x]!;
        r += src.data[p]! * w;
        g += src.data[p + 1]! * w;
        b += src.data[p + 2]! * w;
      }
      const o = (y * outW + xx) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width: outW, height: src.height, data: out };
}

function resampleVertical(src: RgbImage, outH: number, c: Coeffs): RgbImage {
  const out = new Uint8Array(src.width * outH * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = c.bounds[yy * 2]!;
    const ymax = c.bounds[yy * 2 + 1]!;
    const k = c.weights[yy]!;
    for (let x = 0; x < src.width; x++) {
      let r = half,
        g = half,
        b = half;
      for (let y = 0; y < ymax; y++) {
        const p = ((y + ymin) * src.width + x) * 3;
        const w = k[y]!;
        r += src.data[p]! * w;
        g += src.data[p + 1]! * w;
        b += src.data[p + 2]! * w;
      }
      const o = (yy * src.width + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width: src.width, height: outH, data: out };
}

/** Pillow's Image.resize((w, h), BICUBIC | BILINEAR). */
export function resize(src: RgbImage, width: number, height: number, mode: 'bicubic' | 'bilinear' = 'bicubic'): RgbImage {
  const [filter, support] = mode === 'bicubic' ? ([bicubic, 2] as const) : ([bilinear, 1] as const);
  let img = src;
  if (width !== src.width) img = resampleHorizontal(img, width, precompute(src.width, width, filter, support));
  if (height !== src.height) img = resampleVertical(img, height, precompute(src.height, height, filter, support));
  return img;
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision Resize(size) (short side, long side truncated) + CenterCrop(size). */
export function resizeAndCrop(src: RgbImage, size: number, mode: 'bicubic' | 'bilinear' = 'bicubic'): RgbImage {
  const { width: w, height: h } = src;
  const [rw, rh] = w <= h ? [size, Math.trunc((size * h) / w)] : [Math.trunc((size * w) / h), size];
  const resized = rw === w && rh === h ? src : resize(src, rw, rh, mode);
  const top = pyRound((rh - size) / 2);
  const left = pyRound((rw - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((y + top) * rw + left) * 3;
    out.set(resized.data.subarray(from, from + size * 3), y * size * 3);
  }
  return { width: size, height: size, data: out };
}

/** RGBA (canvas ImageData layout) to RGB, dropping alpha as PIL's convert('RGB') does. */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    data[j] = rgba[i]!;
    data[j + 1] = rgba[i + 1]!;
    data[j + 2] = rgba[i + 2]!;
  }
  return { width, height, data };
}
