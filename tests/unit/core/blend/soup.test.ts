// The K-member blend θ = Σₖ wₖ·θₖ on the CPU, against a float64 blend written here: the wasm SIMD
// kernel and the JS loop, any K, per-tensor coefficients, and endpoints that are the members bit
// for bit.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mixMembersInto, mixInto, type CpuBlender } from '../../../../src/core/blend/cpu';
import {
  createBlender,
  coefficientMatrix,
  coefficientsKey,
  BlendCoefficientsError,
  type BlendCoefficients,
} from '../../../../src/core/blend/blender';
import { soupModuleBytes } from '../../../../src/core/blend/mixKernel';
import type { WeightMembers } from '../../../../src/core/blend/weights';

/** Σₖ wₖ·θₖ in float64, then one rounding; written apart from the code under test. */
function reference(members: readonly Float32Array[], w: readonly number[], n = members[0]!.length): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < out.length; i++) {
    // The first term starts the sum, as a sum of products should: 0 + (−0) would be +0.
    let s = members.length > 0 ? w[0]! * members[0]![i]! : 0;
    for (let m = 1; m < members.length; m++) s += w[m]! * members[m]![i]!;
    out[i] = s;
  }
  return out;
}

/** |got − want| within 1e-6 of the terms' magnitude Σ|wₖθₖ| (the sum itself may cancel to ~0). */
function relativeGap(got: Float32Array, members: readonly Float32Array[], w: readonly number[]): number {
  const want = reference(members, w);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    let scale = 0;
    for (let m = 0; m < members.length; m++) scale += Math.abs(w[m]! * members[m]![i]!);
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(scale, 1e-30));
  }
  return worst;
}

const bits = (a: Float32Array) => new Uint32Array(Float32Array.from(a).buffer);

function tensor(name: string, members: Float32Array[]): WeightMembers {
  return { name, dtype: 'float32', feedDtype: 'float32', shape: [members[0]!.length], members };
}

const floats = (n: number) => fc.float32Array({ minLength: n, maxLength: n, noDefaultInfinity: true, noNaN: true, min: -1e6, max: 1e6 });

/** K members of tensors of the given lengths (not multiples of 4 where it matters). */
const soupArb = fc
  .record({ k: fc.integer({ min: 2, max: 5 }), lengths: fc.array(fc.integer({ min: 1, max: 41 }), { minLength: 1, maxLength: 4 }) })
  .chain(({ k, lengths }) =>
    fc.record({
      k: fc.constant(k),
      members: fc.tuple(...lengths.map((n) => fc.array(floats(n), { minLength: k, maxLength: k }))),
      uniform: fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: k, maxLength: k }),
      perTensor: fc.array(fc.option(fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: k, maxLength: k })), {
        minLength: lengths.length,
        maxLength: lengths.length,
      }),
    }),
  );

describe('coefficientMatrix', () => {
  it('expands α to [1 − α, α], weights to every tensor, and per-tensor overrides to their rows', () => {
    expect([...coefficientMatrix({ alpha: 0.25 }, ['a', 'b'], 2)]).toEqual([0.75, 0.25, 0.75, 0.25]);
    expect([...coefficientMatrix({ alpha: 0.25, perTensor: { b: 1 } }, ['a', 'b'], 2)]).toEqual([0.75, 0.25, 0, 1]);
    expect([...coefficientMatrix({ weights: [0.2, 0.3, 0.5], perTensor: { a: [1, 0, 0] } }, ['a', 'b'], 3)]).toEqual([
      1, 0, 0, 0.2, 0.3, 0.5,
    ]);
  });

  it('refuses a wrong K, an α for three members, a tensor it does not blend and weights that are not finite', () => {
    expect(() => coefficientMatrix({ weights: [0.5, 0.5] }, ['a'], 3)).toThrow(BlendCoefficientsError);
    expect(() => coefficientMatrix({ alpha: 0.5 }, ['a'], 3)).toThrow(/an α mixes two members, but this blend has 3/);
    expect(() => coefficientMatrix({ alpha: 0.5, perTensor: { typo: 1 } }, ['a'], 2)).toThrow(/'typo', which is not a blended tensor/);
    expect(() => coefficientMatrix({ weights: [NaN, 1] }, ['a'], 2)).toThrow(/finite/);
  });

  it('keys coefficients by what they blend to, whatever the order of the overrides', () => {
    const a: BlendCoefficients = { alpha: 0.5, perTensor: { x: 0.1, y: 0.2 } };
    const b: BlendCoefficients = { alpha: 0.5, perTensor: { y: 0.2, x: 0.1 } };
    expect(coefficientsKey(a)).toBe(coefficientsKey(b));
    expect(coefficientsKey(a)).not.toBe(coefficientsKey({ alpha: 0.5 }));
  });
});

