// Eval labels and thumbnails as the Worker sends them: their buffers are transferred, not copied
// (the page keeps them; the engine made them for this call only).
import * as Comlink from 'comlink';
import type { Explorer } from '../core/explorer';
import type { EvalLabels, EvalThumbnails, ResultsKey } from './protocol';

/** What these calls need of the engine (Explorer has it). */
export type ShowsEvalSamples = Pick<Explorer, 'evalLabels' | 'evalImages'>;

export function sendEvalLabels(engine: ShowsEvalSamples): EvalLabels {
  const r = engine.evalLabels();
  const buffers = Object.values(r.sets).map((l) => l.buffer as ArrayBuffer);
  return Comlink.transfer({ resultsKey: r.resultsKey as ResultsKey, sets: r.sets }, buffers);
}

export function sendEvalImages(engine: ShowsEvalSamples, setId: string, indices: readonly number[]): EvalThumbnails {
  const r = engine.evalImages(setId, indices);
  const buffers = r.images.map((t) => t.rgba.buffer as ArrayBuffer);
  return Comlink.transfer({ ...r, resultsKey: r.resultsKey as ResultsKey }, buffers);
}
