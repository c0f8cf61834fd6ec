// The frontier's evaluation: one job at a time, each with an id. A newer job supersedes the older
// (the engine drops its remaining work); cancel() stops the latest. The job id is the one
// cancellation system: a result is applied only when its job is still the latest.
import { GRID, errorMessage, type EngineApi, type EvaluationEvent } from '../../worker/protocol';
import { createFrontierBuffer } from '../frontierEvents';
import { say, type Store } from '../store';

/** A slider drag: wait this long after the last move before evaluating, so a drag is one job. */
export const EVAL_DEBOUNCE_MS = 120;

export interface EvaluationController {
  /** Starts a job after `delayMs` (restarting the wait), the current α first. */
  schedule(delayMs?: number): void;
  cancel(): void;
  dispose(): void;
}

export function createEvaluation(engine: EngineApi, store: Store): EvaluationController {
  let latestJob = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const buffer = createFrontierBuffer(store);

  // Chunk points of an older job of the same results key are still right (counts only grow),
  // so events are filtered by results key, not by job.
  const onEvent = (e: EvaluationEvent) => {
    if (e.kind === 'chunk') buffer.push(e);
    else store.setState((s) => (s.pair?.resultsKey === e.resultsKey ? { ensemble: e.points } : {}));
  };

  const run = async () => {
    timer = null;
    const s = store.getState();
    if (!s.pair) return;
    const id = ++latestJob;
    const startedAt = s.evalStartedAt ?? performance.now();
    store.setState({ evaluating: true, evalStartedAt: startedAt });
    try {
      const r = await engine.evaluate({ id, grid: GRID, currentAlpha: s.alpha }, onEvent);
      buffer.flush();
      if (r.status !== 'done' || id !== latestJob || store.getState().pair?.resultsKey !== r.resultsKey) return;
      // Every event of the job has been applied (EngineApi.evaluate): its points are the last word.
      store.setState((x) => ({ points: r.points, resultsKey: r.resultsKey, evaluating: false, fullFrontierMs: x.fullFrontierMs ?? performance.now() - startedAt }));
    } catch (e) {
      store.setState({ evaluating: false });
      say('error', `Evaluation stopped: ${errorMessage(e)}`, store);
    }
  };

  return {
    schedule(delayMs = EVAL_DEBOUNCE_MS) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void run(), delayMs);
    },
    cancel() {
      void engine.cancel(latestJob);
      store.setState({ evaluating: false });
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = null;
      buffer.dispose();
      latestJob++;
    },
  };
}
