import { decode } from 'fast-png';
import type { EvalSetSpec, Manifest } from '../bundle/manifest';
import { BundleError } from '../bundle/source';
import { readImageHeader, formatBytes } from '../image/header';

/**
 * The most pixels one sprite sheet may have: 256 Mpx, about 5,000 CLIP tiles of 224px (768 MB as
 * RGB once decoded). Larger than an upload's budget because a sheet holds a whole eval set that
 * the manifest declares; a sheet larger than its declared tiles is refused whatever its size.
 */
export const MAX_SPRITE_PIXELS = 256_000_000;

/**
 * One eval set: 8-bit RGB pixels, [N, size, size, 3], and labels. A set from a bundle starts as its
 * PNG sprite sheet (`sheet`) and is decoded the first time its pixels are needed (an evaluation):
 * loading a pair, classifying uploads or exporting θ(α) never pay for decoding the eval images.
 */
export interface EvalSetData {
  spec: EvalSetSpec;
  size: number;
  count: number;
  /** Decoded tiles; null until the first evaluation reads them (see pixelsOf). */
  pixels: Uint8Array | null;
  /** The sprite sheet's PNG bytes, until decoded. */
  sheet: Uint8Array | null;
  labels: Int32Array;
  /** Class indices the set uses (ImageNet-R/-A style subsets); logits outside are masked. */
  classSubset: Int32Array | null;
}

/**
 * Checks a sprite sheet from its PNG header alone: it must hold the manifest's tiles, and not be
 * much larger than they need (a 20000×20000 sheet for ten tiles is a decompression bomb, 1.6 GB
 * decoded), nor over the pixel budget. Nothing is decoded here.
 */
export function spriteSet(spec: EvalSetSpec, png: Uint8Array): EvalSetData {
  const { tile, columns, count } = spec.sprite;
  const where = `eval set '${spec.id}': ${spec.sprite.path}`;
  const header = readImageHeader(png);
  if (!header || header.format !== 'png') throw new BundleError(`${where} is not a PNG file`);
  const rows = Math.ceil(count / columns);
  const needW = Math.min(columns, count) * tile;
  const needH = rows * tile;
  if (header.width < needW || header.height < needH) {
    throw new BundleError(
      `${where}: the sprite sheet is ${header.width}×${header.height}px, too small for ${count} tiles of ${tile}px in ${columns} columns`,
    );
  }
  // One spare row and column of tiles is tolerated (exporters pad to a grid); more is not.
  const mpx = `${((header.width * header.height) / 1e6).toFixed(0)} Mpx in a ${formatBytes(png.byteLength)} file`;
  if (header.width * header.height > MAX_SPRITE_PIXELS && header.width <= (columns + 1) * tile && header.height <= needH + tile) {
    throw new BundleError(
      `${where}: the sprite sheet declares ${header.width}×${header.height}px (${mpx}), more than the ${MAX_SPRITE_PIXELS / 1e6} Mpx a sheet may have: split the set into smaller ones`,
    );
  }
  if (header.width > (columns + 1) * tile || header.height > needH + tile || header.width * header.height > MAX_SPRITE_PIXELS) {
    throw new BundleError(
      `${where}: the sprite sheet declares ${header.width}×${header.height}px (${mpx}), far more than ${count} tiles of ${tile}px in ${columns} columns need (${needW}×${needH}): refused without decoding it`,
    );
  }
  return { ...pendingSpriteSet(spec), sheet: png };
}

/**
 * The set's tiles, decoding the sprite sheet on first use with fast-png, in every environment alike
 * (a canvas would apply colour management and premultiplied alpha, and is not in Node).
 */
export function pixelsOf(set: EvalSetData): Uint8Array {
  if (set.pixels) return set.pixels;
  const { spec } = set;
  if (!set.sheet) throw new BundleError(`eval set '${spec.id}': its images (${spec.sprite.path}) have not arrived yet`);
  const pixels = cutTiles(decodeSheet(spec, set.sheet), spec.sprite);
  set.pixels = pixels;
  set.sheet = null;
  return pixels;
}

type DecodedPng = ReturnType<typeof decode>;

