// Decoding uploads and eval-folder images in the Worker: the header is read first and an image over
// the pixel budget is refused before anything is decoded (a 1 MB PNG can declare 20000×20000 pixels
// and cost gigabytes once decoded); then createImageBitmap decodes every format the browser knows,
// one image at a time, and the pixels go through the exact CLIP preprocessing in core/image.
import { resizeAndCrop, rgbaToRgb } from '../core/image/resize';
import { readImageHeader, checkPixelBudget, formatBytes, HEADER_BYTES, MAX_IMAGE_PIXELS, ImageTooLargeError } from '../core/image/header';

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** No image file this page decodes is larger on disk (a 50 Mpx photo is a few tens of MB). */
export const MAX_IMAGE_FILE_BYTES = 200 * 2 ** 20;

// One decode at a time: four uploads decoded at once used to peak at four times one image's memory.
let queue: Promise<unknown> = Promise.resolve();

export function decodeToModelInput(
  blob: Blob,
  name: string,
  size: number,
  mode: 'bicubic' | 'bilinear',
): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const run = queue.then(() => decodeOne(blob, name, size, mode));
  queue = run.catch(() => undefined);
  return run;
}

async function decodeOne(
  blob: Blob,
  name: string,
  size: number,
  mode: 'bicubic' | 'bilinear',
): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const head = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  let header = readImageHeader(head);
  // A JPEG's frame header can follow more than HEADER_BYTES of metadata: then the whole file is read
  // (bounded below), never decoded, to find it.
  if (!header && head[0] === 0xff && head[1] === 0xd8 && blob.size > HEADER_BYTES && blob.size <= MAX_IMAGE_FILE_BYTES) {
    header = readImageHeader(new Uint8Array(await blob.arrayBuffer()));
  }
  if (!header) throw new ImageDecodeError(`'${name}' is not an image this browser can decode${blob.type ? ` (type ${blob.type})` : ''}.`);
  if (blob.size > MAX_IMAGE_FILE_BYTES)
    throw new ImageDecodeError(
      `'${name}' is ${formatBytes(blob.size)}, more than the ${formatBytes(MAX_IMAGE_FILE_BYTES)} an image file may be here; it was not decoded.`,
    );
  try {
    checkPixelBudget(name, header, blob.size);
  } catch (e) {
    if (e instanceof ImageTooLargeError) throw new ImageDecodeError(e.message);
    throw e;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new ImageDecodeError(`'${name}' is not an image this browser can decode${blob.type ? ` (type ${blob.type})` : ''}.`);
  }
  const { width, height } = bitmap;
  if (width === 0 || height === 0) throw new ImageDecodeError(`'${name}' has no pixels.`);
  // The header said otherwise (a GIF frame larger than its screen, say): refuse before the canvas copy.
  if (width * height > MAX_IMAGE_PIXELS) {
    bitmap.close();
    throw new ImageDecodeError(
      `'${name}' decodes to ${width}×${height} pixels, more than the ${MAX_IMAGE_PIXELS / 1e6} Mpx this page handles.`,
    );
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = resizeAndCrop(rgbaToRgb(rgba, width, height), size, mode);
  return { rgb: rgb.data, width, height };
}
