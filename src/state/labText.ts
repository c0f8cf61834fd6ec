// What each lab step says, computed from the data on screen: the member's recorded sweep where the
// bundle ships one (measured on these very sets, so it is there before any evaluation), else the
// live points once computed on every image. No number is written into the text by hand.
import { sameAlpha, type FrontierPoints, type PairSummary } from '../worker/protocol';
import { own } from '../core/eval/ids';
import { frontierPoints, referenceSet, shiftSets } from './frontier';
import { recordedCurve, recordedOutputCurve, selectedMember } from './members';
import type { ImportedCurve } from './imported';
import { labStep, type LabTarget } from './lab';

/** A position on the chart, in percent (x: reference accuracy, y: accuracy under shift). */
export interface LabPoint {
  x: number;
  y: number;
}

export interface LabData {
  pair: PairSummary;
  points: FrontierPoints;
  ensemble: FrontierPoints;
  shift: string;
}

export interface ShiftRow {
  id: string;
  name: string;
  /** Accuracy in percent at α = 0, at the step's α and at α = 1 (null: not computed yet). */
  zeroShot: number | null;
  at: number | null;
  fineTuned: number | null;
}

export interface LabText {
  lead: string;
  /** What the student is asked to do, while a prediction is pending. */
  task: string | null;
  answer: string | null;
  /** How far the prediction was from the answer, once revealed. */
  miss: string | null;
  rows: ShiftRow[];
}

export const targetAlpha = (t: LabTarget): number => (t === 'fineTuned' ? 1 : 0.5);

const f1 = (v: number) => v.toFixed(1);
const signed = (v: number) => `${v < 0 ? '\u2212' : '+'}${Math.abs(v).toFixed(1)}`;

function curvePoint(c: ImportedCurve | null, alpha: number, shift: string): LabPoint | null {
  const p = c?.points.find((q) => sameAlpha(q.alpha, alpha));
  if (!p) return null;
  const y = shift !== 'mean' && own(p.perSet, shift) !== undefined ? p.perSet[shift]! : p.shift;
  return { x: 100 * p.reference, y: 100 * y };
}

function livePoint(pair: PairSummary, points: FrontierPoints, shift: string, alpha: number): LabPoint | null {
  const p = frontierPoints(pair, points, shift).find((q) => q.complete && sameAlpha(q.alpha, alpha));
  return p ? { x: 100 * p.reference.value, y: 100 * p.shift.value } : null;
}

/** Where WiSE-FT at α lands on the chart: the recorded sweep, else the live point once complete. */
export function weightPointAt(d: LabData, alpha: number): LabPoint | null {
  return curvePoint(recordedCurve(d.pair), alpha, d.shift) ?? livePoint(d.pair, d.points, d.shift, alpha);
}

/** Where the output-space ensemble at α lands, the same way. */
export function outputPointAt(d: LabData, alpha: number): LabPoint | null {
  return curvePoint(recordedOutputCurve(d.pair), alpha, d.shift) ?? livePoint(d.pair, d.ensemble, d.shift, alpha);
}

/** One set's accuracy in percent at α, from the same sources. */
function setValueAt(d: LabData, setId: string, alpha: number): number | null {
  const rec = recordedCurve(d.pair)?.points.find((q) => sameAlpha(q.alpha, alpha));
  const v = rec ? own(rec.perSet, setId) : undefined;
  if (v !== undefined) return 100 * v;
  const live = frontierPoints(d.pair, d.points, 'mean').find((q) => q.complete && sameAlpha(q.alpha, alpha));
  const e = live ? own(live.perSet, setId) : null;
  return e ? 100 * e.value : null;
}

/** The prediction's distance from the answer, in percentage points (answer minus mark). */
export function predictionMiss(mark: LabPoint, truth: LabPoint): { dx: number; dy: number; distance: number } {
  const dx = truth.x - mark.x;
  const dy = truth.y - mark.y;
  return { dx, dy, distance: Math.hypot(dx, dy) };
}

export function missText(mark: LabPoint, truth: LabPoint): string {
  const m = predictionMiss(mark, truth);
  return `Your mark (${f1(mark.x)}%, ${f1(mark.y)}%) was ${f1(m.distance)} points from the answer: the answer is ${signed(m.dx)} on the reference and ${signed(m.dy)} under shift from it.`;
}

function shiftName(d: LabData): string {
  if (d.shift === 'mean') return `the mean of the ${shiftSets(d.pair).length} shift sets`;
  return d.pair.sets.find((s) => s.id === d.shift)?.name ?? d.shift;
}

/** The straight line between the endpoints at reference accuracy x (null when it is vertical). */
function lineAt(z: LabPoint, f: LabPoint, x: number): number | null {
  return f.x === z.x ? null : z.y + ((x - z.x) / (f.x - z.x)) * (f.y - z.y);
}

/** The α the per-shift step looks at: the member's recommended α, else 0.5. */
export function focusAlpha(pair: PairSummary | null): number {
  return (pair && selectedMember(pair)?.recommendedAlpha?.alpha) ?? 0.5;
}

