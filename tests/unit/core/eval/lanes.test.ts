import { describe, it, expect } from 'vitest';
import { FrontierEvaluator, type RunLogits } from '../../../../src/core/eval/evaluator';
import { laneCount, LANE_BUDGET_BYTES, PairLanes, type Lanes } from '../../../../src/core/eval/lanes';
import type { WorkItem, SetAccuracy } from '../../../../src/core/eval/frontier';
import { rng } from '../../../support/testPair';
import { evalSet, CLASSES, PREPROCESS, SIZE } from './fixtures';

const opts = { classes: CLASSES, preprocess: PREPROCESS };
const sets = () => [evalSet('reference', 250), evalSet('shift-a', 130, 'shift'), evalSet('shift-b', 60, 'shift')];

/** A model whose right and wrong images change with α and with the image, so bitsets differ between α. */
const varied: RunLogits = async (alpha, input) => {
  const n = input.dims[0]!;
  const out = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    const image = Math.round(input.data[i * 3 * SIZE * SIZE]! * 255);
    out[i * CLASSES + ((image + Math.floor(alpha * 3 + (image % 7) / 3)) % CLASSES)] = 1;
  }
  return out;
};

/** `run` behind a random delay, so lanes finish their chunks out of plan order; records when each chunk starts. */
function lane(run: RunLogits, seed: number, starts: string[], name: string): RunLogits {
  const r = rng(seed);
  return async (alpha, input) => {
    starts.push(`${alpha}|${Math.round(input.data[0]! * 255)}|${name}`);
    await new Promise((resolve) => setTimeout(resolve, Math.floor(r() * 4)));
    return run(alpha, input);
  };
}

type Event = { item: WorkItem; point: Record<string, SetAccuracy> };

async function evaluate(lanes: RunLogits[] | undefined, isStale: (events: Event[]) => boolean = () => false) {
  const ev = new FrontierEvaluator(varied, sets(), opts);
  const plan = ev.plan([0, 0.5, 1], 0.25);
  const events: Event[] = [];
  let resolved = false;
  let late = 0;
  const outcome = await ev.run(
    plan,
    () => isStale(events),
    (item, point) => (resolved ? late++ : events.push({ item, point })),
    lanes,
  );
  resolved = true;
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { ev, plan, events, outcome, late };
}

const key = (i: WorkItem) => `${i.alpha}|${i.setId}|${i.chunk}`;

describe('frontier evaluation on several lanes (eval/lanes.ts)', () => {
  it("two lanes finishing out of order give one engine's results: every point, bitset and ensemble, and one event per chunk", async () => {
    const one = await evaluate(undefined);
    const starts: string[] = [];
    const two = await evaluate([lane(varied, 1, starts, 'a'), lane(varied, 2, starts, 'b')]);
    expect(two.outcome).toBe('done');
    expect(two.ev.points()).toEqual(one.ev.points());
    expect(two.ev.endpoints.ensemble([0, 0.3, 1])).toEqual(one.ev.endpoints.ensemble([0, 0.3, 1]));
    expect(two.events.map((e) => key(e.item)).sort()).toEqual(one.events.map((e) => key(e.item)).sort());
    // Both lanes worked, and chunks started in the plan's order (current α first, coarse before fine).
    expect(new Set(starts.map((s) => s.split('|')[2]))).toEqual(new Set(['a', 'b']));
    expect(starts.map((s) => s.split('|').slice(0, 2).join('|'))).toEqual(two.plan.map((i) => `${i.alpha}|${i.start % 256}`));
    // Out of order, but no point ever reports fewer images than an earlier one at the same α.
    const seen = new Map<string, number>();
    for (const e of two.events)
      for (const [id, a] of Object.entries(e.point)) {
        expect(a.n).toBeGreaterThanOrEqual(seen.get(`${e.item.alpha}|${id}`) ?? 0);
        seen.set(`${e.item.alpha}|${id}`, a.n);
      }
  });

  it('once stale, both lanes stop: nothing is reported after the run resolves, and a chunk in flight is not recorded', async () => {
    const starts: string[] = [];
    const r = await evaluate([lane(varied, 3, starts, 'a'), lane(varied, 4, starts, 'b')], (events) => events.length >= 3);
    expect(r.outcome).toBe('superseded');
    expect(r.late).toBe(0);
    expect(r.events.length).toBeGreaterThanOrEqual(3);
    expect(r.events.length).toBeLessThan(r.plan.length);
    const recorded = r.plan.filter((i) => r.ev.results.has(i)).map(key);
    expect(recorded.sort()).toEqual(r.events.map((e) => key(e.item)).sort());
  });

  it("a failing lane fails the run only after the other lane's chunk in flight has settled, and nothing is reported after", async () => {
    let calls = 0;
    const failing: RunLogits = async () => {
      if (++calls === 3) throw new Error('lane lost');
      await new Promise((resolve) => setTimeout(resolve, 1));
      return new Float32Array(0);
    };
    const slow: RunLogits = async (a, i) => (await new Promise((resolve) => setTimeout(resolve, 20)), varied(a, i));
    const bad: RunLogits = async (a, i) => (await failing(a, i), varied(a, i));
    const events: WorkItem[] = [];
    let resolved = false;
    let late = 0;
    const ev = new FrontierEvaluator(varied, sets(), opts);
    const run = ev.run(
      ev.plan([0, 1], null),
      () => false,
      (item) => (resolved ? late++ : events.push(item)),
      [bad, slow],
    );
    await expect(run).rejects.toThrow('lane lost');
    resolved = true;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(late).toBe(0);
  });
});

