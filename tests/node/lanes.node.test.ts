// When a pair's helper engines start and when they take chunks (core/eval/lanes.ts PairLanes), in
// the real Explorer on onnxruntime-web's wasm EP in Node. The lanes here are engines in this process
// on the same pair (the Worker's are helper Workers); each logs when it is asked to start and when
// a lane run begins, so the tests read the order of events, never their timing.
import { describe, it, expect } from 'vitest';
import * as ortWeb from 'onnxruntime-web';
import { Explorer, type FrontierUpdate } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { BlendEngine, type OrtModule } from '../../src/core/runtime/engine';
import { engineLogits, type LanePair, type StartLanes } from '../../src/core/eval/lanes';
import { PREVIEW_IMAGES } from '../../src/core/eval/evaluator';
import { makeTestBundle, memorySource } from '../support/testBundle';

const ort = ortWeb as unknown as OrtModule;
ortWeb.env.wasm.numThreads = 1;
const GRID = [0, 0.5, 1];

/** In order: 'start' (the helpers asked to start), 'estimate' (the current α's first estimate reported), 'lane α n' (a lane run began on n images). */
type Log = string[];

/** ExplorerEnv.openLanes with two engines in this process, logging into `log`. */
function inProcessLanes(log: Log): (pair: LanePair) => StartLanes {
  return (pair) => async () => {
    log.push('start');
    const { zeroShot, fineTuned } = await pair.files();
    const opts = { ort, backend: 'wasm' as const, inputName: pair.inputName, labels: pair.labels };
    const engines = await Promise.all([0, 1].map(() => BlendEngine.create(zeroShot, fineTuned, opts)));
    return {
      runs: engines.map((e) => {
        const run = engineLogits(e, pair.logits);
        return async (alpha: number, input: { data: Float32Array; dims: number[] }) => {
          log.push(`lane ${alpha} ${input.dims[0]}`);
          // A helper Worker answers in a task of its own, never within the caller's microtasks.
          await new Promise((resolve) => setTimeout(resolve, 0));
          return run(alpha, input);
        };
      }),
      dispose: async () => void (await Promise.all(engines.map((e) => e.dispose()))),
    };
  };
}

/** onUpdate that logs 'estimate' at the first report at `alpha` (the first estimate, which comes before its chunks). */
const estimateAt = (log: Log, alpha: number) => (u: FrontierUpdate) => {
  if (u.alpha === alpha && !log.includes('estimate')) log.push('estimate');
};

const lanesIn = (log: Log) => log.filter((e) => e.startsWith('lane'));

async function explorerOn(log: Log | null): Promise<Explorer> {
  const ex = new Explorer({ ort, backend: 'wasm', ...(log ? { openLanes: inProcessLanes(log) } : {}) });
  await ex.loadPair(await loadBundle(memorySource(makeTestBundle().files)));
  return ex;
}

describe('helper engines and the first estimate (wasm EP, in-process lanes)', () => {
  it("start only once the loaded pair's first estimate is in, with no lane run before it; the results equal one engine's", async () => {
    const log: Log = [];
    const [one, two] = [await explorerOn(null), await explorerOn(log)];
    // Loading the pair starts nothing.
    expect(log).toEqual([]);
    expect(await two.evaluate(GRID, 0.3, estimateAt(log, 0.3))).toBe('done');
    expect(await one.evaluate(GRID, 0.3, () => undefined)).toBe('done');
    const estimate = log.indexOf('estimate');
    expect(estimate).toBe(0);
    expect(log.indexOf('start')).toBeGreaterThan(estimate);
    expect(two.snapshot()!.points).toEqual(one.snapshot()!.points);
    // Once ready, a job's estimate and chunks all run on them, with the same results.
    expect(await two.frontierEngines()).toBe(2);
    const before = lanesIn(log).length;
    expect(await two.evaluate([0.25, 0.75], 0.6, () => undefined)).toBe('done');
    expect(await one.evaluate([0.25, 0.75], 0.6, () => undefined)).toBe('done');
    expect(lanesIn(log).length).toBeGreaterThan(before);
    expect(two.snapshot()!.points).toEqual(one.snapshot()!.points);
    await Promise.all([one.dispose(), two.dispose()]);
  });

  it('a new α while the frontier runs on them: they take no new chunk until its first estimate is in, and run that estimate', async () => {
    const log: Log = [];
    const ex = await explorerOn(log);
    // The debug hook starts them (the app's first job would, after its estimate) and waits until they are ready.
    expect(await ex.frontierEngines()).toBe(2);
    let second = null as Promise<'done' | 'superseded'> | null;
    const first = ex.evaluate(GRID, null, () => {
      if (second || lanesIn(log).length < 3) return;
      log.push('new α');
      second = ex.evaluate(GRID, 0.37, estimateAt(log, 0.37));
    });
    expect(await first).toBe('superseded');
    expect(await second).toBe('done');
    const between = log.slice(log.indexOf('new α') + 1, log.indexOf('estimate'));
    expect(log.indexOf('estimate')).toBeGreaterThan(log.indexOf('new α'));
    // Only the estimate's own runs: a few images of each set at the new α, on the idle lanes.
    expect(between.length).toBeGreaterThan(0);
    for (const e of between) expect(e).toBe(`lane 0.37 ${PREVIEW_IMAGES}`);
    await ex.dispose();
  });
});
