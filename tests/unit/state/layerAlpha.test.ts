// Per-layer α on the page: the presets (the LiNeS ramp against its formula computed here), the
// sensitivity strip's settings and deltas, the URL hash, and the controller's jobs against a fake engine.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createLayers } from '../../../src/state/controllers/layers';
import { createEvaluation, EVAL_DEBOUNCE_MS } from '../../../src/state/controllers/evaluation';
import { createUploads } from '../../../src/state/controllers/uploads';
import { createAlphaControl } from '../../../src/state/controllers/alpha';
import { presetAlphas, linesRamp, sensitivitySettings, sensitivityRows, currentSettingKey } from '../../../src/state/layerAlpha';
import { parseHash, formatHash, DEFAULT_HASH, type HashState } from '../../../src/state/hash';
import { settingKey } from '../../../src/core/eval/ids';
import { EXTRAPOLATED_GRID, type ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, accOf, type FakeLayerJob } from '../../support/fakeEngine';
import { FrontierEvaluator, PREVIEW_IMAGES } from '../../../src/core/eval/evaluator';
import { LayerSettings, type LayerUpdate } from '../../../src/core/eval/layerSettings';
import { evalSet, fakeLogits, CLASSES, PREPROCESS } from '../core/eval/fixtures';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('presets', () => {
  const lines = { base: 0.2, slope: 0.8 };

  it('LiNeS: λ(ℓ) = α + β·(ℓ − 1)/(L − 1) for layers ℓ = 1 … L, in hundredths; the reverse ramp is its mirror', () => {
    const L = 8;
    const want: number[] = [];
    for (let l = 1; l <= L; l++) want.push(Math.round(100 * (lines.base + (lines.slope * (l - 1)) / (L - 1))) / 100);
    expect(presetAlphas('lines', L, 0.5, lines, false)).toEqual(want);
    expect(presetAlphas('lines-reverse', L, 0.5, lines, false)).toEqual([...want].reverse());
    expect(want[0]).toBe(0.2);
    expect(want[L - 1]).toBe(1);
  });

  it('a ramp past 1 is cut at 1 without extrapolation, kept up to 1.5 with it', () => {
    expect(linesRamp(3, { base: 0.5, slope: 1 }, false, false)).toEqual([0.5, 1, 1]);
    expect(linesRamp(3, { base: 0.5, slope: 1 }, false, true)).toEqual([0.5, 1, 1.5]);
    expect(linesRamp(1, { base: 0.3, slope: 1 }, false, false)).toEqual([0.3]);
  });

  it('uniform, head-only and backbone-only give the slider α to all, the last group, the others', () => {
    expect(presetAlphas('uniform', 4, 0.6, lines, false)).toEqual([0.6, 0.6, 0.6, 0.6]);
    expect(presetAlphas('head-only', 4, 0.6, lines, false)).toEqual([0, 0, 0, 0.6]);
    expect(presetAlphas('backbone-only', 4, 0.6, lines, false)).toEqual([0.6, 0.6, 0.6, 0]);
  });
});

describe('the sensitivity strip', () => {
  it('has two settings per group: that group reset to zero-shot, and that group alone fine-tuned', () => {
    expect(sensitivitySettings(3)).toEqual([
      { reset: [0, 1, 1], only: [1, 0, 0] },
      { reset: [1, 0, 1], only: [0, 1, 0] },
      { reset: [1, 1, 0], only: [0, 0, 1] },
    ]);
  });

  it("reports each group's Δ reference and Δ shift against the endpoints, paired on the images computed at both", () => {
    const pair = fakePair({
      layers: [
        { id: 'a', tensors: 1 },
        { id: 'head', tensors: 1 },
      ],
    });
    const ten = (k: number) => Array.from({ length: 10 }, (_, i) => (i < k ? 1 : 0) as 0 | 1);
    // α = 1 right on 8 of the first 10 reference images; with group 'a' reset, on 6 of them.
    const points = {
      '0': { reference: accOf(ten(3), 200), shift: accOf(ten(5), 100) },
      '1': { reference: accOf(ten(8), 200), shift: accOf(ten(4), 100) },
    };
    const layerPoints = {
      [settingKey(pair.resultsKey, [0, 1])]: { reference: accOf(ten(6), 200), shift: accOf(ten(7), 100) },
    };
    const [a, head] = sensitivityRows(pair, layerPoints, points);
    expect(a!.group).toBe('a');
    expect(a!.reset.reference!.diff).toBeCloseTo(-0.2, 12);
    expect(a!.reset.shift!.diff).toBeCloseTo(0.3, 12);
    expect(a!.reset.n).toBe(10);
    expect(a!.only).toEqual({ reference: null, shift: null, n: 0 });
    expect(head!.reset.reference).toBeNull();
  });
});

