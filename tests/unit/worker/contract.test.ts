// The contract across a real comlink channel (Node's MessageChannel, as between the page and the
// Worker): an evaluation job's events all arrive before its result, and an EngineError keeps its
// code on the way.
import { describe, it, expect, afterEach } from 'vitest';
import * as Comlink from 'comlink';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  runEvaluationJob,
  runLayerJob,
  runSoupJob,
  type Evaluates,
  type EvaluatesLayers,
  type EvaluatesSoups,
} from '../../../src/worker/evaluationJob';
import type { SoupEvent, SoupJob, SoupResult } from '../../../src/worker/protocol';
import { registerEngineErrors } from '../../../src/worker/wire';
import {
  EngineError,
  type EvaluationEvent,
  type EvaluationJob,
  type EvaluationResult,
  type LayerEvent,
  type LayerJob,
  type LayerResult,
} from '../../../src/worker/protocol';
import type { FrontierUpdate } from '../../../src/core/explorer';
import { sendEvalImages, sendEvalLabels, type ShowsEvalSamples } from '../../../src/worker/evalSamples';
import { labelsOf, thumbnailsOf } from '../../../src/core/eval/samples';
import type { EvalLabels, EvalThumbnails } from '../../../src/worker/protocol';
import { evalSet, fakeLogits, CLASSES, PREPROCESS } from '../core/eval/fixtures';
import { FrontierEvaluator } from '../../../src/core/eval/evaluator';
import type { CalibrationReport, ResultsKey } from '../../../src/worker/protocol';
import type { MovedResult } from '../../../src/worker/protocol';
import { movedReport } from '../../../src/core/moved/moved';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

function channel<T>(impl: object): Comlink.Remote<T> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  Comlink.expose(impl, port1 as unknown as Comlink.Endpoint);
  return Comlink.wrap<T>(port2 as unknown as Comlink.Endpoint);
}

/** An engine that reports `chunks` updates synchronously, as Explorer does after each chunk. */
function engine(chunks: number, status: 'done' | 'superseded' = 'done'): Evaluates {
  return {
    async evaluate(_grid, _current, onUpdate) {
      for (let i = 1; i <= chunks; i++) {
        const u: FrontierUpdate = {
          resultsKey: 'k',
          alpha: 0.5,
          point: { reference: { correct: i, n: 100 * i, total: 100 * chunks } },
          progress: { done: i, total: chunks, chunkSize: 100 },
        };
        onUpdate(u);
      }
      return status;
    },
    snapshot: () => ({ resultsKey: 'k', points: { '0.5': { reference: { correct: chunks, n: 100 * chunks, total: 100 * chunks } } } }),
  };
}

const JOB: EvaluationJob = { id: 7, grid: [0, 0.5, 1], currentAlpha: 0.5 };

describe('an evaluation job across comlink', () => {
  it('every event reaches the page before the result, in order', async () => {
    const remote = channel<{ evaluate(job: EvaluationJob, onEvent: (e: EvaluationEvent) => void): Promise<EvaluationResult> }>({
      evaluate: (job: EvaluationJob, onEvent: (e: EvaluationEvent) => void) => runEvaluationJob(engine(50), job, onEvent),
    });
    const seen: number[] = [];
    const result = await remote.evaluate(
      JOB,
      Comlink.proxy((e: EvaluationEvent) => {
        if (e.kind === 'chunk') seen.push(e.progress.done);
      }),
    );
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(result).toEqual({
      status: 'done',
      jobId: 7,
      resultsKey: 'k',
      points: { '0.5': { reference: { correct: 50, n: 5000, total: 5000 } } },
    });
  });

  it('per-image bitsets arrive on the page as Uint8Arrays, in the chunk events and in the result', async () => {
    const images = { correct: new Uint8Array([0b101, 0]), seen: new Uint8Array([0xff, 0x03]) };
    const withImages: Evaluates = {
      async evaluate(_grid, _current, onUpdate) {
        onUpdate({
          resultsKey: 'k',
          alpha: 0,
          point: { reference: { correct: 2, n: 10, total: 10, images } },
          progress: { done: 1, total: 1, chunkSize: 100 },
        });
        return 'done';
      },
      snapshot: () => ({ resultsKey: 'k', points: { '0': { reference: { correct: 2, n: 10, total: 10, images } } } }),
    };
    const remote = channel<{ evaluate(job: EvaluationJob, onEvent: (e: EvaluationEvent) => void): Promise<EvaluationResult> }>({
      evaluate: (job: EvaluationJob, onEvent: (e: EvaluationEvent) => void) => runEvaluationJob(withImages, job, onEvent),
    });
    const got: EvaluationEvent[] = [];
    const result = await remote.evaluate(
      JOB,
      Comlink.proxy((e: EvaluationEvent) => void got.push(e)),
    );
    const sent = got[0]!.kind === 'chunk' ? got[0]!.point.reference!.images! : null;
    expect(sent!.correct).toBeInstanceOf(Uint8Array);
    expect([...sent!.correct, ...sent!.seen]).toEqual([0b101, 0, 0xff, 0x03]);
    const back = result.status === 'done' ? result.points['0']!.reference!.images! : null;
    expect([...back!.correct, ...back!.seen]).toEqual([0b101, 0, 0xff, 0x03]);
  });

  it('a superseded job says so, with its id', async () => {
    expect(await runEvaluationJob(engine(2, 'superseded'), JOB, () => undefined)).toEqual({ status: 'superseded', jobId: 7 });
  });
});

