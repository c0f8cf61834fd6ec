// α as the app keeps it: a slider step, hundredths in [0, 1], or in the extrapolated range on
// request. Here in core because the per-layer presets (layerPresets.ts), shared by the page and
// the CLI, round their ramps so; the page imports it through worker/protocol.ts.

/** The α range on request (extrapolation): past zero-shot to −0.5, past fine-tuned to 1.5. */
export const EXTRAPOLATED_RANGE = { min: -0.5, max: 1.5 } as const;

/**
 * α is a slider step: hundredths in [0, 1], or in EXTRAPOLATED_RANGE when `extrapolate` is on.
 * Every α the page keeps or compares goes through here.
 */
export function quantizeAlpha(alpha: number, extrapolate = false): number {
  const { min, max } = extrapolate ? EXTRAPOLATED_RANGE : { min: 0, max: 1 };
  // + 0 turns a -0 (Math.round(-0.001 * 100)) into 0, so it keys as "0".
  return Math.min(max, Math.max(min, Math.round(alpha * 100) / 100)) + 0;
}
