// Custom labels: words the tokenizer does not know are warned of before anything runs, and the
// labels travel in the link (a malformed labels= is dropped from it).
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createUploads } from '../../../src/state/controllers/uploads';
import { syncHash } from '../../../src/state/controllers/view';
import { createApp } from '../../../src/state/app';
import { formatHash, parseHash, parseLabels, DEFAULT_HASH, MAX_LINK_LABELS } from '../../../src/state/hash';
import { FakeEngine, fakePair } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('custom labels in the link', () => {
  it('round-trip through the hash, commas splitting them as in the labels field', () => {
    const h = parseHash(formatHash({ ...DEFAULT_HASH, labels: ['red star', 'blue moon', 'ça & co?'] }));
    expect(h.labels).toEqual(['red star', 'blue moon', 'ça & co?']);
    expect(parseHash('#alpha=0.40').labels).toBeNull();
  });

  it('a malformed labels= is dropped: fewer than two, too many, or only blanks; repeats and over-long labels are left out', () => {
    expect(parseLabels('star')).toBeNull();
    expect(parseLabels(' , ,')).toBeNull();
    expect(parseLabels(Array.from({ length: MAX_LINK_LABELS + 1 }, (_, i) => `l${i}`).join(','))).toBeNull();
    expect(parseLabels(`star, star ,moon,${'x'.repeat(81)}`)).toEqual(['star', 'moon']);
    expect(formatHash({ ...DEFAULT_HASH, labels: parseLabels('star') })).toBe('#alpha=0.50');
  });

  it('the applied labels, or those awaiting confirmation, are written to the hash', () => {
    const store = createAppStore();
    const writes: string[] = [];
    syncHash(store, (h) => writes.push(h));
    store.setState({ labelWarning: { labels: ['star', 'zebra'], unknown: ['zebra'] } });
    store.setState({ labelWarning: null, customLabels: ['star', 'moon'] });
    expect(writes).toEqual(['#alpha=0.50', '#alpha=0.50&labels=star,zebra', '#alpha=0.50&labels=star,moon']);
  });
});

describe('unknown words', () => {
  function setup() {
    const engine = new FakeEngine();
    engine.vocabulary = ['red', 'star', 'moon'];
    const store = createAppStore();
    store.setState({ pair: fakePair({ hasText: true, vocabulary: engine.vocabulary }) });
    return { engine, store, uploads: createUploads(engine, store) };
  }

  it('are listed before anything runs, and run only when confirmed', async () => {
    const { engine, store, uploads } = setup();
    await uploads.setCustomLabels(['red star', 'zebra', 'Moon', 'okapi zebra']);
    expect(store.getState().labelWarning).toEqual({ labels: ['red star', 'zebra', 'Moon', 'okapi zebra'], unknown: ['zebra', 'okapi'] });
    expect(engine.callsOf('setCustomLabels')).toEqual([]);
    expect(store.getState().customLabels).toBeNull();
    await uploads.setCustomLabels(['red star', 'zebra', 'Moon', 'okapi zebra'], true);
    expect(engine.callsOf('setCustomLabels')).toEqual([[['red star', 'zebra', 'Moon', 'okapi zebra']]]);
    expect(store.getState()).toMatchObject({ labelWarning: null, customLabels: ['red star', 'zebra', 'Moon', 'okapi zebra'] });
  });

  it('known words run at once, with no warning', async () => {
    const { engine, store, uploads } = setup();
    await uploads.setCustomLabels(['red star', 'moon']);
    expect(engine.callsOf('setCustomLabels')).toEqual([[['red star', 'moon']]]);
    expect(store.getState().labelWarning).toBeNull();
  });

  it("a link's labels are checked the same way once its pair is loaded", async () => {
    const engine = new FakeEngine();
    engine.vocabulary = ['star', 'moon'];
    engine.nextLoad = { ...fakePair({ hasText: true }), memberNote: null };
    const store = createAppStore();
    const app = createApp(
      engine,
      { pageUrl: () => 'http://app.test/', bundledPairUrl: () => 'http://app.test/m.json', writeHash: () => undefined },
      store,
    );
    await app.start(parseHash('#labels=star,zebra'));
    await settle();
    expect(store.getState().labelWarning).toEqual({ labels: ['star', 'zebra'], unknown: ['zebra'] });
    expect(engine.callsOf('setCustomLabels')).toEqual([]);
    app.dispose();
  });
});
