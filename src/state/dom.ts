// The two browser chores of the state layer: a file download and a thumbnail. Kept here so the
// controllers stay testable in Node (their tests never reach these with a real page).

export function downloadBlob(blob: Blob, filename: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.click();
  // The download has started by then; the URL can go.
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The model's input crop (RGB, size × size) as a data URL, for the upload's thumbnail. */
export function rgbToDataUrl(rgb: Uint8Array, size: number): string | null {
  if (!size) return null;
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0, j = 0; i < size * size; i++, j += 3) {
    rgba[i * 4] = rgb[j]!;
    rgba[i * 4 + 1] = rgb[j + 1]!;
    rgba[i * 4 + 2] = rgb[j + 2]!;
    rgba[i * 4 + 3] = 255;
  }
  return rgbaToDataUrl(rgba, size);
}

/** An RGBA image (size × size × 4 bytes, from the engine) as a data URL, for an eval thumbnail. */
export function rgbaToDataUrl(rgba: Uint8Array, size: number): string | null {
  if (!size || typeof document === 'undefined') return null;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(size, size);
  img.data.set(rgba.subarray(0, size * size * 4));
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}
