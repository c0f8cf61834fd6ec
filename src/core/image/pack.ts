/**
 * Images (RGB, HWC, `size`×`size` each) packed into one buffer, for one normalisation pass.
 * `what(i)` names the image in the error: a set's image or an upload.
 */
export function packRgb(images: readonly Uint8Array[], size: number, what: (i: number) => string): Uint8Array {
  const each = size * size * 3;
  const pixels = new Uint8Array(images.length * each);
  images.forEach((img, i) => {
    if (img.length !== each) throw new Error(`${what(i)} is not ${size}×${size} RGB`);
    pixels.set(img, i * each);
  });
  return pixels;
}
