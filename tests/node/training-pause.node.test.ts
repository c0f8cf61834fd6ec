// Pause and resume of a training job (worker/trainingJob.ts with core/train/pause.ts), on the real
// trainers and the bundled pair in Node: a paused job makes no progress and takes no CPU, resumes to
// the very member an unpaused run with the same seed gives, and a cancel while paused ends it (LP-FT
// paused in its first stage included).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { encode } from 'fast-png';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { decodeSprite, pixelsOf } from '../../src/core/eval/sprites';
import { PauseGate } from '../../src/core/train/pause';
import { runFineTuneJob, runTrainingJob, type TrainingDeps, type TrainedOutcome } from '../../src/worker/trainingJob';
import type { FineTuneJob, PathBlob, TrainingEvent, TrainingJob } from '../../src/worker/protocol';

const DIR = 'public/pairs/shapes';
const IMAGES = 40;
const PAUSED_MS = 600;

let explorer: Explorer;
let deps: Omit<TrainingDeps, 'pause'>;
let files: PathBlob[];

beforeAll(async () => {
  const bundle = await loadBundle(dirSource(DIR));
  explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  await explorer.loadPair(bundle);
  const m = bundle.manifest;
  const ref = decodeSprite(m.eval!.sets[0]!, bundle.sprites.get('reference')!);
  const pixels = pixelsOf(ref);
  const per = 32 * 32 * 3;
  // A <class>/<image> folder of PNGs, as a user would drop it: the first reference images.
  files = Array.from({ length: IMAGES }, (_, i) => {
    const data = pixels.slice(i * per, (i + 1) * per);
    const png = encode({ width: 32, height: 32, data, channels: 3, depth: 8 }) as Uint8Array<ArrayBuffer>;
    return { path: `mine/${m.classes[ref.labels[i]!]}/${i}.png`, blob: new Blob([png]) };
  });
  deps = { explorer, zeroShot: bundle.zeroShot, pair: { classes: m.classes, inputSize: 32 }, memberId: 'probe-1' };
}, 120_000);

afterAll(async () => {
  await explorer?.dispose();
});

const FINE_TUNE: FineTuneJob = { id: 1, files: [], epochs: 2, lr: 1e-4, batchSize: 8, seed: 4 };
const PROBE: TrainingJob = { id: 2, files: [], epochs: 40, seed: 4 };

type Run = (d: TrainingDeps, onEvent: (e: TrainingEvent) => void, signal: AbortSignal) => Promise<TrainedOutcome | 'cancelled'>;
const fineTuneRun: Run = (d, onEvent, signal) => runFineTuneJob(d, { ...FINE_TUNE, files }, onEvent, signal);
const lpftRun: Run = (d, onEvent, signal) => runFineTuneJob(d, { ...FINE_TUNE, files, init: 'linear-probe' }, onEvent, signal);
const probeRun: Run = (d, onEvent, signal) => runTrainingJob(d, { ...PROBE, files }, onEvent, signal);

/** How far a job got: its steps (end to end) or epochs (probe). */
const progressOf = (e: TrainingEvent) => (e.kind === 'step' ? e.step : e.kind === 'epoch' ? e.epoch : null);

/**
 * Runs a job that pauses itself at its `at`-th progress event, then waits PAUSED_MS and measures
 * what happened meanwhile; `whilePaused` decides what ends the pause (resume or cancel).
 */
async function pausedRun(run: Run, at: number, whilePaused: (gate: PauseGate, ctl: AbortController) => void) {
  const gate = new PauseGate();
  const ctl = new AbortController();
  const seen: number[] = [];
  let signalPaused!: () => void;
  const paused = new Promise<void>((resolve) => (signalPaused = resolve));
  const result = run(
    { ...deps, pause: gate },
    (e) => {
      const p = progressOf(e);
      if (p === null) return;
      seen.push(p);
      if (seen.length === at) {
        gate.pause();
        signalPaused();
      }
    },
    ctl.signal,
  );
  await paused;
  const before = seen.length;
  const cpu = process.cpuUsage();
  await new Promise((r) => setTimeout(r, PAUSED_MS));
  const used = process.cpuUsage(cpu);
  const during = { events: seen.length - before, cpuMs: (used.user + used.system) / 1000 };
  whilePaused(gate, ctl);
  return { result: await result, seen, during };
}

const bytesOf = (r: TrainedOutcome | 'cancelled') => {
  if (r === 'cancelled') throw new Error('the job was cancelled');
  return Buffer.from(r.member.bytes);
};

describe.each([
  ['an end-to-end fine-tune', fineTuneRun, 3],
  // Paused at its probe's first epoch: the pause holds across LP-FT's two stages, and a cancel there ends it.
  ['an LP-FT fine-tune', lpftRun, 1],
  // The probe's epochs are thinned to a few events a second (trainingJob.ts); the first always comes.
  ['a linear probe', probeRun, 1],
] as const)('pausing %s', (_name, run, at) => {
  it('makes no progress and takes no CPU while paused, and resumes to the same member as an unpaused run with the same seed', async () => {
    const plain = await run({ ...deps }, () => undefined, new AbortController().signal);
    const { result, seen, during } = await pausedRun(run, at, (gate) => gate.resume());
    expect(during.events).toBe(0);
    // Waiting on a promise, not polling: a few ms of timers and GC at most in PAUSED_MS.
    expect(during.cpuMs).toBeLessThan(PAUSED_MS / 4);
    expect(seen.length).toBeGreaterThan(at);
    expect(bytesOf(result).equals(bytesOf(plain))).toBe(true);
  }, 300_000);

  it("cancelled while paused, it resolves 'cancelled' with no progress after the pause", async () => {
    const { result, seen } = await pausedRun(run, at, (_gate, ctl) => ctl.abort(new Error('cancelled by the user')));
    expect(result).toBe('cancelled');
    expect(seen.length).toBe(at);
  }, 300_000);
});
