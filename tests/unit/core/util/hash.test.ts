import { describe, it, expect } from 'vitest';
import { sha256Hex, combineHashes } from '../../../../src/core/util/hash';

describe('hash helpers', () => {
  it('sha256Hex gives the standard digest', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('combineHashes is the first 16 hex digits of the sha256 of the parts joined by ":"', async () => {
    const want = (await sha256Hex(new TextEncoder().encode('x:y'))).slice(0, 16);
    expect(await combineHashes(['x', 'y'])).toBe(want);
    expect(await combineHashes(['y', 'x'])).not.toBe(want);
  });
});
