import { useMemo, useState } from 'react';
import {
  ResponsiveContainer, ComposedChart, CartesianGrid, XAxis, YAxis, Tooltip, Scatter, ErrorBar, Legend, Label, LabelList,
} from 'recharts';
import { useStore } from '../state/store';
import { frontierPoints, pct, type FrontierPoint, referenceSet, shiftSets, interpolateAt, labelledAlphas } from '../state/frontier';
import type { PairSummary } from '../core/explorer';
import { own } from '../core/eval/ids';
import { thinCurve, isolate } from '../state/thin';
import { boxOf, holdAxes, union, recordedBox, type HeldAxes } from '../state/axes';
import { UserText } from './UserText';
import { fineTunedLabel, recordedCurve } from '../state/members';

export const COLORS = {
  zeroShot: '#2563eb',
  fineTuned: '#ea580c',
  wiseft: '#7c3aed',
  current: '#db2777',
  ensemble: '#64748b',
  linear: '#94a3b8',
  paper: '#0d9488',
};

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
    x, y, alpha: p.alpha, series, point: p,
    xErr: [x - 100 * p.reference.low, 100 * p.reference.high - x],
    yErr: [y - 100 * p.shift.low, 100 * p.shift.high - y],
  };
}

function shiftLabel(pair: PairSummary, shift: string): string {
  if (shift === 'mean') return `mean of ${shiftSets(pair).length} shifts`;
  return isolate(pair.sets.find((s) => s.id === shift)?.name ?? shift, 40);
}

