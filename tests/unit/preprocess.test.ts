import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { resizeAndCrop, resize, type RgbImage } from '../../src/core/image/resize';

const DIR = 'tests/fixtures/preprocess';

function png(path: string): RgbImage {
  const img = decode(readFileSync(path));
  const ch = img.channels;
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = (img.data as Uint8Array)[i * ch + c]!;
  return { width: img.width, height: img.height, data };
}

describe('CLIP preprocessing (Resize(224, bicubic) + CenterCrop(224), as torchvision on PIL)', () => {
  it.each(['landscape', 'portrait'])('reproduces torchvision bit-exactly on the %s fixture (same decoded pixels)', (name) => {
    const src = png(`${DIR}/${name}.decoded.png`);
    const want = png(`${DIR}/${name}.expected.png`);
    const got = resizeAndCrop(src, 224, 'bicubic');
    expect([got.width, got.height]).toEqual([224, 224]);
    let worst = 0;
    let differing = 0;
    for (let i = 0; i < got.data.length; i++) {
      const d = Math.abs(got.data[i]! - want.data[i]!);
      worst = Math.max(worst, d);
      if (d) differing++;
    }
    expect(worst, `${differing} values differ`).toBe(0);
  });

  it('leaves an image already at the size unchanged, and keeps a constant image constant', () => {
    const data = new Uint8Array(224 * 224 * 3).map((_, i) => (i * 7) % 256);
    expect(resizeAndCrop({ width: 224, height: 224, data }, 224).data).toEqual(data);
    const flat = resize({ width: 300, height: 200, data: new Uint8Array(300 * 200 * 3).fill(77) }, 150, 100);
    expect(new Set(flat.data)).toEqual(new Set([77]));
  });
});
