// The linear-probe controller against the fake engine: one job at a time by id, its events shown
// live, the new member added to the pair's list (the member blended stays), Cancel and failures.
import { describe, it, expect } from 'vitest';
import { createAppStore, PAGE_FINETUNE } from '../../../src/state/store';
import { PAGE_FINETUNE as CORE_PAGE_FINETUNE } from '../../../src/core/train/endToEnd';
import { createLinearProbe, PROBE_EPOCHS } from '../../../src/state/controllers/linearProbe';
import { EngineError, type MemberSummary, type PathBlob, type TrainingResult } from '../../../src/worker/protocol';
import { FakeEngine, fakePair } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const FILES: PathBlob[] = ['train/a/1.png', 'train/a/2.png', 'train/b/1.png'].map((path) => ({ path, blob: new Blob([path]) }));

const PROBE: MemberSummary = {
  id: 'probe-1',
  name: 'Linear probe trained here on 2 images, seed 0',
  kind: 'linear-classifier',
  seed: 0,
  description: '',
  hasSweeps: false,
  recommendedAlpha: null,
};

function setup() {
  const engine = new FakeEngine();
  const store = createAppStore();
  const pair = fakePair();
  store.setState({ pair, resultsKey: pair.resultsKey });
  return { engine, store, pair, probe: createLinearProbe(engine, store) };
}

function done(jobId: number, pair = fakePair()): TrainingResult {
  return {
    status: 'done',
    jobId,
    member: PROBE,
    pair: { ...pair, members: [...pair.members, PROBE], trainedHere: [...pair.trainedHere, PROBE.id] },
    trainCount: 2,
    validation: { initial: 0.5, accuracy: 1, n: 1 },
    skipped: [],
  };
}

describe('the linear-probe controller', () => {
  it('does nothing without a folder; with one, starts one job with the folder, the recipe epochs and a seed', async () => {
    const { engine, store, probe } = setup();
    await Promise.race([probe.start(), settle()]);
    expect(engine.trainings).toHaveLength(0);
    probe.chooseFolder(FILES);
    expect(store.getState().probe.folder).toEqual({ name: 'train', files: 3 });
    void probe.start();
    void probe.start(); // a second Start while one runs is ignored
    await settle();
    expect(engine.trainings.map((t) => t.job)).toEqual([{ id: 1, files: FILES, epochs: PROBE_EPOCHS, seed: 0 }]);
    expect(store.getState().probe.running).toBe(1);
  });

  it('shows each stage and the live held-out accuracy with its n, then lists the new member and keeps the one blended', async () => {
    const { engine, store, pair, probe } = setup();
    probe.chooseFolder(FILES);
    const running = probe.start({ epochs: 3 });
    await settle();
    const t = engine.trainings[0]!;
    t.emit({ kind: 'decode', jobId: 1, done: 3, total: 3 });
    expect(store.getState().probe.stage).toEqual({ phase: 'decode', done: 3, total: 3 });
    t.emit({ kind: 'features', jobId: 1, done: 2, total: 3 });
    expect(store.getState().probe.stage).toEqual({ phase: 'features', done: 2, total: 3 });
    t.emit({ kind: 'epoch', jobId: 1, epoch: 1, epochs: 3, loss: 0.7, validation: { accuracy: 0.5, n: 1 } });
    expect(store.getState().probe).toMatchObject({ stage: { phase: 'epoch', done: 1, total: 3 }, validation: { accuracy: 0.5, n: 1 } });
    // End to end's passes over the held-out images: LP-FT's features of them, the accuracy after an epoch (the last number stays meanwhile).
    t.emit({ kind: 'training-render', jobId: 1, done: 50, total: 1024 });
    expect(store.getState().probe.stage).toEqual({ phase: 'training-render', done: 50, total: 1024 });
    t.emit({ kind: 'held-out-features', jobId: 1, done: 0, total: 4 });
    expect(store.getState().probe.stage).toEqual({ phase: 'held-out-features', done: 0, total: 4 });
    t.emit({ kind: 'held-out-accuracy', jobId: 1, epoch: 1, done: 32, total: 40 });
    expect(store.getState().probe).toMatchObject({
      stage: { phase: 'held-out-accuracy', epoch: 1, done: 32, total: 40 },
      validation: { accuracy: 0.5, n: 1 },
    });
    t.finish(done(1));
    await running;
    const s = store.getState();
    expect(s.pair!.members.map((m) => m.id)).toEqual(['ft', 'probe-1']);
    // The downloads offer every member trained here (TrainedExport): the Worker's list comes along.
    expect(s.pair!.trainedHere).toEqual(['probe-1']);
    expect(s.pair!.member).toBe(pair.member);
    expect(s.probe).toMatchObject({ running: null, stage: null, error: null });
    expect(s.probe.result).toEqual({
      memberId: 'probe-1',
      memberName: PROBE.name,
      trainCount: 2,
      validation: { initial: 0.5, accuracy: 1, n: 1 },
    });
  });

  it('Cancel stops the running job by its id; a cancelled job adds no member and says no error', async () => {
    const { engine, store, probe } = setup();
    probe.chooseFolder(FILES);
    const running = probe.start();
    await settle();
    probe.cancel();
    expect(engine.callsOf('cancelTraining')).toEqual([[1]]);
    engine.trainings[0]!.finish({ status: 'cancelled', jobId: 1 });
    await running;
    const s = store.getState();
    expect(s.pair!.members.map((m) => m.id)).toEqual(['ft']);
    expect(s.probe).toMatchObject({ running: null, result: null, error: null });
    expect(s.messages).toEqual([]);
  });

  it('Pause and Resume reach the running job by its id; Cancel while paused ends it, and the next job starts unpaused', async () => {
    const { engine, store, probe } = setup();
    probe.setPaused(true); // no job: nothing to pause
    expect(engine.callsOf('setTrainingPaused')).toEqual([]);
    probe.chooseFolder(FILES);
    const running = probe.start();
    await settle();
    probe.setPaused(true);
    expect(store.getState().probe.paused).toBe(true);
    probe.setPaused(false);
    probe.setPaused(true);
    probe.cancel();
    expect(engine.callsOf('setTrainingPaused')).toEqual([
      [1, true],
      [1, false],
      [1, true],
    ]);
    expect(engine.callsOf('cancelTraining')).toEqual([[1]]);
    engine.trainings[0]!.finish({ status: 'cancelled', jobId: 1 });
    await running;
    expect(store.getState().probe).toMatchObject({ running: null, paused: false, result: null });
    expect(store.getState().pair!.members.map((m) => m.id)).toEqual(['ft']);
  });

  it('a failure is said in words and the members stay; a result for another pair does not touch the list', async () => {
    const { engine, store, probe } = setup();
    probe.chooseFolder(FILES);
    const failing = probe.start();
    await settle();
    engine.trainings[0]!.fail(new EngineError('training', 'no images found: expected a folder laid out <class>/<image>'));
    await failing;
    expect(store.getState().probe.error).toMatch(/<class>\/<image>/);
    expect(store.getState().messages.at(-1)!.text).toMatch(/^The linear probe stopped: no images found/);
    const next = probe.start();
    await settle();
    engine.trainings[1]!.finish(done(2, fakePair({ bundleHash: 'another-bundle' })));
    await next;
    expect(store.getState().pair!.members.map((m) => m.id)).toEqual(['ft']);
    expect(store.getState().probe.error).toBeNull();
  });

  it('events of a job disposed of are dropped', async () => {
    const { engine, store, probe } = setup();
    probe.chooseFolder(FILES);
    void probe.start();
    await settle();
    probe.dispose();
    engine.trainings[0]!.emit({ kind: 'decode', jobId: 1, done: 1, total: 3 });
    expect(store.getState().probe.stage).toBeNull();
  });
});