describe('eval labels and thumbnails across comlink', () => {
  it('arrive as typed arrays equal to the engine’s, their buffers transferred rather than copied', async () => {
    const sets = [evalSet('reference', 7), evalSet('shift', 3, 'shift')];
    const made: { labels: Int32Array[]; rgba: Uint8Array[] } = { labels: [], rgba: [] };
    const engine: ShowsEvalSamples = {
      evalLabels() {
        const r = { resultsKey: 'k', sets: labelsOf(sets) };
        made.labels.push(...Object.values(r.sets));
        return r;
      },
      evalImages(setId, indices) {
        const r = {
          resultsKey: 'k',
          setId,
          ...thumbnailsOf(
            sets.find((s) => s.spec.id === setId)!,
            indices,
          ),
        };
        made.rgba.push(...r.images.map((t) => t.rgba));
        return r;
      },
    };
    const remote = channel<{ evalLabels(): Promise<EvalLabels>; evalImages(id: string, i: number[]): Promise<EvalThumbnails> }>({
      evalLabels: () => sendEvalLabels(engine),
      evalImages: (id: string, i: number[]) => sendEvalImages(engine, id, i),
    });
    const labels = await remote.evalLabels();
    expect(labels.sets.reference).toBeInstanceOf(Int32Array);
    expect([...labels.sets.reference!]).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect([...labels.sets.shift!]).toEqual([0, 1, 2]);
    const thumbs = await remote.evalImages('reference', [5, 1]);
    expect(thumbs).toMatchObject({ resultsKey: 'k', setId: 'reference', size: 2 });
    expect(thumbs.images.map((t) => t.index)).toEqual([5, 1]);
    expect(thumbs.images[0]!.rgba).toBeInstanceOf(Uint8Array);
    // The fixture's image i is filled with the value i.
    expect([...thumbs.images[0]!.rgba]).toEqual([5, 5, 5, 255, 5, 5, 5, 255, 5, 5, 5, 255, 5, 5, 5, 255]);
    expect([...made.labels, ...made.rgba].map((a) => a.byteLength)).toEqual([0, 0, 0, 0]);
  });
});

describe('a per-layer job across comlink', () => {
  const layers: EvaluatesLayers = {
    async evaluateLayers(settings, _n, onUpdate) {
      settings.forEach((alphas, i) =>
        onUpdate({
          resultsKey: 'k',
          settingKey: `k|layers=${alphas.join(',')}`,
          alphas: [...alphas],
          point: { reference: { correct: i, n: 100, total: 1000 } },
          progress: { done: i + 1, total: settings.length, chunkSize: 100 },
        }),
      );
      return 'done';
    },
  };

  it('delivers every setting event, under its own setting key, before the result', async () => {
    const remote = channel<{ evaluateLayers(job: LayerJob, onEvent: (e: LayerEvent) => void): Promise<LayerResult> }>({
      evaluateLayers: (job: LayerJob, onEvent: (e: LayerEvent) => void) => runLayerJob(layers, job, onEvent),
    });
    const seen: string[] = [];
    const job: LayerJob = {
      id: 3,
      settings: [
        [0, 1],
        [1, 0],
        [0.5, 0.5],
      ],
      imagesPerSet: 100,
    };
    const result = await remote.evaluateLayers(
      job,
      Comlink.proxy((e: LayerEvent) => void seen.push(`${e.jobId} ${e.settingKey} ${e.progress.done}`)),
    );
    expect(seen).toEqual(['3 k|layers=0,1 1', '3 k|layers=1,0 2', '3 k|layers=0.5,0.5 3']);
    expect(result).toEqual({ status: 'done', jobId: 3 });
  });

  it("passes the job's firstEstimate to the engine, and none when the job has none", async () => {
    const asked: (boolean | undefined)[] = [];
    const engine: EvaluatesLayers = {
      async evaluateLayers(_settings, _n, _onUpdate, firstEstimate) {
        asked.push(firstEstimate);
        return 'done';
      },
    };
    const remote = channel<{ evaluateLayers(job: LayerJob, onEvent: (e: LayerEvent) => void): Promise<LayerResult> }>({
      evaluateLayers: (job: LayerJob, onEvent: (e: LayerEvent) => void) => runLayerJob(engine, job, onEvent),
    });
    const noop = Comlink.proxy(() => undefined);
    await remote.evaluateLayers({ id: 1, settings: [[0.5]], imagesPerSet: 100, firstEstimate: true }, noop);
    await remote.evaluateLayers({ id: 2, settings: [[0.5]], imagesPerSet: 1000 }, noop);
    expect(asked).toEqual([true, false]);
  });
});

