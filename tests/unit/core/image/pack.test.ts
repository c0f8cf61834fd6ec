import { describe, it, expect } from 'vitest';
import { packRgb } from '../../../../src/core/image/pack';

describe('packRgb', () => {
  it('lays images end to end, and names the one of the wrong size', () => {
    const a = new Uint8Array(12).fill(1);
    const b = new Uint8Array(12).fill(2);
    expect(packRgb([a, b], 2, (i) => `image ${i}`)).toEqual(new Uint8Array([...a, ...b]));
    expect(() => packRgb([a, new Uint8Array(11)], 2, (i) => `upload ${i}`)).toThrow('upload 1 is not 2×2 RGB');
  });
});
