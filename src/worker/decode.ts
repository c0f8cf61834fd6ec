// Decoding uploads in the Worker: createImageBitmap decodes every format the browser knows;
// the pixels then go through the exact CLIP preprocessing in core/image.
import { resizeAndCrop, rgbaToRgb } from '../core/image/resize';

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

export async function decodeToModelInput(blob: Blob, name: string, size: number, mode: 'bicubic' | 'bilinear'): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new ImageDecodeError(`'${name}' is not an image this browser can decode${blob.type ? ` (type ${blob.type})` : ''}.`);
  }
  const { width, height } = bitmap;
  if (width === 0 || height === 0) throw new ImageDecodeError(`'${name}' has no pixels.`);
  if (width * height > 80e6) throw new ImageDecodeError(`'${name}' is too large (${width}×${height}).`);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = resizeAndCrop(rgbaToRgb(rgba, width, height), size, mode);
  return { rgb: rgb.data, width, height };
}