const NOT_YET = 'Its numbers appear here once they are computed.';
const blank = (lead: string): LabText => ({ lead, task: null, answer: null, miss: null, rows: [] });

function zeroShotText(d: LabData): LabText {
  const z = weightPointAt(d, 0);
  const ref = referenceSet(d.pair)?.name ?? 'reference';
  return blank(
    `Each point is one model. Across (x): accuracy on the reference set (${ref}), the distribution fine-tuning trains on. ` +
      `Up (y): accuracy under shift (${shiftName(d)}), data it never sees. ` +
      (z ? `The zero-shot model (α = 0), never trained on the reference, scores ${f1(z.x)}% on it and ${f1(z.y)}% under shift.` : NOT_YET),
  );
}

function fineTunedAnswer(d: LabData): string | null {
  const z = weightPointAt(d, 0);
  const f = weightPointAt(d, 1);
  if (!z || !f) return null;
  return `Fine-tuned (α = 1): ${f1(f.x)}% on the reference (${signed(f.x - z.x)} points against zero-shot) and ${f1(f.y)}% under shift (${signed(f.y - z.y)}).`;
}

function halfAnswer(d: LabData): string | null {
  const z = weightPointAt(d, 0);
  const f = weightPointAt(d, 1);
  const h = weightPointAt(d, 0.5);
  if (!z || !f || !h) return null;
  const line = lineAt(z, f, h.x);
  const side =
    line === null
      ? ''
      : `, ${f1(Math.abs(h.y - line))} points ${h.y >= line ? 'above' : 'below'} the dashed line at the same reference accuracy`;
  return `α = 0.5: ${f1(h.x)}% on the reference and ${f1(h.y)}% under shift${side}. The whole WiSE-FT curve is drawn now.`;
}

function ensembleText(d: LabData): LabText {
  const w = weightPointAt(d, 0.5);
  const o = outputPointAt(d, 0.5);
  const lead =
    'The output-space ensemble mixes the two models’ predictions instead of their weights: logits(α) = (1 − α)·logits₀ + α·logits₁, ' +
    'two model runs per image where the weight average needs one.';
  const answer =
    w && o
      ? `At α = 0.5 the weight average scores ${f1(w.x)}% / ${f1(w.y)}% (reference / shift), the output ensemble ${f1(o.x)}% / ${f1(o.y)}%: ` +
        `weights ${signed(w.x - o.x)} points on the reference and ${signed(w.y - o.y)} under shift. Compare the two curves along their length.`
      : null;
  return { ...blank(lead), answer };
}

function perShiftText(d: LabData): LabText {
  const a = focusAlpha(d.pair);
  const rec = selectedMember(d.pair)?.recommendedAlpha;
  const lead = rec
    ? `This member’s bundle recommends α = ${a.toFixed(2)}, chosen on ${rec.chosenOn}: never on the sets shown. Shift by shift, zero-shot → α = ${a.toFixed(2)} → fine-tuned:`
    : 'This member has no recommended α (the best α picked on the sets shown would be optimistic). Shift by shift, zero-shot → α = 0.50 → fine-tuned:';
  const rows = shiftSets(d.pair).map((s) => ({
    id: s.id,
    name: s.name,
    zeroShot: setValueAt(d, s.id, 0),
    at: setValueAt(d, s.id, a),
    fineTuned: setValueAt(d, s.id, 1),
  }));
  return { ...blank(lead), task: 'Pick one shift set in the Shift menu to see its own curve.', rows };
}

const PREDICT_TASK = 'Click the chart where you expect it (or type both numbers below), then reveal.';

function predictText(d: LabData, target: LabTarget, revealed: boolean, mark: LabPoint | null): LabText {
  const lead =
    target === 'fineTuned'
      ? 'Fine-tuning trains every weight on the reference distribution only. Where does the fine-tuned model (α = 1) land?'
      : 'WiSE-FT averages the weights: θ(α) = (1 − α)·θ₀ + α·θ₁. The dashed line joins the endpoints (picking one model or the other at random). Where does α = 0.5 land: on it, above it or below it?';
  if (!revealed) return { ...blank(lead), task: PREDICT_TASK };
  const truth = weightPointAt(d, targetAlpha(target));
  const answer = target === 'fineTuned' ? fineTunedAnswer(d) : halfAnswer(d);
  return { ...blank(lead), answer: answer ?? NOT_YET, miss: mark && truth ? missText(mark, truth) : null };
}

/** What step n says, given whether it is revealed and the student's mark. */
export function labText(n: number, revealed: boolean, mark: LabPoint | null, d: LabData): LabText {
  const step = labStep(n);
  if (!step) return blank('');
  if (step.predict) return predictText(d, step.predict, revealed, mark);
  if (step.id === 'zero-shot') return zeroShotText(d);
  if (step.id === 'ensemble') return ensembleText(d);
  return perShiftText(d);
}
