// Pure derivations from the engine's calibration report to what the calibration panel shows: ECE
// and NLL along α for the reference set and the mean of the shift sets (weight and output space),
// the current α's numbers per set, its reliability diagram, the fitted temperatures in words, and
// which α the engine still has to see.
import type {
  CalibrationReport,
  CalibrationStats,
  FrontierPoints,
  PairSummary,
  ReliabilityBin,
  SpaceCalibration,
} from '../worker/protocol';
import { own } from '../core/eval/ids';
import { completeAt } from './savedFrontier';
import { referenceSet, shiftSets } from './frontier';

export type Space = 'weight' | 'output';
export const SPACES: readonly Space[] = ['weight', 'output'];

/** One α of the chart: ECE and NLL of the reference set and of the mean of the shifts, per space; null where not known. */
export interface CalibrationRow {
  alpha: number;
  weightRefEce: number | null;
  weightShiftEce: number | null;
  outputRefEce: number | null;
  outputShiftEce: number | null;
  weightRefNll: number | null;
  weightShiftNll: number | null;
  outputRefNll: number | null;
  outputShiftNll: number | null;
}

/** The fewest and most images per set behind the chart's numbers. */
export interface ImageRange {
  min: number;
  max: number;
}

/** The mean over the shift sets (as the paper's "avg shifts"): only when every shift set has a number. */
function meanOfShifts(
  pair: PairSummary,
  point: Record<string, CalibrationStats> | undefined,
): { ece: number; nll: number; n: number[] } | null {
  const shifts = shiftSets(pair);
  if (!point || shifts.length === 0) return null;
  const stats = shifts.map((s) => own(point, s.id));
  if (stats.some((x) => !x)) return null;
  const all = stats as CalibrationStats[];
  return {
    ece: all.reduce((a, x) => a + x.ece, 0) / all.length,
    nll: all.reduce((a, x) => a + x.nll, 0) / all.length,
    n: all.map((x) => x.n),
  };
}

/** The chart's rows, one per α the report has a number at, in order; and the images per set behind them. */
export function calibrationRows(pair: PairSummary, report: CalibrationReport): { rows: CalibrationRow[]; images: ImageRange | null } {
  const ref = referenceSet(pair);
  const alphas = [...new Set([...Object.keys(report.weight.points), ...Object.keys(report.output.points)])]
    .map(Number)
    .sort((a, b) => a - b);
  const ns: number[] = [];
  const rows = alphas.map((alpha) => {
    const row: CalibrationRow = {
      alpha,
      weightRefEce: null,
      weightShiftEce: null,
      outputRefEce: null,
      outputShiftEce: null,
      weightRefNll: null,
      weightShiftNll: null,
      outputRefNll: null,
      outputShiftNll: null,
    };
    for (const space of SPACES) {
      const point = own(report[space].points, String(alpha));
      const r = ref && point ? own(point, ref.id) : undefined;
      if (r) {
        row[`${space}RefEce`] = r.ece;
        row[`${space}RefNll`] = r.nll;
        ns.push(r.n);
      }
      const m = meanOfShifts(pair, point);
      if (m) {
        row[`${space}ShiftEce`] = m.ece;
        row[`${space}ShiftNll`] = m.nll;
        ns.push(...m.n);
      }
    }
    return row;
  });
  return { rows, images: ns.length > 0 ? { min: Math.min(...ns), max: Math.max(...ns) } : null };
}

/** One set's numbers at the report's α in both spaces (null: none yet). */
export interface CalibrationTableRow {
  id: string;
  name: string;
  role: 'reference' | 'shift';
  weight: CalibrationStats | null;
  output: CalibrationStats | null;
}

export function calibrationTable(pair: PairSummary, report: CalibrationReport): CalibrationTableRow[] {
  const key = String(report.alpha);
  return pair.sets.map((s) => ({
    id: s.id,
    name: s.name,
    role: s.role,
    weight: own(own(report.weight.points, key), s.id) ?? null,
    output: own(own(report.output.points, key), s.id) ?? null,
  }));
}

/** One bin of the reliability diagram with both spaces side by side. */
export interface ReliabilityRow {
  bin: string;
  lower: number;
  upper: number;
  weightAccuracy: number | null;
  weightConfidence: number | null;
  weightCount: number;
  outputAccuracy: number | null;
  outputConfidence: number | null;
  outputCount: number;
}

export interface ReliabilityView {
  setId: string;
  rows: ReliabilityRow[];
  /** Images behind each space's diagram; null: none yet (the output space waits for both endpoints). */
  weightN: number | null;
  outputN: number | null;
}

/** The reliability diagram of `setId` (default: the reference set) at the report's α. */
export function reliabilityView(pair: PairSummary, report: CalibrationReport, setId: string | null): ReliabilityView | null {
  const id = setId && pair.sets.some((s) => s.id === setId) ? setId : (referenceSet(pair)?.id ?? pair.sets[0]?.id);
  if (!id) return null;
  const w = own(report.weight.reliability, id);
  const o = own(report.output.reliability, id);
  const bins: ReliabilityBin[] | undefined = w?.bins ?? o?.bins;
  if (!bins) return { setId: id, rows: [], weightN: null, outputN: null };
  const rows = bins.map((b, i) => ({
    bin: `${b.lower.toFixed(2)}–${b.upper.toFixed(2)}`,
    lower: b.lower,
    upper: b.upper,
    weightAccuracy: w?.bins[i]?.accuracy ?? null,
    weightConfidence: w?.bins[i]?.confidence ?? null,
    weightCount: w?.bins[i]?.count ?? 0,
    outputAccuracy: o?.bins[i]?.accuracy ?? null,
    outputConfidence: o?.bins[i]?.confidence ?? null,
    outputCount: o?.bins[i]?.count ?? 0,
  }));
  return { setId: id, rows, weightN: w?.n ?? null, outputN: o?.n ?? null };
}

/** The temperature at the report's α in one space, in words, with what it was fitted on. */
export function temperatureText(report: CalibrationReport, space: Space): string | null {
  if (!report.temperature) return null;
  const t = own((report[space] as SpaceCalibration).temperatures, String(report.alpha));
  if (!t) return null;
  return `T = ${t.value.toFixed(2)}, fitted on the reference set's n = ${t.n.toLocaleString('en')} images (its NLL ${t.nllBefore.toFixed(3)} → ${t.nll.toFixed(3)})`;
}

/**
 * The α (of the grid and the current one) the page has complete but the engine has not evaluated
 * on every image: a frontier restored from the cache. Their calibration needs the engine's logits.
 */
export function missingInEngine(
  pair: PairSummary,
  points: FrontierPoints,
  report: CalibrationReport,
  grid: readonly number[],
  alpha: number,
): number[] {
  return [...new Set([...grid, alpha])].filter((a) => {
    if (!completeAt(pair, points, a)) return false;
    const point = own(report.weight.points, String(a));
    // With temperature on, a missing T leaves a set out too: the engine has no logits there either way.
    return pair.sets.some((s) => (own(point, s.id)?.n ?? 0) < s.count);
  });
}

/** ECE in percent, one decimal. */
export function eceText(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(1)}%`;
}

/** NLL in nats, three decimals (∞ for a label outside the classes in use). */
export function nllText(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return Number.isFinite(v) ? v.toFixed(3) : '∞';
}
