// The soups' state: the triangle's 66 cells and their order, soup estimates read from the soups'
// own results only, the hash, and the controller (phases, keys, the greedy animation).
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createSoups, GREEDY_STEP_MS } from '../../../src/state/controllers/soups';
import { EVAL_DEBOUNCE_MS } from '../../../src/state/controllers/evaluation';
import {
  SOUP_FIRST_IMAGES,
  triangleCells,
  triangleMembers,
  triangleOrder,
  soupEstimate,
  weightsKey,
  uniformWeights,
} from '../../../src/state/soups';
import { parseHash, formatHash, DEFAULT_HASH } from '../../../src/state/hash';
import { soupKey } from '../../../src/core/eval/ids';
import type { MemberSummary, ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, acc } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const member = (id: string, kind: MemberSummary['kind']): MemberSummary => ({
  id,
  name: id,
  kind,
  seed: null,
  description: '',
  hasSweeps: false,
  recommendedAlpha: null,
});
const threeMembers = () =>
  fakePair({ members: [member('lin', 'linear-classifier'), member('s0', 'end-to-end'), member('s1', 'end-to-end')] });

describe('the triangle', () => {
  it('has 66 cells on a 0.1 grid whose weights sum to 1, over zero-shot and the first two end-to-end members', () => {
    const pair = threeMembers();
    const members = triangleMembers(pair)!;
    expect(members).toEqual([2, 3]);
    const cells = triangleCells(4, members);
    expect(cells).toHaveLength(66);
    for (const c of cells) {
      expect(c.weights[1]).toBe(0);
      expect(c.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    expect(new Set(cells.map((c) => c.weights.join(','))).size).toBe(66);
    expect(cells.find((c) => c.steps.join() === '7,3,0')!.weights).toEqual([0.7, 0, 0.3, 0]);
  });

  it("puts the current α's cell on the zero-shot → member edge first", () => {
    const order = triangleOrder(triangleCells(3, [1, 2]), 0.42);
    expect(order[0]!.weights).toEqual([0.6, 0.4, 0]);
    expect(order).toHaveLength(66);
  });

  it('needs two fine-tuned members', () => {
    expect(triangleMembers(fakePair())).toBeNull();
  });
});

describe('soup estimates', () => {
  it("read the soup's own results, the mean over shift sets as the chart does, and nothing from α points", () => {
    const pair = threeMembers();
    const key = weightsKey(pair, [0, 0.5, 0.5]);
    expect(key).toBe(soupKey('bundle-1', 'w=0,0.5,0.5'));
    const soupPoints = { [key]: { reference: acc(90, 100, 200), shift: acc(40, 100) } };
    const e = soupEstimate(pair, soupPoints, key, 'mean')!;
    expect(e.reference.value).toBe(0.9);
    expect(e.shift.value).toBe(0.4);
    expect(e.reference.n).toBe(100);
    expect(soupEstimate(pair, { '0.5': soupPoints[key]! }, key, 'mean')).toBeNull();
  });

  it('builds the uniform weights the engine builds', () => {
    expect(uniformWeights(4)).toEqual([0, 1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('the URL hash', () => {
  it('round-trips the soups panel and the triangle view, and drops an unknown view', () => {
    const h = { ...DEFAULT_HASH, soups: true, triangle: 'shift' as const };
    expect(formatHash(h)).toContain('soups=1&triangle=shift');
    expect(parseHash(formatHash(h))).toEqual(h);
    expect(parseHash('#soups=1&triangle=heat').triangle).toBeNull();
  });
});

describe('the soups controller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const engine = new FakeEngine();
    const store = createAppStore();
    const soups = createSoups(engine, store);
    store.setState({ pair: threeMembers(), alpha: 0.3 });
    vi.advanceTimersByTime(0);
    return { engine, store, soups };
  }

  it('evaluates the soups on 100 images, then the triangle (current cell first), then the soups on every image', async () => {
    const { engine, store, soups } = setup();
    expect(engine.soupJobs).toHaveLength(0);
    soups.setTriangle('reference');
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    expect(store.getState().soupsOn).toBe(true);
    const first = engine.soupJobs.at(-1)!;
    expect(first.job).toMatchObject({
      imagesPerSet: SOUP_FIRST_IMAGES,
      recipes: [{ kind: 'uniform' }, { kind: 'greedy' }, { kind: 'model-stock' }],
    });
    first.finish({ status: 'done', jobId: first.job.id });
    await settle();
    const cells = engine.soupJobs.at(-1)!;
    expect(cells.job.recipes).toHaveLength(66);
    expect(cells.job.recipes[0]).toEqual({ kind: 'weights', weights: [0.7, 0, 0.3, 0] });
    cells.finish({ status: 'done', jobId: cells.job.id });
    await settle();
    expect(engine.soupJobs.at(-1)!.job.imagesPerSet).toBe(200);
    soups.dispose();
  });

  it('keeps soup chunks under their key (never in points), and reveals greedy steps one at a time', () => {
    const { engine, store, soups } = setup();
    soups.setSoupsOn(true);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    const { job, emit } = engine.soupJobs.at(-1)!;
    const key = soupKey('bundle-1', 'w=0,0,0.5,0.5');
    const base = { jobId: job.id, resultsKey: 'bundle-1' as ResultsKey };
    emit({
      ...base,
      kind: 'soup-chunk',
      soupKey: key,
      recipe: 'greedy',
      weights: [0, 0, 0.5, 0.5],
      point: { reference: acc(9, 10) },
      progress: { done: 1, chunkSize: 100 },
    });
    emit({
      ...base,
      kind: 'soup-chunk',
      soupKey: key,
      recipe: 'greedy',
      weights: [0, 0, 0.5, 0.5],
      point: { reference: acc(1, 5) },
      progress: { done: 2, chunkSize: 100 },
    });
    emit({
      ...base,
      resultsKey: 'other' as ResultsKey,
      kind: 'soup-chunk',
      soupKey: 'other|soup:x',
      recipe: 'uniform',
      weights: null,
      point: {},
      progress: { done: 3, chunkSize: 100 },
    });
    expect(store.getState().soupPoints).toEqual({ [key]: { reference: acc(9, 10) } });
    expect(store.getState().points).toEqual({});
    const step = (member: number, kept: boolean) => ({ member, alone: 0.9, candidate: 0.9, kept, soup: [member] });
    emit({ ...base, kind: 'greedy-step', soupKey: key, step: step(1, true) });
    emit({ ...base, kind: 'greedy-step', soupKey: key, step: step(2, false) });
    emit({ ...base, jobId: job.id - 1, kind: 'greedy-step', soupKey: key, step: step(0, false) });
    expect(store.getState().greedySteps).toHaveLength(2);
    expect(store.getState().greedyShown).toBe(0);
    vi.advanceTimersByTime(GREEDY_STEP_MS);
    expect(store.getState().greedyShown).toBe(1);
    vi.advanceTimersByTime(GREEDY_STEP_MS * 3);
    expect(store.getState().greedyShown).toBe(2);
    soups.dispose();
  });

  it('starts afresh for a new pair and stops its timers on dispose', () => {
    const { store, soups } = setup();
    store.setState({
      soupPoints: { x: {} },
      greedySteps: [{ step: { member: 0, alone: 1, candidate: 1, kept: true, soup: [0] }, soupKey: 'x' }],
    });
    store.setState({ pair: fakePair({ resultsKey: 'bundle-2' as ResultsKey }) });
    expect(store.getState()).toMatchObject({ soupPoints: {}, greedySteps: [], greedyShown: 0 });
    soups.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});
