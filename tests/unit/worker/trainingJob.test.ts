// The Worker's training job without a browser: a <class>/<image> folder of PNGs (decoded in JS,
// as the Worker does for PNGs), an explorer that reports like Explorer.linearProbe, and the real
// zero-shot checkpoint the head is written into. Across a real comlink channel every event reaches
// the page before the result; an aborted job says 'cancelled'.
import { describe, it, expect, afterEach } from 'vitest';
import * as Comlink from 'comlink';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { endToEndEvent, runFineTuneJob, runTrainingJob, type TrainingDeps } from '../../../src/worker/trainingJob';
import type { EndToEndProgress, EndToEndSettings } from '../../../src/core/train/endToEnd';
import { planTrainingFolder } from '../../../src/core/train/folder';
import { parseManifest } from '../../../src/core/bundle/manifest';
import type { ProbeImages, ProbeProgress } from '../../../src/core/train/probe';
import type { FineTuneJob, PathBlob, TrainingEvent, TrainingJob } from '../../../src/worker/protocol';

const PAIR = 'public/pairs/shapes';
const zeroShot = new Uint8Array(readFileSync(`${PAIR}/zeroshot.onnx`));
const classes = parseManifest(readFileSync(`${PAIR}/manifest.json`, 'utf8')).classes;

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

function png(value: number): Blob {
  return new Blob([
    encode({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(value), channels: 3, depth: 8 }) as Uint8Array<ArrayBuffer>,
  ]);
}

const FILES: PathBlob[] = [
  { path: 'mine/circle/1.png', blob: png(10) },
  { path: 'mine/circle/2.png', blob: png(20) },
  { path: 'mine/star/1.png', blob: png(30) },
  { path: 'mine/star/notes.txt', blob: new Blob(['not an image']) },
];

/** Reports as Explorer.linearProbe does (a feature pass, then `epochs` epochs) and returns the zero-shot head. */
function explorer(epochs: number, seen: ProbeImages[]): TrainingDeps['explorer'] {
  return {
    async linearProbe(images: ProbeImages, head, _settings, onProgress: (p: ProbeProgress) => void, signal?: AbortSignal) {
      seen.push(images);
      onProgress({ phase: 'features', done: images.count, total: images.count });
      for (let e = 1; e <= epochs; e++) {
        signal?.throwIfAborted();
        onProgress({ phase: 'epoch', epoch: e, epochs, loss: 1 / e, validation: { accuracy: 0.5, n: 1 } });
      }
      return { head, trainCount: 2, validation: { initial: 0.25, accuracy: 0.5, n: 1 } };
    },
    /** Reports as Explorer.fineTuneEndToEnd does (a step at a time, the held-out accuracy at an epoch's end) and returns the zero-shot model. */
    async fineTuneEndToEnd(model, images, settings: EndToEndSettings, onProgress: (p: EndToEndProgress) => void, signal?: AbortSignal) {
      if (!('kind' in images)) seen.push(images);
      const steps = 2 * settings.epochs;
      for (let step = 1; step <= steps; step++) {
        signal?.throwIfAborted();
        const validation = step % 2 === 0 ? { accuracy: 0.5, n: 1 } : null;
        onProgress({ step, steps, epoch: Math.ceil(step / 2), epochs: settings.epochs, loss: 1 / step, validation });
      }
      return { model, trainCount: 2, validation: { initial: 0.25, accuracy: 0.5, n: 1 }, probeHead: null };
    },
  };
}

const JOB: TrainingJob = { id: 3, files: FILES, epochs: 500, seed: 0 };

