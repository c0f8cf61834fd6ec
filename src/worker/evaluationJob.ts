// One evaluation job, as the Worker runs it: the engine's per-chunk updates become the job's
// events, in order, on the one channel the page gave; the result follows the last of them.
import type { FrontierUpdate, EnsembleUpdate, LayerUpdate } from '../core/explorer';
import type { SoupRecipe, SoupUpdate } from '../core/soup/soups';
import type {
  EvaluationEvent,
  EvaluationJob,
  EvaluationResult,
  FrontierPoints,
  LayerEvent,
  LayerJob,
  LayerResult,
  ResultsKey,
  SoupEvent,
  SoupJob,
  SoupResult,
} from './protocol';

/** What a job needs of the engine (Explorer has it). */
export interface Evaluates {
  evaluate(
    grid: readonly number[],
    current: number | null,
    onUpdate: (u: FrontierUpdate) => void,
    onEnsemble?: (u: EnsembleUpdate) => void,
  ): Promise<'done' | 'superseded'>;
  snapshot(): { resultsKey: string; points: FrontierPoints } | null;
}

/**
 * Runs `job` on `engine`. `onEvent` may answer with a promise (a comlink proxy does, once the page
 * has handled the event): the job resolves only after the last event is answered, and messages on
 * one channel are handled in order, so every event of the job has been applied by then.
 */
export async function runEvaluationJob(
  engine: Evaluates,
  job: EvaluationJob,
  onEvent: (e: EvaluationEvent) => unknown,
): Promise<EvaluationResult> {
  let delivered: Promise<unknown> = Promise.resolve();
  const send = (e: EvaluationEvent) => {
    delivered = Promise.resolve(onEvent(e)).catch(() => undefined);
  };
  const status = await engine.evaluate(
    job.grid,
    job.currentAlpha,
    (u) =>
      send({ kind: 'chunk', jobId: job.id, resultsKey: u.resultsKey as ResultsKey, alpha: u.alpha, point: u.point, progress: u.progress }),
    (u) => send({ kind: 'ensemble', jobId: job.id, resultsKey: u.resultsKey as ResultsKey, points: u.points }),
  );
  await delivered;
  const snap = status === 'done' ? engine.snapshot() : null;
  if (!snap) return { status: 'superseded', jobId: job.id };
  return { status: 'done', jobId: job.id, resultsKey: snap.resultsKey as ResultsKey, points: snap.points };
}

/** What a per-layer job needs of the engine (Explorer has it). */
export interface EvaluatesLayers {
  evaluateLayers(
    settings: readonly (readonly number[])[],
    imagesPerSet: number,
    onUpdate: (u: LayerUpdate) => void,
    firstEstimate?: boolean,
  ): Promise<'done' | 'superseded'>;
}

/** Runs a per-layer job as runEvaluationJob runs a frontier job: its events in order, then its result. */
export async function runLayerJob(engine: EvaluatesLayers, job: LayerJob, onEvent: (e: LayerEvent) => unknown): Promise<LayerResult> {
  let delivered: Promise<unknown> = Promise.resolve();
  const status = await engine.evaluateLayers(
    job.settings,
    job.imagesPerSet,
    (u) => {
      const e: LayerEvent = { kind: 'layer-chunk', jobId: job.id, ...u, resultsKey: u.resultsKey as ResultsKey };
      delivered = Promise.resolve(onEvent(e)).catch(() => undefined);
    },
    job.firstEstimate ?? false,
  );
  await delivered;
  return { status, jobId: job.id };
}

/** What a soup job needs of the engine (Explorer has it). */
export interface EvaluatesSoups {
  evaluateSoups(recipes: readonly SoupRecipe[], imagesPerSet: number, onUpdate: (u: SoupUpdate) => void): Promise<'done' | 'superseded'>;
}

/** Runs a soup job as runLayerJob runs a per-layer one: its events in order, then its result. */
export async function runSoupJob(engine: EvaluatesSoups, job: SoupJob, onEvent: (e: SoupEvent) => unknown): Promise<SoupResult> {
  let delivered: Promise<unknown> = Promise.resolve();
  const status = await engine.evaluateSoups(job.recipes, job.imagesPerSet, (u) => {
    const e = { ...u, jobId: job.id, resultsKey: u.resultsKey as ResultsKey } as SoupEvent;
    delivered = Promise.resolve(onEvent(e)).catch(() => undefined);
  });
  await delivered;
  return { status, jobId: job.id };
}
