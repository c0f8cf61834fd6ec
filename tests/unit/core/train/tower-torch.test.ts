// The tower's gradients against PyTorch's autograd on a fixed batch: tools/grad_fixture.py computes
// the loss and every parameter's gradient of the bundled zero-shot classifier on the first 16 images
// of the bundled reference set, in float64, and writes tests/fixtures/tower-grad/.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Tower, towerParams } from '../../../../src/core/train/tower';
import { decodeSprite, normalizeBatch } from '../../../../src/core/eval/sprites';
import type { Manifest } from '../../../../src/core/bundle/manifest';
import { typescriptRuntime, wasmRuntime, type TowerRuntime } from '../../../../src/core/train/gemm';

const at = (p: string) => new URL(`../../../../${p}`, import.meta.url);
const fixture = JSON.parse(readFileSync(at('tests/fixtures/tower-grad/zeroshot-reference16.json'), 'utf8')) as {
  count: number;
  labels: number[];
  loss: number;
  tensors: { name: string; shape: number[]; offset: number }[];
};
const bin = readFileSync(at('tests/fixtures/tower-grad/zeroshot-reference16.bin'));
const torchGrads = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
const manifest = JSON.parse(readFileSync(at('public/pairs/shapes/manifest.json'), 'utf8')) as Manifest;
const spec = manifest.eval!.sets.find((s) => s.id === 'reference')!;
const set = decodeSprite(spec, readFileSync(at(`public/pairs/shapes/${spec.sprite.path}`)));
const pixels = normalizeBatch(set, 0, fixture.count, manifest.preprocess);
const labels = Int32Array.from(fixture.labels);

/** ‖a − b‖ / ‖b‖ over a whole tensor. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / n);
}

function run(runtime: TowerRuntime) {
  const params = towerParams(readFileSync(at('public/pairs/shapes/zeroshot.onnx')), runtime.F);
  const tower = new Tower(params, runtime);
  const { loss } = tower.forward(pixels, labels, fixture.count);
  tower.backward();
  return { loss, params: new Map(params.map((p) => [p.name, p])) };
}

describe('the tower against PyTorch on the first 16 reference images', () => {
  it('uses the labels the manifest gives those images', () => {
    expect(Array.from(set.labels.subarray(0, fixture.count))).toEqual(fixture.labels);
  });

  // float64 here and in torch from the same float32 weights and pixels: only summation order
  // differs. The fixture stores the gradients as float32 (6e-8 relative per value), so that is the
  // floor: measured 3–6e-8 per tensor, bound 2e-7. float32 (the training path, in TypeScript or the SIMD kernel) accumulates rounding
  // over sums of up to 16,384 products: measured 4–9e-7 per tensor, bound 1e-5. A wrong term in any
  // backward formula moves a tensor's gradient by far more (the finite-difference test's sizes).
  it.each([
    { precision: 'float64 TypeScript', runtime: () => typescriptRuntime(Float64Array), lossBound: 1e-9, gradBound: 2e-7 },
    { precision: 'float32 TypeScript', runtime: () => typescriptRuntime(Float32Array), lossBound: 1e-6, gradBound: 1e-5 },
    { precision: 'float32 WebAssembly SIMD', runtime: () => wasmRuntime()!, lossBound: 1e-6, gradBound: 1e-5 },
  ] as const)(
    'in $precision: the loss within $lossBound and every gradient within $gradBound (‖Δ‖/‖g‖)',
    ({ runtime, lossBound, gradBound }) => {
      const got = run(runtime());
      expect(Math.abs(got.loss - fixture.loss)).toBeLessThan(lossBound * fixture.loss);
      expect(got.params.size).toBe(fixture.tensors.length);
      for (const t of fixture.tensors) {
        const p = got.params.get(t.name);
        expect(p, t.name).toBeDefined();
        expect(p!.shape).toEqual(t.shape);
        const want = torchGrads.subarray(t.offset, t.offset + p!.grad.length);
        const err = relativeError(p!.grad, want);
        expect(err, `${t.name}: ‖Δ‖/‖g‖ = ${err}`).toBeLessThan(gradBound);
      }
    },
  );
});