describe('the K-member blend on the CPU', () => {
  it('assembles a valid soup kernel for K = 1 … 8', () => {
    for (let k = 1; k <= 8; k++) expect(WebAssembly.validate(soupModuleBytes(k)), `K=${k}`).toBe(true);
  });

  it('the SIMD kernel and the JS loop equal the float64 blend rounded once, bit for bit, over random K, tensors and per-tensor coefficients', () => {
    fc.assert(
      fc.property(soupArb, ({ k, members, uniform, perTensor }) => {
        const copy = () =>
          members.map((ms, t) =>
            tensor(
              `t${t}`,
              ms.map((m) => Float32Array.from(m)),
            ),
          );
        const simd = createBlender(copy(), {}) as CpuBlender;
        expect(simd.kind).toBe('cpu-simd');
        const per: Record<string, number[]> = {};
        perTensor.forEach((w, t) => {
          if (w) per[`t${t}`] = w;
        });
        const c: BlendCoefficients = { weights: uniform, perTensor: per };
        simd.blend(c);
        members.forEach((ms, t) => {
          const w = per[`t${t}`] ?? uniform;
          const used = w.map((x, m) => [x, m] as const).filter(([x]) => x !== 0);
          // Zero weights are left out of the sum (so all-zero weights give +0 everywhere).
          const want = Float32Array.from(
            reference(
              used.map(([, m]) => ms[m]!),
              used.map(([x]) => x),
              ms[0]!.length,
            ),
          );
          const loop = new Float32Array(ms[0]!.length);
          mixMembersInto(loop, ms, w);
          expect(bits(simd.outputs.get(`t${t}`)!), `tensor ${t}, K=${k}`).toEqual(bits(want));
          expect(bits(loop)).toEqual(bits(want));
          expect(relativeGap(simd.outputs.get(`t${t}`)!, ms, w)).toBeLessThanOrEqual(1e-6);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('gives each member bit for bit for a one-hot vector, −0 and unused Inf included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 37 }), fc.nat(), (k, n, pick) => {
        const members = Array.from({ length: k }, (_, m) =>
          Float32Array.from({ length: n }, (_, i) =>
            i === 0 ? -0 : i === 1 && m !== pick % k ? Infinity : Math.fround(Math.sin(m * 31 + i) * 10),
          ),
        );
        const j = pick % k;
        const w = Array.from({ length: k }, (_, m) => (m === j ? 1 : 0));
        const b = createBlender(
          [
            tensor(
              'w',
              members.map((m) => Float32Array.from(m)),
            ),
          ],
          {},
        ) as CpuBlender;
        b.blend({ weights: w });
        expect(bits(b.outputs.get('w')!)).toEqual(bits(members[j]!));
        const loop = new Float32Array(n);
        mixMembersInto(loop, members, w);
        expect(bits(loop)).toEqual(bits(members[j]!));
      }),
      { numRuns: 100 },
    );
  });

  it('keeps { alpha } the pair it always was: mixInto bit for bit inside (0, 1), the endpoints exactly', () => {
    const n = 1003;
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 3);
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 78.233) * 2);
    const blender = createBlender(
      [{ name: 'w', dtype: 'float32', feedDtype: 'float32', shape: [n], zeroShot: Float32Array.from(a), fineTuned: Float32Array.from(b) }],
      {},
    ) as CpuBlender;
    for (const alpha of [0.1, 0.3, 0.5, 0.77]) {
      blender.blend({ alpha });
      const want = new Float32Array(n);
      mixInto(want, a, b, alpha);
      expect(bits(blender.outputs.get('w')!), `α=${alpha}`).toEqual(bits(want));
    }
    blender.blend({ alpha: 0 });
    expect(bits(blender.outputs.get('w')!)).toEqual(bits(a));
    blender.blend({ alpha: 1 });
    expect(bits(blender.outputs.get('w')!)).toEqual(bits(b));
  });

  it('gives per-layer α: a tensor overridden to 0 is θ₀, the others the uniform blend', () => {
    const m = (f: (i: number) => number) => Float32Array.from({ length: 8 }, (_, i) => f(i));
    const blender = createBlender(
      [tensor('head', [m((i) => i), m((i) => -i)]), tensor('body', [m((i) => i / 3), m((i) => 2 - i)])],
      {},
    ) as CpuBlender;
    blender.blend({ alpha: 0.6, perTensor: { head: 0 } });
    expect(blender.outputs.get('head')).toEqual(m((i) => i));
    const want = new Float32Array(8);
    mixInto(
      want,
      m((i) => i / 3),
      m((i) => 2 - i),
      0.6,
    );
    expect(blender.outputs.get('body')).toEqual(want);
  });

  it('refuses tensors with different numbers of members', () => {
    const one = new Float32Array(4);
    expect(() => createBlender([tensor('a', [one, one]), tensor('b', [one, one, one])], {})).toThrow(/3 members, the first tensor 2/);
  });
});
