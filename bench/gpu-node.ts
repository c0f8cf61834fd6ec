// The WebGPU blend rows on a real GPU without a browser: Dawn's Node bindings (the `webgpu` package)
// give a GPUDevice on which bench/gpu-rows.ts runs exactly as on the browser page. Also checks θ(α)
// read back from the GPU against a float64 CPU blend, so that the timings come with proof that
// the kernel computed the right thing on that GPU.
//
//   npm run bench:gpu-node -- --out docs/benchmarks-gpu.json [--config clip|small] [--reps N]
//     [--per-await K] [--kernel-elements N | --no-kernels] [--dawn TOGGLE]...
//
// Without a GPU, Dawn's Vulkan backend runs on SwiftShader:
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npm run bench:gpu-node -- --config small
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create, globals } from 'webgpu';
import { CLIP_B32, SMALL, paramCount, perturb, randomWeights } from './vit';
import { gpuBlendRow, gpuBlendTimedRow, gpuKernelRows, GpuTimer, KERNEL_VARIANTS, type GpuNodeReport } from './gpu-rows';
import { GpuBlender } from '../src/core/gpu/blend';
import type { WeightPair } from '../src/core/blend/weights';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const config = opt('config', 'clip') === 'small' ? SMALL : CLIP_B32;
const reps = Number(opt('reps', '30'));
const perAwait = Number(opt('per-await', '10'));
const kernelElements = argv.includes('--no-kernels') ? 0 : Number(opt('kernel-elements', String(16 * 2 ** 20)));
const out = opt('out', '');
// Vulkan is Dawn's backend for NVIDIA on Linux; quantization would round timestamps to 100 µs,
// coarser than a whole CLIP-sized blend on a real GPU.
const dawnFlags = argv.flatMap((a, i) => (a === '--dawn' && argv[i + 1] ? [argv[i + 1]!] : []));
if (!dawnFlags.some((f) => f.startsWith('backend='))) dawnFlags.push('backend=vulkan');
if (!dawnFlags.some((f) => f.includes('timestamp_quantization'))) dawnFlags.push('disable-dawn-features=timestamp_quantization');

const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);

// The bench's pair (bench/gen-pair.ts: θ0 seed 1, θ1 = perturb seed 2), without the ONNX round
// trip: fp32 raw_data carries these exact values, and perturb makes every tensor differ.
const w0 = randomWeights(config, 1);
const w1 = perturb(w0, 2);
const pairs: WeightPair[] = [...w0].map(([name, { shape, values }]) => ({
  name,
  dtype: 'float32',
  feedDtype: 'float32',
  shape,
  zeroShot: values,
  fineTuned: w1.get(name)!.values,
}));
const elements = pairs.reduce((s, p) => s + p.zeroShot.length, 0);
log(
  `${config.name}: ${pairs.length} tensors, ${elements.toLocaleString('en')} weights (${((elements * 4) / 2 ** 20).toFixed(0)} MiB per fp32 checkpoint)`,
);

// Dawn is created only now, and the long CPU loops (making the pair, checking θ(α)) run while no
// GPU work is pending: with SwiftShader, dawn.node 0.6.2 aborts now and then (std::system_error,
// SIGSEGV) when the main thread is busy for a few hundred ms between two GPU operations.
Object.assign(globalThis, globals);
const gpu = create(dawnFlags);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.error(
    `no WebGPU adapter (Dawn flags: ${dawnFlags.join(' ')}); VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? ''} VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? ''}`,
  );
  process.exit(2);
}
const ai = adapter.info as GPUAdapterInfo & Record<string, unknown>;
const info: Record<string, unknown> = {};
for (const k of ['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter', 'subgroupMinSize', 'subgroupMaxSize'])
  info[k] = ai[k];
const timestamps = adapter.features.has('timestamp-query');
const limits = adapter.limits;
// The same limits the app asks for (src/core/gpu/device.ts), plus timestamps for the timed row.
const device = await adapter.requestDevice({
  requiredFeatures: [
    ...(adapter.features.has('shader-f16') ? ['shader-f16' as const] : []),
    ...(timestamps ? ['timestamp-query' as const] : []),
  ],
  requiredLimits: {
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
  },
});
const gpuErrors: string[] = [];
device.addEventListener('uncapturederror', (e) => {
  const msg = String((e as GPUUncapturedErrorEvent).error.message);
  gpuErrors.push(msg);
  log(`GPU error: ${msg}`);
});
void device.lost.then((l) => {
  if (l.reason !== 'destroyed') log(`device lost: ${l.reason} ${l.message}`);
});
log(
  `adapter: ${JSON.stringify(info)}; Dawn flags: ${dawnFlags.join(' ')}; timestamp-query=${timestamps}; maxBufferSize=${device.limits.maxBufferSize}`,
);

