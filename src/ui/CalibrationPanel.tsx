// Calibration and loss along α: ECE and NLL of the reference set and the mean of the shifts vs α,
// in weight space (θ(α)) and output space (the ensemble of the endpoints' logits); the current α's
// numbers per set; its reliability diagram; temperature scaling fitted on the reference set. Thin:
// numbers from state/calibration.ts, every change an action (controllers/calibration.ts).
import { useMemo } from 'react';
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  LabelList,
  Legend,
  Line,
  LineChart,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useStore } from '../state/store';
import { useActions } from './actions';
import {
  calibrationRows,
  calibrationTable,
  eceText,
  nllText,
  reliabilityView,
  temperatureText,
  type CalibrationRow,
  type ReliabilityView,
} from '../state/calibration';
import { COLORS } from './FrontierChart';
import type { CalibrationReport, CalibrationStats, PairSummary } from '../worker/protocol';

const LINES: { key: 'RefEce' | 'ShiftEce'; space: 'weight' | 'output'; name: string; color: string; dash?: string }[] = [
  { key: 'RefEce', space: 'weight', name: 'θ(α), reference', color: COLORS.wiseft },
  { key: 'ShiftEce', space: 'weight', name: 'θ(α), mean of shifts', color: COLORS.wiseft, dash: '5 3' },
  { key: 'RefEce', space: 'output', name: 'ensemble, reference', color: COLORS.ensemble },
  { key: 'ShiftEce', space: 'output', name: 'ensemble, mean of shifts', color: COLORS.ensemble, dash: '5 3' },
];

/** One chart row per α: each line's ECE (in %) or NLL, null where not finite or not yet known. */
function alongAlphaData(rows: CalibrationRow[], metric: 'ece' | 'nll'): Record<string, number | null>[] {
  return rows.map((r) => {
    const out: Record<string, number | null> = { alpha: r.alpha };
    for (const l of LINES) {
      const v = r[`${l.space}${metric === 'ece' ? l.key : l.key.replace('Ece', 'Nll')}` as keyof CalibrationRow];
      out[`${l.space}${l.key}`] = v === null ? null : metric === 'ece' ? 100 * v : Number.isFinite(v) ? v : null;
    }
    return out;
  });
}

