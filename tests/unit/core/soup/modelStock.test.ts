// Model Stock against a reference written from the paper in float64 arrays: per layer, the cosine
// of the flattened deltas averaged over pairs, t = k·cos/(1 + (k − 1)·cos), and θ_ms computed
// directly, compared with the blend the coefficients describe.
import { describe, it, expect } from 'vitest';
import { modelStock, stockRatio, groupCosine } from '../../../../src/core/soup/modelStock';
import { coefficientMatrix } from '../../../../src/core/blend/coefficients';

type Model = Record<string, number[]>;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** θ_ms per tensor, straight from the paper's formula, in float64. */
function referenceStock(groups: { id: string; tensors: string[] }[], zero: Model, fts: Model[]): Model {
  const out: Model = {};
  for (const g of groups) {
    const flat = (m: Model) => g.tensors.flatMap((n) => m[n]!.map((v, i) => v - zero[n]![i]!));
    const deltas = fts.map(flat);
    const cosines: number[] = [];
    for (let i = 0; i < deltas.length; i++)
      for (let j = i + 1; j < deltas.length; j++) {
        const dot = deltas[i]!.reduce((s, v, x) => s + v * deltas[j]![x]!, 0);
        const norm = (d: number[]) => Math.hypot(...d);
        cosines.push(dot / (norm(deltas[i]!) * norm(deltas[j]!)));
      }
    const cos = cosines.reduce((a, b) => a + b, 0) / cosines.length;
    const k = fts.length;
    const t = (k * cos) / (1 + (k - 1) * cos);
    for (const n of g.tensors) out[n] = zero[n]!.map((z, i) => t * (fts.reduce((s, m) => s + m[n]![i]!, 0) / k) + (1 - t) * z);
  }
  return out;
}

function makeModels(seed: number, k: number): { zero: Model; fts: Model[] } {
  const r = rng(seed);
  const shape = { a: 12, b: 5, c: 30 };
  const zero: Model = Object.fromEntries(Object.entries(shape).map(([n, len]) => [n, Array.from({ length: len }, r)]));
  // A shared direction plus member noise: cosines between 0 and 1, as fine-tuning runs from one start give.
  const shared: Model = Object.fromEntries(Object.entries(shape).map(([n, len]) => [n, Array.from({ length: len }, () => 0.3 * r())]));
  const fts = Array.from({ length: k }, () =>
    Object.fromEntries(Object.entries(zero).map(([n, z]) => [n, z.map((v, i) => v + shared[n]![i]! + 0.2 * r())])),
  );
  return { zero, fts };
}

describe('modelStock', () => {
  const groups = [
    { id: 'early', tensors: ['a', 'b'] },
    { id: 'late', tensors: ['c'] },
  ];

  it.each([2, 3, 5])('gives blend coefficients equal to the paper’s θ_ms within 1e-6 (k = %i)', (k) => {
    const { zero, fts } = makeModels(7 + k, k);
    const all = [zero, ...fts];
    const weightsOf = (m: number) => (name: string) => Float32Array.from(all[m]![name]!);
    // The members are stored in float32, as the engine holds them: the reference sees the same numbers.
    const f32 = (m: Model): Model => Object.fromEntries(Object.entries(m).map(([n, v]) => [n, Array.from(Float32Array.from(v))]));
    const want = referenceStock(groups, f32(zero), fts.map(f32));
    const members = fts.map((_, i) => i + 1);
    const { layers, coefficients } = modelStock(groups, weightsOf, members, k + 1);
    const names = ['a', 'b', 'c'];
    const matrix = coefficientMatrix(coefficients, names, k + 1);
    names.forEach((n, t) => {
      const got = all[0]![n]!.map((_, i) => all.reduce((s, m, j) => s + matrix[t * (k + 1) + j]! * Math.fround(m[n]![i]!), 0));
      got.forEach((v, i) => expect(Math.abs(v - want[n]![i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[n]![i]!))));
    });
    for (const l of layers) expect(l.cos).toBeGreaterThan(0);
  });

  it('stocks only the members named, leaving the others at 0', () => {
    const { zero, fts } = makeModels(3, 3);
    const all = [zero, ...fts];
    const weightsOf = (m: number) => (name: string) => Float32Array.from(all[m]![name]!);
    const { coefficients } = modelStock(groups, weightsOf, [1, 3], 4);
    const row = coefficients.perTensor!['c'] as number[];
    expect(row[2]).toBe(0);
    expect(row[1]).toBe(row[3]);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('has t = 1 for parallel deltas and t = 0 for orthogonal ones', () => {
    expect(stockRatio(1, 2)).toBe(1);
    expect(stockRatio(0, 4)).toBe(0);
    const zero = () => new Float32Array([0, 0]);
    const g = { id: 'g', tensors: ['x'] };
    expect(groupCosine(g, zero, [() => new Float32Array([1, 0]), () => new Float32Array([0, 2])])).toBe(0);
    expect(groupCosine(g, zero, [() => new Float32Array([1, 0]), () => new Float32Array([0, 0])])).toBeNull();
  });
});
