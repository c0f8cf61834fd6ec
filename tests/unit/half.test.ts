import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { halfToFloat, floatToHalf, halvesToFloats } from '../../src/core/onnx/half';

describe('binary16 conversion', () => {
  it('round-trips every finite half exactly, and the table agrees with the scalar decoder', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const wide = halvesToFloats(all);
    for (let i = 0; i < 65536; i++) {
      const v = halfToFloat(i);
      if (Number.isNaN(v)) expect(Number.isNaN(wide[i]!)).toBe(true);
      else {
        expect(wide[i]).toBe(v);
        expect(floatToHalf(v)).toBe(i);
      }
    }
  });

  it('rounds floats to the nearest half, ties to even (as numpy does)', () => {
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even (1.0)
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (1 + 2^-9)
    expect(floatToHalf(65520)).toBe(0x7c00); // overflows to infinity
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const h = halfToFloat(floatToHalf(x));
        const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -14))) - 10);
        return Math.abs(h - x) <= ulp / 2 + 1e-12;
      }),
      { numRuns: 5000 },
    );
  });
});
