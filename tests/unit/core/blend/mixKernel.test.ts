import { describe, it, expect } from 'vitest';
import { blendModuleBytes, mixModuleBytes } from '../../../../src/core/blend/mixKernel';
import { wasmArena } from '../../../../src/core/blend/arena';
import { mixInto } from '../../../../src/core/blend/cpu';

// The module the CPU blender embedded as base64 before its assembler moved out of bench/: the
// kernel every recorded benchmark and browser test ran.
const SHIPPED =
  'AGFzbQEAAAABCQFgBX9/f398AAIIAQFlAW0CAAEDAgEABwcBA21peAAACtIBAc8BAwJ7AX8CeyAE/RQhBUQAAAAAAADwPyAEof0UIQYgACADQQJ0aiEHAkAgACAHTw0AA0AgACAB/QAEACEIIAL9AAQAIQkgCP1fIAb98gEgCf1fIAX98gH98AH9XiAIIAj9DQgJCgsMDQ4PCAkKCwwNDg/9XyAG/fIBIAkgCf0NCAkKCwwNDg8ICQoLDA0OD/1fIAX98gH98AH9Xv0NAAECAwQFBgcQERITFBUWF/0LBAAgAEEQaiEAIAFBEGohASACQRBqIQIgACAHSQ0ACwsL';

describe('the wasm blend kernel', () => {
  it('assembles to the module that shipped', () => {
    expect(Buffer.from(blendModuleBytes()).toString('base64')).toBe(SHIPPED);
  });

  it('validates with both kernels, as the benchmark builds it', () => {
    expect(
      WebAssembly.validate(
        mixModuleBytes([
          { name: 'exact', exact: true },
          { name: 'fast', exact: false },
        ]),
      ),
    ).toBe(true);
  });

  it('writes θ(α) bit-equal to mixInto, endpoints exact, over a length that is not a multiple of 4', () => {
    const n = 1003;
    const arena = wasmArena([{ name: 'w', count: n }])!;
    expect(arena).not.toBeNull();
    const a = arena.alloc('w', 0, n);
    const b = arena.alloc('w', 1, n);
    for (let i = 0; i < n; i++) {
      a[i] = Math.sin(i * 12.9898) * 3;
      b[i] = Math.cos(i * 78.233) * 2;
    }
    const slot = arena.at.get('w')!;
    const got = new Float32Array(arena.memory.buffer, slot.out, n);
    for (const alpha of [0, 0.1, 0.3, 0.5, 0.77, 1]) {
      arena.mix(slot.out, slot.a, slot.b, slot.n, alpha);
      const want = new Float32Array(n);
      mixInto(want, a, b, alpha);
      expect(new Uint32Array(got.slice().buffer), `α=${alpha}`).toEqual(new Uint32Array(want.buffer));
    }
    arena.mix(slot.out, slot.a, slot.b, slot.n, 0);
    expect(got).toEqual(a);
    arena.mix(slot.out, slot.a, slot.b, slot.n, 1);
    expect(got).toEqual(b);
  });
});
