// `--only-frontier-workers`, the page half: the bundled pair's live frontier (11 α × every set) on
// the real engine Worker, on 1 engine (the Worker alone) or on N helper engines (core/eval/lanes.ts),
// as the app runs it minus the UI: events are counted, not drawn.
import { startEngineWorker } from '../src/worker/client';
import { GRID } from '../src/worker/protocol';

export interface LiveFrontierRun {
  /** Engines the frontier ran on, as the Worker reports it (1: the Worker alone). */
  engines: number;
  images: number;
  /** evaluate() called → its 'done' result. */
  liveFrontierMs: number;
  /** evaluate() called → the current α's first chunk event. */
  firstEstimateMs: number;
  /** After the frontier: a new α (off the grid) → its first chunk event, the machine otherwise idle. */
  newAlphaFirstEstimateMs: number;
  loadPairMs: number;
}

/** Time from evaluate() to the current α's first chunk event, and to the result. */
async function timeJob(
  engine: ReturnType<typeof startEngineWorker>['engine'],
  job: { id: number; grid: readonly number[]; currentAlpha: number },
): Promise<{ firstMs: number; totalMs: number; status: string }> {
  const t0 = performance.now();
  let firstMs = -1;
  const r = await engine.evaluate(job, (e) => {
    if (firstMs < 0 && e.kind === 'chunk' && e.alpha === job.currentAlpha) firstMs = performance.now() - t0;
  });
  return { firstMs, totalMs: performance.now() - t0, status: r.status };
}

export async function liveFrontier(o: { manifest: string; engines: number }): Promise<LiveFrontierRun> {
  const w = startEngineWorker({ debug: true });
  try {
    await w.debug!.setFrontierEngines(o.engines);
    await w.engine.init('wasm', () => undefined);
    const t0 = performance.now();
    const pair = await w.engine.loadPair({ kind: 'url', url: new URL(o.manifest, location.href).href }, () => undefined, null);
    const loadPairMs = performance.now() - t0;
    const full = await timeJob(w.engine, { id: 1, grid: GRID, currentAlpha: 0.5 });
    if (full.status !== 'done') throw new Error(`the frontier ended ${full.status}`);
    // Done means every set complete at every grid α (0.5, the current α, is on the grid).
    const images = pair.sets.reduce((n, s) => n + s.count, 0) * GRID.length;
    const next = await timeJob(w.engine, { id: 2, grid: [], currentAlpha: 0.35 });
    const engines = await w.debug!.frontierEngines();
    return {
      engines,
      images,
      liveFrontierMs: full.totalMs,
      firstEstimateMs: full.firstMs,
      newAlphaFirstEstimateMs: next.firstMs,
      loadPairMs,
    };
  } finally {
    w.terminate();
  }
}
