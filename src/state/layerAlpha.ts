// Per-layer α, pure: the presets (uniform, the LiNeS ramp and its reverse, head-only,
// backbone-only), the sensitivity strip's settings and the deltas it shows.
import type { FrontierPoints, PairSummary } from '../worker/protocol';
import type { SetAccuracy } from '../core/eval/frontier';
import { own, settingKey } from '../core/eval/ids';
import { pairedDelta, meanPairedDelta, type Delta } from './table';
import { referenceSet, shiftSets, setEstimate, meanEstimate, type Estimate } from './frontier';
import { sensitivitySettings } from '../core/blend/layerPresets';

export {
  LAYER_PRESETS,
  DEFAULT_LINES,
  isLayerPreset,
  linesRamp,
  presetAlphas,
  sensitivitySettings,
  type LayerPreset,
  type LinesParams,
} from '../core/blend/layerPresets';
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