describe('a soup job across comlink', () => {
  const soups: EvaluatesSoups = {
    async evaluateSoups(recipes, _n, onUpdate) {
      const point = { reference: { correct: 60, n: 100, total: 1000 } };
      onUpdate({ kind: 'model-stock', resultsKey: 'k', soupKey: 'k|soup:model-stock', layers: [{ id: 'head', cos: 0.5, t: 2 / 3 }] });
      recipes.forEach((r, i) =>
        onUpdate({
          kind: 'soup-chunk',
          resultsKey: 'k',
          soupKey: `k|soup:${r.kind}`,
          recipe: r.kind,
          weights: null,
          point,
          progress: { done: i + 1, chunkSize: 100 },
        }),
      );
      const step = { member: 1, alone: 0.6, candidate: 0.6, kept: true, soup: [1] };
      onUpdate({ kind: 'greedy-step', resultsKey: 'k', soupKey: 'k|soup:w=0,0,1', step });
      return 'done';
    },
  };

  it('delivers Model Stock, every soup chunk under its own key and the greedy step, in order, before the result', async () => {
    const remote = channel<{ evaluateSoups(job: SoupJob, onEvent: (e: SoupEvent) => void): Promise<SoupResult> }>({
      evaluateSoups: (job: SoupJob, onEvent: (e: SoupEvent) => void) => runSoupJob(soups, job, onEvent),
    });
    const seen: string[] = [];
    const job: SoupJob = { id: 4, recipes: [{ kind: 'uniform' }, { kind: 'model-stock' }], imagesPerSet: 100 };
    const result = await remote.evaluateSoups(
      job,
      Comlink.proxy((e: SoupEvent) => void seen.push(`${e.jobId} ${e.kind} ${e.soupKey}`)),
    );
    expect(seen).toEqual([
      '4 model-stock k|soup:model-stock',
      '4 soup-chunk k|soup:uniform',
      '4 soup-chunk k|soup:model-stock',
      '4 greedy-step k|soup:w=0,0,1',
    ]);
    expect(result).toEqual({ status: 'done', jobId: 4 });
  });
});

describe('engine errors across comlink', () => {
  it('keep their code, message, name and details; any other error arrives as internal', async () => {
    registerEngineErrors();
    const remote = channel<{ mismatch(): Promise<void>; plain(): Promise<void> }>({
      async mismatch() {
        const e = new EngineError('pair-mismatch', 'head.weight differs', [{ name: 'head.weight' }]);
        e.name = 'PairMismatchError';
        throw e;
      },
      async plain() {
        throw new TypeError('x is undefined');
      },
    });
    const e1 = await remote.mismatch().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(EngineError);
    expect(e1).toMatchObject({
      code: 'pair-mismatch',
      message: 'head.weight differs',
      name: 'PairMismatchError',
      details: [{ name: 'head.weight' }],
    });
    const e2 = await remote.plain().catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'internal', message: 'x is undefined' });
  });
});

describe('a moved report across comlink', () => {
  it('arrives equal, nulls (θ₀ all zero, no cosine) included', async () => {
    const zs = new Map([
      ['a.weight', { shape: [2, 2], values: Float32Array.of(1, 2, 3, 4) }],
      ['a.bias', { shape: [2], values: Float32Array.of(0, 0) }],
    ]);
    const ft = new Map([
      ['a.weight', { shape: [2, 2], values: Float32Array.of(1.5, 2, 3, 3) }],
      ['a.bias', { shape: [2], values: Float32Array.of(0.1, 0) }],
    ]);
    const report: MovedResult = { ...movedReport(zs, [{ id: 'ft', name: 'Fine-tuned', weights: ft }], null), bundleHash: 'b' };
    expect(report.rows[1]!.relativeChange).toEqual([null]);
    const remote = channel<{ moved(): Promise<MovedResult> }>({ moved: async () => report });
    expect(await remote.moved()).toEqual(report);
  });
});

describe('a calibration report across comlink', () => {
  it('arrives equal: prototype-free records, NaN-free numbers, an infinite NLL', async () => {
    const sets = [evalSet('reference', 120), evalSet('shift', 100, 'shift')];
    const ev = new FrontierEvaluator(fakeLogits, sets, { classes: CLASSES, preprocess: PREPROCESS, calibrationBudget: 2 ** 20 });
    await ev.run(
      ev.plan([0, 1], null),
      () => false,
      () => undefined,
    );
    const report: CalibrationReport = {
      ...ev.calibrationReport({ alpha: 1, grid: [0, 0.5, 1], temperature: true })!,
      resultsKey: 'k' as ResultsKey,
    };
    report.weight.points['1']!.shift!.nll = Infinity;
    const remote = channel<{ calibration(): Promise<CalibrationReport> }>({ calibration: async () => report });
    const got = await remote.calibration();
    expect(got).toEqual(report);
    expect(Object.keys(got.output.points).sort()).toEqual(['0', '0.5', '1']);
    expect(got.weight.reliability.reference!.bins).toHaveLength(15);
  });
});
