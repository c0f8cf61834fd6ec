// Per-layer α presets, shared by the page (state/layerAlpha.ts) and the CLI (`wiseft eval
// --layers`): uniform, the LiNeS ramp and its reverse, head-only, backbone-only, and the
// sensitivity strip's settings. One α per layer group (groups.ts), in graph order.
import { quantizeAlpha } from './alpha';

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
