// Eval images as the page shows them: small RGBA thumbnails of a set's tiles, and the class of
// every image. The page has only per-image bitsets (which images were right); a lesson on what
// flips, or on per-class accuracy, needs the pictures and the labels behind them.
import { pixelsOf, type EvalSetData } from './sprites';
import { record } from './ids';

/** The widest thumbnail sent: a 224px CLIP tile is shrunk by an integer factor below this. */
export const MAX_THUMBNAIL_SIZE = 64;
/** Thumbnails per call: a view shows a few dozen at most, and each CLIP tile costs decoding. */
export const MAX_THUMBNAILS_PER_CALL = 64;

export interface Thumbnail {
  index: number;
  /** size × size × 4 bytes, opaque. */
  rgba: Uint8Array;
}

/** The integer factor that brings a tile of `tile` px to at most `max` px, and the side it gives. */
export function thumbnailScale(tile: number, max = MAX_THUMBNAIL_SIZE): { factor: number; size: number } {
  const factor = Math.max(1, Math.ceil(tile / max));
  return { factor, size: Math.floor(tile / factor) };
}

/**
 * Image `index` of the set as RGBA, each pixel the mean of a factor × factor block (a box filter:
 * integer factors need no resampling library, and the mean does not alias the way skipping does).
 */
export function thumbnailOf(set: EvalSetData, index: number, max = MAX_THUMBNAIL_SIZE): Uint8Array {
  const tile = set.size;
  const { factor, size } = thumbnailScale(tile, max);
  const pixels = pixelsOf(set);
  const base = index * tile * tile * 3;
  const out = new Uint8Array(size * size * 4);
  const area = factor * factor;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0];
      for (let dy = 0; dy < factor; dy++) {
        let p = base + ((y * factor + dy) * tile + x * factor) * 3;
        for (let dx = 0; dx < factor; dx++, p += 3) {
          sum[0]! += pixels[p]!;
          sum[1]! += pixels[p + 1]!;
          sum[2]! += pixels[p + 2]!;
        }
      }
      const o = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(sum[c]! / area);
      out[o + 3] = 255;
    }
  }
  return out;
}

/** Thumbnails of images `indices` of `set`; an index outside the set, or too many, is an error the caller made. */
export function thumbnailsOf(
  set: EvalSetData,
  indices: readonly number[],
  max = MAX_THUMBNAIL_SIZE,
): { size: number; images: Thumbnail[] } {
  if (indices.length > MAX_THUMBNAILS_PER_CALL) {
    throw new RangeError(`at most ${MAX_THUMBNAILS_PER_CALL} thumbnails per call (asked for ${indices.length})`);
  }
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= set.count) {
      throw new RangeError(`eval set '${set.spec.id}' has no image ${i} (it has ${set.count})`);
    }
  }
  return { size: thumbnailScale(set.size, max).size, images: indices.map((index) => ({ index, rgba: thumbnailOf(set, index, max) })) };
}

/** Every set's class index per image, by set id (a copy: the page may keep it). */
export function labelsOf(sets: readonly EvalSetData[]): Record<string, Int32Array> {
  const out = record<Int32Array>();
  for (const s of sets) out[s.spec.id] = Int32Array.from(s.labels);
  return out;
}