describe('the URL hash', () => {
  const full: HashState = {
    ...DEFAULT_HASH,
    alpha: 1.35,
    extrapolate: true,
    layers: [0.2, 0.31, -0.5, 1.5],
    preset: 'lines-reverse',
    lines: { base: 0.1, slope: -0.4 },
    sensitivity: 300,
  };

  it('round-trips per-layer α, the preset, the ramp, the strip and extrapolation', () => {
    expect(parseHash(formatHash(full))).toEqual(full);
    expect(parseHash(formatHash(DEFAULT_HASH))).toEqual(DEFAULT_HASH);
  });

  it('drops what it does not know: a preset, a list with a non-number, a strip size not in whole chunks, α past 1 without extrapolation', () => {
    const h = parseHash('#alpha=1.4&preset=bogus&layers=0.1,x&sensitivity=150&lines=a,b');
    expect(h).toMatchObject({ alpha: 1, preset: null, layers: null, sensitivity: null, lines: DEFAULT_HASH.lines, extrapolate: false });
    expect(parseHash('#layers=0.1,2,-1').layers).toEqual([0.1, 1, 0]);
  });
});

describe('the per-layer controller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const engine = new FakeEngine();
    const store = createAppStore();
    const layers = createLayers(engine, store);
    store.setState({ pair: fakePair(), alpha: 0.4 });
    vi.advanceTimersByTime(0);
    return { engine, store, layers };
  }

  it('evaluates the current setting on its first estimate and first chunk, the strip on its n images per set, then the setting on every image, under setting keys', async () => {
    const { engine, store, layers } = setup();
    layers.setLayersOn(true);
    layers.showSensitivity(100);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    const first = engine.layerJobs.at(-1)!;
    expect(first.job.settings).toEqual([[0.4, 0.4, 0.4]]);
    expect(first.job.imagesPerSet).toBe(100);
    expect(first.job.firstEstimate).toBe(true);
    const key = settingKey('bundle-1', [0.4, 0.4, 0.4]);
    const progress = { done: 1, total: 1, chunkSize: 100 };
    const point = { reference: accOf([1, 0, 1], 200) };
    first.emit({
      kind: 'layer-chunk',
      jobId: first.job.id,
      resultsKey: 'other' as ResultsKey,
      settingKey: 'other|x',
      alphas: [],
      point,
      progress,
    });
    first.emit({
      kind: 'layer-chunk',
      jobId: first.job.id,
      resultsKey: 'bundle-1' as ResultsKey,
      settingKey: key,
      alphas: [0.4, 0.4, 0.4],
      point,
      progress,
    });
    expect(Object.keys(store.getState().layerPoints)).toEqual([key]);
    expect(currentSettingKey(store.getState())).toBe(key);
    expect(store.getState().points).toEqual({});
    first.finish({ status: 'done', jobId: first.job.id });
    await settle();
    const strip = engine.layerJobs.at(-1)!;
    expect(strip.job.imagesPerSet).toBe(100);
    expect(strip.job.settings).toHaveLength(6);
    expect(strip.job.settings[0]).toEqual([0, 1, 1]);
    // The strip is read as a whole on its n images: no first estimate per cell.
    expect(strip.job.firstEstimate).toBeUndefined();
    strip.finish({ status: 'done', jobId: strip.job.id });
    await settle();
    expect(engine.layerJobs.at(-1)!.job).toMatchObject({ settings: [[0.4, 0.4, 0.4]], imagesPerSet: 200 });
    expect(engine.layerJobs.at(-1)!.job.firstEstimate).toBeUndefined();
    expect(engine.layerJobs).toHaveLength(3);
    layers.dispose();
  });

  it("shows a moved group's setting first on the engine's first estimate (PREVIEW_IMAGES per set), then on its first chunks, then on every image", async () => {
    const { engine, store, layers } = setup();
    const sets = [evalSet('reference', 200), evalSet('shift', 100, 'shift')];
    // The engine's per-layer evaluation behind the fake job: each setting's model is the fixture's at its head's α.
    const ls = new LayerSettings(
      'bundle-1',
      (alphas) =>
        new FrontierEvaluator((_slot, input) => fakeLogits(alphas[2]!, input), sets, { classes: CLASSES, preprocess: PREPROCESS }),
    );
    const drive = async ({ job, emit, finish }: FakeLayerJob) => {
      const onUpdate = (u: LayerUpdate) => emit({ kind: 'layer-chunk', jobId: job.id, ...u, resultsKey: u.resultsKey as ResultsKey });
      const status = await ls.run(job.settings, job.imagesPerSet, () => false, onUpdate, job.firstEstimate);
      finish({ status, jobId: job.id });
      await settle();
    };
    layers.setLayersOn(true);
    layers.setLayerAlpha(2, 0.9);
    const key = settingKey('bundle-1', [0.4, 0.4, 0.9]);
    const shown: string[] = [];
    store.subscribe((st, prev) => {
      const p = st.layerPoints[key];
      if (p && p !== prev.layerPoints[key]) shown.push(`${p.reference?.n}/${p.shift?.n}`);
    });
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    expect(engine.layerJobs).toHaveLength(1);
    expect(engine.layerJobs[0]!.job).toMatchObject({ settings: [[0.4, 0.4, 0.9]], imagesPerSet: 100, firstEstimate: true });
    await drive(engine.layerJobs[0]!);
    expect(engine.layerJobs[1]!.job).toMatchObject({ settings: [[0.4, 0.4, 0.9]], imagesPerSet: 200 });
    await drive(engine.layerJobs[1]!);
    expect(shown).toEqual([`${PREVIEW_IMAGES}/${PREVIEW_IMAGES}`, `100/${PREVIEW_IMAGES}`, '100/100', '200/100']);
    expect(engine.layerJobs).toHaveLength(2);
    layers.dispose();
  });

  it('a preset that follows α follows the slider; a group set by hand leaves the preset', () => {
    const { store, layers } = setup();
    layers.applyPreset('head-only');
    store.setState({ alpha: 0.7 });
    expect(store.getState().layerAlphas).toEqual([0, 0, 0.7]);
    layers.setLayerAlpha(0, 0.25);
    expect(store.getState()).toMatchObject({ layerAlphas: [0.25, 0, 0.7], layerPreset: null });
    layers.dispose();
  });

  it('a link whose per-layer α does not fit the pair opens with per-layer α off, and says so', () => {
    const engine = new FakeEngine();
    const store = createAppStore();
    store.setState({ layerAlphas: [0.1, 0.2], layerPreset: null });
    const layers = createLayers(engine, store);
    store.setState({ pair: fakePair() });
    expect(store.getState().layerAlphas).toBeNull();
    expect(store.getState().messages.at(-1)!.text).toMatch(/had 2 values \(a link or another member\), but this pair has 3 layer groups/);
    layers.dispose();
  });
});

describe('extrapolation', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('on request α reaches 1.5 and the grid runs −0.5 … 1.5; turned off, α comes back to 1', () => {
    const engine = new FakeEngine();
    const store = createAppStore();
    store.setState({ pair: fakePair(), alpha: 0.5 });
    const evaluation = createEvaluation(engine, store);
    const alpha = createAlphaControl(store, evaluation, createUploads(engine, store));
    alpha.setAlpha(1.5);
    expect(store.getState().alpha).toBe(1);
    alpha.setExtrapolate(true);
    alpha.setAlpha(1.5);
    vi.advanceTimersByTime(EVAL_DEBOUNCE_MS);
    expect(engine.jobs.at(-1)!.job).toMatchObject({ grid: EXTRAPOLATED_GRID, currentAlpha: 1.5 });
    expect(EXTRAPOLATED_GRID[0]).toBe(-0.5);
    expect(EXTRAPOLATED_GRID).toContain(0.3);
    alpha.setExtrapolate(false);
    expect(store.getState().alpha).toBe(1);
    evaluation.dispose();
  });
});