function AlongAlpha({
  rows,
  metric,
  extrapolate,
  alpha,
}: {
  rows: CalibrationRow[];
  metric: 'ece' | 'nll';
  extrapolate: boolean;
  alpha: number;
}) {
  const data = useMemo(() => alongAlphaData(rows, metric), [rows, metric]);
  const domain: [number, number] = extrapolate ? [-0.5, 1.5] : [0, 1];
  return (
    <figure className="calibration-chart" data-testid={`calibration-${metric}-chart`}>
      <figcaption>{metric === 'ece' ? 'Expected calibration error (%, 15 bins) vs α' : 'Negative log-likelihood (nats) vs α'}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={data} margin={{ top: 6, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#e2e8f0" />
          {extrapolate && <ReferenceArea x1={-0.5} x2={0} fill={COLORS.extrapolated} fillOpacity={0.06} />}
          {extrapolate && <ReferenceArea x1={1} x2={1.5} fill={COLORS.extrapolated} fillOpacity={0.06} />}
          <XAxis type="number" dataKey="alpha" domain={domain} tickCount={extrapolate ? 5 : 6} allowDataOverflow />
          <YAxis width={44} tickFormatter={(v: number) => (metric === 'ece' ? v.toFixed(0) : v.toFixed(2))} />
          <ReferenceLine x={alpha} stroke={COLORS.current} strokeDasharray="2 2" />
          <Tooltip
            formatter={(v) => (typeof v === 'number' ? (metric === 'ece' ? `${v.toFixed(1)}%` : v.toFixed(3)) : String(v))}
            labelFormatter={(a) => `α = ${Number(a).toFixed(2)}`}
          />
          {LINES.map((l) => (
            <Line
              key={`${l.space}${l.key}`}
              dataKey={`${l.space}${l.key}`}
              name={l.name}
              stroke={l.color}
              strokeDasharray={l.dash}
              dot={{ r: 2 }}
              connectNulls
              isAnimationActive={false}
            />
          ))}
          <Legend wrapperStyle={{ fontSize: '0.75rem' }} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

function Cells({ s, testid }: { s: CalibrationStats | null; testid: string }) {
  if (!s)
    return (
      <>
        <td className="num muted">…</td>
        <td className="num muted">…</td>
        <td className="num muted">…</td>
        <td className="num muted">…</td>
      </>
    );
  return (
    <>
      <td className="num" data-testid={`${testid}-n`}>
        {s.n.toLocaleString('en')}
      </td>
      <td className="num">{`${((100 * s.correct) / s.n).toFixed(1)}%`}</td>
      <td className="num" data-testid={`${testid}-ece`}>
        {eceText(s.ece)}
      </td>
      <td className="num" data-testid={`${testid}-nll`}>
        {nllText(s.nll)}
      </td>
    </>
  );
}

function NowTable({ pair, report }: { pair: PairSummary; report: CalibrationReport }) {
  const rows = calibrationTable(pair, report);
  return (
    <table className="calibration-table" data-testid="calibration-table">
      <caption>At α = {report.alpha.toFixed(2)}, on the images evaluated so far (n per set)</caption>
      <thead>
        <tr>
          <th rowSpan={2}>set</th>
          <th colSpan={4}>weight space θ(α)</th>
          <th colSpan={4}>output-space ensemble</th>
        </tr>
        <tr>
          {['n', 'accuracy', 'ECE', 'NLL', 'n', 'accuracy', 'ECE', 'NLL'].map((h, i) => (
            <th key={i} className="num">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} data-testid="calibration-row" data-set={r.id}>
            <th scope="row">
              {r.name}
              {r.role === 'reference' ? ' (reference)' : ''}
            </th>
            <Cells s={r.weight} testid={`cal-weight-${r.id}`} />
            <Cells s={r.output} testid={`cal-output-${r.id}`} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Reliability({ pair, view, alpha }: { pair: PairSummary; view: ReliabilityView; alpha: number }) {
  const { setCalibrationSet } = useActions();
  const n = (v: number | null) => (v === null ? 'not yet' : `n = ${v.toLocaleString('en')}`);
  return (
    <figure className="reliability" data-testid="reliability">
      <figcaption>
        Reliability diagram at α = {alpha.toFixed(2)}:{' '}
        <select value={view.setId} onChange={(e) => setCalibrationSet(e.currentTarget.value)} aria-label="Set of the reliability diagram">
          {pair.sets.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>{' '}
        — accuracy per confidence bin (15 bins); a calibrated model sits on the diagonal. θ(α) {n(view.weightN)}, ensemble {n(view.outputN)}
        ; the number over each bar is its bin's images.
      </figcaption>
      <ReliabilityChart view={view} />
      <ReliabilityBins view={view} />
    </figure>
  );
}

function ReliabilityChart({ view }: { view: ReliabilityView }) {
  const data = view.rows.map((r) => ({
    mid: (r.lower + r.upper) / 2,
    bin: r.bin,
    weight: r.weightAccuracy === null ? null : 100 * r.weightAccuracy,
    output: r.outputAccuracy === null ? null : 100 * r.outputAccuracy,
    weightCount: r.weightCount,
    outputCount: r.outputCount,
    diagonal: 100 * ((r.lower + r.upper) / 2),
  }));
  return (
    <ResponsiveContainer width="100%" height={220}>
      <ComposedChart data={data} margin={{ top: 14, right: 12, bottom: 4, left: 0 }}>
        <CartesianGrid stroke="#e2e8f0" />
        <XAxis type="number" dataKey="mid" domain={[0, 1]} ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]} />
        <YAxis width={36} domain={[0, 100]} ticks={[0, 25, 50, 75, 100]} />
        <Tooltip
          labelFormatter={(m) => `confidence ${data.find((d) => d.mid === m)?.bin ?? ''}`}
          formatter={(v, name, item) => {
            const p = (item as { payload?: (typeof data)[number] }).payload;
            const count = name === 'θ(α)' ? p?.weightCount : name === 'ensemble' ? p?.outputCount : null;
            return typeof v === 'number'
              ? `${v.toFixed(1)}%${count !== null && count !== undefined ? ` (${count} images)` : ''}`
              : String(v);
          }}
        />
        <Bar dataKey="weight" name="θ(α)" fill={COLORS.wiseft} isAnimationActive={false} barSize={9}>
          <LabelList dataKey="weightCount" position="top" fontSize={8} fill="#475569" formatter={(c: unknown) => (c ? String(c) : '')} />
        </Bar>
        <Bar dataKey="output" name="ensemble" fill={COLORS.ensemble} isAnimationActive={false} barSize={9} />
        <Line dataKey="diagonal" name="perfect calibration" stroke="#0f172a" strokeDasharray="3 3" dot={false} isAnimationActive={false} />
        <Legend wrapperStyle={{ fontSize: '0.75rem' }} />
      </ComposedChart>
    </ResponsiveContainer>
  );
}

function ReliabilityBins({ view }: { view: ReliabilityView }) {
  return (
    <details>
      <summary>The bins as a table</summary>
      <table className="reliability-table" data-testid="reliability-table">
        <thead>
          <tr>
            <th>confidence</th>
            <th className="num">θ(α) images</th>
            <th className="num">accuracy</th>
            <th className="num">ensemble images</th>
            <th className="num">accuracy</th>
          </tr>
        </thead>
        <tbody>
          {view.rows.map((r) => (
            <tr key={r.bin}>
              <td>{r.bin}</td>
              <td className="num">{r.weightCount}</td>
              <td className="num">{r.weightAccuracy === null ? '—' : `${(100 * r.weightAccuracy).toFixed(1)}%`}</td>
              <td className="num">{r.outputCount}</td>
              <td className="num">{r.outputAccuracy === null ? '—' : `${(100 * r.outputAccuracy).toFixed(1)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function Body({ pair, report }: { pair: PairSummary; report: CalibrationReport }) {
  const extrapolate = useStore((s) => s.extrapolate);
  const setId = useStore((s) => s.calibrationSet);
  const { rows, images } = useMemo(() => calibrationRows(pair, report), [pair, report]);
  const view = reliabilityView(pair, report, setId);
  const range = images
    ? images.min === images.max
      ? images.min.toLocaleString('en')
      : `${images.min.toLocaleString('en')}–${images.max.toLocaleString('en')}`
    : null;
  return (
    <>
      <div className="calibration-charts">
        <AlongAlpha rows={rows} metric="ece" extrapolate={extrapolate} alpha={report.alpha} />
        <AlongAlpha rows={rows} metric="nll" extrapolate={extrapolate} alpha={report.alpha} />
      </div>
      <p className="small muted" data-testid="calibration-note">
        {range
          ? `Each point is over n = ${range} images per set (the images evaluated at its α so far); the mean of shifts averages the ${pair.sets.filter((s) => s.role === 'shift').length} shift sets' numbers.`
          : 'No α evaluated yet.'}{' '}
        The ensemble needs both endpoints on every image first.
      </p>
      <NowTable pair={pair} report={report} />
      {view && <Reliability pair={pair} view={view} alpha={report.alpha} />}
    </>
  );
}

function TemperatureNote({ report }: { report: CalibrationReport }) {
  if (!report.temperature) return null;
  if (!report.referenceSet) return <p className="small">These eval sets have no reference set to fit a temperature on.</p>;
  const w = temperatureText(report, 'weight');
  const o = temperatureText(report, 'output');
  return (
    <p className="small" data-testid="temperature-note">
      Fitted on the reference set (one T per α, minimising its NLL), then applied to every set: θ(α) {w ?? 'not yet (α not evaluated)'};
      ensemble {o ?? 'not yet (the endpoints first)'}. Dividing the logits by T keeps every prediction, so accuracy does not change.
    </p>
  );
}

export function CalibrationPanel() {
  const pair = useStore((s) => s.pair);
  const open = useStore((s) => s.calibrationOpen);
  const temperatureOn = useStore((s) => s.temperatureOn);
  const report = useStore((s) => s.calibration);
  const { setCalibrationOpen, setTemperature } = useActions();
  if (!pair) return null;
  return (
    <section className="calibration-panel" aria-label="Calibration and loss" data-testid="calibration-panel">
      <h2>Calibration and loss along α</h2>
      <label className="toggle">
        <input type="checkbox" checked={open} onChange={(e) => setCalibrationOpen(e.currentTarget.checked)} data-testid="calibration-on" />{' '}
        Expected calibration error and negative log-likelihood per set vs α, weight space against the output-space ensemble
      </label>
      {open && (
        <>
          <label className="toggle">
            <input
              type="checkbox"
              checked={temperatureOn}
              onChange={(e) => setTemperature(e.currentTarget.checked)}
              data-testid="temperature-on"
            />{' '}
            Temperature scaling, fitted on the reference set
          </label>
          {report && <TemperatureNote report={report} />}
          {report ? <Body pair={pair} report={report} /> : <p className="muted">Computing…</p>}
        </>
      )}
    </section>
  );
}