// One blender for every row and the check, for the same reason: its upload is the longest
// stretch of main-thread work, and it comes first.
const blender = new GpuBlender(device, pairs);
const row = await gpuBlendRow(device, pairs, reps, blender);
log(
  `blend (wall, one submission, awaited): ${row.blendMs.median.toFixed(3)} ms = ${row.blendGBs.toFixed(1)} GB/s; copy ${row.copyMs.median.toFixed(3)} ms = ${row.copyGBs.toFixed(1)} GB/s; ratio ${row.ratio.toFixed(2)}`,
);
const timer = timestamps ? new GpuTimer(device) : null;
const timed = await gpuBlendTimedRow(device, pairs, reps, perAwait, timer, blender);
if (timed.timestamps) {
  const t = timed.timestamps;
  log(
    `blend (GPU timestamps): ${t.blendMs.median.toFixed(3)} ms = ${t.blendGBs.toFixed(1)} GB/s; copy ${t.copyMs.median.toFixed(3)} ms = ${t.copyGBs.toFixed(1)} GB/s; ratio ${t.ratio.toFixed(2)}`,
  );
}
const bt = timed.batched;
log(
  `blend (wall, ${perAwait} per await): ${bt.blendMs.median.toFixed(3)} ms = ${bt.blendGBs.toFixed(1)} GB/s; copy ${bt.copyMs.median.toFixed(3)} ms = ${bt.copyGBs.toFixed(1)} GB/s; ratio ${bt.ratio.toFixed(2)}`,
);
// The variants bench/run.ts profiles in the browser.
const kernels =
  kernelElements > 0
    ? await gpuKernelRows(
        device,
        {
          elements: kernelElements,
          reps,
          variants: [...KERNEL_VARIANTS],
        },
        timer,
      )
    : [];
for (const k of kernels)
  log(
    `kernel ${k.variant}: wall ${k.ms.median.toFixed(3)} ms (${k.gbs.toFixed(1)} GB/s)${k.gpuMs ? `, GPU ${k.gpuMs.median.toFixed(3)} ms (${k.gpuGBs!.toFixed(1)} GB/s)` : ''}`,
  );
timer?.destroy();

// Correctness: θ(0.3) of every tensor read back, compared (after the device is gone) with float64
// (1-α)θ0 + αθ1. The error is measured relative to |θ0|+|θ1|, the scale a float32 mix rounds at:
// plain relative error is unbounded where θ0 and θ1 cancel.
const alpha = 0.3;
blender.blend({ alpha });
const blended: Float32Array[] = [];
for (const p of pairs) blended.push((await blender.read(p.name)) as Float32Array);
blender.destroy();
device.destroy();
let maxAbs = 0;
let maxRel = 0;
let worst = '';
pairs.forEach((p, k) => {
  const got = blended[k]!;
  const a = p.zeroShot;
  const b = p.fineTuned;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(got[i]! - ((1 - alpha) * a[i]! + alpha * b[i]!));
    const rel = d / Math.max(Math.abs(a[i]!) + Math.abs(b[i]!), 1e-30);
    if (d > maxAbs) maxAbs = d;
    if (rel > maxRel) {
      maxRel = rel;
      worst = p.name;
    }
  }
});
const correctness = {
  alpha,
  tensors: pairs.length,
  elements,
  maxAbsDiff: maxAbs,
  maxRelDiff: maxRel,
  worstTensor: worst,
  tolerance: 1e-6,
  ok: maxRel <= 1e-6,
};
log(
  `correctness at α=${alpha}: max |Δ| = ${maxAbs.toExponential(2)}, max |Δ|/(|θ0|+|θ1|) = ${maxRel.toExponential(2)} (${worst}) → ${correctness.ok ? 'ok' : 'FAILED'}`,
);

// Resolved like the import itself, so that it also works from the bundle that travels to a GPU machine.
const pkg = createRequire(import.meta.url)('webgpu/package.json') as { version: string };
const result: GpuNodeReport = {
  date: new Date().toISOString(),
  runtime: {
    node: process.version,
    webgpu: pkg.version,
    dawnFlags,
    vkIcd: process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? null,
  },
  adapter: {
    ...info,
    shaderF16: device.features.has('shader-f16'),
    timestampQuery: timestamps,
    maxBufferSize: device.limits.maxBufferSize,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
  },
  pair: { config, params: paramCount(config), tensors: pairs.length },
  correctness,
  blend: row,
  blendTimestamps: timed.timestamps,
  blendBatched: timed.batched,
  kernels: kernelElements > 0 ? { elements: kernelElements, rows: kernels } : null,
  gpuErrors,
  durationS: (performance.now() - t0) / 1000,
};
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
else console.log(JSON.stringify(result, null, 2));
log(out ? `wrote ${out}` : 'done');
// Exit explicitly: dawn.node keeps the process alive while the GPU object is referenced.
process.exit(correctness.ok && gpuErrors.length === 0 ? 0 : 1);
