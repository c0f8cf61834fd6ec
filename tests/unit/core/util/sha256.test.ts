import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Sha256 } from '../../../../src/core/util/sha256';
import { sha256Hex } from '../../../../src/core/util/hash';

/** `bytes` cut at `cuts` (any positions, in any order), as a stream would deliver it. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.byteLength]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

describe('Sha256 (hash-wasm) fed chunk by chunk', () => {
  it('gives the FIPS 180-4 digests of "", "abc" and the 448-bit message', async () => {
    const hex = async (s: string) => (await Sha256.create()).update(new TextEncoder().encode(s)).hex();
    expect(await hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('equals crypto.subtle over the whole buffer for any length and any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), async (bytes, cuts) => {
        const h = await Sha256.create();
        for (const c of chunked(bytes, cuts)) h.update(c);
        expect(h.hex()).toBe(await sha256Hex(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('equals the one-shot digest for a multi-megabyte input fed in uneven chunks', async () => {
    // Past hash-wasm's 16 KiB staging buffer, so its own chunking is crossed too.
    const bytes = Uint8Array.from({ length: 3 * 2 ** 20 + 77 }, (_, i) => (i * 2654435761) >>> 24);
    const h = await Sha256.create();
    for (let at = 0, n = 1; at < bytes.byteLength; at += n, n = (n * 7 + 13) % 200_003) h.update(bytes.subarray(at, at + n));
    expect(h.hex()).toBe(await sha256Hex(bytes));
  });

  it('keeps separate hashes apart when they are fed interleaved', async () => {
    const [a, b] = await Promise.all([Sha256.create(), Sha256.create()]);
    a.update(new TextEncoder().encode('ab'));
    b.update(new TextEncoder().encode('x'));
    a.update(new TextEncoder().encode('c'));
    expect(a.hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(b.hex()).toBe(await sha256Hex(new TextEncoder().encode('x')));
  });

  it('takes no input after its digest, and gives its digest once', async () => {
    const h = await Sha256.create();
    h.hex();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
    expect(() => h.hex()).toThrow(/twice/);
  });
});
