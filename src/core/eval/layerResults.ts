// Per-layer settings as results lines for `wiseft eval --layers`: what each --layers value asks
// for (one α per layer group, a preset of the app's per-layer panel, or the sensitivity strip),
// the settings it makes for the pair's groups, and one wise-ft JSON line per setting with the
// mixing described in the line itself ("mixing": "per-layer", each group's α, the preset), never
// an "alpha": a per-layer line is not a point of the WiSE-FT line.
import {
  LAYER_PRESETS,
  DEFAULT_LINES,
  isLayerPreset,
  presetAlphas,
  sensitivitySettings,
  type LayerPreset,
  type LinesParams,
} from '../blend/layerPresets';
import { EXTRAPOLATED_RANGE } from '../blend/alpha';
import type { SetAccuracy } from './frontier';
import type { CalibrationStats } from './calibrationReport';
import { calibrationEntries } from './results';
import { own } from './ids';

export class LayerSpecError extends Error {
  override name = 'LayerSpecError';
}

/** What one --layers value asks for. */
export type LayerRequest = { kind: 'list'; alphas: number[] } | { kind: 'preset'; preset: LayerPreset } | { kind: 'sensitivity' };

/** Presets whose groups take the α of --alphas (one setting per α); the LiNeS ramps take --lines. */
export const FOLLOWS_ALPHA: readonly LayerPreset[] = ['uniform', 'head-only', 'backbone-only'];

const SIGNED_DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal in [min, max], or a message naming `what`. */
function decimal(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  const x = SIGNED_DECIMAL.test(t) ? Number(t) : NaN;
  if (!(x >= min && x <= max)) {
    const shown = t.length > 40 ? `${t.slice(0, 40)}…` : t;
    throw new LayerSpecError(`${what}: '${shown}' is not a number between ${min} and ${max} (decimal, e.g. 0.25)`);
  }
  return x + 0;
}

const PRESETS_TEXT = `${LAYER_PRESETS.join(', ')} or sensitivity`;

/** One --layers value: "0,0.5,1,…" (one α per layer group, −0.5 to 1.5), a preset, or "sensitivity". */
export function parseLayerRequest(text: string): LayerRequest {
  const t = text.trim();
  if (t === '') throw new LayerSpecError(`--layers is empty: give one α per layer group (e.g. 0,0.5,1) or a preset (${PRESETS_TEXT})`);
  if (t === 'sensitivity') return { kind: 'sensitivity' };
  if (isLayerPreset(t)) return { kind: 'preset', preset: t };
  if (/^[a-z][a-z-]*$/i.test(t))
    throw new LayerSpecError(`--layers: '${t.slice(0, 40)}' is not a preset (${PRESETS_TEXT}) nor a list of α`);
  const parts = t.split(',');
  if (parts.length > 10_000) throw new LayerSpecError(`--layers lists ${parts.length} values; a pair has far fewer layer groups`);
  const { min, max } = EXTRAPOLATED_RANGE;
  return { kind: 'list', alphas: parts.map((p, i) => decimal(p, `--layers value ${i + 1}`, min, max)) };
}

/** --lines "base,slope": the LiNeS ramp's first-group α (−0.5 to 1.5) and its rise to the last group (−1 to 1), as the app's sliders. */
export function parseLinesParams(text: string | undefined): LinesParams {
  if (text === undefined) return DEFAULT_LINES;
  const parts = text.split(',');
  if (parts.length !== 2) throw new LayerSpecError(`--lines '${text.slice(0, 40)}': give base,slope (e.g. 0.2,0.8)`);
  return {
    base: decimal(parts[0]!, '--lines base', EXTRAPOLATED_RANGE.min, EXTRAPOLATED_RANGE.max),
    slope: decimal(parts[1]!, '--lines slope', -1, 1),
  };
}

/** A setting to evaluate: one α per group, and how it was asked for (written into its line). */
export interface LayerSetting {
  alphas: number[];
  describe: Record<string, unknown>;
}

/** The settings the requests make on a pair with `groups` (its layer groups, graph order); `alphas`: --alphas. */
export function layerSettingsFor(
  requests: readonly LayerRequest[],
  groups: readonly { id: string }[],
  alphas: readonly number[],
  lines: LinesParams,
): LayerSetting[] {
  const g = groups.length;
  if (g === 0) throw new LayerSpecError('this pair blends no tensor, so it has no layer groups to give an α');
  return requests.flatMap((r): LayerSetting[] => {
    if (r.kind === 'list') {
      if (r.alphas.length !== g) {
        const names = groups.map((x) => x.id);
        const listed = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
        throw new LayerSpecError(
          `--layers gives ${r.alphas.length} α, but this pair has ${g} layer groups (${listed}): give ${g}, in that order`,
        );
      }
      return [{ alphas: r.alphas, describe: {} }];
    }
    if (r.kind === 'sensitivity')
      return sensitivitySettings(g).flatMap(({ reset, only }, i) => [
        { alphas: reset, describe: { preset: 'sensitivity', group: groups[i]!.id, variant: 'reset to zero-shot' } },
        { alphas: only, describe: { preset: 'sensitivity', group: groups[i]!.id, variant: 'only it fine-tuned' } },
      ]);
    if (FOLLOWS_ALPHA.includes(r.preset))
      return alphas.map((a) => ({ alphas: presetAlphas(r.preset, g, a, lines, true), describe: { preset: r.preset, presetAlpha: a } }));
    return [{ alphas: presetAlphas(r.preset, g, 0, lines, true), describe: { preset: r.preset, lines: { ...lines } } }];
  });
}

export type LayerLine = Record<string, unknown> & { mixing: 'per-layer' };

/** One setting's line: its mixing, its accuracies ("<set>:top1", "<set>:n") and, when given, "<set>:ece", "<set>:nll". */
export function layerLine(
  setting: LayerSetting,
  groups: readonly { id: string }[],
  point: Record<string, SetAccuracy>,
  calibration?: Record<string, CalibrationStats>,
): LayerLine {
  const line: LayerLine = {
    mixing: 'per-layer',
    layers: groups.map((g, i) => ({ layer: g.id, alpha: setting.alphas[i]! })),
    ...setting.describe,
  };
  for (const [id, a] of Object.entries(point)) {
    line[`${id}:top1`] = a.n > 0 ? a.correct / a.n : 0;
    line[`${id}:n`] = a.n;
    const c = calibration && own(calibration, id);
    if (c) Object.assign(line, calibrationEntries(id, c));
  }
  return line;
}
