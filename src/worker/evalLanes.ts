// The engine Worker's helper engines for the frontier (core/eval/lanes.ts): one nested Worker per
// lane, each with its own single-threaded copy of the pair, started after the pair's first estimate.
import * as Comlink from 'comlink';
import { laneCount, type LanePair, type Lanes, type StartLanes } from '../core/eval/lanes';
import type { LaneApi } from './evalLane.worker';

/** Lanes asked for by a test or the bench (EngineDebugApi.setFrontierEngines); null: laneCount's default. */
let requested: number | null = null;

export function requestFrontierEngines(n: number | null): void {
  requested = n;
}

/**
 * ExplorerEnv.openLanes for the wasm EP: how to start this pair's lanes, or null when laneCount says
 * one engine. Nothing starts here: the pair's PairLanes calls the start after its first estimate.
 */
export function openLaneWorkers(pair: LanePair): StartLanes | null {
  const cores = navigator.hardwareConcurrency ?? 1;
  const count = laneCount({ backend: 'wasm', cores, pairBytes: pair.pairBytes, requested });
  return count === 0 ? null : () => startLaneWorkers(pair, count);
}

/** `count` helper Workers, each with its own copy of the pair; closed again if any fails to start. */
function startLaneWorkers(pair: LanePair, count: number): Promise<Lanes> {
  const workers = Array.from(
    { length: count },
    (_, i) => new Worker(new URL('./evalLane.worker.ts', import.meta.url), { type: 'module', name: `wiseft-lane-${i}` }),
  );
  const { guarded, failAll } = guardedCalls();
  workers.forEach((w) => w.addEventListener('error', () => failAll('a helper engine stopped')));
  const dispose = async () => {
    failAll('the helper engines were closed');
    workers.forEach((w) => w.terminate());
  };
  const remotes = workers.map((w) => Comlink.wrap<LaneApi>(w));
  // The checkpoint bytes are copied into each Worker here, at the call: nothing keeps them afterwards.
  const { inputName, logits, labels } = pair;
  const opened = pair
    .files()
    .then(({ zeroShot, fineTuned }) =>
      Promise.all(remotes.map((r) => guarded(r.open({ zeroShot, fineTuned, inputName, logits, labels })))),
    );
  return opened.then(
    () => ({
      runs: remotes.map((r) => (alpha: number, input: { data: Float32Array; dims: number[] }) => guarded(r.run(alpha, input))),
      dispose,
    }),
    async (e: unknown) => {
      await dispose();
      throw e;
    },
  );
}

/**
 * A terminated or crashed Worker never answers: its calls in flight are failed by `failAll` instead,
 * so a job waits for no chunk that cannot come (the Explorer then runs it on its own engine, or drops it).
 */
function guardedCalls() {
  const pending = new Set<(e: Error) => void>();
  const failAll = (why: string) => {
    for (const fail of pending) fail(new Error(why));
    pending.clear();
  };
  const guarded = <T>(call: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      pending.add(reject);
      call.then(resolve, reject).finally(() => pending.delete(reject));
    });
  return { guarded, failAll };
}
