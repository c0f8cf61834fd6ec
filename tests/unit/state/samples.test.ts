// The lesson's eval images against a fake engine: labels once per results key, each thumbnail asked
// for once, and answers for another results key dropped.
import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createSamples } from '../../../src/state/controllers/samples';
import { FakeEngine, fakePair } from '../../support/fakeEngine';
import type { ResultsKey } from '../../../src/worker/protocol';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A data URL stand-in that names the image by its red channel (FakeEngine's index mod 256). */
const fakeUrl = (rgba: Uint8Array, size: number) => `img:${rgba[0]}:${size}`;

function setup() {
  const engine = new FakeEngine();
  const store = createAppStore();
  const samples = createSamples(engine, store, fakeUrl);
  const load = (key: string) => {
    const pair = fakePair({ resultsKey: key as ResultsKey });
    engine.pair = pair;
    store.setState({ pair });
  };
  return { engine, store, samples, load };
}

describe('the lesson’s eval images', () => {
  it('fetches the labels when a pair arrives and again only when its results key changes', async () => {
    const { engine, store, load } = setup();
    load('k1');
    await settle();
    expect(store.getState().evalLabels?.resultsKey).toBe('k1');
    expect([...store.getState().evalLabels!.sets.shift!.subarray(0, 4)]).toEqual([0, 1, 0, 1]);
    store.setState({ alpha: 0.3 });
    load('k1');
    await settle();
    expect(engine.callsOf('evalLabels')).toHaveLength(1);
    load('k2');
    await settle();
    expect(engine.callsOf('evalLabels')).toHaveLength(2);
    expect(store.getState().evalLabels?.resultsKey).toBe('k2');
  });

  it('asks for each thumbnail once, in calls of at most 64, and keeps them by set and index', async () => {
    const { engine, store, samples, load } = setup();
    load('k1');
    samples.requestThumbnails('reference', [3, 5]);
    samples.requestThumbnails('reference', [5, 7]);
    await settle();
    samples.requestThumbnails('reference', [3, 7]);
    samples.requestThumbnails(
      'reference',
      Array.from({ length: 100 }, (_, i) => 100 + i),
    );
    await settle();
    expect(engine.callsOf('evalImages').map(([set, idx]) => [set, (idx as number[]).length])).toEqual([
      ['reference', 2],
      ['reference', 1],
      ['reference', 64],
      ['reference', 36],
    ]);
    const t = store.getState().thumbnails;
    expect([t['reference/3'], t['reference/7'], t['reference/199']]).toEqual(['img:3:2', 'img:7:2', 'img:199:2']);
    expect(Object.keys(t)).toHaveLength(103);
  });

  it('drops thumbnails that arrive after the results key changed, and the old key’s ones', async () => {
    const { store, samples, load } = setup();
    load('k1');
    samples.requestThumbnails('shift', [1]);
    await settle();
    samples.requestThumbnails('shift', [2]);
    load('k2'); // before the engine's answer for image 2 under k1 arrives
    await settle();
    expect(store.getState().thumbnailsKey).toBe('k2');
    expect(store.getState().thumbnails).toEqual({});
  });

  it('says why an image could not be shown', async () => {
    const { store, samples, load } = setup();
    load('k1');
    samples.requestThumbnails('shift', [500]);
    await settle();
    expect(store.getState().messages.map((m) => m.text)).toEqual(["Could not show images of 'shift': eval set 'shift' has no image 500"]);
  });
});
