import { useMemo, useState, type ReactNode } from 'react';
import {
  ResponsiveContainer,
  ComposedChart,
  CartesianGrid,
  XAxis,
  YAxis,
  Tooltip,
  Scatter,
  ErrorBar,
  Legend,
  Label,
  LabelList,
} from 'recharts';
import { useStore } from '../state/store';
import {
  frontierPoints,
  pct,
  type FrontierPoint,
  referenceSet,
  shiftSets,
  interpolateAt,
  labelledAlphas,
  isPreview,
} from '../state/frontier';
import {
  isGridAlpha,
  isExtrapolated,
  sameAlpha,
  EXTRAPOLATED_GRID,
  type PairSummary,
  type FrontierPoints,
  type SetAccuracy,
} from '../worker/protocol';
import { currentSettingKey } from '../state/layerAlpha';
import { soupMarks, type SoupMark } from '../state/soups';
import { own } from '../core/eval/ids';
import { thinCurve, isolate } from '../state/thin';
import { boxOf, holdAxes, union, recordedBox, clampToAxes, type HeldAxes, type Box, type Cut } from '../state/axes';
import type { ImportedCurve } from '../state/imported';
import { UserText } from './UserText';
import { fineTunedLabel, recordedCurve } from '../state/members';
import { labSeries, PredictionLayer, useLabChart, type LabChart } from './LabChart';
import { cachedLabel } from '../state/savedFrontier';
import { sweepDisagreements } from '../state/sweepCheck';
import { share } from '../state/share';

export const COLORS = {
  zeroShot: '#2563eb',
  fineTuned: '#c2410c',
  wiseft: '#7c3aed',
  current: '#be185d',
  ensemble: '#64748b',
  linear: '#94a3b8',
  paper: '#0d9488',
  extrapolated: '#b45309',
  perLayer: '#0891b2',
  soup: '#b45309',
  disputed: '#dc2626',
};

/** Axis names: recharts' default #808080 is 3.9:1 on white, under WCAG's 4.5:1 (slate-600 is 7.6:1). */
const AXIS_INK = '#475569';

const IMPORTED = ['#b45309', '#0f766e', '#be123c'];

interface Datum {
  x: number;
  y: number;
  alpha: number;
  xErr?: [number, number];
  yErr?: [number, number];
  point?: FrontierPoint;
  series: string;
  /** For the estimate of an α not computed yet: the computed α it is drawn between. */
  from?: [number, number];
  /** For an α label: which way its text runs from the point (inward near the plot's edges, where it would be cut). */
  anchor?: 'start' | 'middle' | 'end';
}

function toDatum(p: FrontierPoint, series: string): Datum {
  const x = 100 * p.reference.value;
  const y = 100 * p.shift.value;
  return {
    x,
    y,
    alpha: p.alpha,
    series,
    point: p,
    xErr: [x - 100 * p.reference.low, 100 * p.reference.high - x],
    yErr: [y - 100 * p.shift.low, 100 * p.shift.high - y],
  };
}

export function shiftLabel(pair: PairSummary, shift: string): string {
  if (shift === 'mean') return `mean of ${shiftSets(pair).length} shifts`;
  return isolate(pair.sets.find((s) => s.id === shift)?.name ?? shift, 40);
}

/** No accuracy is given for the estimate: it is a position on the chart, not a measurement. */
function EstimateTooltip({ d, from }: { d: Datum; from: [number, number] }) {
  return (
    <div className="tooltip" data-testid="estimate-tooltip">
      <strong>≈ α = {d.alpha.toFixed(2)}: not computed yet</strong>
      <div>
        {from[0] === from[1]
          ? `drawn at α = ${from[0]}, the nearest computed α`
          : `drawn between α = ${from[0]} and α = ${from[1]}, which are computed`}
        ; its own point replaces it when it is evaluated
      </div>
    </div>
  );
}

function TooltipBody({ active, payload, pair }: { active?: boolean; payload?: { payload: Datum }[]; pair: PairSummary }) {
  if (!active || !payload?.length) return null;
  const d = payload[0]!.payload;
  if (d.series === ESTIMATE_SERIES && d.from) return <EstimateTooltip d={d} from={d.from} />;
  // A cut mark's place is the frame's, not a measurement: no number for it.
  if (d.series === CUT_SERIES) return <div className="tooltip">{CUT_NOTE}</div>;
  return d.point ? <PointTooltip series={d.series} point={d.point} pair={pair} /> : <DatumTooltip d={d} />;
}

