// Per-layer α, pure: the presets (uniform, the LiNeS ramp and its reverse, head-only,
// backbone-only), the sensitivity strip's settings and the deltas it shows.
import { quantizeAlpha, type FrontierPoints, type PairSummary } from '../worker/protocol';
import type { SetAccuracy } from '../core/eval/frontier';
import { own, settingKey } from '../core/eval/ids';
import { pairedDelta, meanPairedDelta, type Delta } from './table';
import { referenceSet, shiftSets, setEstimate, meanEstimate, type Estimate } from './frontier';

export const LAYER_PRESETS = ['uniform', 'lines', 'lines-reverse', 'head-only', 'backbone-only'] as const;
export type LayerPreset = (typeof LAYER_PRESETS)[number];

export function isLayerPreset(s: string | null): s is LayerPreset {
  return (LAYER_PRESETS as readonly string[]).includes(s ?? '');
}

/**
 * The LiNeS ramp's two parameters (Wang et al., "LiNeS: Post-training layer scaling prevents
 * forgetting and enhances model merging", ICLR 2025): the first layer group gets `base`, each
 * deeper one more, the last `base + slope`. LiNeS scales a task vector so; here the task vector
 * is θ₁ − θ₀ and its scale is α.
 */
export interface LinesParams {
  base: number;
  slope: number;
}

export const DEFAULT_LINES: LinesParams = { base: 0.2, slope: 0.8 };

/** α of group g of L: base + slope·g/(L − 1) (LiNeS's λ(ℓ) = α + β·(ℓ − 1)/(L − 1), ℓ = g + 1); reversed, deepest first. */
export function linesRamp(groups: number, p: LinesParams, reverse: boolean, extrapolate: boolean): number[] {
  return Array.from({ length: groups }, (_, g) => {
    const depth = groups > 1 ? (reverse ? groups - 1 - g : g) / (groups - 1) : 0;
    return quantizeAlpha(p.base + p.slope * depth, extrapolate);
  });
}

/** One α per group for a preset; `alpha` is the slider's (head-only and backbone-only give it to their part, zero-shot elsewhere). */
export function presetAlphas(preset: LayerPreset, groups: number, alpha: number, lines: LinesParams, extrapolate: boolean): number[] {
  const head = groups - 1;
  switch (preset) {
    case 'uniform':
      return Array.from({ length: groups }, () => alpha);
    case 'lines':
      return linesRamp(groups, lines, false, extrapolate);
    case 'lines-reverse':
      return linesRamp(groups, lines, true, extrapolate);
    case 'head-only':
      return Array.from({ length: groups }, (_, g) => (g === head ? alpha : 0));
    case 'backbone-only':
      return Array.from({ length: groups }, (_, g) => (g === head ? 0 : alpha));
  }
}

/**
 * The strip's two settings per group g, in group order: (a) g reset to zero-shot, every other group
 * fine-tuned; (b) only g fine-tuned, every other group zero-shot.
 */
export function sensitivitySettings(groups: number): { reset: number[]; only: number[] }[] {
  return Array.from({ length: groups }, (_, g) => ({
    reset: Array.from({ length: groups }, (_, i) => (i === g ? 0 : 1)),
    only: Array.from({ length: groups }, (_, i) => (i === g ? 1 : 0)),
  }));
}

/** Δ reference and Δ mean of shifts, each paired on the images computed at both. */
export interface SensitivityDelta {
  reference: Delta | null;
  shift: Delta | null;
  /** Images per set behind the deltas (the fewest over the sets), 0 before any. */
  n: number;
}

export interface SensitivityRow {
  group: string;
  /** (a) this group reset to zero-shot, against the fine-tuned model: what fine-tuning this group bought. */
  reset: SensitivityDelta;
  /** (b) only this group fine-tuned, against zero-shot: what this group's fine-tuning does alone. */
  only: SensitivityDelta;
}

function deltaOf(pair: PairSummary, now: Record<string, SetAccuracy> | undefined, base: Record<string, SetAccuracy>): SensitivityDelta {
  const ref = referenceSet(pair);
  const shifts = shiftSets(pair);
  if (!now || !ref) return { reference: null, shift: null, n: 0 };
  const n = Math.min(...pair.sets.map((s) => own(now, s.id)?.n ?? 0));
  return {
    reference: pairedDelta(own(now, ref.id), own(base, ref.id)),
    shift: meanPairedDelta(
      shifts.map((s) => own(now, s.id)),
      shifts.map((s) => own(base, s.id)),
    ),
    n,
  };
}

/**
 * The strip's rows from the settings' results and the uniform endpoints (α = 0 and α = 1, which a
 * setting of all 0 or all 1 equals bit for bit): a positive Δ shift under (a) says fine-tuning
 * this group cost robustness.
 */
export function sensitivityRows(pair: PairSummary, layerPoints: FrontierPoints, points: FrontierPoints): SensitivityRow[] {
  const zeroShot = own(points, '0') ?? {};
  const fineTuned = own(points, '1') ?? {};
  return sensitivitySettings(pair.layers.length).map(({ reset, only }, g) => ({
    group: pair.layers[g]!.id,
    reset: deltaOf(pair, own(layerPoints, settingKey(pair.resultsKey, reset)), fineTuned),
    only: deltaOf(pair, own(layerPoints, settingKey(pair.resultsKey, only)), zeroShot),
  }));
}

/** The current per-layer setting's results key, or null while per-layer α is off. */
export function currentSettingKey(s: { pair: PairSummary | null; layerAlphas: readonly number[] | null }): string | null {
  return s.pair && s.layerAlphas ? settingKey(s.pair.resultsKey, s.layerAlphas) : null;
}

/** A setting's reference accuracy and mean of shifts, with their intervals; null parts until computed. */
export function settingEstimates(
  pair: PairSummary,
  point: Record<string, SetAccuracy> | undefined,
): { reference: Estimate | null; shift: Estimate | null } {
  const ref = referenceSet(pair);
  return {
    reference: ref ? setEstimate(own(point, ref.id)) : null,
    shift: meanEstimate(shiftSets(pair).map((s) => own(point, s.id))),
  };
}

/** The largest |bound| over the strip's intervals (at least 1 pp), so every bar shares one scale. */
export function stripScale(rows: readonly SensitivityRow[]): number {
  let m = 0.01;
  for (const r of rows) {
    for (const d of [r.reset.reference, r.reset.shift, r.only.reference, r.only.shift])
      if (d) m = Math.max(m, Math.abs(d.lo), Math.abs(d.hi));
  }
  return m;
}
