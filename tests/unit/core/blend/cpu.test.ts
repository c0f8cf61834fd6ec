import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { CpuBlender, mixInto } from '../../../../src/core/blend/cpu';
import { createBlender, type TensorModule } from '../../../../src/core/blend/blender';
import type { WeightPair } from '../../../../src/core/blend/weights';
import { halvesToFloats, floatsToHalves } from '../../../../src/core/onnx/half';

const tensorModule = ort as unknown as TensorModule;

function pairs(): WeightPair[] {
  const w = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  return [
    { name: 'a', dtype: 'float32', feedDtype: 'float32', shape: [2, 3], zeroShot: w(6, (i) => i), fineTuned: w(6, (i) => -i) },
    // fp16 endpoints (exactly representable), fed as f32 on the CPU.
    { name: 'h', dtype: 'float16', feedDtype: 'float32', shape: [5], zeroShot: w(5, (i) => i / 4), fineTuned: w(5, (i) => 1 - i / 8) },
  ];
}

describe('CpuBlender', () => {
  it('is what createBlender makes without a GPU, with the SIMD kernel where wasm has it', () => {
    const b = createBlender(pairs(), {});
    expect(b).toBeInstanceOf(CpuBlender);
    expect(b.kind).toBe('cpu-simd');
    expect(b.gpuBytes).toBe(0);
  });

  it('creates its feeds once: a blend changes their contents, never their identity', () => {
    const b = createBlender(pairs(), {});
    const names = new Map([
      ['a', 'a'],
      ['h', 'h::float32'],
    ]);
    const feeds = b.feeds(tensorModule, names);
    expect(Object.keys(feeds).sort()).toEqual(['a', 'h::float32']);
    b.blend({ alpha: 0.25 });
    const before = Float32Array.from(feeds.a!.data as Float32Array);
    b.blend({ alpha: 0.75 });
    expect(b.feeds(tensorModule, names)).toBe(feeds);
    expect(feeds.a!.data).not.toEqual(before);
    const want = new Float32Array(6);
    mixInto(want, pairs()[0]!.zeroShot, pairs()[0]!.fineTuned, 0.75);
    expect(feeds.a!.data).toEqual(want);
    expect(feeds.a!.dims).toEqual([2, 3]);
  });

  it('reads θ(α) back in each checkpoint dtype: fp16 weights as fp16 bits', async () => {
    const p = pairs();
    const b = createBlender(p, {});
    b.blend({ alpha: 0.5 });
    const [a, h] = await b.readBlended();
    expect(a).toMatchObject({ name: 'a', dims: [2, 3], dtype: 'float32' });
    expect(h).toMatchObject({ name: 'h', dims: [5], dtype: 'float16' });
    expect(h!.values).toBeInstanceOf(Uint16Array);
    const want = new Float32Array(5);
    mixInto(want, p[1]!.zeroShot, p[1]!.fineTuned, 0.5);
    expect(halvesToFloats(h!.values as Uint16Array)).toEqual(halvesToFloats(floatsToHalves(want)));
  });
});
