// A helper engine for the frontier (core/eval/lanes.ts): its own single-threaded session on the
// pair, started by the engine Worker, which deals it chunks. It turns (α, batch) into logits and
// nothing else: plans, results, events and cancellation stay with the engine Worker.
import * as Comlink from 'comlink';
import { loadOrtWasm, configureThreads } from '../core/runtime/ort-web';
import { BlendEngine } from '../core/runtime/engine';
import { engineLogits, type LaneFiles } from '../core/eval/lanes';
import type { RunLogits } from '../core/eval/evaluator';

let run: RunLogits | null = null;

export const laneApi = {
  async open(pair: LaneFiles): Promise<void> {
    // One thread: two single-threaded sessions each take whichever core is free (lanes.ts).
    configureThreads(1);
    const engine = await BlendEngine.create(pair.zeroShot, pair.fineTuned, {
      // The build the Worker's own wasm engine runs: the same binary, fetched once (HTTP cache).
      ort: await loadOrtWasm(),
      backend: 'wasm',
      inputName: pair.inputName,
      labels: pair.labels,
    });
    run = engineLogits(engine, pair.logits);
  },

  async run(alpha: number, input: { data: Float32Array; dims: number[] }): Promise<Float32Array> {
    if (!run) throw new Error('this lane has no pair');
    // A copy of exactly the logits: ORT's output may view a larger buffer, and the copy can move.
    const logits = (await run(alpha, input)).slice();
    return Comlink.transfer(logits, [logits.buffer]);
  },
};

export type LaneApi = typeof laneApi;

Comlink.expose(laneApi);
