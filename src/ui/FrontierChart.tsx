import { useMemo } from 'react';
import {
  ResponsiveContainer, ComposedChart, CartesianGrid, XAxis, YAxis, Tooltip, Scatter, ErrorBar, Legend, Label, LabelList,
} from 'recharts';
import { useStore } from '../state/store';
import { frontierPoints, pct, type FrontierPoint, referenceSet, shiftSets } from '../state/frontier';
import { PAPER_CURVES, ANALOGUE_COLUMN } from '../data/paper/paper';
import type { PairSummary } from '../core/explorer';
import { own } from '../core/eval/ids';
import { extent, thinCurve, isolate } from '../state/thin';
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

export function FrontierChart({ height }: { height: number }) {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const ensemble = useStore((s) => s.ensemble);
  const shift = useStore((s) => s.shift);
  const alpha = useStore((s) => s.alpha);
  const showEnsemble = useStore((s) => s.showEnsemble);
  const paper = useStore((s) => s.paper);
  const imported = useStore((s) => s.imported);
  const showRecorded = useStore((s) => s.showRecorded);

  const data = useMemo(() => {
    if (!pair) return null;
    const all = frontierPoints(pair, points, shift);
    const grid = all.filter((p) => Math.abs(p.alpha * 10 - Math.round(p.alpha * 10)) < 1e-9);
    const curve = grid.map((p) => toDatum(p, 'WiSE-FT'));
    const current = all.find((p) => p.alpha === alpha);
    const z = grid.find((p) => p.alpha === 0);
    const f = grid.find((p) => p.alpha === 1);
    const ens = showEnsemble ? frontierPoints(pair, ensemble, shift).map((p) => toDatum(p, 'Output-space ensemble')) : [];
    let paperData: Datum[] = [];
    const curveDef = PAPER_CURVES.find((c) => c.id === paper);
    if (curveDef) {
      const col = shift === 'mean' ? null : ANALOGUE_COLUMN[pair.sets.find((s) => s.id === shift)?.analogue ?? ''];
      paperData = curveDef.points
        .filter((p) => Math.abs(p.alpha * 10 - Math.round(p.alpha * 10)) < 1e-9)
        .map((p) => ({ x: p.imagenet, y: col ? p.shifts[col] : p.avgShifts, alpha: p.alpha, series: `${curveDef.label} (paper)` }));
    }
    // The member's recorded sweep is drawn like an imported results file, first, and at once: it
    // needs no evaluation.
    const recorded = showRecorded ? recordedCurve(pair) : null;
    const importedData = (recorded ? [recorded, ...imported] : imported).map((c) => thinCurve(c.points.map((p) => ({
      x: 100 * p.reference,
      y: 100 * (shift !== 'mean' && own(p.perSet, shift) !== undefined ? p.perSet[shift]! : p.shift),
      alpha: p.alpha,
      series: c.series ?? `${isolate(c.name, 40)} (imported)`,
    })))); // thinned: an imported sweep of thousands of α values is drawn as a few hundred points that keep its shape
    return { curve, current: current ? toDatum(current, 'current α') : null, z: z ? toDatum(z, 'zero-shot') : null, f: f ? toDatum(f, fineTunedLabel(pair)) : null, ens, paperData, importedData, count: grid.length };
  }, [pair, points, ensemble, shift, alpha, showEnsemble, paper, imported, showRecorded]);

  if (!pair || !data) return <div className="chart-empty" style={{ height }}>Load a pair to see its frontier.</div>;
  const ref = referenceSet(pair);
  const everything: Datum[] = [...data.curve, ...data.ens, ...data.paperData, ...data.importedData.flat()];
  // Loops, not Math.min(...xs): spreading ~62,000 values overflowed the call stack.
  const xs = extent(everything.flatMap((d) => [d.x - (d.xErr?.[0] ?? 0), d.x + (d.xErr?.[1] ?? 0)]));
  const ys = extent(everything.flatMap((d) => [d.y - (d.yErr?.[0] ?? 0), d.y + (d.yErr?.[1] ?? 0)]));
  const pad = (r: [number, number] | null): [number, number] => {
    if (!r) return [0, 100];
    const [lo, hi] = r;
    const span = Math.max(4, hi - lo);
    return [Math.max(0, Math.floor(lo - span * 0.08)), Math.min(100, Math.ceil(hi + span * 0.08))];
  };
  const xDomain = pad(xs);
  const yDomain = pad(ys);
  const endpointLine = data.z && data.f ? [data.z, data.f].map((d) => ({ ...d, series: 'linear trade-off' })) : [];

  return (
    <figure className="frontier" aria-label="Accuracy on the reference distribution against accuracy under shift, one point per α">
      <ResponsiveContainer width="100%" height={height}>
        <ComposedChart margin={{ top: 16, right: 72, bottom: 36, left: 12 }}>
          <CartesianGrid stroke="#e2e8f0" />
          <XAxis type="number" dataKey="x" domain={xDomain} tickFormatter={(v: number) => `${v}%`} allowDataOverflow>
            <Label value={`Reference accuracy (${isolate(ref?.name ?? 'reference', 40)})`} position="bottom" offset={14} />
          </XAxis>
          <YAxis type="number" dataKey="y" domain={yDomain} tickFormatter={(v: number) => `${v}%`} allowDataOverflow>
            <Label value={`Accuracy under shift (${shiftLabel(pair, shift)})`} angle={-90} position="insideLeft" style={{ textAnchor: 'middle' }} />
          </YAxis>
          <Tooltip content={<TooltipBody pair={pair} />} isAnimationActive={false} />
          <Legend verticalAlign="top" height={28} />
          {endpointLine.length === 2 && (
            <Scatter name="linear trade-off (endpoints joined)" data={endpointLine} line={{ stroke: COLORS.linear, strokeDasharray: '6 4' }} shape={() => <g />} legendType="plainline" isAnimationActive={false} />
          )}
          {data.paperData.length > 0 && (
            <Scatter name={data.paperData[0]!.series} data={data.paperData} fill={COLORS.paper} line={{ stroke: COLORS.paper }} shape="diamond" isAnimationActive={false} />
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
              <g data-testid="current-point" data-alpha={alpha.toFixed(2)}>
                <circle cx={props.cx} cy={props.cy} r={11} fill={COLORS.current} fillOpacity={0.18} />
                <circle cx={props.cx} cy={props.cy} r={6} fill={COLORS.current} stroke="white" strokeWidth={2} />
              </g>
            )} isAnimationActive={false}>
              <ErrorBar dataKey="xErr" direction="x" stroke={COLORS.current} width={4} />
              <ErrorBar dataKey="yErr" direction="y" stroke={COLORS.current} width={4} />
            </Scatter>
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
