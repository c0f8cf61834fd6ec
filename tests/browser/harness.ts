// Browser-side half of the engine tests: builds the test pair in the page, runs the real engine
// on onnxruntime-web (wasm or WebGPU EP) and an independently blended model, returns the numbers.
import { BlendEngine, type Backend } from '../../src/core/runtime/engine';
import { ortWeb } from '../../src/core/runtime/ort-web';
import { requestGpu, type GpuInfo } from '../../src/core/gpu/device';
import { decodeToModelInput } from '../../src/worker/decode';
import { GpuBlender, GpuBufferLimitError } from '../../src/core/gpu/blend';
import { ResourceLedger } from '../../src/core/runtime/ledger';
import { decode } from 'fast-png';
import {
  buildTestModel,
  randomWeights,
  perturb,
  blendWeights,
  randomImages,
  maxAbsDiff,
  roundToHalf,
  IMAGE_DIMS,
  type Weights,
} from '../support/testPair';

const BATCH = 6;

export interface EngineCheck {
  alphas: number[];
  maxAbsDiff: number[];
  endpointGap: number;
  exportDiff: number;
  gpu: GpuInfo | null;
  blendedTensors: number;
}

async function engineCheck(backend: Exclude<Backend, 'cpu'>, fp16: boolean, alphas: number[]): Promise<EngineCheck> {
  const round = (w: Weights) => (fp16 ? roundToHalf(w) : w);
  const w0 = round(randomWeights(1));
  const w1 = round(perturb(w0, 2));
  const images = randomImages(BATCH, 3);
  const input = { data: images, dims: [BATCH, ...IMAGE_DIMS] };
  const gpu = backend === 'webgpu' ? await requestGpu() : null;
  const engine = await BlendEngine.create(buildTestModel(w0, { fp16 }), buildTestModel(w1, { fp16 }), {
    ort: ortWeb,
    backend,
    device: gpu?.device,
  });
  const diffs: number[] = [];
  for (const alpha of alphas) {
    const got = (await engine.run(alpha, input)).logits!.data;
    // The reference runs on the same EP, from a model whose initializers were blended here.
    const refGpu = backend === 'webgpu' ? gpu!.device : undefined;
    const ref = await ortWeb.InferenceSession.create(buildTestModel(blendWeights(w0, w1, alpha)), {
      executionProviders: backend === 'webgpu' ? [{ name: 'webgpu', device: refGpu }] : ['wasm'],
    });
    const want = (await ref.run({ image: new ortWeb.Tensor('float32', images, input.dims) })).logits!.data as Float32Array;
    await ref.release();
    diffs.push(maxAbsDiff(got, want));
  }
  const l0 = (await engine.run(0, input)).logits!.data;
  const l1 = (await engine.run(1, input)).logits!.data;
  const exported = await engine.exportOnnx(0.3);
  const live = (await engine.run(0.3, input)).logits!.data;
  const s = await ortWeb.InferenceSession.create(exported, { executionProviders: ['wasm'] });
  const fromExport = (await s.run({ image: new ortWeb.Tensor('float32', images, input.dims) })).logits!.data as Float32Array;
  await s.release();
  const blendedTensors = engine.info.differing.length;
  await engine.dispose();
  gpu?.device.destroy();
  return {
    alphas,
    maxAbsDiff: diffs,
    endpointGap: maxAbsDiff(l0, l1),
    exportDiff: maxAbsDiff(live, fromExport),
    gpu: gpu?.info ?? null,
    blendedTensors,
  };
}

