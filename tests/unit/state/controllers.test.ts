// The controllers against a fake engine and fake timers: evaluation jobs and their ids, α and ▶ Play,
// uploads, the engine session's loads, and the URL hash.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore, type Store } from '../../../src/state/store';
import { createEvaluation, EVAL_DEBOUNCE_MS } from '../../../src/state/controllers/evaluation';
import { createUploads, UPLOADS_DEBOUNCE_MS, MAX_UPLOADS } from '../../../src/state/controllers/uploads';
import { createAlphaControl, PLAY_INTERVAL_MS } from '../../../src/state/controllers/alpha';
import { createEngineSession } from '../../../src/state/controllers/engineSession';
import { syncHash } from '../../../src/state/controllers/view';
import { createApp } from '../../../src/state/app';
import { parseHash } from '../../../src/state/hash';
import { EngineError, GRID, type LoadProgress, type ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, acc, accOf } from '../../support/fakeEngine';
import { accuracyTable } from '../../../src/state/table';
import { FLUSH_MS } from '../../../src/state/frontierEvents';

const KEY = 'bundle-1' as ResultsKey;
/** Lets the promise callbacks queued so far run (fake timers leave microtasks alone). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setup() {
  const engine = new FakeEngine();
  const store = createAppStore();
  store.setState({ pair: fakePair(), resultsKey: KEY, alpha: 0.5 });
  const evaluation = createEvaluation(engine, store);
  const uploads = createUploads(engine, store);
  const alpha = createAlphaControl(store, evaluation, uploads);
  return { engine, store, evaluation, uploads, alpha };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('evaluation jobs', () => {
  it('a drag is one job: the wait restarts at each move, then the job starts with the current α first', () => {
    const { engine, alpha } = setup();
    alpha.setAlpha(0.31);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS - 10);
    alpha.setAlpha(0.32);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS - 10);
    expect(engine.jobs).toHaveLength(0);
    vi.advanceTimersByTime(10);
    expect(engine.jobs.map((j) => j.job)).toEqual([{ id: 1, grid: GRID, currentAlpha: 0.32 }]);
  });

  it("the job's result is the last word: its points replace the streamed ones, and the frontier is timed", async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    expect(store.getState().evaluating).toBe(true);
    const job = engine.jobs[0]!;
    job.emit({
      kind: 'chunk',
      jobId: 1,
      resultsKey: KEY,
      alpha: 0.5,
      point: { reference: acc(50, 100, 200) },
      progress: { done: 1, total: 2, chunkSize: 100 },
    });
    vi.advanceTimersByTime(FLUSH_MS);
    expect(store.getState().points['0.5']!.reference!.n).toBe(100);
    job.emit({ kind: 'ensemble', jobId: 1, resultsKey: KEY, points: { '0': { reference: acc(1, 2) } } });
    expect(store.getState().ensemble).toEqual({ '0': { reference: acc(1, 2) } });
    const final = { '0.5': { reference: acc(99, 200), shift: acc(40, 100) } };
    job.finish({ status: 'done', jobId: 1, resultsKey: KEY, points: final });
    await settle();
    expect(store.getState()).toMatchObject({ points: final, evaluating: false, resultsKey: KEY });
    expect(store.getState().fullFrontierMs).not.toBeNull();
  });

  it('chunk events carry per-image results into the store, where the table pairs the current α with each endpoint', async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    const job = engine.jobs[0]!;
    const firstRight = (right: number) =>
      accOf(
        Array.from({ length: 100 }, (_, i) => i < right),
        200,
      );
    const emit = (alpha: number, right: number, done: number) =>
      job.emit({
        kind: 'chunk',
        jobId: 1,
        resultsKey: KEY,
        alpha,
        point: { reference: firstRight(right) },
        progress: { done, total: 3, chunkSize: 100 },
      });
    emit(0.5, 63, 1);
    emit(0, 60, 2);
    emit(1, 90, 3);
    vi.advanceTimersByTime(FLUSH_MS);
    const st = store.getState();
    expect(st.points['0.5']!.reference!.images!.seen[0]).toBe(0xff);
    const t = accuracyTable(st.pair!, st.points, st.alpha);
    const ref = t.rows.find((r) => r.set.id === 'reference')!;
    // 100 images of 200: +3.0 against zero-shot is within its interval of 0; −27 against fine-tuned is not.
    expect(ref.vsZeroShot).toMatchObject({ n: 100, significant: false });
    expect(ref.vsZeroShot!.diff).toBeCloseTo(0.03, 12);
    expect(ref.vsFineTuned).toMatchObject({ n: 100, significant: true });
    // The result's points replace the streamed ones, bitsets included.
    const final = { '0.5': { reference: firstRight(70) }, '0': { reference: firstRight(60) } };
    job.finish({ status: 'done', jobId: 1, resultsKey: KEY, points: final });
    await settle();
    const after = accuracyTable(store.getState().pair!, store.getState().points, 0.5);
    expect(after.rows[0]!.vsZeroShot!.diff).toBeCloseTo(0.1, 12);
    expect(after.rows[0]!.vsFineTuned).toBeNull();
  });

  it("a superseded job's result changes nothing; only the latest job finishes the evaluation", async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    expect(engine.jobs.map((j) => j.job.id)).toEqual([1, 2]);
    // An older job that had finished its plan before the newer one started.
    engine.jobs[0]!.finish({ status: 'done', jobId: 1, resultsKey: KEY, points: { '0.1': { reference: acc(1, 1) } } });
    await settle();
    expect(store.getState()).toMatchObject({ points: {}, evaluating: true });
    engine.jobs[1]!.finish({ status: 'done', jobId: 2, resultsKey: KEY, points: { '0.2': { reference: acc(1, 1) } } });
    await settle();
    expect(store.getState()).toMatchObject({ points: { '0.2': { reference: acc(1, 1) } }, evaluating: false });
  });

  it('a result for another pair (loaded meanwhile) is dropped', async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    store.setState({ pair: fakePair({ bundleHash: 'b2', resultsKey: 'b2' as ResultsKey }), points: {}, resultsKey: 'b2' as ResultsKey });
    engine.jobs[0]!.finish({ status: 'done', jobId: 1, resultsKey: KEY, points: { '0.5': { reference: acc(1, 1) } } });
    await settle();
    expect(store.getState().points).toEqual({});
  });

  it('cancel stops the latest job by its id; a failure says why', async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    evaluation.cancel();
    await settle();
    expect(engine.cancelled).toEqual([1]);
    expect(store.getState().evaluating).toBe(false);
    // Evaluate: the Cancel holds against schedule() until the user asks again.
    evaluation.resume(0);
    vi.advanceTimersByTime(0);
    engine.jobs[1]!.fail(new EngineError('internal', 'out of memory'));
    await settle();
    expect(store.getState().evaluating).toBe(false);
    expect(store.getState().messages.at(-1)!.text).toBe('Evaluation stopped: out of memory');
  });

  it('a job that finds the engine between pairs (code no-pair) stops without a message', async () => {
    const { engine, store, evaluation } = setup();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    engine.jobs[0]!.fail(new EngineError('no-pair', 'no pair is loaded'));
    await settle();
    expect(store.getState().evaluating).toBe(false);
    expect(store.getState().messages).toEqual([]);
  });

  it('evaluateInEngine: α the page has complete (a restored frontier) are evaluated in the engine until a job with them is done', async () => {
    const { engine, store, evaluation } = setup();
    const full = { reference: accOf(new Array(200).fill(1)), shift: accOf(new Array(100).fill(0)) };
    store.setState({ points: Object.fromEntries([...GRID.map((a) => [String(a), full]), ['0.5', full]]) });
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    expect(engine.jobs).toHaveLength(0);
    evaluation.evaluateInEngine([0.3, 1], 'another key');
    vi.advanceTimersByTime(0);
    expect(engine.jobs).toHaveLength(0);
    evaluation.evaluateInEngine([0.3, 1], KEY);
    vi.advanceTimersByTime(0);
    expect(engine.jobs.map((j) => j.job)).toEqual([{ id: 3, grid: [0.3, 1], currentAlpha: null }]);
    engine.jobs[0]!.finish({ status: 'done', jobId: 3, resultsKey: KEY, points: {} });
    await settle();
    evaluation.schedule(0);
    vi.advanceTimersByTime(0);
    expect(engine.jobs).toHaveLength(1);
  });

  it('dispose: a pending job never starts', () => {
    const { engine, evaluation } = setup();
    evaluation.schedule();
    evaluation.dispose();
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS * 2);
    expect(engine.jobs).toHaveLength(0);
  });
});

describe('α and ▶ Play', () => {
  it('α is quantised to hundredths and clamped; the same α changes nothing', () => {
    const { engine, store, alpha } = setup();
    alpha.setAlpha(0.304);
    expect(store.getState().alpha).toBe(0.3);
    alpha.setAlpha(7);
    expect(store.getState().alpha).toBe(1);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    expect(engine.jobs).toHaveLength(1);
    alpha.setAlpha(1.001);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    expect(engine.jobs).toHaveLength(1);
  });

  it("Play evaluates as it sweeps: every step starts a job at its α (the drag's wait would starve it)", () => {
    const { engine, store, alpha } = setup();
    store.setState({ alpha: 0.9 });
    alpha.togglePlay();
    expect(store.getState().playing).toBe(true);
    // The old 120 ms evaluation wait, restarted at every 120 ms step, started none of these.
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(PLAY_INTERVAL_MS);
      vi.advanceTimersByTime(1);
    }
    expect(engine.jobs.map((j) => j.job.currentAlpha)).toEqual([0.92, 0.94, 0.96]);
    // The sweep ends at 1 and stops by itself.
    vi.advanceTimersByTime(PLAY_INTERVAL_MS * 3);
    expect(store.getState()).toMatchObject({ alpha: 1, playing: false });
    const n = engine.jobs.length;
    vi.advanceTimersByTime(PLAY_INTERVAL_MS * 3);
    expect(engine.jobs).toHaveLength(n);
  });

  it('Play from α = 1 starts again at 0; a second toggle pauses', () => {
    const { store, alpha } = setup();
    store.setState({ alpha: 1 });
    alpha.togglePlay();
    expect(store.getState().alpha).toBe(0);
    vi.advanceTimersByTime(PLAY_INTERVAL_MS * 2);
    alpha.togglePlay();
    const at = store.getState().alpha;
    vi.advanceTimersByTime(PLAY_INTERVAL_MS * 5);
    expect(store.getState()).toMatchObject({ alpha: at, playing: false });
  });
});

describe('uploads', () => {
  async function withReadyUpload(store: Store, engine: FakeEngine, uploads: ReturnType<typeof createUploads>) {
    const added = uploads.add([new File([new Uint8Array(4)], 'cat.png')]);
    await settle();
    // The trajectory, then the current α.
    engine.classifyAnswers[0]!.resolve({ resultsKey: KEY, labels: ['a', 'b'], predictions: [[{ alpha: 0, probs: [1, 0] }]] });
    await settle();
    engine.classifyAnswers[1]!.resolve({
      resultsKey: KEY,
      labels: ['a', 'b'],
      predictions: [[{ alpha: store.getState().alpha, probs: [0.6, 0.4] }]],
    });
    await added;
  }

  it('a new image is decoded, given its trajectory and its classes at the current α', async () => {
    const { engine, store, uploads } = setup();
    await withReadyUpload(store, engine, uploads);
    const [u] = store.getState().uploads;
    expect(u).toMatchObject({ name: 'cat.png', status: 'ready', resultsKey: KEY, current: { alpha: 0.5, probs: [0.6, 0.4] } });
    expect(engine.callsOf('classify').map((a) => a[1])).toEqual([Array.from({ length: 21 }, (_, i) => i / 20), [0.5]]);
  });

  it('an α change classifies once the slider rests; an answer overtaken by a newer refresh is dropped', async () => {
    const { engine, store, uploads, alpha } = setup();
    await withReadyUpload(store, engine, uploads);
    alpha.setAlpha(0.7);
    vi.advanceTimersByTime(UPLOADS_DEBOUNCE_MS);
    alpha.setAlpha(0.8);
    vi.advanceTimersByTime(UPLOADS_DEBOUNCE_MS);
    const [older, newer] = engine.classifyAnswers.slice(2);
    newer!.resolve({ resultsKey: KEY, labels: ['a', 'b'], predictions: [[{ alpha: 0.8, probs: [0.1, 0.9] }]] });
    await settle();
    older!.resolve({ resultsKey: KEY, labels: ['a', 'b'], predictions: [[{ alpha: 0.7, probs: [0.9, 0.1] }]] });
    await settle();
    expect(store.getState().uploads[0]!.current).toEqual({ alpha: 0.8, probs: [0.1, 0.9] });
  });

  it('a slider moved while a new image is classified does not lose its trajectory', async () => {
    const { engine, store, uploads, alpha } = setup();
    const added = uploads.add([new File([new Uint8Array(4)], 'cat.png')]);
    await settle();
    // The trajectory is still being computed when α moves and the α-only refresh starts.
    alpha.setAlpha(1);
    vi.advanceTimersByTime(UPLOADS_DEBOUNCE_MS);
    await settle();
    const trajectory = [[{ alpha: 0, probs: [1, 0] }]];
    engine.classifyAnswers[0]!.resolve({ resultsKey: KEY, labels: ['a', 'b'], predictions: trajectory });
    await settle();
    for (const d of engine.classifyAnswers.slice(1))
      d.resolve({ resultsKey: KEY, labels: ['a', 'b'], predictions: [[{ alpha: 1, probs: [0, 1] }]] });
    await added;
    await settle();
    expect(store.getState().uploads[0]).toMatchObject({ trajectory: trajectory[0], current: { alpha: 1, probs: [0, 1] } });
  });

  it(`keeps at most ${MAX_UPLOADS}, newest first, and says what was not kept`, async () => {
    const { store, uploads } = setup();
    void uploads.add(Array.from({ length: 30 }, (_, i) => new File([new Uint8Array(1)], `i${i}.png`)));
    expect(store.getState().uploads).toHaveLength(MAX_UPLOADS);
    expect(store.getState().messages.at(-1)!.text).toMatch(/^Kept 24 of the 30 images/);
  });
});

describe('the engine session', () => {
  function session() {
    const s = setup();
    s.store.setState({ pair: null, resultsKey: null });
    const sess = createEngineSession({
      ...s,
      pageUrl: () => 'http://app.test/dir/index.html',
      bundledPairUrl: () => 'http://app.test/dir/pairs/shapes/manifest.json',
    });
    return { ...s, session: sess };
  }

  it('a dropped .zip loads as the pair when the engine finds a bundle in it, else as eval sets', async () => {
    const { engine, session: sess } = session();
    const zip = [{ path: 'pair.zip', blob: new Blob(['PK']) }];
    engine.zipIsBundle = true;
    await sess.loadZip(zip);
    expect(engine.callsOf('loadPair')).toEqual([[{ kind: 'files', files: zip }, expect.any(Function), null]]);
    expect(engine.callsOf('useEvalFolder')).toEqual([]);
    engine.zipIsBundle = false;
    await sess.loadZip(zip);
    expect(engine.callsOf('useEvalFolder').map((c) => c[0])).toEqual([zip]);
    expect(engine.callsOf('zipHoldsBundle')).toEqual([[zip[0]!.blob], [zip[0]!.blob]]);
  });

  it('a loaded pair starts its results afresh under its results key and schedules an evaluation at once', async () => {
    const { engine, store, session: sess } = session();
    store.setState({ points: { '0.5': { reference: acc(1, 1) } }, fullFrontierMs: 3 });
    expect(await sess.loadPair({ kind: 'url', url: 'p/manifest.json' }, 'p')).toBe(true);
    // Relative to the page, not to the Worker's script.
    expect(engine.callsOf('loadPair')[0]![0]).toEqual({ kind: 'url', url: 'http://app.test/dir/p/manifest.json' });
    expect(store.getState()).toMatchObject({
      pair: { bundleHash: 'bundle-1' },
      resultsKey: KEY,
      points: {},
      fullFrontierMs: null,
      loading: null,
      pairUrl: 'http://app.test/dir/p/manifest.json',
    });
    vi.advanceTimersByTime(0);
    expect(engine.jobs).toHaveLength(1);
  });

  it("a failed load says why (by the engine's message) and keeps the previous pair, its points and α", async () => {
    const { engine, store, session: sess } = session();
    await sess.loadPair({ kind: 'url', url: 'p/manifest.json' }, 'p');
    store.setState({ points: { '0.5': { reference: acc(1, 1) } }, alpha: 0.42 });
    engine.nextLoad = new EngineError('download', 'the server answered 404');
    expect(await sess.loadPair({ kind: 'url', url: 'q/manifest.json' }, 'q')).toBe(false);
    expect(store.getState()).toMatchObject({
      pair: { bundleHash: 'bundle-1' },
      points: { '0.5': { reference: acc(1, 1) } },
      alpha: 0.42,
      pairError: 'Could not load q: the server answered 404.',
    });
    expect(store.getState().messages.at(-1)!.text).toBe('Could not load q: the server answered 404. The previous pair is still loaded.');
  });

  it('your own eval sets: a new results key, the same bundle hash', async () => {
    const { store, session: sess } = session();
    await sess.loadPair({ kind: 'url', url: 'p/manifest.json' }, 'p');
    expect(await sess.loadEvalFolder([{ path: 'mine/a/1.png', blob: new Blob([]) }])).toBe(true);
    const s = store.getState();
    expect(s.pair!.bundleHash).toBe('bundle-1');
    expect(s.pair!.resultsKey).toBe('bundle-1+user');
    expect(s.resultsKey).toBe('bundle-1+user');
  });

  it("reports after a load has returned are its eval images: the bar shows them while the pair is in use, until the last; a newer load's bar is not theirs", async () => {
    const { engine, store, session: sess } = session();
    await sess.loadPair({ kind: 'url', url: 'p/manifest.json' }, 'p');
    const tick = engine.callsOf('loadPair')[0]![1] as (p: LoadProgress) => void;
    const sheet = { file: 'eval/reference.png', loaded: 10, total: 40, bundleLoaded: 10, bundleTotal: 120 };
    tick(sheet);
    expect(store.getState()).toMatchObject({ loading: null, pair: { bundleHash: 'bundle-1' }, evalImagesLoading: { progress: sheet } });
    tick({ ...sheet, loaded: 40, bundleLoaded: 120, ended: 'done' });
    expect(store.getState().evalImagesLoading).toBeNull();
    tick(sheet);
    await sess.loadPair({ kind: 'url', url: 'q/manifest.json' }, 'q');
    expect(store.getState().evalImagesLoading).toBeNull();
    tick(sheet);
    expect(store.getState().evalImagesLoading).toBeNull();
  });

  it('a backend switch in the engine (a lost GPU) resets the results and evaluates again', async () => {
    const { engine, store, session: sess } = session();
    await sess.init();
    await sess.loadPair({ kind: 'url', url: 'p/manifest.json' }, 'p');
    vi.advanceTimersByTime(0);
    store.setState({ points: { '0.5': { reference: acc(1, 1) } } });
    engine.onRuntime!({
      backend: 'wasm',
      gpu: null,
      threads: 1,
      ortVersion: 'fake',
      note: 'The GPU device was lost; switched to the CPU (wasm).',
    });
    await settle();
    vi.advanceTimersByTime(0);
    expect(store.getState()).toMatchObject({ points: {}, resultsKey: KEY });
    expect(store.getState().messages.at(-1)).toMatchObject({ kind: 'error', text: expect.stringContaining('GPU device was lost') });
    expect(engine.jobs).toHaveLength(2);
  });
});

describe('the URL hash and the app', () => {
  it('the hash is written when a view setting changes, not on every progress flush', () => {
    const store = createAppStore();
    const writes: string[] = [];
    const off = syncHash(store, (h) => writes.push(h));
    store.setState({ progress: { done: 1, total: 2, chunkSize: 100 } });
    store.setState({ alpha: 0.3 });
    off();
    store.setState({ alpha: 0.4 });
    expect(writes).toEqual(['#alpha=0.50', '#alpha=0.30']);
  });

  it("start opens the link's pair, else the bundled one; dispose stops every timer", async () => {
    const engine = new FakeEngine();
    const store = createAppStore();
    store.setState({ pairUrl: 'http://elsewhere.test/manifest.json' });
    engine.loadFor = (req) =>
      (req as { url: string }).url.includes('elsewhere') ? new EngineError('download', 'unreachable') : { ...fakePair(), memberNote: null };
    const app = createApp(
      engine,
      { pageUrl: () => 'http://app.test/', bundledPairUrl: () => 'http://app.test/pairs/shapes/manifest.json', writeHash: () => undefined },
      store,
    );
    await app.start(parseHash(''));
    expect(engine.callsOf('loadPair').map((a) => (a[0] as { url: string }).url)).toEqual([
      'http://elsewhere.test/manifest.json',
      'http://app.test/pairs/shapes/manifest.json',
    ]);
    expect(store.getState().pair).not.toBeNull();
    app.actions.setAlpha(0.2);
    app.actions.togglePlay();
    app.dispose();
    vi.advanceTimersByTime(10_000);
    expect(engine.jobs).toHaveLength(0);
  });
});