function TooltipBody({ active, payload, pair }: { active?: boolean; payload?: { payload: Datum }[]; pair: PairSummary }) {
  if (!active || !payload?.length) return null;
  const d = payload[0]!.payload;
  if (d.series === ESTIMATE_SERIES && d.from) {
    // No accuracy is given for it: it is a position on the chart, not a measurement.
    return (
      <div className="tooltip" data-testid="estimate-tooltip">
        <strong>≈ α = {d.alpha.toFixed(2)}: not computed yet</strong>
        <div>{d.from[0] === d.from[1] ? `drawn at α = ${d.from[0]}, the nearest computed α` : `drawn between α = ${d.from[0]} and α = ${d.from[1]}, which are computed`}; its own point replaces it when it is evaluated</div>
      </div>
    );
  }
  if (!d.point) {
    return (
      <div className="tooltip">
        <strong><UserText text={d.series} /></strong> α = {d.alpha.toFixed(2)}
        <div>reference {d.x.toFixed(1)}% · shift {d.y.toFixed(1)}%</div>
      </div>
    );
  }
  const p = d.point;
  return (
    <div className="tooltip">
      <strong>{d.series} · α = {p.alpha.toFixed(2)}</strong>
      <table>
        <tbody>
          {pair.sets.map((s) => {
            const e = own(p.perSet, s.id);
            return (
              <tr key={s.id}>
                <td><UserText text={s.name} /></td>
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
function EndpointLabel({ x, y, value, fill, toLeft }: { x?: number | string; y?: number | string; value?: unknown; fill?: string; toLeft: boolean }) {
  return <text x={Number(x) + (toLeft ? 6 : -6)} y={Number(y)} textAnchor={toLeft ? 'end' : 'start'} fill={fill} fontWeight={600} className="endpoint-label">{String(value ?? '')}</text>;
}

/** A small "α 0.5" under a point; "≈ α 0.33" for the estimate of an α not computed yet. */
function AlphaLabel({ cx, cy, payload }: { cx?: number; cy?: number; payload?: Datum }) {
  if (cx === undefined || cy === undefined || !payload) return <g />;
  const estimate = payload.series === ESTIMATE_SERIES;
  const text = `${estimate ? '≈ ' : ''}α ${payload.series === 'current α' || estimate ? payload.alpha.toFixed(2) : String(payload.alpha)}`;
  return <text x={cx} y={cy + 22} textAnchor={payload.anchor ?? 'middle'} className="alpha-label" data-testid="alpha-label" fill={payload.series === 'current α' || estimate ? COLORS.current : '#475569'}>{text}</text>;
}

const ESTIMATE_SERIES = 'current α (estimate)';

/** `height` in pixels, or '100%' of a container the stylesheet sizes (the presenter view). */
export function FrontierChart({ height }: { height: number | '100%' }) {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const ensemble = useStore((s) => s.ensemble);
  const shift = useStore((s) => s.shift);
  const alpha = useStore((s) => s.alpha);
  const showEnsemble = useStore((s) => s.showEnsemble);
  const imported = useStore((s) => s.imported);
  const showRecorded = useStore((s) => s.showRecorded);
  // Larger ticks in the presenter view need a wider y axis, or its name runs into them.
  const presenter = useStore((s) => s.presenter);

  const data = useMemo(() => {
    if (!pair) return null;
    const all = frontierPoints(pair, points, shift);
    const grid = all.filter((p) => Math.abs(p.alpha * 10 - Math.round(p.alpha * 10)) < 1e-9);
    const curve = grid.map((p) => toDatum(p, 'WiSE-FT'));
    const current = all.find((p) => p.alpha === alpha);
    // Not computed yet (1–3 s after each move, most of ▶ Play): an estimate between the computed
    // neighbours, drawn hollow and labelled ≈, so the point never vanishes while it is evaluated.
    // Between grid points where there are two: an α passed on the way (a drag, a Play step) has
    // often only its first 100 images, too noisy to lean on.
    const guess = current ? null : interpolateAt((grid.length >= 2 ? grid : all).map((p) => toDatum(p, '')), alpha);
    const estimate: Datum | null = guess ? { x: guess.x, y: guess.y, alpha, series: ESTIMATE_SERIES, from: guess.from } : null;
    const z = grid.find((p) => p.alpha === 0);
    const f = grid.find((p) => p.alpha === 1);
    const ens = showEnsemble ? frontierPoints(pair, ensemble, shift).map((p) => toDatum(p, 'Output-space ensemble')) : [];
    // The paper's ImageNet curves are not drawn here: on these axes they would read as numbers of
    // this world. PaperPanel draws them on their own axes.
    // The member's recorded sweep is drawn like an imported results file, first, and at once: it
    // needs no evaluation.
    const recorded = showRecorded ? recordedCurve(pair) : null;
    const importedData = (recorded ? [recorded, ...imported] : imported).map((c) => thinCurve(c.points.map((p) => ({
      x: 100 * p.reference,
      y: 100 * (shift !== 'mean' && own(p.perSet, shift) !== undefined ? p.perSet[shift]! : p.shift),
      alpha: p.alpha,
      series: c.series ?? `${isolate(c.name, 40)} (imported)`,
    })))); // thinned: an imported sweep of thousands of α values is drawn as a few hundred points that keep its shape
    // Known before any live point, for the axes: the recorded sweep (measured on these very sets,
    // so with room for the first pass's wide bars) and imported curves as they are.
    const refSet = referenceSet(pair);
    const known = union(
      recorded && refSet ? recordedBox(recorded.points, { reference: refSet, shifts: shiftSets(pair) }, shift) : null,
      boxOf(importedData.slice(recorded ? 1 : 0).flat()),
    );
    return { curve, current: current ? toDatum(current, 'current α') : null, estimate, z: z ? toDatum(z, 'zero-shot') : null, f: f ? toDatum(f, fineTunedLabel(pair)) : null, ens, importedData, known, count: grid.length };
  }, [pair, points, ensemble, shift, alpha, showEnsemble, imported, showRecorded]);

  // Round axes, held still during evaluation (src/state/axes.ts): chosen again only for a new pair,
  // member (its own content hash), shift or curve selection. Adjusted during render, React's
  // pattern for state that follows props, so the first paint already has the right axes.
  const [held, setHeld] = useState<HeldAxes | null>(null);
  let axes: HeldAxes | null = null;
  if (pair && data) {
    const coarse = data.count === 11 ? union(boxOf(data.curve), data.ens.length ? boxOf(data.ens) : null) : null;
    const cur = data.current ?? data.estimate;
    const drawn = boxOf([...data.curve, ...data.ens, ...data.importedData.flat(), ...(cur ? [cur] : [])]);
    const key = [pair.contentHash, shift, showEnsemble, showRecorded, imported.map((c) => c.name).join('\u0000')].join('|');
    axes = holdAxes(held, { key, known: data.known, coarse, drawn });
    if (axes !== held) setHeld(axes);
  }

  if (!pair || !data || !axes) return <div className="chart-empty" style={{ height }}>Load a pair to see its frontier.</div>;
  const ref = referenceSet(pair);
  const xDomain: [number, number] = [axes.x.lo, axes.x.hi];
  const yDomain: [number, number] = [axes.y.lo, axes.y.hi];
  const span = { x: xDomain[1] - xDomain[0], y: yDomain[1] - yDomain[0] };
  const alphaLabels = labelledAlphas(data.curve, data.current ?? data.estimate, span).map((d): Datum => {
    const at = (d.x - xDomain[0]) / span.x;
    return { ...d, anchor: at > 0.88 ? 'end' : at < 0.12 ? 'start' : 'middle' };
  });
  const endpointLine = data.z && data.f ? [data.z, data.f].map((d) => ({ ...d, series: 'linear trade-off' })) : [];

  return (
    <figure
      className="frontier"
      aria-label="Accuracy on the reference distribution against accuracy under shift, one point per α"
      data-testid="frontier"
      data-x-domain={xDomain.join(',')}
      data-y-domain={yDomain.join(',')}
      data-axes={axes.basis}
    >
      <ResponsiveContainer width="100%" height={height}>
        <ComposedChart margin={{ top: 16, right: 40, bottom: 4, left: 12 }}>
          <CartesianGrid stroke="#e2e8f0" />
          {/* Explicit round ticks (every 5, 10 or 20 pp) on a domain that holds every interval. */}
          <XAxis type="number" dataKey="x" domain={xDomain} ticks={axes.x.ticks} tickFormatter={(v: number) => `${v}%`} allowDataOverflow>
            <Label value={`Reference accuracy (${isolate(ref?.name ?? 'reference', 40)})`} position="bottom" offset={14} />
          </XAxis>
          <YAxis type="number" dataKey="y" domain={yDomain} ticks={axes.y.ticks} tickFormatter={(v: number) => `${v}%`} allowDataOverflow width={presenter ? 72 : 60}>
            <Label value={`Accuracy under shift (${shiftLabel(pair, shift)})`} angle={-90} position="insideLeft" style={{ textAnchor: 'middle' }} />
          </YAxis>
          <Tooltip content={<TooltipBody pair={pair} />} isAnimationActive={false} />
          {/* Below the axes, at its measured height (recharts reserves it): a fixed height let a
              wrapped legend cover the plot on narrow screens. */}
          <Legend verticalAlign="bottom" wrapperStyle={{ paddingTop: 28 }} />
          {endpointLine.length === 2 && (
            <Scatter name="linear trade-off (endpoints joined)" data={endpointLine} line={{ stroke: COLORS.linear, strokeDasharray: '6 4' }} shape={() => <g />} legendType="plainline" isAnimationActive={false} />
          )}
          {data.importedData.map((d, i) => d.length > 0 && (
            <Scatter key={i} name={d[0]!.series} data={d} fill={IMPORTED[i % IMPORTED.length]} line={{ stroke: IMPORTED[i % IMPORTED.length] }} shape="cross" isAnimationActive={false} />
          ))}
          {data.ens.length > 0 && (
            <Scatter name="output-space ensemble" data={data.ens} fill={COLORS.ensemble} line={{ stroke: COLORS.ensemble, strokeDasharray: '3 3' }} shape="triangle" isAnimationActive={false} />
          )}
          <Scatter name="WiSE-FT (weight-space), α = 0 … 1" data={data.curve} fill={COLORS.wiseft} line={{ stroke: COLORS.wiseft, strokeWidth: 2 }} isAnimationActive={false}>
            <ErrorBar dataKey="xErr" direction="x" stroke={COLORS.wiseft} strokeOpacity={0.45} width={3} />
            <ErrorBar dataKey="yErr" direction="y" stroke={COLORS.wiseft} strokeOpacity={0.45} width={3} />
          </Scatter>
          {data.z && (
            <Scatter name="zero-shot (α = 0)" data={[data.z]} fill={COLORS.zeroShot} shape="square" isAnimationActive={false}>
              <LabelList dataKey="series" position="left" offset={12} fill={COLORS.zeroShot} fontWeight={600} />
            </Scatter>
          )}
          {data.f && (
            <Scatter name="fine-tuned (α = 1)" data={[data.f]} fill={COLORS.fineTuned} shape="square" isAnimationActive={false}>
              <LabelList dataKey="series" position="top" offset={14} fill={COLORS.fineTuned} content={<EndpointLabel fill={COLORS.fineTuned} toLeft={data.f.x > (xDomain[0] + xDomain[1]) / 2} />} />
            </Scatter>
          )}
          {data.current && (
            <Scatter name={`current α = ${alpha.toFixed(2)}`} data={[data.current]} fill={COLORS.current} shape={(props: { cx?: number; cy?: number }) => (
              <g data-testid="current-point" data-alpha={alpha.toFixed(2)} data-estimate="false">
                <circle cx={props.cx} cy={props.cy} r={11} fill={COLORS.current} fillOpacity={0.18} />
                <circle cx={props.cx} cy={props.cy} r={6} fill={COLORS.current} stroke="white" strokeWidth={2} />
              </g>
            )} isAnimationActive={false}>
              <ErrorBar dataKey="xErr" direction="x" stroke={COLORS.current} width={4} />
              <ErrorBar dataKey="yErr" direction="y" stroke={COLORS.current} width={4} />
            </Scatter>
          )}
          {data.estimate && (
            <Scatter name={`current α = ${alpha.toFixed(2)} (≈ estimate, not computed yet)`} data={[data.estimate]} fill={COLORS.current} shape={(props: { cx?: number; cy?: number }) => (
              <g data-testid="current-point" data-alpha={alpha.toFixed(2)} data-estimate="true">
                <circle cx={props.cx} cy={props.cy} r={7} fill="white" stroke={COLORS.current} strokeWidth={2.5} strokeDasharray="3 2" />
              </g>
            )} isAnimationActive={false} />
          )}
          {alphaLabels.length > 0 && (
            <Scatter name="α labels" data={alphaLabels} legendType="none" shape={AlphaLabel} isAnimationActive={false} />
          )}
        </ComposedChart>
      </ResponsiveContainer>
      <figcaption>
        <span data-testid="frontier-count">{data.count}</span> of 11 grid points computed · bars are 95% intervals
        {data.curve.some((d) => d.point && !d.point.complete) ? ' (points still being refined on the full sets)' : ''}
        {pair.sets.length > 0 && <> · {pair.sets.map((s, i) => <span key={s.id}>{i > 0 ? ', ' : ''}<UserText text={s.name} />: {s.count} images</span>)}</>}
      </figcaption>
    </figure>
  );
}
