// The "what fine-tuning moved" controller against a fake engine: nothing is asked while the panel
// is closed, one request per pair while it is open, a stale report is dropped, sorting flips.
import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createMoved } from '../../../src/state/controllers/moved';
import { EngineError, type MovedResult } from '../../../src/worker/protocol';
import { movedReport } from '../../../src/core/moved/moved';
import { sortRows } from '../../../src/core/moved/table';
import { FakeEngine, fakePair } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function report(bundleHash: string): MovedResult {
  const zs = new Map([
    ['enc.conv.weight', { shape: [4], values: Float32Array.of(1, 2, 3, 4) }],
    ['head.weight', { shape: [2], values: Float32Array.of(10, 10) }],
  ]);
  const ft = new Map([
    ['enc.conv.weight', { shape: [4], values: Float32Array.of(2, 2, 3, 4) }],
    ['head.weight', { shape: [2], values: Float32Array.of(10, 10.5) }],
  ]);
  return { ...movedReport(zs, [{ id: 'ft', name: 'Fine-tuned', weights: ft }], null), bundleHash };
}

function setup() {
  const engine = new FakeEngine();
  const store = createAppStore();
  store.setState({ pair: fakePair() });
  engine.pair = fakePair();
  return { engine, store, moved: createMoved(engine, store) };
}

describe('what fine-tuning moved, the panel', () => {
  it('asks the engine only once opened, keeps the report for its pair, and asks again for a new pair', async () => {
    const { engine, store, moved } = setup();
    expect(engine.callsOf('moved')).toHaveLength(0);
    moved.toggleMoved();
    expect(store.getState().moved).toEqual({ status: 'computing', bundleHash: 'bundle-1' });
    engine.movedAnswers[0]!.resolve(report('bundle-1'));
    await settle();
    expect(store.getState().moved).toMatchObject({ status: 'ready', report: { bundleHash: 'bundle-1' } });
    moved.toggleMoved();
    moved.toggleMoved();
    expect(engine.callsOf('moved')).toHaveLength(1);
    store.setState({ pair: fakePair({ bundleHash: 'bundle-2' }) });
    expect(engine.callsOf('moved')).toHaveLength(2);
    moved.dispose();
  });

  it('drops a report that arrives after the pair changed, says why a request failed, and asks again on reopening', async () => {
    const { engine, store, moved } = setup();
    moved.toggleMoved();
    store.setState({ pair: fakePair({ bundleHash: 'bundle-2' }) });
    engine.movedAnswers[0]!.resolve(report('bundle-1'));
    await settle();
    expect(store.getState().moved).toEqual({ status: 'computing', bundleHash: 'bundle-2' });
    engine.movedAnswers[1]!.reject(new EngineError('download', 'members/b.onnx could not be read'));
    await settle();
    expect(store.getState().moved).toEqual({ status: 'failed', bundleHash: 'bundle-2', error: 'members/b.onnx could not be read' });
    // Closing and reopening asks again.
    moved.toggleMoved();
    moved.toggleMoved();
    expect(engine.callsOf('moved')).toHaveLength(3);
    expect(store.getState().moved).toEqual({ status: 'computing', bundleHash: 'bundle-2' });
    moved.dispose();
  });

  it('sorts numbers largest first, flips on a second click, and sorts text A to Z', () => {
    const { store, moved } = setup();
    moved.sortMoved({ member: 0 });
    expect(store.getState().movedSort).toEqual({ key: { member: 0 }, descending: true });
    const r = report('bundle-1');
    // enc.conv.weight: 1/√30 ≈ 0.183; head.weight: 0.5/√200 ≈ 0.0354.
    expect(sortRows(r, store.getState().movedSort).map((x) => x.name)).toEqual(['enc.conv.weight', 'head.weight']);
    moved.sortMoved({ member: 0 });
    expect(sortRows(r, store.getState().movedSort).map((x) => x.name)).toEqual(['head.weight', 'enc.conv.weight']);
    moved.sortMoved('group');
    expect(store.getState().movedSort).toEqual({ key: 'group', descending: false });
    moved.dispose();
  });
});
