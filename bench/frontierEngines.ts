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
  /** evaluate() called → every grid α has a point on ≥ 100 images of every set (the coarse pass; issue 15: ≤ 8 s). */
  coarseMs: number;
  /** After the frontier: a new α (off the grid) → its first chunk event, the machine otherwise idle. */
  newAlphaFirstEstimateMs: number;
  loadPairMs: number;
}

/** Images of every set behind a grid α's point that make it one of the coarse pass's points. */
const COARSE_IMAGES = 100;

/**
 * Time from evaluate() to the current α's first chunk event, to every grid α having a point on
 * ≥ COARSE_IMAGES images of each of `sets` (-1 if never), and to the result.
 */
async function timeJob(
  engine: ReturnType<typeof startEngineWorker>['engine'],
  job: { id: number; grid: readonly number[]; currentAlpha: number },
  sets: readonly string[],
): Promise<{ firstMs: number; coarseMs: number; totalMs: number; status: string }> {
  const t0 = performance.now();
  let firstMs = -1;
  let coarseMs = -1;
  const coarse = new Set<number>();
  const r = await engine.evaluate(job, (e) => {
    if (e.kind !== 'chunk') return;
    if (firstMs < 0 && e.alpha === job.currentAlpha) firstMs = performance.now() - t0;
    if (job.grid.includes(e.alpha) && sets.every((id) => (e.point[id]?.n ?? 0) >= COARSE_IMAGES)) coarse.add(e.alpha);
    if (coarseMs < 0 && coarse.size === job.grid.length) coarseMs = performance.now() - t0;
  });
  return { firstMs, coarseMs, totalMs: performance.now() - t0, status: r.status };
}

export async function liveFrontier(o: { manifest: string; engines: number }): Promise<LiveFrontierRun> {
  const w = startEngineWorker({ debug: true });
  try {
    await w.debug!.setFrontierEngines(o.engines);
    await w.engine.init('wasm', () => undefined);
    const t0 = performance.now();
    const pair = await w.engine.loadPair({ kind: 'url', url: new URL(o.manifest, location.href).href }, () => undefined, null);
    const loadPairMs = performance.now() - t0;
    const sets = pair.sets.map((s) => s.id);
    const full = await timeJob(w.engine, { id: 1, grid: GRID, currentAlpha: 0.5 }, sets);
    if (full.status !== 'done') throw new Error(`the frontier ended ${full.status}`);
    // Done means every set complete at every grid α (0.5, the current α, is on the grid).
    const images = pair.sets.reduce((n, s) => n + s.count, 0) * GRID.length;
    const next = await timeJob(w.engine, { id: 2, grid: [], currentAlpha: 0.35 }, sets);
    const engines = await w.debug!.frontierEngines();
    return {
      engines,
      images,
      liveFrontierMs: full.totalMs,
      firstEstimateMs: full.firstMs,
      coarseMs: full.coarseMs,
      newAlphaFirstEstimateMs: next.firstMs,
      loadPairMs,
    };
  } finally {
    w.terminate();
  }
}