describe('lanes still starting when a job begins', () => {
  it("run on the engine first, then the lanes take over once ready (the engine finishes its chunk in flight), with one engine's results", async () => {
    const one = await evaluate(undefined);
    const starts: string[] = [];
    let ready: (l: RunLogits[]) => void = () => undefined;
    const later = new Promise<RunLogits[]>((resolve) => (ready = resolve));
    const ev = new FrontierEvaluator(varied, sets(), opts);
    let events = 0;
    const outcome = await ev.run(
      ev.plan([0, 0.5, 1], 0.25),
      () => false,
      () => {
        if (++events === 3) ready([lane(varied, 6, starts, 'a'), lane(varied, 7, starts, 'b')]);
      },
      [lane(varied, 5, starts, 'engine')],
      later,
    );
    expect(outcome).toBe('done');
    expect(ev.points()).toEqual(one.ev.points());
    const names = starts.map((x) => x.split('|')[2]);
    const firstLane = names.findIndex((n) => n !== 'engine');
    expect(firstLane).toBeGreaterThanOrEqual(3);
    // At most the chunk it took before the lanes arrived, then never the engine again.
    expect(names.slice(firstLane + 1).filter((n) => n === 'engine').length).toBeLessThanOrEqual(1);
    expect(names.lastIndexOf('engine')).toBeLessThan(firstLane + 2);
    expect(new Set(names.slice(firstLane))).toEqual(new Set(['a', 'b']));
  });
});

describe('frontier lanes whose engine goes away', () => {
  it('a chunk failing after its job went stale (its lanes closed for a new pair) ends the job superseded, not failed', async () => {
    let stale = false;
    const closing: RunLogits = async (a, i) => {
      if (stale) throw new Error('the helper engines were closed');
      const out = await varied(a, i);
      stale = true;
      return out;
    };
    const ev = new FrontierEvaluator(varied, sets(), opts);
    const outcome = await ev.run(
      ev.plan([0, 1], null),
      () => stale,
      () => undefined,
      [closing, closing],
    );
    expect(outcome).toBe('superseded');
  });
});

describe('laneCount: how many engines the frontier runs on', () => {
  const small = 2_400_000;
  it('off unless asked for; asked for, two lanes on wasm for a small pair, none on WebGPU or over the budget', () => {
    expect(laneCount({ backend: 'wasm', cores: 2, pairBytes: small })).toBe(0);
    expect(laneCount({ backend: 'wasm', cores: 16, pairBytes: small })).toBe(0);
    const two = { backend: 'wasm' as const, cores: 2, requested: 2 };
    expect(laneCount({ ...two, pairBytes: small })).toBe(2);
    expect(laneCount({ ...two, backend: 'webgpu', pairBytes: small })).toBe(0);
    expect(laneCount({ ...two, pairBytes: 700 * 2 ** 20 })).toBe(0);
    expect(laneCount({ ...two, pairBytes: LANE_BUDGET_BYTES / 2 })).toBe(2);
    expect(laneCount({ ...two, pairBytes: LANE_BUDGET_BYTES / 2 + 1 })).toBe(0);
  });

  it('a requested count wins within the budget: 1 is the engine alone', () => {
    expect(laneCount({ backend: 'wasm', cores: 2, pairBytes: small, requested: 1 })).toBe(0);
    expect(laneCount({ backend: 'wasm', cores: 1, pairBytes: small, requested: 3 })).toBe(3);
    expect(laneCount({ backend: 'webgpu', cores: 2, pairBytes: small, requested: 2 })).toBe(0);
  });
});