/** The sheet decoded, if it holds every tile the manifest declares and is 8-bit RGB or RGBA. */
function decodeSheet(spec: EvalSetSpec, sheet: Uint8Array): DecodedPng {
  let img: DecodedPng;
  try {
    img = decode(sheet);
  } catch (e) {
    throw new BundleError(`eval set '${spec.id}': ${spec.sprite.path} is not a readable PNG (${(e as Error).message})`);
  }
  const { tile, columns, count } = spec.sprite;
  const rows = Math.ceil(count / columns);
  if (img.width < Math.min(columns, count) * tile || img.height < rows * tile) {
    throw new BundleError(
      `eval set '${spec.id}': the sprite sheet is ${img.width}×${img.height}px, too small for ${count} tiles of ${tile}px in ${columns} columns`,
    );
  }
  if (img.depth !== 8 || (img.channels !== 3 && img.channels !== 4)) {
    throw new BundleError(
      `eval set '${spec.id}': the sprite sheet must be 8-bit RGB or RGBA (got ${img.channels} channels, ${img.depth}-bit)`,
    );
  }
  return img;
}

/** The tiles one after another, RGB (an alpha channel is dropped), row by row within each. */
function cutTiles(img: DecodedPng, { tile, columns, count }: EvalSetSpec['sprite']): Uint8Array {
  const ch = img.channels;
  const src = img.data as Uint8Array;
  const pixels = new Uint8Array(count * tile * tile * 3);
  for (let i = 0; i < count; i++) {
    const x0 = (i % columns) * tile;
    const y0 = Math.floor(i / columns) * tile;
    for (let y = 0; y < tile; y++) {
      let s = ((y0 + y) * img.width + x0) * ch;
      let d = (i * tile * tile + y * tile) * 3;
      for (let x = 0; x < tile; x++, s += ch, d += 3) {
        pixels[d] = src[s]!;
        pixels[d + 1] = src[s + 1]!;
        pixels[d + 2] = src[s + 2]!;
      }
    }
  }
  return pixels;
}

/**
 * A set whose sprite sheet is still on its way (a load that streams the eval images after the
 * first screen): labels and counts from the manifest, pixels once `attachSheet` gives the sheet.
 */
export function pendingSpriteSet(spec: EvalSetSpec): EvalSetData {
  return {
    spec,
    size: spec.sprite.tile,
    count: spec.sprite.count,
    pixels: null,
    sheet: null,
    labels: Int32Array.from(spec.labels),
    classSubset: spec.classes ? Int32Array.from(spec.classes) : null,
  };
}

/** Gives a pending set its sheet, with the same header checks as a set loaded whole. */
export function attachSheet(set: EvalSetData, png: Uint8Array): void {
  if (set.pixels || set.sheet) return;
  set.sheet = spriteSet(set.spec, png).sheet;
}

/** Checks the header, then decodes: a set ready to evaluate (tests and benchmarks). */
export function decodeSprite(spec: EvalSetSpec, png: Uint8Array): EvalSetData {
  const set = spriteSet(spec, png);
  pixelsOf(set);
  return set;
}

/** Images [start, end) of a set as the model's input: float32 NCHW, (x/255 - mean) / std. */
export function normalizeBatch(
  set: EvalSetData,
  start: number,
  end: number,
  pre: Manifest['preprocess'],
  out?: Float32Array,
): Float32Array {
  const s = set.size;
  const plane = s * s;
  const n = end - start;
  const data = out && out.length >= n * 3 * plane ? out.subarray(0, n * 3 * plane) : new Float32Array(n * 3 * plane);
  return normalizeHWC(pixelsOf(set).subarray(start * plane * 3, end * plane * 3), n, s, pre, data);
}

/** HWC uint8 images → NCHW float32, normalised with the manifest's mean and std. */
export function normalizeHWC(
  pixels: Uint8Array,
  n: number,
  s: number,
  pre: Manifest['preprocess'],
  out: Float32Array = new Float32Array(n * 3 * s * s),
): Float32Array {
  const plane = s * s;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * pre.std[c]!);
    const shift = pre.mean[c]! / pre.std[c]!;
    for (let i = 0; i < n; i++) {
      const src = i * plane * 3 + c;
      const dst = (i * 3 + c) * plane;
      for (let p = 0; p < plane; p++) out[dst + p] = pixels[src + p * 3]! * scale - shift;
    }
  }
  return out;
}
