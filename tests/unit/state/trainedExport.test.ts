// The trained member's downloads against the fake engine: the ONNX file and the bundle's .zip under
// names that say which pair and member, one export at a time, progress shown, a failure in words.
import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createTrainedExport } from '../../../src/state/controllers/trainedExport';
import { EngineError } from '../../../src/worker/protocol';
import { FakeEngine, fakePair } from '../../support/fakeEngine';

function setup() {
  const engine = new FakeEngine();
  const store = createAppStore();
  const pair = { ...fakePair(), name: 'Shapes world (bundled)' };
  store.setState({ pair, resultsKey: pair.resultsKey });
  const downloads: { name: string; type: string; size: number }[] = [];
  const exports = createTrainedExport(engine, store, (blob, name) => downloads.push({ name, type: blob.type, size: blob.size }));
  return { engine, store, exports, downloads };
}

describe('downloads of a member trained in the page', () => {
  it('the ONNX file and the bundle zip download under the pair and member names, the zip with its progress', async () => {
    const { engine, store, exports, downloads } = setup();
    const seen: unknown[] = [];
    store.subscribe((s) => seen.push(s.trainedExport));
    await exports.exportTrainedOnnx('probe-1');
    engine.nextExport = new Uint8Array(10);
    await exports.exportTrainedBundle('probe-1');
    expect(engine.callsOf('exportTrainedOnnx')).toEqual([['probe-1']]);
    expect(engine.callsOf('exportBundle')).toEqual([['probe-1']]);
    expect(downloads).toEqual([
      { name: 'shapes-world-bundled-probe-1.onnx', type: 'application/octet-stream', size: 3 },
      { name: 'shapes-world-bundled-with-probe-1.zip', type: 'application/zip', size: 10 },
    ]);
    expect(seen).toContainEqual({ memberId: 'probe-1', what: 'bundle', done: 1, total: 1 });
    expect(store.getState().trainedExport).toBeNull();
  });

  it('one export at a time; a failure is said in words and nothing is downloaded', async () => {
    const { engine, store, exports, downloads } = setup();
    engine.nextExport = new EngineError('unknown-member', "no member 'probe-9' was trained on the loaded pair");
    const first = exports.exportTrainedBundle('probe-9');
    await exports.exportTrainedOnnx('probe-9'); // ignored: the zip is still being written
    await first;
    expect(engine.callsOf('exportTrainedOnnx')).toEqual([]);
    expect(downloads).toEqual([]);
    expect(store.getState().messages.at(-1)!.text).toBe("Export failed: no member 'probe-9' was trained on the loaded pair");
    expect(store.getState().trainedExport).toBeNull();
  });
});
