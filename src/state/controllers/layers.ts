// Per-layer α: one α per layer group, presets, and the sensitivity strip. Owns the per-layer jobs
// (phasedJobs.ts: their ids, the debounce timer) and the store subscription that follows the pair
// and α. Work goes in phases (`work`); a change supersedes the job and starts again from the first
// phase, which costs nothing for chunks already done: the engine keeps them per setting.
import { quantizeAlpha, type EngineApi, type LayerEvent, type PairSummary } from '../../worker/protocol';
import { presetAlphas, sensitivitySettings, type LayerPreset, type LinesParams } from '../layerAlpha';
import { say, type State, type Store } from '../store';
import { PhasedJobs } from './phasedJobs';

export interface LayersController {
  /** Per-layer α on (starting from the uniform preset at the current α) or off (the uniform α). */
  setLayersOn(on: boolean): void;
  setLayerAlpha(group: number, alpha: number): void;
  applyPreset(preset: LayerPreset): void;
  setLines(p: Partial<LinesParams>): void;
  /** Shows the sensitivity strip evaluated on `imagesPerSet` images per set, or hides it (null). */
  showSensitivity(imagesPerSet: number | null): void;
  dispose(): void;
}

/** The first chunk of every set: a setting's point in seconds, after its first estimate (the engine's, a few images per set). */
const CHUNK_IMAGES = 100;
const PHASES = 3;

/** Presets that follow the slider's α (the LiNeS ramps have their own two parameters). */
const FOLLOWS_ALPHA: readonly LayerPreset[] = ['uniform', 'head-only', 'backbone-only'];

type Work = { settings: number[][]; imagesPerSet: number; firstEstimate?: boolean };

class Layers implements LayersController {
  private readonly unsubscribe: () => void;
  private readonly jobs: PhasedJobs<Work>;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
  ) {
    this.jobs = new PhasedJobs<Work>({
      store,
      phases: PHASES,
      work: (s, phase) => this.work(s, phase),
      start: (id, work) => this.engine.evaluateLayers({ id, ...work }, this.onEvent),
      evaluating: (on) => ({ layerEvaluating: on }),
      failure: 'Per-layer evaluation stopped',
    });
    this.unsubscribe = store.subscribe((s, prev) => {
      if (s.pair?.resultsKey !== prev.pair?.resultsKey) this.onPair(s.pair);
      else if (s.alpha !== prev.alpha || s.extrapolate !== prev.extrapolate) this.followAlpha(s);
    });
  }

  setLayersOn(on: boolean): void {
    const s = this.store.getState();
    if (!on) return this.set({ layerAlphas: null, layerPreset: null, sensitivity: null });
    if (s.pair)
      this.set({ layerAlphas: presetAlphas('uniform', s.pair.layers.length, s.alpha, s.lines, s.extrapolate), layerPreset: 'uniform' });
  }

  setLayerAlpha(group: number, alpha: number): void {
    const s = this.store.getState();
    if (!s.layerAlphas || group < 0 || group >= s.layerAlphas.length) return;
    const layerAlphas = s.layerAlphas.map((a, g) => (g === group ? quantizeAlpha(alpha, s.extrapolate) : a));
    this.set({ layerAlphas, layerPreset: null });
  }

  applyPreset(preset: LayerPreset): void {
    const s = this.store.getState();
    if (s.pair) this.set({ layerAlphas: presetAlphas(preset, s.pair.layers.length, s.alpha, s.lines, s.extrapolate), layerPreset: preset });
  }

  setLines(p: Partial<LinesParams>): void {
    const s = this.store.getState();
    const lines = { ...s.lines, ...p };
    const ramp = s.layerPreset === 'lines' || s.layerPreset === 'lines-reverse' ? s.layerPreset : null;
    if (!ramp || !s.pair) return this.set({ lines });
    this.set({ lines, layerAlphas: presetAlphas(ramp, s.pair.layers.length, s.alpha, lines, s.extrapolate) });
  }

  showSensitivity(imagesPerSet: number | null): void {
    this.set({ sensitivity: imagesPerSet });
  }

  dispose(): void {
    this.jobs.dispose();
    this.unsubscribe();
  }

  private set(patch: Partial<State>): void {
    this.store.setState(patch);
    this.jobs.schedule();
  }

  /** A new pair, member or eval sets: a setting of another length is dropped (a stale link), results start afresh. */
  private onPair(pair: PairSummary | null): void {
    const s = this.store.getState();
    const stale = pair !== null && s.layerAlphas !== null && s.layerAlphas.length !== pair.layers.length;
    if (stale) {
      say(
        'info',
        `Per-layer α had ${s.layerAlphas!.length} values (a link or another member), but this pair has ${pair.layers.length} layer groups: per-layer α is off.`,
        this.store,
      );
    }
    this.store.setState({ layerPoints: {}, ...(stale ? { layerAlphas: null, layerPreset: null } : {}) });
    if (pair) this.jobs.schedule(0);
  }

  /** A preset that follows α follows it; extrapolation turned off brings every group back into [0, 1]. */
  private followAlpha(s: State): void {
    if (!s.pair || !s.layerAlphas) return;
    if (s.layerPreset && FOLLOWS_ALPHA.includes(s.layerPreset))
      return this.set({ layerAlphas: presetAlphas(s.layerPreset, s.pair.layers.length, s.alpha, s.lines, s.extrapolate) });
    const inRange = s.layerAlphas.map((a) => quantizeAlpha(a, s.extrapolate));
    if (inRange.some((a, g) => a !== s.layerAlphas![g])) this.set({ layerAlphas: inRange });
  }

  private readonly onEvent = (e: LayerEvent): void => {
    this.store.setState((s) => {
      if (s.pair?.resultsKey !== e.resultsKey) return {};
      // Counts only grow: a point that has seen fewer images (an older job's) never replaces one.
      const old = s.layerPoints[e.settingKey];
      const seen = (p: typeof old) => Object.values(p ?? {}).reduce((n, a) => n + a.n, 0);
      return seen(e.point) < seen(old) ? {} : { layerPoints: { ...s.layerPoints, [e.settingKey]: e.point } };
    });
  };

  /**
   * Phase p's work, or null when it has none: the current setting's first estimate and first chunk,
   * then the strip's settings, then the current setting on every image, so the strip is not kept
   * waiting for it. Only the current setting gets a first estimate: the strip is read as a whole,
   * each cell on the same images, and an estimate per cell would add a run and an event per cell
   * and set before it is whole.
   */
  private work(s: State, phase: number): Work | null {
    if (!s.pair) return null;
    const strip = s.sensitivity === null ? null : sensitivitySettings(s.pair.layers.length).flatMap(({ reset, only }) => [reset, only]);
    const all = Math.max(...s.pair.sets.map((x) => x.count));
    const phases = [
      s.layerAlphas && { settings: [s.layerAlphas], imagesPerSet: CHUNK_IMAGES, firstEstimate: true },
      strip && { settings: strip, imagesPerSet: s.sensitivity! },
      s.layerAlphas && { settings: [s.layerAlphas], imagesPerSet: all },
    ];
    return phases[phase] ?? null;
  }
}

export function createLayers(engine: EngineApi, store: Store): LayersController {
  return new Layers(engine, store);
}
