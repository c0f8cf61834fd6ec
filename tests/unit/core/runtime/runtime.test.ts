import { describe, it, expect } from 'vitest';
import { ortQueue } from '../../../../src/core/runtime/ortQueue';
import { ResourceLedger } from '../../../../src/core/runtime/ledger';
import { chooseRuntime, makeRuntime, type RuntimeDeps } from '../../../../src/core/runtime/backend';
import type { OwnedGpu } from '../../../../src/core/gpu/device';
import type { OrtModule } from '../../../../src/core/runtime/engine';

describe('ortQueue', () => {
  it('runs one call at a time, in order, and a failure does not stop the queue', async () => {
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) =>
      ortQueue.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('a', 20), step('b', 1, true), step('c', 1)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('ResourceLedger', () => {
  it('counts each kind apart', () => {
    const l = new ResourceLedger();
    l.acquire('gpu-buffer', 3);
    l.acquire('blend-session');
    l.release('gpu-buffer');
    expect([l.count('gpu-buffer'), l.count('blend-session'), l.count('text-session')]).toEqual([2, 1, 0]);
  });
});

describe('backend choice', () => {
  const gpu = (fallback: boolean) => {
    let destroyed = false;
    const owned = {
      device: {
        destroy: () => {
          destroyed = true;
        },
      } as unknown as GPUDevice,
      info: {
        vendor: 'v',
        architecture: '',
        description: '',
        isFallbackAdapter: fallback,
        shaderF16: false,
        maxBufferSize: 1,
        maxStorageBufferBindingSize: 1,
      },
    } satisfies OwnedGpu;
    return { owned, destroyed: () => destroyed };
  };
  const deps = (request: () => Promise<OwnedGpu>): RuntimeDeps => ({
    ort: {} as OrtModule,
    ortVersion: '1.2.3',
    configureThreads: () => 4,
    requestGpu: request,
  });

  it('wasm when asked, without touching the GPU', async () => {
    const r = await chooseRuntime(
      deps(() => Promise.reject(new Error('not called'))),
      'wasm',
    );
    expect(r.info).toEqual({ backend: 'wasm', gpu: null, threads: 4, ortVersion: '1.2.3', note: null });
    expect(r.explorer.backend).toBe('wasm');
    expect(r.device).toBeNull();
  });

  it('WebGPU where a device can be had', async () => {
    const g = gpu(false);
    const r = await chooseRuntime(
      deps(async () => g.owned),
      'auto',
    );
    expect(r.info.backend).toBe('webgpu');
    expect(r.info.gpu).toBe(g.owned.info);
    expect(r.device).toBe(g.owned.device);
    expect(r.explorer.backend).toBe('webgpu');
  });

  it('wasm with a note saying why, when WebGPU fails', async () => {
    const r = await chooseRuntime(
      deps(() => Promise.reject(new Error('no adapter'))),
      'webgpu',
    );
    expect(r.info.backend).toBe('wasm');
    expect(r.info.note).toBe('WebGPU is not available (no adapter); using the CPU (wasm).');
  });

  it("a software adapter only when WebGPU is asked for by name: 'auto' releases it and uses wasm", async () => {
    const auto = gpu(true);
    const r = await chooseRuntime(
      deps(async () => auto.owned),
      'auto',
    );
    expect(r.info).toMatchObject({ backend: 'wasm', note: null });
    expect(auto.destroyed()).toBe(true);
    const named = gpu(true);
    expect(
      (
        await chooseRuntime(
          deps(async () => named.owned),
          'webgpu',
        )
      ).info.backend,
    ).toBe('webgpu');
    expect(named.destroyed()).toBe(false);
  });

  it('makeRuntime on wasm carries the fallback note it is given', () => {
    const r = makeRuntime(
      deps(() => Promise.reject(new Error('x'))),
      null,
      'The GPU device was lost; switched to the CPU (wasm).',
    );
    expect(r.info).toMatchObject({ backend: 'wasm', gpu: null, note: 'The GPU device was lost; switched to the CPU (wasm).' });
    expect(r.explorer.backend).toBe('wasm');
  });
});
