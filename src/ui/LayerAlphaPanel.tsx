// Per-layer α: one slider per layer group, the presets, the LiNeS ramp's two parameters, the
// current setting's accuracies, and the sensitivity strip. Thin: the numbers come from
// state/layerAlpha.ts, every change is an action (state/controllers/layers.ts).
import { useMemo } from 'react';
import { useStore } from '../state/store';
import { useActions } from './actions';
import { LAYER_PRESETS, currentSettingKey, settingEstimates, sensitivityRows, stripScale, type LayerPreset } from '../state/layerAlpha';
import { signedPoints, type Delta } from '../state/table';
import type { Estimate } from '../state/frontier';
import type { PairSummary } from '../worker/protocol';

const PRESET_NAMES: Record<LayerPreset, string> = {
  uniform: 'Uniform',
  lines: 'LiNeS ramp',
  'lines-reverse': 'Reverse ramp',
  'head-only': 'Head only',
  'backbone-only': 'Backbone only',
};

/** The strip's default size: the first chunk of every set, seconds on a laptop. */
export const STRIP_IMAGES = 100;

function pct(e: Estimate | null): string {
  return e ? `${(100 * e.value).toFixed(1)}% ±${(50 * (e.high - e.low)).toFixed(1)} (n = ${e.n.toLocaleString('en')})` : '…';
}

function GroupSliders({ pair, alphas, extrapolate }: { pair: PairSummary; alphas: number[]; extrapolate: boolean }) {
  const { setLayerAlpha } = useActions();
  return (
    <ol className="layer-sliders" data-testid="layer-sliders">
      {pair.layers.map((g, i) => (
        <li key={g.id}>
          <label htmlFor={`layer-${i}`} title={`${g.tensors} blended tensors`}>
            {g.id}
          </label>
          <input
            id={`layer-${i}`}
            type="range"
            min={extrapolate ? -0.5 : 0}
            max={extrapolate ? 1.5 : 1}
            step={0.01}
            value={alphas[i] ?? 0}
            aria-label={`α of layer group ${g.id}`}
            onChange={(e) => setLayerAlpha(i, Number(e.currentTarget.value))}
          />
          <output data-testid={`layer-alpha-${i}`}>{(alphas[i] ?? 0).toFixed(2)}</output>
        </li>
      ))}
    </ol>
  );
}

function LinesSliders() {
  const { setLines } = useActions();
  const lines = useStore((s) => s.lines);
  return (
    <div className="lines-params">
      <label>
        first group α <output>{lines.base.toFixed(2)}</output>
        <input
          type="range"
          min={-0.5}
          max={1.5}
          step={0.05}
          value={lines.base}
          onChange={(e) => setLines({ base: Number(e.currentTarget.value) })}
          data-testid="lines-base"
        />
      </label>
      <label>
        rise to the last group <output>{`${lines.slope >= 0 ? '+' : ''}${lines.slope.toFixed(2)}`}</output>
        <input
          type="range"
          min={-1}
          max={1}
          step={0.05}
          value={lines.slope}
          onChange={(e) => setLines({ slope: Number(e.currentTarget.value) })}
          data-testid="lines-slope"
        />
      </label>
    </div>
  );
}

function Presets({ active }: { active: LayerPreset | null }) {
  const { applyPreset } = useActions();
  return (
    <div className="layer-presets">
      {LAYER_PRESETS.map((p) => (
        <button key={p} type="button" aria-pressed={active === p} onClick={() => applyPreset(p)} data-testid={`preset-${p}`}>
          {PRESET_NAMES[p]}
        </button>
      ))}
      {(active === 'lines' || active === 'lines-reverse') && <LinesSliders />}
    </div>
  );
}

function CurrentSetting({ pair }: { pair: PairSummary }) {
  const key = useStore(currentSettingKey);
  const point = useStore((s) => (key ? s.layerPoints[key] : undefined));
  const e = settingEstimates(pair, point);
  return (
    <p className="layer-now" data-testid="layer-now">
      This setting: reference <strong>{pct(e.reference)}</strong>, mean of shifts <strong>{pct(e.shift)}</strong>, 95% intervals. Drawn on
      the chart as a star.
    </p>
  );
}