/** The app's decode + CLIP preprocessing of a JPEG against torchvision's output (uint8 levels). */
async function preprocessCheck(name: string): Promise<{ maxDiff: number; differing: number }> {
  const base = new URL('../fixtures/preprocess/', location.href);
  const jpg = await (await fetch(new URL(`${name}.jpg`, base))).blob();
  const expected = decode(new Uint8Array(await (await fetch(new URL(`${name}.expected.png`, base))).arrayBuffer()));
  const got = await decodeToModelInput(jpg, `${name}.jpg`, 224, 'bicubic');
  let maxDiff = 0;
  let differing = 0;
  const ch = expected.channels;
  for (let i = 0; i < 224 * 224; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(got.rgb[i * 3 + c]! - (expected.data as Uint8Array)[i * ch + c]!);
      if (d) differing++;
      maxDiff = Math.max(maxDiff, d);
    }
  }
  return { maxDiff, differing };
}

let propertyGpu: Promise<GPUDevice> | null = null;

/**
 * One case of the property test (its Node half is tests/node/property.node.test.ts): a random
 * pair (weight seed, perturbation seed and scale) at a random α, the engine's logits against a
 * model whose initializers were blended here in float64, both on the same EP. Returns max |Δ|.
 */
async function blendProperty(
  backend: Exclude<Backend, 'cpu'>,
  c: { seed: number; perturbSeed: number; scale: number; alpha: number; imageSeed: number; batch: number },
): Promise<number> {
  const w0 = randomWeights(c.seed);
  const w1 = perturb(w0, c.perturbSeed, c.scale);
  const images = randomImages(c.batch, c.imageSeed);
  const dims = [c.batch, ...IMAGE_DIMS];
  const device = backend === 'webgpu' ? await (propertyGpu ??= requestGpu().then((g) => g.device)) : undefined;
  const ep = backend === 'webgpu' ? [{ name: 'webgpu', device } as const] : ['wasm'];
  const engine = await BlendEngine.create(buildTestModel(w0), buildTestModel(w1), { ort: ortWeb, backend, device });
  try {
    const got = (await engine.run(c.alpha, { data: images, dims })).logits!.data;
    const ref = await ortWeb.InferenceSession.create(buildTestModel(blendWeights(w0, w1, c.alpha)), { executionProviders: ep as never });
    const want = (await ref.run({ image: new ortWeb.Tensor('float32', images, dims) })).logits!.data as Float32Array;
    await ref.release();
    return maxAbsDiff(got, want);
  } finally {
    await engine.dispose();
  }
}

/**
 * A tensor one vec4 larger than the device's maxStorageBufferBindingSize: GpuBlender must refuse
 * it with GpuBufferLimitError, before allocating, and leave no buffer behind. The device asks for
 * a small limit through requiredLimits; WebGPU never goes below its default (128 MiB), so the
 * tensor is sized from the limit the device really has.
 */
async function bufferLimitCheck(): Promise<{ limit: number; adapterLimit: number; error: string | null; message: string; leaked: number }> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no adapter');
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: 1 << 20 } });
  const limit = device.limits.maxStorageBufferBindingSize;
  const n = limit / 4 + 4;
  const big = new Float32Array(n);
  const small = new Float32Array(16);
  const ledger = new ResourceLedger();
  let error: string | null = null;
  let message = '';
  try {
    new GpuBlender(
      device,
      [
        { name: 'small', dtype: 'float32', feedDtype: 'float32', shape: [16], zeroShot: small, fineTuned: small },
        { name: 'visual.huge', dtype: 'float32', feedDtype: 'float32', shape: [n], zeroShot: big, fineTuned: big },
      ],
      ledger,
    );
  } catch (e) {
    error = e instanceof GpuBufferLimitError ? 'GpuBufferLimitError' : String(e);
    message = (e as Error).message;
  }
  const leaked = ledger.count('gpu-buffer');
  device.destroy();
  return { limit, adapterLimit: adapter.limits.maxStorageBufferBindingSize, error, message, leaked };
}

const harness = { engineCheck, preprocessCheck, blendProperty, bufferLimitCheck };
(globalThis as unknown as { harness: typeof harness }).harness = harness;
export type Harness = typeof harness;
document.getElementById('status')!.textContent = 'ready';
