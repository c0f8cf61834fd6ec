import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { openPage, type Session } from './setup/chromium';
import type { Harness, EngineCheck } from './harness';

const ALPHAS = [0, 0.25, 0.5, 0.75, 1];
let s: Session;

beforeAll(async () => {
  s = await openPage(new URL('tests/browser/harness.html', inject('baseUrl')).href);
  await s.page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
});
afterAll(async () => s?.close());

function check(backend: 'wasm' | 'webgpu', fp16: boolean): Promise<EngineCheck> {
  return s.page.evaluate(([b, f, a]) => (globalThis as unknown as { harness: Harness }).harness.engineCheck(b, f, a), [
    backend,
    fp16,
    ALPHAS,
  ] as const);
}

describe.each(['wasm', 'webgpu'] as const)('engine in headless Chromium, %s EP', (backend) => {
  it.each([false, true])(
    `logits at α ∈ {0…1} equal an independent blend within 1e-4 (fp16 weights: %s), and the export at α=0.3 reproduces them`,
    async (fp16) => {
      const r = await check(backend, fp16);
      if (backend === 'webgpu') expect(r.gpu?.architecture ?? r.gpu?.vendor).toBeTruthy();
      expect(r.blendedTensors).toBe(6);
      for (let i = 0; i < ALPHAS.length; i++) expect(r.maxAbsDiff[i], `α=${ALPHAS[i]}`).toBeLessThanOrEqual(1e-4);
      expect(r.endpointGap).toBeGreaterThan(0.1);
      // An fp16 pair exports fp16 weights: θ(α) rounded to binary16, against the live float32 blend.
      expect(r.exportDiff).toBeLessThanOrEqual(fp16 ? 1e-2 : 1e-4);
      expect(s.errors.filter((e) => !/powerPreference/.test(e))).toEqual([]);
    },
  );
});

describe('CLIP preprocessing in the browser', () => {
  it.each(['landscape', 'portrait'])('the pixel tensor of the %s JPEG matches torchvision within 1/255 per channel', async (name) => {
    const r = await s.page.evaluate((n) => (globalThis as unknown as { harness: Harness }).harness.preprocessCheck(n), name);
    console.log(`preprocess ${name}: max |Δ| = ${r.maxDiff}/255, ${r.differing} of ${224 * 224 * 3} values differ`);
    expect(r.maxDiff).toBeLessThanOrEqual(1);
  });
});

interface SoupCase {
  k: number;
  fp16: boolean;
  /** One buffer per member instead of the K members in one (the path of tensors too large to pack). */
  unpacked?: boolean;
}

interface SoupCheck {
  tensors: number;
  dispatches: number;
  storageLimit: number;
  shaderF16: boolean;
  /** Per coefficient set: max |got − ref| / Σ|wₖθₖ| (f32 outputs) or max f16 ulps from ref rounded to f16 (f16 outputs). */
  gaps: number[];
  f16Outputs: boolean;
  /** Tensors whose one-hot row did not give the member bit for bit. */
  endpointMisses: string[];
}

/**
 * Runs in the page: a GpuBlender over random members, read back and compared with a float64 blend
 * computed in the page. Modules come from the Vite server by URL, through an import() the test
 * runner cannot rewrite (it turns a written import() into its own loader, absent in the page).
 */