describe("PairLanes: when a pair's helper engines start, and what runs where", () => {
  /** A start whose lanes arrive when the test says; counts its calls and the lanes' disposals. */
  function starter() {
    const log = { starts: 0, disposed: 0, runs: [] as string[] };
    let arrive: (l: Lanes) => void = () => undefined;
    let fail: (e: Error) => void = () => undefined;
    const lanes: Lanes = {
      runs: ['a', 'b'].map((name) => async (alpha, input) => (log.runs.push(name), varied(alpha, input))),
      dispose: async () => void log.disposed++,
    };
    const start = () => {
      log.starts++;
      return new Promise<Lanes>((resolve, reject) => ((arrive = resolve), (fail = reject)));
    };
    return { log, start, arrive: () => arrive(lanes), fail: (why: string) => fail(new Error(why)) };
  }
  const local: RunLogits = async (alpha, input) => varied(alpha, input);
  const input = { data: new Float32Array(3 * SIZE * SIZE), dims: [1, 3, SIZE, SIZE] };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('a first estimate never starts them; the first chunks do, on this engine until they are ready; then both use them', async () => {
    const s = starter();
    const lanes = new PairLanes(s.start, local);
    expect(lanes.forEstimate()).toBeUndefined();
    expect(s.log.starts).toBe(0);
    const first = lanes.forChunks();
    expect(s.log.starts).toBe(1);
    expect(first.now).toBeUndefined();
    // A later job while they start: still this engine now, the same start, not a second.
    expect(lanes.forEstimate()).toBeUndefined();
    const second = lanes.forChunks();
    expect(second.now).toBeUndefined();
    expect(s.log.starts).toBe(1);
    s.arrive();
    expect((await first.later!).length).toBe(2);
    expect(lanes.forEstimate()!.length).toBe(2);
    expect(lanes.forChunks().now!.length).toBe(2);
    expect(await lanes.engines()).toBe(2);
    await lanes.forEstimate()![1]!(0.5, input);
    expect(s.log.runs).toEqual(['b']);
  });

  it('a failed start leaves this engine alone: no lanes later, 1 engine, nothing to close', async () => {
    const s = starter();
    const lanes = new PairLanes(s.start, local);
    const { later } = lanes.forChunks();
    s.fail('out of memory');
    expect(await later!).toEqual([]);
    expect(await lanes.engines()).toBe(1);
    expect(lanes.forEstimate()).toBeUndefined();
    expect(lanes.forChunks()).toEqual({});
    expect(s.log.starts).toBe(1);
  });

  it('a lane that fails hands its run to this engine, and the lanes are closed once and not used again', async () => {
    let calls = 0;
    const lanes = new PairLanes(
      async () => ({
        runs: [
          async () => {
            throw new Error('a helper engine stopped');
          },
          async (a, i) => varied(a, i),
        ],
        dispose: async () => void calls++,
      }),
      async (a, i) => ((calls += 100), varied(a, i)),
    );
    expect(await lanes.engines()).toBe(2);
    const [bad] = lanes.forChunks().now!;
    expect(await bad!(0.5, input)).toEqual(await varied(0.5, input));
    await settle();
    expect(calls).toBe(101);
    expect(await lanes.engines()).toBe(1);
    expect(lanes.forChunks()).toEqual({});
  });

  it('closed while its helpers start: they are closed when they arrive and never used; closed before any job: never started', async () => {
    const s = starter();
    const lanes = new PairLanes(s.start, local);
    const { later } = lanes.forChunks();
    lanes.close();
    s.arrive();
    expect(await later!).toEqual([]);
    await settle();
    expect(s.log.disposed).toBe(1);
    expect(lanes.forEstimate()).toBeUndefined();
    const unused = starter();
    const never = new PairLanes(unused.start, local);
    never.close();
    expect(never.forChunks()).toEqual({});
    expect(await never.engines()).toBe(1);
    expect(unused.log.starts).toBe(0);
  });
});
