// Derivations for the fine-tuned members of a bundle (wiseft-pair/2): how a member is named on the
// chart and in the selector, and its recorded sweep as a curve beside the live one.
import type { MemberSummary, PairSummary } from '../worker/protocol';
import { toCurve, type ImportedCurve } from './imported';

/** "end-to-end, seed 0": what tells members apart at a glance. */
export function memberTraits(m: Pick<MemberSummary, 'kind' | 'seed'>): string {
  return m.seed === null ? m.kind : `${m.kind}, seed ${m.seed}`;
}

export function selectedMember(pair: PairSummary): MemberSummary | undefined {
  return pair.members.find((m) => m.id === pair.member);
}

/**
 * The α = 1 label. With several members (or a seed to tell), it names the member, e.g.
 * "fine-tuned (end-to-end, seed 0)"; a v1 pair's one member stays plain "fine-tuned".
 */
export function fineTunedLabel(pair: PairSummary): string {
  const m = selectedMember(pair);
  if (!m || (pair.members.length < 2 && m.seed === null)) return 'fine-tuned';
  return `fine-tuned (${memberTraits(m)})`;
}

export const RECORDED_SERIES = 'recorded sweep';

/**
 * The selected member's recorded weight-space sweep as a curve, through the same reader as an
 * imported results file, so the chart draws it the same way. Null when the member has none.
 */
export function recordedCurve(pair: PairSummary | null): ImportedCurve | null {
  const lines = pair?.sweeps?.weight;
  if (!pair || !lines) return null;
  const curve = toCurve(`${pair.member} (weight space)`, lines, pair);
  return curve.points.length > 0 ? { ...curve, series: RECORDED_SERIES } : null;
}

export const RECORDED_OUTPUT_SERIES = 'recorded output-space ensemble';

/** The selected member's recorded output-space sweep (the ensemble of logits), as a curve; null when it has none. */
export function recordedOutputCurve(pair: PairSummary | null): ImportedCurve | null {
  const lines = pair?.sweeps?.output;
  if (!pair || !lines) return null;
  const curve = toCurve(`${pair.member} (output space)`, lines, pair);
  return curve.points.length > 0 ? { ...curve, series: RECORDED_OUTPUT_SERIES } : null;
}