describe('the end-to-end choice of the same controller', () => {
  it("starts with the page's copy of core's recipe, and runs fineTuneEndToEnd with the settings as set", async () => {
    expect(PAGE_FINETUNE).toEqual(CORE_PAGE_FINETUNE);
    const { engine, store, probe } = setup();
    probe.chooseFolder(FILES);
    probe.setMethod('end-to-end');
    probe.setFineTune({ epochs: 1, batchSize: 16 });
    probe.setFineTune({ lr: 3e-4 });
    void probe.start();
    await settle();
    expect(engine.callsOf('fineTuneEndToEnd')).toEqual([
      [{ id: 1, files: FILES, epochs: 1, lr: 3e-4, batchSize: 16, init: 'zero-shot', seed: 0 }],
    ]);
    expect(engine.callsOf('trainLinearProbe')).toEqual([]);
    probe.setMethod('linear-probe'); // not while a job runs
    expect(store.getState().probe.method).toBe('end-to-end');
  });

  it('shows each step with its loss, and keeps the last held-out accuracy between epoch ends', async () => {
    const { engine, store, probe } = setup();
    probe.chooseFolder(FILES);
    probe.setMethod('end-to-end');
    const running = probe.start();
    await settle();
    const t = engine.trainings[0]!;
    t.emit({ kind: 'step', jobId: 1, step: 2, steps: 4, epoch: 1, epochs: 2, loss: 0.9, validation: { accuracy: 0.5, n: 1 } });
    t.emit({ kind: 'step', jobId: 1, step: 3, steps: 4, epoch: 2, epochs: 2, loss: 0.6, validation: null });
    expect(store.getState().probe).toMatchObject({
      stage: { phase: 'step', done: 3, total: 4 },
      loss: 0.6,
      validation: { accuracy: 0.5, n: 1 },
    });
    t.finish(done(1));
    await running;
    expect(store.getState().pair!.members.map((m) => m.id)).toEqual(['ft', 'probe-1']);
  });

  it.each([
    [{ epochs: 0 }, /^Epochs must be a whole number ≥ 1; kept the previous value/],
    [{ batchSize: 2.5 }, /^The batch size must be a whole number ≥ 1/],
    [{ lr: Number.NaN }, /^The learning rate must be a positive number/],
    [{ lr: -1 }, /^The learning rate must be a positive number/],
  ])('refuses %o in words and keeps the settings it had', (patch, message) => {
    const { store, probe } = setup();
    const before = store.getState().probe.fineTune;
    probe.setFineTune(patch);
    expect(store.getState().probe.fineTune).toEqual(before);
    expect(store.getState().probe.error).toMatch(message);
  });

  it('a failure of an end-to-end job names it', async () => {
    const { engine, store, probe } = setup();
    probe.chooseFolder(FILES);
    probe.setMethod('end-to-end');
    const failing = probe.start();
    await settle();
    engine.trainings[0]!.fail(new EngineError('training', "'head.weight' is missing"));
    await failing;
    expect(store.getState().messages.at(-1)!.text).toMatch(/^The end-to-end fine-tune stopped: 'head.weight' is missing/);
  });
});