export function LayerAlphaPanel() {
  const pair = useStore((s) => s.pair);
  const alphas = useStore((s) => s.layerAlphas);
  const preset = useStore((s) => s.layerPreset);
  const extrapolate = useStore((s) => s.extrapolate);
  const { setLayersOn } = useActions();
  if (!pair || pair.layers.length === 0) return null;
  return (
    <section className="layer-panel" aria-label="Per-layer α" data-testid="layer-panel">
      <h2>Per-layer α</h2>
      <label className="toggle">
        <input type="checkbox" checked={alphas !== null} onChange={(e) => setLayersOn(e.currentTarget.checked)} data-testid="layers-on" />{' '}
        One α per layer group ({pair.layers.length} groups, from the graph's names and depth)
      </label>
      {alphas && (
        <>
          <Presets active={preset} />
          <GroupSliders pair={pair} alphas={alphas} extrapolate={extrapolate} />
          <CurrentSetting pair={pair} />
        </>
      )}
      <SensitivityStrip pair={pair} />
    </section>
  );
}

function DeltaBar({ d, scale, label }: { d: Delta | null; scale: number; label: string }) {
  if (!d) return <td className="num muted">…</td>;
  const x = (v: number) => 50 + (50 * v) / scale;
  const cls = !d.significant ? 'ns' : d.diff > 0 ? 'up' : 'down';
  return (
    <td
      className={`num strip-cell ${cls}`}
      title={`${label}: ${signedPoints(d.diff)} pp, paired 95% interval ${signedPoints(d.lo, true)} to ${signedPoints(d.hi, true)}`}
    >
      <svg viewBox="0 0 100 12" width="100" height="12" aria-hidden="true">
        <line x1={50} x2={50} y1={0} y2={12} className="zero" />
        <rect x={Math.min(x(0), x(d.diff))} y={3} width={Math.abs(x(d.diff) - x(0))} height={6} className="bar" />
        <line x1={x(d.lo)} x2={x(d.hi)} y1={6} y2={6} className="whisker" />
      </svg>
      <span>{signedPoints(d.diff)}</span>
    </td>
  );
}

function StripHead() {
  return (
    <thead>
      <tr>
        <th rowSpan={2}>group</th>
        <th colSpan={2}>(a) reset to zero-shot, vs fine-tuned</th>
        <th colSpan={2}>(b) only it fine-tuned, vs zero-shot</th>
      </tr>
      <tr>
        <th>Δ reference</th>
        <th>Δ shift</th>
        <th>Δ reference</th>
        <th>Δ shift</th>
      </tr>
    </thead>
  );
}

function StripTable({ pair }: { pair: PairSummary }) {
  const layerPoints = useStore((s) => s.layerPoints);
  const points = useStore((s) => s.points);
  const rows = useMemo(() => sensitivityRows(pair, layerPoints, points), [pair, layerPoints, points]);
  const scale = stripScale(rows);
  const n = Math.min(...rows.flatMap((r) => [r.reset.n, r.only.n]));
  return (
    <>
      <table className="strip" data-testid="strip">
        <StripHead />
        <tbody>
          {rows.map((r) => (
            <tr key={r.group} data-testid="strip-row">
              <th scope="row">{r.group}</th>
              <DeltaBar d={r.reset.reference} scale={scale} label={`${r.group} reset, reference`} />
              <DeltaBar d={r.reset.shift} scale={scale} label={`${r.group} reset, mean of shifts`} />
              <DeltaBar d={r.only.reference} scale={scale} label={`${r.group} only, reference`} />
              <DeltaBar d={r.only.shift} scale={scale} label={`${r.group} only, mean of shifts`} />
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted" data-testid="strip-note">
        n = {n > 0 ? n.toLocaleString('en') : '…'} images per set (of {Math.max(...pair.sets.map((s) => s.count)).toLocaleString('en')}),
        paired with the endpoints on the same images; bars are 95% intervals (±{(100 * scale).toFixed(1)} pp full width), coloured only when
        they exclude 0. Under (a), a positive Δ shift means fine-tuning that group cost robustness.
      </p>
    </>
  );
}

function SensitivityStrip({ pair }: { pair: PairSummary }) {
  const sensitivity = useStore((s) => s.sensitivity);
  const { showSensitivity } = useActions();
  const full = Math.max(...pair.sets.map((s) => s.count));
  return (
    <div className="sensitivity">
      <h3>Layer sensitivity</h3>
      {sensitivity === null ? (
        <button type="button" onClick={() => showSensitivity(STRIP_IMAGES)} data-testid="strip-run">
          Where does fine-tuning's robustness cost live? ({2 * pair.layers.length} settings, {STRIP_IMAGES} images per set)
        </button>
      ) : (
        <>
          <StripTable pair={pair} />
          {sensitivity < full && (
            <button type="button" onClick={() => showSensitivity(Math.min(full, sensitivity * 5))} data-testid="strip-refine">
              Refine on {Math.min(full, sensitivity * 5).toLocaleString('en')} images per set
            </button>
          )}
          <button type="button" onClick={() => showSensitivity(null)}>
            Hide
          </button>
        </>
      )}
    </div>
  );
}
