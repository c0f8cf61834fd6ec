// α and ▶ Play. Every α change starts an evaluation job (the current α first; none after the
// user's Cancel, until Evaluate) and a classification of the uploads at the new α.
import { quantizeAlpha } from '../../worker/protocol';
import type { Store } from '../store';
import type { EvaluationController } from './evaluation';
import type { UploadsController } from './uploads';

/** ▶ Play: one step of PLAY_STEP every PLAY_INTERVAL_MS, from 0 (or where α is) to 1. */
export const PLAY_INTERVAL_MS = 120;
export const PLAY_STEP = 0.02;

export interface AlphaController {
  setAlpha(alpha: number): void;
  /** α from −0.5 to 1.5 on request; turned off, α comes back into [0, 1]. */
  setExtrapolate(on: boolean): void;
  togglePlay(): void;
  dispose(): void;
}

/** Extrapolation on or off: α is brought into the new range, and the grid changes with it. */
function setExtrapolate(store: Store, on: boolean, set: (alpha: number) => void, evaluation: EvaluationController): void {
  if (on === store.getState().extrapolate) return;
  store.setState({ extrapolate: on });
  set(store.getState().alpha);
  evaluation.schedule();
}

export function createAlphaControl(store: Store, evaluation: EvaluationController, uploads: UploadsController): AlphaController {
  let playTimer: ReturnType<typeof setInterval> | null = null;

  // A drag waits for the slider to rest (the evaluation's debounce). A Play step does not: each
  // step's job starts at once and supersedes the last, the current α first.
  const set = (alpha: number, delayMs?: number) => {
    const a = quantizeAlpha(alpha, store.getState().extrapolate);
    if (a === store.getState().alpha) return;
    store.setState({ alpha: a });
    evaluation.schedule(delayMs);
    uploads.refreshSoon();
  };

  const stop = () => {
    if (playTimer) clearInterval(playTimer);
    playTimer = null;
    store.setState({ playing: false });
  };

  const step = () => {
    const a = store.getState().alpha;
    if (a >= 1) stop();
    else set(a + PLAY_STEP, 0);
  };

  return {
    setAlpha: (alpha) => set(alpha),
    setExtrapolate: (on) => setExtrapolate(store, on, set, evaluation),
    togglePlay() {
      if (playTimer) return stop();
      store.setState({ playing: true });
      if (store.getState().alpha >= 1) set(0);
      playTimer = setInterval(step, PLAY_INTERVAL_MS);
    },
    dispose() {
      if (playTimer) clearInterval(playTimer);
      playTimer = null;
    },
  };
}
