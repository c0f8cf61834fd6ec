// Browser-side half of the frontier-engines test (tests/browser/engines.browser.test.ts): the real
// engine Worker on the bundled pair with 1 or 2 frontier engines, and one lane Worker's logits
// against an engine in the page.
import * as Comlink from 'comlink';
import { startEngineWorker } from '../../src/worker/client';
import type { EvaluationEvent, EvaluationResult } from '../../src/worker/protocol';
import type { LaneApi } from '../../src/worker/evalLane.worker';
import { BlendEngine } from '../../src/core/runtime/engine';
import { loadOrtWasm, configureThreads } from '../../src/core/runtime/ort-web';
import { loadBundle, urlSource } from '../../src/core/bundle/source';
import { decodeSprite, normalizeBatch } from '../../src/core/eval/sprites';

export const BUNDLED = '/pairs/shapes/manifest.json';

export interface FirstImages {
  /** "α|set" → the first `images` images' outcomes, as '1' (right), '0' (wrong) or '-' (not seen). */
  outcomes: Record<string, string>;
  result: EvaluationResult['status'];
  /** Events that reached the page after the job's result. */
  late: number;
  engines: number;
}

function outcomesOf(bits: { correct: Uint8Array; seen: Uint8Array }, images: number): string {
  let s = '';
  for (let i = 0; i < images; i++) {
    const m = 1 << (i & 7);
    s += bits.seen[i >> 3]! & m ? (bits.correct[i >> 3]! & m ? '1' : '0') : '-';
  }
  return s;
}

/** The grid's first `images` outcomes per set, on `engines` frontier engines; the job is cancelled once they are all in. */
async function firstImages(count: number, grid: number[], images: number): Promise<FirstImages> {
  const w = startEngineWorker({ debug: true });
  try {
    await w.debug!.setFrontierEngines(count);
    await w.engine.init('wasm', () => undefined);
    const pair = await w.engine.loadPair({ kind: 'url', url: new URL(BUNDLED, location.href).href }, () => undefined, null);
    const outcomes: Record<string, string> = {};
    let resolved = false;
    let late = 0;
    const onEvent = (e: EvaluationEvent) => {
      if (resolved) late++;
      if (e.kind !== 'chunk') return;
      for (const [id, a] of Object.entries(e.point))
        if (a.n >= images && a.images && !outcomes[`${e.alpha}|${id}`]) outcomes[`${e.alpha}|${id}`] = outcomesOf(a.images, images);
      if (Object.keys(outcomes).length === grid.length * pair.sets.length) void w.engine.cancel(1);
    };
    // Starts the helper engines and waits until they are ready (the app starts them after a job's
    // first estimate), so that they, not the engine Worker standing in for them meanwhile, run this job's chunks.
    const engines = await w.debug!.frontierEngines();
    const r = await w.engine.evaluate({ id: 1, grid, currentAlpha: null }, onEvent);
    resolved = true;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { outcomes, result: r.status, late, engines };
  } finally {
    w.terminate();
  }
}

/** Job 1 superseded by job 2 right after its first event; job 2 cancelled after its first event. */
async function supersede(
  count: number,
): Promise<{ first: string; second: string; late: number; eventsOfFirstAfterSecond: number; engines: number }> {
  const w = startEngineWorker({ debug: true });
  try {
    await w.debug!.setFrontierEngines(count);
    await w.engine.init('wasm', () => undefined);
    await w.engine.loadPair({ kind: 'url', url: new URL(BUNDLED, location.href).href }, () => undefined, null);
    const engines = await w.debug!.frontierEngines();
    let secondStarted = false;
    let eventsOfFirstAfterSecond = 0;
    let settled = 0;
    let late = 0;
    let second: Promise<EvaluationResult> | null = null;
    const onSecond = (e: EvaluationEvent) => {
      if (settled === 2) late++;
      if (e.kind === 'chunk') void w.engine.cancel(2);
    };
    const first = w.engine.evaluate({ id: 1, grid: [0, 0.5, 1], currentAlpha: 0.3 }, (e) => {
      if (secondStarted && e.kind === 'chunk') eventsOfFirstAfterSecond++;
      if (settled === 2) late++;
      if (!second) {
        secondStarted = true;
        second = w.engine.evaluate({ id: 2, grid: [0, 0.25, 1], currentAlpha: 0.7 }, onSecond);
      }
    });
    const r1 = await first;
    const r2 = await (second as unknown as Promise<EvaluationResult>);
    settled = 2;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { first: r1.status, second: r2.status, late, eventsOfFirstAfterSecond, engines };
  } finally {
    w.terminate();
  }
}

/** Max |Δ| between a lane Worker's logits (one thread) and an engine's in this page (every thread), and whether every byte matches. */
async function laneLogits(alphas: number[]): Promise<{ pageThreads: number; maxAbsDiff: number; identical: boolean; values: number }> {
  const pageThreads = configureThreads();
  const bundle = await loadBundle(urlSource(new URL(BUNDLED, location.href).href));
  const m = bundle.manifest;
  const set = decodeSprite(m.eval!.sets[1]!, bundle.sprites.get(m.eval!.sets[1]!.id)!);
  const size = m.preprocess.size;
  const data = normalizeBatch(set, 0, 100, m.preprocess, new Float32Array(100 * 3 * size * size)).slice();
  const input = { data, dims: [100, 3, size, size] };
  const labels = [m.models.zeroShot.path, bundle.member.model.path];
  const engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, {
    // The build the app's wasm engine (the Worker's) and its lanes run.
    ort: await loadOrtWasm(),
    backend: 'wasm',
    inputName: m.io.image,
    labels,
  });
  const worker = new Worker(new URL('../../src/worker/evalLane.worker.ts', import.meta.url), { type: 'module' });
  const lane = Comlink.wrap<LaneApi>(worker);
  await lane.open({ zeroShot: bundle.zeroShot, fineTuned: bundle.fineTuned, inputName: m.io.image, logits: m.io.logits, labels });
  let maxAbsDiff = 0;
  let identical = true;
  let values = 0;
  for (const alpha of alphas) {
    const want = (await engine.run(alpha, input))[m.io.logits]!.data;
    const got = await lane.run(alpha, input);
    values += want.length;
    if (got.length !== want.length) identical = false;
    for (let i = 0; i < want.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i]! - want[i]!));
      if (!Object.is(got[i], want[i])) identical = false;
    }
  }
  worker.terminate();
  await engine.dispose();
  return { pageThreads, maxAbsDiff, identical, values };
}

export const engines = { firstImages, supersede, laneLogits };
(globalThis as unknown as { engines: typeof engines }).engines = engines;
document.getElementById('status')!.textContent = 'ready';
export type Engines = typeof engines;