/** A datum drawn without an evaluated point behind it (an imported curve's row, say): its two accuracies as drawn. */
function DatumTooltip({ d }: { d: Datum }) {
  return (
    <div className="tooltip">
      <strong>
        <UserText text={d.series} />
      </strong>{' '}
      α = {d.alpha.toFixed(2)}
      <div>
        reference {d.x.toFixed(1)}% · shift {d.y.toFixed(1)}%
      </div>
    </div>
  );
}

/** An evaluated point: every set's accuracy with its interval and how many images it counts. */
function PointTooltip({ series, point, pair }: { series: string; point: FrontierPoint; pair: PairSummary }) {
  return (
    <div className="tooltip">
      <strong>
        {series}
        {Number.isFinite(point.alpha) ? ` · α = ${point.alpha.toFixed(2)}` : ''}
      </strong>
      <table>
        <tbody>
          {pair.sets.map((s) => {
            const e = own(point.perSet, s.id);
            return (
              <tr key={s.id}>
                <td>
                  <UserText text={s.name} />
                </td>
                <td className="num">{e ? pct(e.value) : '—'}</td>
                <td className="ci">{e ? `±${(50 * (e.high - e.low)).toFixed(1)} · n=${e.n}${e.n < e.total ? `/${e.total}` : ''}` : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The α = 1 label on one line, running from the point into the plot (toward the left when the
 * point is in the right half, as a fine-tuned model usually is). Recharts' own label wraps at every
 * space when it knows the point's width, which stacked a member's name ("fine-tuned (end-to-end,
 * seed 0)") word by word.
 */
function EndpointLabel({
  x,
  y,
  value,
  fill,
  toLeft,
}: {
  x?: number | string;
  y?: number | string;
  value?: unknown;
  fill?: string;
  toLeft: boolean;
}) {
  return (
    <text
      x={Number(x) + (toLeft ? 6 : -6)}
      y={Number(y)}
      textAnchor={toLeft ? 'end' : 'start'}
      fill={fill}
      fontWeight={600}
      className="endpoint-label"
    >
      {String(value ?? '')}
    </text>
  );
}

/** A small "α 0.5" under a point; "≈ α 0.33" for the estimate of an α not computed yet. */
function AlphaLabel({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Datum }) {
  if (cx === undefined || cy === undefined || !payload) return <g />;
  const estimate = payload.series === ESTIMATE_SERIES;
  const text = `${estimate ? '≈ ' : ''}α ${payload.series === 'current α' || estimate ? payload.alpha.toFixed(2) : String(payload.alpha)}`;
  return (
    <text
      x={cx}
      y={cy + 22}
      textAnchor={payload.anchor ?? 'middle'}
      className="alpha-label"
      data-testid="alpha-label"
      fill={payload.series === 'current α' || estimate ? COLORS.current : '#475569'}
    >
      {text}
    </text>
  );
}

const ESTIMATE_SERIES = 'current α (estimate)';

interface ChartData {
  curve: Datum[];
  current: Datum | null;
  estimate: Datum | null;
  z: Datum | null;
  f: Datum | null;
  ens: Datum[];
  importedData: Datum[][];
  /** What the axes can be chosen from before any live point: the recorded sweep, imported curves. */
  known: Box | null;
  /** A lab step keeps the WiSE-FT curve back: not even its legend entry is drawn. */
  curveHidden?: boolean;
  count: number;
  /** Computed grid α below 0 (with zero-shot) and above 1 (with fine-tuned): the frontier extended. */
  below: Datum[];
  above: Datum[];
  /** The current per-layer setting's point, while per-layer α is on. */
  perLayer: Datum | null;
  /** The soups' points (uniform, greedy, Model Stock), while the soups panel is open. */
  soups: (Datum & { kind: SoupMark['kind'] })[];
  /** Live points where the recorded sweep lies outside the live interval on some set (state/sweepCheck.ts). */
  disputed: Datum[];
}

interface ChartInputs {
  pair: PairSummary;
  points: FrontierPoints;
  ensemble: FrontierPoints;
  shift: string;
  alpha: number;
  showEnsemble: boolean;
  imported: ImportedCurve[];
  showRecorded: boolean;
  /** The current per-layer setting's results, while per-layer α is on. */
  layerPoint: Record<string, SetAccuracy> | null;
  soups: SoupMark[];
}

/** The live curve, the current α's point (or its ≈ estimate) and the endpoints. */
function liveSeries({ pair, points, shift, alpha }: ChartInputs): Pick<ChartData, 'curve' | 'current' | 'estimate' | 'z' | 'f' | 'count'> {
  const all = frontierPoints(pair, points, shift);
  const grid = all.filter((p) => isGridAlpha(p.alpha));
  const current = all.find((p) => sameAlpha(p.alpha, alpha));
  // Not computed yet (1–3 s after each move, most of ▶ Play): an estimate between the computed
  // neighbours, drawn hollow and labelled ≈, so the point never vanishes while it is evaluated.
  // Between grid points where there are two: an α passed on the way (a drag, a Play step) has
  // often only its first 100 images, too noisy to lean on.
  const guess = current
    ? null
    : interpolateAt(
        (grid.length >= 2 ? grid : all).map((p) => toDatum(p, '')),
        alpha,
      );
  const z = grid.find((p) => sameAlpha(p.alpha, 0));
  const f = grid.find((p) => sameAlpha(p.alpha, 1));
  return {
    curve: grid.map((p) => toDatum(p, 'WiSE-FT')),
    current: current ? toDatum(current, 'current α') : null,
    estimate: guess ? { x: guess.x, y: guess.y, alpha, series: ESTIMATE_SERIES, from: guess.from } : null,
    z: z ? toDatum(z, 'zero-shot') : null,
    f: f ? toDatum(f, fineTunedLabel(pair)) : null,
    count: grid.length,
  };
}

/**
 * The member's recorded sweep (first: it needs no evaluation) and imported results files, thinned:
 * a sweep of thousands of α values is drawn as a few hundred points that keep its shape. The
 * paper's ImageNet curves are not drawn here: on these axes they would read as numbers of this
 * world (PaperPanel draws them on their own axes).
 */
function fileSeries({ pair, shift, imported, showRecorded }: ChartInputs): Pick<ChartData, 'importedData' | 'known'> {
  const recorded = showRecorded ? recordedCurve(pair) : null;
  const importedData = (recorded ? [recorded, ...imported] : imported).map((c) =>
    thinCurve(
      c.points.map((p) => ({
        x: 100 * p.reference,
        y: 100 * (shift !== 'mean' && own(p.perSet, shift) !== undefined ? p.perSet[shift]! : p.shift),
        alpha: p.alpha,
        series: c.series ?? `${isolate(c.name, 40)} (imported)`,
      })),
    ),
  );
  // The recorded sweep was measured on these very sets: its box leaves room for the first pass's wide bars.
  const refSet = referenceSet(pair);
  const known = union(
    recorded && refSet ? recordedBox(recorded.points, { reference: refSet, shifts: shiftSets(pair) }, shift) : null,
    boxOf(importedData.slice(recorded ? 1 : 0).flat()),
  );
  return { importedData, known };
}

const onExtendedGrid = (a: number) => EXTRAPOLATED_GRID.some((g) => sameAlpha(g, a));

/** α outside [0, 1], each side joined to its endpoint; and the per-layer setting (α: none, it has one per group). */
/** Each soup as a point of its own series: "uniform soup (n=100)", never a point of the α curve. */
function soupSeries({ pair, shift, soups }: ChartInputs): ChartData['soups'] {
  return soups.flatMap(({ kind, label, point }) => {
    const p = frontierPoints(pair, { '0': point }, shift)[0];
    return p ? [{ ...toDatum({ ...p, alpha: NaN }, `${label} (n=${p.reference.n})`), kind }] : [];
  });
}

function extraSeries({ pair, points, shift, layerPoint }: ChartInputs): Pick<ChartData, 'below' | 'above' | 'perLayer'> {
  const all = frontierPoints(pair, points, shift).filter(
    (p) => onExtendedGrid(p.alpha) && (isExtrapolated(p.alpha) || sameAlpha(p.alpha, 0) || sameAlpha(p.alpha, 1)),
  );
  const side = (keep: (a: number) => boolean) =>
    all
      .filter((p) => keep(p.alpha))
      .sort((a, b) => a.alpha - b.alpha)
      .map((p) => toDatum(p, 'extrapolated α'));
  const below = side((a) => a <= 0);
  const above = side((a) => a >= 1);
  const layer = layerPoint ? frontierPoints(pair, { '0': layerPoint }, shift)[0] : undefined;
  return {
    below: below.some((d) => isExtrapolated(d.alpha)) ? below : [],
    above: above.some((d) => isExtrapolated(d.alpha)) ? above : [],
    perLayer: layer ? toDatum({ ...layer, alpha: NaN }, 'per-layer α setting') : null,
  };
}

/** The live points the recorded sweep disagrees with, on any set (the message names which). */
function disputedSeries({ pair, points, shift }: ChartInputs): Pick<ChartData, 'disputed'> {
  const alphas = sweepDisagreements(pair, points).map((d) => d.alpha);
  if (alphas.length === 0) return { disputed: [] };
  const live = frontierPoints(pair, points, shift).filter((p) => alphas.some((a) => sameAlpha(a, p.alpha)));
  return { disputed: live.map((p) => toDatum(p, 'live point the recording disagrees with')) };
}

function chartData(input: ChartInputs): ChartData {
  const ens = input.showEnsemble
    ? frontierPoints(input.pair, input.ensemble, input.shift).map((p) => toDatum(p, 'Output-space ensemble'))
    : [];
  return { ...liveSeries(input), ...fileSeries(input), ...extraSeries(input), ...disputedSeries(input), ens, soups: soupSeries(input) };
}

function useChartInputs(): ChartInputs | null {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const ensemble = useStore((s) => s.ensemble);
  const shift = useStore((s) => s.shift);
  const alpha = useStore((s) => s.alpha);
  const showEnsemble = useStore((s) => s.showEnsemble);
  const imported = useStore((s) => s.imported);
  const showRecorded = useStore((s) => s.showRecorded);
  const layerKey = useStore(currentSettingKey);
  const layerPoint = useStore((s) => (layerKey ? (s.layerPoints[layerKey] ?? null) : null));
  const soupsOn = useStore((s) => s.soupsOn);
  const soupPoints = useStore((s) => s.soupPoints);
  const greedySteps = useStore((s) => s.greedySteps);
  const stock = useStore((s) => s.stock);
  const soups = useMemo(
    () => (pair ? soupMarks(pair, { soupsOn, soupPoints, greedySteps, stock }) : []),
    [pair, soupsOn, soupPoints, greedySteps, stock],
  );
  return useMemo(
    () => (pair ? { pair, points, ensemble, shift, alpha, showEnsemble, imported, showRecorded, layerPoint, soups } : null),
    [pair, points, ensemble, shift, alpha, showEnsemble, imported, showRecorded, layerPoint, soups],
  );
}

/**
 * Round axes, held still during evaluation (src/state/axes.ts): chosen again only for a new pair,
 * member or eval sets (a new results key), shift or curve selection. Adjusted during render,
 * React's pattern for state that follows props, so the first paint already has the right axes.
 */
function useHeldAxes(input: ChartInputs | null, data: ChartData | null): HeldAxes | null {
  const [held, setHeld] = useState<HeldAxes | null>(null);
  if (!input || !data) return null;
  // A first estimate is drawn cut at the frame (withCuts), so it chooses and widens nothing: the
  // coarse pass is complete when its first pass has replaced it.
  const firstPass = !data.curve.some(preview);
  const coarse = data.count === 11 && firstPass ? union(boxOf(data.curve), data.ens.length ? boxOf(data.ens) : null) : null;
  const cur = data.current ?? data.estimate;
  const extra = [...data.below, ...data.above, ...(data.perLayer ? [data.perLayer] : []), ...data.soups];
  const all = [...data.curve, ...data.ens, ...data.importedData.flat(), ...extra, ...(cur ? [cur] : [])];
  const drawn = boxOf(all.filter((d) => !preview(d)));
  const key = [
    input.pair.resultsKey,
    input.shift,
    input.showEnsemble,
    input.showRecorded,
    input.imported.map((c) => c.name).join('\u0000'),
  ].join('|');
  const axes = holdAxes(held, { key, known: data.known, coarse, drawn });
  if (axes !== held) setHeld(axes);
  return axes;
}

const preview = (d: Datum) => d.point !== undefined && isPreview(d.point);

/** The live curve, current point and per-layer setting with each first estimate held inside the axes, and where they were cut. */
function withCuts(data: ChartData, axes: HeldAxes): ChartData & { cuts: Cut[] } {
  const cuts: Cut[] = [];
  const hold = (d: Datum, mark: boolean): Datum => {
    if (!preview(d)) return d;
    const c = clampToAxes(d, axes);
    if (mark) cuts.push(...c.cuts);
    return c.datum;
  };
  // The current α is also a grid α's point on the curve: one set of cut marks is enough.
  const curve = data.curve.map((d) => hold(d, !data.current || !sameAlpha(d.alpha, data.current.alpha)));
  return { ...data, curve, current: data.current && hold(data.current, true), perLayer: data.perLayer && hold(data.perLayer, true), cuts };
}

const CUT_SERIES = 'beyond the axes';
const CUT_NOTE =
  'A first estimate on a few images: its point or interval goes on beyond the axes (its numbers are on its point, and in the table or the per-layer panel).';

/** Each side's outward direction in pixels (y grows downward). */
const OUTWARD: Record<Cut['side'], [number, number]> = { left: [-1, 0], right: [1, 0], below: [0, 1], above: [0, -1] };

/** A small arrowhead inside the frame, pointing out: the first estimate's point or bar goes on beyond the axes. */
function CutMark({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Cut }) {
  if (cx === undefined || cy === undefined || !payload) return <g />;
  const [dx, dy] = OUTWARD[payload.side];
  // Tip on the frame, base 11 px inside it (the plot clips what is drawn beyond the axes); a white
  // edge keeps it apart from a point cut onto the frame under it.
  const base = (k: number) => `${cx - 11 * dx + k * 6 * dy},${cy - 11 * dy + k * 6 * dx}`;
  return (
    <path
      d={`M${base(-1)}L${cx},${cy}L${base(1)}Z`}
      fill={COLORS.current}
      stroke="white"
      strokeWidth={1.5}
      data-testid="cut-mark"
      data-side={payload.side}
    >
      <title>{CUT_NOTE}</title>
    </path>
  );
}

function cutMarks(cuts: (Cut & { series: string })[]): ReactNode {
  return (
    cuts.length > 0 && <Scatter key="cuts" name={CUT_SERIES} data={cuts} legendType="none" shape={CutMark} isAnimationActive={false} />
  );
}

/**
 * A lab step's chart: only what the step shows; the endpoints where the step's text reads them (the
 * recorded sweep, else the live points once complete), so the chart and the text agree; the
 * recorded output-space sweep until the live ensemble is computed. The axes
 * are still chosen from everything there is, so a reveal does not move them (nor hint at it).
 */
function applyLab(data: ChartData, lab: LabChart, pair: PairSummary): ChartData {
  const v = lab.view;
  const at = (p: { x: number; y: number } | null, alpha: number, series: string): Datum | null => (p ? { ...p, alpha, series } : null);
  return {
    ...data,
    z: v.zeroShot ? (at(lab.zeroShot, 0, 'zero-shot') ?? data.z) : null,
    f: v.fineTuned ? (at(lab.fineTuned, 1, fineTunedLabel(pair)) ?? data.f) : null,
    curve: v.curve ? data.curve : [],
    curveHidden: !v.curve,
    current: v.current ? data.current : null,
    estimate: v.current ? data.estimate : null,
    ens: v.ensemble ? (data.ens.length ? data.ens : lab.outputCurve) : [],
    importedData: v.curve ? data.importedData : [],
    disputed: v.curve ? data.disputed : [],
  };
}

/** The small α labels, each running inward near the plot's left and right edges. */
function alphaLabelData(data: ChartData, xDomain: [number, number], span: { x: number; y: number }): Datum[] {
  return labelledAlphas(data.curve, data.current ?? data.estimate, span).map((d): Datum => {
    const at = (d.x - xDomain[0]) / span.x;
    return { ...d, anchor: at > 0.88 ? 'end' : at < 0.12 ? 'start' : 'middle' };
  });
}

// Series are rendered by plain functions, not components: recharts reads its children's types.

const NoMark = () => <g />;

/** What is drawn, with each series' data array built here so it can keep its identity (share). */
type Shown = ChartData & {
  cuts: (Cut & { series: string })[];
  labels: Datum[];
  one: { z: Datum[]; f: Datum[]; current: Datum[]; estimate: Datum[]; perLayer: Datum[]; soups: Datum[][]; linear: Datum[] };
};

function shownOf(data: ChartData & { cuts: Cut[] }, xDomain: [number, number], span: { x: number; y: number }): Shown {
  const list = (d: Datum | null) => (d ? [d] : []);
  return {
    ...data,
    cuts: data.cuts.map((c) => ({ ...c, series: CUT_SERIES })),
    labels: alphaLabelData(data, xDomain, span),
    one: {
      z: list(data.z),
      f: list(data.f),
      current: list(data.current),
      estimate: list(data.estimate),
      perLayer: list(data.perLayer),
      soups: data.soups.map((d) => [d]),
      linear: data.z && data.f ? [data.z, data.f].map((d) => ({ ...d, series: 'linear trade-off' })) : [],
    },
  };
}

/** `next` with every series that did not change kept as the previous render's object (src/state/share.ts). */
function useShared<T>(next: T): T {
  const [prev, setPrev] = useState(next);
  const out = share(prev, next);
  if (out !== prev) setPrev(out);
  return out;
}

function curveSeries(data: Shown): ReactNode[] {
  return [linearSeries(data), ...importedSeries(data), ensembleSeries(data), wiseftSeries(data)];
}

/** The endpoints joined: the trade-off the curve is read against (bowing above it is WiSE-FT's gain). */
function linearSeries(data: Shown): ReactNode {
  const endpointLine = data.one.linear;
  return (
    endpointLine.length === 2 && (
      <Scatter
        key="linear"
        name="linear trade-off (endpoints joined)"
        data={endpointLine}
        line={{ stroke: COLORS.linear, strokeDasharray: '6 4' }}
        shape={NoMark}
        legendType="plainline"
        isAnimationActive={false}
      />
    )
  );
}

function importedSeries(data: Shown): ReactNode[] {
  return data.importedData.map(
    (d, i) =>
      d.length > 0 && (
        <Scatter
          key={`imported-${i}`}
          name={d[0]!.series}
          data={d}
          fill={IMPORTED[i % IMPORTED.length]}
          line={{ stroke: IMPORTED[i % IMPORTED.length] }}
          shape="cross"
          isAnimationActive={false}
        />
      ),
  );
}

function ensembleSeries(data: Shown): ReactNode {
  return (
    data.ens.length > 0 && (
      <Scatter
        key="ensemble"
        name="output-space ensemble"
        data={data.ens}
        fill={COLORS.ensemble}
        line={{ stroke: COLORS.ensemble, strokeDasharray: '3 3' }}
        shape="triangle"
        isAnimationActive={false}
      />
    )
  );
}

function wiseftSeries(data: Shown): ReactNode {
  return (
    !data.curveHidden && (
      <Scatter
        key="wiseft"
        name="WiSE-FT (weight-space), α = 0 … 1"
        data={data.curve}
        fill={COLORS.wiseft}
        line={{ stroke: COLORS.wiseft, strokeWidth: 2 }}
        isAnimationActive={false}
      >
        {/* Unanimated, as every series here: recharts remounts a whisker whenever its coordinates change and grows
            it from scale 0 over 400 ms, so a new point's interval was not whole for 400 ms after it came, and each
            update cost the chart a second render to start those transitions. */}
        {WISEFT_BARS}
      </Scatter>
    )
  );
}

const Z_LABEL = <LabelList dataKey="series" position="left" offset={12} fill={COLORS.zeroShot} fontWeight={600} />;
const fLabel = (toLeft: boolean) => (
  <LabelList
    dataKey="series"
    position="top"
    offset={14}
    fill={COLORS.fineTuned}
    content={<EndpointLabel fill={COLORS.fineTuned} toLeft={toLeft} />}
  />
);
const F_LABEL = { left: fLabel(true), right: fLabel(false) };

function endpointSeries(data: Shown, xDomain: [number, number]): ReactNode[] {
  return [
    data.z && (
      <Scatter key="z" name="zero-shot (α = 0)" data={data.one.z} fill={COLORS.zeroShot} shape="square" isAnimationActive={false}>
        {Z_LABEL}
      </Scatter>
    ),
    data.f && (
      <Scatter key="f" name="fine-tuned (α = 1)" data={data.one.f} fill={COLORS.fineTuned} shape="square" isAnimationActive={false}>
        {data.f.x > (xDomain[0] + xDomain[1]) / 2 ? F_LABEL.left : F_LABEL.right}
      </Scatter>
    ),
  ];
}

/** A hollow diamond: an α outside [0, 1], a model neither endpoint nor between them. */
function ExtrapolatedMark({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Datum }) {
  if (cx === undefined || cy === undefined || !payload || !isExtrapolated(payload.alpha)) return <g />;
  return (
    <path
      d={`M${cx},${cy - 6}L${cx + 6},${cy}L${cx},${cy + 6}L${cx - 6},${cy}Z`}
      fill="white"
      stroke={COLORS.extrapolated}
      strokeWidth={2}
      data-testid="extrapolated-point"
      data-alpha={payload.alpha.toFixed(2)}
    />
  );
}

function extendedSeries(data: Shown): ReactNode[] {
  return [
    ...[data.below, data.above].map(
      (d, i) =>
        d.length > 0 && (
          <Scatter
            key={`extrapolated-${i}`}
            name="extrapolated α (outside [0, 1])"
            data={d}
            line={{ stroke: COLORS.extrapolated, strokeDasharray: '4 3' }}
            shape={ExtrapolatedMark}
            legendType={i === 0 || data.below.length === 0 ? 'diamond' : 'none'}
            fill={COLORS.extrapolated}
            isAnimationActive={false}
          />
        ),
    ),
    data.perLayer && (
      <Scatter
        key="per-layer"
        name="per-layer α setting"
        data={data.one.perLayer}
        fill={COLORS.perLayer}
        shape="star"
        isAnimationActive={false}
      >
        {PER_LAYER_BARS}
      </Scatter>
    ),
    ...data.soups.map((d, i) => (
      // One shape per soup, so the three stay apart in print and for colour-blind readers.
      <Scatter
        key={`soup-${d.kind}`}
        name={d.series}
        data={data.one.soups[i]}
        fill={COLORS.soup}
        shape={SOUP_SHAPES[d.kind]}
        isAnimationActive={false}
      >
        {SOUP_BARS}
      </Scatter>
    )),
  ];
}

/** A red ring around a live point the recorded sweep disagrees with. */
function DisputedMark({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Datum }) {
  if (cx === undefined || cy === undefined || !payload) return <g />;
  return (
    <circle
      cx={cx}
      cy={cy}
      r={10}
      fill="none"
      stroke={COLORS.disputed}
      strokeWidth={2.5}
      data-testid="disputed-point"
      data-alpha={payload.alpha.toFixed(2)}
    />
  );
}

function disputedMarks(data: Shown): ReactNode {
  return (
    data.disputed.length > 0 && (
      <Scatter
        key="disputed"
        name="live point the recording disagrees with"
        data={data.disputed}
        fill={COLORS.disputed}
        shape={DisputedMark}
        isAnimationActive={false}
      />
    )
  );
}

const SOUP_SHAPES = { uniform: 'triangle', greedy: 'square', 'model-stock': 'wye' } as const;

// Children and shapes made once: recharts memoises each series on its props (children and
// shape included), so a new element or closure per render would redraw every series on every update.
const errorBars = (stroke: string, width: number, strokeOpacity?: number) => [
  <ErrorBar key="x" dataKey="xErr" direction="x" stroke={stroke} strokeOpacity={strokeOpacity} width={width} isAnimationActive={false} />,
  <ErrorBar key="y" dataKey="yErr" direction="y" stroke={stroke} strokeOpacity={strokeOpacity} width={width} isAnimationActive={false} />,
];
const WISEFT_BARS = errorBars(COLORS.wiseft, 3, 0.45);
const PER_LAYER_BARS = errorBars(COLORS.perLayer, 4);
const SOUP_BARS = errorBars(COLORS.soup, 4);
const CURRENT_BARS = errorBars(COLORS.current, 4);

/** The current α's point; its datum's α is the current α's slider step (sameAlpha), so its two decimals are the same. */
function CurrentMark({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Datum }) {
  return (
    <g data-testid="current-point" data-alpha={payload?.alpha.toFixed(2)} data-estimate="false">
      <circle cx={cx} cy={cy} r={11} fill={COLORS.current} fillOpacity={0.18} />
      <circle cx={cx} cy={cy} r={6} fill={COLORS.current} stroke="white" strokeWidth={2} />
    </g>
  );
}

/** The ≈ estimate of the current α, drawn hollow until its own point replaces it. */
function EstimateMark({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Datum }) {
  return (
    <g data-testid="current-point" data-alpha={payload?.alpha.toFixed(2)} data-estimate="true">
      <circle cx={cx} cy={cy} r={7} fill="white" stroke={COLORS.current} strokeWidth={2.5} strokeDasharray="3 2" />
    </g>
  );
}

function currentSeries(data: Shown, alpha: number): ReactNode[] {
  return [
    data.current && (
      <Scatter
        key="current"
        name={`current α = ${alpha.toFixed(2)}`}
        data={data.one.current}
        fill={COLORS.current}
        shape={CurrentMark}
        isAnimationActive={false}
      >
        {CURRENT_BARS}
      </Scatter>
    ),
    data.estimate && (
      <Scatter
        key="estimate"
        name={`current α = ${alpha.toFixed(2)} (≈ estimate, not computed yet)`}
        data={data.one.estimate}
        fill={COLORS.current}
        shape={EstimateMark}
        isAnimationActive={false}
      />
    ),
  ];
}

function alphaLabelSeries(labels: Datum[]): ReactNode {
  return labels.length > 0 && <Scatter name="α labels" data={labels} legendType="none" shape={AlphaLabel} isAnimationActive={false} />;
}

function axesOf(pair: PairSummary, shift: string, axes: HeldAxes, presenter: boolean): ReactNode[] {
  return [
    <CartesianGrid key="grid" stroke="#e2e8f0" />,
    // Explicit round ticks (every 5, 10 or 20 pp) on a domain that holds every interval.
    xAxisOf(pair, axes),
    yAxisOf(pair, shift, axes, presenter),
    <Tooltip key="tooltip" content={<TooltipBody pair={pair} />} isAnimationActive={false} />,
    // Below the axes, at its measured height (recharts reserves it): a fixed height let a wrapped
    // legend cover the plot on narrow screens.
    <Legend key="legend" verticalAlign="bottom" wrapperStyle={LEGEND_STYLE} />,
  ];
}

const percentTick = (v: number) => `${v}%`;
const LEGEND_STYLE = { paddingTop: 28 };
const MARGIN = { top: 16, right: 40, bottom: 4, left: 12 };

function xAxisOf(pair: PairSummary, axes: HeldAxes): ReactNode {
  const ref = referenceSet(pair);
  return (
    <XAxis
      key="x"
      type="number"
      dataKey="x"
      domain={[axes.x.lo, axes.x.hi]}
      ticks={axes.x.ticks}
      tickFormatter={percentTick}
      allowDataOverflow
    >
      <Label value={`Reference accuracy (${isolate(ref?.name ?? 'reference', 40)})`} position="bottom" offset={14} fill={AXIS_INK} />
    </XAxis>
  );
}

function yAxisOf(pair: PairSummary, shift: string, axes: HeldAxes, presenter: boolean): ReactNode {
  // Larger ticks in the presenter view need a wider y axis, or its name runs into them.
  return (
    <YAxis
      key="y"
      type="number"
      dataKey="y"
      domain={[axes.y.lo, axes.y.hi]}
      ticks={axes.y.ticks}
      tickFormatter={percentTick}
      allowDataOverflow
      width={presenter ? 72 : 60}
    >
      <Label
        value={`Accuracy under shift (${shiftLabel(pair, shift)})`}
        angle={-90}
        fill={AXIS_INK}
        position="insideLeft"
        style={{ textAnchor: 'middle' }}
      />
    </YAxis>
  );
}

function Caption({ pair, data, cachedAt }: { pair: PairSummary; data: ChartData; cachedAt: number | null }) {
  return (
    <figcaption>
      <span data-testid="frontier-count">{data.count}</span> of 11 grid points computed
      {cachedAt !== null && <span data-testid="frontier-cached"> · {cachedLabel(cachedAt)}</span>}
      {data.below.length + data.above.length > 0
        ? ` · extrapolated α (hollow diamonds, dashed): ${[...data.below, ...data.above].filter((d) => isExtrapolated(d.alpha)).length} of 10`
        : ''}{' '}
      · bars are 95% intervals
      {data.curve.some((d) => d.point && !d.point.complete) ? ' (points still being refined on the full sets)' : ''}
      {pair.sets.length > 0 && (
        <>
          {' '}
          ·{' '}
          {pair.sets.map((s, i) => (
            <span key={s.id}>
              {i > 0 ? ', ' : ''}
              <UserText text={s.name} />: {s.count} images
            </span>
          ))}
        </>
      )}
    </figcaption>
  );
}

function ChartEmpty({ height }: { height: number | '100%' }) {
  return (
    <div className="chart-empty" style={{ height }}>
      Load a pair to see its frontier.
    </div>
  );
}

/** `height` in pixels, or '100%' of a container the stylesheet sizes (the presenter view). */
export function FrontierChart({ height }: { height: number | '100%' }) {
  const presenter = useStore((s) => s.presenter);
  const cachedAt = useStore((s) => s.cachedAt);
  const input = useChartInputs();
  const data = useMemo(() => (input ? chartData(input) : null), [input]);
  const lab = useLabChart(input);
  const axes = useHeldAxes(input, data);
  if (!input || !data || !axes) return <ChartEmpty height={height} />;
  return (
    <figure
      className="frontier"
      aria-label="Accuracy on the reference distribution against accuracy under shift, one point per α"
      data-testid="frontier"
      data-x-domain={[axes.x.lo, axes.x.hi].join(',')}
      data-y-domain={[axes.y.lo, axes.y.hi].join(',')}
      data-axes={axes.basis}
    >
      <ChartBody input={input} data={data} lab={lab} axes={axes} presenter={presenter} height={height} />
      <Caption pair={input.pair} data={data} cachedAt={cachedAt} />
    </figure>
  );
}

interface BodyProps {
  input: ChartInputs;
  data: ChartData;
  lab: LabChart | null;
  axes: HeldAxes;
  presenter: boolean;
  height: number | '100%';
}

/** The plot; each series keeps its data's identity while it does not change, so recharts redraws only the changed ones. */
function ChartBody({ input, data, lab, axes, presenter, height }: BodyProps) {
  const xDomain: [number, number] = [axes.x.lo, axes.x.hi];
  const span = { x: axes.x.hi - axes.x.lo, y: axes.y.hi - axes.y.lo };
  const shown = useShared(shownOf(withCuts(lab ? applyLab(data, lab, input.pair) : data, axes), xDomain, span));
  const { pair, shift } = input;
  const frame = useMemo(() => axesOf(pair, shift, axes, presenter), [pair, shift, axes, presenter]);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <ComposedChart margin={MARGIN}>
        {frame}
        {curveSeries(shown)}
        {extendedSeries(shown)}
        {endpointSeries(shown, xDomain)}
        {disputedMarks(shown)}
        {currentSeries(shown, input.alpha)}
        {cutMarks(shown.cuts)}
        {alphaLabelSeries(shown.labels)}
        {lab && labSeries(lab)}
        {lab?.pending && <PredictionLayer />}
      </ComposedChart>
    </ResponsiveContainer>
  );
}
