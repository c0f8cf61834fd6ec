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
  return s.page.evaluate(
    ([b, f, a]) => (globalThis as unknown as { harness: Harness }).harness.engineCheck(b, f, a),
    [backend, fp16, ALPHAS] as const,
  );
}

describe.each(['wasm', 'webgpu'] as const)('engine in headless Chromium, %s EP', (backend) => {
  it.each([false, true])(`logits at α ∈ {0…1} equal an independent blend within 1e-4 (fp16 weights: %s), and the export at α=0.3 reproduces them`, async (fp16) => {
    const r = await check(backend, fp16);
    if (backend === 'webgpu') expect(r.gpu?.architecture ?? r.gpu?.vendor).toBeTruthy();
    expect(r.blendedTensors).toBe(6);
    for (let i = 0; i < ALPHAS.length; i++) expect(r.maxAbsDiff[i], `α=${ALPHAS[i]}`).toBeLessThanOrEqual(1e-4);
    expect(r.endpointGap).toBeGreaterThan(0.1);
    // An fp16 pair exports fp16 weights: θ(α) rounded to binary16, against the live float32 blend.
    expect(r.exportDiff).toBeLessThanOrEqual(fp16 ? 1e-2 : 1e-4);
    expect(s.errors.filter((e) => !/powerPreference/.test(e))).toEqual([]);
  });
});

describe('CLIP preprocessing in the browser', () => {
  it.each(['landscape', 'portrait'])('the pixel tensor of the %s JPEG matches torchvision within 1/255 per channel', async (name) => {
    const r = await s.page.evaluate((n) => (globalThis as unknown as { harness: Harness }).harness.preprocessCheck(n), name);
    console.log(`preprocess ${name}: max |Δ| = ${r.maxDiff}/255, ${r.differing} of ${224 * 224 * 3} values differ`);
    expect(r.maxDiff).toBeLessThanOrEqual(1);
  });
});
