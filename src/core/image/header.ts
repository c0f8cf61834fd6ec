// Image dimensions from the file header, before anything is decoded. A 1 MB PNG can declare
// 20000×20000 pixels (1.6 GB of RGBA once decoded): every decoder in the app (uploads, eval folders,
// sprite sheets) asks here first and refuses what would not fit the pixel budget, so a
// decompression bomb costs a few header bytes, not gigabytes.

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/**
 * The most pixels one image may have: 50 Mpx (a 48 MP phone photo fits). Decoding one costs about
 * 4 bytes a pixel for the bitmap and as much again for its canvas copy, so ~400 MB at the limit.
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** How many leading bytes the header readers need (a JPEG's frame header may follow large EXIF/ICC segments). */
export const HEADER_BYTES = 1 << 20;

export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';
}

const u16be = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u24le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
const i32le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

function jpeg(b: Uint8Array): ImageHeader | null {
  // Segments after SOI: FF xx, then a big-endian length that counts itself. The first SOFn
  // (C0–CF except DHT C4, JPG C8, DAC CC) holds the frame's height and width.
  let o = 2;
  while (o + 9 <= b.length) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1]!;
    if (marker === 0xff) {
      o++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or start of scan: no frame header
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'jpeg', height: u16be(b, o + 5), width: u16be(b, o + 7) };
    }
    o += 2 + u16be(b, o + 2);
  }
  return null;
}

function webp(b: Uint8Array): ImageHeader | null {
  if (b.length < 30) return null;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  return null;
}

function avif(b: Uint8Array): ImageHeader | null {
  // The image spatial extents property ('ispe': version/flags, width, height) of the primary
  // item; the largest one found, so that a small thumbnail's cannot hide a huge image.
  let best: ImageHeader | null = null;
  for (let o = 4; o + 16 <= b.length; o++) {
    if (b[o] === 0x69 && b[o + 1] === 0x73 && b[o + 2] === 0x70 && b[o + 3] === 0x65) {
      const width = u32be(b, o + 8);
      const height = u32be(b, o + 12);
      if (!best || width * height > best.width * best.height) best = { format: 'avif', width, height };
    }
  }
  return best;
}

/** The format and declared size of an image from its first bytes, or null when it is none we read. */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  if (b.length >= 24 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && ascii(b, 12, 4) === 'IHDR') {
    return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (b.length >= 10 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a'))
    return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  if (b.length >= 26 && ascii(b, 0, 2) === 'BM') return { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp' && /^avi[fs]$/.test(ascii(b, 8, 4))) return avif(b);
  return null;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/**
 * Refuses an image whose header declares more than `maxPixels`, naming the file, its dimensions and
 * its size on disk (a bomb is small on disk and huge decoded: both numbers tell the story).
 */
export function checkPixelBudget(name: string, header: ImageHeader, fileBytes: number, maxPixels = MAX_IMAGE_PIXELS): void {
  const { width, height } = header;
  if (width === 0 || height === 0) throw new ImageTooLargeError(`'${name}' declares ${width}×${height} pixels: it has no pixels.`);
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(
      `'${name}' is ${width}×${height} pixels (${((width * height) / 1e6).toFixed(0)} Mpx from a ${formatBytes(fileBytes)} file): more than the ${(maxPixels / 1e6).toFixed(0)} Mpx this page decodes, so it was not decoded.`,
    );
  }
}
