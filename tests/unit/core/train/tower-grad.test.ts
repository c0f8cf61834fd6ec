// The hand-written backward pass of the image tower against central finite differences, in float64,
// on the bundled zero-shot checkpoint's own weights and a tiny batch (3 images, random pixels).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Tower, towerParams, TOWER_INPUT } from '../../../../src/core/train/tower';
import { typescriptRuntime } from '../../../../src/core/train/gemm';
import { erf } from '../../../../src/core/train/erf';
import { seededRandom } from '../../../../src/core/train/data';

const ZEROSHOT = readFileSync(new URL('../../../../public/pairs/shapes/zeroshot.onnx', import.meta.url));

function batch(n: number, seed: number): { pixels: Float64Array; labels: Int32Array } {
  const r = seededRandom(seed);
  const pixels = Float64Array.from({ length: n * 3 * TOWER_INPUT ** 2 }, () => (r() - 0.5) * 4);
  return { pixels, labels: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10) };
}

describe('erf', () => {
  it('matches reference values to 1e-14 across the series, fraction and saturated ranges', () => {
    // Values from Python's math.erf (C99 erf, correctly rounded to ~1 ulp).
    const ref: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3.1, 0.9999883513426328],
      [4, 0.9999999845827421],
      [-1.5, -0.9661051464753108],
      [7, 1],
    ];
    for (const [x, want] of ref) expect(Math.abs(erf(x) - want), `erf(${x})`).toBeLessThan(1e-14);
  });
});

describe('the tower backward pass against central finite differences (float64)', () => {
  const params = towerParams(ZEROSHOT, Float64Array);
  const tower = new Tower(params, typescriptRuntime(Float64Array));
  const { pixels, labels } = batch(3, 5);
  const loss = () => tower.forward(pixels, labels, 3).loss;
  tower.forward(pixels, labels, 3);
  tower.backward();
  const grads = new Map(params.map((p) => [p.name, Float64Array.from(p.grad)]));
  // h = 1e-5 in float64: the central difference's truncation error is O(h²·L''') ≈ 1e-10 and its
  // rounding error ≈ 1e-16·|L|/h ≈ 1e-11, both far below the 1e-6 relative bound checked.
  const h = 1e-5;
  const central = (p: { value: Float64Array | Float32Array }, dir: Float64Array) => {
    const orig = Float64Array.from(p.value);
    dir.forEach((d, i) => (p.value[i] = orig[i]! + h * d));
    const up = loss();
    dir.forEach((d, i) => (p.value[i] = orig[i]! - h * d));
    const down = loss();
    p.value.set(orig);
    return (up - down) / (2 * h);
  };

  it.each(params.map((p) => [p.name]))('%s: along a random direction and at 3 single entries, to 1e-6 relative', (name) => {
    const p = params.find((x) => x.name === name)!;
    const g = grads.get(name)!;
    const r = seededRandom(name.length * 31 + 7);
    const dir = Float64Array.from({ length: g.length }, () => r() * 2 - 1);
    const want = g.reduce((s, gi, i) => s + gi * dir[i]!, 0);
    const got = central(p, dir);
    expect(Math.abs(got - want), `${name}: ${got} vs ${want}`).toBeLessThan(1e-6 * Math.abs(want) + 1e-12);
    let largest = 0;
    g.forEach((v, i) => (Math.abs(v) > Math.abs(g[largest]!) ? (largest = i) : 0));
    for (const i of [largest, Math.floor(r() * g.length), Math.floor(r() * g.length)]) {
      const one = new Float64Array(g.length);
      one[i] = 1;
      const fd = central(p, one);
      expect(Math.abs(fd - g[i]!), `${name}[${i}]: ${fd} vs ${g[i]}`).toBeLessThan(1e-6 * Math.abs(g[i]!) + 1e-10);
    }
  });
});

describe('micro-batches (finetune.ts splits a batch into them)', () => {
  it("give the batch's loss and gradient, weighted by their share, to 1e-12 in float64", () => {
    const params = towerParams(ZEROSHOT, Float64Array);
    const tower = new Tower(params, typescriptRuntime(Float64Array));
    const { pixels, labels } = batch(5, 9);
    const whole = tower.forward(pixels, labels, 5).loss;
    tower.backward();
    const want = params.map((p) => Float64Array.from(p.grad));
    const per = 3 * TOWER_INPUT ** 2;
    const sum = params.map((p) => new Float64Array(p.grad.length));
    let loss = 0;
    for (const [a, b] of [
      [0, 3],
      [3, 5],
    ] as const) {
      loss += (tower.forward(pixels.subarray(a * per, b * per), labels.subarray(a, b), b - a).loss * (b - a)) / 5;
      tower.backward();
      params.forEach((p, i) => p.grad.forEach((g, j) => (sum[i]![j] = sum[i]![j]! + (g * (b - a)) / 5)));
    }
    expect(Math.abs(loss - whole)).toBeLessThan(1e-12);
    want.forEach((w, i) => w.forEach((g, j) => expect(Math.abs(sum[i]![j]! - g)).toBeLessThan(1e-12 + 1e-9 * Math.abs(g))));
  });
});