async function soupCheckInPage({ base, cases }: { base: string; cases: SoupCase[] }): Promise<SoupCheck[]> {
  const load = new Function('u', 'return import(u)') as (url: string) => Promise<unknown>;
  const { requestGpu } = (await load(`${base}src/core/gpu/device.ts`)) as typeof import('../../src/core/gpu/device');
  const { GpuBlender } = (await load(`${base}src/core/gpu/blend.ts`)) as typeof import('../../src/core/gpu/blend');
  const { floatsToHalves, halvesToFloats } = (await load(`${base}src/core/onnx/half.ts`)) as typeof import('../../src/core/onnx/half');
  const { device } = await requestGpu();
  let seed = 7;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  // Lengths not multiples of 4, one past a workgroup of vec4s, more tensors than one dispatch binds.
  const lengths = [1, 3, 6, 17, 1025, 4099, 70001, 12, 5, 64, 999, 2, 333, 8, 7, 31, 513, 10, 2049, 9];
  const out: SoupCheck[] = [];
  for (const { k, fp16, unpacked } of cases) {
    const tensors = lengths.map((n, t) => {
      const drawn = Array.from({ length: k }, () => Float32Array.from({ length: n }, () => (rand() - 0.5) * 4));
      const halves = fp16 ? drawn.map((m) => floatsToHalves(m)) : undefined;
      const members: Float32Array[] = halves ? halves.map((h) => halvesToFloats(h)) : drawn;
      const dtype: 'float16' | 'float32' = fp16 ? 'float16' : 'float32';
      return { name: `t${t}`, dtype, feedDtype: dtype, shape: [n], members, ...(halves ? { membersHalf: halves } : {}) };
    });
    const blender = new GpuBlender(device, tensors, undefined, { packMembers: !unpacked });
    const uniform = Array.from({ length: k }, () => rand() * 1.6 - 0.3);
    const oneHot = (j: number) => Array.from({ length: k }, (_, m) => (m === j ? 1 : 0));
    // Every other tensor gets its own weights; every third a one-hot row (its member exactly).
    const perTensor: Record<string, number[]> = {};
    tensors.forEach((t, i) => {
      if (i % 3 === 0) perTensor[t.name] = oneHot(i % k);
      else if (i % 2 === 0) perTensor[t.name] = Array.from({ length: k }, () => rand() * 2 - 0.5);
    });
    const sets = [
      { weights: uniform, perTensor },
      { weights: oneHot(k - 1) },
      ...(k === 2 ? [{ alpha: 0.37 }, { alpha: 0 }, { alpha: 1 }] : []),
    ];
    const gaps: number[] = [];
    const endpointMisses: string[] = [];
    let f16Outputs = false;
    for (const c of sets) {
      blender.blend(c);
      let gap = 0;
      for (const t of tensors) {
        const w = 'alpha' in c ? [1 - c.alpha!, c.alpha!] : (c.perTensor?.[t.name] ?? c.weights!);
        const raw = await blender.read(t.name);
        f16Outputs = raw instanceof Uint16Array;
        const got = raw instanceof Uint16Array ? halvesToFloats(raw) : raw;
        const hot = w.filter((x) => x !== 0).length === 1 && w.includes(1) ? w.indexOf(1) : -1;
        if (hot >= 0) {
          const want = new Uint32Array(t.members[hot]!.slice().buffer);
          const same =
            raw instanceof Uint16Array
              ? raw.every((h, i) => h === t.membersHalf![hot]![i])
              : new Uint32Array(got.slice().buffer).every((b, i) => b === want[i]);
          if (!same) endpointMisses.push(`${t.name} ${JSON.stringify(c).slice(0, 40)}`);
        }
        for (let i = 0; i < t.shape[0]!; i++) {
          let ref = 0;
          let scale = 0;
          for (let m = 0; m < k; m++) {
            ref += w[m]! * t.members[m]![i]!;
            scale += Math.abs(w[m]! * t.members[m]![i]!);
          }
          if (raw instanceof Uint16Array) {
            // One f16 ulp at ref's magnitude: the f32 sum may land on the other side of a rounding boundary.
            const r = halvesToFloats(floatsToHalves(Float32Array.of(ref)))[0]!;
            const ulp = Math.max(2 ** -24, 2 ** (Math.floor(Math.log2(Math.max(Math.abs(r), 2 ** -14))) - 10));
            gap = Math.max(gap, Math.abs(got[i]! - r) / ulp);
          } else gap = Math.max(gap, Math.abs(got[i]! - ref) / Math.max(scale, 1e-30));
        }
      }
      gaps.push(gap);
    }
    out.push({
      tensors: tensors.length,
      dispatches: blender.dispatches,
      storageLimit: device.limits.maxStorageBuffersPerShaderStage,
      shaderF16: device.features.has('shader-f16'),
      gaps,
      f16Outputs,
      endpointMisses,
    });
    blender.destroy();
  }
  device.destroy();
  return out;
}