describe('a training job', () => {
  it('plans <class>/<image> under a wrapping folder, leaves non-images out, and names folders that are no class', () => {
    expect(
      planTrainingFolder(
        FILES.map((f) => f.path),
        classes,
      ),
    ).toEqual([
      { path: 'mine/circle/1.png', label: 0 },
      { path: 'mine/circle/2.png', label: 0 },
      { path: 'mine/star/1.png', label: 3 },
    ]);
    expect(() => planTrainingFolder(['mine/cat/1.png', 'mine/star/1.png'], classes)).toThrow(
      /1 folder \('cat'\) match none of the pair's classes/,
    );
    expect(() => planTrainingFolder(['a.txt'], classes)).toThrow(/no images found: expected a folder laid out <class>\/<image>/);
  });

  it('decodes the folder, sends every event before its result across comlink, and writes the head into the zero-shot model', async () => {
    const seen: ProbeImages[] = [];
    const deps: TrainingDeps = { explorer: explorer(500, seen), zeroShot, pair: { classes, inputSize: 32 }, memberId: 'probe-1' };
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    Comlink.expose(
      {
        train: (job: TrainingJob, onEvent: (e: TrainingEvent) => void) =>
          runTrainingJob(deps, job, onEvent, new AbortController().signal).then((r) => (r === 'cancelled' ? r : r.member.spec)),
      },
      port1 as unknown as Comlink.Endpoint,
    );
    const remote = Comlink.wrap<{ train(job: TrainingJob, onEvent: (e: TrainingEvent) => void): Promise<unknown> }>(
      port2 as unknown as Comlink.Endpoint,
    );
    const events: TrainingEvent[] = [];
    const spec = await remote
      .train(
        { ...JOB, files: [] },
        Comlink.proxy((e: TrainingEvent) => void events.push(e)),
      )
      .catch((e: unknown) => e);
    expect((spec as Error).message).toMatch(/no images found/);
    events.length = 0;
    const member = (await remote.train(
      JOB,
      Comlink.proxy((e: TrainingEvent) => void events.push(e)),
    )) as { id: string; kind: string; model: { bytes: number; path: string } };
    expect(seen[0]!.count).toBe(3);
    expect(Array.from(seen[0]!.labels)).toEqual([0, 0, 3]);
    // A flat 32×32 PNG stays flat through the bicubic resize: each image is its value, pixel for pixel.
    expect([seen[0]!.pixels[0], seen[0]!.pixels[3072], seen[0]!.pixels[2 * 3072]]).toEqual([10, 20, 30]);
    expect(events[0]).toEqual({ kind: 'decode', jobId: 3, done: 3, total: 3 });
    expect(events[1]).toEqual({ kind: 'features', jobId: 3, done: 3, total: 3 });
    // Epochs are thinned to a few a second, but the last always arrives, before the result.
    expect(events.at(-1)).toMatchObject({ kind: 'epoch', epoch: 500, epochs: 500 });
    expect(events.filter((e) => e.kind === 'epoch').length).toBeLessThan(500);
    expect(member).toMatchObject({ id: 'probe-1', kind: 'linear-classifier', model: { path: 'in-memory/probe-1.onnx' } });
    expect(member.model.bytes).toBeGreaterThan(zeroShot.length * 0.9);
  });

  it('an end-to-end job sends every step before its result across comlink and becomes an end-to-end member', async () => {
    const seen: ProbeImages[] = [];
    const deps: TrainingDeps = { explorer: explorer(0, seen), zeroShot, pair: { classes, inputSize: 32 }, memberId: 'probe-3' };
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    const train = (job: FineTuneJob, onEvent: (e: TrainingEvent) => void) =>
      runFineTuneJob(deps, job, onEvent, new AbortController().signal).then((r) => (r === 'cancelled' ? r : r.member.spec));
    Comlink.expose({ train }, port1 as unknown as Comlink.Endpoint);
    const remote = Comlink.wrap<{ train: typeof train }>(port2 as unknown as Comlink.Endpoint);
    const events: TrainingEvent[] = [];
    const member = (await remote.train(
      { ...JOB, epochs: 3, lr: 1e-4, batchSize: 2 },
      Comlink.proxy((e: TrainingEvent) => void events.push(e)),
    )) as { id: string; kind: string; name: string };
    expect(Array.from(seen[0]!.labels)).toEqual([0, 0, 3]);
    expect(events[0]).toEqual({ kind: 'decode', jobId: 3, done: 3, total: 3 });
    const steps = events.filter((e) => e.kind === 'step');
    // Every step arrives (they take a second each; nothing to thin), the held-out number at epoch ends.
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(steps.map((e) => e.validation?.accuracy ?? null)).toEqual([null, 0.5, null, 0.5, null, 0.5]);
    expect(member).toMatchObject({ id: 'probe-3', kind: 'end-to-end' });
    expect(member.name).toBe('Fine-tuned end to end here on 2 images, 3 epochs, seed 0');
  });

  it("an LP-FT job asks for LP-FT, its feature batches and probe epochs reach the page as a probe's, and its member says where it started", async () => {
    expect(endToEndEvent(4, { phase: 'features', done: 3, total: 9 })).toEqual({ kind: 'features', jobId: 4, done: 3, total: 9 });
    const epoch = { epoch: 1, epochs: 5, loss: 0.5, validation: { accuracy: 0.7, n: 3 } };
    expect(endToEndEvent(4, { phase: 'epoch', ...epoch })).toEqual({ kind: 'epoch', jobId: 4, ...epoch });
    // The passes over the held-out images reach the page with what they are and how far they got.
    expect(endToEndEvent(4, { phase: 'held-out-features', done: 0, total: 9 })).toEqual({
      kind: 'held-out-features',
      jobId: 4,
      done: 0,
      total: 9,
    });
    expect(endToEndEvent(4, { phase: 'training-render', done: 50, total: 1024 })).toEqual({
      kind: 'training-render',
      jobId: 4,
      done: 50,
      total: 1024,
    });
    const accuracyPass = { epoch: 2, done: 32, total: 100 };
    expect(endToEndEvent(4, { phase: 'held-out-accuracy', ...accuracyPass })).toEqual({
      kind: 'held-out-accuracy',
      jobId: 4,
      ...accuracyPass,
    });
    const asked: EndToEndSettings[] = [];
    const base = explorer(0, []);
    const deps: TrainingDeps = {
      explorer: {
        ...base,
        fineTuneEndToEnd: (m, i, settings, p, sig) => (asked.push(settings), base.fineTuneEndToEnd(m, i, settings, p, sig)),
      },
      zeroShot,
      pair: { classes, inputSize: 32 },
      memberId: 'probe-4',
    };
    const job: FineTuneJob = { ...JOB, epochs: 1, lr: 1e-4, batchSize: 2, init: 'linear-probe' };
    const r = await runFineTuneJob(deps, job, () => undefined, new AbortController().signal);
    if (r === 'cancelled') throw new Error('not cancelled');
    expect(asked.map((a) => a.init)).toEqual(['linear-probe']);
    expect(r.member.spec.description).toContain('from a head first fitted on the frozen zero-shot features (LP-FT');
    const plain = await runFineTuneJob(deps, { ...job, init: undefined }, () => undefined, new AbortController().signal);
    if (plain === 'cancelled') throw new Error('not cancelled');
    expect(asked.map((a) => a.init)).toEqual(['linear-probe', 'zero-shot']);
    expect(plain.member.spec.description).toContain('from the zero-shot model');
  });

  it("an aborted job resolves 'cancelled' (not an error) and reports nothing after the abort", async () => {
    const ctl = new AbortController();
    const deps: TrainingDeps = { explorer: explorer(1_000_000, []), zeroShot, pair: { classes, inputSize: 32 }, memberId: 'probe-2' };
    const kinds: string[] = [];
    const r = runTrainingJob(
      deps,
      JOB,
      (e) => {
        kinds.push(e.kind);
        if (e.kind === 'features') ctl.abort(new Error('cancelled by the user'));
      },
      ctl.signal,
    );
    expect(await r).toBe('cancelled');
    expect(kinds).toEqual(['decode', 'features']);
  });

  it("an end-to-end job aborted mid-training resolves 'cancelled' and reports no step after the abort", async () => {
    const ctl = new AbortController();
    const deps: TrainingDeps = { explorer: explorer(0, []), zeroShot, pair: { classes, inputSize: 32 }, memberId: 'probe-4' };
    const steps: number[] = [];
    const job: FineTuneJob = { ...JOB, epochs: 1000, lr: 1e-4, batchSize: 2 };
    const r = runFineTuneJob(
      deps,
      job,
      (e) => {
        if (e.kind !== 'step') return;
        steps.push(e.step);
        if (e.step === 3) ctl.abort(new Error('cancelled by the user'));
      },
      ctl.signal,
    );
    expect(await r).toBe('cancelled');
    expect(steps).toEqual([1, 2, 3]);
  });
});