describe('the K-member blend on WebGPU in headless Chromium', () => {
  it('equals a float64 blend within 1e-6 of Σ|wₖθₖ| (fp16: within one f16 ulp) for K = 2, 3, 4 with per-tensor coefficients, one-hot rows bit for bit, in fewer dispatches than tensors', async () => {
    const cases: SoupCase[] = [
      { k: 2, fp16: false },
      { k: 3, fp16: false },
      { k: 4, fp16: false },
      { k: 3, fp16: true },
      { k: 3, fp16: false, unpacked: true },
    ];
    const results = await s.page.evaluate(soupCheckInPage, { base: inject('baseUrl'), cases });
    results.forEach((r, i) => {
      const { k, fp16, unpacked } = cases[i]!;
      console.log(
        `soup K=${k} fp16=${fp16}${unpacked ? ' (one buffer per member)' : ''}: ${r.tensors} tensors in ${r.dispatches} dispatches (storage-buffer limit ${r.storageLimit}, shader-f16 ${r.shaderF16}); gaps ${r.gaps.map((g) => g.toExponential(2)).join(', ')}${r.f16Outputs ? ' (f16 ulps)' : ''}`,
      );
      expect(r.endpointMisses, `K=${k} fp16=${fp16}`).toEqual([]);
      for (const g of r.gaps) expect(g, `K=${k} fp16=${fp16}`).toBeLessThanOrEqual(r.f16Outputs ? 1 : 1e-6);
      expect(r.dispatches).toBeLessThan(r.tensors);
    });
    expect(s.errors.filter((e) => !/powerPreference/.test(e))).toEqual([]);
  });
});

interface StreamCheck {
  /** Per α: whether the streamed engine's logits equal the one from bytes bit for bit. */
  equal: boolean[];
  /** max |logits(0) − logits(1)|: the endpoints differ, so equality is not vacuous. */
  endpointGap: number;
}

/** Runs in the page: the test pair from bytes and streamed from Blob streams, logits at three α. */
async function streamCheckInPage({
  base,
  backend,
  fp16,
}: {
  base: string;
  backend: 'wasm' | 'webgpu';
  fp16: boolean;
}): Promise<StreamCheck> {
  const load = new Function('u', 'return import(u)') as (url: string) => Promise<unknown>;
  const { BlendEngine } = (await load(`${base}src/core/runtime/engine.ts`)) as typeof import('../../src/core/runtime/engine');
  const { ortWeb } = (await load(`${base}src/core/runtime/ort-web.ts`)) as typeof import('../../src/core/runtime/ort-web');
  const { streamChunks } = (await load(`${base}src/core/onnx/stream.ts`)) as typeof import('../../src/core/onnx/stream');
  const { requestGpu } = (await load(`${base}src/core/gpu/device.ts`)) as typeof import('../../src/core/gpu/device');
  const tp = (await load(`${base}tests/support/testPair.ts`)) as typeof import('../support/testPair');
  const w0 = tp.roundToHalf(tp.randomWeights(31));
  const w1 = tp.roundToHalf(tp.perturb(w0, 32));
  const zs = tp.buildTestModel(w0, { fp16 });
  const ft = tp.buildTestModel(w1, { fp16 });
  const opts = { ort: ortWeb, backend, device: backend === 'webgpu' ? (await requestGpu()).device : undefined };
  const fromBytes = await BlendEngine.create(zs, ft, opts);
  // Small Blob chunks would be one chunk: cut the file into 100-byte parts first.
  const parts = (b: Uint8Array) => new Blob(Array.from({ length: Math.ceil(b.length / 100) }, (_, i) => b.slice(i * 100, (i + 1) * 100)));
  const streamed = await BlendEngine.createFromStreams([streamChunks(parts(zs).stream()), streamChunks(parts(ft).stream())], opts);
  const images = { data: tp.randomImages(2, 33), dims: [2, ...tp.IMAGE_DIMS] };
  const logits = async (e: typeof fromBytes, a: number) => (await e.run(a, images)).logits!.data;
  const equal: boolean[] = [];
  for (const a of [0, 0.3, 1]) {
    const [x, y] = [await logits(streamed, a), await logits(fromBytes, a)];
    equal.push(x.length === y.length && x.every((v, i) => Object.is(v, y[i])));
  }
  const [l0, l1] = [await logits(streamed, 0), await logits(streamed, 1)];
  await Promise.all([streamed.dispose(), fromBytes.dispose()]);
  return { equal, endpointGap: Math.max(...l0.map((v, i) => Math.abs(v - l1[i]!))) };
}

describe('an engine streamed from the files (createFromStreams) in headless Chromium', () => {
  it.each([
    ['wasm', false],
    ['wasm', true],
    ['webgpu', false],
  ] as const)('%s EP (fp16 weights: %s): the same logits at α ∈ {0, 0.3, 1}, bit for bit, as from the bytes', async (backend, fp16) => {
    const r = await s.page.evaluate(streamCheckInPage, { base: inject('baseUrl'), backend, fp16 });
    expect(r.equal).toEqual([true, true, true]);
    expect(r.endpointGap).toBeGreaterThan(0.1);
  });
});
